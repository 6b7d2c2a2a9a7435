"""The auditor's edits of the commentary, kept in the client folder between runs (commentary.yaml).

`auditlib finalise` writes every edit of the generated commentary by anchor, with the hash of
the generated text it was made against; the next run of that client puts the edits back into
the new draft (auditlib.review.prepare_draft). Where the generated text beneath an edit has
changed since (the figures moved), the edit is still put back, but flagged for review: never
silently dropped, never silently kept against new figures.

    # data/clients/<client>/commentary.yaml  (written by `auditlib finalise`; may be edited by hand)
    en:                                   # one section per report language
      edits:
        - anchor: dimension:financing      # the passage (see auditlib.review for the anchors)
          change: edited                   # edited | deleted | added (added: a new passage after the anchor's)
          generated: 5d41402a...           # SHA-256 of the generated text the edit was made against
          text: |                          # the auditor's Markdown (absent for deleted)
            ...
      accept: [ce2f2d3ef384]               # contradictions the auditor accepted deliberately (sentence keys)

The file is read through auditlib.yamlsafe and validated: a malformed one is refused with its
place, never half-applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from auditlib.errors import InputError, Problem, ProblemCode
from auditlib.files import atomic_write_text

FILE_NAME = "commentary.yaml"
CHANGES = ("edited", "deleted", "added")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[0-9a-f]{12}$")
_HEADER = ("# The auditor's edits of the generated commentary, by anchor, written by `auditlib finalise`.\n"
           "# A re-run puts them back into the draft; an edit whose generated text changed since is flagged.\n"
           "# change: edited | deleted | added; generated: SHA-256 of the generated text beneath the edit;\n"
           "# accept: contradictions accepted deliberately (the key `auditlib finalise` prints).\n")


class _Dumper(yaml.SafeDumper):
    """Multi-line text as a YAML block (|), so the file reads like the passages it holds."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s,
                                                             style="|" if "\n" in s else None))


class CommentaryError(InputError):
    kind = "commentary edits"


@dataclass(frozen=True)
class Edit:
    anchor: str
    change: str              # edited | deleted | added
    generated: str           # SHA-256 of the generated text beneath
    text: str = ""


@dataclass
class LanguageEdits:
    edits: list[Edit] = field(default_factory=list)
    accept: list[str] = field(default_factory=list)


def read(client_dir: str | Path) -> dict[str, LanguageEdits]:
    """The edits per language in the client folder's commentary.yaml ({} when there is none).

    Raises CommentaryError naming the file and place of every problem.
    """
    from auditlib import yamlsafe

    path = Path(client_dir) / FILE_NAME
    if not path.is_file():
        return {}
    name = str(path)
    try:
        data = yamlsafe.load_path(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommentaryError([Problem(name, "", f"cannot be read: {exc}", code=ProblemCode.FILE_UNREADABLE)]) from None
    except yaml.YAMLError as exc:
        raise CommentaryError([Problem(name, "", f"is not valid YAML: {' '.join(str(exc).split())[:200]}",
                                       code=ProblemCode.PARSE_ERROR)]) from None
    if data is None:
        return {}
    problems: list[Problem] = []
    out: dict[str, LanguageEdits] = {}
    if not isinstance(data, dict):
        raise CommentaryError([Problem(name, "top level", "must be a mapping of languages", expected="en: / nl:",
                                       code=ProblemCode.STRUCTURE)])
    from auditlib.present import LANGUAGES

    for lang, section in data.items():
        if lang not in LANGUAGES:
            problems.append(Problem(name, str(lang), "unknown language", expected=", ".join(LANGUAGES),
                                    code=ProblemCode.UNKNOWN_KEY))
            continue
        if section is None:
            continue
        if not isinstance(section, dict) or set(section) - {"edits", "accept"}:
            problems.append(Problem(name, lang, "must be a mapping with 'edits' and 'accept'",
                                    value=sorted(section) if isinstance(section, dict) else type(section).__name__,
                                    code=ProblemCode.STRUCTURE))
            continue
        found = LanguageEdits()
        for k, item in enumerate(section.get("edits") or []):
            place = f"{lang}.edits[{k + 1}]"
            if not isinstance(item, dict):
                problems.append(Problem(name, place, "must be a mapping", code=ProblemCode.STRUCTURE))
                continue
            unknown = set(item) - {"anchor", "change", "generated", "text"}
            if unknown:
                problems.append(Problem(name, place, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}",
                                        expected="anchor, change, generated, text", code=ProblemCode.UNKNOWN_KEY))
            anchor, change = item.get("anchor"), item.get("change", "edited")
            generated, text = item.get("generated"), item.get("text")
            if not isinstance(anchor, str) or not re.fullmatch(r"[a-z_]+(:[A-Za-z0-9_.-]+)*", anchor):
                problems.append(Problem(name, place + ".anchor", "is not an anchor", value=anchor,
                                        expected="e.g. overall, dimension:financing", code=ProblemCode.WRONG_TYPE))
            if change not in CHANGES:
                problems.append(Problem(name, place + ".change", "unknown change", value=change,
                                        expected=" | ".join(CHANGES), code=ProblemCode.UNKNOWN_VALUE))
            if not isinstance(generated, str) or not _HEX64.fullmatch(generated):
                problems.append(Problem(name, place + ".generated", "is not a SHA-256 (64 hex digits)",
                                        value=generated, code=ProblemCode.WRONG_TYPE))
            if change in ("edited", "added") and (not isinstance(text, str) or not text.strip()):
                problems.append(Problem(name, place + ".text", "an edited or added passage needs its text",
                                        code=ProblemCode.MISSING_VALUE))
            elif text is not None and not isinstance(text, str):
                problems.append(Problem(name, place + ".text", "must be text", value=type(text).__name__,
                                        code=ProblemCode.WRONG_TYPE))
            if isinstance(text, str) and re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", text):
                problems.append(Problem(name, place + ".text", "holds control characters",
                                        code=ProblemCode.INVALID_TEXT))
            found.edits.append(Edit(str(anchor), str(change), str(generated), text if isinstance(text, str) else ""))
        for k, key in enumerate(section.get("accept") or []):
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                problems.append(Problem(name, f"{lang}.accept[{k + 1}]", "is not an acceptance key", value=key,
                                        expected="12 hex digits, as `auditlib finalise` prints them",
                                        code=ProblemCode.WRONG_TYPE))
            else:
                found.accept.append(key)
        out[lang] = found
    if problems:
        raise CommentaryError(problems)
    return out


def write(client_dir: str | Path, lang: str, edits: LanguageEdits) -> Path:
    """Replace one language's section of commentary.yaml atomically (the others are kept)."""
    path = Path(client_dir) / FILE_NAME
    data = read(client_dir)
    data[lang] = edits
    out: dict = {}
    for key in sorted(data):
        section = data[key]
        items = []
        for e in section.edits:
            item = {"anchor": e.anchor, "change": e.change, "generated": e.generated}
            if e.change != "deleted":
                item["text"] = e.text.rstrip("\n") + "\n"
            items.append(item)
        out[key] = {"edits": items, "accept": sorted(set(section.accept))}
    text = _HEADER + yaml.dump(out, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return atomic_write_text(path, text)

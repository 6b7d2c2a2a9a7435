"""The auditor's own notes from the interpretation meeting.

Stored in the client folder as `notes.yaml` (or `notes.md`); the meeting notebook writes the
same file. Each note is anchored to the overall picture, a dimension or an indicator:

    improvement_areas: [service_usage, private_funding_share, active_member_share]
    notes:
      - {anchor: overall, text: "..."}
      - {anchor: "dimension:services", text: "..."}
      - {anchor: "indicator:sme_share", text: "..."}

`notes.md` carries the same as Markdown: a heading per anchor (`## overall`,
`## dimension: services`, `## indicator: sme_share`, `## improvement areas` with a bullet list
of indicator ids) and the text below it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from auditlib import yamlsafe
from auditlib.catalogue import Catalogue
from auditlib.errors import NotesError, Problem, ProblemCode, code_for_exception
from auditlib.files import atomic_write_text

ANCHOR = re.compile(r"^(overall|dimension:\s*([a-z0-9_]+)|indicator:\s*([a-z0-9_]+))$")


@dataclass(frozen=True)
class Note:
    anchor: str      # "overall", "dimension:<id>" or "indicator:<id>"
    text: str

    @property
    def kind(self) -> str:
        return self.anchor.split(":", 1)[0]

    @property
    def target(self) -> str | None:
        return self.anchor.split(":", 1)[1] if ":" in self.anchor else None


@dataclass(frozen=True)
class AuditorNotes:
    notes: tuple[Note, ...] = ()
    improvement_areas: tuple[str, ...] = ()
    path: Path | None = None
    warnings: tuple[Problem, ...] = ()      # former indicator ids read as the new ones (catalogue old_ids)

    def for_anchor(self, anchor: str) -> list[Note]:
        return [n for n in self.notes if n.anchor == anchor]


def _normalise(anchor: str) -> str:
    return re.sub(r":\s*", ":", str(anchor).strip().lower())


def _check_anchor(anchor: str, catalogue: Catalogue, path: Path, place: str, problems: list[Problem]) -> None:
    m = ANCHOR.match(anchor)
    dims = [d.id for d in catalogue.dimensions]
    if not m:
        problems.append(Problem(str(path), place, "unknown anchor", value=anchor,
                                expected="'overall', 'dimension:<id>' or 'indicator:<id>'",
                                code=ProblemCode.UNKNOWN_ID))
    elif m.group(2) and m.group(2) not in dims:
        problems.append(Problem(str(path), place, "unknown dimension in anchor", value=anchor,
                                expected=f"one of {', '.join(dims)}", code=ProblemCode.UNKNOWN_ID))
    elif m.group(3) and m.group(3) not in catalogue.by_id:
        problems.append(Problem(str(path), place, "unknown indicator in anchor", value=anchor,
                                expected="an indicator id of the catalogue", indicator=m.group(3),
                                code=ProblemCode.UNKNOWN_ID))


def _map_id(indicator: str, catalogue: Catalogue, path: Path, place: str, warnings: list[Problem]) -> str:
    """A former indicator id (catalogue old_ids) read as the current one, with a warning saying so."""
    new = catalogue.current_id(indicator)
    if new is None or new == indicator:
        return indicator
    warnings.append(Problem(str(path), place, f"former indicator id, read as '{new}'", value=indicator,
                            indicator=new, expected=f"the current id '{new}' (catalogue old_ids)",
                            code=ProblemCode.RENAMED_ID))
    return new


def _map_anchor(anchor: str, catalogue: Catalogue, path: Path, place: str, warnings: list[Problem]) -> str:
    if anchor.startswith("indicator:"):
        return "indicator:" + _map_id(anchor.split(":", 1)[1], catalogue, path, place, warnings)
    return anchor


def _parse_markdown(text: str) -> dict:
    data: dict = {"notes": [], "improvement_areas": []}
    anchor: str | None = None
    lines: list[str] = []

    def flush():
        if anchor is None:
            return
        body = "\n".join(lines).strip()
        if anchor.replace(" ", "_") in ("improvement_areas",):
            data["improvement_areas"] = [line.lstrip("-* ").strip() for line in body.splitlines() if line.strip()]
        elif body:
            data["notes"].append({"anchor": anchor, "text": body})

    for line in text.splitlines():
        heading = re.match(r"^#{1,3}\s+(.*)$", line)
        if heading:
            flush()
            anchor, lines = heading.group(1).strip().lower(), []
        else:
            lines.append(line)
    flush()
    return data


def load_notes(path: str | Path | None, catalogue: Catalogue) -> AuditorNotes:
    """Read and check the notes file; unknown anchors and indicators are reported together.

    Parameters
    ----------
    path
        notes.yaml or notes.md in the client folder (None: no notes).
    catalogue
        The catalogue the anchors and improvement areas must name.

    Returns
    -------
    AuditorNotes
        The notes by anchor and the agreed improvement areas.

    Raises
    ------
    NotesError
        Every problem at once (unknown anchor, dimension, indicator or key; unreadable file), coded.
    """
    if path is None:
        return AuditorNotes()
    path = Path(path)
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
        data = _parse_markdown(text) if path.suffix.lower() == ".md" else (yamlsafe.load(text, str(path)) or {})
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise NotesError([Problem(str(path), "file", f"cannot be read: {exc}",
                                  expected="a UTF-8 YAML or Markdown file",
                                  code=code_for_exception(exc))]) from None
    if not isinstance(data, dict):
        raise NotesError([Problem(str(path), "file", "the notes are not a mapping",
                                  expected="keys 'notes' and 'improvement_areas'",
                                  code=ProblemCode.STRUCTURE)])
    unknown_keys = set(data) - {"notes", "improvement_areas", "language"}
    for key in sorted(unknown_keys):
        problems.append(Problem(str(path), f"key {key}", "unknown key",
                                expected="'notes', 'improvement_areas' or 'language'",
                                code=ProblemCode.UNKNOWN_KEY))
    notes = []
    warnings: list[Problem] = []
    for n, item in enumerate(data.get("notes") or []):
        place = f"key notes.{n}"
        if not isinstance(item, dict) or "anchor" not in item or "text" not in item:
            problems.append(Problem(str(path), place, "a note needs an anchor and a text", value=item,
                                    expected="{anchor: ..., text: ...}", code=ProblemCode.STRUCTURE))
            continue
        anchor = _map_anchor(_normalise(item["anchor"]), catalogue, path, place, warnings)
        _check_anchor(anchor, catalogue, path, place, problems)
        notes.append(Note(anchor, str(item["text"]).strip()))
    areas = [str(a).strip() for a in (data.get("improvement_areas") or [])]
    areas = [_map_id(a, catalogue, path, f"key improvement_areas.{n}", warnings) for n, a in enumerate(areas)]
    for n, area in enumerate(areas):
        if area not in catalogue.by_id:
            problems.append(Problem(str(path), f"key improvement_areas.{n}", "unknown indicator", value=area,
                                    expected="an indicator id of the catalogue", indicator=area,
                                    code=ProblemCode.UNKNOWN_ID))
    if problems:
        raise NotesError(problems)
    return AuditorNotes(tuple(notes), tuple(areas), path, tuple(warnings))


def save_notes(notes: AuditorNotes, path: str | Path) -> Path:
    """Write the notes as YAML atomically: a failure never leaves a half-written file."""
    path = Path(path)
    data = {"improvement_areas": list(notes.improvement_areas),
            "notes": [{"anchor": n.anchor, "text": n.text} for n in notes.notes]}
    text = "# The auditor's notes (written by the workbench; safe to edit by hand).\n"
    text += yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    atomic_write_text(path, text)
    return path

"""The auditor's review: commentary as Markdown cells, then `auditlib finalise`.

How it fits together:

1. In the kernel, `commentary_info(view)` turns the interpretation into passages (one Markdown
   text per passage) and the auditor's notes into passages of their own, and snapshots the
   shown figures the text check needs (`auditlib.textcheck.figures`).
2. After the notebook ran, `prepare_draft` puts the passages into report.ipynb as real
   Markdown cells, right after the interpretation's and the notes' code cells, each with
   `metadata.auditlib = {"anchor", "origin", "hash"}` (origin "generated" or "auditor", hash:
   SHA-256 of the generated text). It puts the client's carried-over edits back
   (`auditlib.carryover`), flags those whose generated text changed, writes review-facts.json
   and returns the manifest's "review" record: the generated passages, the hash of every code
   cell with its outputs, the flags.
3. The auditor edits, deletes or adds Markdown cells in JupyterLab and saves.
4. `finalise(folder)` refuses a notebook whose code cells or outputs changed, or that still
   holds a review flag; checks every edited or added cell's text against the figures
   (`auditlib.textcheck`), contradictions refused unless accepted by key; re-renders the HTML
   and PDF from the notebook without executing it; records the changes (anchor, before/after
   hashes) and the acceptances in the manifest; writes the edits to the client's
   commentary.yaml. Nothing is written when it refuses.

Anchors: overall, labels, silver_areas, context (the overall picture's contextual remarks),
dimension:<id> (a dimension's position), indicators:<id> (its notable indicators), evolution,
and notes:<anchor> for the auditor's notes (notes:overall, notes:dimension:<id>, ...).
An added cell is anchored after the passage above it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditlib import carryover
from auditlib.errors import AuditError, Problem, ProblemCode

FACTS_FILE = "review-facts.json"
INTERPRETATION_CELL = "# interpretation"        # the code cells' first lines (notebooks/audit_report.ipynb)
NOTES_CELL = "# auditor's notes"
GENERATED, AUDITOR, FLAG = "generated", "auditor", "review"
_REMOVE = {"remove_cell", "remove-cell"}


class ReviewRefused(AuditError):
    """The finalise was refused, nothing was written; `lines` says why, one line each."""

    def __init__(self, summary: str, lines: Sequence[str] = (), code: ProblemCode = ProblemCode.REFUSED):
        self.summary, self.lines = summary, list(lines)
        self.problems = [Problem("", "", line, code=code) for line in self.lines or [summary]]
        super().__init__(summary + "".join(f"\n  {line}" for line in self.lines))


def text_hash(text: str) -> str:
    """SHA-256 of a passage's text, line ends and trailing spaces normalised (as JupyterLab saves)."""
    norm = "\n".join(line.rstrip() for line in str(text).replace("\r\n", "\n").strip().split("\n"))
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


# --- passages (in the kernel) ----------------------------------------------------------------------

@dataclass
class Passage:
    anchor: str
    origin: str
    markdown: str

    @property
    def hash(self) -> str:
        return text_hash(self.markdown)


def _bullets(statements) -> str:
    return "".join(f"- {st.text}\n" for st in statements)


def interpretation_passages(interpretation) -> list[Passage]:
    """The interpretation's generated statements as passages, in the order the report shows them."""
    out: list[Passage] = []
    for section in interpretation.sections:
        generated = [st for st in section.statements if st.source == GENERATED]
        if not generated:
            continue
        head = f"### {section.title}\n\n"
        if section.anchor == "overall":
            parts: dict[str, list] = {"overall": [], "labels": [], "silver_areas": [], "context": []}
            seen_labels = False
            for st in generated:
                if st.kind == "label":
                    parts["labels"].append(st)
                    seen_labels = True
                elif st.kind == "silver_areas":
                    parts["silver_areas"].append(st)
                    seen_labels = True
                else:
                    parts["context" if seen_labels else "overall"].append(st)
            first = True
            for anchor, sts in parts.items():
                if sts:
                    out.append(Passage(anchor, GENERATED, (head if first else "") + _bullets(sts)))
                    first = False
        elif section.anchor.startswith("dimension:"):
            dim = section.anchor.split(":", 1)[1]
            own = [st for st in generated if st.kind == "dimension"]
            rest = [st for st in generated if st.kind != "dimension"]
            out.append(Passage(section.anchor, GENERATED, head + _bullets(own)))
            if rest:
                out.append(Passage(f"indicators:{dim}", GENERATED, _bullets(rest)))
        else:
            out.append(Passage(section.anchor, GENERATED, head + _bullets(generated)))
    return out


def note_passages(view) -> list[Passage]:
    """The auditor's notes, one passage per anchor, as the notes section shows them."""
    from auditlib.interpret import esc

    out = []
    for anchor, title, paragraphs in view.note_groups():
        quotes = ["\n>\n".join(f"> {esc(p)}" for p in note) for note in paragraphs]
        out.append(Passage(f"notes:{anchor}", AUDITOR, f"### {esc(title)}\n\n" + "\n\n".join(quotes) + "\n"))
    return out


def commentary_info(view) -> dict:
    """What prepare_draft needs from the kernel: passages, the notes heading, the figures."""
    from auditlib.report.fragments import _fragments
    from auditlib.textcheck import figures

    passages = interpretation_passages(view.interpretation) if view.interpretation is not None else []
    notes = note_passages(view)
    return {"passages": [p.__dict__ for p in passages], "notes": [p.__dict__ for p in notes],
            "notes_heading": _fragments().heading(view.w["notes"], "notes", 2, "section"),
            "figures": figures(view.result, view.lang).to_json()}


# --- the notebook's protected part -----------------------------------------------------------------

def _joined(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    if isinstance(value, dict):
        return {k: _joined(v) for k, v in sorted(value.items())}
    return value


def _tags(cell) -> list[str]:
    return sorted(cell.get("metadata", {}).get("tags", []) or [])


def code_hash(cell) -> str:
    """SHA-256 over a code cell's source, tags and outputs (not its run counters or timings)."""
    outputs = []
    for o in cell.get("outputs", []):
        o = dict(o)
        o.pop("execution_count", None)
        outputs.append(_joined(o))
    body = {"source": _joined(cell.get("source", "")), "tags": _tags(cell), "outputs": outputs}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _cell_name(cell) -> str:
    for line in _joined(cell.get("source", "")).splitlines():
        if line.strip().startswith("#"):
            return line.strip().lstrip("# ")[:60]
    return "(no name)"


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("auditlib")
    return dict(meta) if isinstance(meta, dict) else {}


def _markdown_cell(passage: Passage, **extra: Any):
    import nbformat

    cell = nbformat.v4.new_markdown_cell(passage.markdown.rstrip("\n"))
    cell.metadata["auditlib"] = {"anchor": passage.anchor, "origin": passage.origin, "hash": passage.hash, **extra}
    return cell


def _flag_cell(anchor: str, text: str):
    import nbformat

    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = ["remove_cell"]
    cell.metadata["auditlib"] = {"anchor": anchor, "origin": FLAG}
    return cell


def _find(nb, first_line: str) -> int | None:
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and _joined(cell.source).lstrip().lower().startswith(first_line):
            return k
    return None


# --- the draft (after the run) ---------------------------------------------------------------------

def prepare_draft(nb, info: dict | None, *, client_dir: str | Path, lang: str, out_dir: str | Path,
                  title: str) -> dict:
    """Put the commentary cells and the carried-over edits into `nb` (in place); the review record.

    Parameters
    ----------
    nb : the executed report notebook (nbformat NotebookNode)
    info : commentary_info() as the kernel wrote it into run-info.json (None: an old notebook)
    client_dir : the client's folder (its commentary.yaml is read)
    lang, title : the report's language and page title
    out_dir : the build folder; review-facts.json is written there

    Returns
    -------
    dict: the manifest's "review" record.

    Raises
    ------
    carryover.CommentaryError: a malformed commentary.yaml (the run fails with its place).
    """
    import nbformat

    if not info:
        return {}
    passages = [Passage(**p) for p in info.get("passages", [])]
    notes = [Passage(**p) for p in info.get("notes", [])]
    at = _find(nb, INTERPRETATION_CELL)
    if at is not None and passages:
        cell = nb.cells[at]
        cell.outputs = [o for o in cell.get("outputs", []) if "text/markdown" not in o.get("data", {})]
        for k, p in enumerate(passages):
            nb.cells.insert(at + 1 + k, _markdown_cell(p))
    at = _find(nb, NOTES_CELL)
    if at is not None and notes:
        cell = nb.cells[at]
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": info["notes_heading"],
                                                                     "text/plain": "auditor's notes"})]
        for k, p in enumerate(notes):
            nb.cells.insert(at + 1 + k, _markdown_cell(p))
    edits = carryover.read(client_dir).get(lang, carryover.LanguageEdits())
    carried = _apply_edits(nb, edits, {p.anchor: p for p in passages + notes}, lang)
    Path(out_dir, FACTS_FILE).write_text(json.dumps(info.get("figures", {}), ensure_ascii=False, sort_keys=True),
                                         encoding="utf-8")
    code = [code_hash(c) for c in nb.cells if c.cell_type == "code"]
    flagged = [c["anchor"] for c in carried if c["flagged"]]
    return {"status": "needs_review" if flagged else "draft", "title": title, "lang": lang,
            "generated": [{"anchor": p.anchor, "origin": p.origin, "hash": p.hash} for p in passages + notes],
            "code_cells": code, "carried": carried, "flagged": flagged, "facts": FACTS_FILE,
            "accept": list(edits.accept), "finalised": []}


def _flag_text(lang: str, what: str, generated: Passage | None) -> str:
    head = {"en": "**Review needed (auditlib, not shown in the report):** ",
            "nl": "**Nakijken (auditlib, niet zichtbaar in het rapport):** "}.get(lang, "**Review needed:** ")
    tail = {"en": " Check it against the new figures, then delete this note. `auditlib finalise` refuses the report "
                  "while this note is here.",
            "nl": " Controleer het aan de nieuwe cijfers en verwijder daarna deze notitie. `auditlib finalise` weigert "
                  "het rapport zolang deze notitie er staat."}.get(lang, "")
    text = head + what + tail
    if generated is not None:
        label = {"en": "The newly generated text:", "nl": "De nieuw gegenereerde tekst:"}.get(lang, "New text:")
        quoted = ("> " + line if line else ">" for line in generated.markdown.strip().split("\n"))
        text += f"\n\n{label}\n\n" + "\n".join(quoted)
    return text


def _apply_edits(nb, edits: carryover.LanguageEdits, generated: dict[str, Passage], lang: str) -> list[dict]:
    """Carry the client's edits into the draft by anchor; flag those whose generated text changed."""
    record = []
    words = {"en": {"edited": "This passage holds your earlier edit, made when the generated text was different "
                              "(the figures or the inputs changed since).",
                    "added": "The passage below is one you added earlier, after a generated passage that has "
                             "changed since.",
                    "deleted": "You deleted this passage earlier; its generated text has changed since, so the "
                               "deletion may no longer fit.",
                    "gone": "This passage holds your earlier edit of a passage that is no longer generated."},
             "nl": {"edited": "Deze passage bevat uw eerdere bewerking, gemaakt toen de gegenereerde tekst anders "
                              "was (de cijfers of de invoer zijn sindsdien veranderd).",
                    "added": "De passage hieronder voegde u eerder toe, na een gegenereerde passage die sindsdien "
                             "is veranderd.",
                    "deleted": "U verwijderde deze passage eerder; de gegenereerde tekst is sindsdien veranderd, "
                               "dus de verwijdering past misschien niet meer.",
                    "gone": "Deze passage bevat uw eerdere bewerking van een passage die niet meer wordt "
                            "gegenereerd."}}.get(lang)
    words = words or {}

    def index(anchor: str) -> int | None:
        for k, c in enumerate(nb.cells):
            m = _meta(c)
            if m.get("anchor") == anchor and m.get("origin") in (GENERATED, AUDITOR):
                return k
        return None

    last_added: dict[str, int] = {}
    for e in edits.edits:
        gen = generated.get(e.anchor)
        same = gen is not None and gen.hash == e.generated
        k = index(e.anchor)
        flagged = not same
        if e.change == "edited":
            if k is None:       # the passage is gone: keep the edit at the end of the interpretation
                k = max((i for i, c in enumerate(nb.cells) if _meta(c).get("origin") == GENERATED), default=None)
                if k is None:
                    k = len(nb.cells) - 1
                cell = _markdown_cell(Passage(e.anchor, GENERATED, e.text), carried=True)
                cell.metadata["auditlib"]["hash"] = e.generated
                nb.cells.insert(k + 1, cell)
                nb.cells.insert(k + 1, _flag_cell(e.anchor, _flag_text(lang, words.get("gone", ""), None)))
            else:
                nb.cells[k].source = e.text.rstrip("\n")
                nb.cells[k].metadata["auditlib"]["carried"] = True
                if flagged:
                    nb.cells.insert(k, _flag_cell(e.anchor, _flag_text(lang, words.get("edited", ""), gen)))
        elif e.change == "deleted":
            if k is not None:
                del nb.cells[k]
                if flagged:
                    nb.cells.insert(k, _flag_cell(e.anchor, _flag_text(lang, words.get("deleted", ""), gen)))
        elif e.change == "added":
            base = last_added.get(e.anchor, k if k is not None else len(nb.cells) - 1)
            cell = _markdown_cell(Passage(e.anchor, "added", e.text), carried=True)
            cell.metadata["auditlib"]["hash"] = e.generated
            if flagged:
                nb.cells.insert(base + 1, _flag_cell(e.anchor, _flag_text(lang, words.get("added", ""), gen)))
                base += 1
            nb.cells.insert(base + 1, cell)
            last_added[e.anchor] = base + 1
        record.append({"anchor": e.anchor, "change": e.change, "flagged": flagged,
                       "before": e.generated, "now": gen.hash if gen is not None else None})
    return record


# --- reading the reviewed notebook --------------------------------------------------------------------

@dataclass
class Change:
    anchor: str
    change: str                  # edited | added | deleted
    before: str                  # SHA-256 of the generated text (for added: the passage above)
    after: str | None            # SHA-256 of the auditor's text (None when deleted)
    cell: int | None = None      # 1-based cell number in the notebook
    text: str = ""


@dataclass
class Reading:
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_review(nb, record: dict) -> Reading:
    """Compare the saved notebook with what was generated: changes, and what makes it unfit."""
    out = Reading()
    code = [(k, c) for k, c in enumerate(nb.cells, start=1) if c.cell_type == "code"]
    expected = record.get("code_cells", [])
    if len(code) != len(expected):
        out.problems.append(f"the notebook has {len(code)} code cells, the generated report had {len(expected)}: "
                            "only Markdown cells are the auditor's to add or delete")
    for (k, cell), h in zip(code, expected):
        if code_hash(cell) != h:
            out.problems.append(f"cell {k} ({_cell_name(cell)}): its code or its output was changed; only Markdown "
                                "cells are the auditor's to edit (run the report again to change figures)")
    generated = {g["anchor"]: g for g in record.get("generated", [])}
    seen: set[str] = set()
    previous = "overall"
    for k, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "raw":
            out.problems.append(f"cell {k}: a raw cell; write commentary in Markdown cells")
            continue
        if cell.cell_type != "markdown":
            continue
        meta = _meta(cell)
        if meta.get("origin") == FLAG:
            out.problems.append(f"cell {k} ({meta.get('anchor')}): a review note is still there; check the passage "
                                "against the new figures and delete the note")
            continue
        if set(_tags(cell)) & _REMOVE and not meta:
            continue                      # the template's own hidden notes
        if cell.get("attachments"):
            out.problems.append(f"cell {k}: has attachments (pasted images); the report takes text only")
        text = _joined(cell.source)
        anchor = str(meta.get("anchor") or "")
        if anchor in generated and anchor not in seen and meta.get("origin") in (GENERATED, AUDITOR):
            seen.add(anchor)
            previous = anchor
            before = generated[anchor]["hash"]
            if text_hash(text) != before:
                out.changes.append(Change(anchor, "edited", before, text_hash(text), k, text))
        elif text.strip():
            base = anchor if meta.get("origin") == "added" and anchor else previous
            before = generated.get(base, {}).get("hash", meta.get("hash") or "0" * 64)
            out.changes.append(Change(base, "added", before, text_hash(text), k, text))
    for anchor, g in generated.items():
        if anchor not in seen:
            out.changes.append(Change(anchor, "deleted", g["hash"], None))
    return out


def _cell_html_problems(change: Change) -> list[str]:
    from nbconvert.filters import markdown2html

    from auditlib.report.finalise import check_html

    return [f"cell {change.cell} ({change.anchor}): {p}; the report may hold no script, link out or load "
            "anything" for p in check_html(markdown2html(change.text))]


# --- finalise -------------------------------------------------------------------------------------------

@dataclass
class FinaliseOutcome:
    folder: Path
    changes: list[Change]
    accepted: list[dict]
    files: list[str]
    commentary: Path | None


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReviewRefused(f"{path.parent} is not a report folder: it has no {path.name} ({what})") from None
    except (OSError, ValueError) as exc:
        raise ReviewRefused(f"{path} cannot be read ({what}): {exc}") from None


def _client_dir(manifest: dict) -> Path | None:
    params = manifest.get("parameters", {})
    root = params.get("clients_dir")
    cid = manifest.get("client_id")
    return Path(root) / cid if root and cid and (Path(root) / cid).is_dir() else None


def finalise(folder: str | Path, *, accept: Iterable[str] = (), formats: Sequence[str] | None = None,
             pdf_engine: str | None = "auto", chromium: str | Path | None = None) -> FinaliseOutcome:
    """Re-render a reviewed report from its edited notebook, after checking it (see the module docstring).

    Parameters
    ----------
    folder : outputs/<client>/<engagement>[.<lang>]/, a report made by `auditlib run` or the batch
    accept : keys of contradictions the auditor accepts deliberately (also read from commentary.yaml)
    formats : html and/or pdf to re-render (default: those the report has)
    pdf_engine, chromium : the PDF engine (auto | chromium | weasyprint, auditlib.report.pdf) and Chromium's path

    Returns
    -------
    FinaliseOutcome: the changes, the acceptances, the files rewritten.

    Raises
    ------
    ReviewRefused: the notebook's code or outputs changed, a review note is left, a cell is unsafe,
        or an edited sentence contradicts the figures. Nothing is written.
    """
    import nbformat

    from auditlib.report.finalise import export_html, export_pdf
    from auditlib.report.manifest import sha256_file
    from auditlib.textcheck import Figures, TextCheck

    folder = Path(folder)
    if not folder.is_dir():
        raise ReviewRefused(f"no report folder at {folder}")
    manifest = _read_json(folder / "manifest.json", "the manifest the run wrote")
    record = manifest.get("review")
    if not record:
        raise ReviewRefused(f"{folder} was made before reports could be reviewed; run the report again first")
    try:
        nb = nbformat.read(str(folder / "report.ipynb"), as_version=4)
    except FileNotFoundError:
        raise ReviewRefused(f"{folder} has no report.ipynb") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds for a broken file
        why = " ".join(str(exc).split())[:200]
        raise ReviewRefused(f"{folder / 'report.ipynb'} cannot be read as a notebook: {why}") from None
    reading = read_review(nb, record)
    if reading.problems:
        raise ReviewRefused(f"refused: {folder / 'report.ipynb'} is not fit to finalise (nothing was written)",
                            reading.problems)
    unsafe = [p for c in reading.changes if c.change != "deleted" for p in _cell_html_problems(c)]
    if unsafe:
        raise ReviewRefused("refused: an edited cell is not safe to send (nothing was written)", unsafe,
                            ProblemCode.INVALID_TEXT)
    lang = record.get("lang") or manifest.get("lang", "en")
    client_dir = _client_dir(manifest)
    stored = carryover.read(client_dir).get(lang, carryover.LanguageEdits()) if client_dir \
        else carryover.LanguageEdits()
    allowed = set(accept) | set(stored.accept) | set(record.get("accept", []))
    figs = Figures.from_json(_read_json(folder / record.get("facts", FACTS_FILE),
                                        "the figures the text is checked against"))
    check = TextCheck(figs)
    found = [c for ch in reading.changes if ch.change != "deleted"
             for c in check.passage(ch.text, ch.anchor, ch.cell or 0)]
    refused = [c for c in found if c.key not in allowed]
    if refused:
        raise ReviewRefused(f"refused: {len(refused)} statement(s) in the edited commentary contradict the figures "
                            "(nothing was written); correct them, or accept one deliberately with --accept KEY",
                            [c.message() for c in refused], ProblemCode.INCONSISTENT)
    accepted: list[dict[str, Any]] = [{"key": c.key, "cell": c.cell, "anchor": c.anchor,
                                       "sentence": c.sentence, "says": c.says,
                 "figure": c.figure} for c in found]
    # render everything first, replace afterwards: a failure leaves the earlier files as they were
    chosen = [f for f in (formats or ("html", "pdf")) if (folder / f"report.{f}").is_file() or formats]
    title = record.get("title") or manifest.get("client_id", "")
    tmp: dict[str, Path] = {}
    try:
        html = export_html(nb, lang=lang, title=title)
        for fmt in chosen:
            fd, name = tempfile.mkstemp(dir=folder, prefix=f".report.{fmt}.", suffix=".tmp")
            os.close(fd)
            tmp[fmt] = Path(name)
            if fmt == "html":
                tmp[fmt].write_text(html, encoding="utf-8")
            elif fmt == "pdf":
                used = export_pdf(html, tmp[fmt], folder, engine=pdf_engine, chromium=chromium)
                manifest["pdf_engine"] = used
        for fmt, path in tmp.items():
            os.chmod(path, 0o644)
            os.replace(path, folder / f"report.{fmt}")
    finally:
        for path in tmp.values():
            path.unlink(missing_ok=True)
    commentary = None
    if client_dir is not None:
        edits = [carryover.Edit(c.anchor, c.change, c.before, c.text) for c in reading.changes]
        keep = sorted({str(a["key"]) for a in accepted})       # acceptances still in use
        commentary = carryover.write(client_dir, lang, carryover.LanguageEdits(edits, keep))
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    changes = [{"anchor": c.anchor, "change": c.change, "before": c.before, "after": c.after, "cell": c.cell}
               for c in reading.changes]
    record.update(status="reviewed", reviewed_utc=now, changes=changes, accepted=accepted, flagged=[])
    record.setdefault("finalised", []).append({"utc": now, "changes": len(changes), "accepted": len(accepted),
                                               "files": [f"report.{f}" for f in chosen]})
    manifest["review"] = record
    if commentary is not None:   # the report reflects this file: `batch --changed-only` need not rebuild for it
        manifest.setdefault("inputs", {})[f"client/{carryover.FILE_NAME}"] = sha256_file(commentary)
    outputs = manifest.setdefault("outputs", {})
    for name in ["report.ipynb", *(f"report.{f}" for f in chosen)]:
        outputs[name] = sha256_file(folder / name)
    from auditlib.files import atomic_write_text

    atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n")
    return FinaliseOutcome(folder, reading.changes, accepted, [f"report.{f}" for f in chosen], commentary)


def review_state(manifest: dict) -> str:
    """draft | reviewed | needs_review | "" (a report made before reviews), for the portfolio."""
    record = manifest.get("review") or {}
    return str(record.get("status", ""))

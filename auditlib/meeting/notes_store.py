"""The meeting's notes: edited on screen, written back to notes.yaml without losing a word.

Why a merge and not a plain dump: the auditor (or a colleague) may have written in the file by
hand, with comments, folded text or extra keys per note, and may even do so while the meeting
runs. Saving therefore re-reads the file, applies only what the meeting changed (edits and
deletions of notes it loaded, new notes, the improvement areas) to the file's own YAML
document (ruamel.yaml keeps comments, styles and unknown keys), checks the result with the
reader the report uses (`auditlib.notes.load_notes`), and replaces the file atomically. A
note changed by hand since the meeting loaded it is never overwritten: the meeting's version
is added beside it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from auditlib.catalogue import Catalogue
from auditlib.errors import InputError
from auditlib.files import atomic_write
from auditlib.notes import AuditorNotes, Note, load_notes

HEADER = ("# The auditor's notes from the interpretation meeting.\n"
          "# Anchors: overall, dimension:<id>, indicator:<id>. Safe to edit by hand.\n")


@dataclass
class DraftNote:
    anchor: str
    text: str
    origin: tuple[str, str] | None = None      # (anchor, text) as loaded from the file; None = new


@dataclass
class NotesDraft:
    """The notes as the meeting sees them, and what it changed since loading the file."""

    path: Path
    catalogue: Catalogue
    notes: list[DraftNote] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    areas_changed: bool = False
    dirty: bool = False
    problem: str = ""           # the file cannot be read: nothing is written over it

    @classmethod
    def load(cls, path: str | Path, catalogue: Catalogue) -> "NotesDraft":
        """Read the file (missing: no notes). A file the report could not read raises InputError."""
        path = Path(path)
        loaded = load_notes(path, catalogue) if path.is_file() else AuditorNotes()
        return cls(path, catalogue, [DraftNote(n.anchor, n.text, (n.anchor, n.text)) for n in loaded.notes],
                   list(loaded.improvement_areas))

    # --- edits on screen ----------------------------------------------------------------
    def add(self, anchor: str, text: str) -> int:
        self.notes.append(DraftNote(anchor, text.strip()))
        self.dirty = True
        return len(self.notes) - 1

    def edit(self, index: int, text: str) -> None:
        self.notes[index].text = text.strip()
        self.dirty = True

    def delete(self, index: int) -> None:
        note = self.notes.pop(index)
        if note.origin is not None:
            self.deleted.append(note.origin)
        self.dirty = True

    def set_areas(self, areas: list[str]) -> None:
        areas = [a for a in dict.fromkeys(areas) if a]
        if areas != self.areas:
            self.areas, self.areas_changed, self.dirty = areas, True, True

    def for_anchor(self, anchor: str) -> list[tuple[int, DraftNote]]:
        return [(i, n) for i, n in enumerate(self.notes) if n.anchor == anchor]

    def as_notes(self) -> AuditorNotes:
        """What the analysis and the report see (the report reads the saved file)."""
        return AuditorNotes(tuple(Note(n.anchor, n.text) for n in self.notes if n.text),
                            tuple(self.areas), self.path)

    # --- writing --------------------------------------------------------------------------
    @classmethod
    def load_or_problem(cls, path: str | Path, catalogue: Catalogue) -> "NotesDraft":
        """As `load`, but a file the report cannot read gives an empty draft that refuses to save
        (the meeting still starts; the hand-written file is never overwritten)."""
        try:
            return cls.load(path, catalogue)
        except InputError as exc:
            return cls(Path(path), catalogue, problem=exc.render())

    def save(self) -> Path:
        """Merge into the file as it is now and replace it atomically; then reload from it."""
        if self.problem:
            raise OSError(f"{self.path} has problems and is left as it is; correct it by hand first: "
                          f"{self.problem}")
        if self.path.suffix.lower() == ".md":
            text = self._merged_markdown()
        else:
            text = self._merged_yaml()

        def write(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8", newline="\n")
            load_notes(tmp, self.catalogue)       # the report's reader must accept it, or nothing changes
        atomic_write(self.path, write)
        fresh = NotesDraft.load(self.path, self.catalogue)
        self.notes, self.areas, self.deleted = fresh.notes, fresh.areas, []
        self.areas_changed = self.dirty = False
        return self.path

    def _changes(self) -> tuple[dict, list[DraftNote]]:
        edits = {n.origin: n for n in self.notes if n.origin is not None and (n.anchor, n.text) != n.origin}
        new = [n for n in self.notes if n.origin is None and n.text]
        return edits, new

    def _merged_yaml(self) -> str:
        from ruamel.yaml import YAML
        from ruamel.yaml.comments import CommentedMap, CommentedSeq
        from ruamel.yaml.scalarstring import LiteralScalarString

        rt = YAML()
        rt.width = 100
        rt.indent(mapping=2, sequence=4, offset=2)
        if self.path.is_file():
            current = self.path.read_text(encoding="utf-8")
            load_notes(self.path, self.catalogue)     # the safe reader first: no alias bomb reaches ruamel
            doc = rt.load(current) if current.strip() else None
        else:
            current, doc = "", None
        if doc is None:
            doc = CommentedMap()
            doc.yaml_set_start_comment(HEADER.replace("# ", "").rstrip())
        if self.areas_changed or "improvement_areas" not in doc:
            seq = CommentedSeq(self.areas)
            seq.fa.set_flow_style()
            if "improvement_areas" in doc:
                doc["improvement_areas"] = seq
            else:
                doc.insert(0, "improvement_areas", seq)
        items = doc.get("notes")
        if items is None:
            items = CommentedSeq()
            doc["notes"] = items

        def text_of(item) -> tuple[str, str]:
            return (str(item.get("anchor", "")).strip().lower().replace(": ", ":"),
                    str(item.get("text", "")).strip())

        def find(origin: tuple[str, str]) -> int | None:
            return next((k for k, item in enumerate(items) if hasattr(item, "get") and text_of(item) == origin), None)

        def scalar(text: str):
            return LiteralScalarString(text + "\n") if "\n" in text else text

        edits, new = self._changes()
        for origin in self.deleted:
            k = find(origin)
            if k is not None:
                del items[k]
        for origin, note in edits.items():
            k = find(origin)
            if k is not None:
                items[k]["anchor"] = note.anchor
                items[k]["text"] = scalar(note.text)
            else:                                  # changed by hand meanwhile: keep both
                new.append(note)
        for note in new:
            items.append(CommentedMap([("anchor", note.anchor), ("text", scalar(note.text))]))
        out = io.StringIO()
        rt.dump(doc, out)
        return out.getvalue()

    def _merged_markdown(self) -> str:
        """notes.md: the same merge on the parsed notes, written back as Markdown headings."""
        current = load_notes(self.path, self.catalogue) if self.path.is_file() else AuditorNotes()
        notes = [(n.anchor, n.text) for n in current.notes]
        edits, new = self._changes()
        for origin in self.deleted:
            if origin in notes:
                notes.remove(origin)
        for origin, note in edits.items():
            if origin in notes:
                notes[notes.index(origin)] = (note.anchor, note.text)
            else:
                new.append(note)
        notes += [(n.anchor, n.text) for n in new]
        areas = self.areas if self.areas_changed else list(current.improvement_areas)
        parts = ["## improvement areas\n" + "".join(f"- {a}\n" for a in areas)]
        for anchor, text in notes:
            heading = anchor.replace(":", ": ", 1) if ":" in anchor else anchor
            parts.append(f"## {heading}\n{text}\n")
        return "\n".join(parts)


def load_problem(path: Path, catalogue: Catalogue) -> str | None:
    """Why the notes file cannot be edited in the meeting (None: it can)."""
    try:
        NotesDraft.load(path, catalogue)
    except InputError as exc:
        return exc.render()
    return None

"""Raw reading: every format becomes entries with their place, before validation.

Shared by the YAML, Excel and CSV readers: the raw questionnaire (`_Raw`), how an entry is
added (unknown keys and duplicates become problems), text files, header-row tables, and the
`Formula` marker for a cell whose formula has no stored result."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from auditlib.errors import Problem, ProblemCode
from auditlib.intake.model import PROFILE_KEYS

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue


@dataclass
class _Entry:
    """One value as read, with where it came from (for the problem message)."""

    file: str
    place: str
    value: Any


@dataclass
class _Raw:
    """A questionnaire as read from any format, before validation."""

    profile: dict[str, _Entry] = field(default_factory=dict)
    answers: dict[str, _Entry] = field(default_factory=dict)
    profile_file: str = ""
    answers_file: str = ""
    profile_missing: str = "key profile.{key}"    # place of a missing profile key
    answers_missing: str = "key answers.{key}"    # place of a missing indicator
    have_profile: bool = True    # False when the profile part could not be read at all:
    have_answers: bool = True    # then its keys are not reported one by one as missing
    number_style: str | None = None   # declared by the format (a ';' CSV is Dutch style)
    renamed: list[Problem] = field(default_factory=list)   # former ids read as the new ones (warnings)
    number_why: str = ""


class _Bad(ValueError):
    """A value that cannot be accepted: what is wrong, what was expected, and its code."""

    def __init__(self, message: str, expected: str, code: ProblemCode = ProblemCode.WRONG_TYPE):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.code = code


# Beyond this many problems, no "did you mean" (difflib is slow, and nobody reads that far).
SUGGEST_LIMIT = 200


def _suggest(word: str, choices: Iterable[str], problems: list[Problem] | None = None) -> str:
    if problems is not None and len(problems) >= SUGGEST_LIMIT:
        return ""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _add_profile(raw: _Raw, key: Any, entry: _Entry, problems: list[Problem]) -> None:
    key = str(key).strip().lower()
    if key not in PROFILE_KEYS:
        problems.append(Problem(entry.file, entry.place, "unknown profile key", value=key,
                                expected="one of " + ", ".join(PROFILE_KEYS) + _suggest(key, PROFILE_KEYS, problems),
                                code=ProblemCode.UNKNOWN_KEY))
    elif key in raw.profile:
        problems.append(Problem(entry.file, entry.place, f"profile key '{key}' given twice "
                                f"(first at {raw.profile[key].place})", value=entry.value,
                                expected="each profile key once", code=ProblemCode.DUPLICATE))
    else:
        raw.profile[key] = entry


def _add_answer(raw: _Raw, key: Any, entry: _Entry, catalogue: Catalogue,
                problems: list[Problem]) -> None:
    key = str(key).strip()
    if key not in catalogue.by_id and catalogue.current_id(key):      # a former id (old_ids): map it
        new = str(catalogue.current_id(key))
        raw.renamed.append(Problem(entry.file, entry.place, f"former indicator id, read as '{new}'", value=key,
                                   indicator=new, expected=f"the current id '{new}' (catalogue old_ids)",
                                   code=ProblemCode.RENAMED_ID))
        key = new
    if key not in catalogue.by_id:
        problems.append(Problem(entry.file, entry.place, "unknown indicator id", value=key,
                                indicator=key, expected="an indicator id of the catalogue"
                                + _suggest(key, catalogue.ids, problems), code=ProblemCode.UNKNOWN_ID))
    elif key in raw.answers:
        problems.append(Problem(entry.file, entry.place, "duplicate row for this indicator "
                                f"(first at {raw.answers[key].place})", value=entry.value,
                                indicator=key, expected="one row per indicator", code=ProblemCode.DUPLICATE))
    else:
        raw.answers[key] = entry



def _read_text(path: Path, problems: list[Problem]) -> str | None:
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(file, "file", f"cannot be read: {exc.strerror or exc}",
                                expected="a readable file", code=ProblemCode.FILE_UNREADABLE))
        return None
    if not data.strip():
        problems.append(Problem(file, "file", "the file is empty", expected="a filled-in questionnaire",
                                code=ProblemCode.FILE_EMPTY))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(file, "file", f"not UTF-8 text (byte {exc.start})",
                                expected="a file saved as UTF-8", code=ProblemCode.ENCODING))
        return None


def _header_index(row: tuple, required: tuple[str, ...]) -> dict[str, int] | None:
    names = [str(c).strip().lower() if c is not None else "" for c in row]
    if all(r in names for r in required):
        return {n: i for i, n in reversed(list(enumerate(names))) if n}
    return None


def _cell(row: tuple, index: int) -> Any:
    value = row[index] if index < len(row) else None
    return value.strip() if isinstance(value, str) and not isinstance(value, Formula) else value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_table(rows: Iterable[Sequence[Any]], file: str, where: str, required: tuple[str, ...],
                problems: list[Problem], found: dict[str, Any] | None = None
                ) -> list[tuple[int, dict[str, Any]]] | None:
    """Rows below the header row as {column: value}, numbered as a spreadsheet shows them.

    `found` receives the header's row number and column indexes (for messages about cells)."""
    header: dict[str, int] | None = None
    out: list[tuple[int, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=1):
        if header is None:
            header = _header_index(tuple(row), required)
            if header is not None and found is not None:
                found.update(row=number, columns=header)
            continue
        values = {name: _cell(tuple(row), i) for name, i in header.items()}
        if all(_blank(values.get(r)) for r in required):
            continue
        out.append((number, values))
    if header is None:
        problems.append(Problem(file, where, "no header row", expected="a row with the column names "
                                + ", ".join(required), code=ProblemCode.MISSING_COLUMN))
        return None
    return out


class Formula(str):
    """A cell holding a formula whose result the workbook did not store (the formula text)."""

    cell = ""

    def __repr__(self) -> str:
        return f"formula {str.__repr__(self)} without a saved result"


FORMULA_EXPECTED = ("a typed value, or the workbook opened and saved in Excel or LibreOffice so that the "
                    "formula's result is stored")

"""Read a CSV questionnaire (questionnaire.csv + profile.csv) into raw entries.

The separator is found from the whole file; a semicolon-separated file declares the decimal
comma. (Not named csv.py, which would shadow the standard library's csv inside the package.)"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditlib import localnum
from auditlib.errors import Problem, ProblemCode
from auditlib.intake.model import QUESTIONNAIRE_STEM
from auditlib.intake.raw import _add_answer, _add_profile, _blank, _Entry, _header_index, _Raw, _read_table, _read_text

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue


def csv_profile_path(path: Path) -> Path:
    """Where the profile of a CSV questionnaire lives: profile.csv, or <stem>.profile.csv."""
    path = Path(path)
    name = "profile.csv" if path.stem == QUESTIONNAIRE_STEM else f"{path.stem}.profile.csv"
    return path.with_name(name)


CSV_DELIMITERS = (",", ";", "\t")


def _csv_parse(text: str, required: tuple[str, ...]) -> tuple[str, list[list[str]], int | None]:
    """The separator that the whole file uses, its rows, and the header row's index.

    Every candidate separator is tried on the whole file: the one that finds the header and
    splits the most rows below it into two or more fields wins (the first line alone can
    mislead, e.g. an instructions line or a comma inside a header)."""
    best: tuple[tuple[int, int], str, list[list[str]], int | None] | None = None
    for delimiter in CSV_DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        except csv.Error:
            continue
        header = next((i for i, row in enumerate(rows) if _header_index(tuple(row), required)), None)
        if header is None:
            score = (-1, 0)
        else:
            width = len(rows[header])
            body = [r for r in rows[header + 1:] if any(c.strip() for c in r)]
            score = (sum(len(r) >= 2 for r in body), sum(len(r) == width for r in body))
        if best is None or score > best[0]:
            best = (score, delimiter, rows, header)
    if best is None:
        raise csv.Error("no separator splits the file into rows")
    return best[1], best[2], best[3]


def _csv_rows(path: Path, required: tuple[str, ...], problems: list[Problem]
              ) -> tuple[list[tuple[int, dict[str, Any]]] | None, str]:
    """The rows below the header, and the separator the file uses."""
    text = _read_text(path, problems)
    if text is None:
        return None, ","
    try:
        delimiter, rows, header = _csv_parse(text, required)
    except csv.Error as exc:
        problems.append(Problem(str(path), "file", f"not valid CSV: {exc}",
                                expected="comma- or semicolon-separated rows", code=ProblemCode.PARSE_ERROR))
        return None, ","
    if header is not None:
        width = len(rows[header])
        shown = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
        for number, row in enumerate(rows[header + 1:], start=header + 2):
            extra = [c for c in row[width:] if c.strip()]
            if extra:
                problems.append(Problem(str(path), f"row {number}", f"more values than columns "
                                        f"({len(row)} for {width})", value=delimiter.join(row),
                                        expected=f"{width} {shown}-separated values; a value with a "
                                                 f"{shown} in it (such as a decimal comma) in double quotes",
                                        code=ProblemCode.PARSE_ERROR))
    return _read_table(rows, str(path), "file", required, problems), delimiter


def _read_csv(path: Path, catalogue: Catalogue, problems: list[Problem]) -> _Raw | None:
    profile_path = csv_profile_path(path)
    raw = _Raw(profile_file=str(profile_path), answers_file=str(path),
               profile_missing="key '{key}'", answers_missing="file")
    answers, delimiter = _csv_rows(path, ("indicator_id", "answer"), problems)
    if delimiter == ";":    # the convention of spreadsheets that use the decimal comma
        raw.number_style, raw.number_why = localnum.NL, "a semicolon-separated file (decimal comma)"
    if not profile_path.is_file():
        problems.append(Problem(str(profile_path), "file", "the profile file is missing",
                                expected=f"{profile_path.name} next to {path.name} (columns key,value)",
                                code=ProblemCode.FILE_MISSING))
        profile = None
    else:
        profile, _ = _csv_rows(profile_path, ("key", "value"), problems)
    raw.have_profile, raw.have_answers = profile is not None, answers is not None
    for number, row in profile or []:
        place = f"row {number}"
        if _blank(row["key"]):
            problems.append(Problem(str(profile_path), place, "a value without a key",
                                    value=row["value"], expected="a profile key in column 'key'",
                                    code=ProblemCode.MISSING_VALUE))
            continue
        _add_profile(raw, row["key"], _Entry(str(profile_path), place, row["value"]), problems)
    for number, row in answers or []:
        place = f"row {number}"
        if _blank(row["indicator_id"]):
            problems.append(Problem(str(path), place, "an answer without an indicator id",
                                    value=row["answer"], expected="an indicator id in column 'indicator_id'",
                                    code=ProblemCode.MISSING_VALUE))
            continue
        _add_answer(raw, row["indicator_id"], _Entry(str(path), place, row["answer"]), catalogue, problems)
    if profile is None and answers is None:
        return None
    return raw

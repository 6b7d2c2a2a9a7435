"""Read an Excel questionnaire (sheets `profile` and `answers`) into raw entries.

Refuses what openpyxl would misreport (encrypted or .xls workbooks), marks formulas without a
stored result, and reports merged cells in the answer column."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from auditlib.errors import Problem, ProblemCode
from auditlib.intake.raw import Formula, _add_answer, _add_profile, _blank, _Entry, _Raw, _read_table

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")


def _not_a_workbook(path: Path) -> tuple[str, str] | None:
    """(problem, expected) for files openpyxl would misreport ("not a zip file"), else None."""
    with path.open("rb") as fh:
        head = fh.read(8)
        if head != _OLE_MAGIC:
            return None
        data = head + fh.read(4 << 20)   # the directory of a small compound file is near the start
    if _ENCRYPTION_STREAM in data:
        return ("the workbook is encrypted (protected with a password to open)",
                "the questionnaire saved without a password to open (File > Info > Protect Workbook)")
    return ("an old Excel 97-2003 workbook (.xls format) with an .xlsx name",
            "the workbook saved as 'Excel Workbook (*.xlsx)'")


def _sheet_key(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


def _sheet_xml(path: Path, sheet_path: str) -> bytes:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return z.read(sheet_path)
    except (KeyError, OSError, zipfile.BadZipFile):
        return b""


def _has_formulas(data: bytes) -> bool:
    return re.search(rb"<(?:\w+:)?f[\s>/]", data) is not None


def _merged_ranges(data: bytes) -> list[tuple[int, int, int, int, str]]:
    """Merged ranges of one sheet's XML as (min_col, min_row, max_col, max_row, "A1:B2") (read-only
    worksheets do not expose them)."""
    from openpyxl.utils.cell import range_boundaries

    out = []
    for match in re.finditer(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([^"]+)"', data):
        ref = match.group(1).decode("ascii", "replace")
        try:
            out.append((*range_boundaries(ref), ref))
        except (ValueError, TypeError):
            continue
    return out


def _with_formulas(values: Iterable[tuple], formulas: Iterable[tuple] | None) -> Iterable[tuple]:
    """Rows of cached values; a blank cell whose formula has no stored result becomes a Formula."""
    if formulas is None:
        yield from values
        return
    import itertools

    from openpyxl.utils import get_column_letter

    for number, (row, frow) in enumerate(itertools.zip_longest(values, formulas, fillvalue=()), start=1):
        if any(isinstance(f, str) and f.startswith("=") for f in frow):
            cells = []
            for col, (v, f) in enumerate(itertools.zip_longest(row, frow), start=1):
                # no cached value: openpyxl gives None, or the formula text itself when the
                # workbook (written by a program, never calculated) stored no result
                if isinstance(f, str) and f.startswith("=") and (v is None or v == f):
                    v = Formula(f)
                    v.cell = f"{get_column_letter(col)}{number}"
                cells.append(v)
            row = tuple(cells)
        yield row


def _read_xlsx(path: Path, catalogue: Catalogue, problems: list[Problem]) -> _Raw | None:
    import openpyxl

    file = str(path)
    if path.stat().st_size == 0:
        problems.append(Problem(file, "file", "the file is empty", expected="a filled-in questionnaire",
                                code=ProblemCode.FILE_EMPTY))
        return None
    misnamed = _not_a_workbook(path)
    if misnamed is not None:
        problems.append(Problem(file, "file", misnamed[0], expected=misnamed[1],
                                code=ProblemCode.WRONG_FILE_TYPE))
        return None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        problems.append(Problem(file, "file", f"cannot be opened as an Excel workbook "
                                f"({type(exc).__name__}: {exc})",
                                expected="an .xlsx file saved by Excel or LibreOffice",
                                code=ProblemCode.PARSE_ERROR))
        return None
    wbf = None    # the same workbook with formulas as written; only opened when a sheet has some
    try:
        tables: dict[str, list[tuple[int, dict[str, Any]]] | None] = {}
        for sheet, columns in (("profile", ("key", "value")), ("answers", ("indicator_id", "answer"))):
            names = [n for n in wb.sheetnames if _sheet_key(n) == sheet]
            tables[sheet] = None
            if not names:
                problems.append(Problem(file, f"sheet '{sheet}'", f"missing sheet '{sheet}'",
                                        value=", ".join(wb.sheetnames),
                                        expected="the sheets 'profile' and 'answers'",
                                        code=ProblemCode.MISSING_SHEET))
                continue
            if len(names) > 1:
                shown = ", ".join(repr(n) + ("" if wb[n].sheet_state == "visible" else f" ({wb[n].sheet_state})")
                                  for n in names)
                problems.append(Problem(file, f"sheet '{sheet}'", f"{len(names)} sheets could be the "
                                        f"'{sheet}' sheet: {shown}", expected=f"exactly one sheet named "
                                        f"'{sheet}' (names differing only in case, spaces or hidden state "
                                        "are not told apart)", code=ProblemCode.AMBIGUOUS_SHEET))
                continue
            ws = wb[names[0]]
            xml = _sheet_xml(path, getattr(ws, "_worksheet_path", ""))
            header: dict[str, Any] = {}
            formulas = None
            if _has_formulas(xml):
                if wbf is None:
                    wbf = openpyxl.load_workbook(path, read_only=True, data_only=False)
                formulas = wbf[names[0]].iter_rows(values_only=True)
            tables[sheet] = _read_table(_with_formulas(ws.iter_rows(values_only=True), formulas),
                                        file, f"sheet '{sheet}'", columns, problems, header)
            if tables[sheet] is not None:
                _report_merged(xml, str(path), sheet, columns[1], header, problems)
    finally:
        wb.close()
        if wbf is not None:
            wbf.close()
    raw = _Raw(profile_file=file, answers_file=file, profile_missing="sheet 'profile', key '{key}'",
               answers_missing="sheet 'answers'", have_profile=tables["profile"] is not None,
               have_answers=tables["answers"] is not None)
    for number, row in tables["profile"] or []:
        place = f"sheet 'profile', row {number}"
        if _blank(row["key"]):
            problems.append(Problem(file, place, "a value without a key", value=row["value"],
                                    expected="a profile key in column 'key'", code=ProblemCode.MISSING_VALUE))
            continue
        _add_profile(raw, row["key"], _Entry(file, place, row["value"]), problems)
    for number, row in tables["answers"] or []:
        place = f"sheet 'answers', row {number}"
        if _blank(row["indicator_id"]):
            problems.append(Problem(file, place, "an answer without an indicator id",
                                    value=row["answer"], expected="an indicator id in column 'indicator_id'",
                                    code=ProblemCode.MISSING_VALUE))
            continue
        _add_answer(raw, row["indicator_id"], _Entry(file, place, row["answer"]), catalogue, problems)
    if tables["profile"] is None and tables["answers"] is None:
        return None
    return raw


def _report_merged(xml: bytes, file: str, sheet: str, column: str, header: dict[str, Any],
                   problems: list[Problem]) -> None:
    """Merged cells in the value/answer column below the header: an answer would be read once."""
    from openpyxl.utils import get_column_letter

    index = header.get("columns", {}).get(column)
    if index is None:
        return
    col = index + 1
    for min_col, _min_row, max_col, max_row, ref in _merged_ranges(xml):
        if min_col <= col <= max_col and max_row > header.get("row", 0):
            problems.append(Problem(file, f"sheet '{sheet}', cells {ref}",
                                    f"merged cells in the '{column}' column (column {get_column_letter(col)})",
                                    expected=f"one {column} per row: unmerge the cells",
                                    code=ProblemCode.MERGED_CELLS))

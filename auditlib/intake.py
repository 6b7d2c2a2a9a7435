"""Questionnaire intake: read a client's answers and profile, validate, return a ClientProfile.

CONTRACT (implemented by the intake work; other modules rely on these names):

    ClientProfile             frozen dataclass below
    ClientFolder              frozen dataclass below
    load_client(path, catalogue) -> ClientFolder       raises QuestionnaireError (all problems)
    read_questionnaire(path, catalogue, client_id) -> ClientProfile
    write_template(out_path, catalogue, lang="en") -> Path
    summary_line(folder: ClientFolder) -> str           one line for `auditlib validate`

A client folder (`data/clients/<client_id>/`, see data/clients/README.md):

    questionnaire.xlsx | questionnaire.yaml | questionnaire.csv   exactly one
    profile.csv                      the profile, only with questionnaire.csv (key,value rows)
    earlier/<year>.xlsx|yaml|csv     optional earlier audits, same formats
                                     (a CSV one has its profile in earlier/<year>.profile.csv)
    notes.yaml (or notes.md)         optional auditor's notes, owned by another module

The three formats carry the same content:

    YAML   `profile: {key: value}` and `answers: {indicator_id: value}`
    xlsx   sheet "profile" (columns key, value) and sheet "answers" (columns indicator_id,
           answer; other columns are for the reader's eyes); rows above the header row are
           ignored, so a sheet may open with an instructions line
    CSV    questionnaire.csv (columns indicator_id, answer) and profile.csv (key, value);
           comma or semicolon separated, UTF-8 (a BOM is fine)

Profile keys: name, country (ISO 3166 alpha-2), field (field id or EN/NL name),
founding_year, benchmark_year, region, contact; optional benchmark_id.
Every catalogue indicator needs an entry; a blank answer (or "not answered", "n/a",
"niet beantwoord", "n.v.t.") means not answered and stays None, never 0.

Validation collects every problem of every file and raises one QuestionnaireError; no
exception from malformed input escapes as a traceback.
"""

from __future__ import annotations

import csv
import datetime as _dt
import difflib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from auditlib import localnum, yamlsafe
from auditlib.errors import ParameterError, Problem, QuestionnaireError
from auditlib.files import atomic_write

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue, Indicator


@dataclass(frozen=True)
class ClientProfile:
    """One questionnaire of one client cluster organisation, validated.

    `answers` holds every catalogue indicator id; None means "not answered" (kept distinct
    from 0). yes/no answers are 1.0/0.0; ordinal answers are their level number.
    """

    client_id: str
    name: str
    country: str          # ISO 3166-1 alpha-2, upper case
    field: str            # technology field id (catalogue fields.yaml)
    founding_year: int
    benchmark_year: int   # the year the answers describe
    region: str
    contact: str
    answers: Mapping[str, float | None]
    source: Path
    benchmark_id: str | None = None   # the client's own record in the benchmark database, if any

    @property
    def age(self) -> int:
        return self.benchmark_year - self.founding_year

    def value(self, indicator_id: str) -> float | None:
        return self.answers.get(indicator_id)

    @property
    def missing(self) -> list[str]:
        return [k for k, v in self.answers.items() if v is None]

    @property
    def answered(self) -> list[str]:
        return [k for k, v in self.answers.items() if v is not None]


@dataclass(frozen=True)
class ClientFolder:
    """A client's folder: the current questionnaire, earlier audits and the auditor's notes."""

    client_id: str
    path: Path
    profile: ClientProfile
    earlier: tuple[ClientProfile, ...] = field(default_factory=tuple)   # oldest first
    notes_path: Path | None = None

    @property
    def previous(self) -> ClientProfile | None:
        """The most recent earlier audit, the one evolution compares against."""
        return self.earlier[-1] if self.earlier else None


# --- constants ----------------------------------------------------------------------------

QUESTIONNAIRE_STEM = "questionnaire"
FORMATS = {".xlsx": "xlsx", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
REQUIRED_PROFILE_KEYS = ("name", "country", "field", "founding_year", "benchmark_year",
                         "region", "contact")
OPTIONAL_PROFILE_KEYS = ("benchmark_id",)
PROFILE_KEYS = REQUIRED_PROFILE_KEYS + OPTIONAL_PROFILE_KEYS
NOTES_FILES = ("notes.yaml", "notes.yml", "notes.md")
# "none" is deliberately absent: as an answer to "how many awards?" it means 0.
NOT_ANSWERED = frozenset({"", "not answered", "n/a", "niet beantwoord", "n.v.t."})
YES = frozenset({"yes", "ja", "true", "1"})
NO = frozenset({"no", "nee", "false", "0"})
EARLIEST_YEAR = 1900
ORG_AGE = "org_age"
# Codes in common (EU) use that are not ISO 3166 alpha-2.
NON_ISO_CODES = {"UK": "GB", "EL": "GR"}
EXPECTED_COUNTRY = "an ISO 3166 alpha-2 country code such as NL, DE or FR"


def _this_year() -> int:
    return _dt.date.today().year


# --- raw reading: every format becomes entries with their place -----------------------------

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
    number_why: str = ""


class _Bad(ValueError):
    """A value that cannot be accepted: what is wrong and what was expected."""

    def __init__(self, message: str, expected: str):
        super().__init__(message)
        self.message = message
        self.expected = expected


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
                                expected="one of " + ", ".join(PROFILE_KEYS) + _suggest(key, PROFILE_KEYS, problems)))
    elif key in raw.profile:
        problems.append(Problem(entry.file, entry.place, f"profile key '{key}' given twice "
                                f"(first at {raw.profile[key].place})", value=entry.value,
                                expected="each profile key once"))
    else:
        raw.profile[key] = entry


def _add_answer(raw: _Raw, key: Any, entry: _Entry, catalogue: Catalogue,
                problems: list[Problem]) -> None:
    key = str(key).strip()
    if key not in catalogue.by_id:
        problems.append(Problem(entry.file, entry.place, "unknown indicator id", value=key,
                                indicator=key, expected="an indicator id of the catalogue"
                                + _suggest(key, catalogue.ids, problems)))
    elif key in raw.answers:
        problems.append(Problem(entry.file, entry.place, "duplicate row for this indicator "
                                f"(first at {raw.answers[key].place})", value=entry.value,
                                indicator=key, expected="one row per indicator"))
    else:
        raw.answers[key] = entry


def _read_yaml(path: Path, catalogue: Catalogue, problems: list[Problem]) -> _Raw | None:
    import yaml

    file = str(path)
    text = _read_text(path, problems)
    if text is None:
        return None
    try:
        loader, node = yamlsafe.compose(text, file)
        if node is None:
            loader.dispose()
            problems.append(Problem(file, "file", "the file is empty (no YAML content)",
                                    expected="sections 'profile' and 'answers'"))
            return None
        lines = _yaml_key_lines(node)
        number_texts = _yaml_number_texts(node)
        data = yamlsafe.construct(loader, node)
    except yamlsafe.AliasBombError as exc:
        problems.append(Problem(file, "file", exc.problem, expected="the values written out"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        problems.append(Problem(file, place, f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                                expected="well-formed YAML (check indentation, colons and quotes)"))
        return None
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        for key, text_value in number_texts.items():   # "1.250" as written, not YAML's 1.25
            if key in data["answers"] and not isinstance(data["answers"][key], bool):
                data["answers"][key] = text_value
    if not isinstance(data, dict):
        problems.append(Problem(file, "file", "the top level is not a mapping",
                                value=type(data).__name__,
                                expected="sections 'profile:' and 'answers:'"))
        return None
    raw = _Raw(profile_file=file, answers_file=file)
    raw.have_profile = isinstance(data.get("profile"), (dict, type(None))) and "profile" in data
    raw.have_answers = isinstance(data.get("answers"), (dict, type(None))) and "answers" in data
    for key in data:
        if key not in ("profile", "answers"):
            problems.append(Problem(file, f"key {key}", "unknown section", value=key,
                                    expected="only the sections 'profile' and 'answers'"))
    for section in ("profile", "answers"):
        if section not in data:
            problems.append(Problem(file, f"key {section}", f"missing section '{section}'",
                                    expected=f"a mapping under '{section}:'"))
            continue
        body = data[section]
        if body is None:
            body = {}
        if not isinstance(body, dict):
            problems.append(Problem(file, f"key {section}", f"section '{section}' is not a mapping",
                                    value=type(body).__name__, expected="key: value lines"))
            continue
        for key, value in body.items():
            line = lines.get((section, str(key)), [])
            where = f"key {section}.{key}" + (f" (line {line[0]})" if line else "")
            if isinstance(value, (dict, list)):
                problems.append(Problem(file, where, "a nested value", value=type(value).__name__,
                                        indicator=key if section == "answers" else None,
                                        expected="a single value"))
                continue
            entry = _Entry(file, where, value)
            if section == "profile":
                _add_profile(raw, key, entry, problems)
            else:
                _add_answer(raw, key, entry, catalogue, problems)
        # YAML itself keeps only the last of two equal keys: report the duplicates here
        for (sec, key), found in lines.items():
            if sec == section and len(found) > 1:
                indicator = key if section == "answers" else None
                problems.append(Problem(file, f"key {section}.{key} (line {found[1]})",
                                        f"duplicate key (first at line {found[0]})",
                                        indicator=indicator, expected="each key once"))
    return raw


def _yaml_key_lines(node: Any) -> dict[tuple[str, str], list[int]]:
    """Line numbers of the keys under profile/answers, to name places and find duplicates."""
    import yaml

    lines: dict[tuple[str, str], list[int]] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key_node, value_node in node.value:
        if (isinstance(key_node, yaml.ScalarNode) and key_node.value in ("profile", "answers")
                and isinstance(value_node, yaml.MappingNode)):
            for k, _ in value_node.value:
                if isinstance(k, yaml.ScalarNode):
                    lines.setdefault((key_node.value, k.value), []).append(k.start_mark.line + 1)
    return lines


_YAML_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
# Numbers YAML reads as written: no leading zero, no three-decimal "1.250", no sexagesimal "1:30".
_PLAIN_DECIMAL = re.compile(r"[-+]?(?:0|[1-9]\d*)(?:\.\d{1,2}|\.\d{4,})?|[-+]?0\.\d+")


def _yaml_number_texts(node: Any) -> dict[Any, str]:
    """The answers YAML reads as numbers, as written: YAML 1.1 reads "1.250" as 1.25, "1:30" as 90
    and "010" as 8, so the intake reads the text itself (`localnum`)."""
    import yaml

    out: dict[Any, str] = {}
    if not isinstance(node, yaml.MappingNode):
        return out
    for key_node, value_node in node.value:
        if (isinstance(key_node, yaml.ScalarNode) and key_node.value == "answers"
                and isinstance(value_node, yaml.MappingNode)):
            for k, v in value_node.value:
                if (isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode) and v.style is None
                        and v.tag in _YAML_NUMBER_TAGS and not _PLAIN_DECIMAL.fullmatch(v.value)):
                    out[k.value] = v.value
    return out


def _read_text(path: Path, problems: list[Problem]) -> str | None:
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(file, "file", f"cannot be read: {exc.strerror or exc}",
                                expected="a readable file"))
        return None
    if not data.strip():
        problems.append(Problem(file, "file", "the file is empty", expected="a filled-in questionnaire"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(file, "file", f"not UTF-8 text (byte {exc.start})",
                                expected="a file saved as UTF-8"))
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


def _read_table(rows: Iterable[tuple], file: str, where: str, required: tuple[str, ...],
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
                                + ", ".join(required)))
        return None
    return out


class Formula(str):
    """A cell holding a formula whose result the workbook did not store (the formula text)."""

    cell = ""

    def __repr__(self) -> str:
        return f"formula {str.__repr__(self)} without a saved result"


FORMULA_EXPECTED = ("a typed value, or the workbook opened and saved in Excel or LibreOffice so that the "
                    "formula's result is stored")
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
        problems.append(Problem(file, "file", "the file is empty", expected="a filled-in questionnaire"))
        return None
    misnamed = _not_a_workbook(path)
    if misnamed is not None:
        problems.append(Problem(file, "file", misnamed[0], expected=misnamed[1]))
        return None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        problems.append(Problem(file, "file", f"cannot be opened as an Excel workbook "
                                f"({type(exc).__name__}: {exc})",
                                expected="an .xlsx file saved by Excel or LibreOffice"))
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
                                        expected="the sheets 'profile' and 'answers'"))
                continue
            if len(names) > 1:
                shown = ", ".join(repr(n) + ("" if wb[n].sheet_state == "visible" else f" ({wb[n].sheet_state})")
                                  for n in names)
                problems.append(Problem(file, f"sheet '{sheet}'", f"{len(names)} sheets could be the "
                                        f"'{sheet}' sheet: {shown}", expected=f"exactly one sheet named "
                                        f"'{sheet}' (names differing only in case, spaces or hidden state "
                                        "are not told apart)"))
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
                                    expected="a profile key in column 'key'"))
            continue
        _add_profile(raw, row["key"], _Entry(file, place, row["value"]), problems)
    for number, row in tables["answers"] or []:
        place = f"sheet 'answers', row {number}"
        if _blank(row["indicator_id"]):
            problems.append(Problem(file, place, "an answer without an indicator id",
                                    value=row["answer"], expected="an indicator id in column 'indicator_id'"))
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
    for min_col, min_row, max_col, max_row, ref in _merged_ranges(xml):
        if min_col <= col <= max_col and max_row > header.get("row", 0):
            problems.append(Problem(file, f"sheet '{sheet}', cells {ref}",
                                    f"merged cells in the '{column}' column (column {get_column_letter(col)})",
                                    expected=f"one {column} per row: unmerge the cells"))


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
                                expected="comma- or semicolon-separated rows"))
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
                                                 f"{shown} in it (such as a decimal comma) in double quotes"))
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
                                expected=f"{profile_path.name} next to {path.name} (columns key,value)"))
        profile = None
    else:
        profile, _ = _csv_rows(profile_path, ("key", "value"), problems)
    raw.have_profile, raw.have_answers = profile is not None, answers is not None
    for number, row in profile or []:
        place = f"row {number}"
        if _blank(row["key"]):
            problems.append(Problem(str(profile_path), place, "a value without a key",
                                    value=row["value"], expected="a profile key in column 'key'"))
            continue
        _add_profile(raw, row["key"], _Entry(str(profile_path), place, row["value"]), problems)
    for number, row in answers or []:
        place = f"row {number}"
        if _blank(row["indicator_id"]):
            problems.append(Problem(str(path), place, "an answer without an indicator id",
                                    value=row["answer"], expected="an indicator id in column 'indicator_id'"))
            continue
        _add_answer(raw, row["indicator_id"], _Entry(str(path), place, row["answer"]), catalogue, problems)
    if profile is None and answers is None:
        return None
    return raw


# --- parsing and checking values ----------------------------------------------------------

def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def expected_text(ind: Indicator) -> str:
    """What an answer to this indicator must look like, for messages and the template."""
    if ind.kind == "yes_no":
        return "yes or no (also ja/nee, true/false, 1/0)"
    if ind.kind == "ordinal":
        levels = ", ".join(f"{k} - {v.en}" for k, v in sorted((ind.levels or {}).items()))
        return f"a level {_fmt(ind.min)}-{_fmt(ind.max)} ({levels})"
    if ind.kind == "share":
        return f"a percentage from {_fmt(ind.min)} to {_fmt(ind.max)}"
    what = "a whole number" if ind.kind == "count" else "a number"
    return f"{what} from {_fmt(ind.min)} to {_fmt(ind.max)} ({ind.unit.en})"


def _is_not_answered(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().casefold() in NOT_ANSWERED)


def _to_number(value: Any, ind: Indicator, convention: localnum.Convention | None = None) -> float:
    expected = expected_text(ind)
    if isinstance(value, bool):
        raise _Bad("a yes/no value in a number field", expected)
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if ind.kind == "share" and text.endswith("%"):
            text = text[:-1].rstrip()
        try:
            number = localnum.read(text, whole=ind.kind == "count", convention=convention)
        except localnum.NumberTextError as exc:
            raise _Bad(exc.message, expected + (f"; {exc.hint}" if exc.hint else "")) from None
    elif isinstance(value, (_dt.date, _dt.time)):
        raise _Bad("a date in a number field (Excel may have converted the entry)", expected)
    else:
        raise _Bad(f"not a number ({type(value).__name__})", expected)
    if not math.isfinite(number):
        raise _Bad("not a finite number", expected)
    return number


def _check_range(number: float, ind: Indicator) -> float:
    expected = expected_text(ind)
    if ind.kind in ("count", "ordinal") and not number.is_integer():
        raise _Bad("not a whole number", expected)
    if number < ind.min:
        if ind.kind == "share":
            raise _Bad("a share below 0%" if ind.min == 0 else "a share below the minimum", expected)
        raise _Bad("a negative value" if ind.min == 0 else f"below the minimum of {_fmt(ind.min)}", expected)
    if number > ind.max:
        if ind.kind == "share" and ind.max == 100:
            raise _Bad("a share above 100%", expected)
        raise _Bad(f"above the maximum of {_fmt(ind.max)}", expected)
    return number


_LEVEL_LABEL = re.compile(r"^\s*(\d+)\s*[-\u2013\u2014:.)]\s*\D")


def parse_answer(value: Any, ind: Indicator, convention: localnum.Convention | None = None) -> float | None:
    """One answer as a float (None = not answered); raises _Bad with what was expected.

    `convention`: the file's number style (`localnum.convention_of`), which settles "1.250"."""
    if isinstance(value, Formula):
        raise _Bad(f"cell {value.cell}: a formula without a saved result (the answer cannot be read)",
                   FORMULA_EXPECTED)
    if _is_not_answered(value):
        return None
    if ind.kind == "yes_no":
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, (int, float)) and value in (0, 1):
            return float(value)
        text = str(value).strip().casefold()
        if text in YES:
            return 1.0
        if text in NO:
            return 0.0
        raise _Bad("yes/no answer not recognised", expected_text(ind))
    if ind.kind == "ordinal" and isinstance(value, str):
        match = _LEVEL_LABEL.match(value)   # "3 - co-deciding in a board" from the dropdown
        if match:
            value = match.group(1)
        try:
            number = _to_number(value, ind, convention)
        except _Bad:
            raise _Bad("not a level", expected_text(ind)) from None
        return _check_range(number, ind)
    return _check_range(_to_number(value, ind, convention), ind)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain_text(text: str) -> str:
    """A profile text (name, region, contact) as text every output can hold.

    A surrogate pair written as two escapes ("\\ud83c\\udf45" in YAML or JSON) is the character it
    encodes and is read as such; a lone surrogate is no character, and control characters
    (terminal escape sequences, bells) belong in no name: both are refused, naming the position."""
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        lone = _SURROGATE.search(text)
        if lone:
            raise _Bad(f"a lone surrogate escape (\\u{ord(lone.group()):04x}) at character {lone.start() + 1}, "
                       "which is no character", "plain text (an emoji written as itself)")
    control = _CONTROL_CHARACTERS.search(text)
    if control:
        raise _Bad(f"a control character (\\x{ord(control.group()):02x}) at character {control.start() + 1}",
                   "plain text, without terminal escape sequences or other control characters")
    return text


def _year(value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad("not a year", "a year such as 2012")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    text = _text(value)
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    raise _Bad("not a year", "a four-digit year such as 2012")


def _country(value: Any) -> str:
    import pycountry

    if isinstance(value, bool):   # YAML 1.1 reads an unquoted NO (Norway) as false
        raise _Bad("unknown country (an unquoted NO in YAML reads as 'false')",
                   'the code in quotes, e.g. country: "NO"')
    code = _text(value).upper()
    if len(code) == 2 and code.isalpha() and pycountry.countries.get(alpha_2=code) is not None:
        return code
    hint = ""
    if code in NON_ISO_CODES:
        hint = f" (did you mean {NON_ISO_CODES[code]}?)"
    elif code:
        try:
            hint = f" (did you mean {pycountry.countries.lookup(_text(value)).alpha_2}?)"
        except LookupError:
            pass
    raise _Bad("unknown country", EXPECTED_COUNTRY + hint)


def _check_profile(raw: _Raw, catalogue: Catalogue, problems: list[Problem]) -> dict[str, Any]:
    """The profile values, checked; a key that fails is left out (its problem is recorded)."""
    out: dict[str, Any] = {}
    words_expected = {"country": EXPECTED_COUNTRY, "field": "a technology field",
                      "founding_year": "a four-digit year such as 2012",
                      "benchmark_year": "the four-digit year the answers describe"}
    for key in REQUIRED_PROFILE_KEYS:
        if raw.have_profile and key not in raw.profile:
            problems.append(Problem(raw.profile_file, raw.profile_missing.format(key=key),
                                    f"missing profile key '{key}'", expected="this key with a value"))
    for key, entry in raw.profile.items():
        try:
            if isinstance(entry.value, Formula):
                raise _Bad(f"cell {entry.value.cell}: a formula without a saved result (the value "
                           "cannot be read)", FORMULA_EXPECTED)
            if _blank(entry.value):
                if key in REQUIRED_PROFILE_KEYS:
                    raise _Bad("no value", words_expected.get(key, f"the client's {key.replace('_', ' ')}"))
                out[key] = None
            elif key in ("founding_year", "benchmark_year"):
                out[key] = _year(entry.value)
            elif key == "country":
                out[key] = _country(entry.value)
            elif key == "field":
                field_id = catalogue.field_id(_text(entry.value))
                if field_id is None:
                    raise _Bad("unknown technology field", "a field id or its English or Dutch name: "
                               + ", ".join(catalogue.fields) + _suggest(_text(entry.value), catalogue.fields))
                out[key] = field_id
            else:
                out[key] = _plain_text(_text(entry.value))
        except _Bad as bad:
            problems.append(Problem(entry.file, entry.place, bad.message, value=entry.value,
                                    expected=bad.expected))
    now = _this_year()
    founded, year = out.get("founding_year"), out.get("benchmark_year")

    def reject(key: str, message: str, expected: str) -> None:
        entry = raw.profile[key]
        problems.append(Problem(entry.file, entry.place, message, value=entry.value, expected=expected))
        out.pop(key, None)

    if founded is not None:
        if founded > now:
            reject("founding_year", "founding year in the future", f"a year up to {now}")
        elif founded < EARLIEST_YEAR:
            reject("founding_year", f"founding year before {EARLIEST_YEAR}", f"a year from {EARLIEST_YEAR} to {now}")
    if year is not None:
        if year > now:
            reject("benchmark_year", "benchmark year in the future", f"the year the answers describe, up to {now}")
        elif year < EARLIEST_YEAR:
            reject("benchmark_year", f"benchmark year before {EARLIEST_YEAR}", f"a year from {EARLIEST_YEAR} to {now}")
    founded, year = out.get("founding_year"), out.get("benchmark_year")
    if founded is not None and year is not None and year < founded:
        reject("benchmark_year", "benchmark year before the founding year",
               f"a year from the founding year ({founded}) on")
    return out


def _check_answers(raw: _Raw, profile: Mapping[str, Any], catalogue: Catalogue,
                   problems: list[Problem]) -> dict[str, float | None]:
    answers: dict[str, float | None] = {}
    convention = localnum.convention_of((e.value for e in raw.answers.values()), raw.number_style,
                                        raw.number_why)
    for ind in catalogue.indicators:
        entry = raw.answers.get(ind.id)
        if entry is None:
            if not raw.have_answers:
                continue
            problems.append(Problem(raw.answers_file, raw.answers_missing.format(key=ind.id),
                                    "no entry for this indicator", indicator=ind.id,
                                    expected="an entry for every indicator (the answer may be blank)"))
            continue
        try:
            answers[ind.id] = parse_answer(entry.value, ind, convention)
        except _Bad as bad:
            problems.append(Problem(entry.file, entry.place, bad.message, value=entry.value,
                                    indicator=ind.id, expected=bad.expected))
    _check_org_age(raw, profile, catalogue, answers, problems)
    return answers


def _check_org_age(raw: _Raw, profile: Mapping[str, Any], catalogue: Catalogue,
                   answers: dict[str, float | None], problems: list[Problem]) -> None:
    """org_age follows from the years: derive it when blank, report it when it disagrees."""
    if ORG_AGE not in catalogue.by_id or ORG_AGE not in answers:
        return
    founded, year = profile.get("founding_year"), profile.get("benchmark_year")
    if founded is None or year is None:
        return
    derived = float(year - founded)
    given = answers[ORG_AGE]
    if given is None:
        answers[ORG_AGE] = derived
    elif abs(given - derived) > 1:
        entry = raw.answers[ORG_AGE]
        problems.append(Problem(entry.file, entry.place, "does not agree with the founding and "
                                "benchmark years", value=entry.value, indicator=ORG_AGE,
                                expected=f"{_fmt(derived)} (benchmark_year {year} - founding_year "
                                         f"{founded}), give or take 1, or blank"))


# --- public API ---------------------------------------------------------------------------

def _collect(path: Path, catalogue: Catalogue, client_id: str) -> tuple[ClientProfile | None, list[Problem]]:
    """Read and validate one questionnaire; never raises for malformed input."""
    problems: list[Problem] = []
    file = str(path)
    try:
        if not path.is_file():
            problems.append(Problem(file, "file", "the file does not exist",
                                    expected="a questionnaire .xlsx, .yaml or .csv"))
            return None, problems
        kind = FORMATS.get(path.suffix.lower())
        if kind is None:
            hint = " (save an .xls workbook as .xlsx)" if path.suffix.lower() == ".xls" else ""
            problems.append(Problem(file, "file", f"unsupported file type '{path.suffix}'",
                                    value=path.name, expected=".xlsx, .yaml or .csv" + hint))
            return None, problems
        reader = {"xlsx": _read_xlsx, "yaml": _read_yaml, "csv": _read_csv}[kind]
        raw = reader(path, catalogue, problems)
        if raw is None:
            return None, problems
        profile = _check_profile(raw, catalogue, problems)
        answers = _check_answers(raw, profile, catalogue, problems)
        if problems:
            return None, problems
        return ClientProfile(
            client_id=client_id, name=profile["name"], country=profile["country"],
            field=profile["field"], founding_year=profile["founding_year"],
            benchmark_year=profile["benchmark_year"], region=profile["region"],
            contact=profile["contact"], answers=answers, source=path,
            benchmark_id=profile.get("benchmark_id"),
        ), problems
    except Exception as exc:  # last resort: malformed input must never show a traceback
        problems.append(Problem(file, "file", f"could not be read ({type(exc).__name__}: {exc})",
                                expected="a questionnaire in the documented format"))
        return None, problems


def read_questionnaire(path: str | Path, catalogue: Catalogue, client_id: str) -> ClientProfile:
    """Read and validate one questionnaire file; raise QuestionnaireError with every problem."""
    path = Path(path)
    profile, problems = _collect(path, catalogue, client_id)
    if problems or profile is None:
        raise QuestionnaireError(problems, summary=f"{path}: {len(problems)} problem(s) in the questionnaire")
    return profile


def _usable(p: Path) -> bool:
    """Skip hidden files and Excel's lock files (~$name.xlsx) when looking for questionnaires."""
    return p.is_file() and not p.name.startswith((".", "~$"))


def _resolve_folder(path: str | Path) -> Path:
    candidate = Path(path)
    if candidate.is_dir():
        return candidate
    from auditlib.config import Settings

    clients_dir = Settings.from_env().clients_dir
    if not candidate.is_absolute() and len(candidate.parts) == 1 and (clients_dir / candidate).is_dir():
        return clients_dir / candidate
    known = sorted(p.name for p in clients_dir.iterdir() if p.is_dir()) if clients_dir.is_dir() else []
    raise QuestionnaireError([Problem(str(path), "folder", "no such client folder", value=str(path),
                                      expected=f"a client folder, or a client id in {clients_dir}"
                                      + (f" (known: {', '.join(known)})" if known else ""))],
                             summary=f"client '{path}' not found")


def _find_questionnaire(folder: Path, problems: list[Problem]) -> Path | None:
    found = sorted(p for p in folder.glob(f"{QUESTIONNAIRE_STEM}.*") if _usable(p))
    if not found:
        problems.append(Problem(str(folder), "folder", "no questionnaire in the client folder",
                                expected="one questionnaire.xlsx, questionnaire.yaml or questionnaire.csv"))
        return None
    if len(found) > 1:
        problems.append(Problem(str(folder), "folder", f"{len(found)} questionnaires in the client folder",
                                value=", ".join(p.name for p in found),
                                expected="exactly one questionnaire file (move older ones to earlier/<year>.*)"))
        return None
    return found[0]


def _earlier_files(folder: Path, problems: list[Problem]) -> list[tuple[int, Path]]:
    directory = folder / "earlier"
    if not directory.is_dir():
        return []
    out: list[tuple[int, Path]] = []
    years: dict[int, Path] = {}
    for p in sorted(directory.iterdir()):
        if not _usable(p) or p.name.endswith(".profile.csv"):
            continue
        if not re.fullmatch(r"\d{4}", p.stem) or p.suffix.lower() not in FORMATS:
            problems.append(Problem(str(p), "file", "not an earlier audit name", value=p.name,
                                    expected="earlier/<year>.xlsx, .yaml or .csv, e.g. earlier/2024.yaml"))
            continue
        year = int(p.stem)
        if year in years:
            problems.append(Problem(str(p), "file", f"a second earlier audit for {year}",
                                    value=p.name, expected=f"one file per year (also found {years[year].name})"))
            continue
        years[year] = p
        out.append((year, p))
    return out


def load_client(path: str | Path, catalogue: Catalogue | None = None) -> ClientFolder:
    """Load a client folder (path or client id): the questionnaire, earlier audits, notes path.

    Problems in the current questionnaire, the earlier audits and the folder layout are
    reported together in one QuestionnaireError.
    """
    if catalogue is None:
        from auditlib.catalogue import load_catalogue

        catalogue = load_catalogue()
    folder = _resolve_folder(path)
    client_id = folder.name
    problems: list[Problem] = []
    current: ClientProfile | None = None
    qfile = _find_questionnaire(folder, problems)
    if qfile is not None:
        current, found = _collect(qfile, catalogue, client_id)
        problems += found
    earlier: list[ClientProfile] = []
    for year, p in _earlier_files(folder, problems):
        profile, found = _collect(p, catalogue, client_id)
        problems += found
        if profile is None:
            continue
        if profile.benchmark_year != year:
            problems.append(Problem(str(p), "profile key benchmark_year", "does not match the file name",
                                    value=profile.benchmark_year, expected=f"{year}, as in {p.name}"))
        elif current is not None and year >= current.benchmark_year:
            problems.append(Problem(str(p), "file", "an earlier audit not before the current one",
                                    value=year, expected=f"a year before {current.benchmark_year}"))
        else:
            earlier.append(profile)
    if problems or current is None:
        raise QuestionnaireError(problems, summary=f"client '{client_id}' ({folder}): "
                                                   f"{len(problems)} problem(s)")
    notes = next((folder / n for n in NOTES_FILES if (folder / n).is_file()), None)
    return ClientFolder(client_id=client_id, path=folder, profile=current,
                        earlier=tuple(sorted(earlier, key=lambda e: e.benchmark_year)),
                        notes_path=notes)


def summary_line(folder: ClientFolder) -> str:
    """One line per client for `auditlib validate`."""
    p = folder.profile
    n, missing = len(p.answers), len(p.missing)
    k = len(folder.earlier)
    earlier = "no earlier audit" if k == 0 else f"{k} earlier audit{'s' if k > 1 else ''}"
    return (f"{folder.client_id}: {p.name} ({p.country}, {p.field}, founded {p.founding_year}, "
            f"benchmark {p.benchmark_year}): {n} indicators, {n - missing} answered, "
            f"{missing} not answered, {earlier}")


# The Excel template lives in auditlib/template.py; its names stay importable from here.
_TEMPLATE_NAMES = ("ANSWER_COLUMNS", "level_choices", "save_atomic", "write_template")


def __getattr__(name: str) -> Any:
    if name in _TEMPLATE_NAMES:
        from auditlib import template

        return getattr(template, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

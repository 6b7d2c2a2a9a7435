"""The benchmark (reference) database: load and validate against the catalogue.

API:

    BenchmarkDB                                  the validated database (frozen dataclass below)
    load_benchmark(path, catalogue) -> BenchmarkDB    raises BenchmarkError (every problem, coded)

The frame: index `org_id` (str, anonymised); columns `country` (ISO alpha-2), `field`
(field id), `founding_year` (int), `benchmark_year` (int), `label` (none/bronze/silver/gold),
then one float64 column per catalogue indicator id (NaN = not answered).

The file (CSV, or the first sheet of an .xlsx) is checked with a pandera schema built from
the catalogue, lazily, so every problem is reported at once as a `BenchmarkError`. A file
that does not fit the catalogue (the licensed export of another catalogue version, say) is
refused rather than half-read. Loads are cached per process: the frame is shared, so callers
must treat it as read-only (take `.copy()` before changing anything). The command line also
remembers on disk which files passed (`remember_verdicts`), so its next process skips pandera.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from auditlib import yamlsafe
from auditlib.errors import BenchmarkError, Problem, ProblemCode

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue

META_COLUMNS = ("country", "field", "founding_year", "benchmark_year", "label")
LABELS = ("none", "bronze", "silver", "gold")
ID_COLUMN = "org_id"
YEAR_RANGE = (1900, 2100)
MAX_PROBLEMS = 50
# Cell texts that mean "not answered" in an indicator column (meta columns keep them: "NA" is Namibia).
NA_TOKENS = ["", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "-"]
COUNTRY_HINTS = {"UK": "GB", "EL": "GR"}   # EU conventions that are not ISO 3166
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt"}
TEXT_COLUMNS = {ID_COLUMN, "country", "field", "label"}


@dataclass(frozen=True, repr=False)
class BenchmarkDB:
    """A validated benchmark database.

    `frame` is shared by every caller in the process (see `load_benchmark`'s cache): never
    mutate it. Its indicator values are read-only arrays, so an accidental cell assignment
    raises instead of silently changing everyone's benchmark; take `.copy()` to edit.
    """

    frame: pd.DataFrame
    path: Path
    sha256: str
    version: str

    def __repr__(self) -> str:
        return f"BenchmarkDB({len(self.frame)} organisations, version={self.version!r}, path='{self.path}')"


_CACHE: dict[tuple, BenchmarkDB] = {}   # never evicted: views of a cached frame stay safe to edit
_SCHEMAS: dict[tuple, Any] = {}
_VERDICTS: dict[str, Path | None] = {"folder": None}    # set by `remember_verdicts`


def load_benchmark(path: str | Path, catalogue: "Catalogue") -> BenchmarkDB:
    """Load, validate and cache the benchmark database.

    Parameters
    ----------
    path
        The CSV or .xlsx export (``Settings.benchmark_path``: the entry point resolves it).
    catalogue
        The catalogue the file must fit (its indicator columns and ranges).

    Returns
    -------
    BenchmarkDB
        The validated database, cached per process while the file and catalogue are unchanged.

    Raises
    ------
    BenchmarkError
        Every problem at once (the first MAX_PROBLEMS, then a count per column), each coded.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise BenchmarkError([Problem(str(path), "file", "the benchmark file does not exist",
                                      expected="a CSV or .xlsx export of the benchmark database "
                                               "(set AUDITLIB_BENCHMARK or pass --benchmark)",
                                      code=ProblemCode.FILE_MISSING)]) from None
    if not path.is_file():
        raise BenchmarkError([Problem(str(path), "file", "not a file", expected="a CSV or .xlsx file",
                                      code=ProblemCode.WRONG_FILE_TYPE)])
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, catalogue.version, _catalogue_key(catalogue))
    if key in _CACHE:
        return _CACHE[key]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BenchmarkError([Problem(str(path), "file", f"the file cannot be read: {exc.strerror or exc}",
                                      expected="a readable file",
                                      code=ProblemCode.FILE_UNREADABLE)]) from None
    raw = _read(path, data)
    sha = hashlib.sha256(data).hexdigest()
    verdict = _verdict_path(sha, catalogue)
    if verdict is not None and _verdict_holds(verdict):
        frame = _frame(raw, _numbers(raw), catalogue)
    else:
        frame = _validate(raw, path, catalogue)
        if verdict is not None:
            _write_verdict(verdict, sha, catalogue)
    db = BenchmarkDB(frame=frame, path=path.resolve(), sha256=sha, version=_version(path, sha))
    _CACHE[key] = db
    return db


def remember_verdicts(folder: Path | None) -> None:
    """Remember in `folder` which benchmark files passed validation (None: remember nothing, the default).

    Why: a cold `auditlib run` spent ~0.4 s of its ~5 s importing pandera and validating the export
    that passed in the run before, and a firm runs every client against the same export. A verdict
    is kept only for a file that passed, under a key of the file's bytes (sha256), the catalogue
    (its files' hashes, ids and fields), this module's source and the pandas, numpy and pandera
    versions: a change to any of them validates again, and a file with problems is validated each
    time (its problems are the message). An unreadable or damaged verdict counts as none; a folder
    that cannot be written leaves every load validating, as without it. Set by the command line
    (`Settings.cache_dir`: AUDITLIB_CACHE, else the user's cache folder).
    """
    _VERDICTS["folder"] = None if folder is None else Path(folder)


def _verdict_path(sha: str, catalogue: "Catalogue") -> Path | None:
    folder = _VERDICTS["folder"]
    if folder is None:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        pandera_version = version("pandera")
    except PackageNotFoundError:
        pandera_version = "?"
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    parts = [sha, repr(_catalogue_key(catalogue)), source, pd.__version__, np.__version__, pandera_version]
    return folder / "benchmark-verdicts" / (hashlib.sha256("\n".join(parts).encode()).hexdigest() + ".json")


def _verdict_holds(verdict: Path) -> bool:
    try:
        record = json.loads(verdict.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("key") == verdict.stem and record.get("verdict") == "valid"


def _write_verdict(verdict: Path, sha: str, catalogue: "Catalogue") -> None:
    """Written whole or not at all, so a half-written verdict never counts."""
    from auditlib.files import atomic_write_text

    record = {"key": verdict.stem, "verdict": "valid", "file_sha256": sha,
              "catalogue": catalogue.name, "catalogue_version": catalogue.version}
    try:
        atomic_write_text(verdict, json.dumps(record))
    except OSError:
        pass                     # nothing remembered: the next load validates again


def _catalogue_key(catalogue: "Catalogue") -> tuple:
    return (catalogue.version, tuple(sorted(catalogue.hashes.items())), tuple(catalogue.ids),
            tuple(catalogue.fields))


def _version(path: Path, sha: str) -> str:
    """`version:` of the `<stem>.meta.yaml` sidecar, if it describes these very bytes."""
    meta = path.with_name(path.stem + ".meta.yaml")
    fallback = "sha256:" + sha[:12]
    if not meta.is_file():
        return fallback
    try:
        info = yamlsafe.load_path(meta)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return fallback
    if not isinstance(info, dict) or not info.get("version"):
        return fallback
    if info.get("sha256") is not None and str(info["sha256"]) != sha:   # a stale sidecar next to a replaced file
        return fallback
    return str(info["version"])


# --- reading ------------------------------------------------------------------------------

def _read(path: Path, data: bytes) -> pd.DataFrame:
    """Every cell as text (text columns stripped), so the schema sees exactly what the file holds.

    The index is the 0-based data row: file line / sheet row = index + 2.
    """
    suffix = path.suffix.lower()
    def fail(msg: str, expected: str, code: ProblemCode = ProblemCode.PARSE_ERROR) -> BenchmarkError:
        return BenchmarkError([Problem(str(path), "file", msg, expected=expected, code=code)])

    if suffix not in EXCEL_SUFFIXES | CSV_SUFFIXES:
        raise fail(f"unsupported file type '{path.suffix}'", "a .csv or .xlsx file", ProblemCode.WRONG_FILE_TYPE)
    try:
        if suffix in EXCEL_SUFFIXES:
            raw = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=str, engine="openpyxl",
                                keep_default_na=False)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)  # extra cells would be dropped
                raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, index_col=False,
                                  skip_blank_lines=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise fail("the file is empty", "a header line and one row per organisation", ProblemCode.FILE_EMPTY) from None
    except UnicodeDecodeError:
        raise fail("the file is not UTF-8 text", "a UTF-8 encoded CSV (or an .xlsx workbook)",
                   ProblemCode.ENCODING) from None
    except pd.errors.ParserWarning:
        raise fail("the file is not valid CSV: some lines have more cells than the header",
                   "the same number of cells on every line as in the header") from None
    except pd.errors.ParserError as exc:
        raise fail(f"the file is not valid CSV: {str(exc).strip()}", "comma-separated values, "
                   "one row per organisation, the same number of cells on every line") from None
    except Exception as exc:  # openpyxl/zipfile raise many types for a damaged workbook
        raise fail(f"the file cannot be read: {type(exc).__name__}: {exc}",
                   "a CSV file or an .xlsx workbook") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if len(set(raw.columns)) < len(raw.columns):
        dup = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
        raise fail(f"duplicate column name(s) {dup}", "each column once", ProblemCode.DUPLICATE_COLUMN)
    for col in TEXT_COLUMNS & set(raw.columns):
        raw[col] = raw[col].str.strip()
    blank = raw.isna() | raw.eq("")
    return raw.loc[~blank.all(axis=1)]


# --- validating ---------------------------------------------------------------------------

# The numeric reading of each column, parsed once per validation (parsing text dominates the time).
_NUMERIC: ContextVar[dict[str, pd.Series] | None] = ContextVar("_NUMERIC", default=None)


def _num(s: pd.Series) -> pd.Series:
    memo = _NUMERIC.get()
    hit = memo.get(s.name) if memo is not None else None
    if hit is None:
        return pd.to_numeric(s, errors="coerce")
    return hit if hit.index.equals(s.index) else hit.reindex(s.index)  # pandera may drop NaN first


def _numbers(raw: pd.DataFrame) -> dict[str, pd.Series]:
    """Parse the number columns; NA tokens become missing, other text stays (stripped) for the report."""
    nums = {}
    for col in raw.columns:
        if col in TEXT_COLUMNS:
            continue
        n = pd.to_numeric(raw[col], errors="coerce")
        odd = n.isna() & raw[col].notna()
        if odd.any():
            text = raw.loc[odd, col].str.strip()
            raw.loc[odd, col] = text.mask(text.isin(NA_TOKENS))
        nums[col] = n
    return nums


def _in_range(n: pd.Series, lo: float, hi: float) -> pd.Series:
    """True where in [lo, hi] or not a number (the number check reports that)."""
    return n.isna() | n.between(lo, hi)


def _is_whole(n: pd.Series) -> pd.Series:
    return n.notna() & (n % 1 == 0)


def _schema(catalogue: "Catalogue"):
    """A pandera schema of the catalogue; every check passes text it does not own (one problem per cell)."""
    key = _catalogue_key(catalogue)
    if key in _SCHEMAS:
        return _SCHEMAS[key]
    import pandera.pandas as pa
    import pycountry

    countries = sorted(c.alpha_2 for c in pycountry.countries)
    y0, y1 = YEAR_RANGE

    def filled(s: pd.Series) -> pd.Series:
        return s.notna() & s.ne("")

    def text(name: str, allowed: list[str] | tuple[str, ...]) -> Any:
        return pa.Column(None, nullable=True, checks=pa.Check(lambda s: s.isin(allowed), name=name, ignore_na=False))

    year_checks = [
        pa.Check(lambda s: _is_whole(_num(s)), name="year_integer", ignore_na=False),
        pa.Check(lambda s: _in_range(_num(s), y0, y1), name="year_range", ignore_na=False),
    ]
    columns = {
        ID_COLUMN: pa.Column(None, nullable=True, checks=[
            pa.Check(filled, name="id_not_empty", ignore_na=False),
            pa.Check(lambda s: ~(s.duplicated(keep="first") & filled(s)), name="id_unique", ignore_na=False),
        ]),
        "country": text("country", countries),
        "field": text("field", list(catalogue.fields)),
        "founding_year": pa.Column(None, nullable=True, checks=year_checks),
        "benchmark_year": pa.Column(None, nullable=True, checks=year_checks),
        "label": text("label", LABELS),
    }
    for ind in catalogue.indicators:
        lo, hi = ind.min, ind.max
        checks = [
            pa.Check(lambda s: _num(s).notna(), name="number"),
            pa.Check(lambda s, lo=lo, hi=hi: _in_range(_num(s), lo, hi), name="in_range"),
        ]
        if ind.is_integer:  # judged only inside the range: one problem per cell
            checks.append(pa.Check(lambda s, lo=lo, hi=hi: ~_in_range(n := _num(s), lo, hi) | _is_whole(n) | n.isna(),
                                   name="integer"))
        columns[ind.id] = pa.Column(None, nullable=True, checks=checks)

    def year_order(df: pd.DataFrame) -> pd.Series:
        if not {"founding_year", "benchmark_year"} <= set(df.columns):
            return pd.Series(True, index=df.index)
        return ~(_num(df["benchmark_year"]) < _num(df["founding_year"]))

    schema = pa.DataFrameSchema(columns, strict=True, checks=pa.Check(year_order, name="year_order"))
    _SCHEMAS[key] = schema
    return schema


# Problems with the file's columns: the file was made for another catalogue version.
_COLUMN_CODES = frozenset({ProblemCode.MISSING_COLUMN, ProblemCode.UNKNOWN_COLUMN, ProblemCode.DUPLICATE_COLUMN})


def _validate(raw: pd.DataFrame, path: Path, catalogue: "Catalogue") -> pd.DataFrame:
    import pandera.pandas as pa

    nums = _numbers(raw)
    token = _NUMERIC.set(nums)
    try:
        _schema(catalogue).validate(raw, lazy=True)
    except pa.errors.SchemaErrors as exc:
        found = _problems(exc.failure_cases, raw, path, catalogue)
        column_level = any(p.code in _COLUMN_CODES for _, p in found)
        total = len(found)
        problems = _truncate(found, path) if total > MAX_PROBLEMS else [p for _, p in found]
        summary = (f"{path} does not fit the catalogue '{catalogue.name}' version {catalogue.version}"
                   if column_level else f"{path} is not a valid benchmark database")
        raise BenchmarkError(problems, summary=f"{summary} ({total} problem(s))") from None
    finally:
        _NUMERIC.reset(token)
    if raw.empty:
        raise BenchmarkError([Problem(str(path), "file", "the file holds no organisations",
                                      expected="one row per benchmarked organisation",
                                      code=ProblemCode.FILE_EMPTY)])
    return _frame(raw, nums, catalogue)


def _problems(fc: pd.DataFrame, raw: pd.DataFrame, path: Path,
              catalogue: "Catalogue") -> list[tuple[str, Problem]]:
    """One Problem per pandera failure case (per row for the cross-column check), each with
    the column it is about (what `_truncate` counts by), file order: columns first, then rows."""
    file = str(path)
    version = f"the file does not fit the catalogue version {catalogue.version}"
    expected_columns = f"{ID_COLUMN}, {', '.join(META_COLUMNS)} and the {len(catalogue.ids)} indicator ids"
    order = {c: n for n, c in enumerate([ID_COLUMN, *META_COLUMNS, *catalogue.ids])}
    problems: list[tuple[tuple, str, Problem]] = []
    seen_rows: set = set()
    for rec in fc.to_dict("records"):
        check, col, value, idx = str(rec["check"]), rec["column"], rec["failure_case"], rec["index"]
        col = None if col is None or col != col else str(col)
        if check == "column_in_schema":
            base = re.sub(r"\.\d+$", "", str(value))
            second = base != value and base in order
            msg = (f"a second column named '{base}'" if second else "unknown column") + f": {version}"
            problems.append(((0, 1, str(value)), str(value), Problem(
                file, f"column '{value}'", msg, expected=f"only the columns {expected_columns}",
                code=ProblemCode.DUPLICATE_COLUMN if second else ProblemCode.UNKNOWN_COLUMN)))
        elif check == "column_in_dataframe":
            is_ind = value in catalogue.by_id
            what = "indicator column" if is_ind else "column"
            problems.append(((0, 0, order.get(value, 0)), str(value), Problem(
                file, f"column '{value}'", f"missing {what}: {version}",
                expected=f"the columns {expected_columns}", code=ProblemCode.MISSING_COLUMN)))
        elif check == "year_order":
            if idx in seen_rows or idx is None:
                continue
            seen_rows.add(idx)
            fy, by = raw.at[idx, "founding_year"], raw.at[idx, "benchmark_year"]
            problems.append(((1, int(idx), order["benchmark_year"]), "benchmark_year", Problem(
                file, f"row {int(idx) + 2}", f"column 'benchmark_year': the benchmark year lies before "
                f"the founding year ({fy})", value=by, expected=f"a year >= founding_year ({fy})",
                                                                                               code=ProblemCode.INCONSISTENT)))
        elif idx is None or idx != idx or col is None:
            problems.append(((0, 2, 0), col or "file", Problem(file, f"column '{col}'" if col else "file",
                                                f"check {check} could not run: {value}",
                                                               code=ProblemCode.CHECK_FAILED)))
        else:
            problems.append(((1, int(idx), order.get(col, 0)), col, _cell_problem(file, int(idx), col, check, value,
                                                                             raw, catalogue)))
    problems.sort(key=lambda p: p[0])
    return [(column, p) for _, column, p in problems]


def _cell_problem(file: str, idx: int, col: str, check: str, value: Any, raw: pd.DataFrame,
                  catalogue: "Catalogue") -> Problem:
    place = f"row {idx + 2}"
    ind = catalogue.by_id.get(col)
    if ind is not None:
        rng = f"{ind.min:g} to {ind.max:g}"
        msg, expected, code = {
            "number": ("not a number", f"a number (decimal point), {rng}, or empty when not answered",
                       ProblemCode.WRONG_TYPE),
            "in_range": ("outside the indicator's range", f"a value from {rng} ({ind.unit.en})",
                         ProblemCode.OUT_OF_RANGE),
            "integer": ("not a whole number", f"a whole number from {rng} ({ind.kind})", ProblemCode.NOT_INTEGER),
        }.get(check, (f"failed check {check}", "", ProblemCode.CHECK_FAILED))
        return Problem(file, place, msg, expected=expected, value=value, indicator=col, code=code)
    prefix = f"column '{col}': "
    if check == "id_not_empty":
        return Problem(file, place, prefix + "the organisation id is empty", expected="an anonymised id, unique",
                       code=ProblemCode.MISSING_VALUE)
    if check == "id_unique":
        first = raw.index[raw[ID_COLUMN].eq(value)][0]
        return Problem(file, place, prefix + "duplicate organisation id", value=value,
                       expected=f"a unique id (already used on row {int(first) + 2})",
                       code=ProblemCode.DUPLICATE)
    if check == "country":
        hint = COUNTRY_HINTS.get(str(value).upper(), str(value).upper() if isinstance(value, str) else "")
        expected = "an ISO 3166-1 alpha-2 country code such as 'DE'"
        if hint and hint != value and len(hint) == 2:
            expected += f" (did you mean '{hint}'?)"
        return Problem(file, place, prefix + "unknown country code", value=_blank(value), expected=expected,
                       code=ProblemCode.UNKNOWN_VALUE)
    if check == "field":
        expected = "a field id of the catalogue: " + ", ".join(catalogue.fields)
        guess = catalogue.field_id(value) if isinstance(value, str) else None
        if guess:
            expected = f"the field id '{guess}' rather than its name"
        return Problem(file, place, prefix + "unknown technology field", value=_blank(value), expected=expected,
                       code=ProblemCode.UNKNOWN_VALUE)
    if check == "label":
        return Problem(file, place, prefix + "unknown label", value=_blank(value),
                       expected="one of " + ", ".join(LABELS), code=ProblemCode.UNKNOWN_VALUE)
    if check == "year_integer":
        return Problem(file, place, prefix + "not a whole year", value=_blank(value), expected="a year such as 2015",
                       code=ProblemCode.NOT_INTEGER)
    if check == "year_range":
        return Problem(file, place, prefix + "implausible year", value=value,
                       expected=f"a year from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}",
                       code=ProblemCode.OUT_OF_RANGE)
    return Problem(file, place, prefix + f"failed check {check}", value=value, code=ProblemCode.CHECK_FAILED)


def _blank(value: Any) -> Any:
    return "(empty)" if value is None or value == "" or value != value else value


def _truncate(problems: list[tuple[str, Problem]], path: Path) -> list[Problem]:
    """The first MAX_PROBLEMS, then one line counting the rest per column."""
    rest = problems[MAX_PROBLEMS:]
    per_column: dict[str, int] = {}
    for column, _ in rest:
        per_column[column] = per_column.get(column, 0) + 1
    top = sorted(per_column.items(), key=lambda kv: -kv[1])
    detail = ", ".join(f"{k}: {v}" for k, v in top[:8]) + (", ..." if len(top) > 8 else "")
    return [*(p for _, p in problems[:MAX_PROBLEMS]),
            Problem(str(path), "file", f"... and {len(rest)} more problem(s) ({detail})",
                    code=ProblemCode.MORE)]


def _frame(raw: pd.DataFrame, nums: dict[str, pd.Series], catalogue: "Catalogue") -> pd.DataFrame:
    """The typed frame: indexed by org_id, indicator values in one read-only float64 block."""
    ids = catalogue.ids
    block = np.vstack([nums[i].to_numpy(dtype="float64", na_value=np.nan) for i in ids])
    block.flags.writeable = False
    values = block.T  # each indicator column contiguous in memory
    index = pd.Index(raw[ID_COLUMN].to_numpy(), dtype="str", name=ID_COLUMN)
    frame = pd.DataFrame(values, index=index, columns=ids, copy=False)
    for pos, col in enumerate(META_COLUMNS):
        if col.endswith("_year"):
            column = nums[col].to_numpy().astype("int64")
        else:
            column = pd.array(raw[col].to_numpy(), dtype="str")
        frame.insert(pos, col, column)
    return frame

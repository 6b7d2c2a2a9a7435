"""Machine-readable outputs of an engagement: the Excel workbook and the manifest helpers.

`write_excel` writes scores.xlsx (XlsxWriter, cell by cell) from the same AuditResult
(and interpretation) the report shows: the sheets hold the result's own tables
(`AuditResult.to_frames()`), with the indicator and dimension names in the report's language
added beside the ids, nothing recomputed. Sheets:

    about        the engagement: client, versions, peer groups' n
    positions    group x indicator: value, peer statistics, percentile, band, status
    dimensions   group x dimension: score, peer median, coverage
    labels       label readiness summary (bronze, silver, gold)
    criteria     every label criterion: pass/fail, value, threshold, distance
    handles      the improvement handles, in priority order (from the interpretation)
    peer_groups  the groups compared with: n, statistics shown, fallback
    strengths, weaknesses   in the primary group
    evolution    change against the earlier audit (only when there is one)
    silver_form  the agreed Silver improvement areas: quality indicator, baseline, target, actions,
                 the auditor's notes and, at a second benchmark, current value and effect (the form
                 handed in with the Silver application; only when areas are agreed)
    journey      the label journey as of the interview month: benchmarks, labels, expiries

Files are written to a temporary name and renamed, so a failure never leaves half a file.

Raw and shown figures: the sheets keep raw values (a percentile of 96.875 stays 96.875). Where a
person reads a rounded figure, a `*_shown` column holds it, made by auditlib.present with the
report's one rule (percentile_shown 96, band of the shown number; score_shown, peer_median_shown;
total_score_shown), so the workbook and the report never state different numbers.

Cells: what pandas' to_excel wrote (numbers, booleans, text; missing values as empty cells,
infinity as the text "inf"), every string a text cell (never a formula, link, number or error:
xlsxsafe), the header row frozen, no styles; numbers to 16 significant digits, as openpyxl wrote
them (3.0949999999999998 reads back as 3.095). XlsxWriter, not openpyxl through
pandas.ExcelWriter: the workbook cost ~0.25 s of CPU per report with openpyxl (its pure-Python
XML writer and pandas' per-cell formatter), ~0.08 s with XlsxWriter, for the same cells.

Byte-identical output: the workbook is built in memory (XlsxWriter then dates every zip entry
1980-01-01) with fixed created/modified properties, so the same inputs give the same
scores.xlsx, byte for byte.
"""

from __future__ import annotations

import datetime
import io
import json
import math
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from auditlib.files import atomic_write, atomic_write_text
from auditlib.xlsxsafe import clean_text

KEY_PACKAGES = ("pandas", "numpy", "matplotlib", "seaborn", "papermill", "nbconvert", "nbclient", "nbformat",
                "ipykernel", "weasyprint", "openpyxl", "xlsxwriter", "jinja2", "pyyaml", "pydantic", "pandera")
SHEET_ORDER = ("about", "positions", "dimensions", "labels", "criteria", "handles", "peer_groups",
               "strengths", "weaknesses", "evolution", "silver_form", "journey")


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that shape a report (missing ones: 'not installed').

    Read once per process: each lookup parses the package's METADATA file (16 packages: ~0.02-0.03 s
    of CPU per report in the batch, whose warm parent reads them before it forks), and a running
    process keeps the modules it imported anyway."""
    return dict(_package_versions(tuple(names)))


@lru_cache(maxsize=8)
def _package_versions(names: tuple[str, ...]) -> dict[str, str]:
    import sys

    out = {"python": sys.version.split()[0]}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def json_text(data: Mapping[str, Any]) -> str:
    """The text `write_json` writes: sorted keys, indented, non-ASCII kept."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def write_json(path: str | Path, data: Mapping[str, Any]) -> Path:
    """JSON, sorted keys, UTF-8, written atomically."""
    return atomic_write_text(path, json_text(data))


def _with_names(frame: pd.DataFrame, catalogue, lang: str) -> pd.DataFrame:
    """Add indicator_name / dimension_name (report language) right after their id columns."""
    frame = frame.copy()
    if "indicator" in frame.columns:
        names = {i.id: i.name[lang] for i in catalogue.indicators}
        frame.insert(frame.columns.get_loc("indicator") + 1, "indicator_name",
                     frame["indicator"].map(lambda i: names.get(i, "") if isinstance(i, str) else ""))
    if "dimension" in frame.columns:
        dims = {d.id: d.name[lang] for d in catalogue.dimensions}
        frame.insert(frame.columns.get_loc("dimension") + 1, "dimension_name",
                     frame["dimension"].map(lambda d: dims.get(d, "") if isinstance(d, str) else ""))
    return frame


def _about(result, lang: str) -> pd.DataFrame:
    from auditlib import __version__

    c = result.client
    rows = [("client_id", c.client_id), ("name", c.name), ("country", c.country), ("field", c.field),
            ("founding_year", c.founding_year), ("benchmark_year", c.benchmark_year), ("language", lang),
            ("primary_group", result.primary_group), ("anonymity_floor", result.anonymity_floor),
            ("catalogue", f"{result.catalogue.name} {result.catalogue.version}"),
            ("benchmark_version", result.benchmark_version), ("benchmark_sha256", result.benchmark_sha256),
            ("earlier_audit", result.evolution.earlier_year if result.evolution is not None else ""),
            ("auditlib", __version__)]
    rows += [(f"n_{g.requested}", g.public_n) for g in result.peer_groups]
    return pd.DataFrame(rows, columns=["key", "value"]).astype({"value": str})


FIXED_CREATED = datetime.datetime(2000, 1, 1)    # the workbook's created/modified (reproducible files)
# XlsxWriter: no client text becomes a formula, link or number (`_write_sheet` calls write_string,
# text whatever these say; they hold should a cell ever go through write()); built in memory: no
# temporary files, and every zip entry dated 1980-01-01.
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                "in_memory": True}


def _shown(frame: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    """Insert `name` after `column`: the whole number a reader is shown (present.shown_percentile)."""
    from auditlib.present import shown_percentile

    if column not in frame.columns:
        return frame
    frame = frame.copy()
    frame.insert(frame.columns.get_loc(column) + 1, name,
                 pd.array([shown_percentile(x) for x in frame[column]], dtype="Int64"))
    return frame


def _with_shown(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    if name in ("positions", "strengths", "weaknesses", "handles"):
        frame = _shown(frame, "percentile", "percentile_shown")
    elif name == "dimensions":
        frame = _shown(_shown(frame, "score", "score_shown"), "peer_median", "peer_median_shown")
    elif name == "labels":
        frame = _shown(frame, "total_score", "total_score_shown")
    elif name == "evolution":
        frame = _shown(_shown(frame, "percentile_then", "percentile_then_shown"),
                       "percentile_now", "percentile_now_shown")
    return frame


def excel_frames(result, interpretation=None, lang: str = "en") -> dict[str, pd.DataFrame]:
    """The workbook's sheets by name, in order (see the module docstring)."""
    frames = result.to_frames()
    cat = result.catalogue
    sheets: dict[str, pd.DataFrame] = {"about": _about(result, lang)}
    handles = getattr(interpretation, "handles", None)
    for name in SHEET_ORDER[1:]:
        if name == "handles":
            if handles is not None:
                sheets["handles"] = _with_shown(name, _with_names(pd.DataFrame(handles), cat, lang))
            continue
        if name in frames:
            sheets[name] = _with_shown(name, _with_names(frames[name], cat, lang))
    sheets.update(journey_frames(result, lang))
    return sheets


def journey_frames(result, lang: str) -> dict[str, pd.DataFrame]:
    """The silver_form and journey sheets: raw values, and `*_shown` as the report states them."""
    from auditlib import present
    from auditlib.journey import improvement_form

    out: dict[str, pd.DataFrame] = {}
    cat = result.catalogue
    rows = []
    for a in improvement_form(result, lang):
        ind = cat.indicator(a.indicator)
        rows.append({"area": a.indicator, "area_name": ind.name[lang], "criterion": a.criterion,
                     "baseline_year": a.baseline_year, "baseline": a.baseline,
                     "baseline_shown": present.value(ind, a.baseline, lang), "target": a.target,
                     "target_shown": present.value(ind, a.target, lang), "current_year": a.current_year,
                     "current": a.current, "current_shown": present.value(ind, a.current, lang),
                     "change": a.change, "effect": a.effect, "target_reached": a.reached,
                     "actions": " / ".join(a.actions), "auditor_notes": " ".join(a.notes)})
    if rows:
        out["silver_form"] = pd.DataFrame(rows)
    j = result.journey
    if j is not None and j.timeline:
        out["journey"] = pd.DataFrame([{"month": str(e.month), "event": e.kind, "label": e.label or "",
                                        "valid_until": str(e.until) if e.until else ""} for e in j.timeline])
    return out


def _cell_value(value: Any) -> Any:
    """What a cell holds, as pandas' to_excel decided it: missing -> None (no cell), numpy scalars
    -> Python numbers, anything else not a number -> its text. Dates have no number format here."""
    from pandas.api.types import is_bool, is_float, is_integer, is_scalar

    if value is None or (is_scalar(value) and pd.isna(value)):
        return None
    if is_bool(value):
        return bool(value)
    if is_integer(value):
        return int(value)
    if is_float(value):
        return float(value)
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        raise TypeError(f"scores.xlsx holds no dates ({value!r}): give the column a number format first")
    return str(value)


CELL_TEXT_LIMIT = 32_767           # characters an Excel cell holds


def _write_text(ws, row: int, col: int, text: str, column: str) -> None:
    """A text cell, whole or not at all: XlsxWriter would cut a longer text at the cell's limit
    and only say so in its return code (a silent misread of the client's text in the workbook)."""
    if len(text) > CELL_TEXT_LIMIT:
        raise ValueError(f"scores.xlsx, sheet {ws.name!r}, column {column!r}, row {row + 1}: a text of "
                         f"{len(text):,} characters; an Excel cell holds at most {CELL_TEXT_LIMIT:,}")
    ws.write_string(row, col, text)


def _write_sheet(ws, frame: pd.DataFrame) -> None:
    """One frame as a sheet: header row (frozen), one column at a time, text always text."""
    ws.freeze_panes(1, 0)
    for c, name in enumerate(frame.columns):
        header = clean_text(str(name))
        _write_text(ws, 0, c, header, header)
        values = [clean_text(v) if isinstance(v, str) else v for v in frame[name].tolist()]
        for r, value in enumerate(values, start=1):
            if type(value) not in (str, float, int, bool):
                value = _cell_value(value)          # NA, numpy scalars, anything unusual
            if isinstance(value, str):
                if value:                            # "" is an empty cell, as pandas wrote it
                    _write_text(ws, r, c, value, header)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, float) and not math.isfinite(value):
                if value == value:                   # infinity: the text pandas wrote; NaN: empty
                    ws.write_string(r, c, "inf" if value > 0 else "-inf")
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value)
        # Readable widths: the longest of the header and the first 60 values, + 2, at most 60
        # characters; stored as that many characters (7 pixels each in the default font).
        width = min(max(len(s) for s in [header] + [str(v) for v in values[:60]]) + 2, 60)
        ws.set_column_pixels(c, c, width * 7)


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """The workbook of `sheets` (name -> frame, in order) as bytes, the same for the same frames.

    XlsxWriter with every string written as text (no formula, link or number made of client
    text), built in memory (zip entries dated 1980-01-01 by XlsxWriter) with fixed created and
    modified properties, so no time of writing enters the file."""
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, XLSX_OPTIONS)
    book.set_properties({"created": FIXED_CREATED})
    for name, frame in sheets.items():
        _write_sheet(book.add_worksheet(name), frame)
    book.close()
    return buf.getvalue()


def write_excel(result, path: str | Path, *, interpretation=None, lang: str = "en") -> Path:
    """Write scores.xlsx: the result's tables, one sheet each, header frozen, readable widths."""
    data = xlsx_bytes(excel_frames(result, interpretation, lang))   # in memory: an error leaves no file
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))

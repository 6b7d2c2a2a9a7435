"""The Excel workbook holds the result's own figures; JSON and versions for the manifest."""

from __future__ import annotations

import datetime
import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from auditlib.audit import analyse
from auditlib.export import SHEET_ORDER, excel_frames, package_versions, write_excel, write_json
from auditlib.testing import make_profile


@pytest.fixture(scope="module")
def result(catalogue, synthetic_db):
    return analyse(make_profile(catalogue, committed_members=90, sme_share=55, total_budget=400),
                   catalogue=catalogue, benchmark=synthetic_db)


def same_values(back: pd.Series, orig: pd.Series) -> bool:
    """Equal cell by cell, with missing (None/NaN/empty) equal to missing, numbers to 1e-9."""
    for a, b in zip(back.tolist(), orig.tolist()):
        a_missing = a is None or (isinstance(a, float) and math.isnan(a)) or a == ""
        b_missing = b is None or (isinstance(b, float) and math.isnan(b)) or b == ""
        if a_missing or b_missing:
            if a_missing != b_missing:
                return False
            continue
        if isinstance(b, (bool, np.bool_)):
            if bool(a) != bool(b):
                return False
        elif isinstance(b, (int, float, np.integer, np.floating)):
            if not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9):
                return False
        elif str(a) != str(b):
            return False
    return True


def assert_sheets_hold(path, frames):
    book = pd.read_excel(path, sheet_name=None)
    for name, frame in frames.items():
        back = book[name]
        assert len(back) == len(frame), name
        for col in frame.columns:
            assert col in back.columns, (name, col)
            assert same_values(back[col], frame[col]), (name, col)
    return book


def test_the_sheets_hold_the_same_figures_as_the_result(result, tmp_path):
    path = write_excel(result, tmp_path / "scores.xlsx", lang="nl")
    book = assert_sheets_hold(path, result.to_frames())
    assert list(book)[:3] == ["about", "positions", "dimensions"]
    assert [s for s in book if s not in SHEET_ORDER] == []
    assert "evolution" not in book                              # no earlier audit, no sheet
    names = book["positions"]["indicator_name"]
    assert "Betrokken deelnemers" in set(names)                 # names in the report language


def test_handles_sheet_from_the_interpretation(result, tmp_path):
    class Interp:
        handles = pd.DataFrame({"priority": [1, 2], "indicator": ["sme_share", "total_budget"],
                                "target": [60.0, 500.0], "action": ["recruit SMEs", "raise fees"]})

    path = write_excel(result, tmp_path / "scores.xlsx", interpretation=Interp(), lang="en")
    back = pd.read_excel(path, sheet_name="handles")
    assert list(back["indicator"]) == ["sme_share", "total_budget"]
    assert list(back["indicator_name"]) == ["Share of SMEs among members", "Annual budget of the cluster management"]
    assert "handles" in excel_frames(result, Interp())


def test_a_failed_write_leaves_no_file(result, tmp_path, monkeypatch):
    target = tmp_path / "scores.xlsx"

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    import xlsxwriter

    monkeypatch.setattr(xlsxwriter.Workbook, "close", boom)
    with pytest.raises(RuntimeError):
        write_excel(result, target)
    assert list(tmp_path.iterdir()) == []


def test_json_is_sorted_and_utf8(tmp_path):
    path = write_json(tmp_path / "m.json", {"b": 1, "a": "Norðurljós"})
    text = path.read_text(encoding="utf-8")
    assert text.index('"a"') < text.index('"b"') and "Norðurljós" in text
    assert json.loads(text) == {"a": "Norðurljós", "b": 1}


def test_package_versions_name_the_key_packages():
    versions = package_versions()
    for name in ("python", "pandas", "numpy", "matplotlib", "papermill", "nbconvert", "weasyprint", "openpyxl",
                 "jinja2"):
        assert versions[name] and versions[name] != "not installed"


def test_the_workbook_is_byte_identical_for_the_same_inputs(result, tmp_path):
    """No time of writing in the file: not in docProps/core.xml, not in the zip entries."""
    import time
    import zipfile

    first = write_excel(result, tmp_path / "a.xlsx", lang="en").read_bytes()
    time.sleep(1.1)
    second = write_excel(result, tmp_path / "b.xlsx", lang="en").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert core.count("2000-01-01T00:00:00Z") == 2
    import openpyxl                                               # still a valid workbook
    assert openpyxl.load_workbook(tmp_path / "a.xlsx").sheetnames[0] == "about"


def _mixed_frame() -> pd.DataFrame:
    """Every kind of value the sheets hold, missing ones included, in the dtypes they come in."""
    return pd.DataFrame({
        "text": pd.array(["a", None, "", "Norðurljós", "x"], dtype="str"),
        "float": [1.5, float("nan"), 3.0949999999999998, float("inf"), -float("inf")],
        "int": np.array([1, 2, 3, 2026, -7], dtype="int64"),
        "shown": pd.array([96, None, 0, 100, 1], dtype="Int64"),
        "flag": [True, False, True, False, True],
        "mixed": pd.Series([np.float64(2.5), np.int64(4), np.bool_(True), None, pd.NA], dtype=object),
        "tiny_and_big": [1e-05, 123456789.125, 0.1 + 0.2, -0.0, 1e300],
    })


def test_cells_are_what_pandas_to_excel_wrote(tmp_path):
    """Value and type of every cell as pandas.to_excel (openpyxl) wrote them before XlsxWriter."""
    import io

    import openpyxl

    from auditlib.export import xlsx_bytes

    frame = _mixed_frame()
    with pd.ExcelWriter(tmp_path / "pandas.xlsx", engine="openpyxl") as xw:
        frame.to_excel(xw, sheet_name="s", index=False)
    want = openpyxl.load_workbook(tmp_path / "pandas.xlsx")["s"]
    got = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"s": frame})))["s"]
    cells = [(c.coordinate, c.value, type(c.value), c.data_type if c.value is not None else None,
              c.number_format) for row in want.iter_rows() for c in row]
    assert [(c.coordinate, c.value, type(c.value), c.data_type if c.value is not None else None, c.number_format)
            for row in got.iter_rows(max_row=want.max_row, max_col=want.max_column) for c in row] == cells
    assert got["C5"].value == 2026 and got["D3"].value is None and got["B5"].value == "inf"


def test_header_frozen_and_columns_as_wide_as_their_text():
    import io

    import openpyxl

    from auditlib.export import xlsx_bytes

    frame = pd.DataFrame({"id": ["a", "bbbbbbbbbbbb"], "n": [1, 22], "long": ["x" * 80, "y"]})
    ws = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"s": frame})))["s"]
    assert ws.freeze_panes == "A2"
    widths = {i: d.width for d in ws.column_dimensions.values() for i in range(d.min, d.max + 1)}
    assert widths == {1: 14, 2: 4, 3: 60}                            # longest text + 2, at most 60


def test_a_date_is_refused_not_written_as_a_number():
    from auditlib.export import xlsx_bytes

    with pytest.raises(TypeError, match="no dates"):
        xlsx_bytes({"s": pd.DataFrame({"d": pd.Series([datetime.date(2026, 1, 1)], dtype=object)})})


def test_a_text_longer_than_a_cell_holds_is_refused_with_its_place_never_cut():
    import openpyxl

    from auditlib.export import CELL_TEXT_LIMIT, xlsx_bytes

    fits = "x" * CELL_TEXT_LIMIT
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"notes": pd.DataFrame({"note": ["a", fits]})})))
    assert book["notes"]["A3"].value == fits                          # up to the limit: whole
    with pytest.raises(ValueError, match=r"sheet 'notes', column 'note', row 3: a text of 32,768 characters"):
        xlsx_bytes({"notes": pd.DataFrame({"note": ["a", fits + "y"]})})


def test_shown_columns_hold_the_report_numbers(result, tmp_path):
    from auditlib.present import shown_percentile

    book = pd.read_excel(write_excel(result, tmp_path / "s.xlsx", lang="en"), sheet_name=None)
    pos = book["positions"]
    for raw, shown in zip(pos["percentile"], pos["percentile_shown"]):
        assert (shown != shown and raw != raw) or shown == shown_percentile(raw)
    dims = book["dimensions"]
    assert {"score_shown", "peer_median_shown"} <= set(dims.columns)
    below = pos[pos["status"].isin(["too_few_answers", "group_below_floor", "context"])]
    assert below["n"].isna().all() and below["n_missing"].isna().all()   # no n below the floor

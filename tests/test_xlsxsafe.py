"""Text is text in scores.xlsx: no client string becomes a formula, none breaks the file."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from auditlib.export import write_excel
from auditlib.xlsxsafe import clean_text, safe_frame
from auditlib.testing import TEST_DATA


@pytest.fixture(scope="module")
def formula_result():
    from auditlib.audit import analyse

    return analyse(TEST_DATA / "folders" / "formula_name")


def _cells(path):
    wb = openpyxl.load_workbook(path)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def test_a_formula_in_a_name_is_written_as_text(formula_result, tmp_path):
    path = write_excel(formula_result, tmp_path / "scores.xlsx")
    named = [c for c in _cells(path) if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert named, "the name is in the workbook"
    assert all(c.data_type == "s" for c in named)           # today: 'f', a live formula
    assert not [c for c in _cells(path) if c.data_type == "f"]


def test_a_custom_group_name_with_control_characters_is_written_not_refused(tmp_path):
    from auditlib.audit import analyse

    result = analyse(TEST_DATA / "folders" / "link_name", groups=["all", "x\x01y\x1b=country:NL"])
    path = write_excel(result, tmp_path / "scores.xlsx")    # today: IllegalCharacterError, no field named
    texts = [c.value for c in _cells(path) if isinstance(c.value, str)]
    assert any("x\\x01" in t for t in texts)


def test_error_codes_and_formulas_in_any_frame_stay_text(tmp_path):
    frame = pd.DataFrame({"a": ["=1+1", "#N/A", "@SUM(A1)", "+31 6", "plain"], "b\x02": [1, 2, 3, 4, 5]})
    safe = safe_frame(frame)
    assert list(safe.columns) == ["a", "b\\x02"]
    with pd.ExcelWriter(tmp_path / "t.xlsx", engine="openpyxl") as xw:
        safe.to_excel(xw, index=False)
        from auditlib.xlsxsafe import text_cells

        assert text_cells(xw.sheets["Sheet1"]) == 2
    values = {c.value: c.data_type for c in _cells(tmp_path / "t.xlsx") if isinstance(c.value, str)}
    assert values["=1+1"] == "s" and values["#N/A"] == "s"


def test_clean_text_keeps_line_breaks_and_escapes_the_rest():
    assert clean_text("a\tb\nc\x00d\ud83ce") == "a\tb\nc\\x00d\\ud83ce"

"""Text is text in scores.xlsx: no client string becomes a formula, none breaks the file."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from auditlib.export import write_excel, xlsx_bytes
from auditlib.xlsxsafe import clean_text
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
    assert all(c.data_type == "s" for c in named)           # openpyxl made it 'f', a live formula
    assert not [c for c in _cells(path) if c.data_type == "f"]


def test_a_custom_group_name_with_control_characters_is_written_not_refused(tmp_path):
    from auditlib.audit import analyse

    result = analyse(TEST_DATA / "folders" / "link_name", groups=["all", "x\x01y\x1b=country:NL"])
    path = write_excel(result, tmp_path / "scores.xlsx")    # openpyxl: IllegalCharacterError, no field named
    texts = [c.value for c in _cells(path) if isinstance(c.value, str)]
    assert any("x\\x01" in t for t in texts)


LOOKALIKES = ["=1+1", "=HYPERLINK(\"http://x.example\",\"click\")", "{=SUM(A1:A2)}", "#N/A", "#DIV/0!",
              "@SUM(A1)", "+31 6", "-1", "12", "0012", "1e5", "nan", "inf", "TRUE", "2026-01-01",
              "http://x.example", "https://x.example/a?b=1", "mailto:a@b.example", "external:c:\\x",
              "internal:Sheet1!A1", "file:///c:/x.xlsx", "_x0041_", " lead", "trail ", "a\nb", "plain"]


def test_text_that_looks_like_a_formula_link_number_or_error_stays_that_text():
    frame = pd.DataFrame({"a": LOOKALIKES, "=b\x02": range(len(LOOKALIKES))})
    data = xlsx_bytes({"s": frame})
    ws = openpyxl.load_workbook(io.BytesIO(data))["s"]
    assert [c.value for c in ws[1]] == ["a", "=b\\x02"]               # header: text, escape visible
    cells = ws["A"][1:]
    assert [(c.value, c.data_type) for c in cells] == [(t, "s") for t in LOOKALIKES]
    assert not [c for c in cells if c.hyperlink is not None]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<hyperlinks>" not in sheet and ' t="e"' not in sheet
    assert not [n for n in names if "rels" in n and "sheet" in n]       # no link targets at all


def test_control_characters_in_any_frame_are_written_visibly():
    frame = pd.DataFrame({"a": ["x\x01y", "\x1b[31mred", "ok\ufffe"]})
    ws = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"s": frame})))["s"]
    assert [c.value for c in ws["A"][1:]] == ["x\\x01y", "\\x1b[31mred", "ok\\ufffe"]


def test_clean_text_keeps_line_breaks_and_escapes_the_rest():
    assert clean_text("a\tb\nc\x00d\ud83ce") == "a\tb\nc\\x00d\\ud83ce"

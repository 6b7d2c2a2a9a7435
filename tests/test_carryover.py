"""The client's commentary.yaml (auditlib.carryover): written atomically per language, read back validated."""

from __future__ import annotations

import pytest

from auditlib import carryover
from auditlib.errors import ProblemCode

H = "a" * 64


def test_write_then_read_round_trip_keeps_the_other_language(tmp_path):
    en = carryover.LanguageEdits([carryover.Edit("dimension:financing", "edited", H, "### Financing\n\n- New text.\n"),
                                  carryover.Edit("silver_areas", "deleted", "b" * 64),
                                  carryover.Edit("labels", "added", "c" * 64, "An added passage.")],
                                 ["0123456789ab"])
    carryover.write(tmp_path, "en", en)
    carryover.write(tmp_path, "nl", carryover.LanguageEdits([carryover.Edit("overall", "edited", H, "Tekst.")]))
    text = (tmp_path / carryover.FILE_NAME).read_text()
    assert text.startswith("# The auditor's edits") and "text: |" in text     # passages as YAML blocks
    back = carryover.read(tmp_path)
    assert back["en"].edits[0] == carryover.Edit("dimension:financing", "edited", H, "### Financing\n\n- New text.\n")
    assert back["en"].edits[1].change == "deleted" and back["en"].edits[1].text == ""
    assert back["en"].accept == ["0123456789ab"]
    assert back["nl"].edits[0].text == "Tekst.\n"
    assert not list(tmp_path.glob(".*.tmp"))                                   # written atomically, nothing left


def test_no_file_means_no_edits(tmp_path):
    assert carryover.read(tmp_path) == {}


@pytest.mark.parametrize("text, place, code", [
    ("en: [1, 2]\n", "en", ProblemCode.STRUCTURE),
    ("fr:\n  edits: []\n", "fr", ProblemCode.UNKNOWN_KEY),
    (f"en:\n  edits:\n    - anchor: overall\n      change: edited\n      generated: {H}\n", "en.edits[1].text",
     ProblemCode.MISSING_VALUE),
    (f"en:\n  edits:\n    - anchor: Overall Picture\n      change: deleted\n      generated: {H}\n",
     "en.edits[1].anchor", ProblemCode.WRONG_TYPE),
    ("en:\n  accept: [nope]\n", "en.accept[1]", ProblemCode.WRONG_TYPE),
    ("en: {edits: [}\n", "", ProblemCode.PARSE_ERROR),
])
def test_a_malformed_file_is_refused_with_place_and_code(tmp_path, text, place, code):
    (tmp_path / carryover.FILE_NAME).write_text(text)
    with pytest.raises(carryover.CommentaryError) as info:
        carryover.read(tmp_path)
    assert code in info.value.codes
    assert place in str(info.value) and carryover.FILE_NAME in str(info.value)

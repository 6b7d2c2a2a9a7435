"""The auditor's notes: reading, checking anchors, saving, and merging into the interpretation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from auditlib.audit import analyse
from auditlib.errors import NotesError
from auditlib.intake import ClientFolder
from auditlib.interpret import interpret
from auditlib.notes import AuditorNotes, Note, load_notes, save_notes

from auditlib.testing import make_profile

NOTES = {
    "improvement_areas": ["service_usage", "private_funding_share", "active_member_share"],
    "notes": [
        {"anchor": "overall", "text": "The board changed in 2025."},
        {"anchor": "dimension: services", "text": "Two new services started."},
        {"anchor": "indicator:sme_share", "text": "SME share is structurally low in this field."},
    ],
}


def write(tmp_path: Path, data, name="notes.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_load_yaml_notes(catalogue, tmp_path):
    notes = load_notes(write(tmp_path, NOTES), catalogue)
    assert [n.anchor for n in notes.notes] == ["overall", "dimension:services", "indicator:sme_share"]
    assert notes.improvement_areas == ("service_usage", "private_funding_share", "active_member_share")
    assert notes.for_anchor("dimension:services")[0].text == "Two new services started."


def test_load_markdown_notes(catalogue, tmp_path):
    text = ("## overall\nA good year.\n\n## dimension: services\nNew offer.\n\n"
            "## indicator: sme_share\nLow **by design**.\n\n## improvement areas\n- service_usage\n- sme_share\n")
    notes = load_notes(write(tmp_path, text, "notes.md"), catalogue)
    assert [(n.anchor, n.text) for n in notes.notes] == [
        ("overall", "A good year."), ("dimension:services", "New offer."), ("indicator:sme_share",
                                                                            "Low **by design**.")]
    assert notes.improvement_areas == ("service_usage", "sme_share")


def test_no_notes_file_means_no_notes(catalogue):
    assert load_notes(None, catalogue) == AuditorNotes()


@pytest.mark.parametrize("anchor, message", [
    ("dimension:nonsense", "unknown dimension in anchor"),
    ("indicator:not_an_indicator", "unknown indicator in anchor"),
    ("chapter:3", "unknown anchor"),
])
def test_bad_anchor_names_file_and_key(catalogue, tmp_path, anchor, message):
    data = {"notes": [{"anchor": "overall", "text": "fine"}, {"anchor": anchor, "text": "x"}]}
    path = write(tmp_path, data)
    with pytest.raises(NotesError) as exc:
        load_notes(path, catalogue)
    text = str(exc.value)
    assert str(path) in text and "key notes.1" in text and message in text and anchor in text
    problem = exc.value.problems[0]
    assert problem.file == str(path) and problem.place == "key notes.1"


def test_bad_markdown_heading_names_file(catalogue, tmp_path):
    path = write(tmp_path, "## dimension: nope\ntext\n", "notes.md")
    with pytest.raises(NotesError) as exc:
        load_notes(path, catalogue)
    assert str(path) in str(exc.value) and "dimension:nope" in str(exc.value)


def test_every_problem_reported_together(catalogue, tmp_path):
    data = {"colour": "blue", "improvement_areas": ["nope"],
            "notes": [{"anchor": "dimension:x", "text": "a"}, {"text": "no anchor"}]}
    with pytest.raises(NotesError) as exc:
        load_notes(write(tmp_path, data), catalogue)
    places = [p.place for p in exc.value.problems]
    assert places == ["key colour", "key notes.0", "key notes.1", "key improvement_areas.0"]


def test_unreadable_notes_file(catalogue, tmp_path):
    with pytest.raises(NotesError) as exc:
        load_notes(write(tmp_path, "notes: [unclosed"), catalogue)
    assert "cannot be read" in str(exc.value)


def test_save_and_load_round_trip(catalogue, tmp_path):
    notes = AuditorNotes((Note("overall", "Line one.\nLine two."), Note("indicator:sme_share", "Ünïcode & <tags>")),
                         ("service_usage",))
    path = save_notes(notes, tmp_path / "notes.yaml")
    again = load_notes(path, catalogue)
    assert again.notes == notes.notes and again.improvement_areas == notes.improvement_areas
    assert not list(tmp_path.glob(".notes.yaml.*"))         # no temporary file left behind


def test_notes_from_the_client_folder_merge_into_the_interpretation(catalogue, synthetic_db, tmp_path):
    path = write(tmp_path, NOTES)
    profile = make_profile(catalogue, sme_share=10)
    folder = ClientFolder("test-client", tmp_path, profile, (), path)
    result = analyse(folder, catalogue=catalogue, benchmark=synthetic_db)
    assert result.notes.improvement_areas == tuple(NOTES["improvement_areas"])
    for lang, marker in (("en", "Auditor's note:"), ("nl", "Notitie van de auditor:")):
        interp = interpret(result, lang)
        placed = {st.anchor: s.anchor for s in interp.sections for st in s.statements if st.source == "auditor"}
        assert placed == {"overall": "overall", "dimension:services": "dimension:services",
                          "indicator:sme_share": "dimension:structure"}
        md = interp.to_markdown()
        assert f"- **{marker}** The board changed in 2025." in md
        assert f"- **{marker}** SME share is structurally low in this field." in md
        # the documented improvement areas are named in the overall section
        areas = next(st for st in interp.section("overall").statements if st.kind == "silver_areas")
        name = catalogue.indicator("private_funding_share").name[lang]
        assert name in areas.text
        # notes are never mistaken for generated text
        assert all(st.source == "generated" for st in interp.statements() if not st.marker)


def test_multiline_note_stays_one_list_item(catalogue, synthetic_db):
    notes = AuditorNotes((Note("overall", "First line.\nSecond line."),), ())
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db, notes=notes)
    md = interpret(result).to_markdown()
    assert "- **Auditor's note:** First line.\n  Second line." in md


def test_saved_notes_are_readable_by_the_team_and_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    import os
    import stat

    import auditlib.files
    from auditlib.notes import AuditorNotes, Note, save_notes

    path = tmp_path / "notes.yaml"
    save_notes(AuditorNotes((Note("overall", "first"),), ()), path)
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask       # not the private mode of a temp file
    good = path.read_text()

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(auditlib.files.Path, "write_text", broken)
    with pytest.raises(OSError, match="disk full"):
        save_notes(AuditorNotes((Note("overall", "second"),), ()), path)
    assert path.read_text() == good and [p.name for p in tmp_path.iterdir()] == ["notes.yaml"]


def test_save_notes_replaces_the_file_never_writes_it_in_place(tmp_path, monkeypatch, catalogue):
    """Fault injection on the notes file itself: a write that opens notes.yaml truncates it and
    fails. save_notes writes a temporary file and renames it, so it never opens the target and
    the file holds the old or the new notes, never half of them."""
    from auditlib.testing import truncate_then_fail

    path = tmp_path / "notes.yaml"
    save_notes(AuditorNotes((Note("overall", "first"),), ()), path)
    hits = truncate_then_fail(monkeypatch, path)
    save_notes(AuditorNotes((Note("overall", "second"),), ("sme_share",)), path)
    monkeypatch.undo()
    assert hits == [], "save_notes opened notes.yaml for writing: a crash there leaves half a file"
    saved = load_notes(path, catalogue)
    assert [n.text for n in saved.notes] == ["second"] and saved.improvement_areas == ("sme_share",)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.yaml"]      # no temporary file left behind


def test_each_problem_carries_its_code_value_and_expectation(catalogue, tmp_path):
    """What a program reads from each refusal: the code, the offending value, the indicator and what
    was expected (the list of dimensions for an unknown one)."""
    from auditlib.errors import ProblemCode
    data = {"colour": "blue", "improvement_areas": ["service_usage", "nope"],
            "notes": [{"anchor": "dimension:x", "text": "a"}, {"anchor": "indicator:nope_id", "text": "b"},
                      {"anchor": "chapter 3", "text": "c"}, "just text"]}
    with pytest.raises(NotesError) as exc:
        load_notes(write(tmp_path, data), catalogue)
    dims = ", ".join(d.id for d in catalogue.dimensions)
    got = [(p.place, p.code, p.value, p.indicator, p.expected) for p in exc.value.problems]
    assert got == [
        ("key colour", ProblemCode.UNKNOWN_KEY, None, None, "'notes', 'improvement_areas' or 'language'"),
        ("key notes.0", ProblemCode.UNKNOWN_ID, "dimension:x", None, f"one of {dims}"),
        ("key notes.1", ProblemCode.UNKNOWN_ID, "indicator:nope_id", "nope_id", "an indicator id of the catalogue"),
        ("key notes.2", ProblemCode.UNKNOWN_ID, "chapter 3", None, "'overall', 'dimension:<id>' or 'indicator:<id>'"),
        ("key notes.3", ProblemCode.STRUCTURE, "just text", None, "{anchor: ..., text: ...}"),
        ("key improvement_areas.1", ProblemCode.UNKNOWN_ID, "nope", "nope", "an indicator id of the catalogue"),
    ]


def test_saved_notes_keep_dutch_text_readable_and_the_areas_first(catalogue, tmp_path):
    """The file is edited by hand: accents as written (not \\u escapes), the areas before the notes,
    under the header that says so."""
    dutch = "Eén bestuur, één strategie: geïnspireerd."
    notes = AuditorNotes((Note("overall", dutch),), ("service_usage",))
    text = save_notes(notes, tmp_path / "notes.yaml").read_text(encoding="utf-8")
    assert text.startswith("# The auditor's notes (written by the workbench; safe to edit by hand).\n")
    assert dutch in text and "\\u" not in text
    assert text.index("improvement_areas:") < text.index("notes:")
    assert yaml.safe_load(text) == {"improvement_areas": ["service_usage"],
                                    "notes": [{"anchor": "overall", "text": dutch}]}

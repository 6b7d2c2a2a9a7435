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


# --- former ids, refused files, what a loaded file carries ----------------------------------------

@pytest.fixture(scope="module")
def renamed_catalogue(tmp_path_factory):
    """The shipped catalogue with sme_share renamed: its former id 'smes_share' in old_ids."""
    import shutil

    from auditlib.catalogue import load_catalogue
    from auditlib.testing import DATA

    target = tmp_path_factory.mktemp("renamed") / "catalogue"
    shutil.copytree(DATA / "catalogue", target)
    path = target / "indicators.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  - id: sme_share\n", "  - id: sme_share\n    old_ids: [smes_share]\n", 1), encoding="utf-8")
    catalogue = load_catalogue(target)
    assert catalogue.current_id("smes_share") == "sme_share"
    return catalogue


def test_former_indicator_ids_are_read_as_the_current_ones_with_a_warning(renamed_catalogue, tmp_path):
    """Notes written before a rename load: the anchor and the improvement area under the former
    id are read as the current id, and each says so in a RENAMED_ID warning naming file and key."""
    from auditlib.errors import ProblemCode

    path = write(tmp_path, {"improvement_areas": ["service_usage", "smes_share"],
                            "notes": [{"anchor": "overall", "text": "a"},
                                      {"anchor": "Indicator: SMES_share", "text": "b"}]})
    notes = load_notes(path, renamed_catalogue)
    assert [n.anchor for n in notes.notes] == ["overall", "indicator:sme_share"]
    assert notes.improvement_areas == ("service_usage", "sme_share")
    got = [(p.file, p.place, p.code, p.value, p.indicator, p.expected) for p in notes.warnings]
    expected = "the current id 'sme_share' (catalogue old_ids)"
    assert got == [(str(path), "key notes.1", ProblemCode.RENAMED_ID, "smes_share", "sme_share", expected),
                   (str(path), "key improvement_areas.1", ProblemCode.RENAMED_ID, "smes_share", "sme_share",
                    expected)]
    assert all("read as 'sme_share'" in p.message for p in notes.warnings)


def test_a_loaded_file_carries_its_path_and_no_warnings(catalogue, tmp_path):
    path = write(tmp_path, {**NOTES, "language": "nl"})         # 'language' is a known key
    notes = load_notes(path, catalogue)
    assert notes.path == path and notes.warnings == ()


def test_an_anchor_with_more_after_the_indicator_id_is_refused(catalogue, tmp_path):
    """'indicator:sme_share:extra' is no anchor: not cut back to a valid indicator anchor."""
    from auditlib.errors import ProblemCode

    path = write(tmp_path, {"notes": [{"anchor": "indicator:sme_share:extra", "text": "x"}]})
    with pytest.raises(NotesError) as exc:
        load_notes(path, catalogue)
    [problem] = exc.value.problems
    assert (problem.code, problem.value, problem.indicator, problem.expected) == (
        ProblemCode.UNKNOWN_ID, "indicator:sme_share:extra", None, "'overall', 'dimension:<id>' or 'indicator:<id>'")


def test_markdown_text_before_the_first_heading_is_ignored(catalogue, tmp_path):
    text = "Written after the meeting of 3 March.\n\n## overall\nA good year.\n\n## improvement areas\n* sme_share\n"
    notes = load_notes(write(tmp_path, text, "notes.md"), catalogue)
    assert [(n.anchor, n.text) for n in notes.notes] == [("overall", "A good year.")]
    assert notes.improvement_areas == ("sme_share",)


def test_every_refused_note_and_area_names_the_file(catalogue, tmp_path):
    """A note without an anchor does not stop the check: the notes after it are checked too."""
    data = {"colour": "blue", "improvement_areas": ["nope"],
            "notes": [{"text": "no anchor"}, {"anchor": "dimension:x", "text": "a"}]}
    path = write(tmp_path, data)
    with pytest.raises(NotesError) as exc:
        load_notes(path, catalogue)
    got = [(p.file, p.place) for p in exc.value.problems]
    assert got == [(str(path), "key colour"), (str(path), "key notes.0"), (str(path), "key notes.1"),
                   (str(path), "key improvement_areas.0")]


@pytest.mark.parametrize("name, content, code", [
    ("notes.yaml", "notes: [unclosed", "PARSE_ERROR"),
    ("notes.yaml", "notes: [{anchor: overall, text: 'caf\xe9'}]".encode("latin-1"), "ENCODING"),
    ("missing.yaml", None, "FILE_MISSING"),
])
def test_an_unreadable_file_is_one_coded_problem_on_the_file(catalogue, tmp_path, name, content, code):
    from auditlib.errors import ProblemCode

    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(NotesError) as exc:
        load_notes(path, catalogue)
    [problem] = exc.value.problems
    assert (problem.file, problem.place, problem.code, problem.expected) == (
        str(path), "file", ProblemCode[code], "a UTF-8 YAML or Markdown file")


def test_notes_that_are_not_a_mapping_are_refused(catalogue, tmp_path):
    from auditlib.errors import ProblemCode

    path = write(tmp_path, "- overall\n- a list, not the notes\n")
    with pytest.raises(NotesError) as exc:
        load_notes(path, catalogue)
    [problem] = exc.value.problems
    assert (problem.file, problem.place, problem.code, problem.expected) == (
        str(path), "file", ProblemCode.STRUCTURE, "keys 'notes' and 'improvement_areas'")
    assert "not a mapping" in problem.message


def test_a_long_note_stays_on_one_line_in_the_saved_file(tmp_path):
    """The file is edited by hand: a note line up to 100 characters is not folded onto the next."""
    long = "The board changed in 2025 and the new chair wants the services reviewed before the summer."
    assert 85 < len(long) < 95
    text = save_notes(AuditorNotes((Note("overall", long),), ()), tmp_path / "notes.yaml").read_text(encoding="utf-8")
    assert any(long in line for line in text.splitlines())

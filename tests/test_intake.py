"""Questionnaire intake: formats, every problem reported with its place, template, clients."""

from __future__ import annotations

import shutil
import zipfile
import sys
from pathlib import Path

import openpyxl
import pytest

from auditlib import intake
from auditlib.errors import ParameterError, Problem, ProblemCode, QuestionnaireError
from auditlib.intake import (
    level_choices, load_client, parse_answer, read_questionnaire, summary_line, write_template,
)
from auditlib.testing import DATA, TEST_DATA

sys.path.insert(0, str(TEST_DATA))
import make_fixtures  # noqa: E402

CLIENTS = DATA / "clients"
CLIENT_IDS = sorted(p.name for p in CLIENTS.iterdir() if p.is_dir())


def problems_of(path: Path, catalogue) -> list[Problem]:
    with pytest.raises(QuestionnaireError) as err:
        read_questionnaire(path, catalogue, "test")
    return err.value.problems


def write_yaml(tmp_path: Path, catalogue, answers: dict | None = None, name: str = "questionnaire.yaml",
               **profile) -> Path:
    prof, pairs = make_fixtures._with(answers, **profile)
    path = tmp_path / name
    path.write_text(make_fixtures.yaml_text(prof, pairs, catalogue, "test"), encoding="utf-8")
    return path


# --- one malformed file, one problem ------------------------------------------------------

# file -> (place contains, indicator, message contains)
SINGLE: dict[str, tuple[str, str | None, str]] = {
    "share_above_100.yaml": ("key answers.sme_share", "sme_share", "a share above 100%"),
    "share_below_0.yaml": ("key answers.public_funding_share", "public_funding_share", "a share below 0%"),
    "negative_count.yaml": ("key answers.committed_members", "committed_members", "a negative value"),
    "above_max.yaml": ("key answers.member_types", "member_types", "above the maximum of 9"),
    "text_in_number.yaml": ("key answers.total_budget", "total_budget", "text in a number field"),
    "text_in_number.xlsx": ("sheet 'answers', row 9", "management_fte", "text in a number field"),
    "non_integer_count.yaml": ("key answers.events_per_year", "events_per_year", "not a whole number"),
    "non_integer_ordinal.yaml": ("key answers.member_involvement", "member_involvement", "not a whole number"),
    "ordinal_not_a_level.yaml": ("key answers.sme_service_effect", "sme_service_effect", "not a level"),
    "yes_no_unrecognised.yaml": ("key answers.english_website", "english_website",
                                 "yes/no answer not recognised"),
    "unknown_country.yaml": ("key profile.country", None, "unknown country"),
    "unknown_field.yaml": ("key profile.field", None, "unknown technology field"),
    "future_founding_year.yaml": ("key profile.founding_year", None, "founding year in the future"),
    "founding_before_1900.yaml": ("key profile.founding_year", None, "founding year before 1900"),
    "future_benchmark_year.yaml": ("key profile.benchmark_year", None, "benchmark year in the future"),
    "benchmark_before_founding.yaml": ("key profile.benchmark_year", None,
                                       "benchmark year before the founding year"),
    "missing_profile_key.yaml": ("key profile.contact", None, "missing profile key 'contact'"),
    "unknown_profile_key.yaml": ("key profile.adress", None, "unknown profile key"),
    "unknown_indicator.yaml": ("key answers.member_satisfation", "member_satisfation", "unknown indicator id"),
    "missing_indicator.yaml": ("key answers.joint_projects", "joint_projects", "no entry for this indicator"),
    "duplicate_indicator.yaml": ("key answers.events_per_year (line 55)", "events_per_year",
                                 "duplicate key (first at line 41)"),
    "duplicate_indicator.csv": ("row 38", "events_per_year", "duplicate row for this indicator (first at row 26)"),
    "org_age_mismatch.yaml": ("key answers.org_age", "org_age", "does not agree with the founding"),
    "malformed.yaml": ("line 6, column 1", None, "not valid YAML"),
    "empty.yaml": ("file", None, "the file is empty"),
    "not_a_mapping.yaml": ("file", None, "the top level is not a mapping"),
    "missing_section.yaml": ("key answers", None, "missing section 'answers'"),
    "not_utf8.yaml": ("file", None, "not UTF-8 text"),
    "missing_profile.csv": ("file", None, "the profile file is missing"),
    "missing_sheet.xlsx": ("sheet 'answers'", None, "missing sheet 'answers'"),
    "corrupt.xlsx": ("file", None, "cannot be opened as an Excel workbook"),
    "wrong_file_type.xls": ("file", None, "unsupported file type '.xls'"),
    # issue 10: no silent misreads, YAML bombs
    "ambiguous_thousands.yaml": ("key answers.total_budget", "total_budget", "ambiguous number: 1250 if '.'"),
    "ambiguous_thousands_unquoted.yaml": ("key answers.total_budget", "total_budget",
                                          "ambiguous number: 1250 if '.'"),
    "ambiguous_thousands.csv": ("row 14", "total_budget", "ambiguous number: 1250 if ','"),
    "decimal_comma_unquoted.csv": ("row 8", None, "more values than columns"),
    "formula_without_value.xlsx": ("sheet 'answers', row 15", "total_budget",
                                   "cell G15: a formula without a saved result"),
    "duplicate_sheets.xlsx": ("sheet 'answers'", None, "2 sheets could be the 'answers' sheet"),
    "merged_answers.xlsx": ("sheet 'answers', cells G27:G28", None, "merged cells in the 'answer' column"),
    "encrypted.xlsx": ("file", None, "the workbook is encrypted"),
    "alias_bomb.yaml": ("file", None, "YAML aliases (*name) would expand"),
}
# the code each problem carries: what programs (and these tests) compare, not the message
C = ProblemCode
CODES: dict[str, ProblemCode] = {
    "share_above_100.yaml": C.OUT_OF_RANGE, "share_below_0.yaml": C.OUT_OF_RANGE,
    "negative_count.yaml": C.OUT_OF_RANGE, "above_max.yaml": C.OUT_OF_RANGE,
    "text_in_number.yaml": C.WRONG_TYPE, "text_in_number.xlsx": C.WRONG_TYPE,
    "non_integer_count.yaml": C.NOT_INTEGER, "non_integer_ordinal.yaml": C.NOT_INTEGER,
    "ordinal_not_a_level.yaml": C.UNKNOWN_VALUE, "yes_no_unrecognised.yaml": C.UNKNOWN_VALUE,
    "unknown_country.yaml": C.UNKNOWN_VALUE, "unknown_field.yaml": C.UNKNOWN_VALUE,
    "future_founding_year.yaml": C.OUT_OF_RANGE, "founding_before_1900.yaml": C.OUT_OF_RANGE,
    "future_benchmark_year.yaml": C.OUT_OF_RANGE, "benchmark_before_founding.yaml": C.INCONSISTENT,
    "missing_profile_key.yaml": C.MISSING_KEY, "unknown_profile_key.yaml": C.UNKNOWN_KEY,
    "unknown_indicator.yaml": C.UNKNOWN_ID, "missing_indicator.yaml": C.MISSING_KEY,
    "duplicate_indicator.yaml": C.DUPLICATE, "duplicate_indicator.csv": C.DUPLICATE,
    "org_age_mismatch.yaml": C.INCONSISTENT, "malformed.yaml": C.PARSE_ERROR, "empty.yaml": C.FILE_EMPTY,
    "not_a_mapping.yaml": C.STRUCTURE, "missing_section.yaml": C.MISSING_KEY, "not_utf8.yaml": C.ENCODING,
    "missing_profile.csv": C.FILE_MISSING, "missing_sheet.xlsx": C.MISSING_SHEET,
    "corrupt.xlsx": C.PARSE_ERROR, "wrong_file_type.xls": C.WRONG_FILE_TYPE,
    "ambiguous_thousands.yaml": C.AMBIGUOUS_NUMBER, "ambiguous_thousands_unquoted.yaml": C.AMBIGUOUS_NUMBER,
    "ambiguous_thousands.csv": C.AMBIGUOUS_NUMBER, "decimal_comma_unquoted.csv": C.PARSE_ERROR,
    "formula_without_value.xlsx": C.FORMULA, "duplicate_sheets.xlsx": C.AMBIGUOUS_SHEET,
    "merged_answers.xlsx": C.MERGED_CELLS, "encrypted.xlsx": C.WRONG_FILE_TYPE, "alias_bomb.yaml": C.TOO_LARGE,
}
# the value each problem reports (where the scenario has one)
VALUES = {
    "share_above_100.yaml": 120, "negative_count.yaml": -3, "text_in_number.xlsx": "about two",
    "unknown_country.yaml": "XX", "unknown_field.yaml": "quantum computing",
    "future_founding_year.yaml": 2099, "yes_no_unrecognised.yaml": "maybe", "org_age_mismatch.yaml": 25,
}


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_each_malformed_file_gives_its_specific_problem(catalogue, name):
    problems = problems_of(TEST_DATA / name, catalogue)
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    place, indicator, message = SINGLE[name]
    assert problem.code is CODES[name], (problem.code, problem.message)
    assert place in problem.place
    assert problem.indicator == indicator
    assert message in problem.message
    assert Path(problem.file).name.startswith(Path(name).stem)
    assert problem.expected, "every problem says what was expected"
    if name in VALUES:
        assert problem.value == VALUES[name]


def test_every_single_problem_fixture_names_its_code():
    assert set(CODES) == set(SINGLE)


def test_every_fixture_is_tested_and_listed_in_the_readme():
    readme = (TEST_DATA / "README.md").read_text(encoding="utf-8")
    files = [p.name for p in TEST_DATA.iterdir()
             if p.is_file() and p.suffix not in (".py", ".md") and not p.name.endswith(".profile.csv")]
    assert len(files) >= 16
    for name in files:
        assert name in SINGLE or name == "several_problems.xlsx", name
        assert f"`{name}`" in readme, name


def test_several_problems_come_together(catalogue):
    problems = problems_of(TEST_DATA / "several_problems.xlsx", catalogue)
    found = {(p.place, p.indicator, p.message.split(" (")[0]) for p in problems}
    expected = {
        ("sheet 'profile', row 4", None, "unknown country"),
        ("sheet 'profile', row 6", None, "founding year in the future"),
        ("sheet 'profile', key 'contact'", None, "missing profile key 'contact'"),
        ("sheet 'answers', row 4", "committed_members", "a negative value"),
        ("sheet 'answers', row 6", "sme_share", "a share above 100%"),
        ("sheet 'answers', row 15", "total_budget", "text in a number field"),
        ("sheet 'answers', row 36", "english_website", "yes/no answer not recognised"),
        ("sheet 'answers', row 38", "events_per_year", "duplicate row for this indicator"),
        ("sheet 'answers', row 39", "media_mention", "unknown indicator id"),
        ("sheet 'answers'", "awards_recognition", "no entry for this indicator"),
    }
    assert found == expected
    unknown = next(p for p in problems if p.indicator == "media_mention")
    assert "did you mean 'media_mentions'" in unknown.expected


def test_the_error_renders_every_problem_and_becomes_a_frame(catalogue):
    with pytest.raises(QuestionnaireError) as err:
        read_questionnaire(TEST_DATA / "several_problems.xlsx", catalogue, "test")
    text = str(err.value)
    assert "10 problem(s)" in text
    assert "sheet 'answers', row 6: indicator 'sme_share': a share above 100% (got 120" in text
    frame = err.value.to_frame()
    assert len(frame) == 10 and {"file", "place", "indicator", "value", "expected"} <= set(frame.columns)


def test_any_exception_while_reading_becomes_a_problem(catalogue, monkeypatch, tmp_path):
    def boom(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(intake.yaml_reader, "_read_yaml", boom)   # where the intake looks the reader up
    problems = problems_of(write_yaml(tmp_path, catalogue), catalogue)
    assert len(problems) == 1 and "disk on fire" in problems[0].message


# --- folders ------------------------------------------------------------------------------

@pytest.mark.parametrize("folder, fragments", [
    ("no_questionnaire", ["no questionnaire in the client folder"]),
    ("two_questionnaires", ["2 questionnaires in the client folder"]),
    ("earlier_wrong_year", ["does not match the file name"]),
])
def test_folder_problems(catalogue, folder, fragments):
    with pytest.raises(QuestionnaireError) as err:
        load_client(TEST_DATA / "folders" / folder, catalogue)
    assert len(err.value.problems) == 1
    for fragment in fragments:
        assert fragment in err.value.problems[0].message


def test_problems_in_earlier_audits_come_with_the_current_ones(catalogue):
    with pytest.raises(QuestionnaireError) as err:
        load_client(TEST_DATA / "folders" / "broken_current_and_earlier", catalogue)
    by_file = {Path(p.file).relative_to(TEST_DATA / "folders" / "broken_current_and_earlier").as_posix():
               p.indicator for p in err.value.problems}
    assert by_file == {"questionnaire.yaml": "sme_share", "earlier/2024.yaml": "committed_members"}


def test_excel_lock_files_are_ignored_and_notes_found(catalogue, tmp_path):
    folder = tmp_path / "acme"
    folder.mkdir()
    write_yaml(folder, catalogue)
    (folder / "~$questionnaire.xlsx").write_bytes(b"lock")
    (folder / "notes.md").write_text("# notes\n", encoding="utf-8")
    loaded = load_client(folder, catalogue)
    assert loaded.client_id == "acme"
    assert loaded.notes_path == folder / "notes.md"
    assert loaded.earlier == ()


def test_unknown_client_id_names_the_known_ones(catalogue, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QuestionnaireError) as err:
        load_client("no-such-client", catalogue, clients_dir=CLIENTS)
    assert "nl-delta-water" in err.value.problems[0].expected
    assert err.value.codes == [ProblemCode.FILE_MISSING]


def test_a_client_id_without_a_clients_folder_is_not_looked_up_in_the_environment(catalogue, monkeypatch,
                                                                                tmp_path):
    """Settings are resolved at the entry point: the library never reads AUDITLIB_CLIENTS itself."""
    monkeypatch.setenv("AUDITLIB_CLIENTS", str(CLIENTS))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QuestionnaireError) as err:
        load_client("nl-delta-water", catalogue)
    assert err.value.codes == [ProblemCode.FILE_MISSING]


# --- values -------------------------------------------------------------------------------

@pytest.mark.parametrize("blank", [None, "", "  ", "not answered", "N/A", "niet beantwoord", "n.v.t."])
def test_blank_means_not_answered_and_stays_apart_from_zero(catalogue, blank):
    ind = catalogue.by_id["awards_recognition"]
    assert parse_answer(blank, ind) is None
    assert parse_answer(0, ind) == 0.0
    assert parse_answer("0", ind) == 0.0


def test_blank_and_zero_through_a_whole_questionnaire(catalogue, tmp_path):
    path = write_yaml(tmp_path, catalogue, {"awards_recognition": 0, "media_mentions": None,
                                            "joint_projects": "not answered"})
    profile = read_questionnaire(path, catalogue, "acme")
    assert profile.value("awards_recognition") == 0.0
    assert profile.value("media_mentions") is None
    assert profile.missing == ["joint_projects", "media_mentions"]
    assert len(profile.answers) == 36


@pytest.mark.parametrize("given, expected", [
    ("yes", 1.0), ("Ja", 1.0), ("TRUE", 1.0), ("1", 1.0), (1, 1.0), (True, 1.0),
    ("no", 0.0), ("NEE", 0.0), ("false", 0.0), ("0", 0.0), (0, 0.0), (False, 0.0),
])
def test_yes_no_answers(catalogue, given, expected):
    assert parse_answer(given, catalogue.by_id["english_website"]) == expected


@pytest.mark.parametrize("given", ["maybe", "y", 2, "si"])
def test_yes_no_not_recognised(catalogue, given):
    with pytest.raises(ValueError, match="yes/no answer not recognised"):
        parse_answer(given, catalogue.by_id["english_website"])


@pytest.mark.parametrize("given, expected", [
    (3, 3.0), (3.0, 3.0), ("3", 3.0), ("3 - co-deciding in a board", 3.0), ("0 - not involved", 0.0),
    ("2: consulted", 2.0), ("4 \u2013 co-deciding in board and working groups", 4.0),
    ("2 - geraadpleegd", 2.0),
])
def test_ordinal_answers(catalogue, given, expected):
    assert parse_answer(given, catalogue.by_id["member_involvement"]) == expected


@pytest.mark.parametrize("given, message", [
    (2.5, "not a whole number"), ("2,5", "not a whole number"), (7, "above the maximum of 4"),
    ("7 - beyond", "above the maximum of 4"), ("quite a lot", "not a level"), (-1, "a negative value"),
])
def test_ordinal_problems(catalogue, given, message):
    with pytest.raises(ValueError, match=message):
        parse_answer(given, catalogue.by_id["member_involvement"])


@pytest.mark.parametrize("indicator, given, expected", [
    ("management_fte", "2,5", 2.5), ("management_fte", " 3.25 ", 3.25), ("management_fte", 4, 4.0),
    ("sme_share", "45%", 45.0), ("total_budget", "1 200", 1200.0), ("committed_members", 85.0, 85.0),
])
def test_numbers(catalogue, indicator, given, expected):
    assert parse_answer(given, catalogue.by_id[indicator]) == expected


@pytest.mark.parametrize("indicator, given, message", [
    ("management_fte", "1.200,5", "above the maximum of 200"),
    ("total_budget", "1.250", "ambiguous number"), ("total_budget", "1,250", "ambiguous number"),
    ("total_budget", "1 25", "text in a number field"), ("total_budget", "1,25,0", "misplaced separators"),
    ("management_fte", "nan", "not a finite number"),
    ("committed_members", True, "a yes/no value in a number field"),
    ("committed_members", 12.5, "not a whole number"), ("sme_share", 100.5, "a share above 100%"),
])
def test_number_problems(catalogue, indicator, given, message):
    with pytest.raises(ValueError, match=message):
        parse_answer(given, catalogue.by_id[indicator])


def test_country_is_normalised_and_hints_are_given(catalogue, tmp_path):
    assert read_questionnaire(write_yaml(tmp_path, catalogue, country="de"), catalogue, "x").country == "DE"
    (problem,) = problems_of(write_yaml(tmp_path, catalogue, country="UK"), catalogue)
    assert "did you mean GB" in problem.expected
    (problem,) = problems_of(write_yaml(tmp_path, catalogue, country="Netherlands"), catalogue)
    assert "did you mean NL" in problem.expected


def test_unquoted_no_in_yaml_is_explained(catalogue, tmp_path):
    path = write_yaml(tmp_path, catalogue)
    path.write_text(path.read_text(encoding="utf-8").replace("country: NL", "country: NO"), encoding="utf-8")
    (problem,) = problems_of(path, catalogue)
    assert "unquoted NO" in problem.message and '"NO"' in problem.expected


def test_benchmark_id_is_optional(catalogue, tmp_path):
    assert read_questionnaire(write_yaml(tmp_path, catalogue), catalogue, "x").benchmark_id is None
    given = read_questionnaire(write_yaml(tmp_path, catalogue, benchmark_id="CO-00042"), catalogue, "x")
    assert given.benchmark_id == "CO-00042"


def test_field_by_dutch_or_english_name(catalogue, tmp_path):
    for given in ("Voedingsindustrie", "food industry", "food"):
        assert read_questionnaire(write_yaml(tmp_path, catalogue, field=given), catalogue, "x").field == "food"


def test_org_age_is_derived_or_checked(catalogue, tmp_path):
    assert read_questionnaire(write_yaml(tmp_path, catalogue), catalogue, "x").value("org_age") == 14.0
    given = read_questionnaire(write_yaml(tmp_path, catalogue, {"org_age": 13}), catalogue, "x")
    assert given.value("org_age") == 13.0   # within one year: the client's own count stands


def test_semicolon_csv_with_decimal_commas(catalogue, tmp_path):
    profile, pairs = make_fixtures._with({"management_fte": "2,5"})
    rows = ["indicator_id;answer"] + [f"{k};{'' if v is None else v}" for k, v in pairs]
    (tmp_path / "questionnaire.csv").write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    (tmp_path / "profile.csv").write_text(
        "key;value\n" + "".join(f"{k};{v}\n" for k, v in profile.items()), encoding="utf-8")
    loaded = read_questionnaire(tmp_path / "questionnaire.csv", catalogue, "x")
    assert loaded.value("management_fte") == 2.5


# --- the Excel template -------------------------------------------------------------------

def validations(ws) -> dict[str, object]:
    """cell -> its data validation."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            out[cell_range.coord] = dv
    return out


@pytest.mark.parametrize("lang, yes_no", [("en", '"yes,no"'), ("nl", '"ja,nee"')])
def test_template_has_data_validation_on_every_answer(catalogue, tmp_path, lang, yes_no):
    path = write_template(tmp_path / f"template_{lang}.xlsx", catalogue, lang=lang)
    wb = openpyxl.load_workbook(path)
    assert {"profile", "answers"} <= set(wb.sheetnames)
    ws = wb["answers"]
    header = [c.value for c in ws[2]]
    assert header[:1] == ["indicator_id"] and "answer" in header and "comment" in header
    col = openpyxl.utils.get_column_letter(header.index("answer") + 1)
    ids = [ws.cell(row=r, column=1).value for r in range(3, ws.max_row + 1)]
    assert ids == catalogue.ids
    dvs = validations(ws)
    lists = wb["lists"]
    for row, ind in enumerate(catalogue.indicators, start=3):
        dv = dvs[f"{col}{row}"]
        assert ws[f"{col}{row}"].value is None
        if ind.kind == "yes_no":
            assert (dv.type, dv.formula1) == ("list", yes_no)
        elif ind.kind == "ordinal":
            assert dv.type == "list" and dv.formula1.startswith("lists!")
            column = dv.formula1.split("!")[1].split(":")[0].replace("$", "")[0]
            choices = [c.value for c in lists[column][1:] if c.value]
            assert choices == level_choices(ind, lang)
        else:
            assert dv.type == ("whole" if ind.kind == "count" else "decimal")
            assert (dv.operator, float(dv.formula1), float(dv.formula2)) == ("between", ind.min, ind.max)
        assert dv.allow_blank
    profile = wb["profile"]
    keys = {profile.cell(row=r, column=1).value: r for r in range(3, profile.max_row + 1)}
    # every profile key but the prefill marker, which only a prefilled file carries
    assert set(intake.PROFILE_KEYS) - set(intake.PREFILL_KEYS) <= set(keys)
    assert not set(intake.PREFILL_KEYS) & set(keys)
    pdvs = validations(profile)
    assert pdvs[f"B{keys['field']}"].type == "list"
    assert [c.value for c in lists["A"][1:15]] == [f.name[lang] for f in catalogue.fields.values()]
    assert pdvs[f"B{keys['country']}"].type == "textLength"
    assert "ISO 3166" in pdvs[f"B{keys['country']}"].prompt
    assert "ISO 3166" in profile.cell(row=1, column=1).value   # the instructions line


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_filled_template_round_trips(catalogue, tmp_path, lang):
    answers = dict(make_fixtures.LICHTWERK)
    words = {"yes": "ja", "no": "nee"} if lang == "nl" else {}
    for ind in catalogue.indicators:
        if ind.kind == "yes_no":
            answers[ind.id] = words.get(answers[ind.id], answers[ind.id])
        if ind.kind == "ordinal":
            answers[ind.id] = level_choices(ind, lang)[3]
    answers["media_mentions"] = None
    path = tmp_path / "questionnaire.xlsx"
    profile = {**make_fixtures.BASE_PROFILE, "field": catalogue.fields["food"].name[lang]}
    wb = make_fixtures.filled_workbook(path, catalogue, profile, list(answers.items()))
    wb.save(path)
    loaded = read_questionnaire(path, catalogue, "acme")
    assert (loaded.name, loaded.country, loaded.field, loaded.founding_year) == (
        "Fixture Cluster (fictional)", "NL", "food", 2012)
    assert loaded.value("english_website") == 1.0
    assert loaded.value("member_involvement") == 3.0
    assert loaded.value("management_fte") == 9.5
    assert loaded.value("org_age") == 14.0
    assert loaded.missing == ["media_mentions"]
    assert loaded.source == path


def test_blank_template_reports_empty_profile_values_only(catalogue, tmp_path):
    path = write_template(tmp_path / "blank.xlsx", catalogue)
    problems = problems_of(path, catalogue)
    assert {p.message for p in problems} == {"no value"}
    assert len(problems) == len(intake.REQUIRED_PROFILE_KEYS)


def test_template_write_is_atomic(catalogue, tmp_path, monkeypatch):
    out = tmp_path / "template.xlsx"
    out.write_bytes(b"the good old file")

    def broken_save(self, filename):
        Path(filename).write_bytes(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_template(out, catalogue)
    assert out.read_bytes() == b"the good old file"
    assert [p.name for p in tmp_path.iterdir()] == ["template.xlsx"]


def test_template_refuses_an_unknown_language(catalogue, tmp_path):
    with pytest.raises(ParameterError):
        write_template(tmp_path / "t.xlsx", catalogue, lang="fr")
    assert not (tmp_path / "t.xlsx").exists()


# --- the example clients ------------------------------------------------------------------

def test_there_are_enough_example_clients_in_every_format():
    assert len(CLIENT_IDS) >= 6
    formats = {q.suffix for c in CLIENT_IDS for q in (CLIENTS / c).glob("questionnaire.*")}
    assert formats == {".xlsx", ".yaml", ".csv"}
    assert "FICTIONAL" in (CLIENTS / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("client_id", CLIENT_IDS)
def test_every_example_client_loads_cleanly(catalogue, client_id):
    folder = load_client(CLIENTS / client_id, catalogue)
    profile = folder.profile
    assert folder.client_id == profile.client_id == client_id
    assert profile.benchmark_year == 2026
    assert set(profile.answers) == set(catalogue.ids)
    assert profile.field in catalogue.fields
    assert profile.country.isupper() and len(profile.country) == 2
    assert profile.value("org_age") == profile.age
    assert summary_line(folder).startswith(f"{client_id}: {profile.name} ({profile.country}, ")


def test_client_by_id_and_the_earlier_audit(catalogue, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    folder = load_client("nl-delta-water", catalogue, clients_dir=CLIENTS)
    assert folder.path == CLIENTS / "nl-delta-water"
    (old,) = folder.earlier
    assert folder.previous is old
    assert old.benchmark_year == 2024 and old.source.name == "2024.yaml"
    assert (old.country, old.field) == ("NL", "energy_environment")   # given as "nl", "Energie en milieu"
    assert old.value("written_strategy") == 1.0 and old.value("service_feedback") == 0.0   # ja / nee
    assert old.value("member_satisfaction") is None                                      # niet beantwoord
    assert old.value("management_fte") == 2.0                                            # "2,0"
    new = folder.profile
    assert new.value("committed_members") - old.value("committed_members") >= 20
    assert new.value("transition_services") >= 3 * old.value("transition_services")
    assert new.value("active_member_share") < old.value("active_member_share") - 10
    assert summary_line(folder) == (
        "nl-delta-water: Deltawerk Water & Energie Cluster (NL, energy_environment, founded 2012, "
        "benchmark 2026): 36 indicators, 36 answered, 0 not answered, 1 earlier audit")


def _passes(profile, criteria) -> list[str]:
    return [c.id for c in criteria if not c.passes(profile.value(c.indicator))]


def test_example_clients_show_what_they_claim(catalogue):
    labels = catalogue.labels
    gold = load_client(CLIENTS / "de-lichtwerk-photonics", catalogue).profile
    assert gold.founding_year <= 2000
    assert _passes(gold, labels.gold.quality) == [] and _passes(gold, labels.gold.minimums) == []
    delta = load_client(CLIENTS / "nl-delta-water", catalogue).profile
    assert _passes(delta, labels.bronze.minimums) == []
    assert 1 <= len(_passes(delta, labels.gold.quality)) <= 5
    young = load_client(CLIENTS / "pt-tejo-biotech", catalogue).profile
    assert young.founding_year == 2023 and young.value("management_fte") < 1
    assert _passes(young, labels.bronze.minimums) == []
    incomplete = load_client(CLIENTS / "es-huerta-food", catalogue).profile
    assert 5 <= len(incomplete.missing) <= 8
    countries = {load_client(CLIENTS / c, catalogue).profile.country for c in CLIENT_IDS}
    assert countries - catalogue.eu_members, "at least one client outside the EU"


def test_fixtures_are_up_to_date(catalogue, tmp_path):
    """The committed example clients and test files are what make_fixtures.py writes."""
    make_fixtures.build(tmp_path, catalogue)
    generated = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(generated) > 40
    for new in generated:
        committed = make_fixtures.REPO / new.relative_to(tmp_path)
        assert committed.is_file(), f"{committed} is missing: run tests/data/make_fixtures.py"
        if new.suffix == ".xlsx" and zipfile.is_zipfile(new):
            old_wb, new_wb = openpyxl.load_workbook(committed), openpyxl.load_workbook(new)
            for name in new_wb.sheetnames:
                assert list(old_wb[name].values) == list(new_wb[name].values), (committed, name)
        else:
            assert committed.read_bytes() == new.read_bytes(), f"{committed} differs: run make_fixtures.py"


def test_copied_client_folder_loads_from_anywhere(catalogue, tmp_path):
    target = tmp_path / "pl-wisla-ict"
    shutil.copytree(CLIENTS / "pl-wisla-ict", target)
    folder = load_client(target, catalogue)
    assert folder.profile.source == target / "questionnaire.csv"
    assert folder.profile.value("management_fte") == 3.5


# --- issue 10: an answer is read right or refused, never quietly changed -----------------------

@pytest.mark.parametrize("given, expected", [
    ("1.250,5", 1250.5), ("1,250.5", 1250.5), ("1 250", 1250.0), ("1\u00a0250,5", 1250.5),
    ("12.250.000", None), ("1,250,000", None), ("0,250", 0.25), ("12,5", 12.5),
    ("1250", 1250.0), ("-1.250,5", None),
])
def test_dutch_and_english_numbers_are_read_right(catalogue, given, expected):
    ind = catalogue.by_id["total_budget"]
    if expected is None:   # read as 12250000, 1250000, -1250.5: outside the range, so refused for that
        with pytest.raises(ValueError, match="a negative value|above the maximum of 100000"):
            parse_answer(given, ind)
    else:
        assert parse_answer(given, ind) == expected


def test_an_ambiguous_number_names_both_readings(catalogue):
    problems = problems_of(TEST_DATA / "ambiguous_thousands.yaml", catalogue)
    (p,) = problems
    assert "1250" in p.message and "1.25" in p.message and p.value == "1.250"
    assert "line 27" in p.place


def test_a_count_cannot_be_fractional_so_its_separator_groups_thousands(catalogue, tmp_path):
    path = write_yaml(tmp_path, catalogue, {"committed_members": "1.250"})
    assert read_questionnaire(path, catalogue, "x").value("committed_members") == 1250.0


def test_a_semicolon_csv_is_read_in_dutch_style(catalogue, tmp_path):
    prof, pairs = make_fixtures._with({"total_budget": "1.250", "management_fte": "3,5"})
    path = tmp_path / "questionnaire.csv"
    path.write_text("indicator_id;answer\n" + "".join(f"{k};{'' if v is None else v}\n" for k, v in pairs))
    (tmp_path / "profile.csv").write_text("key;value\n" + "".join(f"{k};{v}\n" for k, v in prof.items()))
    profile = read_questionnaire(path, catalogue, "x")
    assert profile.value("total_budget") == 1250.0     # today: 1.25 (EUR thousand), 1,000 times too small
    assert profile.value("management_fte") == 3.5


def test_a_decimal_comma_elsewhere_in_the_file_settles_the_style(catalogue, tmp_path):
    path = write_yaml(tmp_path, catalogue, {"total_budget": "1.250", "management_fte": "3,5"})
    assert read_questionnaire(path, catalogue, "x").value("total_budget") == 1250.0
    mixed = write_yaml(tmp_path, catalogue, {"total_budget": "1.250", "management_fte": "3,5",
                                             "media_mentions": "1,234.0"}, name="mixed.yaml")
    (p,) = problems_of(mixed, catalogue)
    assert "ambiguous number" in p.message and "mixes Dutch and English" in p.message


def test_the_csv_separator_comes_from_the_whole_file(catalogue, tmp_path):
    prof, pairs = make_fixtures._with({"management_fte": "3,5"})
    path = tmp_path / "questionnaire.csv"
    # the first line has a comma (in a header cell): today that made the whole file comma-separated
    path.write_text("indicator_id;answer;comment, if any\n"
                    + "".join(f"{k};{'' if v is None else v};\n" for k, v in pairs))
    (tmp_path / "profile.csv").write_text("key;value\n" + "".join(f"{k};{v}\n" for k, v in prof.items()))
    assert read_questionnaire(path, catalogue, "x").value("management_fte") == 3.5


def test_yaml_sexagesimal_and_octal_numbers_are_not_misread(catalogue, tmp_path):
    path = write_yaml(tmp_path, catalogue)
    path.write_text(path.read_text().replace("events_per_year: 28", "events_per_year: 1:30"))
    problems = problems_of(path, catalogue)
    assert [p.indicator for p in problems] == ["events_per_year"]      # YAML 1.1 alone: 90, silently
    octal = write_yaml(tmp_path, catalogue, name="octal.yaml")
    octal.write_text(octal.read_text().replace("working_groups: 7", "working_groups: 010"))
    assert read_questionnaire(octal, catalogue, "x").value("working_groups") == 10   # YAML 1.1 alone: 8


def test_a_formula_with_a_saved_result_is_read(catalogue, tmp_path):
    """The formula check must not refuse a workbook Excel calculated (its result is cached)."""
    src = TEST_DATA / "formula_without_value.xlsx"
    path = tmp_path / "questionnaire.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<f>500+40</f><v />", b"<f>500+40</f><v>540</v>")
            zout.writestr(item, data)
    assert read_questionnaire(path, catalogue, "x").value("total_budget") == 540.0


def test_at_most_fifty_problems_per_file_are_printed(catalogue, tmp_path):
    prof, pairs = make_fixtures._with()
    pairs += [(f"bogus_{i}", 1) for i in range(300)]
    path = tmp_path / "questionnaire.yaml"
    path.write_text(make_fixtures.yaml_text(prof, pairs, catalogue, "many"), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as err:
        read_questionnaire(path, catalogue, "x")
    assert len(err.value.problems) == 300               # all kept for to_frame()
    lines = err.value.render().splitlines()
    assert len(lines) == 1 + 50 + 1
    assert lines[-1].startswith("  ... and 250 more problems in")
    assert str(err.value) == err.value.render()

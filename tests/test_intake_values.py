"""One questionnaire value at a time (auditlib.intake.values, and the profile check that uses it).

An accepted value is checked by the number (or text) it becomes, so a value misread silently -
a thousands separator taken for a decimal one, a percentage sign on a count, "2.5" read as
level 2 - fails here. A refused value is checked by its ProblemCode and, for the profile, by
the place (file and key) its Problem names; never by the wording of the message.
"""

from __future__ import annotations

import datetime as dt

import pytest

from auditlib import localnum
from auditlib.errors import ProblemCode
from auditlib.intake import expected_text, parse_answer
from auditlib.intake.model import EARLIEST_YEAR, EXPECTED_COUNTRY, _this_year
from auditlib.intake.questionnaire import _check_profile
from auditlib.intake.raw import Formula, _Bad, _Entry, _Raw

C = ProblemCode
DUTCH, ENGLISH = localnum.Convention(localnum.NL), localnum.Convention(localnum.EN)


def refused(value, ind, convention=None) -> _Bad:
    """The refusal of one answer; it always says what is wrong and what was expected."""
    with pytest.raises(_Bad) as err:
        parse_answer(value, ind, convention)
    bad = err.value
    assert isinstance(bad.message, str) and bad.message
    assert isinstance(bad.expected, str) and bad.expected
    return bad


def formula(cell: str) -> Formula:
    f = Formula("=SUM(A1:A3)")
    f.cell = cell
    return f


# --- numbers: separators, percentages, range -------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("45%", 45.0), ("45 %", 45.0), ("12.5%", 12.5), ("12,5 %", 12.5), ("100%", 100.0), ("0%", 0.0),
    (" 7 % ", 7.0),
])
def test_a_share_may_carry_a_percent_sign(catalogue, given, expected):
    assert parse_answer(given, catalogue.by_id["sme_share"]) == expected


@pytest.mark.parametrize("indicator", ["committed_members", "management_fte", "total_budget"])
def test_a_percent_sign_outside_a_share_is_refused_not_dropped(catalogue, indicator):
    assert refused("45%", catalogue.by_id[indicator]).code is C.WRONG_TYPE


def test_a_lone_percent_sign_is_no_share(catalogue):
    assert refused("%", catalogue.by_id["sme_share"]).code is C.WRONG_TYPE


# The bounds are the catalogue's and are inclusive: the minimum and maximum are answers, one
# step beyond is refused as out of range (and a count's step is one).
@pytest.mark.parametrize("indicator, step", [
    ("committed_members", 1), ("member_types", 1), ("sme_share", 0.5), ("management_fte", 0.25),
    ("total_budget", 0.5), ("member_involvement", 1),
])
def test_the_range_is_inclusive_and_one_step_beyond_is_refused(catalogue, indicator, step):
    ind = catalogue.by_id[indicator]
    for inside in (ind.min, ind.max, ind.min + step, ind.max - step):
        assert parse_answer(inside, ind) == inside
        assert parse_answer(str(int(inside)) if float(inside).is_integer() else str(inside), ind) == inside
    for outside in (ind.min - step, ind.max + step):
        assert refused(outside, ind).code is C.OUT_OF_RANGE


@pytest.mark.parametrize("indicator, given", [
    ("committed_members", 12.5), ("committed_members", "12,5"), ("member_involvement", 2.5),
    ("member_involvement", "2.5"), ("member_involvement", "2,5"), ("org_age", 0.5),
])
def test_a_count_or_level_is_never_rounded(catalogue, indicator, given):
    """"2.5" as a level is refused, not read as level 2 from a dropdown label "2. ..."."""
    assert refused(given, catalogue.by_id[indicator]).code is C.NOT_INTEGER


@pytest.mark.parametrize("indicator, given, expected", [
    ("management_fte", 2.5, 2.5), ("management_fte", "0,5", 0.5), ("sme_share", 12.5, 12.5),
    ("staff_experience", "7.75", 7.75),
])
def test_an_amount_or_share_keeps_its_fraction(catalogue, indicator, given, expected):
    assert parse_answer(given, catalogue.by_id[indicator]) == expected


@pytest.mark.parametrize("given, code", [
    (True, C.WRONG_TYPE), (False, C.WRONG_TYPE), (dt.date(2025, 3, 1), C.WRONG_TYPE),
    (dt.datetime(2025, 3, 1, 12, 0), C.WRONG_TYPE), (dt.time(3, 15), C.WRONG_TYPE), ([3], C.WRONG_TYPE),
    ({"a": 1}, C.WRONG_TYPE), ("about two", C.WRONG_TYPE), ("nan", C.OUT_OF_RANGE),
    (float("nan"), C.OUT_OF_RANGE), (float("inf"), C.OUT_OF_RANGE), ("-inf", C.OUT_OF_RANGE),
])
def test_what_is_no_number_is_refused_with_its_code(catalogue, given, code):
    """A yes/no, a date Excel made of "3-1", a list: none of them is silently a number."""
    assert refused(given, catalogue.by_id["management_fte"]).code is code


def test_an_ambiguous_number_says_both_readings_and_how_to_write_it(catalogue):
    ind = catalogue.by_id["total_budget"]
    bad = refused("1.250", ind)
    assert bad.code is C.AMBIGUOUS_NUMBER
    with pytest.raises(localnum.NumberTextError) as err:
        localnum.read("1.250")
    assert err.value.hint and bad.expected == f"{expected_text(ind)}; {err.value.hint}"


def test_text_in_a_number_field_is_told_what_was_expected_without_a_stray_hint(catalogue):
    ind = catalogue.by_id["total_budget"]
    bad = refused("about half a million", ind)
    assert bad.code is C.WRONG_TYPE and bad.expected == expected_text(ind)
    misplaced = refused("1,25,0", ind)    # no reading at all: wrong type, with how to write it
    assert misplaced.code is C.WRONG_TYPE and misplaced.expected.startswith(expected_text(ind) + "; ")


@pytest.mark.parametrize("indicator, given, convention, expected", [
    ("total_budget", "1.250", DUTCH, 1250.0), ("total_budget", "1.250", ENGLISH, 1.25),
    ("total_budget", "1,250", DUTCH, 1.25), ("total_budget", "1,250", ENGLISH, 1250.0),
    ("sme_share", "12,500%", DUTCH, 12.5), ("member_involvement", "2,000", DUTCH, 2.0),
])
def test_the_files_number_style_settles_a_separator(catalogue, indicator, given, convention, expected):
    assert parse_answer(given, catalogue.by_id[indicator], convention) == expected


def test_a_count_reads_a_lone_separator_as_thousands_in_either_style(catalogue):
    ind = catalogue.by_id["committed_members"]
    assert parse_answer("1.250", ind) == 1250.0
    assert parse_answer("1,250", ind) == 1250.0
    assert refused("1.250", catalogue.by_id["management_fte"]).code is C.AMBIGUOUS_NUMBER


@pytest.mark.parametrize("indicator, minimum, below", [
    ("committed_members", 1, 0), ("sme_share", 10, 9.5), ("management_fte", 0.5, 0.25), ("sme_share", 10, 0),
])
def test_a_catalogue_minimum_above_zero_is_enforced(catalogue, indicator, minimum, below):
    """Every shipped indicator starts at 0; another catalogue may not, and its minimum holds."""
    ind = catalogue.by_id[indicator].model_copy(update={"min": float(minimum)})
    assert parse_answer(minimum, ind) == minimum
    assert refused(below, ind).code is C.OUT_OF_RANGE
    assert str(minimum) in expected_text(ind)


def test_a_large_catalogue_bound_is_written_out_in_the_expectation(catalogue):
    """A maximum of two million (a budget in euros, not thousands) reads 2000000, never 2e+06."""
    ind = catalogue.by_id["total_budget"].model_copy(update={"max": 2_000_000.0})
    assert "2000000" in expected_text(ind) and "e+" not in expected_text(ind)
    assert parse_answer("2 000 000", ind) == 2_000_000.0
    assert refused(2_000_001, ind).code is C.OUT_OF_RANGE


# --- yes / no, levels, not answered, formulas -------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    (" Yes ", 1.0), ("nee\t", 0.0), ("True", 1.0), (1.0, 1.0), (0.0, 0.0), (" 1 ", 1.0),
])
def test_yes_no_answers_are_read_as_one_or_zero(catalogue, given, expected):
    got = parse_answer(given, catalogue.by_id["english_website"])
    assert got == expected and type(got) is float


@pytest.mark.parametrize("given", [2, -1, 0.5, 1.5, "2", "yes please", "j", "n"])
def test_no_other_yes_no_answer_is_guessed(catalogue, given):
    assert refused(given, catalogue.by_id["english_website"]).code is C.UNKNOWN_VALUE


@pytest.mark.parametrize("indicator", ["english_website", "member_involvement", "sme_share", "total_budget"])
@pytest.mark.parametrize("blank", [None, "", " ", " n/a ", "Not Answered", "N.V.T."])
def test_blank_is_not_answered_in_every_kind(catalogue, indicator, blank):
    assert parse_answer(blank, catalogue.by_id[indicator]) is None


@pytest.mark.parametrize("indicator", ["english_website", "member_involvement", "sme_share", "total_budget"])
def test_a_formula_without_a_saved_result_is_refused_in_every_kind(catalogue, indicator):
    assert refused(formula("G15"), catalogue.by_id[indicator]).code is C.FORMULA


@pytest.mark.parametrize("given, expected", [
    ("3) co-deciding in a board", 3.0), ("3. co-deciding in a board", 3.0),
    ("4 \u2014 co-deciding in board and working groups", 4.0), ("  2-consulted", 2.0), ("1 :informed", 1.0),
    (" 2 ", 2.0), ("4", 4.0),
])
def test_a_level_is_read_from_its_dropdown_label_in_any_common_form(catalogue, given, expected):
    assert parse_answer(given, catalogue.by_id["member_involvement"]) == expected


@pytest.mark.parametrize("given, code", [
    ("level three", C.UNKNOWN_VALUE), ("three - co-deciding", C.UNKNOWN_VALUE), ("-", C.UNKNOWN_VALUE),
    ("5 - beyond", C.OUT_OF_RANGE), (5, C.OUT_OF_RANGE), ("-1", C.OUT_OF_RANGE), (True, C.WRONG_TYPE),
])
def test_a_level_that_is_not_one_is_refused_with_its_code(catalogue, given, code):
    assert refused(given, catalogue.by_id["member_involvement"]).code is code


def test_the_expectation_states_the_catalogue_range_and_every_level(catalogue):
    for ind in catalogue.indicators:
        text = expected_text(ind)
        if ind.kind == "yes_no":
            assert "yes" in text and "ja" in text and "nee" in text
            continue
        assert f"{int(ind.min)}" in text and f"{int(ind.max)}" in text and ".0" not in text, text
        assert "None" not in text
        if ind.kind in ("count", "amount"):   # a count refuses fractions, so its expectation says so
            assert ("whole number" in text) == (ind.kind == "count"), text
        if ind.kind == "ordinal":
            positions = [text.index(f"{k} - {v.en}") for k, v in sorted(ind.levels.items())]
            assert positions == sorted(positions) and len(positions) == int(ind.max - ind.min) + 1
        elif ind.kind != "share":
            assert ind.unit.en in text


# --- the profile: years, country, texts, each problem in its place ----------------------------

PROFILE = {"name": "Fixture Cluster", "country": "NL", "field": "ict", "founding_year": 2012,
           "benchmark_year": 2025, "region": "Utrecht", "contact": "Test Contact, test@fixture.example"}
FILE = "clients/acme/questionnaire.yaml"


def place(key: str) -> str:
    """Where a profile value sits (one row per key, as in the workbook's profile sheet)."""
    return f"sheet 'profile', row {ROWS.index(key) + 2}"


ROWS = [*PROFILE, "benchmark_id", "interview", "prefilled_from", "prefill_check"]
MISSING_PLACE = "sheet 'profile' (no row for {key})"


def check(catalogue, **values):
    """The profile as checked, and its problems."""
    given = {k: v for k, v in {**PROFILE, **values}.items() if v is not _MISSING}
    raw = _Raw(profile={k: _Entry(FILE, place(k), v) for k, v in given.items()}, profile_file=FILE,
               profile_missing=MISSING_PLACE)
    problems: list = []
    return _check_profile(raw, catalogue, problems), problems


_MISSING = object()


def only_problem(catalogue, key, **values):
    out, problems = check(catalogue, **values)
    (problem,) = problems
    assert (problem.file, problem.place) == (FILE, place(key))
    assert problem.message and problem.expected
    assert key not in out, "a refused value is left out of the profile"
    return problem


def test_the_base_profile_is_accepted_as_given(catalogue):
    out, problems = check(catalogue)
    assert problems == []
    assert out == {**PROFILE, "field": "ict"}


@pytest.mark.parametrize("given", [2012, 2012.0, "2012", " 2012 "])
def test_a_year_is_read_as_a_whole_year(catalogue, given):
    out, problems = check(catalogue, founding_year=given)
    assert problems == [] and out["founding_year"] == 2012 and type(out["founding_year"]) is int


@pytest.mark.parametrize("given", [True, "12", "20120", "2012.0", 2012.5, "MMXII", "2012-01"])
def test_what_is_not_a_year_is_refused_in_its_place(catalogue, given):
    problem = only_problem(catalogue, "founding_year", founding_year=given)
    assert problem.code is C.WRONG_TYPE and problem.value == given


def test_founding_years_from_1900_to_this_year_are_accepted(catalogue):
    now = _this_year()
    for year in (EARLIEST_YEAR, now):
        out, problems = check(catalogue, founding_year=year, benchmark_year=now)
        assert problems == [] and out["founding_year"] == year
    for year in (EARLIEST_YEAR - 1, now + 1):
        assert only_problem(catalogue, "founding_year", founding_year=year).code is C.OUT_OF_RANGE


def test_benchmark_years_from_the_founding_year_to_this_year_are_accepted(catalogue):
    now = _this_year()
    for founded, year in ((2012, 2012), (2012, now), (EARLIEST_YEAR, EARLIEST_YEAR)):
        out, problems = check(catalogue, founding_year=founded, benchmark_year=year)
        assert problems == [] and out["benchmark_year"] == year
    assert only_problem(catalogue, "benchmark_year", benchmark_year=now + 1).code is C.OUT_OF_RANGE
    assert only_problem(catalogue, "benchmark_year", benchmark_year=2011).code is C.INCONSISTENT
    early = only_problem(catalogue, "benchmark_year", founding_year=EARLIEST_YEAR, benchmark_year=EARLIEST_YEAR - 1)
    assert early.code is C.OUT_OF_RANGE


@pytest.mark.parametrize("given, expected", [("de", "DE"), (" nl ", "NL"), ("Fr", "FR"), ("NO", "NO")])
def test_a_country_code_is_normalised(catalogue, given, expected):
    out, problems = check(catalogue, country=given)
    assert problems == [] and out["country"] == expected


@pytest.mark.parametrize("given, hint", [
    ("UK", "GB"), ("el", "GR"), ("Netherlands", "NL"), ("DEU", "DE"), ("XX", None), ("N1", None), (31, None),
    (False, None),
])
def test_an_unknown_country_is_refused_with_a_hint_where_one_is_known(catalogue, given, hint):
    problem = only_problem(catalogue, "country", country=given)
    assert problem.code is C.UNKNOWN_VALUE and problem.value is given
    if hint:
        assert problem.expected.startswith(EXPECTED_COUNTRY) and f" {hint}?" in problem.expected
    elif given is not False:
        assert problem.expected == EXPECTED_COUNTRY


@pytest.mark.parametrize("key", sorted(PROFILE))
@pytest.mark.parametrize("blank", ["", "  ", None])
def test_a_blank_required_profile_value_is_missing_in_its_place(catalogue, key, blank):
    assert only_problem(catalogue, key, **{key: blank}).code is C.MISSING_VALUE


def test_a_missing_profile_key_is_reported_unless_the_profile_was_unreadable(catalogue):
    out, problems = check(catalogue, region=_MISSING)
    (problem,) = problems
    assert (problem.code, problem.file, problem.place) == (C.MISSING_KEY, FILE, MISSING_PLACE.format(key="region"))
    raw = _Raw(profile={}, profile_file=FILE, have_profile=False)
    problems = []
    assert _check_profile(raw, catalogue, problems) == {} and problems == []


def test_a_number_cell_in_a_profile_text_loses_the_float_excel_gave_it(catalogue):
    out, problems = check(catalogue, benchmark_id=42.0, region=3511.0, contact=2.5)
    assert problems == [] and (out["benchmark_id"], out["region"], out["contact"]) == ("42", "3511", "2.5")


def test_a_blank_optional_profile_value_is_none(catalogue):
    out, problems = check(catalogue, benchmark_id="", interview=None)
    assert problems == [] and out["benchmark_id"] is None and out["interview"] is None
    out, problems = check(catalogue, benchmark_id=" CO-00042 ")
    assert problems == [] and out["benchmark_id"] == "CO-00042"


def test_a_profile_formula_without_a_saved_result_is_refused(catalogue):
    assert only_problem(catalogue, "region", region=formula("C7")).code is C.FORMULA


@pytest.mark.parametrize("given", ["Soci\u00e9t\u00e9 Z\u00fcrich \u2013 \u00c5lesund", "Nord\u00a0Cluster",
                                   "A\tB", "Cluster \U0001f345"])
def test_a_profile_text_in_any_script_is_kept(catalogue, given):
    out, problems = check(catalogue, name=given)
    assert problems == [] and out["name"] == given


def test_an_emoji_written_as_two_surrogate_escapes_is_the_emoji(catalogue):
    out, problems = check(catalogue, name="Tomato \ud83c\udf45 Cluster")
    assert problems == [] and out["name"] == "Tomato \U0001f345 Cluster"


@pytest.mark.parametrize("given", ["\x1b[31mRed\x1b[0m", "Bell\x07", "Nul\x00", "a\x08b", "a\x0bb", "a\x0cb",
                                   "a\x0eb", "a\x1fb", "a\x7fb", "a\x85b", "a\x9fb", "lone \ud83c", "lone \udf45 x"])
def test_control_characters_and_lone_surrogates_are_refused_in_their_place(catalogue, given):
    assert only_problem(catalogue, "contact", contact=given).code is C.INVALID_TEXT


def test_an_unknown_field_is_refused_and_a_known_name_is_its_id(catalogue):
    assert only_problem(catalogue, "field", field="quantum computing").code is C.UNKNOWN_VALUE
    out, problems = check(catalogue, field="Food industry")
    assert problems == [] and out["field"] == "food"


@pytest.mark.parametrize("month, ok", [("2025-01", True), ("2025-12", True), ("2026-03", True),
                                       ("2024-12", False), ("2027-01", False)])
def test_the_interview_falls_in_or_just_after_the_benchmark_year(catalogue, month, ok):
    out, problems = check(catalogue, interview=month)
    if ok:
        assert problems == [] and out["interview"] == (int(month[:4]), int(month[5:]))
    else:
        problem = only_problem(catalogue, "interview", interview=month)
        assert problem.code is C.INCONSISTENT


def test_an_interview_that_is_no_month_is_refused(catalogue):
    assert only_problem(catalogue, "interview", interview="in May").code is C.WRONG_TYPE


def test_a_prefill_marker_needs_both_its_halves(catalogue):
    out, problems = check(catalogue, prefilled_from="2024", prefill_check="abc123")
    assert problems == []
    for given, missing in (({"prefilled_from": "2024"}, "prefill_check"),
                           ({"prefill_check": "abc123"}, "prefilled_from")):
        _, problems = check(catalogue, **given)
        (problem,) = problems
        assert (problem.code, problem.file, problem.place) == (C.MISSING_VALUE, FILE,
                                                               MISSING_PLACE.format(key=missing))
        assert problem.message and problem.expected
    _, problems = check(catalogue, prefilled_from="2024", prefill_check="")   # the row is there, blank
    (problem,) = problems
    assert (problem.code, problem.file, problem.place) == (C.MISSING_VALUE, FILE, place("prefill_check"))


def test_an_unknown_field_suggests_the_id_it_resembles(catalogue):
    problem = only_problem(catalogue, "field", field="fod")
    assert problem.code is C.UNKNOWN_VALUE and problem.expected.endswith("(did you mean 'food'?)")

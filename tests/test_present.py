"""auditlib.present: the one rule for displayed figures, English and Dutch number conventions."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from auditlib import present
from auditlib.catalogue import load_catalogue
from auditlib.errors import ParameterError

from auditlib.testing import DATA


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DATA / "catalogue")


@pytest.mark.parametrize("raw, shown", [
    (96.875, 96), (74.71, 74), (74.99999999, 74), (74.999999999, 75), (75 - 1e-12, 75), (75.0, 75), (74.9999999999, 75),
    (79.97, 79), (79.5, 79), (80.0, 80), (9.5, 9), (0.0, 0), (100.0, 100), (49.52, 49), (59.48, 59),
    (68.87, 68), (np.float64(50.0), 50), (-0.4, -1), (1e12 + 0.5, 10 ** 12),
])
def test_the_rule_floors_with_float_noise_absorbed(raw, shown):
    assert present.shown_percentile(raw) == shown


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, math.inf, "x"])
def test_missing_figures_are_none_and_a_dash(missing, catalogue):
    assert present.shown_percentile(missing) is None
    assert present.percentile(missing, "en") == present.DASH
    assert present.percentile(missing, "nl", long=True) == present.DASH
    assert present.dimension_score(missing, "nl") == present.DASH
    assert present.peer_median(missing, "en") == present.DASH
    assert present.gold_total(missing, "en") == present.DASH
    assert present.number(missing, "nl") == present.DASH
    assert present.band(missing, catalogue, "en") == ""
    assert present.band_id(missing, catalogue) is None


def test_percentile_short_and_long_in_both_languages():
    assert present.percentile(96.875, "en") == "P96"
    assert present.percentile(96.875, "en", long=True) == "percentile 96"
    assert present.percentile(96.875, "nl", long=True) == "percentiel 96"
    assert present.percentile_number(74.71, "nl") == "74"


@pytest.mark.parametrize("raw", [24.999, 25.0, 49.97, 50.0, 74.71, 74.99999999, 74.999999999, 74.9999999999, 75.0,
                                 89.99,
                                 90.0, 9.5, 0.0, 100.0])
def test_band_always_agrees_with_the_number_shown(raw, catalogue):
    shown = present.shown_percentile(raw)
    bid = present.band_id(raw, catalogue)
    bounds = {b.id: b.min for b in catalogue.peers.bands}
    # the band is the one whose lower bound the *shown* number reaches, and no higher one
    assert shown >= bounds[bid]
    assert all(shown < m for b, m in bounds.items() if m > bounds[bid])
    names = {b.id: b.name for b in catalogue.peers.bands}
    assert present.band(raw, catalogue, "nl") == names[bid].nl
    assert present.band(raw, catalogue, "en") == names[bid].en


def test_boundary_bands(catalogue):
    assert present.band_id(74.71, catalogue) == "upper_middle"
    assert present.band_id(75.0, catalogue) == "top_quartile"
    assert present.band_id(9.5, catalogue) == "bottom_quartile"
    assert present.band_id(89.999, catalogue) == "top_quartile"


def test_gold_total_never_reads_80_unless_it_passes():
    assert present.gold_total(79.97, "en") == "79%"
    assert present.gold_total(79.5, "nl") == "79%"
    assert present.gold_total(80.0, "en") == "80%"
    assert present.gold_total(80.01, "nl") == "80%"
    for raw in np.linspace(79.0, 81.0, 2001):
        reads_80_or_more = int(present.gold_total(raw, "en").rstrip("%")) >= 80
        assert reads_80_or_more == (raw >= 80 - 1e-9)


@pytest.mark.parametrize("x, decimals, en, nl", [
    (1250.5, 1, "1,250.5", "1.250,5"), (1250.5, None, "1,250.5", "1.250,5"), (3.25, None, "3.25", "3,25"),
    (12.54, None, "12.5", "12,5"),
    (0.5, None, "0.5", "0,5"), (12.0, None, "12", "12"), (-1234.5, 1, "-1,234.5", "-1.234,5"),
    (-0.01, 0, "0", "0"), (1e9, None, "1,000,000,000", "1.000.000.000"), (620, None, "620", "620"),
])
def test_numbers_en_and_nl(x, decimals, en, nl):
    assert present.number(x, "en", decimals) == en
    assert present.number(x, "nl", decimals) == nl


def test_share_money_count():
    assert present.share(62, "en") == "62%"
    assert present.share(12.5, "nl") == "12,5%"
    assert present.share(None, "nl") == present.DASH
    assert present.count(1278, "en") == "1,278"
    assert present.count(1278, "nl") == "1.278"
    assert present.money(1620, "nl") == "€ 1.620k"


def test_group_size_hides_a_group_below_the_floor():
    assert present.group_size(1278, 10, "en") == "1,278"
    assert present.group_size(1278, 10, "nl") == "1.278"
    assert present.group_size(10, 10, "en") == "10"
    assert present.group_size(9, 10, "en") == "fewer than 10"
    assert present.group_size(0, 10, "nl") == "minder dan 10"
    assert present.group_size(None, 10, "nl") == "minder dan 10"
    assert present.group_size(float("nan"), 5, "en") == "fewer than 5"


def test_values_by_indicator_kind(catalogue):
    kinds = {i.kind: i for i in catalogue.indicators}
    assert present.value(kinds["yes_no"], 1, "nl") == present.words("nl")["yes"]
    assert present.value(kinds["yes_no"], 0.0, "en") == "no"
    assert present.value(kinds["share"], 62.5, "nl") == "62,5%"
    assert present.value(kinds["ordinal"], 2.6, "en") == "3"
    assert present.value(kinds["share"], None, "en") == present.DASH
    number_ind = next(i for i in catalogue.indicators if i.kind not in ("yes_no", "share", "ordinal"))
    assert present.value_with_unit(number_ind, 1500, "nl").startswith("1.500 ")


def test_dates():
    assert present.date("2026-11-30", "en") == "30 November 2026"
    assert present.date(dt.date(2026, 3, 1), "nl") == "1 maart 2026"
    assert present.date(2024, "nl") == "2024"
    assert present.date(None, "en") == present.DASH


def test_words_refuse_an_unknown_language():
    with pytest.raises(ParameterError, match="not a report language"):
        present.words("de")
    assert present.words("en")["percentile_long"] and present.words("nl")["fewer_than"]


def _with_silver(catalogue, *, areas: int, improved: int, gap: tuple[float, float]):
    """The catalogue with other Silver rules (a copy: the shared catalogue is not changed)."""
    import copy

    silver = catalogue.labels.silver.model_copy(update={
        "improvement_areas": areas, "min_areas_improved": improved,
        "earlier_audit_gap_years": catalogue.labels.silver.earlier_audit_gap_years.model_copy(
            update={"min": gap[0], "max": gap[1]})})
    other = copy.copy(catalogue)
    other.labels = catalogue.labels.model_copy(update={"silver": silver})
    return other


def test_silver_rule_in_words_follows_labels_yaml(catalogue):
    shipped = present.silver_gap(catalogue, "en")
    silver = catalogue.labels.silver
    assert shipped["areas_text"] == f"{silver.improvement_areas} improvement areas"
    assert shipped["quality_total"] == str(len(catalogue.labels.gold.quality))
    one = _with_silver(catalogue, areas=1, improved=1, gap=(0.5, 1))
    assert present.silver_gap(one, "en")["areas_text"] == "1 improvement area"          # never "1 areas"
    assert present.silver_gap(one, "nl")["areas_text"] == "1 verbetergebied"
    assert present.silver_gap(one, "en")["gap_years"] == "year"                          # "0.5 to 1 year"
    assert present.silver_gap(one, "nl")["gap_min"] == "0,5"
    two = _with_silver(catalogue, areas=2, improved=1, gap=(2, 3))
    words = present.silver_gap(two, "en")
    assert (words["gap_min"], words["gap_max"], words["gap_years"]) == ("2", "3", "years")
    assert words["improved_text"] == "at least 1 of the improvement areas"
    assert present.criterion_name("silver_areas", two, "en").startswith("2 improvement areas")
    assert present.criterion_name("silver_second_benchmark", two, "nl").endswith("2 tot 3 jaar na de vorige")


def test_no_silver_number_is_written_in_the_words():
    """Every number of the label rules comes from labels.yaml: none spelled out in words.yaml."""
    import re

    from auditlib.config import PACKAGE_ROOT

    text = (PACKAGE_ROOT / "templates" / "report" / "words.yaml").read_text(encoding="utf-8").lower()
    for literal in ("three improvement", "drie verbeter", "first three", "eerste drie", "one to two year",
                    "1.5 to 2", "1,5 tot 2", "31 quality", "31 kwaliteit"):
        assert literal not in text, literal
    assert not re.search(r"\b\d+ (improvement areas?|verbetergebied(en)?)\b", text)


# --- figures between the rules: decimals, boundaries, the dash ---------------------------------

@pytest.mark.parametrize("x, en, nl", [
    (10.26, "10.3", "10,3"),          # from 10 one decimal ...
    (9.87, "9.87", "9,87"),           # ... below 10 two, never three
    (3.14159, "3.14", "3,14"),
    (3.001, "3", "3"),                # rounds to a whole number: no lone separator ("3." / "3,")
    (1234.999, "1,235", "1.235"),     # rounds up across a thousands separator
    (-12.04, "-12", "-12"),
])
def test_automatic_decimals_in_both_languages(x, en, nl):
    assert present.number(x, "en") == en
    assert present.number(x, "nl") == nl


def test_scores_and_medians_use_the_floor_rule():
    assert present.dimension_score(74.71, "nl") == "74"
    assert present.dimension_score(74.9999999999, "en") == "75"
    assert present.peer_median(49.97, "en") == "49"
    assert present.peer_median(None, "nl") == present.DASH


def test_money_and_count_missing_and_dutch():
    assert present.money(None, "en") == present.DASH       # never "€ –k"
    assert present.money(float("nan"), "nl") == present.DASH
    assert present.money(620, "en") == "€ 620k"
    assert present.money(1250.5, "en") == "€ 1,250.5k"
    assert present.count(1277.6, "nl") == "1.278"
    assert present.count(None, "en") == present.DASH


def test_group_size_without_a_floor():
    assert present.group_size(None, None, "en") == present.DASH   # no bound to state: not "fewer than "
    assert present.group_size(float("nan"), None, "nl") == present.DASH
    assert present.group_size(3, None, "nl") == "3"
    assert present.group_size(1278, None, "nl") == "1.278"


@pytest.fixture(scope="module")
def ind(catalogue):
    """One indicator of each sort the value and unit rules tell apart."""
    return {"count_one": catalogue.indicator("committed_members"),   # unit with a singular (participant)
            "fte": catalogue.indicator("management_fte"),            # unit without one (FTE)
            "yes_no": next(i for i in catalogue.indicators if i.kind == "yes_no"),
            "share": next(i for i in catalogue.indicators if i.kind == "share")}


def test_yes_no_boundary_and_value_without_an_indicator(ind):
    assert present.value(ind["yes_no"], 0.5, "en") == "yes"       # a half rounds to yes
    assert present.value(ind["yes_no"], 0.49, "en") == "no"
    assert present.value(ind["yes_no"], 1, "nl") == "ja"
    assert present.value(ind["yes_no"], 0, "nl") == "nee"
    assert present.value(None, 1250.5, "nl") == "1.250,5"
    assert present.value(None, 1250.5, "en") == "1,250.5"
    assert present.value(ind["fte"], 1250.5, "nl") == "1.250,5"


def test_unit_singular_after_a_figure_shown_as_one(ind):
    c, fte = ind["count_one"], ind["fte"]
    assert present.unit(c, 1, "en") == "participant"
    assert present.unit(c, 1, "nl") == "deelnemer"
    assert present.unit(c, 1.004, "en") == "participant"          # reads "1"
    assert present.unit(c, 3, "en") == "participants"
    assert present.unit(c, 0, "nl") == "deelnemers"
    assert present.unit(c, 1.5, "en") == "participants"
    assert present.unit(c, None, "en") == "participants"          # after a dash: the plural
    assert present.unit(fte, 1, "en") == "FTE"                    # no singular in the catalogue
    assert present.unit(fte, 2, "nl") == "fte"
    assert present.unit(None, 1, "en") == ""


def test_value_with_unit(ind):
    c = ind["count_one"]
    assert present.value_with_unit(c, 1, "en") == "1 participant"
    assert present.value_with_unit(c, 1500, "nl") == "1.500 deelnemers"
    assert present.value_with_unit(c, None, "en") == present.DASH        # not "– participants"
    assert present.value_with_unit(ind["fte"], 2.5, "nl") == "2,5 fte"
    assert present.value_with_unit(ind["yes_no"], 1, "en") == "yes"      # the word carries it
    assert present.value_with_unit(ind["yes_no"], 0, "nl") == "nee"
    assert present.value_with_unit(ind["share"], 62.5, "nl") == "62,5%"  # not "62,5% %"
    assert present.value_with_unit(None, 1250.5, "nl") == "1.250,5"


def test_plural_reads_the_figure_as_shown():
    assert present.plural(1, "year", "years") == "year"
    assert present.plural("1", "year", "years") == "year"
    assert present.plural(" 1 ", "year", "years") == "year"
    assert present.plural("1,5", "jaar", "jaar") == "jaar"
    assert present.plural(1.5, "year", "years") == "years"
    assert present.plural(0, "year", "years") == "years"
    assert present.plural(None, "year", "years") == "years"
    assert present.plural(present.DASH, "year", "years") == "years"


def test_dates_more():
    assert present.date("", "en") == present.DASH
    assert present.date(dt.datetime(2026, 5, 31, 23, 59), "en") == "31 May 2026"
    assert present.date(dt.datetime(2026, 5, 31, 23, 59), "nl") == "31 mei 2026"
    assert present.date("2026-12-01", "nl") == "1 december 2026"
    assert present.date("spring 2026", "en") == "spring 2026"       # not a date: as written


def test_months_short_and_long():
    assert present.month("2027-05", "en") == "2027-05"
    assert present.month("2027-5", "nl") == "2027-05"
    assert present.month(dt.date(2027, 1, 31), "en") == "2027-01"
    assert present.month("2027-05", "en", long=True) == "May 2027"
    assert present.month("2027-05", "nl", long=True) == "mei 2027"
    assert present.month(dt.date(2026, 12, 1), "nl", long=True) == "december 2026"
    assert present.month(None, "en") == present.DASH
    assert present.month("", "nl", long=True) == present.DASH
    assert present.month("soon", "en") == "soon"
    assert present.month("2027-05-14", "en") == "2027-05"                 # an ISO date: its month
    assert present.month("2027-05-14", "nl", long=True) == "mei 2027"


def test_pct_change_signs():
    assert present.pct_change(12, "en") == "+12"
    assert present.pct_change(-3, "nl") == "−3"                     # a minus sign, not a hyphen
    assert present.pct_change(0, "en") == "0"
    assert present.pct_change(1, "en") == "+1"
    assert present.pct_change(-1, "en") == "−1"
    assert present.pct_change(None, "en") == present.DASH
    assert present.pct_change(float("nan"), "nl") == present.DASH


def test_criterion_kind_in_both_languages():
    assert present.criterion_kind("quality", "en") == "quality threshold"
    assert present.criterion_kind("minimum", "nl") == "minimumeis"
    assert present.criterion_kind("timing", "nl") == "tweede benchmark"
    assert present.criterion_kind("other", "en") == "other"         # unknown: shown as it is


def test_silver_words_defaults_and_every_area(catalogue):
    from auditlib.intake.model import DEFAULT_INTERVIEW_MONTH

    assert present.silver_gap(catalogue) == present.silver_gap(catalogue, "en")
    shipped = present.silver_gap(catalogue, "nl")
    assert shipped["areas"] == str(catalogue.labels.silver.improvement_areas)
    assert shipped["gold_min"] == present.number(catalogue.labels.gold.total_score_min, "nl")
    assert DEFAULT_INTERVIEW_MONTH == 6                               # June, the month the words name
    assert shipped["default_month"] == "juni"
    assert present.silver_gap(catalogue, "en")["default_month"] == "June"
    every = _with_silver(catalogue, areas=2, improved=2, gap=(1, 2.5))
    assert present.silver_gap(every, "en")["improved_text"] == "every improvement area"
    assert present.silver_gap(every, "nl")["improved_text"] == "elk verbetergebied"
    assert present.silver_gap(every, "nl")["gap_max"] == "2,5"
    assert present.silver_gap(every, "en")["gap_max"] == "2.5"


def test_criterion_name_by_indicator(catalogue):
    assert present.criterion_name("gold_min_members", catalogue, "nl", "committed_members") == \
        "Betrokken deelnemers"
    assert present.criterion_name("gold_min_members", catalogue, "en", "committed_members") == \
        "Committed participants"
    assert present.criterion_name("x_rule", catalogue, "en", "no_such_indicator") == "x_rule"
    assert present.criterion_name("x_rule", catalogue, "en") == "x_rule"


def test_words_refuse_an_unknown_language_with_a_code():
    from auditlib.errors import ProblemCode

    with pytest.raises(ParameterError) as caught:
        present.words("EN")
    assert caught.value.code == ProblemCode.INVALID_PARAMETER


# --- the label ladder ---------------------------------------------------------------------------

def _readiness(*, gold_failed: tuple[str, ...], gold_total: float, silver_failed: tuple[str, ...]):
    """A readiness with known blockers (the frame in labels.evaluate's shape, only the rows needed)."""
    import pandas as pd

    from auditlib.labels import CRITERIA_COLUMNS, LabelReadiness, LabelVerdict

    rows = [("bronze", "minimum", "bronze_fte", "management_fte"),
            ("silver", "minimum", "gold_min_members", "committed_members"),
            ("silver", "improvement", "silver_areas", None),
            ("silver", "timing", "silver_second_benchmark", None),
            ("gold", "minimum", "gold_min_members", "committed_members"),
            ("gold", "quality", "q01", "committed_members"),
            ("gold", "quality", "q03", "sme_share"),
            ("gold", "quality", "q05", "management_fte")]
    frame = pd.DataFrame([dict(zip(CRITERIA_COLUMNS, r)) for r in rows], columns=CRITERIA_COLUMNS)
    verdicts = {"bronze": LabelVerdict("bronze", True, 1, 1),
                "silver": LabelVerdict("silver", not silver_failed, 0, 3, silver_failed),
                "gold": LabelVerdict("gold", not gold_failed and gold_total >= 80, 0, 4, gold_failed,
                                     gold_total)}
    return LabelReadiness(frame, verdicts)


@pytest.fixture(scope="module")
def blocked():
    """Bronze ready; Silver blocked by a Gold minimum and both Silver parts; Gold by a minimum,
    two quality thresholds and a total of 79.97 (reads 79%, never 80%)."""
    return _readiness(silver_failed=("gold_min_members", "silver_areas", "silver_second_benchmark"),
                      gold_failed=("gold_min_members", "q01", "q03"), gold_total=79.97)


def test_label_ladder_in_english(blocked, catalogue):
    ladder = present.label_ladder(blocked, catalogue, "en")
    assert ladder == [
        {"label": "bronze", "name": "Bronze", "ready": True, "state": "ready", "blockers": []},
        {"label": "silver", "name": "Silver", "ready": False, "state": "not yet",
         "blockers": ["Committed participants", "3 improvement areas named (Gold quality indicators)",
                      "a second benchmark, interviewed 1.5 to 2 years after the earlier one"]},
        {"label": "gold", "name": "Gold", "ready": False, "state": "not yet",
         "blockers": ["Committed participants", "a total score of at least 80% (now 79%)",
                      "2 quality thresholds not yet reached"]}]


def test_label_ladder_in_dutch(blocked, catalogue):
    ladder = present.label_ladder(blocked, catalogue, "nl")
    assert [(s["name"], s["state"]) for s in ladder] == [("Brons", "gereed"), ("Zilver", "nog niet"),
                                                        ("Goud", "nog niet")]
    assert ladder[1]["blockers"] == ["Betrokken deelnemers",
                                     "3 verbetergebieden benoemd (kwaliteitsindicatoren van Goud)",
                                     "een tweede benchmark, met een interview 1,5 tot 2 jaar na de vorige"]
    assert ladder[2]["blockers"] == ["Betrokken deelnemers", "een totaalscore van minstens 80% (nu 79%)",
                                     "2 kwaliteitsdrempels"]


def test_label_ladder_one_quality_threshold_and_a_passing_total(catalogue):
    one = _readiness(silver_failed=(), gold_failed=("q05",), gold_total=80.0)
    en, nl = present.label_ladder(one, catalogue, "en"), present.label_ladder(one, catalogue, "nl")
    assert en[1] == {"label": "silver", "name": "Silver", "ready": True, "state": "ready", "blockers": []}
    assert en[2]["blockers"] == ["1 quality threshold not yet reached"]      # singular, total not listed
    assert nl[2]["blockers"] == ["1 kwaliteitsdrempel"]
    ready = _readiness(silver_failed=(), gold_failed=(), gold_total=100.0)
    assert [s["ready"] for s in present.label_ladder(ready, catalogue, "en")] == [True, True, True]
    assert all(not s["blockers"] for s in present.label_ladder(ready, catalogue, "nl"))


def test_ladder_line_in_both_languages(blocked, catalogue):
    assert present.ladder_line(blocked, catalogue, "en") == (
        "Bronze: ready · Silver: not yet (needs: Committed participants; 3 improvement areas named (Gold "
        "quality indicators); a second benchmark, interviewed 1.5 to 2 years after the earlier one) · "
        "Gold: not yet (needs: Committed participants; a total score of at least 80% (now 79%); "
        "2 quality thresholds not yet reached)")
    ready = _readiness(silver_failed=(), gold_failed=(), gold_total=95.5)
    assert present.ladder_line(ready, catalogue, "nl") == "Brons: gereed · Zilver: gereed · Goud: gereed"


def test_label_ladder_of_a_real_evaluation(catalogue):
    """The ladder of labels.evaluate's own frame: every label not ready says what blocks it."""
    from auditlib.labels import evaluate

    answers = {i: None for i in catalogue.ids}
    answers.update(management_fte=1.0, committed_members=20, member_types=3, english_website=1)
    readiness = evaluate(catalogue, answers, benchmark_year=2026)
    for lang in present.LANGUAGES:
        ladder = present.label_ladder(readiness, catalogue, lang)
        assert [s["label"] for s in ladder] == ["bronze", "silver", "gold"]
        assert ladder[0]["ready"] and not ladder[0]["blockers"]
        assert all(s["blockers"] for s in ladder if not s["ready"])
        assert not any(b.startswith(("gold_", "silver_", "q")) for s in ladder for b in s["blockers"])


def test_a_gold_minimum_with_decimals_reads_dutch(catalogue):
    """A licensed labels.yaml may set a minimum such as 72.5: the Dutch words say 72,5%."""
    import copy

    gold = catalogue.labels.gold.model_copy(update={"total_score_min": 72.5})
    other = copy.copy(catalogue)
    other.labels = catalogue.labels.model_copy(update={"gold": gold})
    assert present.silver_gap(other, "nl")["gold_min"] == "72,5"
    assert present.silver_gap(other, "en")["gold_min"] == "72.5"
    low = _readiness(silver_failed=(), gold_failed=(), gold_total=72.49)
    assert present.label_ladder(low, other, "nl")[2]["blockers"] == ["een totaalscore van minstens 72,5% (nu 72%)"]
    assert present.label_ladder(low, other, "en")[2]["blockers"] == ["a total score of at least 72.5% (now 72%)"]


@pytest.mark.parametrize("name", ["words.yaml", "journey.yaml"])
def test_shipped_word_lists_read_the_same_as_with_the_pure_python_parser(name):
    """word_list parses with libyaml when it can: the words are exactly those of yaml.safe_load."""
    import yaml

    path = present.WORDS_FILE.parent / name
    assert present.word_list(path) == yaml.safe_load(path.read_text(encoding="utf-8"))

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

"""Improvement handles: priority order, targets, label criteria, Silver candidate areas."""

from __future__ import annotations

import math

import pytest

from auditlib.audit import analyse
from auditlib.handles import HandleSettings, _reachable, improvement_handles, load_actions, silver_areas
from auditlib.interpret import interpret

from auditlib.testing import make_db, make_profile

# Answers that clear every indicator criterion of Silver (the Gold minimums), so no handle is
# label-relevant unless a test makes it so.
SILVER_CLEAR = dict(written_strategy=1, satisfaction_survey=1)


def handles_for(catalogue, db, **answers):
    result = analyse(make_profile(catalogue, **answers), catalogue=catalogue, benchmark=db, groups=["all"])
    return result, improvement_handles(result)


def row(handles, indicator):
    rows = handles[handles["indicator"] == indicator]
    assert len(rows) == 1, f"no handle for {indicator}"
    return rows.iloc[0]


@pytest.fixture(scope="module")
def twin_db(reference_frame):
    """Two share indicators with identical peer data (weights 1.0 and 0.8), and a third twin of weight 1.0."""
    frame = reference_frame.copy()
    frame["fee_paying_share"] = frame["active_member_share"]
    frame["service_usage"] = frame["active_member_share"]
    return make_db(frame)


def test_columns_and_priority_numbers(catalogue, synthetic_db):
    _, h = handles_for(catalogue, synthetic_db, service_usage=5)
    for col in ["priority", "indicator", "dimension", "value", "target", "target_kind", "gap", "criterion",
                "label", "action", "score"]:
        assert col in h.columns
    assert list(h["priority"]) == list(range(1, len(h) + 1))
    assert h["score"].is_monotonic_decreasing


def test_bigger_gap_ranks_higher(catalogue, synthetic_db, reference_frame):
    low = float(reference_frame["service_usage"].quantile(0.05))
    mid = float(reference_frame["active_member_share"].quantile(0.40))
    _, h = handles_for(catalogue, synthetic_db, service_usage=low, active_member_share=mid, **SILVER_CLEAR)
    a, b = row(h, "service_usage"), row(h, "active_member_share")
    assert a["weight"] == b["weight"] and not a["next_label"] and not b["next_label"]
    assert a["gap_score"] > b["gap_score"] and a["priority"] < b["priority"]


def test_higher_weight_ranks_higher(catalogue, twin_db):
    _, h = handles_for(catalogue, twin_db, active_member_share=10, fee_paying_share=10, **SILVER_CLEAR)
    heavy, light = row(h, "active_member_share"), row(h, "fee_paying_share")
    assert heavy["gap_score"] == pytest.approx(light["gap_score"])
    assert heavy["weight"] > light["weight"] and heavy["priority"] < light["priority"]


def test_next_label_criterion_ranks_higher(catalogue, synthetic_db, reference_frame):
    low = float(reference_frame["service_usage"].min())
    result, h = handles_for(catalogue, synthetic_db, service_usage=low, written_strategy=1, satisfaction_survey=0)
    assert result.labels.next_label == "silver"
    survey, usage = row(h, "satisfaction_survey"), row(h, "service_usage")
    assert survey["next_label"] and not usage["next_label"]
    assert survey["weight"] < usage["weight"] and survey["priority"] < usage["priority"]
    assert survey["target_kind"] == "threshold" and survey["target"] == 1
    assert survey["criterion"] == "gold_min_survey" and survey["label"] == "silver"


def test_tie_break_is_catalogue_order_and_deterministic(catalogue, twin_db):
    # service_usage (services) and active_member_share (interaction): same peers, value and weight
    _, h = handles_for(catalogue, twin_db, service_usage=10, active_member_share=10, **SILVER_CLEAR)
    a, b = row(h, "service_usage"), row(h, "active_member_share")
    assert a["score"] == b["score"] and a["weight"] == b["weight"]
    assert a["priority"] < b["priority"]
    _, again = handles_for(catalogue, twin_db, service_usage=10, active_member_share=10, **SILVER_CLEAR)
    assert list(again["indicator"]) == list(h["indicator"])


def test_weights_are_data(catalogue, synthetic_db, reference_frame):
    low = float(reference_frame["service_usage"].min())
    result, _ = handles_for(catalogue, synthetic_db, service_usage=low, written_strategy=1, satisfaction_survey=0)
    h = improvement_handles(result, settings=HandleSettings(label_weight=0.0))
    assert row(h, "service_usage")["priority"] < row(h, "satisfaction_survey")["priority"]


def test_target_is_next_quartile_higher_is_better(catalogue, synthetic_db):
    result, h = handles_for(catalogue, synthetic_db, service_usage=1.0, **SILVER_CLEAR)
    pos = result.positions_in("all").set_index("indicator").loc["service_usage"]
    r = row(h, "service_usage")
    assert r["target_kind"] == "next quartile" and r["target_step"] == "P25"
    assert r["target"] == math.ceil(round(pos["p25"] * 10, 6)) / 10 and r["target"] >= pos["p25"]
    assert r["gap"] == pytest.approx(r["target"] - 1.0)
    assert r["criterion"] == "q18" and r["label"] == "gold"
    # between median and P75: the next step is P75
    value = (pos["median"] + pos["p75"]) / 2
    _, h = handles_for(catalogue, synthetic_db, service_usage=value, **SILVER_CLEAR)
    assert row(h, "service_usage")["target_step"] == "P75"


def test_target_lower_is_better(catalogue, synthetic_db):
    result, h = handles_for(catalogue, synthetic_db, public_funding_share=99.0, strategy_age=30, **SILVER_CLEAR)
    pos = result.positions_in("all").set_index("indicator")
    public, strategy = row(h, "public_funding_share"), row(h, "strategy_age")
    # a bad lower-is-better value: the first step is the raw P75 (25% of peers are worse)
    assert public["target_step"] == "P25" and public["target"] <= pos.loc["public_funding_share", "p75"]
    assert public["target"] == math.floor(round(pos.loc["public_funding_share", "p75"] * 10, 6)) / 10
    assert public["target"] < 99.0
    assert strategy["target"] == math.floor(pos.loc["strategy_age", "p75"]) and strategy["target"] < 30


def test_target_is_threshold_for_the_next_label(catalogue, synthetic_db):
    result, h = handles_for(catalogue, synthetic_db, committed_members=10)
    assert result.labels.next_label == "bronze"
    r = row(h, "committed_members")
    assert (r["target_kind"], r["target"], r["criterion"], r["label"]) == ("threshold", 15.0, "bronze_members",
                                                                           "bronze")
    assert r["gap"] == 5 and r["priority"] == 1


def test_unanswered_only_when_a_next_label_criterion_needs_it(catalogue, synthetic_db):
    result, h = handles_for(catalogue, synthetic_db, satisfaction_survey=1)    # written_strategy unanswered
    r = row(h, "written_strategy")
    assert math.isnan(r["value"]) and r["target_kind"] == "threshold" and r["criterion"] == "gold_min_strategy"
    assert r["action"] == load_actions(catalogue).unanswered.en
    assert "service_usage" not in set(h["indicator"])                 # unanswered, no criterion: skipped
    assert not set(h["indicator"]) & {"org_age", "regional_concentration"}    # context only: never


def test_no_handle_at_the_top(catalogue, synthetic_db, reference_frame):
    top = float(reference_frame["service_usage"].max())
    _, h = handles_for(catalogue, synthetic_db, service_usage=top, **SILVER_CLEAR)
    assert "service_usage" not in set(h["indicator"])


def test_silver_areas_are_top_three_gold_quality_handles(catalogue, synthetic_db):
    # transition_services is not a Gold quality indicator: a high handle, but never a Silver area
    result, h = handles_for(catalogue, synthetic_db, transition_services=0, service_usage=1, events_per_year=0,
                            joint_projects=0, member_cooperations=0, **SILVER_CLEAR)
    quality = {c.indicator for c in catalogue.labels.gold.quality}
    assert "transition_services" in list(h["indicator"].head(6))
    areas = silver_areas(h)
    assert len(areas) == 3 and all(a in quality for a in areas) and "transition_services" not in areas
    assert areas == [i for i in h["indicator"] if i in quality][:3]
    assert interpret(result).silver_areas == areas


def test_actions_follow_the_language(catalogue, synthetic_db):
    result, _ = handles_for(catalogue, synthetic_db, service_usage=1, **SILVER_CLEAR)
    actions = load_actions(catalogue)
    nl = improvement_handles(result, "nl")
    r = row(nl, "service_usage")
    assert r["action"] == actions.actions["service_usage"][0].nl
    assert r["action_alt"] == actions.actions["service_usage"][1].nl


def test_reachable_rounds_to_the_better_side(catalogue):
    count, share = catalogue.indicator("events_per_year"), catalogue.indicator("service_usage")
    assert _reachable(count, 12.5, "higher") == 13 and _reachable(count, 12.5, "lower") == 12
    assert _reachable(share, 41.23, "higher") == 41.3 and _reachable(share, 41.27, "lower") == 41.2
    assert _reachable(share, 45.0, "higher") == 45.0

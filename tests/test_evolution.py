"""Evolution against an earlier audit: changes, percentile movement, noise band, labels then/now."""

from __future__ import annotations


import pytest

from auditlib.audit import analyse
from auditlib.intake import ClientFolder

from conftest import make_profile


def _folder(catalogue, now_answers, then_answers, then_year=2024):
    now = make_profile(catalogue, benchmark_year=2026, **now_answers)
    then = make_profile(catalogue, benchmark_year=then_year, **then_answers)
    return ClientFolder("test-client", now.source.parent, now, (then,), None)


def test_change_and_trend_beyond_noise(catalogue, synthetic_db, reference_frame):
    p10 = float(reference_frame["service_usage"].quantile(0.1))
    p90 = float(reference_frame["service_usage"].quantile(0.9))
    med = float(reference_frame["events_per_year"].median())
    folder = _folder(catalogue,
                     dict(service_usage=p90, events_per_year=med, strategy_age=8, joint_projects=None),
                     dict(service_usage=p10, events_per_year=med + 0.0, strategy_age=1, joint_projects=4))
    result = analyse(folder, catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    evo = result.evolution
    assert evo.earlier_year == 2024 and evo.current_year == 2026 and evo.group == "all"
    rows = evo.changes.set_index("indicator")
    assert rows.loc["service_usage", "change"] == pytest.approx(p90 - p10)
    assert rows.loc["service_usage", "trend"] == "improved"
    assert rows.loc["service_usage", "percentile_change"] > 60
    assert rows.loc["events_per_year", "trend"] == "stable"
    assert rows.loc["strategy_age", "trend"] == "declined"          # lower is better: 1 -> 8 years
    assert rows.loc["joint_projects", "trend"] == "not_comparable"
    assert rows.loc["org_age", "trend"] == "context"
    assert set(evo.improved["indicator"]) >= {"service_usage"}
    assert "strategy_age" in set(evo.declined["indicator"])


def test_percentiles_then_use_the_same_peer_group(catalogue, synthetic_db):
    folder = _folder(catalogue, dict(service_usage=55.0), dict(service_usage=55.0))
    result = analyse(folder, catalogue=catalogue, benchmark=synthetic_db, groups=["field", "all"])
    rows = result.evolution.changes.set_index("indicator")
    now = result.positions_in("field").set_index("indicator").loc["service_usage", "percentile"]
    assert rows.loc["service_usage", "percentile_then"] == pytest.approx(now)
    assert rows.loc["service_usage", "percentile_change"] == pytest.approx(0)


def test_label_readiness_then_and_now(catalogue, synthetic_db):
    folder = _folder(catalogue, dict(committed_members=40), dict(committed_members=10))
    result = analyse(folder, catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    side = result.evolution.labels_side_by_side(result.labels).set_index("label")
    assert not side.loc["bronze", "ready_2024"] and side.loc["bronze", "ready_2026"]


def test_no_earlier_audit_no_evolution(catalogue, synthetic_db):
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    assert result.evolution is None

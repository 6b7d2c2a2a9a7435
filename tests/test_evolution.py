"""Evolution against an earlier audit: changes, percentile movement, noise band, labels then/now."""

from __future__ import annotations


import pytest

from auditlib.audit import analyse
from auditlib.intake import ClientFolder

from auditlib.testing import make_profile


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


# --- the noise band: 10 percentile points, at and on either side of the boundary ------------

@pytest.fixture(scope="module")
def ladder_db(catalogue):
    """100 organisations whose service_usage is 1, 2, ..., 100: a client answering v stands at
    percentile v - 0.5 (half the ties count), so percentile moves are known to the point."""
    import numpy as np

    from auditlib.testing import make_db, make_reference_frame

    frame = make_reference_frame(catalogue, n=100, seed=3)
    frame["service_usage"] = np.arange(1.0, 101.0)
    return make_db(frame)


@pytest.mark.parametrize("then, now, move, trend", [
    (20.0, 30.0, 10.0, "improved"),      # at the band: a move of 10 points counts
    (20.0, 30.5, 10.5, "improved"),      # just above
    (20.0, 29.5, 9.5, "stable"),         # just below: within noise
    (30.0, 20.0, -10.0, "declined"),
    (30.0, 19.5, -10.5, "declined"),
    (30.0, 20.5, -9.5, "stable"),
    (20.0, 20.5, 0.5, "stable"),         # 0.5 points: noise, whatever the unit the band is read in
    (20.0, 22.0, 2.0, "stable"),
])
def test_noise_band_is_ten_percentile_points(catalogue, ladder_db, then, now, move, trend):
    folder = _folder(catalogue, dict(service_usage=now), dict(service_usage=then))
    result = analyse(folder, catalogue=catalogue, benchmark=ladder_db, groups=["all"])
    evo = result.evolution
    assert evo.noise_band == 10
    row = evo.changes.set_index("indicator").loc["service_usage"]
    assert row["percentile_then"] == pytest.approx(then - 0.5)
    assert row["percentile_change"] == pytest.approx(move)
    assert row["trend"] == trend


# --- an "earlier" audit must be earlier ------------------------------------------------------

def test_an_earlier_audit_from_the_same_year_is_refused_by_the_folder(catalogue, tmp_path):
    """earlier/2026.yaml beside a 2026 questionnaire is no earlier audit: refused, with its code."""
    import shutil

    from auditlib.errors import ProblemCode, QuestionnaireError
    from auditlib.intake import load_client
    from auditlib.testing import DATA

    folder = tmp_path / "es-huerta-food"
    shutil.copytree(DATA / "clients" / "es-huerta-food", folder)
    year = load_client(folder, catalogue).profile.benchmark_year
    (folder / "earlier").mkdir()
    shutil.copy(folder / "questionnaire.yaml", folder / "earlier" / f"{year}.yaml")
    with pytest.raises(QuestionnaireError) as err:
        load_client(folder, catalogue)
    (problem,) = err.value.problems
    assert problem.code is ProblemCode.INCONSISTENT and problem.value == year
    assert problem.file.endswith(f"earlier/{year}.yaml") and f"before {year}" in problem.expected
    (folder / "earlier" / f"{year}.yaml").rename(folder / "earlier" / f"{year - 1}.yaml")
    text = (folder / "earlier" / f"{year - 1}.yaml").read_text(encoding="utf-8")
    (folder / "earlier" / f"{year - 1}.yaml").write_text(
        text.replace(f"benchmark_year: {year}", f"benchmark_year: {year - 1}"), encoding="utf-8")
    assert [p.benchmark_year for p in load_client(folder, catalogue).earlier] == [year - 1]   # a year before: kept


@pytest.mark.parametrize("then_year", [2026, 2027])
def test_no_evolution_from_a_year_to_itself(catalogue, synthetic_db, then_year):
    """Even handed a folder built by hand, analyse() shows no "evolution" from 2026 to 2026."""
    from auditlib.errors import ParameterError, ProblemCode

    folder = _folder(catalogue, dict(service_usage=50.0), dict(service_usage=20.0), then_year=then_year)
    with pytest.raises(ParameterError) as err:
        analyse(folder, catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    assert err.value.code is ProblemCode.INCONSISTENT and "not before" in str(err.value)


def test_the_refusal_names_both_years_and_the_parameter(catalogue, synthetic_db):
    from auditlib.errors import ParameterError

    folder = _folder(catalogue, dict(service_usage=50.0), dict(service_usage=20.0), then_year=2026)
    with pytest.raises(ParameterError) as err:
        analyse(folder, catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    assert str(err.value) == ("an earlier audit of 2026 is not before the current audit of 2026: "
                              "no evolution can be shown")
    assert err.value.problems[0].place == "earlier_audit"


def test_changes_table_has_every_indicator_with_its_facts(catalogue, ladder_db):
    from auditlib.evolution import EVOLUTION_COLUMNS

    folder = _folder(catalogue, dict(service_usage=30.0, committed_members=50), dict(service_usage=20.0))
    evo = analyse(folder, catalogue=catalogue, benchmark=ladder_db, groups=["all"]).evolution
    ch = evo.changes
    assert list(ch.columns) == EVOLUTION_COLUMNS
    assert list(ch["indicator"]) == list(catalogue.ids)
    assert list(ch["dimension"]) == [i.dimension for i in catalogue.indicators]
    assert list(ch["direction"]) == [i.direction for i in catalogue.indicators]
    row = ch.set_index("indicator").loc["service_usage"]
    assert (row["value_then"], row["value_now"], row["change"]) == (20.0, 30.0, 10.0)
    assert (row["percentile_then"], row["percentile_now"]) == (pytest.approx(19.5), pytest.approx(29.5))
    assert evo.group == "all" and (evo.earlier_year, evo.current_year) == (2024, 2026)
    assert list(evo.improved["indicator"]) == ["service_usage"] and evo.declined.empty


def test_labels_side_by_side_show_both_years_scores(catalogue, synthetic_db):
    folder = _folder(catalogue, dict(committed_members=40), dict(committed_members=10))
    result = analyse(folder, catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    side = result.evolution.labels_side_by_side(result.labels).set_index("label")
    then = result.evolution.labels_then.summary().set_index("label")
    now = result.labels.summary().set_index("label")
    assert list(side.columns) == ["ready_2024", "ready_2026", "passed_2024", "passed_2026", "total",
                                  "score_2024", "score_2026"]
    assert side["score_2024"].equals(then["total_score"]) and side["score_2026"].equals(now["total_score"])
    assert side["passed_2024"].equals(then["passed"]) and side["total"].equals(now["total"])


def test_without_peer_statistics_no_move_is_judged(catalogue):
    """A group below the floor gives no percentiles then or now: no trend beyond 'not_ranked'."""
    from auditlib.testing import make_db, make_reference_frame

    tiny = make_db(make_reference_frame(catalogue, n=8, seed=3), "tiny")
    folder = _folder(catalogue, dict(service_usage=90.0), dict(service_usage=10.0))
    evo = analyse(folder, catalogue=catalogue, benchmark=tiny, groups=["all"]).evolution
    rows = evo.changes.set_index("indicator")
    assert rows["percentile_now"].isna().all() and rows["percentile_then"].isna().all()
    assert rows.loc["service_usage", "trend"] == "not_ranked" and rows.loc["service_usage", "change"] == 80
    assert set(rows["trend"]) <= {"not_ranked", "not_comparable", "context"}

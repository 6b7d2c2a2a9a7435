"""Label readiness: every rule passing, failing and on its boundary."""

from __future__ import annotations

import pandas as pd
import pytest

from auditlib.labels import criterion_score, evaluate
from auditlib.catalogue import Criterion


def gold_answers(catalogue):
    """Answers at the target of every Gold quality criterion (and so every minimum)."""
    answers = {i: None for i in catalogue.ids}
    for c in catalogue.labels.gold.quality:
        answers[c.indicator] = c.target
    for c in [*catalogue.labels.gold.minimums, *catalogue.labels.bronze.minimums]:
        cur = answers[c.indicator]
        tighter = max if c.op == ">=" else min
        answers[c.indicator] = c.threshold if cur is None else tighter(cur, c.threshold)
    return answers


def test_bronze_minimums_pass_at_the_boundary_and_fail_below(catalogue):
    answers = {i: None for i in catalogue.ids}
    answers.update(management_fte=0.5, committed_members=15, member_types=2, english_website=1)
    ready = evaluate(catalogue, answers, benchmark_year=2026)
    assert ready.verdicts["bronze"].ready
    answers["committed_members"] = 14
    ready = evaluate(catalogue, answers, benchmark_year=2026)
    assert not ready.verdicts["bronze"].ready
    assert ready.verdicts["bronze"].failed == ("bronze_members",)
    row = ready.criteria.set_index("criterion").loc["bronze_members"]
    assert row["value"] == 14 and row["threshold"] == 15 and row["distance"] == 1


def test_missing_answer_fails_its_criterion(catalogue):
    answers = {i: None for i in catalogue.ids}
    answers.update(management_fte=0.5, committed_members=15, member_types=2)
    ready = evaluate(catalogue, answers, benchmark_year=2026)
    row = ready.criteria.set_index("criterion").loc["bronze_website"]
    assert not row["passed"]
    assert pd.isna(row["value"]) and pd.isna(row["distance"])      # no distance to an unanswered criterion


def test_gold_ready_at_targets(catalogue):
    ready = evaluate(catalogue, gold_answers(catalogue), benchmark_year=2026)
    gold = ready.verdicts["gold"]
    assert gold.ready and gold.total_score == 100.0 and gold.failed == ()


def test_gold_every_threshold_must_pass(catalogue):
    answers = gold_answers(catalogue)
    answers["joint_projects"] = 4       # threshold 5
    gold = evaluate(catalogue, answers, benchmark_year=2026).verdicts["gold"]
    assert not gold.ready and "q27" in gold.failed
    assert gold.total_score > 80     # the total alone would have been enough


def test_gold_total_score_below_80_fails_even_when_all_thresholds_pass(catalogue):
    answers = gold_answers(catalogue)
    for c in catalogue.labels.gold.quality:
        answers[c.indicator] = c.threshold       # every threshold exactly: score 60% each
    gold = evaluate(catalogue, answers, benchmark_year=2026).verdicts["gold"]
    quality = catalogue.labels.gold.quality
    # at its threshold a criterion scores 60%, except yes/no ones whose threshold is the target
    expected = sum(100 if c.threshold == c.target else 60 for c in quality) / len(quality)
    assert gold.failed == () and gold.total_score == pytest.approx(expected, abs=0.05)
    assert gold.total_score < catalogue.labels.gold.total_score_min and not gold.ready


def test_lower_is_better_boundary(catalogue):
    answers = gold_answers(catalogue)
    answers["strategy_age"] = 3          # threshold <= 3
    row = evaluate(catalogue, answers, benchmark_year=2026).criteria.set_index("criterion").loc["q10"]
    assert row["passed"] and row["distance"] == 0
    answers["strategy_age"] = 4
    row = evaluate(catalogue, answers, benchmark_year=2026).criteria.set_index("criterion").loc["q10"]
    assert not row["passed"] and row["distance"] == 1


@pytest.mark.parametrize("op,thr,tgt,value,expected", [
    (">=", 10, 20, 20, 100), (">=", 10, 20, 15, 80), (">=", 10, 20, 10, 60), (">=", 10, 20, 5, 30),
    (">=", 10, 20, 0, 0), ("<=", 3, 1, 1, 100), ("<=", 3, 1, 2, 80), ("<=", 3, 1, 6, 30),
    (">=", 1, 1, 1, 100), (">=", 1, 1, 0, 0), (">=", 10, 20, None, 0),
])
def test_criterion_score_scale(op, thr, tgt, value, expected):
    c = Criterion(id="x", indicator="x", op=op, threshold=thr, target=tgt)
    assert criterion_score(c, value, 60) == pytest.approx(expected)


def _silver_case(catalogue, **overrides):
    earlier = gold_answers(catalogue)
    now = dict(earlier)
    areas = ["service_usage", "active_member_share", "private_funding_share"]
    for a in areas:
        earlier[a] = 20.0
        now[a] = 50.0
    kwargs = dict(benchmark_year=2026, earlier=earlier, earlier_year=2024, improvement_areas=areas)
    kwargs.update(overrides)
    return evaluate(catalogue, now, **kwargs)


def test_silver_ready_with_areas_timing_and_progress(catalogue):
    silver = _silver_case(catalogue).verdicts["silver"]
    assert silver.ready, silver


def test_silver_needs_three_areas(catalogue):
    silver = _silver_case(catalogue, improvement_areas=["service_usage", "active_member_share"]).verdicts["silver"]
    assert not silver.ready and "silver_areas" in silver.failed


def test_silver_areas_must_be_quality_indicators(catalogue):
    ready = _silver_case(catalogue, improvement_areas=["service_usage", "active_member_share", "org_age"])
    assert not ready.verdicts["silver"].ready
    assert "org_age" in ready.verdicts["silver"].notes[0]


def test_silver_needs_second_benchmark_in_window(catalogue):
    assert not _silver_case(catalogue, earlier_year=2021).verdicts["silver"].ready
    # year-only audits count from the same month: one year apart is below the 1.5 years
    assert not _silver_case(catalogue, earlier_year=2025).verdicts["silver"].ready
    # with interview months the gap is exact: 18 and 24 months pass, 17 and 25 do not
    for then, ready in (((2024, 9), True), ((2024, 3), True), ((2024, 10), False), ((2024, 2), False)):
        case = _silver_case(catalogue, earlier_year=then[0], interview=(2026, 3), earlier_interview=then)
        assert case.verdicts["silver"].ready is ready, then
    no_earlier = _silver_case(catalogue, earlier=None, earlier_year=None).verdicts["silver"]
    assert not no_earlier.ready and "silver_second_benchmark" in no_earlier.failed


def test_silver_needs_progress_on_the_areas(catalogue):
    earlier = gold_answers(catalogue)
    ready = evaluate(catalogue, earlier, benchmark_year=2026, earlier=earlier, earlier_year=2024,
                     improvement_areas=["service_usage", "active_member_share", "private_funding_share"])
    assert "silver_progress" in ready.verdicts["silver"].failed


def test_silver_needs_gold_minimums(catalogue):
    ready = _silver_case(catalogue)
    assert ready.verdicts["silver"].ready
    earlier = gold_answers(catalogue)
    now = dict(earlier, satisfaction_survey=0, service_usage=50.0, active_member_share=50.0,
               private_funding_share=50.0)
    for a in ("service_usage", "active_member_share", "private_funding_share"):
        earlier[a] = 20.0
    ready = evaluate(catalogue, now, benchmark_year=2026, earlier=earlier, earlier_year=2024,
                     improvement_areas=["service_usage", "active_member_share", "private_funding_share"])
    assert "gold_min_survey" in ready.verdicts["silver"].failed


def test_next_label(catalogue):
    answers = {i: None for i in catalogue.ids}
    answers.update(management_fte=0.5, committed_members=15, member_types=2, english_website=1)
    ready = evaluate(catalogue, answers, benchmark_year=2026)
    assert ready.highest_ready == "bronze" and ready.next_label == "silver"

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
    (">=", 1, None, 1, 100), (">=", 1, None, 0.5, 30),      # no target: the threshold earns the full score
    (">=", 1, 4, 0.5, 30), ("<=", 0.5, 0.1, 1.0, 30),       # below a threshold of at most one
    (">=", 0, 5, -1, 0), (">=", 10, 20, float("nan"), 0),
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


def _at_thresholds(catalogue, **overrides):
    answers = gold_answers(catalogue)
    for c in catalogue.labels.gold.quality:
        answers[c.indicator] = c.threshold
    answers.update(overrides)
    return answers


def test_gold_notes_ladder_and_summary_name_every_blocker(catalogue):
    """The Gold reasons count the failing minimums and thresholds and show the total by the floor
    rule; the ladder adds the low total as a blocker only when asked to weigh it."""
    ready = evaluate(catalogue, _at_thresholds(catalogue, joint_projects=4, satisfaction_survey=0),
                     benchmark_year=2026)
    gold = ready.verdicts["gold"]
    assert gold.failed == ("gold_min_survey", "q25", "q27") and gold.passed == 34 and gold.total == 37
    assert gold.notes == ("1 Gold minimum requirement(s) not met", "total score 62% is below the required 80%",
                          "2 of 31 quality thresholds not passed")
    bronze, silver, gold_step = ready.ladder(catalogue.labels.gold.total_score_min)
    assert (bronze.label, bronze.ready, bronze.blockers) == ("bronze", True, ())
    assert silver.blockers == ("gold_min_survey", "silver_areas", "silver_second_benchmark", "silver_progress")
    assert gold_step.blockers == ("gold_min_survey", "q25", "q27", "gold_total_score")
    assert ready.ladder()[2].blockers == ("gold_min_survey", "q25", "q27")
    at_minimum = ready.ladder(gold.total_score)[2].blockers                   # at the minimum: not blocked
    assert at_minimum == ("gold_min_survey", "q25", "q27")
    summary = ready.summary().set_index("label")
    assert list(summary.index) == ["bronze", "silver", "gold"]
    assert summary.loc["gold", "failed"] == "gold_min_survey, q25, q27" and summary.loc["bronze", "failed"] == ""
    assert summary.loc["gold", "total_score"] == pytest.approx(gold.total_score)
    assert summary.loc["silver", "passed"] == 5 and summary.loc["silver", "total"] == 9
    assert summary.loc["bronze", "passed"] == summary.loc["bronze", "total"] == 4
    assert bool(summary.loc["bronze", "ready"]) and not summary.loc["gold", "ready"]
    clean = evaluate(catalogue, gold_answers(catalogue), benchmark_year=2026).verdicts["gold"]
    assert clean.notes == () and clean.ready


def test_gold_ready_at_the_total_minimum_exactly(catalogue):
    """A total of exactly 80 is Gold (at, not above); a hair below is not."""
    quality = catalogue.labels.gold.quality
    room = [c for c in quality if c.op == ">=" and c.target != c.threshold]

    def answers_losing(points):
        """Answers at every target, then `points` of the total's sum taken from >= criteria with room."""
        answers = gold_answers(catalogue)
        for c in room:
            take = min(40.0, points)                        # at most down to the threshold (60)
            answers[c.indicator] = c.target - (c.target - c.threshold) * take / 40
            points -= take
        return answers

    at = evaluate(catalogue, answers_losing(20 * len(quality)), benchmark_year=2026).verdicts["gold"]
    assert at.total_score == 80.0 and at.ready and at.notes == ()
    below = evaluate(catalogue, answers_losing(20 * len(quality) + 0.5), benchmark_year=2026).verdicts["gold"]
    assert below.total_score < 80 and not below.ready and below.failed == ()
    assert below.notes == ("total score 79% is below the required 80%",)


def test_silver_progress_follows_each_areas_direction(catalogue):
    """Lower is better for public funding: a fall is progress, a rise or no move is not; an area named
    twice counts once."""
    areas = ["service_usage", "active_member_share", "public_funding_share"]
    earlier = gold_answers(catalogue)
    earlier.update(service_usage=20.0, active_member_share=20.0, public_funding_share=70.0)

    def silver(public_now, named=areas):
        now = dict(earlier, service_usage=50.0, active_member_share=50.0, public_funding_share=public_now)
        return evaluate(catalogue, now, benchmark_year=2026, earlier=earlier, earlier_year=2024,
                        improvement_areas=named)

    assert silver(50.0).verdicts["silver"].ready
    for public_now in (70.0, 80.0, None):
        verdict = silver(public_now).verdicts["silver"]
        assert verdict.failed == ("silver_progress",), public_now
    row = silver(80.0).criteria.set_index("criterion").loc["silver_progress"]
    assert row["value"] == 2 and row["threshold"] == 3 and row["distance"] == 1
    twice = silver(50.0, named=["service_usage", "service_usage", "public_funding_share"])
    assert twice.improvement_areas == ("service_usage", "public_funding_share")
    areas_row = twice.criteria.set_index("criterion").loc["silver_areas"]
    assert areas_row["value"] == 2 and areas_row["distance"] == 1 and not areas_row["passed"]


def test_silver_rows_carry_the_gold_minimums_under_silver(catalogue):
    ready = _silver_case(catalogue)
    silver = ready.criteria[ready.criteria["label"] == "silver"]
    gold_min = [c.id for c in catalogue.labels.gold.minimums]
    assert list(silver["criterion"]) == [*gold_min, "silver_areas", "silver_second_benchmark", "silver_progress"]
    assert list(silver["part"]) == ["minimum"] * len(gold_min) + ["improvement", "timing", "progress"]
    timing = silver.set_index("criterion").loc["silver_second_benchmark"]
    span = catalogue.labels.silver.earlier_audit_gap_years
    assert timing["value"] == 2.0 and timing["threshold"] == span.min and timing["target"] == span.max
    assert ready.criteria["passed"].dtype == bool
    assert ready.verdicts["silver"].passed == ready.verdicts["silver"].total == len(silver)


def test_every_criterion_row_reads_its_rule(catalogue):
    """One row per criterion in a fixed schema, numbered 0..n-1: the rule (indicator, op, threshold,
    target) as labels.yaml has it, and Silver's own rows with their operators and distances."""
    from auditlib.labels import CRITERIA_COLUMNS
    ready = _silver_case(catalogue)
    frame = ready.criteria
    assert list(frame.columns) == CRITERIA_COLUMNS and list(frame.index) == list(range(len(frame)))
    rules = catalogue.labels
    rows = frame.set_index(["label", "criterion"])
    for label, part, criteria in (("bronze", "minimum", rules.bronze.minimums),
                                  ("gold", "minimum", rules.gold.minimums), ("gold", "quality", rules.gold.quality),
                                  ("silver", "minimum", rules.gold.minimums)):
        for c in criteria:
            row = rows.loc[(label, c.id)]
            rule = (part, c.indicator, c.op, c.threshold)
            assert (row["part"], row["indicator"], row["op"], row["threshold"]) == rule, c.id
            assert (pd.isna(row["target"]) and c.target is None) or row["target"] == c.target, c.id
            assert pd.isna(row["score"]) == (part != "quality"), c.id
    silver = frame[frame["part"].isin(["improvement", "timing", "progress"])].set_index("criterion")
    assert list(silver["op"]) == [">=", "in", ">="] and silver["indicator"].isna().all()
    assert silver["score"].isna().all() and pd.isna(silver.loc["silver_areas", "target"])
    assert list(silver["distance"][["silver_areas", "silver_progress"]]) == [0.0, 0.0]     # met: nothing to go
    assert pd.isna(silver.loc["silver_second_benchmark", "distance"])
    assert silver.loc["silver_areas", "threshold"] == rules.silver.improvement_areas
    assert silver.loc["silver_progress", "threshold"] == rules.silver.min_areas_improved
    assert ready.verdicts["silver"].notes == ()


def test_silver_notes_name_what_is_missing(catalogue):
    ready = _silver_case(catalogue, earlier=None, earlier_year=None,
                         improvement_areas=["service_usage", "org_age", "regional_concentration"])
    assert ready.verdicts["silver"].notes == (
        "improvement area(s) not counted (not a Gold quality indicator): org_age, regional_concentration",
        "no earlier audit: Silver needs a second benchmark")
    earlier = gold_answers(catalogue)
    earlier["service_usage"] = None                                   # the earlier audit left an area open
    silver = _silver_case(catalogue, earlier=earlier).verdicts["silver"]
    assert silver.failed == ("silver_progress",) and silver.notes == ()

"""Label readiness: Bronze eligibility, Silver and Gold readiness, criterion by criterion.

The criteria are data (`data/catalogue/labels.yaml`); this module only applies them. For each
criterion the result carries pass/fail, the client value, the threshold and the distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from auditlib.catalogue import Catalogue, Criterion, GoldRules

LABEL_ORDER = ("bronze", "silver", "gold")
CRITERIA_COLUMNS = ["label", "part", "criterion", "indicator", "op", "threshold", "target",
                    "value", "passed", "distance", "score"]


@dataclass(frozen=True)
class LabelVerdict:
    label: str
    ready: bool
    passed: int
    total: int
    failed: tuple[str, ...] = ()        # criterion ids that fail
    total_score: float | None = None     # Gold only
    notes: tuple[str, ...] = ()          # plain-language reasons (English; commentary translates)


@dataclass(frozen=True)
class LadderStep:
    label: str
    ready: bool
    blockers: tuple[str, ...] = ()       # failing criterion ids; "gold_total_score" for a low Gold total


@dataclass(frozen=True)
class LabelReadiness:
    criteria: pd.DataFrame                       # one row per criterion (CRITERIA_COLUMNS)
    verdicts: Mapping[str, LabelVerdict]
    improvement_areas: tuple[str, ...] = ()

    @property
    def highest_ready(self) -> str | None:
        ready = [lab for lab in LABEL_ORDER if self.verdicts[lab].ready]
        return ready[-1] if ready else None

    @property
    def next_label(self) -> str | None:
        """The first label the client is not ready for."""
        return next((lab for lab in LABEL_ORDER if not self.verdicts[lab].ready), None)

    def ladder(self, total_score_min: float | None = None) -> tuple["LadderStep", ...]:
        """Each label in order: ready or not, and what blocks it (criterion ids).

        Why: "highest ready" and "next label" cannot say that a client is ready for Gold but not
        for Silver (Silver needs a second benchmark); the ladder can. A Gold total below the
        minimum blocks Gold as "gold_total_score".
        """
        steps = []
        for lab in LABEL_ORDER:
            v = self.verdicts[lab]
            blockers = list(v.failed)
            if lab == "gold" and total_score_min is not None and v.total_score is not None \
                    and v.total_score < total_score_min:
                blockers.append("gold_total_score")
            steps.append(LadderStep(lab, v.ready, tuple(blockers)))
        return tuple(steps)

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"label": v.label, "ready": v.ready, "passed": v.passed, "total": v.total,
                              "total_score": v.total_score, "failed": ", ".join(v.failed)}
                             for v in self.verdicts.values()])


def criterion_score(c: Criterion, value: float | None, at_threshold: float) -> float:
    """The Gold score of one quality criterion, 0-100 (see labels.yaml for the scale)."""
    if value is None or value != value:
        return 0.0
    thr, tgt = c.threshold, c.target if c.target is not None else c.threshold
    if c.op == ">=":
        if value >= tgt:
            return 100.0
        if value >= thr:
            return at_threshold + (100 - at_threshold) * (value - thr) / (tgt - thr)
        return at_threshold * max(value, 0.0) / thr if thr > 0 else 0.0
    if value <= tgt:
        return 100.0
    if value <= thr:
        return at_threshold + (100 - at_threshold) * (thr - value) / (thr - tgt)
    return at_threshold * thr / value if value > 0 else 0.0


def _rows(label: str, part: str, criteria: Sequence[Criterion], answers: Mapping[str, float | None],
          gold: GoldRules | None = None) -> list[dict]:
    rows = []
    for c in criteria:
        value = answers.get(c.indicator)
        value = None if value is None or value != value else float(value)
        rows.append({
            "label": label, "part": part, "criterion": c.id, "indicator": c.indicator, "op": c.op,
            "threshold": c.threshold, "target": c.target, "value": value,
            "passed": c.passes(value), "distance": c.distance(value),
            "score": criterion_score(c, value, gold.score_at_threshold) if gold else None,
        })
    return rows


def _improved(catalogue: Catalogue, indicator: str, now: float | None, then: float | None) -> bool:
    if now is None or then is None or now != now or then != then:
        return False
    direction = catalogue.indicator(indicator).direction
    return now > then if direction == "higher" else now < then if direction == "lower" else False


def evaluate(catalogue: Catalogue, answers: Mapping[str, float | None], *, benchmark_year: int,
             earlier: Mapping[str, float | None] | None = None, earlier_year: int | None = None,
             interview: tuple[int, int] | None = None, earlier_interview: tuple[int, int] | None = None,
             improvement_areas: Sequence[str] = ()) -> LabelReadiness:
    """Apply the label criteria to one questionnaire's answers.

    The Silver timing compares the interview months (`interview`, `earlier_interview`, as
    (year, month)); without them both audits count from the same month of their benchmark
    year. The criterion's value is the gap in years (22 months = 1.83).

    Parameters
    ----------
    catalogue
        Its label criteria (labels.yaml).
    answers
        The answers by indicator id (None = not answered: the criterion fails, no distance).
    benchmark_year
        The year the answers describe.
    earlier, earlier_year
        The earlier audit's answers and year, for Silver's improvement criteria.
    interview, earlier_interview
        (year, month) of the two interviews, for Silver's timing.
    improvement_areas
        The three indicators agreed for Silver.

    Returns
    -------
    LabelReadiness
        One row per criterion (value, threshold, passed, distance) and a verdict per label.
    """
    rules = catalogue.labels
    rows = _rows("bronze", "minimum", rules.bronze.minimums, answers)
    rows += _rows("gold", "minimum", rules.gold.minimums, answers)
    rows += _rows("gold", "quality", rules.gold.quality, answers, rules.gold)
    frame = pd.DataFrame(rows, columns=CRITERIA_COLUMNS)

    verdicts: dict[str, LabelVerdict] = {}
    bronze = frame[frame["label"] == "bronze"]
    verdicts["bronze"] = LabelVerdict("bronze", bool(bronze["passed"].all()), int(bronze["passed"].sum()),
                                      len(bronze), tuple(bronze.loc[~bronze["passed"], "criterion"]))

    gold_min = frame[(frame["label"] == "gold") & (frame["part"] == "minimum")]
    quality = frame[(frame["label"] == "gold") & (frame["part"] == "quality")]
    total = float(np.mean(quality["score"].astype(float))) if len(quality) else 0.0
    gold_all = pd.concat([gold_min, quality])
    gold_failed = tuple(gold_all.loc[~gold_all["passed"], "criterion"])
    gold_notes = []
    if not gold_min["passed"].all():
        gold_notes.append(f"{int((~gold_min['passed']).sum())} Gold minimum requirement(s) not met")
    if total < rules.gold.total_score_min:
        from auditlib.present import gold_total, number

        gold_notes.append(f"total score {gold_total(total, 'en')} is below the required "
                          f"{number(rules.gold.total_score_min, 'en')}%")
    if not quality["passed"].all():
        gold_notes.append(f"{int((~quality['passed']).sum())} of {len(quality)} quality thresholds not passed")
    verdicts["gold"] = LabelVerdict("gold", not gold_failed and total >= rules.gold.total_score_min,
                                    int(gold_all["passed"].sum()), len(gold_all), gold_failed,
                                    total, tuple(gold_notes))   # raw: rounding is the reader's (present)

    # Silver: Gold minimums + documented improvement areas + progress against an earlier audit.
    silver = rules.silver
    quality_ids = {c.indicator for c in rules.gold.quality}
    areas = tuple(dict.fromkeys(improvement_areas))
    valid_areas = [a for a in areas if a in catalogue.by_id and
                   (not silver.areas_must_be_quality_indicators or a in quality_ids)]
    silver_rows = []
    for _, r in gold_min.iterrows():
        silver_rows.append({**r.to_dict(), "label": "silver"})
    silver_rows.append({"label": "silver", "part": "improvement", "criterion": "silver_areas",
                        "indicator": None, "op": ">=", "threshold": float(silver.improvement_areas),
                        "target": None, "value": float(len(valid_areas)),
                        "passed": len(valid_areas) >= silver.improvement_areas,
                        "distance": float(max(silver.improvement_areas - len(valid_areas), 0)), "score": None})
    gap = None
    if earlier_year is not None:
        now, then = interview or (benchmark_year, 6), earlier_interview or (earlier_year, 6)
        gap = ((now[0] - then[0]) * 12 + now[1] - then[1]) / 12
    span = silver.earlier_audit_gap_years     # compared in whole months: 1.5 years = 18 months
    gap_ok = gap is not None and round(span.min * 12) <= round(gap * 12) <= round(span.max * 12)
    silver_rows.append({"label": "silver", "part": "timing", "criterion": "silver_second_benchmark",
                        "indicator": None, "op": "in",
                        "threshold": float(silver.earlier_audit_gap_years.min),
                        "target": float(silver.earlier_audit_gap_years.max),
                        "value": None if gap is None else float(gap), "passed": bool(gap_ok),
                        "distance": None, "score": None})
    improved = [a for a in valid_areas if earlier is not None and
                _improved(catalogue, a, answers.get(a), earlier.get(a))]
    silver_rows.append({"label": "silver", "part": "progress", "criterion": "silver_progress",
                        "indicator": None, "op": ">=", "threshold": float(silver.min_areas_improved),
                        "target": None, "value": float(len(improved)),
                        "passed": len(improved) >= silver.min_areas_improved,
                        "distance": float(max(silver.min_areas_improved - len(improved), 0)), "score": None})
    silver_frame = pd.DataFrame(silver_rows, columns=CRITERIA_COLUMNS)
    notes = []
    unknown = [a for a in areas if a not in valid_areas]
    if unknown:
        notes.append(f"improvement area(s) not counted (not a Gold quality indicator): {', '.join(unknown)}")
    if gap is None:
        notes.append("no earlier audit: Silver needs a second benchmark")
    verdicts["silver"] = LabelVerdict("silver", bool(silver_frame["passed"].all()),
                                      int(silver_frame["passed"].sum()), len(silver_frame),
                                      tuple(silver_frame.loc[~silver_frame["passed"], "criterion"]),
                                      None, tuple(notes))
    frame = pd.concat([frame, silver_frame], ignore_index=True)
    frame["passed"] = frame["passed"].astype(bool)
    return LabelReadiness(frame, {k: verdicts[k] for k in LABEL_ORDER}, tuple(valid_areas))

"""What-if: the same analysis on changed answers, kept apart from the real ones.

Why its own module: a scenario must never leak into the real result (the real AuditResult is
frozen and never touched), and a sweep of one answer against a small group must not reveal
single organisations' answers. The confidentiality rule (docs/confidentiality.md, "The
interpretation meeting"; code in `auditlib.disclosure.whatif_percentile`, the one home of
every disclosure rule):

    In a group where n organisations answer the indicator, a what-if percentile is shown in
    steps of s, the smallest of 1, 2, 5, 10, 25, 50 with s * n / 100 >= the anonymity floor,
    and never above 100 - s. With n below twice the floor no what-if percentile is shown.

A shown value then changes only where at least `floor` organisations lie between two steps
and at least `floor` above the highest step, so sweeping an answer finds at most quantiles of
blocks of `floor` organisations (the kind of figure the report publishes), never an extreme or
a single organisation's answer. Dimension scores and handles of a scenario are computed from
these stepped percentiles, so they cannot reveal finer positions either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np
import pandas as pd

from auditlib.audit import AuditResult
from auditlib.catalogue import Catalogue, Indicator
from auditlib.disclosure import whatif_percentile
from auditlib.errors import AuditError, Problem, ProblemCode
from auditlib.intake import expected_text, parse_answer
from auditlib.scoring import strengths_weaknesses

class AnswerError(AuditError):
    """A what-if answer that the intake would refuse."""

    def __init__(self, indicator: str, message: str, expected: str,
                 code: ProblemCode = ProblemCode.WRONG_TYPE):
        super().__init__(f"{indicator}: {message} (expected {expected})")
        self.indicator, self.message, self.expected, self.code = indicator, message, expected, code
        self.problems = [Problem("", "", message, expected=expected, indicator=indicator, code=code)]


def check_answer(ind: Indicator, raw: object) -> float | None:
    """A typed or slider value, read exactly like the questionnaire intake reads it."""
    try:
        return parse_answer(raw, ind)
    except ValueError as exc:   # intake's _Bad: message + expected
        raise AnswerError(ind.id, getattr(exc, "message", str(exc)),
                          getattr(exc, "expected", expected_text(ind)),
                          getattr(exc, "code", ProblemCode.WRONG_TYPE)) from None


@dataclass(frozen=True)
class Scenario:
    """Changed answers by indicator id; everything else stays the client's real answer."""

    name: str
    answers: Mapping[str, float | None]
    in_report: bool = False


def changed_answers(real: Mapping[str, float | None], proposed: Mapping[str, float | None]) -> dict:
    """Only the answers that differ from the real ones (a scenario never stores a real answer)."""
    out = {}
    for k, v in proposed.items():
        r = real.get(k)
        same = (r is None and v is None) or (r is not None and v is not None and float(r) == float(v))
        if not same:
            out[k] = v
    return out


def confine(result: AuditResult, changed: set[str]) -> AuditResult:
    """Apply the what-if rule to a scenario's result: stepped percentiles on changed indicators.

    The dimension scores are recomputed from the stepped positions.
    """
    cat: Catalogue = result.catalogue
    floor = result.anonymity_floor
    pos = result.positions.copy()
    rows = pos["indicator"].isin(list(changed)).to_numpy()
    if rows.any():
        pct = pos["percentile"].to_numpy(dtype=float).copy()
        n = pos["n"].to_numpy()
        status = pos["status"].to_numpy(dtype=object).copy()
        for i in np.flatnonzero(rows):
            ni = float(n[i]) if n[i] is not None else math.nan
            shown = whatif_percentile(pct[i], int(ni), floor)[0] if ni == ni else math.nan
            if shown != shown and pct[i] == pct[i]:
                status[i] = "whatif_small_group"        # below twice the floor: no what-if figure
            pct[i] = shown
        pos["percentile"] = pct
        pos["band"] = [cat.band(p) if p == p else None for p in pct]
        pos["status"] = status
    # Dimension scores again, from the (stepped) positions; only dimensions with a change move.
    dims = result.dimensions.copy()
    touched = set(pos.loc[rows, "dimension"])
    if touched:
        g_arr = pos["group"].to_numpy()
        d_arr = pos["dimension"].to_numpy()
        p_arr = pos["percentile"].to_numpy(dtype=float)
        ok = (pos["direction"].to_numpy() != "context") & ~np.isnan(p_arr)
        dg, dd = dims["group"].to_numpy(), dims["dimension"].to_numpy()
        scores = dims["score"].to_numpy(dtype=float).copy()
        for k in np.flatnonzero(np.isin(dd, list(touched))):
            vals = p_arr[ok & (g_arr == dg[k]) & (d_arr == dd[k])]
            scores[k] = float(vals.mean()) if len(vals) else math.nan
        dims["score"] = scores
    # A scenario lists no strengths or weaknesses (the screen does not show them; see
    # `scenario_strengths` for the rare caller that wants them).
    empty = result.strengths.iloc[0:0]
    return replace(result, positions=pos.reset_index(drop=True), dimensions=dims,
                   strengths=empty, weaknesses=result.weaknesses.iloc[0:0])


def scenario_strengths(result: AuditResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Strengths and weaknesses of a (scenario) result in its primary group."""
    return strengths_weaknesses(result.positions_in(), result.catalogue)


def flipped_criteria(real: AuditResult, scenario: AuditResult) -> pd.DataFrame:
    """Criteria whose pass/fail differs between the real answers and the scenario."""
    cols = ["label", "part", "criterion", "indicator"]
    a = real.labels.criteria[cols + ["passed", "value"]]
    b = scenario.labels.criteria[cols + ["passed", "value"]]
    both = a.merge(b, on=cols, suffixes=("_real", "_scenario"))
    return both[both["passed_real"] != both["passed_scenario"]].reset_index(drop=True)


def flipped_verdicts(real: AuditResult, scenario: AuditResult) -> dict[str, tuple[bool, bool]]:
    """Labels whose readiness differs: label -> (real, scenario)."""
    return {lab: (v.ready, scenario.labels.verdicts[lab].ready)
            for lab, v in real.labels.verdicts.items() if v.ready != scenario.labels.verdicts[lab].ready}

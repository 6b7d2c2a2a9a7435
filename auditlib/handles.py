"""Improvement handles: which indicators to move first, to what value, and how.

Priority formula (weights as data in `commentary_rules.yaml`, section `handles`), per scored
indicator i, positions read in the primary peer group:

    peer_gap      = clip((50 - percentile_i) / 50, 0, 1)       0 at or above the peer median
    threshold_gap = max over the next label's failing criteria on i of clip(distance / threshold, 0, 1)
    gap           = max(peer_gap, threshold_gap)
    next_label    = 1 if a criterion of the next label on i is not met, else 0
    score         = weight_i * (gap_weight * gap + label_weight * next_label)

Sorted by score (descending), then weight (descending), then catalogue order, so equal
scores always come out in the same order. Percentile gaps are unit-free, which is why they,
not raw differences, are compared across indicators.

Which indicators get a handle: answered scored indicators below `include_below_percentile`
or failing a criterion of the next label. Unanswered ones get an "answer the question"
handle only when a next-label criterion is on them (a missing answer never meets a
criterion); the rest are skipped, since a handle without a value has no target to reach.
Context-only indicators never get one.

Target: the threshold of the failing next-label criterion ("threshold"), else the next peer
statistic above the client ("next quartile": P25, median, P75, P90; for lower-is-better the
mirrored raw statistics P75, median, P25, P10). Count-like targets are rounded to a
reachable whole number, others to one decimal, always on the better side.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditlib.catalogue import Catalogue, Indicator, References, Text
from auditlib.errors import CatalogueError, Problem, ProblemCode

RULES_FILE = "commentary_rules.yaml"
ACTIONS_FILE = "actions.yaml"
HANDLE_COLUMNS = ["priority", "indicator", "dimension", "value", "percentile", "target", "target_kind",
                  "target_step", "gap", "gap_score", "next_label", "weight", "gold_quality", "criterion",
                  "label", "action", "action_alt", "score"]
# Steps towards a better position: (percentile name, raw statistic) per direction.
STEPS = {"higher": (("P25", "p25"), ("P50", "median"), ("P75", "p75"), ("P90", "p90")),
         "lower": (("P25", "p75"), ("P50", "median"), ("P75", "p25"), ("P90", "p10"))}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HandleSettings(_Model):
    gap_weight: float = Field(ge=0, default=1.0)
    label_weight: float = Field(ge=0, default=1.0)
    include_below_percentile: float = Field(ge=0, le=100, default=75)
    unanswered_next_label_only: bool = True
    markdown_top: int = Field(ge=1, default=10)

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "silver_areas" in data:
            raise ValueError("silver_areas has moved: the number of Silver improvement areas is set once, "
                             "in labels.yaml (silver.improvement_areas); remove it here")
        return data


class ActionFile(_Model):
    version: str
    unanswered: Text
    default: Text
    actions: dict[str, list[Text]]

    def for_indicator(self, indicator: str, lang: str) -> tuple[str, str]:
        """The first action and an alternative (empty when there is none)."""
        texts = [t[lang] for t in self.actions.get(indicator, [])] or [self.default[lang]]
        return texts[0], (texts[1] if len(texts) > 1 else "")


def data_path(catalogue: Catalogue, name: str) -> Path:
    """A data file of the catalogue folder (never the shipped copy: the folder is the whole set)."""
    return Path(catalogue.directory) / name


def action_problems(actions: ActionFile, path: Path, refs: References) -> list[Problem]:
    """Actions for indicators the catalogue lacks (`refs`: catalogue.References), all together."""
    ids, renamed = refs.ids, refs.renamed
    return [Problem(str(path), f"key actions.{u}", "unknown indicator"
                    + (f" (renamed to {renamed[u]}: use the new id)" if u in renamed else ""),
                    value=u, expected="an indicator id of indicators.yaml", indicator=u,
                    code=ProblemCode.UNKNOWN_ID)
            for u in sorted(set(actions.actions) - ids)]


def load_actions(catalogue: Catalogue) -> ActionFile:
    """The catalogue folder's actions.yaml, validated when the catalogue was loaded."""
    if catalogue.actions is None:      # a Catalogue built by hand, not by load_catalogue
        raise CatalogueError([Problem(str(data_path(catalogue, ACTIONS_FILE)), "file", "no actions loaded",
                                      expected="a catalogue loaded with load_catalogue",
                                      code=ProblemCode.FILE_MISSING)])
    return catalogue.actions


def load_handle_settings(catalogue: Catalogue) -> HandleSettings:
    from auditlib.commentary_rules import load_rules

    return load_rules(catalogue).handles


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _reachable(ind: Indicator, stat: float, direction: str) -> float:
    """Round a peer statistic to a value the client can report, on the better side."""
    scale = 1.0 if ind.is_integer else 10.0
    x = round(stat * scale, 6)
    x = math.ceil(x) if direction == "higher" else math.floor(x)
    return x / scale


def next_step(ind: Indicator, value: float, stats: dict[str, float]) -> tuple[float, str] | None:
    """The next peer statistic above the client's value (direction-aware), or None at the top."""
    if ind.direction not in STEPS:
        return None
    for step, col in STEPS[ind.direction]:
        stat = stats.get(col)
        if stat is None or _nan(stat):
            continue
        target = _reachable(ind, float(stat), ind.direction)
        better = target > value if ind.direction == "higher" else target < value
        if better:
            return target, step
    return None


def improvement_handles(result, lang: str = "en", settings: HandleSettings | None = None,
                        actions: ActionFile | None = None) -> pd.DataFrame:
    """The prioritised handles of one AuditResult (HANDLE_COLUMNS, priority 1 first)."""
    cat: Catalogue = result.catalogue
    settings = settings or load_handle_settings(cat)
    actions = actions or load_actions(cat)
    positions = result.positions_in().set_index("indicator")
    criteria = result.labels.criteria
    next_label = result.labels.next_label
    quality = {c.indicator: c.id for c in cat.labels.gold.quality}
    failing = criteria[(criteria["label"] == next_label) & ~criteria["passed"] & criteria["indicator"].notna()]
    # each indicator's open criteria, split once (a filter per indicator was most of this function's time)
    failing_of = {ind_id: part for ind_id, part in failing.groupby("indicator", sort=False)}
    none_failing = failing.iloc[0:0]
    rows = []
    for order, ind in enumerate(cat.indicators):
        if not ind.scored:
            continue
        pos = positions.loc[ind.id]
        value = result.client.answers.get(ind.id)
        mine = failing_of.get(ind.id, none_failing)
        crit = None
        if len(mine):
            dist = mine["distance"].astype(float).fillna(np.inf)
            crit = mine.loc[dist.idxmax()]       # the most demanding open criterion
        base = {"indicator": ind.id, "dimension": ind.dimension, "weight": ind.weight,
                "gold_quality": ind.id in quality, "next_label": crit is not None, "order": order}
        if _nan(value):
            if crit is None or not settings.unanswered_next_label_only:
                continue
            rows.append({**base, "value": np.nan, "percentile": np.nan, "target": float(crit["threshold"]),
                         "target_kind": "threshold", "target_step": "", "gap": np.nan, "gap_score": 1.0,
                         "criterion": crit["criterion"], "label": next_label, "action": actions.unanswered[lang],
                         "action_alt": ""})
            continue
        value = float(value)
        pct = float(pos["percentile"])
        peer_gap = 0.0 if math.isnan(pct) else min(max((50.0 - pct) / 50.0, 0.0), 1.0)
        threshold_gap = 0.0
        for _, c in mine.iterrows():
            thr = abs(float(c["threshold"]))
            d = float(c["distance"]) if not _nan(c["distance"]) else thr
            threshold_gap = max(threshold_gap, min(d / thr, 1.0) if thr > 0 else 1.0)
        if crit is None and not (pct < settings.include_below_percentile):
            continue
        if crit is not None:
            target, kind, step = float(crit["threshold"]), "threshold", ""
            criterion, label = crit["criterion"], next_label
        else:
            found = next_step(ind, value, {k: pos[k] for k in ("p10", "p25", "median", "p75", "p90")})
            if found is None:
                continue
            (target, step), kind = found, "next quartile"
            criterion = quality.get(ind.id)
            label = "gold" if criterion else None
        action, alt = actions.for_indicator(ind.id, lang)
        rows.append({**base, "value": value, "percentile": pct, "target": target, "target_kind": kind,
                     "target_step": step, "gap": abs(target - value),
                     "gap_score": max(peer_gap, threshold_gap), "criterion": criterion, "label": label,
                     "action": action, "action_alt": alt})
    frame = pd.DataFrame(rows, columns=[c for c in HANDLE_COLUMNS if c not in ("priority", "score")] + ["order"])
    if frame.empty:
        return pd.DataFrame(columns=HANDLE_COLUMNS)
    frame["score"] = (frame["weight"] * (settings.gap_weight * frame["gap_score"].astype(float)
                                         + settings.label_weight * frame["next_label"].astype(float))).round(6)
    frame = frame.sort_values(["score", "weight", "order"], ascending=[False, False, True], kind="mergesort")
    frame.insert(0, "priority", range(1, len(frame) + 1))
    return frame[HANDLE_COLUMNS].reset_index(drop=True)


def silver_areas(handles: pd.DataFrame, k: int = 3) -> list[str]:
    """The top k answered handles on Gold quality indicators: Silver only counts those."""
    ok = handles[handles["gold_quality"].astype(bool) & handles["value"].notna()]
    return list(ok["indicator"].head(k))

"""Positions of a client against its peer groups, the dimension profile, strengths and weaknesses.

The client percentile is the share of peers with a worse value plus half the share with an
equal value, x 100 (the "mean" kind of scipy.stats.percentileofscore), where "worse" follows
the indicator's direction. Context-only indicators are reported as values, never ranked.
Everything is vectorised over indicators; the portfolio scoring over organisations too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditlib.catalogue import Catalogue
from auditlib.peers import PeerGroup, Reference

QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
STAT_COLUMNS = ("p10", "p25", "median", "p75", "p90")
POSITION_COLUMNS = ["group", "group_used", "indicator", "dimension", "direction", "value", "n",
                    "n_missing", *STAT_COLUMNS, "percentile", "band", "status"]


def _signs(catalogue: Catalogue) -> np.ndarray:
    """+1 higher is better, -1 lower is better, 0 context only (per catalogue indicator)."""
    return np.array([{"higher": 1.0, "lower": -1.0}.get(i.direction, 0.0) for i in catalogue.indicators])


def percentiles_of(values: np.ndarray, peers: np.ndarray, signs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Direction-aware percentile of each value among the non-missing peers, and peer n.

    values: (k,) client values; peers: (m, k); signs: (k,). NaN client value -> NaN.
    """
    valid = ~np.isnan(peers)
    n = valid.sum(axis=0)
    with np.errstate(invalid="ignore"):
        worse = np.where(signs >= 0, (peers < values).sum(axis=0), (peers > values).sum(axis=0))
        equal = (peers == values).sum(axis=0)
        pct = (worse + 0.5 * equal) / np.where(n > 0, n, 1) * 100.0
    pct = np.where(np.isnan(values) | (n == 0) | (signs == 0), np.nan, pct)
    return pct, n


def positions_for_group(values: np.ndarray, group: PeerGroup, ref: Reference,
                        catalogue: Catalogue, floor: int) -> pd.DataFrame:
    """One row per indicator: value, peer statistics and the client's position in this group."""
    ids = catalogue.ids
    k = len(ids)
    signs = _signs(catalogue)
    stats = np.full((k, len(QUANTILES)), np.nan)
    pct = np.full(k, np.nan)
    n = np.zeros(k, dtype=int)
    n_missing = np.zeros(k, dtype=int)
    if group.available and group.mask is not None:
        peers = ref.values[group.mask]
        pct, n = percentiles_of(values, peers, signs)
        n_missing = group.n - n
        enough = n >= floor
        if enough.any():
            with np.errstate(all="ignore"):
                q = np.nanquantile(peers[:, enough], QUANTILES, axis=0).T
            stats[enough] = q
        pct = np.where(enough, pct, np.nan)
    else:
        enough = np.zeros(k, dtype=bool)
    context = signs == 0
    stats[context] = np.nan
    status = np.where(
        context, "context",
        np.where(~np.full(k, group.available), "group_below_floor",
                 np.where(~enough, "too_few_answers",
                          np.where(np.isnan(values), "not_answered", "ok"))))
    frame = pd.DataFrame({
        "group": group.requested,
        "group_used": group.key,
        "indicator": ids,
        "dimension": [i.dimension for i in catalogue.indicators],
        "direction": [i.direction for i in catalogue.indicators],
        "value": values,
        "n": np.where(context, 0, n),
        "n_missing": np.where(context, 0, n_missing),
    })
    for j, col in enumerate(STAT_COLUMNS):
        frame[col] = stats[:, j]
    frame["percentile"] = pct
    frame["band"] = [catalogue.band(p) if p == p else None for p in pct]
    frame["status"] = status
    return frame


def rank_percentiles(values: np.ndarray, signs: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Every organisation's percentile among the others of its group, vectorised.

    With pandas' average ranks r over the n answered values (itself included), the share of
    the *other* organisations that are worse, plus half the equal ones, is (r - 1) / (n - 1).
    """
    frame = pd.DataFrame(values * np.where(signs == 0, 1.0, signs))
    if groups is None:
        ranks = frame.rank(method="average")
        counts = frame.notna().sum()
        n = np.broadcast_to(counts.to_numpy(), values.shape)
    else:
        grouped = frame.groupby(groups, sort=False)
        ranks = grouped.rank(method="average")
        n = grouped.transform("count").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = (ranks.to_numpy() - 1.0) / (n - 1.0) * 100.0
    pct[:, signs == 0] = np.nan
    pct[np.isnan(values)] = np.nan
    return pct


def dimension_scores(pct: np.ndarray, catalogue: Catalogue) -> pd.DataFrame:
    """Mean percentile per dimension (rows as in pct), ignoring missing and context indicators."""
    dims = [d.id for d in catalogue.dimensions]
    dim_of = np.array([i.dimension for i in catalogue.indicators])
    out = {}
    for d in dims:
        cols = dim_of == d
        block = pct[:, cols]
        with np.errstate(all="ignore"):
            out[d] = np.where(np.isnan(block).all(axis=1), np.nan, np.nanmean(block, axis=1))
    return pd.DataFrame(out)


def dimension_profile(positions: pd.DataFrame, group: PeerGroup, ref: Reference,
                      catalogue: Catalogue) -> pd.DataFrame:
    """Per dimension: the client's score, the peers' median score, and the coverage."""
    signs = _signs(catalogue)
    peer_median = pd.Series(np.nan, index=[d.id for d in catalogue.dimensions])
    if group.available and group.mask is not None:
        peer_pct = rank_percentiles(ref.values[group.mask], signs)
        peer_median = dimension_scores(peer_pct, catalogue).median(skipna=True)
    rows = []
    for d in catalogue.dimensions:
        block = positions[(positions["dimension"] == d.id) & (positions["direction"] != "context")]
        answered = int(block["value"].notna().sum())
        scored = block["percentile"].dropna()
        rows.append({
            "group": group.requested, "group_used": group.key, "dimension": d.id,
            "score": float(scored.mean()) if len(scored) else np.nan,
            "peer_median": float(peer_median.get(d.id, np.nan)),
            "answered": answered, "scored": len(block),
            "coverage": answered / len(block) if len(block) else np.nan,
        })
    return pd.DataFrame(rows)


def strengths_weaknesses(positions: pd.DataFrame, catalogue: Catalogue, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The highest and lowest percentiles in one group.

    Only answered, ranked indicators count (a missing answer is neither). Strengths are at or
    above the median, weaknesses below it, so a uniformly weak client gets no 'strengths'.
    Ties are broken by the indicator's weight, then catalogue order, and flagged.
    """
    order = {iid: k for k, iid in enumerate(catalogue.ids)}
    ranked = positions[positions["percentile"].notna()].copy()
    ranked["weight"] = [catalogue.indicator(i).weight for i in ranked["indicator"]]
    ranked["order"] = [order[i] for i in ranked["indicator"]]
    cols = ["indicator", "dimension", "value", "percentile", "band", "median", "n", "tied"]

    def pick(rows: pd.DataFrame, ascending: bool) -> pd.DataFrame:
        rows = rows.sort_values(["percentile", "weight", "order"],
                                ascending=[ascending, False, True]).reset_index(drop=True)
        counts = rows["percentile"].round(6).map(rows["percentile"].round(6).value_counts())
        rows["tied"] = counts > 1
        return rows.head(n)[cols]

    strengths = pick(ranked[ranked["percentile"] >= 50], ascending=False)
    weaknesses = pick(ranked[ranked["percentile"] < 50], ascending=True)
    return strengths, weaknesses


def portfolio_percentiles(ref: Reference, catalogue: Catalogue, by: str = "field") -> pd.DataFrame:
    """Score every organisation of the database against its own peers (same `by`), vectorised."""
    pct = rank_percentiles(ref.values, _signs(catalogue), ref.meta[by].to_numpy())
    frame = dimension_scores(pct, catalogue)
    frame.insert(0, by, ref.meta[by].to_numpy())
    frame.insert(1, "label", ref.meta["label"].to_numpy())
    return frame

"""Positions of a client against its peer groups, the dimension profile, strengths and weaknesses.

The client percentile is the share of peers with a worse value plus half the share with an
equal value, x 100 (the "mean" kind of scipy.stats.percentileofscore), where "worse" follows
the indicator's direction. Context-only indicators are reported as values, never ranked.
Everything is vectorised over indicators; the portfolio scoring over organisations too.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditlib.catalogue import Catalogue
from auditlib.peers import PeerGroup, Reference
from auditlib.present import band_id

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
    worse = np.where(signs >= 0, (peers < values).sum(axis=0), (peers > values).sum(axis=0))
    equal = (peers == values).sum(axis=0)
    pct = (worse + 0.5 * equal) / np.where(n > 0, n, 1) * 100.0      # comparisons with NaN are False
    pct = np.where(np.isnan(values) | (n == 0) | (signs == 0), np.nan, pct)
    return pct, n


@dataclass(frozen=True)
class GroupStats:
    """One peer group's values sorted once: quantiles, the client's position and the peers'
    own dimension scores all read from it."""

    sorted: np.ndarray            # (indicators, peers) ascending, NaN last
    n: np.ndarray                 # answered per indicator
    peer_dimension_median: pd.Series            # over every indicator (kept for callers that want it)
    peer_percentiles: np.ndarray | None = None  # (peers, indicators): each peer among the others

    def peer_median_over(self, indicators: np.ndarray, catalogue: Catalogue) -> pd.Series:
        """The peers' median dimension score over the given indicators only (a boolean mask):
        the same indicators the client's own score is the mean of."""
        dim_of = np.array([i.dimension for i in catalogue.indicators])
        peers = self.peer_percentiles
        out = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN rows and columns give NaN
            for d in catalogue.dimensions:
                cols = (dim_of == d.id) & indicators
                # each peer's dimension score over these indicators, then their median (NaN-aware,
                # as dimension_scores(...).median(skipna=True) reads it), in numpy: called per group
                out[d.id] = float(np.nanmedian(np.nanmean(peers[:, cols], axis=1))) \
                    if peers is not None and cols.any() and len(peers) else np.nan
        return pd.Series(out, dtype=float)

    def quantiles(self) -> np.ndarray:
        """(indicators, len(QUANTILES)) with numpy's default 'linear' method; NaN where n == 0."""
        out = np.full((len(self.n), len(QUANTILES)), np.nan)
        rows = np.flatnonzero(self.n > 0)
        for j, q in enumerate(QUANTILES):
            pos = q * (self.n[rows] - 1)
            lo = np.floor(pos).astype(int)
            hi = np.ceil(pos).astype(int)
            a, b = self.sorted[rows, lo], self.sorted[rows, hi]
            out[rows, j] = a + (b - a) * (pos - lo)
        return out


def _leave_one_out_percentiles(matrix: np.ndarray, signs: np.ndarray,
                               order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each value's percentile among the *other* values of its row (indicators x peers).

    One stable argsort per row (or the given `order`); ties are found as runs in the sorted
    row, so equal values share the half-credit exactly as in `percentiles_of`.
    """
    k, m = matrix.shape
    if order is None:
        order = np.argsort(matrix, axis=1, kind="stable")
    srt = np.take_along_axis(matrix, order, axis=1)
    n = (~np.isnan(matrix)).sum(axis=1)
    idx = np.broadcast_to(np.arange(m), (k, m))
    new_run = np.ones((k, m), dtype=bool)
    new_run[:, 1:] = srt[:, 1:] != srt[:, :-1]
    start = np.maximum.accumulate(np.where(new_run, idx, 0), axis=1)
    run_ends = np.ones((k, m), dtype=bool)
    run_ends[:, :-1] = srt[:, :-1] != srt[:, 1:]
    end = np.minimum.accumulate(np.where(run_ends, idx, m - 1)[:, ::-1], axis=1)[:, ::-1]
    worse = np.where(signs[:, None] >= 0, start, n[:, None] - end - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct_sorted = (worse + 0.5 * (end - start)) / (n[:, None] - 1) * 100.0
    pct = np.empty_like(pct_sorted)
    np.put_along_axis(pct, order, pct_sorted, axis=1)
    pct[np.isnan(matrix)] = np.nan
    pct[signs == 0] = np.nan
    return pct, srt, n


def group_stats(ref: Reference, group: PeerGroup, catalogue: Catalogue) -> GroupStats:
    """The sorted statistics of a group, computed once per group membership in a process."""
    mask = group.mask
    if mask is None:
        raise ValueError(f"group {group.key!r} has no members to compute statistics over")
    key = hashlib.sha1(np.packbits(mask).tobytes()).hexdigest()
    cached = ref.cache.get(key)
    if cached is not None:
        return cached
    signs = _signs(catalogue)
    matrix = np.ascontiguousarray(ref.values[mask].T)
    order = None
    if ref.order is not None:
        # the database's stable sort, filtered to the group, is the group's stable sort
        position = np.cumsum(mask) - 1
        order = np.stack([position[rows[mask[rows]]] for rows in ref.order])
    pct, srt, n = _leave_one_out_percentiles(matrix, signs, order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = dimension_scores(pct.T, catalogue).median(skipna=True)
    stats = GroupStats(srt, n, median, pct.T)
    if len(ref.cache) > 64:
        ref.cache.clear()
    ref.cache[key] = stats
    return stats


def positions_for_group(values: np.ndarray, group: PeerGroup, ref: Reference,
                        catalogue: Catalogue, floor: int, stats: GroupStats | None = None) -> pd.DataFrame:
    """One row per indicator: value, peer statistics and the client's position in this group."""
    ids = catalogue.ids
    k = len(ids)
    signs = _signs(catalogue)
    quant = np.full((k, len(QUANTILES)), np.nan)
    pct = np.full(k, np.nan)
    n = np.zeros(k, dtype=int)
    n_missing = np.zeros(k, dtype=int)
    enough = np.zeros(k, dtype=bool)
    if group.available and group.mask is not None:
        stats = stats or group_stats(ref, group, catalogue)
        n = stats.n
        n_missing = group.n - n
        enough = n >= floor
        pct = client_percentiles(values, stats, signs, floor)
        quant = np.where(enough[:, None], stats.quantiles(), np.nan)
    context = signs == 0
    quant[context] = np.nan
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
        # no group size is shown for an indicator without statistics (below the floor, context):
        # a below-floor n is itself a statistic of too few organisations
        "n": np.where(enough & ~context, n, np.nan),
        "n_missing": np.where(enough & ~context, n_missing, np.nan),
    })
    for j, col in enumerate(STAT_COLUMNS):
        frame[col] = quant[:, j]
    frame["percentile"] = pct
    # the band of the percentile as shown (the one rule), so the band and the number never disagree
    frame["band"] = [band_id(p, catalogue) for p in pct]
    frame["status"] = status
    return frame


def client_percentiles(values: np.ndarray, stats: GroupStats, signs: np.ndarray, floor: int) -> np.ndarray:
    """Direction-aware percentiles of one questionnaire's values in a group (today's or an
    earlier audit's); NaN where unanswered, context-only, or fewer answers than the floor."""
    worse, equal = _client_counts(values, stats, signs)
    pct = (worse + 0.5 * equal) / np.where(stats.n > 0, stats.n, 1) * 100.0
    return np.where(np.isnan(values) | (stats.n < floor) | (signs == 0), np.nan, pct)


def _client_counts(values: np.ndarray, stats: GroupStats, signs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peers worse than and equal to the client, per indicator, by binary search."""
    worse = np.zeros(len(values))
    equal = np.zeros(len(values))
    for j, v in enumerate(values):
        if v != v or stats.n[j] == 0:
            continue
        row = stats.sorted[j, : stats.n[j]]
        left = np.searchsorted(row, v, "left")
        right = np.searchsorted(row, v, "right")
        equal[j] = right - left
        worse[j] = left if signs[j] >= 0 else stats.n[j] - right
    return worse, equal


def rank_percentiles(values: np.ndarray, signs: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Every organisation's percentile among the others of its group, vectorised.

    With pandas' average ranks r over the n answered values (itself included), the share of
    the *other* organisations that are worse, plus half the equal ones, is (r - 1) / (n - 1).
    """
    frame = pd.DataFrame(values * signs)          # context columns (sign 0) are blanked below
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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[d] = np.nanmean(block, axis=1)       # NaN for a row without any percentile
    return pd.DataFrame(out)


def dimension_profile(positions: pd.DataFrame, group: PeerGroup, ref: Reference,
                      catalogue: Catalogue) -> pd.DataFrame:
    """Per dimension: the client's score, the peers' median score, and the coverage.

    The peer median is computed over the same indicators as the client's score: those with a
    percentile here (answered by the client, with statistics in the group, not withheld). So an
    indicator below the anonymity floor feeds neither figure, and the two are comparable.
    """
    peer_median = pd.Series(np.nan, index=[d.id for d in catalogue.dimensions])
    pct = positions["percentile"].to_numpy(dtype=float)
    if group.available and group.mask is not None:
        stats = group_stats(ref, group, catalogue)
        peer_median = stats.peer_median_over(~np.isnan(pct), catalogue)
    dims = positions["dimension"].to_numpy()
    scored = positions["direction"].to_numpy() != "context"
    answered = ~np.isnan(positions["value"].to_numpy(dtype=float))
    rows = []
    for d in catalogue.dimensions:
        block = (dims == d.id) & scored
        ranked = pct[block & ~np.isnan(pct)]
        total = int(block.sum())
        n_answered = int((block & answered).sum())
        rows.append({
            "group": group.requested, "group_used": group.key, "dimension": d.id,
            "score": float(ranked.mean()) if len(ranked) else np.nan,
            "peer_median": float(peer_median[d.id]),
            "answered": n_answered, "scored": total,
            "coverage": n_answered / total if total else np.nan,
        })
    return pd.DataFrame(rows)


STRENGTH_MIN = 75        # shown percentile at or above: a strength (the top quartile)
WEAKNESS_BELOW = 25      # shown percentile below: a point for attention (the bottom quartile)


def is_strength(percentile: float) -> bool:
    """THE definition of a strength, used by the summary, the text, the Excel and the terminal."""
    from auditlib.present import shown_percentile

    shown = shown_percentile(percentile)
    return shown is not None and shown >= STRENGTH_MIN


def is_weakness(percentile: float) -> bool:
    """THE definition of a weakness (a point for attention)."""
    from auditlib.present import shown_percentile

    shown = shown_percentile(percentile)
    return shown is not None and shown < WEAKNESS_BELOW


def strengths_weaknesses(positions: pd.DataFrame, catalogue: Catalogue,
                         n: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The strengths and weaknesses in one group, strongest and weakest first.

    One definition everywhere (`is_strength`, `is_weakness`): a strength is a shown percentile in
    the top quartile (>= 75), a weakness one in the bottom quartile (< 25), read by the same floor
    rule as the number shown. Only answered, ranked indicators count (a missing answer is
    neither). Ties are broken by the indicator's weight, then catalogue order, and flagged.
    n: at most this many of each (None: all).
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
        return (rows if n is None else rows.head(n))[cols]

    pct = ranked["percentile"].to_numpy(dtype=float)
    strengths = pick(ranked[np.array([is_strength(p) for p in pct], dtype=bool)], ascending=False)
    weaknesses = pick(ranked[np.array([is_weakness(p) for p in pct], dtype=bool)], ascending=True)
    return strengths, weaknesses


def portfolio_percentiles(ref: Reference, catalogue: Catalogue, by: str = "field") -> pd.DataFrame:
    """Score every organisation of the database against its own peers (same `by`), vectorised."""
    pct = rank_percentiles(ref.values, _signs(catalogue), ref.meta[by].to_numpy())
    frame = dimension_scores(pct, catalogue)
    frame.insert(0, by, ref.meta[by].to_numpy())
    frame.insert(1, "label", ref.meta["label"].to_numpy())
    return frame

"""Disclosure control: every rule that decides which peer statistics a client may see.

The anonymity floor (peers.py) keeps a group below `floor` organisations from showing
anything. The rules here go further, and they are the only place that does
(docs/confidentiality.md states the policy and why):

1. Differencing. Two shown sets of organisations A and B (a peer group's answering set for
   one indicator) must not differ by 1 to floor-1 organisations on either side: a client who
   varies an answer and compares the two percentiles learns the values of A minus B (the
   steps where A's count rises and B's does not), and of B minus A. Both |A \\ B| and
   |B \\ A| are checked, not only the size difference (two groups of equal size can still
   differ by one organisation each way). A whole group whose membership conflicts is
   suppressed; a group whose membership is fine but whose answering set for one indicator
   conflicts (missing answers) loses that indicator's statistics only.
   A `DisclosureLedger` holds every set shown so far: one per AuditResult, one per meeting.
2. Tails. No shown quantile uses one of the `TAIL` smallest or largest values of its
   answering set: P10 and P90 need 21 answers at the default floor, P25, the median and P75
   the floor. The extreme values are those a reader can most easily attribute ("the largest
   cluster in Lithuania"), and the ones a dominance rule protects for magnitudes.
3. Small groups. Below twice the floor, a quantile is rounded to two significant figures,
   so a shown median of 11 answers is never one organisation's exact answer.

Every renderer reads the already-suppressed AuditResult: suppressed figures are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from auditlib.peers import PeerGroup, Reference

TAIL = 2                   # smallest/largest values per answering set that no quantile may use
SMALL_FACTOR = 2           # answering sets under SMALL_FACTOR x floor: quantiles rounded
SIGNIFICANT = 2            # ... to this many significant figures
DIFFERENCING = True        # tests switch this off to show that the attack works without the rule
QUANTILE_COLUMNS = ("p10", "p25", "median", "p75", "p90")
QUANTILE_LEVELS = (0.10, 0.25, 0.50, 0.75, 0.90)
SHOWN_COLUMNS = (*QUANTILE_COLUMNS, "percentile")   # the statistics of one group x indicator
SUPPRESSED = "suppressed_differencing"             # positions status of a refused statistic

# Reason codes with the wording a report or the meeting shows (format with floor, other, n).
REASONS: dict[str, dict[str, str]] = {
    "differencing_group": {
        "en": "not shown: this group differs from '{other}' by fewer than {floor} organisations, "
              "so together the two could reveal single organisations' answers",
        "nl": "niet getoond: deze groep verschilt van '{other}' met minder dan {floor} organisaties, "
              "zodat de twee samen antwoorden van afzonderlijke organisaties kunnen onthullen",
    },
    "differencing_indicator": {
        "en": "not shown: the organisations answering this indicator here differ from those in "
              "'{other}' by fewer than {floor}, so together the two could reveal single answers",
        "nl": "niet getoond: de organisaties die deze indicator hier beantwoorden verschillen van die "
              "in '{other}' met minder dan {floor}, zodat de twee samen afzonderlijke antwoorden "
              "kunnen onthullen",
    },
    "tail_quantile": {
        "en": "P10 and P90 are shown from {n} answers: no shown figure uses one of the two "
              "smallest or largest answers",
        "nl": "P10 en P90 worden getoond vanaf {n} antwoorden: geen getoond cijfer gebruikt een van "
              "de twee kleinste of grootste antwoorden",
    },
    "rounded_small": {
        "en": "with fewer than {n} answers the peer quantiles are rounded to two significant "
              "figures, so none is a single organisation's exact answer",
        "nl": "bij minder dan {n} antwoorden zijn de kwantielen van de groep afgerond op twee "
              "significante cijfers, zodat geen ervan het exacte antwoord van een organisatie is",
    },
}


def reason_text(code: str, lang: str = "en", **values) -> str:
    """The EN/NL wording of a reason code (values: floor, other, n)."""
    return REASONS[code]["nl" if lang == "nl" else "en"].format(**values)


@dataclass(frozen=True)
class Rules:
    """The disclosure rules of one analysis, derived from the anonymity floor."""

    floor: int
    tail: int = TAIL
    small_factor: int = SMALL_FACTOR
    significant: int = SIGNIFICANT

    @property
    def small_below(self) -> int:
        return self.small_factor * self.floor

    def quantile_min_n(self, q: float) -> int:
        """The smallest answering n at which quantile q is shown."""
        n = self.floor
        while not _tail_ok(np.array([n]), q, self.tail)[0]:
            n += 1
        return n

    def notes(self, lang: str = "en") -> list[str]:
        """The method notes a report prints under its peer statistics."""
        return [reason_text("tail_quantile", lang, n=self.quantile_min_n(0.10)),
                reason_text("rounded_small", lang, n=self.small_below)]


@dataclass(frozen=True)
class Refusal:
    """Why a group (indicators empty) or some of its indicators are not shown."""

    group: str
    code: str
    other: str
    indicators: tuple[str, ...] = ()

    def text(self, lang: str = "en", floor: int = 10, names: Mapping[str, str] | None = None) -> str:
        """The reason in `lang`; `names` maps group keys to the names a reader knows."""
        return reason_text(self.code, lang, other=(names or {}).get(self.other, self.other), floor=floor)


@dataclass(frozen=True)
class Admission:
    """The ledger's answer for one group: shown or not, and per indicator."""

    group: str
    allowed: bool                       # the group as a whole (its n and dimension medians)
    indicators: np.ndarray              # bool per catalogue indicator: statistics may be shown
    refusals: tuple[Refusal, ...] = ()

    def message(self, lang: str = "en", floor: int = 10) -> str:
        return "; ".join(r.text(lang, floor) for r in self.refusals)


def pack(mask: np.ndarray) -> np.ndarray:
    """A boolean row mask as a bitset of uint64 words (popcounts without BLAS or threads)."""
    bits = np.packbits(np.asarray(mask, dtype=bool), bitorder="little")
    pad = (-len(bits)) % 8
    if pad:
        bits = np.concatenate([bits, np.zeros(pad, dtype=np.uint8)])
    return bits.view(np.uint64)


def _answered(ref: Reference) -> np.ndarray:
    """(indicators, words): each indicator's answered organisations as a bitset; cached."""
    hit = ref.cache.get("disclosure:answered")
    if hit is None:
        hit = np.stack([pack(~np.isnan(col)) for col in ref.values.T])
        ref.cache["disclosure:answered"] = hit
    return hit


class DisclosureLedger:
    """Every set of organisations shown so far, per indicator, and the differencing check.

    analyse() uses a fresh ledger per result; the meeting keeps one for the whole session, so
    a group shown an hour ago still counts. Sets are bitsets; a check is a few vectorised
    AND/popcount passes over (shown sets x indicators x words): well under a millisecond at
    1,300 organisations, a few milliseconds at 100,000.
    """

    def __init__(self, ref: Reference, floor: int, *, differencing: bool | None = None):
        self.ref = ref
        self.floor = int(floor)
        self.differencing = DIFFERENCING if differencing is None else differencing
        self._keys: list[str] = []
        self._sets = np.zeros((0, (len(ref) + 63) // 64), dtype=np.uint64)
        self._shown = np.zeros((0, len(ref.indicator_ids)), dtype=bool)
        self._index: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> tuple[str, ...]:
        """The groups shown so far (first name of each distinct membership)."""
        return tuple(self._keys)

    def _conflicts(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        f = self.floor
        return ((a >= 1) & (a < f)) | ((b >= 1) & (b < f))

    def check(self, key: str, mask: np.ndarray, indicators: np.ndarray | None = None) -> Admission:
        """May the group `mask` be shown, with statistics for `indicators` (bool; default all)?"""
        k = len(self.ref.indicator_ids)
        wanted = np.ones(k, dtype=bool) if indicators is None else np.asarray(indicators, dtype=bool)
        if not self.differencing or not len(self._keys):
            return Admission(key, True, wanted.copy())
        new = pack(mask)
        only_new = new[None, :] & ~self._sets             # (shown sets, words)
        only_old = self._sets & ~new[None, :]
        count = lambda words: np.bitwise_count(words).sum(axis=-1, dtype=np.int64)  # noqa: E731
        group_bad = self._conflicts(count(only_new), count(only_old))
        if group_bad.any():
            other = self._keys[int(np.flatnonzero(group_bad)[0])]
            return Admission(key, False, np.zeros(k, dtype=bool), (Refusal(key, "differencing_group", other),))
        answered = _answered(self.ref)[None, :, :]        # (1, indicators, words)
        a = count(only_new[:, None, :] & answered)        # per shown set and indicator: |new \ old|
        b = count(only_old[:, None, :] & answered)        # |old \ new|
        bad = self._conflicts(a, b) & self._shown & wanted[None, :]
        allowed = wanted & ~bad.any(axis=0)
        refusals = []
        ids = self.ref.indicator_ids
        for h in np.flatnonzero(bad.any(axis=1)):
            own = bad[h] & ~np.any(bad[:h], axis=0)       # name each indicator once, first conflict
            if own.any():
                refusals.append(Refusal(key, "differencing_indicator", self._keys[h],
                                        tuple(ids[i] for i in np.flatnonzero(own))))
        return Admission(key, True, allowed, tuple(refusals))

    def record(self, key: str, mask: np.ndarray, indicators: np.ndarray) -> None:
        """Count `mask`'s answering sets for `indicators` as shown from now on."""
        indicators = np.asarray(indicators, dtype=bool)
        if not indicators.any():
            return
        bits = pack(mask)
        sig = bits.tobytes()
        h = self._index.get(sig)
        if h is not None:
            self._shown[h] |= indicators
            return
        self._index[sig] = len(self._keys)
        self._keys.append(key)
        self._sets = np.vstack([self._sets, bits[None, :]])
        self._shown = np.vstack([self._shown, indicators[None, :]])

    def admit(self, key: str, mask: np.ndarray, indicators: np.ndarray | None = None) -> Admission:
        """Check, then record what may be shown (the meeting calls this before showing a group)."""
        verdict = self.check(key, mask, indicators)
        if verdict.allowed:
            self.record(key, mask, verdict.indicators)
        return verdict


# --- quantiles ----------------------------------------------------------------------------

def _tail_ok(n: np.ndarray, q: float, tail: int) -> np.ndarray:
    """True where numpy's linear quantile q of n values uses none of the `tail` extreme values."""
    pos = q * (np.asarray(n) - 1)
    lo, hi = np.floor(pos), np.ceil(pos)
    return (lo >= tail) & (hi <= np.asarray(n) - 1 - tail)


def round_significant(x: np.ndarray, digits: int) -> np.ndarray:
    """x rounded to `digits` significant figures (0 and NaN unchanged)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(x)))
        scale = np.where(np.isfinite(mag), 10.0 ** (digits - 1 - mag), 1.0)
        out = np.round(x * scale) / scale
    return np.where(np.isfinite(x) & (x != 0), out, x)


def protect_quantiles(quant: np.ndarray, n: np.ndarray, rules: Rules) -> np.ndarray:
    """The shown quantiles (indicators x QUANTILE_LEVELS): tails dropped, small sets rounded."""
    out = np.array(quant, dtype=float, copy=True)
    n = np.asarray(n)
    for j, q in enumerate(QUANTILE_LEVELS):
        out[~_tail_ok(n, q, rules.tail), j] = np.nan
    small = n < rules.small_below
    out[small] = round_significant(out[small], rules.significant)
    return out


WHATIF_STEPS = (1, 2, 5, 10, 25, 50)   # percentile points a what-if answer may move in


def whatif_step(n: int, floor: int) -> int | None:
    """The coarsest-needed step for what-if percentiles in a set of n answers: the smallest of
    WHATIF_STEPS spanning at least `floor` peers (s * n >= 100 * floor); None below 2 x floor."""
    for s in WHATIF_STEPS:
        if s * n >= 100 * floor:
            return s
    return None


def whatif_percentile(pct: np.ndarray | float, n: np.ndarray | int, floor: int) -> np.ndarray:
    """What-if percentiles as the meeting may show them: floored to the step of their n, capped
    at 100 - step; NaN where n is below twice the floor.

    A client who sweeps an answer sees the percentile change only when it passes another
    `floor` organisations or more: the sweep reveals cut points as coarse as quantiles do,
    never one organisation's step. With 1,300 answers the step is one point.
    """
    pct = np.atleast_1d(np.asarray(pct, dtype=float))
    n = np.broadcast_to(np.asarray(n), pct.shape)
    out = np.full(pct.shape, np.nan)
    for k in range(pct.size):
        s = whatif_step(int(n.flat[k]), floor)
        if s is not None and pct.flat[k] == pct.flat[k]:
            out.flat[k] = min(np.floor(pct.flat[k] / s + 1e-9) * s, 100 - s)
    return out


# --- one result ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DisclosureSummary:
    """What the rules took out of one result: refusals and the statistics dropped."""

    refusals: tuple[Refusal, ...] = ()
    groups_suppressed: tuple[str, ...] = ()
    cells_suppressed: int = 0           # group x indicator with every statistic refused (differencing)
    statistics_dropped: int = 0         # quantiles and percentiles computed but not shown
    statistics_rounded: int = 0
    by_rule: Mapping[str, int] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"group": r.group, "code": r.code, "other": r.other,
                              "indicators": ", ".join(r.indicators)} for r in self.refusals],
                            columns=["group", "code", "other", "indicators"])


def _priority(groups: Sequence[PeerGroup], primary: str) -> list[int]:
    """Order of admission: the primary group, then built-in groups, then custom ones, each
    broadest first, so the narrower or custom group of a conflicting pair is the one refused."""
    from auditlib.peers import BUILT_IN

    def rank(i: int) -> tuple:
        g = groups[i]
        return (g.requested != primary, g.requested not in BUILT_IN, -g.n, i)
    return sorted(range(len(groups)), key=rank)


def protect(groups: Sequence[PeerGroup], positions: Mapping[str, pd.DataFrame], ref: Reference,
            floor: int, primary: str, *, ledger: DisclosureLedger | None = None,
            rules: Rules | None = None) -> tuple[tuple[PeerGroup, ...], dict[str, pd.DataFrame], DisclosureSummary]:
    """Apply every disclosure rule to one result's groups and positions (called by analyse).

    Returns the groups (a refused group becomes unavailable, with the reason), the positions
    with refused statistics set to NaN (status SUPPRESSED), and a summary of what was dropped.
    Frames are copied only where something changes (the analysis stays fast).
    """
    rules = rules or Rules(floor)
    ledger = ledger if ledger is not None else DisclosureLedger(ref, floor)   # an empty one is falsy
    out_groups = list(groups)
    out_pos = dict(positions)
    refusals: list[Refusal] = []
    suppressed: list[str] = []
    by_rule = {"differencing": 0, "tails": 0}
    cells = rounded = 0
    cols = list(SHOWN_COLUMNS)
    nq = len(QUANTILE_COLUMNS)
    for i in _priority(groups, primary):
        g = groups[i]
        if not g.available or g.mask is None:
            continue
        frame = positions[g.requested]
        original = np.column_stack([frame[c].to_numpy(dtype=float) for c in cols])   # (indicators, stats)
        stats = original.copy()
        present = ~np.isnan(stats)
        shown = present.any(axis=1)
        verdict = ledger.admit(g.requested, g.mask, shown)
        refusals.extend(verdict.refusals)
        refused = shown & ~verdict.indicators
        if not verdict.allowed:
            suppressed.append(g.requested)
            names = {x.requested: x.name_en for x in groups}
            out_groups[i] = replace(g, available=False, reason=verdict.refusals[0].text("en", floor, names),
                                    refusals=verdict.refusals)
            refused = np.ones(len(frame), dtype=bool)
        elif verdict.refusals:
            out_groups[i] = replace(g, refusals=verdict.refusals)
        stats[refused] = np.nan
        by_rule["differencing"] += int(present[refused].sum())
        cells += int((refused & shown).sum())
        quant = stats[:, :nq]
        safe = protect_quantiles(quant, frame["n"].to_numpy(), rules)
        by_rule["tails"] += int((~np.isnan(quant) & np.isnan(safe)).sum())
        rounded += int((~np.isnan(safe) & (safe != quant)).sum())
        stats[:, :nq] = safe
        if not refused.any() and np.array_equal(stats, original, equal_nan=True):
            continue
        data = {c: frame[c].to_numpy() for c in frame.columns}     # one new frame: cheaper than setitems
        for j, col in enumerate(cols):
            data[col] = stats[:, j]
        if refused.any():
            data["band"] = np.where(refused, None, data["band"])
            data["status"] = np.where(refused, SUPPRESSED, data["status"])
            # no statistics, no answering count either (as below the floor): n differences leak too
            for col in ("n", "n_missing"):
                data[col] = np.where(refused, np.nan, data[col].astype(float))
        out_pos[g.requested] = pd.DataFrame(data, index=frame.index)
    summary = DisclosureSummary(tuple(refusals), tuple(suppressed), cells,
                                sum(by_rule.values()), rounded, by_rule)
    return tuple(out_groups), out_pos, summary


def protect_dimensions(dims: pd.DataFrame, groups: Sequence[PeerGroup], rules: Rules) -> pd.DataFrame:
    """The peers' median dimension scores of groups under twice the floor, rounded like their
    quantiles: with 11 members the median is one member's own (derived) score."""
    small = [g.requested for g in groups if g.available and g.n < rules.small_below]
    if not small:
        return dims
    out = dims.copy()
    rows = out["group"].isin(small).to_numpy()
    out.loc[rows, "peer_median"] = round_significant(out.loc[rows, "peer_median"].to_numpy(dtype=float),
                                                     rules.significant)
    return out


def protect_evolution(changes: pd.DataFrame, positions: pd.DataFrame) -> pd.DataFrame:
    """The evolution table without percentiles where the group's statistics are not shown."""
    hidden = positions.set_index("indicator")["percentile"].isna() & \
        positions.set_index("indicator")["status"].isin([SUPPRESSED])
    rows = changes["indicator"].map(hidden).fillna(False).to_numpy(dtype=bool)
    if not rows.any():
        return changes
    out = changes.copy()
    out.loc[rows, ["percentile_then", "percentile_now", "percentile_change"]] = np.nan
    out.loc[rows & (out["trend"].isin(["improved", "declined", "stable"])).to_numpy(), "trend"] = "not_ranked"
    return out


"""Evolution between audits: what changed since the earlier audit, beyond noise.

The earlier answers are positioned against the *same* peer group as today's, so a change in
percentile reflects the client's own movement, not a different comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditlib.catalogue import Catalogue
from auditlib.errors import ParameterError, ProblemCode
from auditlib.labels import LabelReadiness
from auditlib.peers import PeerGroup, Reference
from auditlib.scoring import _signs, client_percentiles, group_stats

EVOLUTION_COLUMNS = ["indicator", "dimension", "direction", "value_then", "value_now", "change",
                     "percentile_then", "percentile_now", "percentile_change", "trend"]


@dataclass(frozen=True)
class Evolution:
    earlier_year: int
    current_year: int
    group: str                   # the peer group both audits are positioned against
    changes: pd.DataFrame        # EVOLUTION_COLUMNS, one row per indicator
    labels_then: LabelReadiness
    noise_band: float            # percentile points

    @property
    def improved(self) -> pd.DataFrame:
        return self.changes[self.changes["trend"] == "improved"]

    @property
    def declined(self) -> pd.DataFrame:
        return self.changes[self.changes["trend"] == "declined"]

    def labels_side_by_side(self, labels_now: LabelReadiness) -> pd.DataFrame:
        then = self.labels_then.summary().set_index("label")
        now = labels_now.summary().set_index("label")
        out = pd.DataFrame({
            f"ready_{self.earlier_year}": then["ready"], f"ready_{self.current_year}": now["ready"],
            f"passed_{self.earlier_year}": then["passed"], f"passed_{self.current_year}": now["passed"],
            "total": now["total"],
            f"score_{self.earlier_year}": then["total_score"], f"score_{self.current_year}": now["total_score"],
        })
        return out.reset_index()


def compare(catalogue: Catalogue, ref: Reference, group: PeerGroup, now: np.ndarray, then: np.ndarray,
            *, earlier_year: int, current_year: int, labels_then: LabelReadiness, floor: int) -> Evolution:
    """The change of every indicator since an earlier audit, judged against the noise band.

    Parameters
    ----------
    catalogue, ref, group
        The catalogue, the reference database and the peer group today's positions used; the
        earlier answers are positioned against the same group's statistics.
    now, then
        The answers today and at the earlier audit, in catalogue order (NaN = not answered).
    earlier_year, current_year
        The benchmark years; the earlier one must lie strictly before the current one.
    labels_then
        Label readiness at the earlier audit.
    floor
        The anonymity floor (no percentile for an indicator with fewer answers).

    Returns
    -------
    Evolution
        One row per indicator with its trend: improved / declined when the percentile moved by
        at least the catalogue's noise band (in percentile points), else stable; not_comparable,
        context or not_ranked where no move can be judged.

    Raises
    ------
    ParameterError
        An "earlier" audit that is not earlier (same or later year): no evolution from 2026 to 2026.
    """
    if earlier_year >= current_year:
        raise ParameterError(f"an earlier audit of {earlier_year} is not before the current audit of "
                             f"{current_year}: no evolution can be shown", code=ProblemCode.INCONSISTENT,
                             place="earlier_audit")
    signs = _signs(catalogue)
    pct_now = pct_then = np.full(len(now), np.nan)
    if group.available and group.mask is not None:
        stats = group_stats(ref, group, catalogue)      # the statistics today's positions used
        pct_now = client_percentiles(now, stats, signs, floor)
        pct_then = client_percentiles(then, stats, signs, floor)
    noise = catalogue.peers.evolution_noise_percentile
    change = now - then
    dpct = pct_now - pct_then
    trend = []
    for j, sign in enumerate(signs):
        if np.isnan(change[j]):
            trend.append("not_comparable")
        elif sign == 0:
            trend.append("context")
        elif np.isnan(dpct[j]):
            trend.append("not_ranked")
        elif dpct[j] >= noise:
            trend.append("improved")
        elif dpct[j] <= -noise:
            trend.append("declined")
        else:
            trend.append("stable")
    changes = pd.DataFrame({
        "indicator": catalogue.ids,
        "dimension": [i.dimension for i in catalogue.indicators],
        "direction": [i.direction for i in catalogue.indicators],
        "value_then": then, "value_now": now, "change": change,
        "percentile_then": pct_then, "percentile_now": pct_now, "percentile_change": dpct,
        "trend": trend,
    })
    return Evolution(earlier_year, current_year, group.requested, changes, labels_then, noise)

"""Engine speed: one client's full analysis, and the portfolio scoring of the whole database.

Every figure is measured in this run, and reported as a ratio against a baseline measured in
the same run on the same machine (absolute times are printed for the issue's targets too):

- analysis of one client across all default peer groups, at 1,300 and 100,000 rows, against a
  plain pandas implementation (per group and indicator: filter, quantiles, comparisons);
- the portfolio view (every organisation against its own field peers), vectorised with ranks,
  against a Python loop per organisation.

Run: .venv/bin/python benchmarks/bench_engine.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from _common import generator, timed  # noqa: E402
from auditlib.audit import analyse, reference_for  # noqa: E402
from auditlib.benchmark import load_benchmark  # noqa: E402
from auditlib.catalogue import load_catalogue  # noqa: E402
from auditlib.intake import load_client  # noqa: E402
from auditlib.peers import Reference  # noqa: E402
from auditlib.scoring import _signs, percentiles_of, portfolio_percentiles  # noqa: E402
from conftest import make_db  # noqa: E402


def naive_analysis(frame: pd.DataFrame, client, catalogue, groups) -> list[dict]:
    """The baseline: the same figures as a first pandas implementation would compute them, group by
    group and indicator by indicator: quantiles, the client percentile, and the peers' median
    dimension scores from pandas ranks."""
    rows = []
    age = frame["benchmark_year"] - frame["founding_year"]
    for g in groups:
        if g == "all":
            peers = frame
        elif g == "field":
            peers = frame[frame["field"] == client.field]
        elif g == "country":
            peers = frame[frame["country"] == client.country]
        elif g == "eu":
            peers = frame[frame["country"].isin(catalogue.eu_members)]
        elif g == "age_band":
            band = next(b for b in catalogue.peers.age_bands if b.id == catalogue.age_band(client.age))
            peers = frame[age.between(band.min, band.max)]
        else:
            peers = frame[frame["label"] == "gold"]
        # the peers' own dimension scores (leave-one-out percentiles by pandas ranks), for the medians
        scored = [i for i in catalogue.indicators if i.direction != "context"]
        signed = pd.DataFrame({i.id: peers[i.id] * (1 if i.direction == "higher" else -1) for i in scored})
        ranks = (signed.rank(method="average") - 1) / (signed.notna().sum() - 1) * 100
        dims = pd.DataFrame({d.id: ranks[[i.id for i in scored if i.dimension == d.id]].mean(axis=1)
                             for d in catalogue.dimensions})
        rows.append({"group": g, "dimension_medians": dims.median().to_dict()})
        for ind in catalogue.indicators:
            col = peers[ind.id].dropna()
            v = client.answers.get(ind.id)
            q = col.quantile([0.1, 0.25, 0.5, 0.75, 0.9])
            if v is None or ind.direction == "context":
                pct = None
            elif ind.direction == "higher":
                pct = ((col < v).sum() + 0.5 * (col == v).sum()) / len(col) * 100
            else:
                pct = ((col > v).sum() + 0.5 * (col == v).sum()) / len(col) * 100
            rows.append({"group": g, "indicator": ind.id, "pct": pct, **q.to_dict()})
    return rows


def loop_portfolio(ref: Reference, catalogue) -> np.ndarray:
    """The baseline: every organisation against the others of its field, one at a time."""
    signs = _signs(catalogue)
    fields = ref.meta["field"].to_numpy()
    out = np.empty_like(ref.values)
    for i in range(len(ref)):
        peers = (fields == fields[i])
        peers[i] = False
        out[i], _ = percentiles_of(ref.values[i], ref.values[peers], signs)
    return out


def main() -> int:
    catalogue = load_catalogue(REPO / "data" / "catalogue")
    client = load_client(REPO / "data" / "clients" / "nl-delta-water", catalogue)
    groups = list(catalogue.peers.default_groups)
    shipped = load_benchmark(REPO / "data" / "benchmark" / "benchmark.csv", catalogue)
    big_frame = generator().generate(100_000).set_index("org_id")
    big = make_db(big_frame, version="synthetic-100k")

    print(f"{'measure':<58}{'ours':>10}{'baseline':>11}{'ratio':>8}")
    results = {}
    for label, db, repeat in (("1,300 rows", shipped, 30), ("100,000 rows", big, 5)):
        start = time.perf_counter()
        reference_for(db, catalogue)
        prepare = time.perf_counter() - start
        ref = reference_for(db, catalogue)

        def cold():
            ref.cache.clear()            # every group's statistics computed afresh
            analyse(client, catalogue=catalogue, benchmark=db, groups=groups)

        ours = timed(cold, repeat)
        warm = timed(lambda: analyse(client, catalogue=catalogue, benchmark=db, groups=groups), repeat)
        base = timed(lambda: naive_analysis(db.frame, client.profile, catalogue, groups), max(2, repeat // 5))
        results[label] = ours
        print(f"{'one client, ' + str(len(groups)) + ' peer groups, ' + label:<58}"
              f"{ours * 1000:>8.1f}ms{base * 1000:>9.1f}ms{base / ours:>7.1f}x")
        print(f"{'  same, group statistics already cached (batch case)':<58}{warm * 1000:>8.1f}ms")
        print(f"{'  (one-off preparation of the database per process)':<58}{prepare * 1000:>8.1f}ms")
    print(f"{'scaling 100,000 / 1,300 rows (x77 data)':<58}{'':>10}{'':>11}"
          f"{results['100,000 rows'] / results['1,300 rows']:>7.1f}x")

    ref = reference_for(shipped, catalogue)
    vec = timed(lambda: portfolio_percentiles(ref, catalogue, by="field"), 10)
    loop = timed(lambda: loop_portfolio(ref, catalogue), 2)
    print(f"{'portfolio: every organisation vs its field, 1,300 rows':<58}"
          f"{vec * 1000:>8.1f}ms{loop * 1000:>9.1f}ms{loop / vec:>7.1f}x")
    ref_big = reference_for(big, catalogue)
    vec_big = timed(lambda: portfolio_percentiles(ref_big, catalogue, by="field"), 3)
    print(f"{'portfolio: every organisation vs its field, 100,000 rows':<58}{vec_big * 1000:>8.1f}ms")
    print("\ntargets: one client <= 50 ms at 1,300 rows and <= 1 s at 100,000 rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

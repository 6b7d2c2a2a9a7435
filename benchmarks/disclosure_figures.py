"""What the disclosure rules withhold for the example clients (the figures of issue 10's note).

For each client in data/clients, analysed against the default peer groups: the groups refused
by the differencing rule, the group x indicator cells refused, and the statistics (quantiles
and percentiles) computed but not shown, by rule; the quantiles rounded (small groups).

Run: .venv/bin/python benchmarks/disclosure_figures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def figures(clients_dir: Path = REPO / "data" / "clients") -> pd.DataFrame:
    from auditlib.audit import analyse
    from auditlib.benchmark import load_benchmark
    from auditlib.catalogue import load_catalogue

    catalogue = load_catalogue(REPO / "data" / "catalogue")
    db = load_benchmark(REPO / "data" / "benchmark" / "benchmark.csv", catalogue)
    rows = []
    for folder in sorted(p for p in clients_dir.iterdir() if p.is_dir()):
        result = analyse(folder, catalogue=catalogue, benchmark=db)
        s = result.disclosure
        shown = int(result.positions[["p10", "p25", "median", "p75", "p90", "percentile"]].notna().to_numpy().sum())
        rows.append({
            "client": folder.name,
            "groups_suppressed": len(s.groups_suppressed),
            "which": ", ".join(f"{g} (vs {r.other})" for g in s.groups_suppressed
                               for r in result.group(g).refusals[:1]),
            "cells_suppressed": s.cells_suppressed,
            "dropped_differencing": s.by_rule.get("differencing", 0),
            "dropped_tails": s.by_rule.get("tails", 0),
            "statistics_dropped": s.statistics_dropped,
            "statistics_shown": shown,
            "quantiles_rounded": s.statistics_rounded,
        })
    frame = pd.DataFrame(rows)
    total = frame.drop(columns=["client", "which"]).sum()
    frame.loc[len(frame)] = {"client": "TOTAL", "which": "", **total.to_dict()}
    return frame


def main() -> int:
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 40)
    print(figures().to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cost of the disclosure rules: analyse() with and without them, and one ledger check.

Measured in the same run, interleaved, at 1,300 and 100,000 rows (the meeting needs a
what-if update <= 200 ms at 1,300 rows and <= 1 s at 100,000):

- analyse() of one client against the six default groups, rules on, against the same call
  with `disclosure.protect` replaced by a pass-through (the ratio is the rules' overhead);
- one `DisclosureLedger.check` of a new group against 30 groups already shown (a long meeting).

Run: .venv/bin/python benchmarks/bench_disclosure.py
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import auditlib.audit as audit  # noqa: E402
from _common import timed  # noqa: E402
from auditlib.benchmark import load_benchmark  # noqa: E402
from auditlib.catalogue import load_catalogue  # noqa: E402
from auditlib.disclosure import DisclosureLedger  # noqa: E402
from auditlib.intake import load_client  # noqa: E402
from conftest import make_db  # noqa: E402


def _passthrough(groups, positions, ref, floor, primary, **_):
    from auditlib.disclosure import DisclosureSummary

    return tuple(groups), dict(positions), DisclosureSummary()


def main() -> int:
    catalogue = load_catalogue(REPO / "data" / "catalogue")
    small = load_benchmark(REPO / "data" / "benchmark" / "benchmark.csv", catalogue)
    spec = importlib.util.spec_from_file_location("generate", REPO / "data" / "benchmark" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    big = make_db(gen.generate(100_000).set_index("org_id"), version="synthetic-100k")
    client = load_client(REPO / "data" / "clients" / "es-huerta-food", catalogue)
    real = audit.protect
    print(f"{'measure':<62}{'rules on':>10}{'rules off':>11}{'ratio':>8}")
    for label, db, repeat in (("1,300 rows", small, 15), ("100,000 rows", big, 5)):
        audit.analyse(client, catalogue=catalogue, benchmark=db)        # warm the per-process caches
        on, off = [], []
        for _ in range(repeat):
            audit.protect = real
            on.append(timed(lambda: audit.analyse(client, catalogue=catalogue, benchmark=db), 1))
            audit.protect = _passthrough
            off.append(timed(lambda: audit.analyse(client, catalogue=catalogue, benchmark=db), 1))
        audit.protect = real
        a, b = statistics.median(on), statistics.median(off)
        print(f"{'analyse(), 6 default groups, ' + label:<62}{a * 1000:>8.1f}ms{b * 1000:>9.1f}ms{a / b:>7.2f}x")
        ref = audit.reference_for(db, catalogue)
        rng = np.random.default_rng(0)
        ledger = DisclosureLedger(ref, 10)
        for h in range(30):
            ledger.admit(f"g{h}", rng.random(len(ref)) < 0.5)
        new = rng.random(len(ref)) < 0.5
        t = timed(lambda: ledger.check("new", new), repeat * 2)
        print(f"{'ledger check against 30 shown groups, ' + label:<62}{t * 1000:>8.1f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

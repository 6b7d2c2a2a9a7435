"""What every benchmark script shares: the seeded database generator and a median timer."""

from __future__ import annotations

import importlib.util
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def generator():
    """data/benchmark/generate.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("generate", REPO / "data" / "benchmark" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fn, repeat: int) -> float:
    """Median wall time of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)

"""The benchmark (reference) database: load and validate against the catalogue.

CONTRACT (implemented by the benchmark work; other modules rely on these names):

    BenchmarkDB                         frozen dataclass below
    load_benchmark(path=None, catalogue=None) -> BenchmarkDB    raises BenchmarkError

The frame: index `org_id` (str, anonymised); columns `country` (ISO alpha-2), `field`
(field id), `founding_year` (int), `benchmark_year` (int), `label` (none/bronze/silver/gold),
then one float64 column per catalogue indicator id (NaN = not answered).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

META_COLUMNS = ("country", "field", "founding_year", "benchmark_year", "label")
LABELS = ("none", "bronze", "silver", "gold")


@dataclass(frozen=True)
class BenchmarkDB:
    frame: pd.DataFrame
    path: Path
    sha256: str
    version: str

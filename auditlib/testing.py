"""Helpers for the test suite and for trying the library by hand, in the spirit of seaborn's
`_testing.py`: small synthetic databases and profiles, the repository's data folders, and
fault injection for file writes.

Imported one way everywhere (``from auditlib.testing import ...``), so it loads once whatever
the way pytest is started; pytest fixtures stay in tests/conftest.py. The synthetic data is
fixed-seed and fictional.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditlib.config import REPO_ROOT

if TYPE_CHECKING:
    import pytest

    from auditlib.benchmark import BenchmarkDB
    from auditlib.catalogue import Catalogue
    from auditlib.intake import ClientProfile

REPO = REPO_ROOT
DATA = REPO / "data"
TEST_DATA = REPO / "tests" / "data"


def make_reference_frame(catalogue: Catalogue, n: int = 300, seed: int = 7) -> pd.DataFrame:
    """A small synthetic benchmark frame in the loader's shape (independent of the shipped file)."""
    rng = np.random.default_rng(seed)
    countries = rng.choice(["DE", "FR", "NL", "ES", "NO"], size=n, p=[0.4, 0.3, 0.15, 0.13, 0.02])
    fields = rng.choice(["ict", "food", "maritime"], size=n, p=[0.5, 0.4, 0.1])
    founding = rng.integers(1990, 2024, size=n)
    labels = rng.choice(["none", "bronze", "silver", "gold"], size=n, p=[0.3, 0.5, 0.1, 0.1])
    frame = pd.DataFrame({"country": countries, "field": fields, "founding_year": founding,
                          "benchmark_year": np.maximum(founding + 1, 2025), "label": labels},
                         index=pd.Index([f"CO-{i:05d}" for i in range(n)], name="org_id"))
    for ind in catalogue.indicators:
        if ind.kind == "yes_no":
            col = rng.integers(0, 2, size=n).astype(float)
        elif ind.kind == "ordinal":
            col = rng.integers(int(ind.min), int(ind.max) + 1, size=n).astype(float)
        elif ind.kind == "share":
            col = np.round(rng.uniform(0, 100, size=n), 1)
        else:
            col = np.minimum(np.round(rng.lognormal(2.5, 1.0, size=n)), ind.max)
        col[rng.random(n) < 0.05] = np.nan
        frame[ind.id] = col
    frame["org_age"] = (frame["benchmark_year"] - frame["founding_year"]).astype(float)
    return frame


def make_db(frame: pd.DataFrame, version: str = "test") -> BenchmarkDB:
    """A BenchmarkDB over a frame, as the loader would give it (no file behind it)."""
    from auditlib.benchmark import BenchmarkDB

    sha = hashlib.sha256(pd.util.hash_pandas_object(frame).to_numpy().tobytes()).hexdigest()
    return BenchmarkDB(frame, Path("synthetic.csv"), sha, version)


def make_profile(catalogue: Catalogue, *, client_id: str = "test-client", country: str = "DE",
                 field: str = "ict", founding_year: int = 2010, benchmark_year: int = 2026,
                 benchmark_id: str | None = None, **answers: float | None) -> ClientProfile:
    """A client profile with a few default answers; `answers` override them by indicator id."""
    from auditlib.intake import ClientProfile

    values: dict[str, float | None] = {i: None for i in catalogue.ids}
    defaults = {"committed_members": 40, "member_types": 4, "management_fte": 2.0, "english_website": 1}
    values.update(defaults)
    values.update(answers)
    values["org_age"] = float(benchmark_year - founding_year)
    return ClientProfile(client_id, "Test Cluster", country, field, founding_year, benchmark_year,
                         "Test Region", "auditor@example.org", values, Path("synthetic.yaml"), benchmark_id)


class InjectedFault(OSError):
    """The failure `truncate_then_fail` raises (an OSError, like a full disk)."""


def truncate_then_fail(monkeypatch: pytest.MonkeyPatch, target: str | Path) -> list[Path]:
    """Make every write that opens `target` itself truncate it and then fail, as a crash or a
    full disk does halfway through an in-place write; writes to any other path (a temporary
    file beside it) work as usual. Returns the list of paths the fault hit.

    An atomic writer (temporary file, then rename) is untouched by it and leaves either the
    old or the new content; a writer that writes in place leaves a truncated file.
    """
    target = Path(target).resolve()
    hits: list[Path] = []
    real_open = builtins.open

    def is_target(file: Any) -> bool:
        return isinstance(file, (str, bytes, os.PathLike)) and Path(os.fsdecode(file)).resolve() == target

    def faulty_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if is_target(file) and any(m in mode for m in "wax+"):
            with real_open(file, "w"):
                pass                                    # truncated, as an in-place write begins
            hits.append(target)
            raise InjectedFault(f"injected failure while writing {target}")
        return real_open(file, mode, *args, **kwargs)

    def path_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        return faulty_open(self, mode, *args, **kwargs)

    def write_text(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        with faulty_open(self, "w", *args, **kwargs) as fh:
            return fh.write(data)

    def write_bytes(self: Path, data: bytes) -> int:
        with faulty_open(self, "wb") as fh:
            return fh.write(data)

    monkeypatch.setattr(builtins, "open", faulty_open)
    monkeypatch.setattr(io, "open", faulty_open)
    monkeypatch.setattr(Path, "open", path_open)
    monkeypatch.setattr(Path, "write_text", write_text)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    return hits

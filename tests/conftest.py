"""Shared fixtures. Data fixtures are fixed-seed; figures are closed after each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditlib.catalogue import load_catalogue

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue(DATA / "catalogue")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# --- engine fixtures: a small fixed-seed reference database and client profiles ----------

import hashlib

import numpy as np
import pandas as pd


def make_reference_frame(catalogue, n: int = 300, seed: int = 7) -> pd.DataFrame:
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


def make_db(frame: pd.DataFrame, version: str = "test"):
    from auditlib.benchmark import BenchmarkDB

    sha = hashlib.sha256(pd.util.hash_pandas_object(frame).to_numpy().tobytes()).hexdigest()
    return BenchmarkDB(frame, Path("synthetic.csv"), sha, version)


def make_profile(catalogue, *, client_id="test-client", country="DE", field="ict", founding_year=2010,
                 benchmark_year=2026, benchmark_id=None, **answers):
    from auditlib.intake import ClientProfile

    values = {i: None for i in catalogue.ids}
    defaults = {"committed_members": 40, "member_types": 4, "management_fte": 2.0, "english_website": 1}
    values.update(defaults)
    values.update(answers)
    values["org_age"] = float(benchmark_year - founding_year)
    return ClientProfile(client_id, "Test Cluster", country, field, founding_year, benchmark_year,
                         "Test Region", "auditor@example.org", values, Path("synthetic.yaml"), benchmark_id)


@pytest.fixture(scope="session")
def reference_frame(catalogue):
    return make_reference_frame(catalogue)


@pytest.fixture(scope="session")
def synthetic_db(reference_frame):
    return make_db(reference_frame)

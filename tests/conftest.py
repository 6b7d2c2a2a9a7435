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

"""Shared fixtures. Data fixtures are fixed-seed; figures are closed after each test.

Helpers (paths, synthetic profiles and databases, fault injection) live in auditlib.testing and
are imported from there: this file is pytest's, never imported by a test module.
"""

from __future__ import annotations

import pytest

from auditlib.catalogue import load_catalogue
from auditlib.testing import DATA, make_db, make_reference_frame


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue(DATA / "catalogue")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# --- engine fixtures: a small fixed-seed reference database (helpers in auditlib.testing) ---


@pytest.fixture(scope="session")
def reference_frame(catalogue):
    return make_reference_frame(catalogue)


@pytest.fixture(scope="session")
def synthetic_db(reference_frame):
    return make_db(reference_frame)

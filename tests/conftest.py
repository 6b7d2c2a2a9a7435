"""Shared fixtures. Data fixtures are fixed-seed; figures are closed after each test.

Helpers (paths, synthetic profiles and databases, fault injection) live in auditlib.testing and
are imported from there: this file is pytest's, never imported by a test module.
"""

from __future__ import annotations

import pytest

from auditlib.catalogue import load_catalogue
from auditlib.startup import skip_unused_imports
from auditlib.testing import DATA, make_db, make_reference_frame

skip_unused_imports()     # as the command line does: ~3 s of CPU per test process importing nbformat


# The longest tests first: under xdist, a long test handed out last keeps one core busy while
# the other waits (the suite's wall time is what CI's 10-minute budget counts). Stable: the
# order within each group is the collection order, and every xdist worker sorts alike.
LONGEST_FIRST = ("test_dask_executor.py", "test_review.py", "test_batch.py", "test_preflight.py")
# Modules whose module-scoped fixtures run whole reports or start a browser: their tests stay on
# one xdist worker (`--dist loadgroup`, Makefile) so the fixture is built once, not once per worker.
ONE_WORKER = ("test_review.py", "test_preflight.py", "test_pdf.py")


@pytest.hookimpl(tryfirst=True)      # before xdist reads the groups from the markers
def pytest_collection_modifyitems(items):
    def weight(item) -> int:
        name = item.path.name
        if name in LONGEST_FIRST:
            return LONGEST_FIRST.index(name)
        return len(LONGEST_FIRST) + (0 if item.get_closest_marker("slow") else 1)

    for item in items:
        if item.path.name in ONE_WORKER:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
    items.sort(key=weight)


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue(DATA / "catalogue")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture(autouse=True, scope="session")
def _verdicts_in_a_temporary_folder(tmp_path_factory):
    """Commands called in-process remember benchmark verdicts here, not in the user's cache."""
    import os

    os.environ["AUDITLIB_CACHE"] = str(tmp_path_factory.mktemp("auditlib-cache"))


@pytest.fixture(autouse=True)
def _no_remembered_verdicts():
    """A command line called in-process turns benchmark verdicts and kept templates on for the process:
    off again after each test, so no other test's load skips validation or reads a kept template."""
    yield
    from auditlib import benchmark, templating

    benchmark.remember_verdicts(None)
    templating.remember_compiled_templates(None)


@pytest.fixture
def in_process():
    """Report notebooks on the in-process kernel, as `auditlib run` has them: no kernel process to start
    (a few seconds less per run). Tests of the kernel process itself do without it."""
    from auditlib.batch.kernel import in_process_kernel

    with in_process_kernel(600):
        yield


@pytest.fixture
def compiled_templates(monkeypatch) -> list[str]:
    """The names of the Jinja templates compiled during the test (not loaded from a bytecode cache)."""
    import jinja2

    names: list[str] = []
    real = jinja2.Environment.compile

    def counted(self, source, name=None, *args, **kwargs):
        names.append(name)
        return real(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return names


# --- engine fixtures: a small fixed-seed reference database (helpers in auditlib.testing) ---


@pytest.fixture(scope="session")
def reference_frame(catalogue):
    return make_reference_frame(catalogue)


@pytest.fixture(scope="session")
def synthetic_db(reference_frame):
    return make_db(reference_frame)

"""A report process's start: optional imports of third-party libraries the report never uses; for a
cold `auditlib run`, also matplotlib's chart modules without their docstrings (`import_chart_modules`)
and a cyclic GC that rarely runs (`few_collections`), each explained where it is defined.

Why: one cold `auditlib run` pays for every import, and two optional imports made by libraries
the report needs cost more than the whole analysis:

    rfc3987_syntax  jsonschema (imported by nbformat, so by papermill and nbconvert) imports it
                    when installed (jupyter-events asks for jsonschema[format-nongpl]) to check
                    the "iri" string format; its import compiles about 40 Lark grammars, 2.5-3 s
                    of CPU. No notebook schema uses that format, and nbformat does not check
                    formats. The other string-format checkers of that extra (fqdn, rfc3986 and
                    rfc3339 validators, webcolors, jsonpointer, uri_template, isoduration with
                    arrow) are skipped for the same reason (about 0.1 s together).
    debugpy         ipykernel imports it for the kernel's debugger; the report's in-process
                    kernel is never debugged (0.1-0.2 s).

Both libraries treat the module as optional (an ImportError switches the feature off), so
`skip_unused_imports` marks them as not importable in this process (``sys.modules[name] =
None``, Python's documented way to make an import raise ImportError). Called by the entry
points that run reports: the command line (`auditlib.cli.main`) and the batch's warm-up
(`auditlib.batch.local.warm_up`, which a Dask worker's fork server runs too). A module already
imported is left alone, and nothing of the report changes (same bytes).
"""

from __future__ import annotations

import sys
from typing import Literal

UNUSED_IMPORTS = ("rfc3987_syntax", "fqdn", "rfc3986_validator", "rfc3339_validator", "webcolors", "jsonpointer",
                  "uri_template", "isoduration", "debugpy")


def skip_unused_imports() -> None:
    """Make the optional imports in UNUSED_IMPORTS fail fast in this process (see the module docstring)."""
    for name in UNUSED_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "import raises ImportError"


# --- matplotlib without the docstrings of its Artist classes' set() ---------------------------------------

CHART_MODULES = ("matplotlib.figure", "matplotlib.backends.backend_svg", "matplotlib.backends.backend_agg",
                 "matplotlib.collections", "matplotlib.lines", "matplotlib.patches")


def _no_kwdoc(artist) -> str:
    return "(not built in this process: see matplotlib.artist.kwdoc)"


def import_chart_modules() -> None:
    """Import the matplotlib modules the report's charts use (auditlib.charts), without building the
    docstrings of the Artist classes' `set()` method.

    Why: as each Artist subclass is defined, matplotlib writes a `set()` docstring listing every
    property (`matplotlib.artist.kwdoc`: 118 classes in a report, ~0.11 s of CPU in a cold run);
    a report process reads no docstring. `kwdoc` is put back afterwards, so `help()` still works and
    classes defined later are documented as usual. The notebook imports these modules anyway; imported
    before its kernel starts, as the batch's warm parent does (the kernel then sets the inline backend
    in rcParams). Nothing is done when matplotlib's figure module is already imported.
    """
    if "matplotlib.figure" in sys.modules:
        return
    import importlib

    import matplotlib.artist

    kwdoc = matplotlib.artist.kwdoc
    matplotlib.artist.kwdoc = _no_kwdoc
    try:
        for name in CHART_MODULES:
            importlib.import_module(name)
    finally:
        matplotlib.artist.kwdoc = kwdoc


# --- the cyclic garbage collector of a one-report process ------------------------------------------------

FEW_COLLECTIONS = (10_000, 20, 20)      # gen-0 every 10,000 net allocations (CPython: 700, 10, 10)


class few_collections:
    """Around one cold report in this process (`auditlib run`): the cyclic GC runs rarely and never
    rescans what the imports built.

    Why: a cold run allocates millions of objects while it imports pandas, matplotlib, papermill and
    nbconvert; at CPython's default thresholds that made ~585 young, 53 middle and 4-5 full collections,
    the full ones walking the whole heap of imported modules (0.4-0.65 s of a 5-6 s run). Here the
    young generation is collected every 10,000 allocations, and `settle()` freezes what is alive (the
    imported modules, the settings: `gc.freeze`, a generation no collection walks). Cycles made later
    (the charts' figures) are still collected by the young collections.

    On leaving, the thresholds are put back and what was frozen here is unfrozen, so a process that
    goes on (a test, a notebook calling `main`) collects as before. When something had frozen objects
    before (the batch's parent does before it forks), nothing is unfrozen: its freeze stays as it was.
    """

    def __enter__(self) -> "few_collections":
        import gc

        self.thresholds = gc.get_threshold()
        self.frozen_before = gc.get_freeze_count()
        gc.set_threshold(*FEW_COLLECTIONS)
        gc.freeze()
        return self

    def settle(self) -> None:
        """Everything alive now (imports done, nothing of the report built yet) is never garbage: freeze it."""
        import gc

        gc.freeze()

    def __exit__(self, *exc: object) -> Literal[False]:
        import gc

        gc.set_threshold(*self.thresholds)
        if not self.frozen_before:
            gc.unfreeze()
        return False

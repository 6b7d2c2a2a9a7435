"""What the command line imports: a command pays only for the libraries it uses (auditlib/startup.py, cli).

One subprocess (a fresh interpreter: this test process has imported everything already) runs
`auditlib --help` and then `auditlib validate` on an example client and reports which heavy
modules each had imported, whether the local batch executor's modules import dask, and whether
jsonschema's optional format checkers were skipped.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from auditlib.startup import FEW_COLLECTIONS, UNUSED_IMPORTS, few_collections

_PROBE = r"""
import json, sys
from auditlib.cli import main

HEAVY = ("pandas", "numpy", "matplotlib", "pandera", "dask", "distributed", "weasyprint", "nbconvert",
         "papermill", "nbformat", "jsonschema", "IPython", "ipykernel", "openpyxl", "websocket")
def loaded():
    return sorted(m for m in HEAVY if sys.modules.get(m) is not None)

seen = {}
try:
    main(["--help"])
except SystemExit:
    pass
seen["help"] = loaded()
seen["validate_status"] = main(["validate", "nl-delta-water"])
seen["validate"] = loaded()
import nbformat  # noqa: F401  (as a report run does: jsonschema with its optional format checkers)
import auditlib.batch.local, auditlib.batch.orchestrate  # noqa: E401,F401  (the local batch's modules)
from auditlib.batch.executors import executor_for, get_executor
name, options = executor_for(None)
get_executor(name, **options)
seen["local_batch"] = [m for m in ("dask", "distributed") if m in sys.modules]
seen["skipped"] = {name: name in sys.modules and sys.modules[name] is None for name in %r}
print("PROBE" + json.dumps(seen))
"""


def _probe() -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE % (UNUSED_IMPORTS,)], capture_output=True, text=True,
                         timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("PROBE")), None)
    assert line, out.stdout[-2000:] + out.stderr[-2000:]
    return json.loads(line[len("PROBE"):])


def test_help_and_validate_import_only_what_they_use():
    seen = _probe()
    assert seen["help"] == []                      # --help: argparse and auditlib's light modules only
    assert seen["validate_status"] == 0
    # validate reads the benchmark (pandas, pandera) but renders nothing and runs no notebook
    assert set(seen["validate"]) <= {"pandas", "numpy", "pandera"}, seen["validate"]
    assert {"pandas", "pandera"} <= set(seen["validate"])
    assert seen["local_batch"] == []              # a batch without --scheduler never imports dask
    # the CLI's start marked the optional imports as skipped: nbformat's jsonschema did not load them
    assert seen["skipped"] == {name: True for name in UNUSED_IMPORTS}


# --- the GC of a one-report process (startup.few_collections, applied by `auditlib run`) ---

@pytest.fixture
def default_gc():
    """This test process's GC as CPython starts it, and as it was afterwards."""
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*thresholds)
    if frozen:
        gc.freeze()


def test_few_collections_raises_the_thresholds_freezes_and_puts_everything_back(default_gc):
    with few_collections() as collections:
        assert gc.get_threshold() == FEW_COLLECTIONS
        assert gc.get_freeze_count() > 0             # what was alive at the start is frozen
        frozen = gc.get_freeze_count()
        made_later = [[] for _ in range(100)]       # the imports' objects, say
        collections.settle()
        assert gc.get_freeze_count() >= frozen + len(made_later)
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0                # unfrozen: collectable again in a process that goes on


def test_few_collections_keeps_an_earlier_freeze(default_gc):
    """The batch's parent freezes before it forks: a run in the same process leaves that freeze alone."""
    gc.freeze()
    before = gc.get_freeze_count()
    with few_collections():
        pass
    assert gc.get_freeze_count() >= before > 0
    assert gc.get_threshold() == (700, 10, 10)


def test_few_collections_puts_everything_back_when_the_run_fails(default_gc):
    with pytest.raises(RuntimeError), few_collections():
        raise RuntimeError("the report failed")
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_run_makes_its_report_under_few_collections_and_puts_them_back(monkeypatch, tmp_path, default_gc):
    """`auditlib run`: the report is made with the raised thresholds and the imports frozen, not the rest."""
    import auditlib.report as report_pkg
    from auditlib.cli import main

    seen = {}

    def fake_run_engagement(client, **kwargs):
        seen.update(thresholds=gc.get_threshold(), frozen=gc.get_freeze_count())
        raise RuntimeError("stop here")

    monkeypatch.setattr(report_pkg, "run_engagement", fake_run_engagement)
    assert main(["run", "nl-delta-water", "--formats", "html", "--outputs", str(tmp_path)]) == 2
    assert seen["thresholds"] == FEW_COLLECTIONS and seen["frozen"] > 0
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
    assert main(["validate", "nl-delta-water"]) == 0    # other commands: CPython's collections
    assert gc.get_threshold() == (700, 10, 10)


# --- matplotlib imported without the Artist classes' set() docstrings (startup.import_chart_modules) ---

_CHARTS_PROBE = r"""
import json, sys
import matplotlib.artist
original = matplotlib.artist.kwdoc
from auditlib.startup import CHART_MODULES, import_chart_modules
import_chart_modules()
from matplotlib.lines import Line2D
from matplotlib.artist import Artist

class Later(Artist):
    def set_colour_name(self, name):
        "Set the colour by name."
print("PROBE" + json.dumps({
    "imported": all(name in sys.modules for name in CHART_MODULES),
    "kwdoc_back": matplotlib.artist.kwdoc is original,
    "line2d_doc": Line2D.set.__doc__,
    "later_doc": Later.set.__doc__,
    "line2d_signature": "linewidth" in str(__import__("inspect").signature(Line2D.set)),
}))
"""


def test_chart_modules_are_imported_without_set_docstrings_and_kwdoc_is_put_back():
    out = subprocess.run([sys.executable, "-c", _CHARTS_PROBE], capture_output=True, text=True, timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("PROBE")), None)
    assert line, out.stdout[-2000:] + out.stderr[-2000:]
    seen = json.loads(line[len("PROBE"):])
    assert seen["imported"] and seen["kwdoc_back"]
    assert seen["line2d_doc"].endswith("(not built in this process: see matplotlib.artist.kwdoc)")
    assert "drawstyle" not in seen["line2d_doc"]      # the property list kwdoc writes (e.g. drawstyle) is not there
    assert seen["line2d_signature"]                  # set()'s signature is still built: only the text is skipped
    assert "colour_name" in seen["later_doc"]         # a class defined afterwards: documented as usual

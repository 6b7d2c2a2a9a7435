"""What the command line imports: a command pays only for the libraries it uses (auditlib/startup.py, cli).

One subprocess (a fresh interpreter: this test process has imported everything already) runs
`auditlib --help` and then `auditlib validate` on an example client and reports which heavy
modules each had imported, whether the local batch executor's modules import dask, and whether
jsonschema's optional format checkers were skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys

from auditlib.startup import UNUSED_IMPORTS

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

"""`auditlib batch`: every client's report, in parallel worker processes, then the portfolio index.

How a worker executes a notebook (the design, measured in `benchmarks/bench_batch.py`):

* The batch process is a *warm zygote*: before the first client it imports what every report
  needs (pandas, matplotlib, papermill, nbclient, nbconvert, ipykernel, auditlib), loads the
  catalogue and the benchmark database once, and runs the library's first-call paths on one
  client (analysis, charts, HTML export) so font, template and code caches are warm (`warm_up`).
* Each client then runs in its own process, **forked** from that warm zygote (one per core at a
  time). A fork costs milliseconds and starts with every heavy import done, and each client
  still gets a fresh process: nothing a report does (globals, matplotlib rcParams, pandas
  options, environment, cwd, caches) can reach the next client, and a crash only loses that
  client.
* Inside the child the report is made by `report.run_engagement` (papermill and nbconvert
  in-process, temp folder swapped in atomically). papermill runs the notebook on an
  **in-process IPython kernel** (`WarmEngine`, papermill's engine plug-in point, made the
  child's default engine) instead of starting a kernel process that would import everything
  again. The kernel is set up as ipykernel's kernel application does it (inline matplotlib
  backend as default, IPython history in memory, the notebook's cwd).
* Per-cell timeout: an in-process kernel cannot be interrupted by nbclient, so the child arms
  `signal.setitimer` around each cell; the alarm raises `CellTimeout` in the cell, which fails
  like any error (the failed notebook is kept with the reason). Backstop: the parent kills a
  child that stays in one cell longer than the timeout plus a grace period (code stuck in C),
  or that is silent for too long between cells.
* Ctrl-C: children ignore SIGINT; the parent sends SIGTERM, which a child only acts on while a
  cell runs (it is blocked during export and the atomic swap, so a report being written is
  finished, never cut). The parent then removes temp folders left under outputs/ and writes
  the index with what finished. A second Ctrl-C kills at once.
* Platforms without fork, and a batch started from inside a Jupyter session: every client runs
  in a fresh spawned process with a regular kernel (correct, but without the warm start).

Progress (tqdm) shows done, failed and left, and the time remaining; the summary table
(client, status, seconds, reason) follows; the exit status is 1 if any client failed.

The package, by concern (every name stays importable from `auditlib.batch`):

    orchestrate.py  run_batch: checks, the outputs lock, which clients, progress, the summary, the index
    executors.py    the executor registry (get_executor, register_executor): local, dask
    local.py        the local executor: the warm zygote (warm_up), the child, scheduling and watching
    dask_executor.py  the Dask executor: worker plugin, tasks with files as bytes, atomic write-back
    zygote.py       a Dask worker's warm fork server (the local executor's child, forked per report)
    kernel.py       the in-process kernel and papermill engine (WarmEngine), the per-cell alarm
    selection.py    which clients, and which changed since their last good report
    leftovers.py    what a killed run leaves under outputs/
    index.py        the portfolio index and the end-of-batch table
    model.py        Job, ClientResult, BatchResult
"""

from __future__ import annotations

from auditlib.batch.executors import executor_names, get_executor, register_executor
from auditlib.batch.index import summary_table, whole_notebook, write_portfolio_index
from auditlib.batch.kernel import (
    INLINE_BACKEND, WARM_ENGINE, CellTimeout, kernel_manager_class, use_warm_engine, warm_engine,
)
from auditlib.batch.leftovers import remove_temp_leftovers, temp_leftovers
from auditlib.batch.local import WARM_BY_FORMAT, WARM_MODULES, LocalExecutor, warm_up
from auditlib.batch.model import DEFAULT_FORMATS, BatchResult, ClientResult, Job
from auditlib.batch.orchestrate import KILL_GRACE, QUIET_LIMIT_MIN, STOP_GRACE, run_batch
from auditlib.batch.selection import (
    client_folders, figures_from_manifest, last_good_report, manifest_hashes, read_manifest, unchanged_report,
)
from auditlib.errors import AuditError

__all__ = [
    "DEFAULT_FORMATS", "INLINE_BACKEND", "KILL_GRACE", "QUIET_LIMIT_MIN", "STOP_GRACE", "WARM_BY_FORMAT",
    "WARM_ENGINE", "WARM_MODULES", "AuditError", "BatchResult", "LocalExecutor", "CellTimeout", "ClientResult", "Job",
    "client_folders", "executor_names", "figures_from_manifest", "get_executor", "kernel_manager_class",
    "last_good_report", "manifest_hashes", "register_executor",
    "read_manifest", "remove_temp_leftovers", "run_batch", "summary_table", "temp_leftovers", "unchanged_report",
    "use_warm_engine", "warm_engine", "warm_up", "whole_notebook", "write_portfolio_index",
]

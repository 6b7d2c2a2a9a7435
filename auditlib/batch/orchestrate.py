"""`run_batch`: the public batch entry and the orchestration every executor shares.

Checks, the outputs folder's lock, which clients (`--changed-only`), the progress bar and the
counts, then the chosen executor makes the reports (auditlib/batch/executors.py: the warm local
fork by default, Dask with `--scheduler`), then leftovers are removed and the portfolio index
written. Ctrl-C: the executor stops its workers; finished reports stay."""

from __future__ import annotations

import math
import os
import shutil
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from auditlib.batch.executors import BatchContext, get_executor, unfinished
from auditlib.batch.index import write_portfolio_index
from auditlib.batch.leftovers import remove_temp_leftovers
from auditlib.batch.model import DEFAULT_FORMATS, BatchResult, ClientResult, Job
from auditlib.batch.selection import unchanged_report
from auditlib.errors import AuditError
from auditlib.files import outputs_lock, owned_temp_dir, reserved_name_problem, writable_dir
from auditlib.report.paths import report_dir_language

# The parent kills a child this long after a cell should have been stopped by its own alarm.
KILL_GRACE = 10.0
# Between cells (kernel start, export, PDF) a child may be silent this long at least.
QUIET_LIMIT_MIN = 300.0
# After Ctrl-C, how long the children being exported get to finish before they are killed.
STOP_GRACE = 60.0
LOGS_PREFIX = "auditlib-batch-"      # the children's logs, in a private temporary folder


def _progress_bar(total: int, enabled: bool | None):
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0   # no monitor thread in a process that forks

    return Bar(total=total, unit="client", desc="reports", disable=(not enabled) if enabled is not None else None,
               file=sys.stderr, dynamic_ncols=True, leave=True)


def run_batch(clients: Sequence[str | Path], *, settings=None, workers: int | None = None,
              cell_timeout: float = 600, lang: str = "en", formats: Sequence[str] = DEFAULT_FORMATS,
              outputs_dir: str | Path | None = None, changed_only: bool = False, groups: Sequence[str] | None = None,
              extra_parameters: dict | None = None, progress: bool | None = None, warm: bool | None = None,
              write_index: bool = True, runner: Callable[[Job], Any] | None = None,
              kill_grace: float = KILL_GRACE, executor: str = "local",
              executor_options: dict | None = None) -> BatchResult:
    """Make every client's report in parallel processes; write outputs/index.html; never raise for a client.

    Parameters
    ----------
    executor, executor_options
        Which executor makes the reports (`executors.get_executor`): "local" (default), or
        "dask" with {"scheduler": "tcp://host:8786" or "local"}.
    runner
        Replaces the report maker in the children (tests, local executor).
    warm
        False: a regular kernel per report in spawned processes (local executor).

    Returns
    -------
    BatchResult
        Every client's result, the index's path, and the exit code (0, 1 if any failed, 130 on Ctrl-C).

    Raises
    ------
    AuditError
        Before any work, for what the caller must fix: an outputs folder that cannot be written,
        one another batch or run holds (`files.outputs_lock`), a reserved client id, a per-cell
        timeout that is not positive, an unknown executor or one that cannot start.
    """
    from auditlib.config import Settings

    settings = settings or Settings.from_env()
    outputs_dir = Path(outputs_dir or settings.outputs_dir).resolve()
    if cell_timeout is None or not (float(cell_timeout) > 0 and math.isfinite(float(cell_timeout))):
        raise AuditError(f"the per-cell timeout must be a positive number of seconds (got {cell_timeout!r})")
    reserved = [problem for c in clients if (problem := reserved_name_problem(Path(c).name))]
    if reserved:
        raise AuditError("; ".join(reserved))
    if runner is None:      # the catalogue and benchmark, once, before any client: every problem at once
        from auditlib.preflight import require_shared

        require_shared(settings.catalogue_dir, settings.benchmark_path)
    if "pdf" in formats and (executor == "local" or (executor_options or {}).get("scheduler") == "local"):
        from auditlib.report.pdf import resolve_engine

        resolve_engine(settings.pdf_engine, settings.chromium)   # chromium asked for and missing: stop here
    writable_dir(outputs_dir)
    with outputs_lock(outputs_dir):
        return _run_batch(clients, settings=replace(settings, outputs_dir=outputs_dir), workers=workers,
                          cell_timeout=cell_timeout, lang=lang, formats=formats, outputs_dir=outputs_dir,
                          changed_only=changed_only, groups=groups, extra_parameters=extra_parameters,
                          progress=progress, warm=warm, write_index=write_index, runner=runner,
                          kill_grace=kill_grace, executor=executor, executor_options=executor_options)


def _run_batch(clients: Sequence[str | Path], *, settings, workers: int | None, cell_timeout: float, lang: str,
               formats: Sequence[str], outputs_dir: Path, changed_only: bool, groups: Sequence[str] | None,
               extra_parameters: dict | None, progress: bool | None, warm: bool | None, write_index: bool,
               runner: Callable[[Job], Any] | None, kill_grace: float, executor: str = "local",
               executor_options: dict | None = None) -> BatchResult:
    """run_batch under the outputs folder's lock."""
    start_wall = time.monotonic()
    formats = tuple(dict.fromkeys(formats))
    workers = max(1, int(workers or os.cpu_count() or 1))
    chosen = get_executor(executor, **dict(executor_options or {}))   # an unknown one: before any work
    client_dirs = [Path(c) for c in clients]
    ids = [d.name for d in client_dirs]
    remove_temp_leftovers(outputs_dir, ids)     # from an earlier run of these clients that was killed

    results: dict[str, ClientResult] = {}
    todo: list[Job] = []
    logs = owned_temp_dir(LOGS_PREFIX)         # and removes those of batches killed before their clean-up
    for d in client_dirs:
        if changed_only:
            last = unchanged_report(d, settings, outputs_dir, lang=lang, formats=formats, groups=groups,
                                    extra_parameters=extra_parameters)
            if last is not None:
                results[d.name] = ClientResult(d.name, d, "skipped", reason="unchanged since the last good report",
                                               engagement=report_dir_language(last.name)[0], out_dir=last)
                continue
        todo.append(Job(d, settings, lang, formats, outputs_dir, float(cell_timeout or 0),
                        tuple(groups) if groups else None, extra_parameters, True, logs / f"{d.name}.log"))

    bar = _progress_bar(len(client_dirs), progress)
    sink = _BarSink(bar, results, len(client_dirs))
    sink.show(refresh=False)
    bar.update(len(results))
    bar.refresh()
    ctx = BatchContext(settings=settings, outputs_dir=outputs_dir, cell_timeout=float(cell_timeout),
                       lang=lang, formats=formats, workers=workers, kill_grace=kill_grace, runner=runner,
                       warm=warm, options=dict(executor_options or {}))
    interrupted = False

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term) if _main_thread() else None
    try:
        try:
            interrupted = bool(chosen.run(todo, ctx, sink)) if todo else False
        except KeyboardInterrupt:      # an executor that did not stop by itself
            interrupted = True
        for res in unfinished(todo, set(results)):
            results[res.client_id] = res
    finally:
        bar.close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        remove_temp_leftovers(outputs_dir, ids)
        shutil.rmtree(logs, ignore_errors=True)

    ordered = [results[d.name] for d in client_dirs if d.name in results]
    index = None
    if write_index:
        index = write_portfolio_index(ordered, settings=settings, outputs_dir=outputs_dir, lang=lang)
    return BatchResult(ordered, index, interrupted, time.monotonic() - start_wall)


class _BarSink:
    """The orchestration's side of an executor: results kept, counts and the progress bar updated."""

    def __init__(self, bar, results: dict[str, ClientResult], total: int):
        self.bar, self.results, self.total = bar, results, total
        self.counts = {"ok": 0, "failed": 0, "skipped": len(results)}

    def show(self, refresh: bool = True) -> None:
        c = self.counts
        left = self.total - sum(c.values())
        self.bar.set_postfix_str(f"ok={c['ok']} failed={c['failed']} skipped={c['skipped']} left={left}",
                                 refresh=refresh)

    def status(self, text: str) -> None:
        self.bar.set_postfix_str(text, refresh=True)

    def note(self, text: str) -> None:
        self.bar.write(text, file=sys.stderr)

    def done(self, result: ClientResult) -> None:
        self.results[result.client_id] = result
        if result.status in self.counts:
            self.counts[result.status] += 1
        self.show(refresh=False)
        if result.status != "interrupted":
            self.bar.update(1)
        self.bar.refresh()


def _inside_ipython() -> bool:
    """True in a Jupyter/IPython session: its shell singleton and threads rule out the warm fork."""
    shell = sys.modules.get("IPython") and getattr(sys.modules["IPython"], "get_ipython", lambda: None)()
    return shell is not None


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _log_tail(path: Path | None, lines: int = 3) -> str:
    if path is None:
        return ""
    try:
        tail = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()][-lines:]
    except (OSError, AttributeError):
        return ""
    return (": " + " | ".join(t.strip()[:200] for t in tail)) if tail else ""

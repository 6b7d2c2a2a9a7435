"""`run_batch`: the public batch entry. Checks, the outputs folder's lock, then the parent's loop:
schedule the children (one per worker), watch them (progress bar, per-cell backstop, Ctrl-C),
collect their results and write the portfolio index."""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import wait as _wait_ready
from pathlib import Path
from typing import Any, Callable, Sequence

from auditlib.batch.index import write_portfolio_index
from auditlib.batch.kernel import _sigmask
from auditlib.batch.leftovers import _salvage_failed, remove_temp_leftovers
from auditlib.batch.local import _child_main, warm_up
from auditlib.batch.model import DEFAULT_FORMATS, BatchResult, ClientResult, Job
from auditlib.batch.selection import unchanged_report
from auditlib.report.paths import report_dir_language
from auditlib.errors import AuditError
from auditlib.files import outputs_lock, reserved_name_problem, writable_dir

# The parent kills a child this long after a cell should have been stopped by its own alarm.
KILL_GRACE = 10.0
# Between cells (kernel start, export, PDF) a child may be silent this long at least.
QUIET_LIMIT_MIN = 300.0
# After Ctrl-C, how long the children being exported get to finish before they are killed.
STOP_GRACE = 60.0
_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)


@dataclass
class _Running:
    job: Job
    process: Any
    conn: Any
    started: float
    in_cell: bool = False
    last: float = 0.0
    cells: int = 0
    message: Any = None
    killed: str | None = None


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
              kill_grace: float = KILL_GRACE) -> BatchResult:
    """Make every client's report in parallel processes; write outputs/index.html; never raise for a client.

    `runner` replaces the report maker in the children (tests); `warm=False` uses a regular
    kernel per report in spawned processes. Raises AuditError before any work for what the
    caller must fix: an outputs folder that cannot be written, one another batch or run holds
    (`files.outputs_lock`), a reserved client id, a per-cell timeout that is not positive.
    """
    from auditlib.config import Settings

    settings = settings or Settings.from_env()
    outputs_dir = Path(outputs_dir or settings.outputs_dir).resolve()
    if cell_timeout is None or not (float(cell_timeout) > 0 and math.isfinite(float(cell_timeout))):
        raise AuditError(f"the per-cell timeout must be a positive number of seconds (got {cell_timeout!r})")
    reserved = [problem for c in clients if (problem := reserved_name_problem(Path(c).name))]
    if reserved:
        raise AuditError("; ".join(reserved))
    writable_dir(outputs_dir)
    with outputs_lock(outputs_dir):
        return _run_batch(clients, settings=replace(settings, outputs_dir=outputs_dir), workers=workers,
                          cell_timeout=cell_timeout, lang=lang, formats=formats, outputs_dir=outputs_dir,
                          changed_only=changed_only, groups=groups, extra_parameters=extra_parameters,
                          progress=progress, warm=warm, write_index=write_index, runner=runner,
                          kill_grace=kill_grace)


def _run_batch(clients: Sequence[str | Path], *, settings, workers: int | None, cell_timeout: float, lang: str,
               formats: Sequence[str], outputs_dir: Path, changed_only: bool, groups: Sequence[str] | None,
               extra_parameters: dict | None, progress: bool | None, warm: bool | None, write_index: bool,
               runner: Callable[[Job], Any] | None, kill_grace: float) -> BatchResult:
    """run_batch under the outputs folder's lock."""
    start_wall = time.monotonic()
    formats = tuple(dict.fromkeys(formats))
    workers = max(1, int(workers or os.cpu_count() or 1))
    can_fork = "fork" in mp.get_all_start_methods() and hasattr(signal, "setitimer")
    warm = (can_fork and not _inside_ipython()) if warm is None else (warm and can_fork)
    ctx = mp.get_context("fork" if warm else "spawn")
    client_dirs = [Path(c) for c in clients]
    ids = [d.name for d in client_dirs]
    remove_temp_leftovers(outputs_dir, ids)     # from an earlier run of these clients that was killed

    results: dict[str, ClientResult] = {}
    todo: list[Job] = []
    logs = Path(tempfile.mkdtemp(prefix="auditlib-batch-"))
    for d in client_dirs:
        if changed_only:
            last = unchanged_report(d, settings, outputs_dir, lang=lang, formats=formats, groups=groups)
            if last is not None:
                results[d.name] = ClientResult(d.name, d, "skipped", reason="unchanged since the last good report",
                                               engagement=report_dir_language(last.name)[0], out_dir=last)
                continue
        todo.append(Job(d, settings, lang, formats, outputs_dir, float(cell_timeout or 0),
                        tuple(groups) if groups else None, extra_parameters, warm, logs / f"{d.name}.log"))

    bar = _progress_bar(len(client_dirs), progress)
    counts = {"ok": 0, "failed": 0, "skipped": len(results)}

    def show(refresh: bool = True):
        left = len(client_dirs) - sum(counts.values())
        bar.set_postfix_str(f"ok={counts['ok']} failed={counts['failed']} skipped={counts['skipped']} left={left}",
                            refresh=refresh)

    if warm and todo and runner is None:
        bar.set_postfix_str("loading libraries and data once for every worker", refresh=True)
        warm_up(settings, sample=todo[0].client_dir, lang=lang, formats=formats)
    show(refresh=False)
    bar.update(len(results))
    bar.refresh()
    running: dict[int, _Running] = {}
    pending = list(todo)
    interrupted = stopping = False
    quiet_limit = max(QUIET_LIMIT_MIN, float(cell_timeout or 0)) + kill_grace

    def launch(job: Job) -> None:
        # Ctrl-C waits until the child is registered (no untracked child can be left behind).
        blocked = _sigmask("block", {signal.SIGINT, signal.SIGTERM})
        try:
            reader, writer = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child_main, args=(job, writer, runner),
                               name=f"auditlib-{job.client_dir.name}", daemon=False)
            proc.start()
            writer.close()
            now = time.monotonic()
            running[proc.sentinel] = _Running(job, proc, reader, now, last=now)
        finally:
            if blocked is not None:
                _sigmask("set", blocked)

    def drain(r: _Running, now: float) -> None:
        """Read every message the child has sent so far."""
        while True:
            try:
                if not r.conn.poll():
                    return
                msg = r.conn.recv()
            except (EOFError, OSError):
                return
            if msg[0] == "cell":
                r.in_cell = msg[1] == "start"
                r.cells += msg[1] == "start"
                r.last = now
            else:
                r.message = msg

    def finish(r: _Running, *, interrupted_now: bool = False) -> None:
        r.process.join()
        r.conn.close()
        cid = r.job.client_dir.name
        secs = time.monotonic() - r.started
        msg = r.message
        if msg is not None and msg[0] == "done":
            payload = msg[1]
            outcome = payload["outcome"] if isinstance(payload, dict) else payload
            res = ClientResult(cid, r.job.client_dir, outcome.status, seconds=outcome.seconds or secs,
                               reason=outcome.error, engagement=outcome.engagement, out_dir=outcome.out_dir,
                               failed_notebook=outcome.failed_notebook,
                               figures=payload.get("figures") if isinstance(payload, dict) else None)
        elif interrupted_now or (stopping and not r.killed):
            res = ClientResult(cid, r.job.client_dir, "interrupted", secs, "stopped by Ctrl-C before it finished")
        else:
            if r.killed:
                reason = r.killed
            elif msg is not None and msg[0] == "error":
                reason = f"the worker failed: {msg[1]}"
            else:
                reason = f"the worker process died (exit code {r.process.exitcode})" + _log_tail(r.job.log_path)
            res = ClientResult(cid, r.job.client_dir, "failed", secs, reason)
            res.failed_notebook = _salvage_failed(res, outputs_dir)
        results[cid] = res
        if res.status in counts:
            counts[res.status] += 1
        show(refresh=False)
        if res.status != "interrupted":
            bar.update(1)
        bar.refresh()

    def poll(timeout: float) -> None:
        if not running:
            return
        _wait_ready([r.conn for r in running.values()] + list(running), timeout=timeout)
        now = time.monotonic()
        for key, r in list(running.items()):
            drain(r, now)
            if not r.process.is_alive():
                drain(r, now)          # what it sent just before it exited
                del running[key]
                finish(r)
                continue
            if not r.job.warm:
                continue   # a regular kernel: nbclient's own timeout interrupts it
            limit = (float(cell_timeout) + kill_grace) if (r.in_cell and cell_timeout) else quiet_limit
            if now - r.last > limit and r.killed is None:
                where = f"code cell {r.cells}" if r.in_cell else "between cells"
                r.killed = (f"no progress for {now - r.last:.0f} s ({where}); the per-cell timeout of "
                            f"{cell_timeout:g} s could not stop it, so the worker was killed")
                r.process.kill()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term) if _main_thread() else None
    try:
        try:
            while pending or running:
                while pending and len(running) < workers:
                    launch(pending.pop(0))
                poll(0.5)
        except KeyboardInterrupt:
            interrupted = stopping = True
            bar.write("interrupted: stopping the workers; finished reports stay", file=sys.stderr)
            for r in running.values():
                _signal(r.process, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE
            try:
                while running and time.monotonic() < deadline:
                    poll(0.2)
            except KeyboardInterrupt:
                pass
            for r in running.values():
                _signal(r.process, _SIGKILL)
            for job in pending:
                results[job.client_dir.name] = ClientResult(job.client_dir.name, job.client_dir, "interrupted",
                                                            reason="not started (Ctrl-C)")
            pending.clear()
            for key, r in list(running.items()):
                del running[key]
                r.process.join()
                drain(r, time.monotonic())    # a report that finished before the signal still counts
                finish(r, interrupted_now=True)
    finally:
        for r in running.values():
            _signal(r.process, _SIGKILL)
            r.process.join()
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


def _inside_ipython() -> bool:
    """True in a Jupyter/IPython session: its shell singleton and threads rule out the warm fork."""
    shell = sys.modules.get("IPython") and getattr(sys.modules["IPython"], "get_ipython", lambda: None)()
    return shell is not None


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _signal(process, signum) -> None:
    try:
        if process.pid is not None and process.exitcode is None:
            os.kill(process.pid, signum)
    except (ProcessLookupError, OSError):
        pass


def _log_tail(path: Path | None, lines: int = 3) -> str:
    try:
        tail = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()][-lines:]
    except (OSError, AttributeError):
        return ""
    return (": " + " | ".join(t.strip()[:200] for t in tail)) if tail else ""

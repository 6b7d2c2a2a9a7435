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
"""

from __future__ import annotations

import asyncio
import json
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
from queue import Empty, Queue
from typing import Any, Callable, Iterable, Sequence

from auditlib.errors import AuditError
from auditlib.files import outputs_lock, reserved_name_problem, trim_outputs, writable_dir

DEFAULT_FORMATS = ("html", "pdf", "xlsx")
WARM_ENGINE = "auditlib-inprocess"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# The parent kills a child this long after a cell should have been stopped by its own alarm.
KILL_GRACE = 10.0
# Between cells (kernel start, export, PDF) a child may be silent this long at least.
QUIET_LIMIT_MIN = 300.0
# After Ctrl-C, how long the children being exported get to finish before they are killed.
STOP_GRACE = 60.0
_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)


class CellTimeout(BaseException):
    """Raised inside a cell that runs longer than the per-cell timeout (in-process kernel).

    A BaseException, like KeyboardInterrupt: a cell's `except Exception` does not swallow it,
    and the alarm is re-armed every second until the cell gives up.
    """


# --- which clients, and which of them changed ---------------------------------------------------

def client_folders(names: Sequence[str] = (), *, folder: str | Path | None = None,
                   clients_dir: str | Path | None = None) -> list[Path]:
    """The client folders to run: `names` (client ids, or paths to client folders) looked up in
    `folder` if given, else in `clients_dir`; no names: every client folder there.

    Raises AuditError for a missing folder or a client id given twice (before any work starts).
    """
    base = Path(folder) if folder else Path(clients_dir) if clients_dir else None
    if base is None or not base.is_dir():
        if folder or not names:
            raise AuditError(f"no clients folder at {base}")
    if not names:
        found = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    else:
        found = []
        for name in names:
            p = Path(name)
            if not (p.is_absolute() or "/" in name or p.is_dir()) and base is not None:
                p = base / name
            if not p.is_dir():
                raise AuditError(f"no client folder {p}")
            found.append(p)
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    reserved = [problem for p in unique.values() if (problem := reserved_name_problem(p.name))]
    if reserved:
        raise AuditError("; ".join(reserved))
    ids = [p.name for p in unique.values()]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise AuditError(f"two client folders share the id {', '.join(twice)}; a client id must be unique")
    return list(unique.values())


def _is_report_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".") and not path.name.endswith(".failed") \
        and (path / "manifest.json").is_file()


def read_manifest(report_dir: str | Path) -> dict:
    try:
        return json.loads((Path(report_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def manifest_hashes(manifest: dict) -> dict | None:
    """The input hashes a manifest recorded (`report.input_hashes()` when the report was made)."""
    value = manifest.get("inputs")
    return value if isinstance(value, dict) and value else None


def last_good_report(outputs_dir: str | Path, client_id: str) -> Path | None:
    """The client's most recent complete report folder under outputs/<client>/ (None if none)."""
    base = Path(outputs_dir) / client_id
    if not base.is_dir():
        return None
    reports = [p for p in base.iterdir() if _is_report_dir(p)]
    if not reports:
        return None
    return max(reports, key=lambda p: ((p / "manifest.json").stat().st_mtime_ns, p.name))


def unchanged_report(client_dir: Path, settings, outputs_dir: Path, *, lang: str, formats: Sequence[str],
                     groups: Sequence[str] | None = None) -> Path | None:
    """The last good report if it is still current, else None.

    Current: the same input hashes (client folder, catalogue, benchmark, notebook, templates:
    `report.input_hashes`), the same language and peer groups, and every requested format present.
    """
    from auditlib.portfolio import REPORT_FILES
    from auditlib.report import input_hashes, split_groups

    last = last_good_report(outputs_dir, client_dir.name)
    if last is None:
        return None
    manifest = read_manifest(last)
    recorded = manifest_hashes(manifest)
    if recorded is None:
        return None
    try:
        current = input_hashes(client_dir, settings)
    except (AuditError, OSError):
        return None
    if recorded != current:
        return None
    params = manifest.get("parameters") or {}
    if params.get("lang", "en") != lang:
        return None
    if split_groups(params.get("peer_groups") or "") != split_groups(list(groups) if groups else ""):
        return None
    made = set(manifest.get("formats") or [])
    for f in formats:
        if (made and f not in made) or not (last / REPORT_FILES.get(f, f)).is_file():
            return None
    return last


# --- the in-process kernel ------------------------------------------------------------------------

_KERNEL_CLASSES: dict[str, type] = {}


def kernel_manager_class() -> type:
    """The warm in-process kernel manager class (built on first use: ipykernel is imported lazily).

    nbclient drives it like any kernel manager; its client is asynchronous (nbclient awaits
    `execute` and `get_msg`) and runs each cell on this process's main thread, so a per-cell
    alarm can stop it.
    """
    if "manager" in _KERNEL_CLASSES:
        return _KERNEL_CLASSES["manager"]

    from ipykernel.inprocess.channels import InProcessChannel
    from ipykernel.inprocess.client import InProcessKernelClient
    from ipykernel.inprocess.ipkernel import InProcessKernel
    from ipykernel.inprocess.manager import InProcessKernelManager
    from ipykernel.ipkernel import IPythonKernel
    from traitlets import Float, Type
    from traitlets.config import Config

    class AsyncInProcessChannel(InProcessChannel):
        """A channel nbclient can await; messages come from the kernel and its IOPub thread."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._queue: Queue = Queue()

        def call_handlers(self, msg):
            self._queue.put(msg)

        def msg_ready(self) -> bool:
            return not self._queue.empty()

        async def get_msg(self, timeout: float | None = None):
            deadline = None if timeout is None else time.monotonic() + timeout
            delay = 0.0005
            while True:
                try:
                    return self._queue.get_nowait()
                except Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.01)

    class WarmKernel(InProcessKernel):
        """An in-process kernel whose print() output reaches the cell it belongs to."""

        async def execute_request(self, stream, ident, parent):
            with self._redirected_io():
                self.stdout.set_parent(parent)
                self.stderr.set_parent(parent)
                try:
                    await IPythonKernel.execute_request(self, stream, ident, parent)
                finally:
                    # Before the kernel reports idle, so the output lands in this cell.
                    self.stdout.flush()
                    self.stderr.flush()

    class WarmKernelClient(InProcessKernelClient):
        shell_channel_class = Type(AsyncInProcessChannel)
        iopub_channel_class = Type(AsyncInProcessChannel)
        stdin_channel_class = Type(AsyncInProcessChannel)
        control_channel_class = Type(AsyncInProcessChannel)
        cell_timeout = Float(0.0)

        def is_alive(self) -> bool:
            return self.kernel is not None

        def kernel_info(self) -> str:
            # Answered directly (papermill asks synchronously, outside the event loop).
            msg = self.session.msg("kernel_info_request")
            reply = self.session.msg("kernel_info_reply", {"status": "ok", **self.kernel.kernel_info}, parent=msg)
            self.shell_channel.call_handlers(reply)
            return msg["header"]["msg_id"]

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            msg_id = self.kernel_info()
            while True:
                msg = await self.shell_channel.get_msg(timeout=timeout)
                if msg["parent_header"].get("msg_id") == msg_id:
                    return

        async def execute(self, code, silent=False, store_history=True, user_expressions=None,
                          allow_stdin=None, stop_on_error=True) -> str:
            content = dict(code=code, silent=silent, store_history=store_history,
                           user_expressions=user_expressions or {}, allow_stdin=False,
                           stop_on_error=stop_on_error)
            msg = self.session.msg("execute_request", content)
            stream = self.kernel.shell_stream
            self.session.send(stream, msg)
            parts = stream.recv_multipart()
            with _cell_guard(self.cell_timeout) as guard:
                try:
                    await self.kernel.dispatch_shell(parts)
                except CellTimeout:
                    pass        # the alarm hit the kernel's own code: answered below
                finally:
                    guard.active = False
            try:
                _idents, reply = self.session.recv(stream, copy=False)
            except Empty:
                reply = None
            if reply is None:   # the kernel was cut before it could answer (alarm in its own code)
                reason = f"the cell ran longer than the per-cell timeout of {self.cell_timeout:g} s"
                reply = self.session.msg("execute_reply", {
                    "status": "error", "ename": "CellTimeout", "execution_count": None,
                    "evalue": reason, "traceback": []}, parent=msg)
                self._record_error(msg, "CellTimeout", reason)
            elif guard.fired:   # stopped by the alarm: make sure the cell says so (see _record_error)
                self._record_error(msg, "CellTimeout", f"the cell ran longer than the per-cell timeout of "
                                                       f"{self.cell_timeout:g} s")
            self.shell_channel.call_handlers(reply)
            return msg["header"]["msg_id"]

        def _record_error(self, request, ename: str, evalue: str) -> None:
            """Put the error in the cell's outputs (before the kernel's 'idle', which ends the cell
            for nbclient), so the failed notebook and papermill name the reason, not an empty
            CellExecutionError."""
            channel = self.iopub_channel
            parent_id = request["header"]["msg_id"]
            error = self.session.msg("error", {"ename": ename, "evalue": evalue,
                                               "traceback": [f"{ename}: {evalue}"]}, parent=request)
            queued = []
            while True:
                try:
                    queued.append(channel._queue.get_nowait())
                except Empty:
                    break
            if any(m["header"]["msg_type"] == "error" and m.get("parent_header", {}).get("msg_id") == parent_id
                   for m in queued):
                for m in queued:       # the kernel recorded the error itself
                    channel._queue.put(m)
                return
            at = next((i for i, m in enumerate(queued) if m["header"]["msg_type"] == "status"
                       and m["content"].get("execution_state") == "idle"
                       and m.get("parent_header", {}).get("msg_id") == parent_id), None)
            if at is None:
                idle = self.session.msg("status", {"execution_state": "idle"}, parent=request)
                queued += [error, idle]
            else:
                queued.insert(at, error)
            for m in queued:
                channel._queue.put(m)

    class WarmKernelManager(InProcessKernelManager):
        """Starts an in-process kernel set up as ipykernel's kernel application would."""

        cell_timeout = Float(0.0, help="seconds per cell; 0 for none").tag(config=True)

        def start_kernel(self, **kwargs):
            cwd = kwargs.get("cwd")
            if cwd:
                os.chdir(cwd)
            _inline_backend_default()
            config = Config()
            config.HistoryManager.hist_file = ":memory:"
            self.kernel = WarmKernel(parent=self, session=self.session, config=config)

        def client(self, **kwargs):
            kwargs["kernel"] = self.kernel
            return WarmKernelClient(parent=self, session=self.session, cell_timeout=self.cell_timeout, **kwargs)

        def shutdown_kernel(self, now=False, restart=False):
            if self.kernel is not None:
                self.kernel.iopub_thread.stop()
                self.kernel = None

        def cleanup_resources(self, restart=False):
            pass

    _KERNEL_CLASSES["manager"] = WarmKernelManager
    return WarmKernelManager


def _inline_backend_default() -> None:
    """What ipykernel's kernel app does: the inline backend as the default, unless one is chosen."""
    if os.environ.get("MPLBACKEND"):
        return
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    if "matplotlib" in sys.modules:   # imported by the warm zygote before the variable was set
        import matplotlib

        matplotlib.rcParams["backend"] = INLINE_BACKEND


class _cell_guard:
    """Around one cell: a per-cell alarm, and SIGTERM let through (it is blocked outside cells)."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.old = None
        self.active = False
        self.fired = False

    def __enter__(self):
        _notify("cell", "start")       # the parent's watchdog: in a cell since now
        self.active = True
        if self.timeout and self.timeout > 0:
            timeout = self.timeout

            def on_alarm(signum, frame):
                if self.active:
                    self.fired = True
                    raise CellTimeout(f"the cell ran longer than the per-cell timeout of {timeout:g} s")

            self.old = signal.signal(signal.SIGALRM, on_alarm)
            # Re-armed every second: a cell that catches the exception is stopped again.
            signal.setitimer(signal.ITIMER_REAL, timeout, 1.0)
        if _CHILD.get("sigterm_blocked"):
            _sigmask("unblock", {signal.SIGTERM})
        return self

    def __exit__(self, *exc):
        self.active = False
        if _CHILD.get("sigterm_blocked"):
            _sigmask("block", {signal.SIGTERM})
        if self.old is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)
        _notify("cell", "end")
        return False


def warm_engine() -> type:
    """The papermill engine that runs a notebook on the warm in-process kernel."""
    if "engine" in _KERNEL_CLASSES:
        return _KERNEL_CLASSES["engine"]
    from papermill.engines import NBClientEngine

    class WarmEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            # the batch's exact per-cell seconds (a float) when this is a batch child
            timeout = _CHILD.get("cell_timeout") or execution_timeout or kwargs.get("timeout") or 0
            km = kwargs.pop("km", None) or kernel_manager_class()(cell_timeout=float(timeout))
            # nbclient's timeout trait is an integer; the in-process alarm keeps the exact seconds
            if execution_timeout:
                execution_timeout = math.ceil(float(execution_timeout))
            return super().execute_managed_notebook(
                nb_man, kernel_name, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                start_timeout=start_timeout, execution_timeout=execution_timeout, km=km, **kwargs)

    _KERNEL_CLASSES["engine"] = WarmEngine
    return WarmEngine


def use_warm_engine() -> None:
    """Make the warm in-process engine papermill's engine in THIS process (a batch child)."""
    from papermill.engines import papermill_engines

    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")   # ipykernel's debugger: no banner
    engine = warm_engine()
    papermill_engines.register(WARM_ENGINE, engine)
    papermill_engines.register(None, engine)
    papermill_engines.register("nbclient", engine)


# --- the warm zygote -----------------------------------------------------------------------------

_LOADED: dict[str, Any] = {}   # the zygote's catalogue and benchmark, inherited by every child
# What a report run imports (kernel side and runner side); seaborn and pyplot are not used by
# the report, so they are not paid for. A module missing here is imported by the child itself.
WARM_MODULES = ("numpy", "pandas", "matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg",
                "PIL.PngImagePlugin", "jinja2", "yaml", "pydantic", "nbformat", "nbclient", "papermill",
                "nbconvert", "nbconvert.exporters.html", "nbconvert.preprocessors", "bs4", "mistune",
                "pygments.lexers.python", "pygments.formatters.html", "ipykernel.inprocess.ipkernel",
                "IPython.display", "matplotlib_inline.backend_inline",
                "auditlib.audit", "auditlib.handles", "auditlib.interpret", "auditlib.report",
                "auditlib.charts", "auditlib.export", "auditlib.portfolio")
WARM_BY_FORMAT = {"pdf": ("weasyprint",), "xlsx": ("openpyxl",)}


def warm_up(settings=None, sample: Path | None = None, lang: str = "en",
            formats: Sequence[str] = DEFAULT_FORMATS) -> dict:
    """Import what every report needs and load the shared data once, before the children fork.

    With a `sample` client, also run the library's first-call paths once (analysis,
    interpretation, charts rendered to SVG, the HTML exporter) so that font, template and
    code caches are warm in every child. Only pure caches are warmed: no kernel, no notebook,
    no pyplot, no backend choice, nothing written.
    """
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")   # ipykernel's debugger: no banner
    import importlib

    names = list(WARM_MODULES) + [m for f in formats for m in WARM_BY_FORMAT.get(f, ())]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:   # optional: the report imports what it needs itself
            pass
    kernel_manager_class()
    warm_engine()
    _LOADED.clear()
    if settings is not None:
        from auditlib.audit import reference_for
        from auditlib.benchmark import load_benchmark
        from auditlib.catalogue import load_catalogue

        try:
            _LOADED["catalogue"] = load_catalogue(settings.catalogue_dir)
            _LOADED["benchmark"] = load_benchmark(settings.benchmark_path, _LOADED["catalogue"])
            reference_for(_LOADED["benchmark"], _LOADED["catalogue"])
        except AuditError:
            _LOADED.clear()   # every client will report the problem itself
        if _LOADED and sample is not None:
            _warm_caches(sample, _LOADED, lang)
    import gc

    gc.collect()
    gc.freeze()   # fewer copy-on-write page copies in the children
    return dict(_LOADED)


def _warm_caches(sample: Path, loaded: dict, lang: str) -> None:
    """First-call costs paid once in the zygote (each step optional: warming never fails a batch)."""
    steps: list[Callable[[], Any]] = []
    state: dict = {}

    def analysis():
        from auditlib.audit import analyse

        state["result"] = analyse(sample, catalogue=loaded["catalogue"], benchmark=loaded["benchmark"])

    def figures():
        from auditlib.portfolio import key_figures

        key_figures(state["result"], lang=lang)

    def interpretation():
        from auditlib.interpret import interpret

        interpret(state["result"], lang)

    def charts():
        from auditlib import charts as ch

        result = state["result"]
        figs = [ch.dimension_profile(result, lang), ch.percentile_bars(result, lang)]
        figs += [ch.distributions(result, d.id, lang) for d in result.catalogue.dimensions[:1]]
        for fig in figs:
            state["svg"] = ch.to_svg(fig)

    def html():
        import nbformat

        from auditlib.report import export_html

        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("display(x)", metadata={"tags": ["remove_input"]})
        cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": "<p>warm-up</p>", "text/plain": ""}),
                        nbformat.v4.new_output("display_data", {"image/svg+xml": state.get("svg", "<svg/>"),
                                                                "text/plain": ""})]
        nb.cells = [nbformat.v4.new_markdown_cell("# warm-up"), cell]
        export_html(nb, lang=lang, title="warm-up")

    steps += [analysis, figures, interpretation, charts, html]
    for step in steps:
        try:
            step()
        except Exception:
            if step is analysis:
                return


# --- the child: one client ---------------------------------------------------------------------------

_CHILD: dict[str, Any] = {}


def _notify(kind: str, what: str) -> None:
    conn = _CHILD.get("conn")
    if conn is not None:
        try:
            conn.send((kind, what, time.monotonic()))
        except (OSError, ValueError):
            pass


@dataclass(frozen=True)
class Job:
    """What a child needs to make one client's report (picklable for spawned children)."""

    client_dir: Path
    settings: Any
    lang: str
    formats: tuple[str, ...]
    outputs_dir: Path
    cell_timeout: float
    groups: tuple[str, ...] | None = None
    extra_parameters: dict | None = None
    warm: bool = True
    log_path: Path | None = None


def _child_main(job: Job, conn, runner: Callable[[Job], Any] | None = None) -> None:
    """Entry point of a child process: make the report, send the outcome, exit without cleanup."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)         # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)        # the parent's stop: die at once (in a cell)
    # Warm: SIGTERM is let through only while a cell runs (never during export or the swap).
    _sigmask("set", {signal.SIGTERM} if job.warm else set())
    code = 0
    try:
        if job.log_path is not None:                     # keep the parent's progress bar clean
            fd = os.open(job.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
        _CHILD.update(conn=conn, cell_timeout=job.cell_timeout)
        if job.warm:
            _CHILD["sigterm_blocked"] = True
            use_warm_engine()
        result = (runner or _make_report)(job)
        conn.send(("done", result, time.monotonic()))
    except BaseException as exc:   # noqa: BLE001 - report anything to the parent
        code = 1
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:500], time.monotonic()))
        except Exception:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _make_report(job: Job) -> dict:
    """In the child: run the engagement, then read the key figures the portfolio shows."""
    from auditlib.report import run_engagement

    outcome = run_engagement(job.client_dir, settings=job.settings, lang=job.lang,
                             groups=list(job.groups) if job.groups else None, formats=job.formats,
                             outputs_dir=job.outputs_dir, cell_timeout=job.cell_timeout,
                             extra_parameters=job.extra_parameters)
    figures = None
    if outcome.status == "ok":
        figures = figures_from_manifest(outcome.manifest) or _figures(job)
    return {"outcome": outcome, "figures": figures}


def figures_from_manifest(manifest: dict) -> dict | None:
    """The key figures a report recorded in its manifest (result.key_figures), if it did."""
    figures = (manifest.get("result") or {}).get("key_figures")
    return figures if isinstance(figures, dict) and "dimensions" in figures else None


def _figures(job: Job) -> dict | None:
    """The key figures of the report just made (the zygote's catalogue and benchmark when they are current)."""
    from auditlib.audit import analyse
    from auditlib.benchmark import load_benchmark
    from auditlib.catalogue import load_catalogue
    from auditlib.portfolio import key_figures

    try:
        catalogue = _LOADED.get("catalogue")
        if catalogue is None or _catalogue_changed(catalogue, job.settings.catalogue_dir):
            catalogue = load_catalogue(job.settings.catalogue_dir)
        benchmark = load_benchmark(job.settings.benchmark_path, catalogue)   # cached by path, mtime and catalogue
        result = analyse(job.client_dir, catalogue=catalogue, benchmark=benchmark,
                         groups=list(job.groups) if job.groups else None)
        return key_figures(result, lang=job.lang)
    except Exception:   # the report is made; the index then shows it without figures
        return None


def _catalogue_changed(catalogue, directory: Path) -> bool:
    import hashlib

    try:
        now = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(directory).iterdir()
               if p.name in catalogue.hashes}
    except OSError:
        return True
    return now != dict(catalogue.hashes)


# --- the parent: schedule, watch, summarise -------------------------------------------------------------

@dataclass
class ClientResult:
    client_id: str
    client_dir: Path
    status: str                      # ok | skipped | failed | interrupted
    seconds: float = 0.0
    reason: str | None = None
    engagement: str | None = None
    out_dir: Path | None = None
    failed_notebook: Path | None = None
    figures: dict | None = None


@dataclass
class BatchResult:
    results: list[ClientResult]
    index: Path | None
    interrupted: bool = False
    wall_seconds: float = 0.0

    @property
    def failed(self) -> list[ClientResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else (1 if self.failed else 0)


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


def temp_leftovers(outputs_dir: str | Path, client_ids: Iterable[str] | None = None) -> list[Path]:
    """What a killed run can leave under outputs/: report.py's build folders
    (`<client>/.<engagement>.<random>.tmp`), folders it set aside during a swap
    (`<client>/.<name>.<build>.old`), and the index's temporary files (`.index.html.*.tmp`).

    `client_ids` limits the search to those clients' folders (another run may be busy with others).
    """
    outputs_dir = Path(outputs_dir)
    if not outputs_dir.is_dir():
        return []
    found = [p for p in outputs_dir.glob(".*.tmp") if p.name.startswith((".index.html.", ".portfolio.json."))]
    if client_ids is None:
        folders = [p for p in outputs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    else:
        folders = [outputs_dir / c for c in client_ids if (outputs_dir / c).is_dir()]
    for folder in folders:
        found += [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith((".tmp", ".old"))]
    return sorted(found)


def remove_temp_leftovers(outputs_dir: str | Path, client_ids: Iterable[str] | None = None) -> list[Path]:
    """Remove the leftovers of killed runs; a report set aside mid-swap goes back where it was."""
    removed = []
    for p in temp_leftovers(outputs_dir, client_ids):
        try:
            if p.name.endswith(".old") and p.is_dir():
                engagement = str(read_manifest(p).get("engagement") or "")
                target = p.parent / engagement
                if engagement and "/" not in engagement and not engagement.startswith(".") and not target.exists():
                    os.replace(p, target)     # the good report whose replacement never arrived
                    continue
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
    for folder in {p.parent for p in removed} - {Path(outputs_dir)}:
        try:
            folder.rmdir()       # a client folder the interrupted run had just created, now empty
        except OSError:
            pass
    return removed


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
                                               engagement=last.name, out_dir=last)
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


def _sigmask(how: str, signals):
    """pthread_sigmask ("block", "unblock", "set") where the platform has it (not on Windows)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    mode = {"block": signal.SIG_BLOCK, "unblock": signal.SIG_UNBLOCK, "set": signal.SIG_SETMASK}[how]
    return signal.pthread_sigmask(mode, signals)


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


def _salvage_failed(res: ClientResult, outputs_dir: Path) -> Path | None:
    """After a killed worker: keep its (partly executed) notebook as report.py keeps a failure,
    at outputs/<client>/<engagement>.failed/report.ipynb, with the reason on top."""
    client_out = outputs_dir / res.client_id
    builds = sorted((p for p in client_out.glob(".*.tmp") if (p / "report.ipynb").is_file()),
                    key=lambda p: p.stat().st_mtime_ns) if client_out.is_dir() else []
    if not builds:
        return None
    build = builds[-1]
    engagement = build.name[1:-len(".tmp")].rsplit(".", 1)[0]
    try:
        import nbformat

        nb = nbformat.read(build / "report.ipynb", as_version=4)
        trim_outputs(nb)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            f"**auditlib batch stopped this run:** {res.reason}"))
        keep = Path(tempfile.mkdtemp(prefix=f".{engagement}.failed.", suffix=".tmp", dir=client_out))
        nbformat.write(nb, keep / "report.ipynb")
        failed = client_out / f"{engagement}.failed"
        if failed.exists():
            shutil.rmtree(failed)
        os.replace(keep, failed)
        res.engagement = res.engagement or engagement
        return failed / "report.ipynb"
    except Exception:
        return None


# --- the index ------------------------------------------------------------------------------------------

def whole_notebook(path: str | Path) -> bool:
    """True for a notebook file that reads completely (a full disk can leave one cut short)."""
    try:
        import nbformat

        nb = nbformat.read(str(path), as_version=4)
        return bool(nb.cells)
    except Exception:
        return False


def write_portfolio_index(results: Iterable[ClientResult], *, settings, outputs_dir: Path, lang: str = "en") -> Path | None:
    """Update outputs/portfolio.json and outputs/index.html with this run's results."""
    from auditlib.catalogue import load_catalogue
    from auditlib.portfolio import PortfolioRow, load_rows, merge_rows, relative_link, report_links, write_portfolio

    try:
        catalogue = load_catalogue(settings.catalogue_dir)
    except AuditError:
        return None
    previous = {r.client_id: r for r in load_rows(outputs_dir)}
    rows = []
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for res in results:
        if res.status == "interrupted":
            continue   # keep whatever the index said before
        old = previous.get(res.client_id)
        if res.status in ("ok", "skipped"):
            figures = res.figures
            if figures is None and old is not None and old.status != "failed" and old.engagement == res.engagement:
                figures = old.figures
            if figures is None and res.out_dir is not None:
                figures = figures_from_manifest(read_manifest(res.out_dir))
            if figures is None:
                figures = _figures_now(res, settings, catalogue, lang)
            updated = now if res.status == "ok" else (old.updated if old else None)
            rows.append(PortfolioRow(res.client_id, res.status, res.engagement, round(res.seconds, 1), None,
                                     figures, report_links(res.out_dir, outputs_dir), None, {}, updated))
        else:
            last = last_good_report(outputs_dir, res.client_id)
            failed_nb = None
            if res.failed_notebook is not None and whole_notebook(res.failed_notebook):
                failed_nb = relative_link(res.failed_notebook, outputs_dir)
            rows.append(PortfolioRow(res.client_id, "failed", res.engagement, round(res.seconds, 1),
                                     res.reason or "failed", None, {}, failed_nb,
                                     report_links(last, outputs_dir) if last else {}, now))
    rows = merge_rows(previous.values(), rows, outputs_dir)
    return write_portfolio(outputs_dir, rows, catalogue, lang=lang)


def _figures_now(res: ClientResult, settings, catalogue, lang: str) -> dict | None:
    """Key figures of an unchanged client (same inputs as its report, so the same figures)."""
    try:
        from auditlib.audit import analyse
        from auditlib.benchmark import load_benchmark
        from auditlib.portfolio import key_figures

        benchmark = load_benchmark(settings.benchmark_path, catalogue)
        return key_figures(analyse(res.client_dir, catalogue=catalogue, benchmark=benchmark), lang=lang)
    except Exception:
        return None


def summary_table(results: Sequence[ClientResult], width: int = 100) -> str:
    """The end-of-batch table: client, status, seconds, reason."""
    rows = [("client", "status", "seconds", "reason")]
    for r in results:
        reason = (r.reason or "").replace("\n", " ")
        rows.append((r.client_id, r.status, f"{r.seconds:.1f}", reason))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    room = max(20, width - w0 - w1 - w2 - 6)
    lines = []
    for i, (a, b, c, d) in enumerate(rows):
        d = d if len(d) <= room else d[: room - 3] + "..."
        lines.append(f"{a:<{w0}}  {b:<{w1}}  {c:>{w2}}  {d}".rstrip())
        if i == 0:
            lines.append("-" * min(width, w0 + w1 + w2 + 6 + max(len(x[3]) for x in rows)))
    counts = {s: sum(1 for r in results if r.status == s) for s in ("ok", "skipped", "failed", "interrupted")}
    lines.append("")
    lines.append(", ".join(f"{v} {k}" for k, v in counts.items() if v or k in ("ok", "failed")))
    return "\n".join(lines)

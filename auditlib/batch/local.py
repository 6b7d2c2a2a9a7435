"""The local executor's worker side: the warm zygote and the child that makes one report.

The batch process imports and loads what every report needs once (`warm_up`); each client then
runs in a process forked from it (`_child_main`, or spawned where fork is not possible)."""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import signal
import sys
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import wait as _wait_ready
from pathlib import Path
from typing import Any, Callable, Sequence

from auditlib.batch.kernel import _CHILD, _sigmask, kernel_manager_class, use_warm_engine, warm_engine
from auditlib.batch.model import DEFAULT_FORMATS, ClientResult, Job
from auditlib.batch.selection import figures_from_manifest
from auditlib.errors import AuditError
from auditlib.report.pdf import close_warm_browser, ensure_warm_browser
from auditlib.startup import FEW_COLLECTIONS

_log = logging.getLogger(__name__)

_LOADED: dict[str, Any] = {}   # the zygote's catalogue and benchmark, inherited by every child
# What a report run imports (kernel side and runner side); seaborn and pyplot are not used by
# the report, so they are not paid for. A module missing here is imported by the child itself.
WARM_MODULES = ("numpy", "pandas", "matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg",
                "PIL.PngImagePlugin", "jinja2", "yaml", "pydantic", "nbformat", "nbclient", "papermill",
                "nbconvert", "nbconvert.exporters.html", "nbconvert.preprocessors", "bs4", "mistune",
                "pygments.lexers.python", "pygments.formatters.html", "ipykernel.inprocess.ipkernel",
                "IPython.display", "matplotlib_inline.backend_inline",
                # imported by the kernel's start and first cells (IPython's shell, ipykernel's
                # debugger, the in-memory history, tornado's loop for the IOPub object), and by
                # the report's tables and review: else paid again in every child
                "IPython.core.application", "IPython.core.completerlib", "IPython.core.oinspect",
                "IPython.core.logger", "bdb", "ipykernel.debugger", "sqlite3", "tornado.platform.asyncio",
                "tornado.queues",
                "pandas.core.reshape.reshape", "pandas.io.formats.string", "auditlib.textcheck",
                "auditlib.audit", "auditlib.handles", "auditlib.interpret", "auditlib.report",
                "auditlib.charts", "auditlib.export", "auditlib.portfolio")
WARM_BY_FORMAT = {"pdf": ("weasyprint",), "xlsx": ("xlsxwriter",)}


def warm_up(settings=None, sample: Path | None = None, lang: str = "en",
            formats: Sequence[str] = DEFAULT_FORMATS, pages: int = 1) -> dict:
    """Import what every report needs and load the shared data once, before the children fork.

    With a `sample` client, also run the library's first-call paths once (analysis,
    interpretation, charts rendered to SVG, the HTML exporter) so that font, template and
    code caches are warm in every child. Only pure caches are warmed: no kernel, no notebook,
    no pyplot, no backend choice, nothing written. With "pdf" in `formats` and the chromium
    engine, the process's warm browser is started with `pages` warm page targets (one per
    concurrent child; auditlib/report/pdf.py): the children inherit its address.
    """
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")   # ipykernel's debugger: no banner
    import importlib

    from auditlib.startup import skip_unused_imports

    skip_unused_imports()         # a Dask worker's fork server too: seconds of imports no report uses

    names = list(WARM_MODULES) + [m for f in formats for m in WARM_BY_FORMAT.get(f, ())
                                  if not (f == "pdf" and _pdf_engine(settings) == "chromium")]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:   # optional: the report imports what it needs itself
            _log.debug("local: ignored", exc_info=True)
            pass
    kernel_manager_class()
    warm_engine()
    _warm_backend_registry()
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
        if _LOADED:
            from auditlib.report.manifest import code_hash

            _LOADED["code_hash"] = code_hash()     # of the code imported above, which the children run
    if "pdf" in formats:
        _warm_browser(settings, lang, pages)
    import gc

    gc.collect()
    gc.freeze()   # fewer copy-on-write page copies in the children
    return dict(_LOADED)


def _warm_backend_registry() -> None:
    """matplotlib's list of backends read once here: each child's kernel sets the inline backend
    (kernel._inline_backend_default), and checking that name read every installed package's entry
    points (~0.03 s CPU per child)."""
    try:
        from matplotlib.backends import backend_registry

        from auditlib.batch.kernel import INLINE_BACKEND

        backend_registry.is_valid_backend(INLINE_BACKEND)
    except Exception:   # optional, like the imports above
        _log.debug("local: ignored", exc_info=True)


def _pdf_engine(settings) -> str | None:
    """The PDF engine the reports will use (None when the setting is wrong: each report says so)."""
    from auditlib.config import Settings
    from auditlib.report.pdf import resolve_engine

    settings = settings or Settings.defaults()
    try:
        return resolve_engine(settings.pdf_engine, settings.chromium)[0]
    except AuditError:
        return None


def _warm_browser(settings, lang: str, pages: int) -> None:
    """The warm Chromium for the children's PDFs (the chromium engine only), each page printed on once."""
    from auditlib.config import Settings
    from auditlib.report.pdf import start_warm_browser

    settings = settings or Settings.defaults()
    try:
        import nbformat

        from auditlib.report import export_html

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# warm-up\n\nwarm-up")]
        html = export_html(nb, lang=lang, title="warm-up", client="warm-up")
        start_warm_browser(settings.pdf_engine, settings.chromium, pages=max(1, pages), warm_html=html)
    except AuditError:      # each report then says what is wrong with its PDF itself
        _log.debug("local: warm browser not started", exc_info=True)


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

        interpret(state["result"], lang).to_markdown()

    def templates():
        # every commentary template of both languages and the report's fragments, compiled once here:
        # the sample client's commentary meets only some of them, and a child compiled the rest it met
        from auditlib.catalogue import LANGUAGES
        from auditlib.interpret import commentary_env, template_names
        from auditlib.report.fragments import _fragments

        for language in LANGUAGES:
            env = commentary_env(language)
            for name in template_names(language):
                env.get_template(name)
        _fragments()

    def charts():
        from auditlib import charts as ch

        # every chart page the report draws, so that the text metrics of the catalogue's labels
        # (indicator and dimension names, axis titles) are measured here once, not in every child
        result = state["result"]
        figs = [ch.dimension_profile(result, lang), *ch.percentile_pages(result, lang)]
        figs += [fig for d in result.catalogue.dimensions for fig in ch.distribution_pages(result, d.id, lang)]
        for fig in figs:
            state["svg"] = ch.to_svg(fig)

    def versions():
        from auditlib.export import package_versions

        package_versions()          # each child's manifest names them

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

    steps += [analysis, figures, interpretation, templates, charts, html, versions]
    for step in steps:
        try:
            step()
        except Exception:
            _log.debug("local: ignored", exc_info=True)
            if step is analysis:
                return


# --- the child: one client ---------------------------------------------------------------------------

def _child_main(job: Job, conn, runner: Callable[[Job], Any] | None = None) -> None:
    """Entry point of a child process: make the report, send the outcome, exit without cleanup."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)         # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)        # the parent's stop: die at once (in a cell)
    # Warm: SIGTERM is let through only while a cell runs (never during export or the swap).
    _sigmask("set", {signal.SIGTERM} if job.warm else set())
    # One report, then os._exit: the young generation collected rarely (the parent froze the rest),
    # as in a cold `auditlib run` (auditlib/startup.py, few_collections)
    gc.set_threshold(*FEW_COLLECTIONS)
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
            if "code_hash" in _LOADED:
                from auditlib.report.manifest import use_code_hash

                use_code_hash(_LOADED["code_hash"])
        result = (runner or _make_report)(job)
        conn.send(("done", result, time.monotonic()))
    except BaseException as exc:   # noqa: BLE001 - report anything to the parent
        code = 1
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:500], time.monotonic()))
        except Exception:
            _log.debug("local: ignored", exc_info=True)
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
        _log.debug("local: ignored", exc_info=True)
        return None


def _catalogue_changed(catalogue, directory: Path) -> bool:
    import hashlib

    try:
        now = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(directory).iterdir()
               if p.name in catalogue.hashes}
    except OSError:
        return True
    return now != dict(catalogue.hashes)


# --- the executor: schedule the children, watch them, Ctrl-C ------------------------------------------

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


class LocalExecutor:
    """The default executor: one child per client, forked from this warm process (spawned without fork).

    At most `ctx.workers` children at a time. The parent watches each child's cell messages and
    kills one that stays in a cell longer than the timeout plus a grace period, or is silent for
    too long between cells. Ctrl-C: children get SIGTERM (acted on only inside a cell), a report
    being exported is finished within STOP_GRACE, then the rest is killed.
    """

    def __init__(self, **options: Any):
        if options:
            raise AuditError(f"the local batch executor takes no options (got {', '.join(sorted(options))})")

    def run(self, jobs, ctx, sink) -> bool:
        from auditlib.batch.leftovers import _salvage_failed
        from auditlib.batch.orchestrate import QUIET_LIMIT_MIN, STOP_GRACE, _inside_ipython, _log_tail

        can_fork = "fork" in mp.get_all_start_methods() and hasattr(signal, "setitimer")
        warm = (can_fork and not _inside_ipython()) if ctx.warm is None else (ctx.warm and can_fork)
        mpctx: Any = mp.get_context("fork" if warm else "spawn")   # fork and spawn contexts have Process
        jobs = [replace(j, warm=warm) for j in jobs]
        cell_timeout, kill_grace = ctx.cell_timeout, ctx.kill_grace
        if warm and jobs and ctx.runner is None:
            sink.status("loading libraries and data once for every worker")
            warm_up(ctx.settings, sample=jobs[0].client_dir, lang=ctx.lang, formats=ctx.formats,
                    pages=min(ctx.workers, len(jobs)))
        running: dict[int, _Running] = {}
        pending = list(jobs)
        stopping = False
        reported: set[str] = set()
        quiet_limit = max(QUIET_LIMIT_MIN, float(cell_timeout or 0)) + kill_grace

        def launch(job: Job) -> None:
            # Ctrl-C waits until the child is registered (no untracked child can be left behind).
            blocked = _sigmask("block", {signal.SIGINT, signal.SIGTERM})
            try:
                ensure_warm_browser()          # a crashed browser is restarted before the next child
                reader, writer = mpctx.Pipe(duplex=False)
                proc = mpctx.Process(target=_child_main, args=(job, writer, ctx.runner),
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
            secs = time.monotonic() - r.started
            res = result_from_message(r.job, r.message, secs)
            if res is None and (interrupted_now or (stopping and not r.killed)):
                res = ClientResult(r.job.client_dir.name, r.job.client_dir, "interrupted", secs,
                                   "stopped by Ctrl-C before it finished")
            elif res is None:
                reason = r.killed or child_error(r.message) or (
                    f"the worker process died (exit code {r.process.exitcode})" + _log_tail(r.job.log_path))
                res = ClientResult(r.job.client_dir.name, r.job.client_dir, "failed", secs, reason)
                res.failed_notebook = _salvage_failed(res, ctx.outputs_dir)
            reported.add(res.client_id)
            sink.done(res)

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
                killed = backstop(r.in_cell, r.cells, now - r.last, cell_timeout, kill_grace, quiet_limit)
                if killed and r.killed is None:
                    r.killed = killed
                    r.process.kill()

        try:
            try:
                while pending or running:
                    while pending and len(running) < ctx.workers:
                        launch(pending.pop(0))
                    poll(0.5)
            except KeyboardInterrupt:
                stopping = True
                sink.note("interrupted: stopping the workers; finished reports stay")
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
            close_warm_browser()               # the batch ended, or Ctrl-C: no browser left behind
        return stopping


def backstop(in_cell: bool, cells: int, quiet: float, cell_timeout: float, kill_grace: float,
             quiet_limit: float) -> str | None:
    """Why a warm child must be killed (its own alarm could not stop it), or None."""
    limit = (float(cell_timeout) + kill_grace) if (in_cell and cell_timeout) else quiet_limit
    if quiet <= limit:
        return None
    where = f"code cell {cells}" if in_cell else "between cells"
    return (f"no progress for {quiet:.0f} s ({where}); the per-cell timeout of {cell_timeout:g} s could not "
            f"stop it, so the worker was killed")


def child_error(msg: Any) -> str | None:
    """The reason a child gave when its report maker raised (its "error" message), else None."""
    return f"the worker failed: {msg[1]}" if msg is not None and msg[0] == "error" else None


def result_from_message(job: Job, msg: Any, seconds: float) -> ClientResult | None:
    """The ClientResult of a child's "done" message; None when it sent none."""
    cid = job.client_dir.name
    if msg is not None and msg[0] == "done":
        payload = msg[1]
        outcome = payload["outcome"] if isinstance(payload, dict) else payload
        return ClientResult(cid, job.client_dir, outcome.status, seconds=outcome.seconds or seconds,
                            reason=outcome.error, engagement=outcome.engagement, out_dir=outcome.out_dir,
                            failed_notebook=outcome.failed_notebook,
                            figures=payload.get("figures") if isinstance(payload, dict) else None)
    return None


_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def _signal(process, signum) -> None:
    try:
        if process.pid is not None and process.exitcode is None:
            os.kill(process.pid, signum)
    except (ProcessLookupError, OSError):
        pass

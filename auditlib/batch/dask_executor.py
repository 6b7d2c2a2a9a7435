"""The Dask executor: the batch on a dask.distributed cluster (`auditlib batch --scheduler ADDRESS|local`).

No shared filesystem is assumed:

* **Once per worker** (a worker plugin, registered for the batch and removed after it): the
  catalogue folder, the benchmark file (and its .meta.yaml), the report notebook and one sample
  client go to every worker as bytes; the worker writes them into its own temporary folder and
  starts its warm fork server (auditlib/batch/zygote.py), which imports and loads everything once
  and keeps one warm Chromium page per worker thread. A worker that joins later, or that Dask
  restarts, gets the plugin too.
* **Per report** (a task): the client folder's files as bytes. The worker writes them into a
  fresh job folder, its fork server forks one child that makes the report exactly as the local
  executor's child does (same kernel, per-cell alarm, failure isolation), and the task returns
  the finished files (or the failed notebook) as bytes. The task's thread is the child's
  watchdog (the same backstop as the local parent's) and then removes the job folder.
* **The submitting side** writes what comes back atomically into outputs/ (`files.write_folder`:
  a complete folder swapped in, never a partial one over a good one).

A lost worker: Dask reschedules its task on another worker, at most `allowed-failures` times
(LocalCluster: RETRIES; an existing cluster: its scheduler's `distributed.scheduler.allowed-failures`),
then the client fails with the reason. Ctrl-C: tasks not started are cancelled, running children
get SIGTERM (a report being exported is finished), finished reports stay.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, Pipe
from multiprocessing.reduction import send_handle
from pathlib import Path
from typing import Any

from auditlib.batch.local import backstop, child_error, result_from_message
from auditlib.batch.model import ClientResult, Job
from auditlib.errors import AuditError
from auditlib.files import owned_temp_dir

_log = logging.getLogger(__name__)

# How often a report may be on a worker that died before it counts as failed (LocalCluster).
RETRIES = 2
PLUGIN_PREFIX = "auditlib-"
_STOPPED: set[str] = set()        # on a worker: batch tokens stopped by Ctrl-C (set by client.run)
# The LocalCluster's own bookkeeping, which its processes pay every second of the batch: with
# Dask's defaults an idle cluster of 2 workers took 17 % of a core (statistical profiler every
# 10 ms, event-loop tick every 20 ms, work stealing, system and memory monitors), with these 2 %
# (measured alternately, idle cluster, 20 s). None of them serves a batch: tasks that only wait
# for their forked child, no dashboard, no memory limit (the reports run in children the worker's
# limit would not see anyway).
# `--scheduler local`: one worker process whose `--workers` threads each wait for one report's
# child, all forked by the worker's one fork server, as the local executor forks them from its one
# warm parent. A worker process per report slot would pay, per slot, the worker's start (importing
# distributed and auditlib, ~1.9 s of CPU), a fork server's warm-up (~3.7 s) and a Chromium of its
# own (~1-2 s), for nothing a single machine needs (2 workers: the Dask batch's fixed CPU over the local
# one's 17.6 -> 5.2 s, with ZYGOTE_MAIN). A lost worker process (the nanny restarts it) loses the
# reports running on it; Dask retries each.
LOCAL_WORKERS = 1
# `--scheduler local` is private to the auditor's account. Dask's comms have no authentication of their
# own: any account on the machine could connect to a plain tcp:// LocalCluster and run code as the
# auditor (reading every client's data), and its HTTP routes (/info, /json, /metrics) list workers,
# tasks and task names to anyone. So the LocalCluster uses Dask's temporary TLS credentials (mutual TLS,
# the key held by this process: `security=True`), and its scheduler and worker serve no HTTP route.
# Dask's scheduler binds its HTTP server all the same, by default on port 8787: there it took the port of
# a dashboard the auditor may run, or logged "Port 8787 is already in use". It listens on a free port of
# the loopback interface instead (LOCAL_HTTP_ADDRESS), with nothing behind it.
LOCAL_HTTP_ADDRESS = "127.0.0.1:0"
PRIVATE_LOCAL_CLUSTER: dict[str, list] = {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
QUIET_CLUSTER = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
                 "distributed.scheduler.work-stealing": False, "distributed.admin.system-monitor.interval": "5s",
                 "distributed.worker.memory.monitor-interval": "5s"}

# The fork server's command line. Its cyclic GC is set as a cold `auditlib run`'s (startup.few_collections)
# before its first import: importing auditlib.batch pulls in pandas, pydantic and the report's modules, and
# warm_up the rest; at CPython's thresholds that start made ~490 young, 44 middle and 5 full collections
# (about 0.6-0.9 s of CPU of a 3.6-4.5 s warm-up, once per worker), with these ~50, 2 and 1. warm_up
# freezes what it built, and each forked child sets the same thresholds itself (local._child_main).
ZYGOTE_MAIN = ("import gc, sys\n"
               "from auditlib.startup import FEW_COLLECTIONS\n"
               "gc.set_threshold(*FEW_COLLECTIONS)\n"
               "gc.freeze()\n"
               "from auditlib.batch.zygote import serve_fd\n"
               "serve_fd(int(sys.argv[1]), sys.argv[2])\n")


# A worker's temporary folder holds a copy of the benchmark (every organisation's answers) and of the
# clients' files. Its teardown removes it; a worker killed without one leaves it, and then its fork
# server removes it (zygote.serve), or, when that died too, the next worker started on the host
# (files.owned_temp_dir).
WORKER_FOLDER_PREFIX = "auditlib-worker-"


def _folder_files(folder: Path) -> dict[str, bytes]:
    """Every file of a folder as bytes, by relative POSIX path (dot files and caches left out)."""
    from auditlib.report.manifest import _files

    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in _files(Path(folder))}


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write shipped files under `folder`; a name that would leave it is refused."""
    root = folder.resolve()
    for name, data in files.items():
        path = (root / name).resolve()
        if root not in path.parents:
            raise AuditError(f"refused shipped file name {name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@dataclass(frozen=True)
class RemoteTask:
    """One client's report, as a worker gets it: the folder's files as bytes and the run's options."""

    client_id: str
    files: dict
    lang: str
    formats: tuple[str, ...]
    cell_timeout: float
    kill_grace: float
    groups: tuple[str, ...] | None
    extra_parameters: dict | None
    token: str


# --- the worker side -----------------------------------------------------------------------------------

class _ForkServer:
    """The worker's handle on its fork server (one process per worker, started by the plugin)."""

    def __init__(self, root: Path, warm: tuple):
        self.root, self.warm = root, warm
        self.lock = threading.RLock()     # close() takes it too, also from inside fork()
        self.proc: subprocess.Popen | None = None
        self._start()

    def _start(self) -> None:
        mine, theirs = socket.socketpair()
        log = open(self.root / "fork-server.log", "ab")
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE_MAIN, str(theirs.fileno()), str(self.root)],
                                         pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, cwd=self.root)
        finally:
            theirs.close()
            log.close()
        self.conn = Connection(mine.detach())
        self.conn.send(self.warm)     # it warms up now; the first report waits for "ready"
        self.ready = False

    def fork(self, job: Job) -> tuple[int, Connection]:
        """A fresh child making `job`'s report: its pid and the pipe its messages arrive on."""
        with self.lock:
            for attempt in (1, 2):
                try:
                    if self.proc is None or self.proc.poll() is not None:
                        self._start()
                    if not self.ready:
                        self.conn.recv()
                        self.ready = True
                    reader, writer = Pipe(duplex=False)
                    try:
                        self.conn.send(("run", job))
                        assert self.proc is not None, "the fork server is running"
                        send_handle(self.conn, writer.fileno(), self.proc.pid)
                    finally:
                        writer.close()
                    return int(self.conn.recv()[1]), reader
                except (EOFError, OSError):    # the fork server died: start another one once
                    if attempt == 2:
                        raise
                    self.close()
        raise RuntimeError("unreachable")

    def close(self) -> None:
        with self.lock:                      # never between a "run" and its file descriptor
            try:
                self.conn.send(("close",))   # a teardown, not a death: the server leaves the folder alone
            except OSError:
                pass
            try:
                self.conn.close()
            except OSError:
                pass
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                self.proc = None


try:
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:       # the registry reports the missing package when the executor is chosen
    _WorkerPlugin = object   # type: ignore[assignment,misc]


class AuditWorkerPlugin(_WorkerPlugin):
    """Once per worker: the shared inputs written to its own temp folder, and its warm fork server."""

    def __init__(self, name: str, bundle: dict):
        self.name = name
        self.bundle = bundle

    def setup(self, worker) -> None:
        from auditlib.config import Settings

        b = self.bundle
        self.root = owned_temp_dir(WORKER_FOLDER_PREFIX)     # and removes dead workers' folders
        _write_files(self.root / "catalogue", b["catalogue"])
        _write_files(self.root / "benchmark", b["benchmark"])
        _write_files(self.root / "notebook", {b["notebook_name"]: b["notebook"]})
        _write_files(self.root / "sample" / b["sample_id"], b["sample"])
        self.settings = Settings(data_dir=self.root, catalogue_dir=self.root / "catalogue",
                                 benchmark_path=self.root / "benchmark" / b["benchmark_name"],
                                 clients_dir=self.root / "sample", outputs_dir=self.root / "outputs",
                                 pdf_engine=b.get("pdf_engine") or "auto",     # chromium resolved on this host
                                 chromium=Path(b["chromium"]) if b.get("chromium") else None)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches every process of a LocalCluster
        pages = max(1, int(getattr(worker.state, "nthreads", 1) or 1))    # one report at a time per thread
        self.server = _ForkServer(self.root, ("warm", self.settings, str(self.root / "sample" / b["sample_id"]),
                                              b["lang"], tuple(b["formats"]),
                                              str(self.root / "notebook" / b["notebook_name"]), pages))

    def teardown(self, worker) -> None:
        server = getattr(self, "server", None)
        if server is not None:
            server.close()
        shutil.rmtree(getattr(self, "root", ""), ignore_errors=True)


def _stop_batch(token: str) -> None:
    """On every worker (client.run): the batch `token` was stopped; its children get SIGTERM."""
    _STOPPED.add(token)


def remote_report(plugin_name: str, task: RemoteTask) -> dict:
    """A Dask task: one client's report in a child forked by this worker's fork server; files back as bytes."""
    from distributed import get_worker

    from auditlib.batch.leftovers import _salvage_failed
    from auditlib.batch.orchestrate import QUIET_LIMIT_MIN, _log_tail

    worker = get_worker()
    plugin: AuditWorkerPlugin = worker.plugins[plugin_name]  # type: ignore[assignment]
    where = getattr(worker, "address", "?")
    if task.token in _STOPPED:
        return {"status": "interrupted", "reason": "not started (Ctrl-C)", "worker": where}
    job_dir = Path(tempfile.mkdtemp(prefix="job-", dir=plugin.root))
    try:
        client_dir = job_dir / "clients" / task.client_id
        _write_files(client_dir, task.files)
        outputs = job_dir / "outputs"
        outputs.mkdir()
        settings = replace(plugin.settings, clients_dir=client_dir.parent, outputs_dir=outputs)
        job = Job(client_dir, settings, task.lang, task.formats, outputs, task.cell_timeout, task.groups,
                  task.extra_parameters, True, job_dir / "report.log")
        started = time.monotonic()
        pid, reader = plugin.server.fork(job)
        msg, killed, stopped = _watch(pid, reader, task, QUIET_LIMIT_MIN)
        seconds = time.monotonic() - started
        res = result_from_message(job, msg, seconds)
        if res is None and stopped and not killed:
            return {"status": "interrupted", "reason": "stopped by Ctrl-C before it finished", "worker": where}
        if res is None:
            reason = killed or child_error(msg) or ("the report process died" + _log_tail(job.log_path))
            res = ClientResult(task.client_id, client_dir, "failed", seconds, reason)
            res.failed_notebook = _salvage_failed(res, outputs)
        out: dict[str, Any] = {"status": res.status, "seconds": res.seconds, "reason": res.reason,
                               "engagement": res.engagement, "figures": res.figures, "worker": where}
        if res.status == "ok" and res.out_dir is not None:
            out["folder"] = res.out_dir.name
            out["files"] = {p.name: p.read_bytes() for p in sorted(res.out_dir.iterdir()) if p.is_file()}
        if res.failed_notebook is not None and Path(res.failed_notebook).is_file():
            out["failed_folder"] = Path(res.failed_notebook).parent.name
            out["failed_notebook"] = Path(res.failed_notebook).read_bytes()
        return out
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)


def _watch(pid: int, reader: Connection, task: RemoteTask, quiet_min: float) -> tuple[Any, str | None, bool]:
    """Follow one child until it exits: (its last message, why it was killed, stopped by Ctrl-C)."""
    quiet_limit = max(quiet_min, float(task.cell_timeout or 0)) + task.kill_grace
    last = time.monotonic()
    in_cell, cells, msg, killed, stopped = False, 0, None, None, False
    try:
        while True:
            if reader.poll(0.5):
                try:
                    m = reader.recv()
                except (EOFError, OSError):
                    break
                if m[0] == "cell":
                    in_cell, last = m[1] == "start", time.monotonic()
                    cells += m[1] == "start"
                else:
                    msg = m
                continue
            if task.token in _STOPPED and not stopped:
                stopped = True
                _kill(pid, signal.SIGTERM)            # acted on only inside a cell, as locally
            why = backstop(in_cell, cells, time.monotonic() - last, task.cell_timeout, task.kill_grace, quiet_limit)
            if why and killed is None:
                killed = why
                _kill(pid, signal.SIGKILL)
    finally:
        reader.close()
    return msg, killed, stopped


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except OSError:
        pass


# --- the submitting side -------------------------------------------------------------------------------

def _bundle(settings, sample: Path, lang: str, formats: tuple[str, ...]) -> dict:
    """What every worker gets once: catalogue, benchmark (+ .meta.yaml), notebook, one sample client."""
    from auditlib.report.manifest import _notebook

    bench = Path(settings.benchmark_path)
    meta = bench.with_name(bench.stem + ".meta.yaml")
    notebook = _notebook()
    return {"catalogue": _folder_files(Path(settings.catalogue_dir)),
            "benchmark": {p.name: p.read_bytes() for p in (bench, meta) if p.is_file()},
            "benchmark_name": bench.name, "notebook_name": notebook.name, "notebook": notebook.read_bytes(),
            "sample_id": sample.name, "sample": _folder_files(sample), "lang": lang, "formats": list(formats),
            "pdf_engine": getattr(settings, "pdf_engine", "auto"),
            "chromium": str(settings.chromium) if getattr(settings, "chromium", None) else None}


def as_submitted(manifest_json: bytes, job: Job, worker: str | None) -> bytes:
    """A worker's manifest naming the submitting side's inputs, as the local executor's does.

    The worker built the report from its own temporary copies of the inputs (their SHA-256 in
    `inputs` are of the same bytes); those folders are deleted when the task ends, so the manifest
    names the folders the batch was started on instead, and keeps where the report was built under
    `built_on` (the worker's address and its paths).
    """
    from auditlib.export import json_text
    from auditlib.report.run import input_paths

    data = json.loads(manifest_json)
    ours = input_paths(job.settings, job.client_dir.parent)
    params = data.get("parameters") or {}
    data["built_on"] = {"worker": worker, "paths": {k: params[k] for k in ours if k in params}}
    params.update({k: v for k, v in ours.items() if k in params})
    if isinstance(data.get("catalogue"), dict) and "directory" in data["catalogue"]:
        data["catalogue"]["directory"] = ours["catalogue_dir"]
    if isinstance(data.get("benchmark"), dict) and "path" in data["benchmark"]:
        data["benchmark"]["path"] = ours["benchmark"]
    return json_text(data).encode("utf-8")


def write_back(outputs_dir: Path, job: Job, payload: dict) -> ClientResult:
    """A worker's answer written into outputs/<client>/ atomically, as the local executor leaves it."""
    from auditlib.files import write_folder

    cid = job.client_dir.name
    reason = payload.get("reason")
    if reason and payload.get("worker"):
        reason = f"{reason} (on {payload['worker']})" if payload["status"] == "failed" else reason
    res = ClientResult(cid, job.client_dir, payload["status"], seconds=float(payload.get("seconds") or 0.0),
                       reason=reason, engagement=payload.get("engagement"), figures=payload.get("figures"))
    client_out = outputs_dir / cid
    if payload.get("files"):
        files = dict(payload["files"])
        if "manifest.json" in files:
            files["manifest.json"] = as_submitted(files["manifest.json"], job, payload.get("worker"))
        res.out_dir = write_folder(client_out / payload["folder"], files)
        shutil.rmtree(client_out / f"{payload['folder']}.failed", ignore_errors=True)
    if payload.get("failed_notebook") is not None:
        from auditlib.report.paths import OUTPUT_FILES

        name = OUTPUT_FILES["ipynb"]
        kept = write_folder(client_out / payload["failed_folder"], {name: payload["failed_notebook"]})
        res.failed_notebook = kept / name
    return res


class DaskExecutor:
    """Reports on a Dask cluster: `scheduler` is an address (tcp://host:8786) or "local" (a LocalCluster
    of one worker process with `--workers` threads, see LOCAL_WORKERS)."""

    def __init__(self, scheduler: str = "local", retries: int = RETRIES, **options: Any):
        if options:
            raise AuditError(f"the dask batch executor does not know {', '.join(sorted(options))}")
        self.scheduler, self.retries = scheduler, retries

    def _connect(self, ctx, sink):
        import logging

        import dask
        from distributed import Client, LocalCluster

        if self.scheduler == "local":
            sink.status(f"starting a Dask LocalCluster with {ctx.workers} worker threads")
            with dask.config.set({"distributed.scheduler.allowed-failures": self.retries, **QUIET_CLUSTER,
                                  **PRIVATE_LOCAL_CLUSTER}):
                cluster = LocalCluster(n_workers=LOCAL_WORKERS, threads_per_worker=ctx.workers, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR, memory_limit=0,
                                       security=True, scheduler_kwargs={"dashboard_address": LOCAL_HTTP_ADDRESS})
            return Client(cluster), cluster
        sink.status(f"connecting to the Dask scheduler at {self.scheduler}")
        try:       # waits Dask's distributed.comm.timeouts.connect (30 s unless configured) for the scheduler
            return Client(self.scheduler), None
        except TypeError as exc:      # distributed: "TLS expects a `ssl_context` argument ..."
            if not self.scheduler.startswith("tls://"):
                raise                     # not a missing TLS setting: a bug, shown as one
            raise AuditError(f"cannot connect to the Dask scheduler at {self.scheduler}: a tls:// scheduler needs "
                             "this machine's TLS settings in its Dask configuration (distributed.comm.tls.ca-file, "
                             "distributed.comm.tls.client.cert and .key; README 'More than one machine'): "
                             f"{exc}") from None
        except (OSError, TimeoutError, ValueError) as exc:
            raise AuditError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}; start it with "
                             "'dask scheduler' and give its address (tcp://host:8786), or use --scheduler local") \
                from None

    def run(self, jobs, ctx, sink) -> bool:
        from distributed import as_completed, wait
        from distributed.client import FutureCancelledError

        from auditlib.batch.orchestrate import STOP_GRACE

        if ctx.runner is not None:
            raise AuditError("the dask batch executor runs the real report only (no test runner)")
        client, cluster = self._connect(ctx, sink)
        token = uuid.uuid4().hex
        bundle = _bundle(ctx.settings, jobs[0].client_dir, ctx.lang, ctx.formats)
        name = f"{PLUGIN_PREFIX}{token[:12]}"      # this batch's plugin, removed when it ends
        interrupted = False
        try:
            sink.status("shipping the catalogue and benchmark to every worker")
            client.register_plugin(AuditWorkerPlugin(name, bundle), name=name)
            futures: dict[Any, Job] = {}
            for job in jobs:
                task = RemoteTask(job.client_dir.name, _folder_files(job.client_dir), ctx.lang, tuple(ctx.formats),
                                  float(ctx.cell_timeout), float(ctx.kill_grace), job.groups, job.extra_parameters,
                                  token)
                # the key names no client: a cluster's dashboard and metrics show keys and their prefixes
                fut = client.submit(remote_report, name, task, key=f"auditlib-report-{token}-{len(futures):05d}",
                                    pure=False)
                futures[fut] = job
            sink.status(f"{len(jobs)} reports on {sum(client.nthreads().values())} Dask worker threads")

            def collect(fut) -> None:
                job = futures.pop(fut)
                sink.done(self._result(fut, job, ctx.outputs_dir, FutureCancelledError))

            try:
                for fut in as_completed(list(futures)):
                    collect(fut)
            except KeyboardInterrupt:
                interrupted = True
                sink.note("interrupted: stopping the Dask workers' reports; finished reports stay")
                try:
                    client.run(_stop_batch, token)
                    wait(list(futures), timeout=STOP_GRACE)
                except (KeyboardInterrupt, Exception):   # noqa: BLE001 - stopping: keep what finished
                    _log.debug("dask_executor: ignored", exc_info=True)
                    pass
                for fut in [f for f in list(futures) if f.done()]:
                    collect(fut)
                client.cancel(list(futures))
                for fut in list(futures):
                    job = futures.pop(fut)
                    sink.done(ClientResult(job.client_dir.name, job.client_dir, "interrupted",
                                           reason="stopped by Ctrl-C before it finished"))
        finally:
            try:
                client.unregister_worker_plugin(name)
            except Exception:   # noqa: BLE001 - a cluster that is going away
                _log.debug("dask_executor: ignored", exc_info=True)
                pass
            client.close()
            if cluster is not None:
                cluster.close()
        return interrupted

    def _result(self, fut, job: Job, outputs_dir: Path, cancelled_error) -> ClientResult:
        cid = job.client_dir.name
        try:
            payload = fut.result()
        except cancelled_error:
            return ClientResult(cid, job.client_dir, "interrupted", reason="cancelled before it finished")
        except Exception as exc:   # noqa: BLE001 - a lost worker (KilledWorker) or a task error: this client fails
            kind = type(exc).__name__
            if kind == "KilledWorker":
                times = f"{self.retries + 1} times" if self.scheduler == "local" else "too many times"
                reason = (f"the Dask worker making this report was lost {times} (KilledWorker): it was retried "
                          "(on another worker or the one restarted in its place), then given up")
            else:
                reason = f"the Dask task failed: {kind}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
            return ClientResult(cid, job.client_dir, "failed", reason=reason)
        try:
            return write_back(outputs_dir, job, payload)
        except (OSError, ValueError) as exc:
            return ClientResult(cid, job.client_dir, "failed", float(payload.get("seconds") or 0.0),
                                f"writing the report that came back failed: {exc}")

"""The warm fork server of one Dask worker: `python -m auditlib.batch.zygote FD` (the worker starts it
with dask_executor.ZYGOTE_MAIN: the same, its cyclic GC set first).

A Dask worker is a multi-threaded (and usually daemonic) process: forking it is unsafe and it
may not start multiprocessing children. So each worker starts this small single-threaded
process once (auditlib/batch/dask_executor.py). It warms up exactly as the local executor's
parent does (`local.warm_up`: imports, catalogue and benchmark loaded once, first-call caches),
then forks one fresh child per report, which runs the local executor's `_child_main`: the same
in-process kernel, per-cell alarm, SIGTERM only inside a cell, and nothing passed from one client
to the next.

Protocol on the socket FD (multiprocessing Connection messages):
    <- ("warm", settings, sample_client_dir, lang, formats, notebook, pages)   once
    -> ("ready", error_or_None)
    <- ("run", job) followed by one file descriptor (send_handle): the child's message pipe
    -> ("pid", pid)
    <- ("close",)                                                      the worker's teardown
On "close" or end of file on the socket: the children are killed, the warm Chromium of the PDFs
(started by warm_up with `pages` warm page targets: one per worker thread, each running one report
at a time) is closed, and the server exits. At end of file without "close", once the worker process
is gone (killed: no teardown of its plugin ran), the server also removes the worker's temporary
folder, which holds a copy of the benchmark and of the clients' files.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle
from pathlib import Path

from auditlib.report.pdf import close_warm_browser, ensure_warm_browser


def serve(conn: Connection, root: str | Path | None = None) -> None:
    """Warm up, then fork a child per "run" request until the worker closes the socket; `root` (the
    worker's temporary folder) is removed on the way out when the worker died without removing it."""
    worker, closed = os.getppid(), False
    try:
        closed = _serve(conn)
    finally:
        if root is not None and not closed and _reparented(worker):     # the worker is gone
            shutil.rmtree(root, ignore_errors=True)


def _reparented(worker: int, wait: float = 5.0) -> bool:
    """Whether this process's parent is no longer `worker`. A killed worker's socket closes a moment
    before its exit is complete (its files are closed first), so that end of file waits for it."""
    deadline = time.monotonic() + wait
    while os.getppid() == worker:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _serve(conn: Connection) -> bool:
    """The server's work; True when the worker said "close" (its teardown), False when the socket ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl-C in the terminal is the submitting side's
    kind, settings, sample, lang, formats, notebook, pages = conn.recv()
    error = None
    try:
        if notebook:
            import auditlib.report

            auditlib.report.NOTEBOOK = Path(notebook)  # the submitting side's notebook, shipped as bytes
        from auditlib.batch.local import warm_up

        warm_up(settings, sample=Path(sample) if sample else None, lang=lang, formats=formats, pages=pages)
    except Exception as exc:   # noqa: BLE001 - every report will then say what is wrong itself
        error = f"{type(exc).__name__}: {exc}"
    children: set[int] = set()
    try:
        conn.send(("ready", error))
        while True:
            msg = conn.recv()
            if msg[0] == "close":
                return True
            if msg[0] != "run":
                continue
            fd = recv_handle(conn)
            ensure_warm_browser()                      # a crashed browser is restarted for this report
            pid = os.fork()
            if pid == 0:                               # the child: one report, then os._exit
                conn.close()
                from auditlib.batch.local import _child_main

                _child_main(msg[1], Connection(fd))
                os._exit(1)                            # not reached: _child_main always exits
            os.close(fd)
            children.add(pid)
            conn.send(("pid", pid))
            children = {p for p in children if not _reaped(p)}
    except (EOFError, OSError):                        # the worker is gone (or broke the socket)
        return False
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        close_warm_browser()


def _reaped(pid: int) -> bool:
    """Wait for a finished child (so its CPU time counts in this process's children, as the local
    executor's children count in the batch's), without blocking on a running one."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def serve_fd(fd: int, root: str | None = None) -> None:
    """The fork server's entry point (dask_executor.ZYGOTE_MAIN): serve the worker on socket `fd`."""
    serve(Connection(fd), root)


if __name__ == "__main__":
    serve_fd(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)

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
End of file on the socket (the worker is gone): the children are killed, the warm Chromium of the
PDFs (started by warm_up with `pages` warm page targets: one per worker thread, each running one
report at a time) is closed, and the server exits.
"""

from __future__ import annotations

import os
import signal
import sys
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle
from pathlib import Path

from auditlib.report.pdf import close_warm_browser, ensure_warm_browser


def serve(conn: Connection) -> None:
    """Warm up, then fork a child per "run" request until the worker closes the socket."""
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
    conn.send(("ready", error))
    children: set[int] = set()
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
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


def serve_fd(fd: int) -> None:
    """The fork server's entry point (dask_executor.ZYGOTE_MAIN): serve the worker on socket `fd`."""
    serve(Connection(fd))


if __name__ == "__main__":
    serve_fd(int(sys.argv[1]))

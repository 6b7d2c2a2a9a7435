"""The warm in-process kernel: papermill's engine plug-in for a batch child.

papermill runs the notebook on an in-process IPython kernel (`WarmEngine`, made the child's
default engine by `use_warm_engine`), set up as ipykernel's kernel application does it, with
a per-cell alarm (`_cell_guard`, `CellTimeout`) because nbclient cannot interrupt it. `_CHILD`
holds the child's state the kernel reads (pipe to the parent, exact per-cell seconds)."""

from __future__ import annotations

import asyncio
import atexit
import math
import os
import signal
import sys
import time
from queue import Empty, Queue
from typing import Any, Literal

WARM_ENGINE = "auditlib-inprocess"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


class CellTimeout(BaseException):
    """Raised inside a cell that runs longer than the per-cell timeout (in-process kernel).

    A BaseException, like KeyboardInterrupt: a cell's `except Exception` does not swallow it,
    and the alarm is re-armed every second until the cell gives up.
    """


_CHILD: dict[str, Any] = {}
_HELD = [0]     # > 0 while the kernel hands a message over: the per-cell alarm waits (see _alarm_held)


class _alarm_held:
    """The per-cell alarm raises nothing inside: a message being handed over is never cut in half.

    Why: the warm kernel sends its output on the cell's own thread (no IOPub thread), so an alarm
    there would lose the printed text or the display being delivered. The alarm is re-armed every
    second, so a held one raises at most a second later."""

    def __enter__(self) -> None:
        _HELD[0] += 1

    def __exit__(self, *exc) -> Literal[False]:
        _HELD[0] -= 1
        return False


def _notify(kind: str, what: str) -> None:
    conn = _CHILD.get("conn")
    if conn is not None:
        try:
            conn.send((kind, what, time.monotonic()))
        except (OSError, ValueError):
            pass


def _sigmask(how: str, signals):
    """pthread_sigmask ("block", "unblock", "set") where the platform has it (not on Windows)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    mode = {"block": signal.SIG_BLOCK, "unblock": signal.SIG_UNBLOCK, "set": signal.SIG_SETMASK}[how]
    return signal.pthread_sigmask(mode, signals)


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
    from ipykernel.inprocess.ipkernel import InProcessInteractiveShell, InProcessKernel
    from ipykernel.inprocess.manager import InProcessKernelManager
    from ipykernel.iostream import IOPubThread, OutStream
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_client.session import Session
    from traitlets import Float, Type, default
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

    class QuietOutStream(OutStream):
        """The kernel's stdout/stderr: a flush with nothing written since the last one returns at once.

        Why: IPython flushes both streams before every display() and the kernel after every cell
        (184 flushes per report; with an IOPub thread each one waited for it). A written stream
        flushes as before, so its text still comes before the display that follows it."""

        _written = False

        def write(self, string: str) -> int | None:  # type: ignore[override]
            self._written = True
            return super().write(string)

        def flush(self) -> None:
            if self._written:
                self._written = False       # before the flush: a write during it flushes next time
                with _alarm_held():         # the text taken from the buffer is sent whole
                    super().flush()

    class InlineIOPub(IOPubThread):
        """ipykernel's IOPub object, never started: each message is sent at once, on the thread that
        publishes it (IOPubThread.schedule runs it directly when its thread is not running)."""

        def send_multipart(self, *args, **kwargs):
            with _alarm_held():
                return super().send_multipart(*args, **kwargs)

        def stop(self):
            super().stop()          # returns at once: the thread never ran
            # what the thread's end does: its event loop and event socket closed (no fds left
            # behind when one process runs several reports)
            self.io_loop.close(all_fds=True)

    class WarmKernel(InProcessKernel):
        """An in-process kernel whose print() output reaches the cell it belongs to."""

        @default("iopub_thread")
        def _default_iopub_thread(self):
            # Not started: ipykernel then sends each IOPub message at once, on the thread that
            # publishes it (IOPubThread.schedule). Why: the in-process client is in this very
            # process, so the thread only added a hand-over per message (~170 per report) and
            # made nbclient poll for what the cell had already published.
            return InlineIOPub(self._underlying_iopub_socket, session=self.session)

        @default("stdout")
        def _default_stdout(self):
            return QuietOutStream(self.session, self.iopub_thread, "stdout", watchfd=False)

        @default("stderr")
        def _default_stderr(self):
            return QuietOutStream(self.session, self.iopub_thread, "stderr", watchfd=False)

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
            assert self.kernel is not None, "the in-process kernel has not been started"
            reply = self.session.msg("kernel_info_reply", {"status": "ok", **self.kernel.kernel_info}, parent=msg)
            self.shell_channel.call_handlers(reply)
            return msg["header"]["msg_id"]

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            msg_id = self.kernel_info()
            while True:
                msg = await self.shell_channel.get_msg(timeout=timeout)
                if msg["parent_header"].get("msg_id") == msg_id:
                    return

        # nbclient awaits execute(): the override is asynchronous where jupyter_client's is not.
        async def execute(self, code, silent=False, store_history=True,  # type: ignore[override]
                          user_expressions=None, allow_stdin=None, stop_on_error=True) -> str:
            content = dict(code=code, silent=silent, store_history=store_history,
                           user_expressions=user_expressions or {}, allow_stdin=False,
                           stop_on_error=stop_on_error)
            msg = self.session.msg("execute_request", content)
            assert self.kernel is not None, "the in-process kernel has not been started"
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

        @default("session")
        def _default_session(self):
            # No key, so no HMAC over each message (ipykernel's in-process key is a public
            # constant): the kernel and its client are this process, nothing to authenticate.
            return Session(key=b"", parent=self)

        def start_kernel(self, **kwargs):
            cwd = kwargs.get("cwd")
            if cwd:
                os.chdir(cwd)
            _inline_backend_default()
            config = Config()
            config.HistoryManager.hist_file = ":memory:"
            # IPython's shell is a process-wide singleton. A kernel started after another in this
            # process (a second `run` from Python, a batch forked after a `run`) would get the old
            # shell: the first notebook's globals, and display hooks tied to the old kernel.
            InProcessInteractiveShell.clear_instance()
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
        self.old: Any = None
        self.active = False
        self.fired = False

    def __enter__(self):
        _notify("cell", "start")       # the parent's watchdog: in a cell since now
        self.active = True
        if self.timeout and self.timeout > 0:
            timeout = self.timeout

            def on_alarm(signum, frame):
                if self.active and not _HELD[0]:
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


class in_process_kernel:
    """`auditlib run` in one process: the report notebook on the in-process kernel, not a kernel process.

    Why: a kernel process imports pandas, matplotlib and auditlib a second time and starts in
    about a second; a single run pays both. Inside, papermill's default engine is the warm one
    (with the per-cell alarm); on leaving, papermill's engines, the working directory and the
    per-cell seconds are put back. Only where the alarm works (the main thread, setitimer) and
    outside an IPython session; elsewhere it changes nothing (a regular kernel is used).
    """

    def __init__(self, cell_timeout: float):
        self.cell_timeout = float(cell_timeout)
        self.saved: dict | None = None

    def __enter__(self) -> "in_process_kernel":
        import threading

        if not (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()):
            return self
        ipython = sys.modules.get("IPython")
        if ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None:
            return self
        from papermill.engines import papermill_engines

        self.saved = dict(papermill_engines._engines)
        self.cwd = os.getcwd()
        self.backend = os.environ.get("MPLBACKEND")
        _CHILD["cell_timeout"] = self.cell_timeout
        use_warm_engine()
        return self

    def __exit__(self, *exc) -> Literal[False]:
        if self.saved is None:
            return False
        from papermill.engines import papermill_engines

        papermill_engines._engines.clear()
        papermill_engines._engines.update(self.saved)
        _CHILD.pop("cell_timeout", None)
        os.chdir(self.cwd)
        from IPython.core.interactiveshell import InteractiveShell

        if InteractiveShell.initialized():
            # IPython's own end of a session, now rather than at the process's exit: the notebook's
            # namespace (frames, figures) is released here, and the exit does not pay for it later
            shell = InteractiveShell.instance()
            shell.atexit_operations()
            atexit.unregister(shell.atexit_operations)
        InteractiveShell.clear_instance()    # no IPython session left behind (batch's _inside_ipython)
        if self.backend is None:
            os.environ.pop("MPLBACKEND", None)
        return False

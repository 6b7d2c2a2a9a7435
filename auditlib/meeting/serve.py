"""Serve the meeting notebook with Voilà on localhost: the client sees no code.

The notebook is parameterised with papermill (the same mechanism as the report) into a private
temporary folder, so the parameters reach the kernel without touching the repository's copy.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from auditlib.config import REPO_ROOT
from auditlib.errors import AuditError

NOTEBOOK = REPO_ROOT / "notebooks" / "interpretation_meeting.ipynb"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def prepare_notebook(parameters: Mapping[str, Any], folder: Path) -> Path:
    """The meeting notebook with `parameters` injected, written into `folder`."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(NOTEBOOK))          # with the metadata papermill expects
    nb = parameterize_notebook(nb, dict(parameters), kernel_name="python3", language="python")
    out = folder / NOTEBOOK.name
    nbformat.write(nb, out)
    return out


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    folder: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def start(parameters: Mapping[str, Any], *, port: int | None = None, wait: float = 60.0,
          log=None) -> Server:
    """Start Voilà on 127.0.0.1 serving the parameterised notebook; return when it answers."""
    folder = Path(tempfile.mkdtemp(prefix="auditlib-meeting-"))
    try:
        nb = prepare_notebook(parameters, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if port and not port_free(port):
        shutil.rmtree(folder, ignore_errors=True)
        raise AuditError(f"port {port} on 127.0.0.1 is in use; give another --port or none (a free one)")
    port = port or free_port()
    # port_retries=0: Voilà must not move to another port than the one printed
    cmd = [sys.executable, "-m", "voila", str(nb), f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1",
           "--Voila.port_retries=0", "--show_tracebacks=False", f"--Voila.root_dir={folder}"]
    proc = subprocess.Popen(cmd, cwd=folder, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    server = Server(proc, url, folder)
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AuditError(f"Voilà ended at start-up with exit code {proc.returncode} "
                                 f"(is port {port} already in use?)")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    return server
            except OSError:
                time.sleep(0.3)
        raise AuditError(f"Voilà did not answer on {url} within {wait:.0f} s")
    except BaseException:                 # Ctrl-C or a failed start: leave nothing running
        server.stop()
        raise

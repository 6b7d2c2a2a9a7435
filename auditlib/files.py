"""Writing files safely: a failure never leaves a half-written file over a good one."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any, Callable, Literal


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Let `write` fill a temporary file beside `path`, then rename it into place.

    The temporary file is on the same filesystem, so the rename is atomic; it gets the
    permissions an ordinary new file would (mkstemp makes it private).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    mask = os.umask(0o022)
    os.umask(mask)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """UTF-8 text with '\\n' line ends, written atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"))


# --- folders the outputs go to ------------------------------------------------------------------

# Names the outputs folder uses itself: a client folder by one of these names would collide.
RESERVED_OUTPUT_NAMES = frozenset({"index.html", "portfolio.json"})


def reserved_name_problem(client_id: str) -> str | None:
    """Why a client id cannot have its own folder under outputs/, or None when it can."""
    if client_id.lower() in RESERVED_OUTPUT_NAMES:
        return (f"the client id {client_id!r} is the name of the portfolio's own file under outputs/ "
                f"({', '.join(sorted(RESERVED_OUTPUT_NAMES))}); rename the client folder")
    if client_id.lower().endswith((".lock", ".tmp", ".old", ".failed")):
        return (f"the client id {client_id!r} ends like a working file of the outputs folder "
                "(.lock, .tmp, .old, .failed); rename the client folder")
    return None


def writable_dir(path: str | Path, what: str = "outputs folder") -> Path:
    """Create `path` if needed and prove it writable; AuditError naming the folder otherwise.

    Why: a read-only outputs folder, or a file where the folder should be, must end in one clear
    message before any work starts, not in a traceback from deep inside a report run."""
    from auditlib.errors import AuditError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise AuditError(f"the {what} {path} is a file, not a folder; choose another path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditError(f"cannot create the {what} {path}: {exc.strerror or exc}") from None
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise AuditError(f"the {what} {path} cannot be written to: {exc.strerror or exc}") from None
    return path


# --- text shown in a terminal ----------------------------------------------------------------------

# C0 and C1 controls except tab and newline, DEL, lone surrogates, and the bidirectional
# overrides that can make a terminal line read differently from what it holds.
_NOT_INERT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """`text` safe to print in a terminal: escape sequences, bells, carriage returns and lone
    surrogates are shown as \\x1b, \\x07, \\ud83c instead of acting on the terminal."""
    return _NOT_INERT.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                          else f"\\u{ord(m.group()):04x}", str(text))


# --- one writer per outputs folder -------------------------------------------------------------------

LOCK_NAME = ".auditlib.lock"


class outputs_lock:
    """Hold the outputs folder's lock while reports, the index or clean-up are written there.

    Why: a second batch (or a run) starting in the same folder removes build folders it takes
    for leftovers of a killed run, and both write the index: two writers destroy each other's
    work. The lock is an OS file lock (released by the OS when the holder dies, so a killed run
    leaves no stale lock); a second writer is refused at once with a message, never kept waiting.
    """

    def __init__(self, outputs_dir: str | Path):
        self.path = Path(outputs_dir) / LOCK_NAME
        self._lock: Any = None          # a filelock.FileLock once entered

    def __enter__(self) -> "outputs_lock":
        from filelock import FileLock, Timeout

        from auditlib.errors import AuditError

        writable_dir(self.path.parent)
        self._lock = FileLock(str(self.path), timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            raise AuditError(f"another auditlib batch or run is writing to {self.path.parent} (it holds "
                             f"{self.path.name}); wait until it has finished, or use another --outputs "
                             "folder") from None
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        if self._lock is not None:
            self._lock.release()
        return False


# --- a failed notebook of sensible size ------------------------------------------------------------

MAX_OUTPUT_CHARS = 20_000


def trim_outputs(nb, max_chars: int = MAX_OUTPUT_CHARS) -> int:
    """Cut every cell output text longer than `max_chars` to its head and tail, saying how much
    was cut; returns the number of outputs cut.

    Why: a cell stopped by its timeout may have printed for minutes (or a loop may have filled
    its output); the failed notebook is kept to show where and why, not megabytes of output."""
    half = max_chars // 2

    def cut(text: str) -> str:
        return (text[:half] + f"\n... [{len(text) - 2 * half:,} characters cut from this failed run's output] ...\n"
                + text[-half:])

    count = 0
    for cell in nb.get("cells", []):
        outputs = cell.get("outputs") or []
        merged: list = []
        for out in outputs:      # a loop of print() calls: one stream output each, merged first
            if (merged and out.get("output_type") == "stream" and merged[-1].get("output_type") == "stream"
                    and merged[-1].get("name") == out.get("name")):
                merged[-1]["text"] = merged[-1].get("text", "") + out.get("text", "")
            else:
                merged.append(out)
        if len(merged) != len(outputs):
            cell["outputs"] = merged
            count += 1
        for out in cell.get("outputs", []) or []:
            if isinstance(out.get("text"), str) and len(out["text"]) > max_chars:
                out["text"] = cut(out["text"])
                count += 1
            for mime, value in list((out.get("data") or {}).items()):
                if isinstance(value, str) and len(value) > max_chars and mime.startswith("text/"):
                    out["data"][mime] = cut(value)
                    count += 1
            tb = out.get("traceback")
            if isinstance(tb, list) and sum(len(t) for t in tb) > max_chars:
                out["traceback"] = tb[:3] + [f"... [{len(tb) - 6} traceback lines cut] ..."] + tb[-3:] \
                    if len(tb) > 6 else [cut("\n".join(tb))]
                count += 1
    return count


# --- a whole folder, swapped in at once -----------------------------------------------------------

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def write_folder(target: str | Path, files: dict[str, bytes]) -> Path:
    """Write `files` (flat names -> bytes) as the folder `target`, swapped in at once.

    Why: a report made elsewhere (a Dask worker) arrives as bytes; its folder must appear whole
    or not at all, and a good earlier one is only replaced by a complete new one. The files go
    into `.<name>.<random>.tmp` beside the target, then the old folder is renamed aside
    (`.<name>.<random>.old`), the new one renamed in and the old one deleted: the names a killed
    batch's clean-up knows (batch/leftovers.py). Names must be plain file names (no path, no '..').
    """

    target = Path(target)
    bad = [n for n in list(files) + [target.name] if not _SAFE_NAME.fullmatch(n) or n in (".", "..")]
    if bad:
        raise ValueError(f"refused file or folder name(s) {', '.join(repr(b) for b in bad[:5])}")
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    mask = os.umask(0o022)
    os.umask(mask)
    try:
        os.chmod(build, 0o777 & ~mask)
        for name, data in files.items():
            (build / name).write_bytes(data)
            os.chmod(build / name, 0o666 & ~mask)
        replace_dir(build, target)
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
    return target


def replace_dir(new: Path, target: Path) -> None:
    """Put folder `new` at `target`: the old one renamed aside first, deleted only after the swap."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{new.name.strip('.')}.old")
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --- private temporary folders that outlive a killed owner ----------------------------------------------

# A batch's, a Dask worker's or a browser's temporary folder holds what a report needs (a worker's holds a
# copy of the benchmark: every organisation's answers; a batch's, the children's logs; a browser's, its
# profile and the socket to it). Its owner removes it at the
# end; an owner killed before that cannot. OWNER_FILE records the owner, so that the next owner of the
# same kind on the host removes such folders (`remove_orphaned_temp_dirs`).
OWNER_FILE = "owner.json"


def _owner(pid: int) -> dict | None:
    """A process as OWNER_FILE records it: its host (a temporary folder shared between hosts is only
    judged on its own host), pid and start time (a reused pid is another process)."""
    import psutil

    try:
        return {"host": socket.gethostname(), "pid": pid, "started": psutil.Process(pid).create_time()}
    except psutil.Error:
        return None


def owned_temp_dir(prefix: str, kind: str | None = None) -> Path:
    """A new private temporary folder (mode 0700) named `prefix*` that records this process as its
    owner; the folders of its kind (`kind*`, default `prefix*`) whose owner is gone are removed first."""
    remove_orphaned_temp_dirs(kind or prefix)
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / OWNER_FILE).write_text(json.dumps(_owner(os.getpid())), encoding="utf-8")
    return path


def remove_orphaned_temp_dirs(prefix: str, temp_dir: str | Path | None = None) -> list[Path]:
    """Remove this account's temporary folders named `prefix*` whose owner process is gone.

    Only folders with an OWNER_FILE naming a process of this host that no longer runs are removed; a
    folder without one, unreadable, another host's or another account's is left alone. Returns what
    was removed.
    """
    removed = []
    for folder in sorted(Path(temp_dir or tempfile.gettempdir()).glob(prefix + "*")):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            recorded = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
            if not isinstance(recorded, dict) or recorded.get("host") != socket.gethostname():
                continue
            if _owner(int(recorded["pid"])) == recorded:
                continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed

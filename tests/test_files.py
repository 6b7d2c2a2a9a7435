"""Safe files and folders: writable outputs, one writer per outputs folder, inert terminal text,
reserved names, failed notebooks of sensible size."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from auditlib import files
from auditlib.errors import AuditError
from auditlib.files import inert, outputs_lock, reserved_name_problem, trim_outputs, writable_dir


def test_an_outputs_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(AuditError, match="is a file, not a folder"):
        writable_dir(tmp_path / "out")


def test_an_outputs_folder_that_cannot_be_written_is_refused(tmp_path, monkeypatch):
    # as root, chmod cannot make a folder read-only: the probe write fails as it would on a read-only disk
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(AuditError, match="cannot be written to: Permission denied"):
        writable_dir(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_outputs_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(AuditError, match="cannot be written to"):
            writable_dir(ro)
    finally:
        ro.chmod(0o755)


def test_one_writer_per_outputs_folder(tmp_path):
    with outputs_lock(tmp_path):
        with pytest.raises(AuditError, match="another auditlib batch or run is writing to"):
            with outputs_lock(tmp_path):
                pass
    with outputs_lock(tmp_path):      # released
        pass


def test_a_lock_held_by_another_process_is_refused_and_freed_when_it_dies(tmp_path):
    code = ("import sys, time\nfrom auditlib.files import outputs_lock\n"
            "with outputs_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(AuditError, match="another auditlib batch or run"):
            with outputs_lock(tmp_path):
                pass
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 5
    while True:   # the OS releases a dead holder's lock: no stale lock file blocks the next run
        try:
            with outputs_lock(tmp_path):
                break
        except AuditError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


@pytest.mark.parametrize("name", ["index.html", "portfolio.json", "Index.HTML", "x.failed", "y.lock"])
def test_reserved_client_ids(name):
    assert reserved_name_problem(name)


def test_ordinary_client_ids_are_not_reserved():
    assert reserved_name_problem("nl-delta-water") is None
    assert reserved_name_problem("index") is None


def test_inert_shows_escapes_instead_of_acting_on_the_terminal():
    text = "A \x1b]0;pwned\x07 \x1b[2J \x9b31m \r over \ud83c \u202e txt\nnext\ttab"
    shown = inert(text)
    assert not any(ch in shown for ch in "\x1b\x07\x9b\r\u202e\ud83c")
    assert "\\x1b]0;pwned\\x07" in shown and "\\ud83c" in shown and "\\u202e" in shown
    assert shown.endswith("\nnext\ttab")
    shown.encode("utf-8")      # printable: no lone surrogate left


def test_a_flood_of_output_is_cut_to_head_and_tail():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("while True: print('x')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="line\n" * 2_000_000),
                    nbformat.v4.new_output("error", ename="CellTimeout", evalue="the cell ran longer",
                                           traceback=["frame"] * 50_000)]
    nb.cells = [cell]
    assert trim_outputs(nb) == 2
    text = nbformat.writes(nb)
    assert len(text) < 100_000
    assert "characters cut" in text and "CellTimeout" in text and "the cell ran longer" in text


def test_write_folder_swaps_a_whole_folder_in_and_keeps_the_old_one_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "client" / "2026"
    files.write_folder(target, {"report.html": b"old", "manifest.json": b"{}"})
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "report.html"]
    files.write_folder(target, {"report.html": b"new"})             # replaced as a whole
    assert [p.name for p in target.iterdir()] == ["report.html"] and (target / "report.html").read_bytes() == b"new"

    real = type(target).write_bytes
    calls = []

    def full_disk(self, data):
        calls.append(self.name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(type(target), "write_bytes", full_disk)
    with pytest.raises(OSError):
        files.write_folder(target, {"report.html": b"partial", "scores.xlsx": b"x"})
    monkeypatch.undo()
    assert (target / "report.html").read_bytes() == b"new"            # the good folder is untouched
    assert [p.name for p in target.parent.iterdir()] == ["2026"]        # no build folder left behind
    for bad in ("../escape", "sub/file", ".hidden", ""):
        with pytest.raises(ValueError, match="refused"):
            files.write_folder(target, {bad: b"x"})
    assert (target / "report.html").read_bytes() == b"new"


def test_only_an_orphaned_temporary_folder_is_removed(tmp_path):
    """A batch's or a worker's private folder (a worker's holds a copy of the benchmark): the next owner
    of that kind removes one whose owner died without its clean-up, by the host, pid and start time
    recorded in it, and nothing else."""
    import json
    import socket

    from auditlib.files import OWNER_FILE, _owner, owned_temp_dir, remove_orphaned_temp_dirs

    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    here = socket.gethostname()

    def folder(name: str, owner=None, text: str | None = None) -> Path:
        path = tmp_path / f"auditlib-worker-{name}"
        (path / "benchmark").mkdir(parents=True)
        if owner is not None or text is not None:
            (path / OWNER_FILE).write_text(text if text is not None else json.dumps(owner), encoding="utf-8")
        return path

    dead = folder("dead", {"host": here, "pid": exited.pid, "started": 1.0})
    reused = folder("reused", {**_owner(os.getpid()), "started": 1.0})      # the pid now runs another process
    alive = folder("alive", _owner(os.getpid()))
    elsewhere = folder("elsewhere", {"host": here + "-other", "pid": exited.pid, "started": 1.0})
    unmarked, damaged = folder("unmarked"), folder("damaged", text="{not json")
    other = tmp_path / "other-dead"
    other.mkdir()
    (other / OWNER_FILE).write_text(json.dumps({"host": here, "pid": exited.pid, "started": 1.0}), encoding="utf-8")
    (tmp_path / "auditlib-worker-link").symlink_to(other)

    assert remove_orphaned_temp_dirs("auditlib-worker-", tmp_path) == [dead, reused]
    assert not dead.exists() and not reused.exists()
    assert alive.is_dir() and unmarked.is_dir() and damaged.is_dir() and other.is_dir() and elsewhere.is_dir()

    # a new owned folder: private, recording this process, and the orphans of its prefix are gone
    orphan = folder("orphan", {"host": here, "pid": exited.pid, "started": 1.0})
    import tempfile

    real = tempfile.tempdir
    tempfile.tempdir = str(tmp_path)
    try:
        made = owned_temp_dir("auditlib-worker-")
    finally:
        tempfile.tempdir = real
    assert made.parent == tmp_path and (made.stat().st_mode & 0o777) == 0o700
    assert json.loads((made / OWNER_FILE).read_text(encoding="utf-8")) == _owner(os.getpid())
    assert not orphan.exists() and alive.is_dir()

"""`auditlib batch`: failures and hangs never stop the others, --changed-only, the index's links,
Ctrl-C leaves nothing half-written, and no state reaches one client from another.

The end-to-end tests run the real command in a subprocess on small client sets in tmp_path
(HTML only). Their report notebook is a copy of notebooks/audit_report.ipynb with one extra,
clearly named test cell (see TEST_CELL): it hangs for a client whose id ends in '-hang' and
fails a report that can see state left by an earlier client (environment, module state,
matplotlib rcParams, pandas options, notebook globals). The copy is swapped in by setting
`auditlib.report.NOTEBOOK` in the batch process before it forks, so production code carries no
test hook.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from auditlib import batch
from auditlib.report import NOTEBOOK, RunOutcome, sha256_file

from auditlib.testing import DATA

pytestmark = pytest.mark.slow

TEST_CELL = '''# test cell (tests/test_batch.py): no state from an earlier client; '-hang' hangs, '-slow' takes 45 s
import os as _os, sys as _sys, time as _time
import matplotlib as _mpl
import pandas as _pd
_leaks = [name for name, leaked in (
    ("environment", "AUDITLIB_TEST_LEAK" in _os.environ),
    ("module state", hasattr(_sys, "_auditlib_test_leak")),
    ("matplotlib rcParams", _mpl.rcParams["hatch.linewidth"] != _mpl.rcParamsDefault["hatch.linewidth"]),
    ("pandas options", _pd.get_option("display.max_colwidth") != 50),
    ("notebook globals", "_leak_marker" in globals()),
) if leaked]
assert not _leaks, "state leaked from an earlier client: " + ", ".join(_leaks)
_os.environ["AUDITLIB_TEST_LEAK"] = client_id
_sys._auditlib_test_leak = client_id
_mpl.rcParams["hatch.linewidth"] = 7.0
_pd.set_option("display.max_colwidth", 7)
_leak_marker = client_id
if client_id.endswith("-hang"):
    _time.sleep(3600)
if client_id.endswith("-slow"):
    _time.sleep(45)
'''

# Runs the CLI with the test notebook in place of the shipped one.
RUNNER = """
import sys
from pathlib import Path
import auditlib.report as report
report.NOTEBOOK = Path(sys.argv[1])
from auditlib.cli import main
sys.exit(main(sys.argv[2:]))
"""


def notebook_with_test_cell(folder: Path) -> Path:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "validate_parameters" in c.source)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(TEST_CELL, metadata={"tags": ["remove_cell"]}))
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "audit_report.ipynb"
    nbformat.write(nb, out)
    return out


def make_clients(folder: Path, specs: dict[str, str]) -> Path:
    """Client folders: id -> example client copied (a '+broken' suffix breaks its questionnaire)."""
    folder.mkdir(parents=True, exist_ok=True)
    for cid, source in specs.items():
        broken = source.endswith("+broken")
        shutil.copytree(DATA / "clients" / source.removesuffix("+broken"), folder / cid)
        if broken:
            q = folder / cid / "questionnaire.yaml"
            text = q.read_text(encoding="utf-8")
            text = text.replace("country: ES", "country: XX").replace("sme_share: 78", "sme_share: 250")
            q.write_text(text, encoding="utf-8")
    return folder


def run_cli(args: list[str], cwd: Path, notebook: Path | None = None, timeout: float = 240,
            extra_env: dict[str, str] | None = None, **popen) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", RUNNER, str(notebook)] if notebook else [sys.executable, "-m", "auditlib"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITLIB_") and k != "MPLBACKEND"}
    env.update(extra_env or {})
    return subprocess.run(cmd + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, **popen)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if "src" in attrs:
            self.srcs.append(attrs["src"])
        self.scripts += tag == "script"


def assert_complete(report_dir: Path) -> None:
    """A report folder is complete: manifest.json exists and every output matches its hash."""
    manifest = json.loads((report_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"], report_dir
    for name, digest in manifest["outputs"].items():
        assert sha256_file(report_dir / name) == digest, f"{report_dir / name} does not match its manifest"


def leftovers(outputs: Path) -> list[Path]:
    return [p for p in outputs.rglob(".*") if p.name.endswith((".tmp", ".old"))]


# --- end to end ---------------------------------------------------------------------------------

def test_batch_with_a_broken_and_a_hanging_client(tmp_path):
    """One batch, one worker (so clients run one after another in it): a broken input and a hanging
    cell between two good clients. (One test, not a module fixture: under xdist a module fixture
    would run once per worker.)"""
    batch_run = _failing_batch(tmp_path)
    check_failing_and_hanging_clients_do_not_stop_the_others(batch_run)
    check_no_state_leaks_from_one_client_to_the_next(batch_run)
    check_index_links_every_report_and_shows_failures(batch_run)


def _failing_batch(root: Path):
    clients = make_clients(root / "clients", {"broken-input": "es-huerta-food+broken",
                                              "es-huerta-food": "es-huerta-food",
                                              "m-hang": "pl-wisla-ict",
                                              "no-fjord-maritime": "no-fjord-maritime"})
    notebook = notebook_with_test_cell(root / "nb")
    t0 = time.monotonic()
    proc = run_cli(["batch", "--clients-dir", str(clients), "--outputs", str(root / "out"), "--workers", "1",
                    "--timeout", "8", "--formats", "html"], cwd=root, notebook=notebook)
    return root, proc, time.monotonic() - t0


def check_failing_and_hanging_clients_do_not_stop_the_others(failing_batch):
    root, proc, seconds = failing_batch
    out = root / "out"
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = {ln.split()[0]: ln for ln in proc.stdout.splitlines() if ln.strip() and not ln.startswith("-")}
    assert lines["client"].split()[:4] == ["client", "status", "seconds", "reason"]
    assert lines["es-huerta-food"].split()[1] == "ok"
    assert lines["no-fjord-maritime"].split()[1] == "ok"      # after the hang, with the same single worker
    assert lines["broken-input"].split()[1] == "failed" and "QuestionnaireError" in lines["broken-input"]
    assert lines["m-hang"].split()[1] == "failed" and "timeout" in lines["m-hang"].lower()
    assert "2 ok, 2 failed" in proc.stdout
    assert seconds < 120                                       # the hang was cut at its 8 s timeout
    for cid in ("es-huerta-food", "no-fjord-maritime"):
        report = out / cid / "2026"
        assert (report / "report.html").is_file() and (report / "report.ipynb").is_file()
        assert not (report / "report.pdf").exists()               # --formats html
        assert_complete(report)
    # the failures keep their notebook, with the reason
    hang_nb = out / "m-hang" / "2026.failed" / "report.ipynb"
    assert hang_nb.is_file() and "CellTimeout" in hang_nb.read_text(encoding="utf-8")
    assert list((out / "broken-input").glob("*.failed/report.ipynb"))
    assert not leftovers(out)


def check_no_state_leaks_from_one_client_to_the_next(failing_batch):
    # Every report runs TEST_CELL: it fails if it sees what an earlier client's run set. The two
    # good clients ran after other clients in the same batch (one worker) and succeeded.
    root, proc, _ = failing_batch
    assert "state leaked" not in proc.stdout
    for cid in ("es-huerta-food", "no-fjord-maritime"):
        assert (root / "out" / cid / "2026" / "manifest.json").is_file()


def check_index_links_every_report_and_shows_failures(failing_batch):
    root, proc, _ = failing_batch
    out = root / "out"
    index = out / "index.html"
    assert index.is_file() and str(index) in proc.stdout
    html = index.read_text(encoding="utf-8")
    parser = Links()
    parser.feed(html)
    assert parser.scripts == 0 and not parser.srcs
    assert "http://" not in html and "https://" not in html
    assert parser.hrefs
    for href in parser.hrefs:
        url = urlparse(href)
        assert not url.scheme and not url.netloc and not href.startswith("/"), href
        assert (out / unquote(url.path)).is_file(), f"broken link {href}"
    targets = {unquote(h) for h in parser.hrefs}
    for cid in ("es-huerta-food", "no-fjord-maritime"):
        assert f"{cid}/2026/report.html" in targets
    assert "m-hang/2026.failed/report.ipynb" in targets
    assert any(t.startswith("broken-input/") and t.endswith(".failed/report.ipynb") for t in targets)
    assert "CellTimeout" in html and "QuestionnaireError" in html
    data = json.loads((out / "portfolio.json").read_text(encoding="utf-8"))
    rows = {r["client_id"]: r for r in data["clients"]}
    assert rows["es-huerta-food"]["status"] == "ok" and rows["m-hang"]["status"] == "failed"
    figures = rows["es-huerta-food"]["figures"]
    assert set(figures["dimensions"]) == {"structure", "governance", "financing", "services", "interaction",
                                          "achievements"}
    assert figures["highest_ready"] == "bronze" and figures["handles"] > 0


def test_changed_only_skips_unchanged_and_rebuilds_changed(tmp_path):
    clients = make_clients(tmp_path / "clients", {"es-huerta-food": "es-huerta-food",
                                                  "no-fjord-maritime": "no-fjord-maritime"})
    out = tmp_path / "out"
    common = ["batch", "--clients-dir", str(clients), "--outputs", str(out), "--formats", "html", "--timeout", "60"]
    first = run_cli(common, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    kept = out / "es-huerta-food" / "2026" / "manifest.json"
    before = kept.stat().st_mtime_ns
    q = clients / "no-fjord-maritime" / "questionnaire.yaml"
    q.write_text(q.read_text(encoding="utf-8").replace("events_per_year: 32", "events_per_year: 33"),
                 encoding="utf-8")
    assert "events_per_year: 33" in q.read_text(encoding="utf-8")
    second = run_cli(common + ["--changed-only"], cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    status = {ln.split()[0]: ln.split()[1] for ln in second.stdout.splitlines()[2:] if len(ln.split()) > 1}
    assert status["es-huerta-food"] == "skipped"
    assert status["no-fjord-maritime"] == "ok"
    assert kept.stat().st_mtime_ns == before                    # the unchanged report was not touched
    rebuilt = json.loads((out / "no-fjord-maritime" / "2026" / "manifest.json").read_text(encoding="utf-8"))
    assert rebuilt["inputs"]["client/questionnaire.yaml"] == sha256_file(q)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "es-huerta-food/2026/report.html" in html and "no-fjord-maritime/2026/report.html" in html


def test_ctrl_c_keeps_finished_reports_and_leaves_nothing_half_written(tmp_path):
    clients = make_clients(tmp_path / "clients", CTRL_C_CLIENTS)
    notebook = notebook_with_test_cell(tmp_path / "nb")
    out = tmp_path / "out"
    press_ctrl_c_after_the_first_report(["batch", "--clients-dir", str(clients), "--outputs", str(out),
                                         "--workers", "1", "--timeout", "300", "--formats", "html"],
                                        tmp_path, notebook, out)


CTRL_C_CLIENTS = {"a-first": "es-huerta-food", "b-hang": "pl-wisla-ict",
                  "c-third": "no-fjord-maritime", "d-slow": "nl-delta-water"}


def press_ctrl_c_after_the_first_report(args: list[str], cwd: Path, notebook: Path, out: Path) -> None:
    """Run a batch of CTRL_C_CLIENTS, press Ctrl-C a second after a-first is written (b-hang is then
    in its endless cell): exit 130, a-first complete, b-hang and d-slow absent, whatever else is
    there whole. d-slow's cell takes 45 s, so on more than one worker it cannot have finished by the
    press however fast the reports before it ran; a batch that waited for it would write it."""
    cmd = [sys.executable, "-c", RUNNER, str(notebook), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITLIB_") and k != "MPLBACKEND"}
    # A session of its own, so the test can press Ctrl-C the way a terminal does: SIGINT to the group.
    # SIGINT back to its default in the child: a suite started with SIGINT ignored (nohup, a
    # background job, some CI runners) would pass SIG_IGN on, and Python then installs no
    # KeyboardInterrupt handler, so Ctrl-C would not reach the batch at all.
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 180
        while not (out / "a-first" / "2026" / "manifest.json").is_file():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the first report never appeared"
            time.sleep(0.2)
        time.sleep(1.0)                                           # b-hang is now in its (endless) cell
        pressed = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=90)
        stopped_in = time.monotonic() - pressed
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stdout + stderr
    assert stopped_in < 60                                        # the hanging cell did not hold it up
    assert "Traceback" not in stderr
    assert_complete(out / "a-first" / "2026")
    for folder in out.glob("*/*"):
        if folder.is_dir() and not folder.name.endswith(".failed"):
            assert_complete(folder)                                # whatever is there is whole
    assert not (out / "b-hang" / "2026").exists()
    assert not (out / "d-slow").exists() or not list((out / "d-slow").glob("2026*"))
    assert not leftovers(out)
    assert "interrupted" in stdout and "a-first" in stdout


# --- the scheduler, with stand-in report makers (no notebooks) ------------------------------------

def _outcome(job, status="ok", error=None):
    return {"outcome": RunOutcome(job.client_dir.name, "2026", status, None, None, error, 0.1), "figures": None}


def _stand_in(job):
    name = job.client_dir.name
    if name == "crash":
        os._exit(3)
    if name == "raises":
        raise RuntimeError("boom")
    if name == "code-hash":
        from auditlib.report.manifest import code_hash

        return _outcome(job, "failed", f"code {code_hash()}")
    if name == "gc-threshold":
        import gc
        return _outcome(job, "failed", f"thresholds {gc.get_threshold()}")
    if name == "stuck-in-c":
        with batch.kernel._cell_guard(job.cell_timeout):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})   # as code stuck in C: no alarm
            time.sleep(60)
    if name == "slow-cell":
        with batch.kernel._cell_guard(job.cell_timeout):
            try:
                time.sleep(60)
            except batch.CellTimeout as exc:
                return _outcome(job, "failed", f"cell 3 (analysis): CellTimeout: {exc}")
    return _outcome(job)


def test_a_batch_removes_the_logs_folder_a_killed_batch_left(tmp_path, monkeypatch):
    """The children's logs live in a private temporary folder: its batch removes it at the end, and a
    batch killed before that leaves it to the next batch (files.owned_temp_dir)."""
    import socket
    import tempfile

    from auditlib.batch.orchestrate import LOGS_PREFIX
    from auditlib.files import OWNER_FILE

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    killed = tmp_path / "tmp" / f"{LOGS_PREFIX}killed"
    killed.mkdir()
    (killed / "client.log").write_text("a client's traceback", encoding="utf-8")
    (killed / OWNER_FILE).write_text(json.dumps({"host": socket.gethostname(), "pid": exited.pid, "started": 1.0}),
                                     encoding="utf-8")
    (tmp_path / "clients" / "ok-1").mkdir(parents=True)
    result = batch.run_batch([tmp_path / "clients" / "ok-1"], workers=1, outputs_dir=tmp_path / "out",
                             runner=_stand_in, warm=True, progress=False, write_index=False)
    assert result.exit_code == 0
    assert list((tmp_path / "tmp").glob(f"{LOGS_PREFIX}*")) == []


def test_scheduler_survives_crashes_errors_and_stuck_workers(tmp_path):
    names = ["crash", "ok-1", "raises", "slow-cell", "stuck-in-c", "ok-2"]
    for n in names:
        (tmp_path / "clients" / n).mkdir(parents=True)
    t0 = time.monotonic()
    result = batch.run_batch([tmp_path / "clients" / n for n in names], workers=2, cell_timeout=0.5,
                             outputs_dir=tmp_path / "out", runner=_stand_in, warm=True, progress=False,
                             write_index=False, kill_grace=1.0)
    assert time.monotonic() - t0 < 30
    by = {r.client_id: r for r in result.results}
    assert [r.client_id for r in result.results] == names
    assert by["ok-1"].status == by["ok-2"].status == "ok"
    assert by["crash"].status == "failed" and "exit code 3" in by["crash"].reason
    assert by["raises"].status == "failed" and "RuntimeError: boom" in by["raises"].reason
    assert by["slow-cell"].status == "failed" and "per-cell timeout of 0.5 s" in by["slow-cell"].reason
    assert by["stuck-in-c"].status == "failed" and "killed" in by["stuck-in-c"].reason
    assert result.exit_code == 1
    table = batch.summary_table(result.results)
    assert table.splitlines()[0].split() == ["client", "status", "seconds", "reason"]
    assert "2 ok, 4 failed" in table


def test_a_child_collects_its_young_objects_rarely(tmp_path):
    """A report child runs with the cold run's GC thresholds (the warm parent froze the rest before forking)."""
    import gc

    from auditlib.startup import FEW_COLLECTIONS

    (tmp_path / "clients" / "gc-threshold").mkdir(parents=True)
    before = gc.get_threshold()
    result = batch.run_batch([tmp_path / "clients" / "gc-threshold"], workers=1, outputs_dir=tmp_path / "out",
                             runner=_stand_in, warm=True, progress=False, write_index=False)
    assert result.results[0].reason == f"thresholds {FEW_COLLECTIONS}"
    assert FEW_COLLECTIONS != before and gc.get_threshold() == before      # the parent's own are its own


def test_a_child_names_the_code_its_warm_parent_imported(tmp_path, monkeypatch):
    """A warm child's manifest hashes the code the parent imported (warm_up took its hash), without
    listing and hashing the package's files again; the parent's own hash follows the files."""
    from auditlib.batch import local
    from auditlib.report import manifest

    (tmp_path / "clients" / "code-hash").mkdir(parents=True)
    monkeypatch.setitem(local._LOADED, "code_hash", "what-the-parent-imported")
    monkeypatch.setattr(manifest, "_files", lambda folder: pytest.fail("the child listed files again"))
    result = batch.run_batch([tmp_path / "clients" / "code-hash"], workers=1, outputs_dir=tmp_path / "out",
                             runner=_stand_in, warm=True, progress=False, write_index=False)
    assert result.results[0].reason == "code what-the-parent-imported"
    monkeypatch.undo()
    assert manifest.code_hash() not in ("what-the-parent-imported", "")       # not this process's


def test_client_folders_selection(tmp_path):
    for n in ("b", "a", ".hidden", "_skip"):
        (tmp_path / n).mkdir()
    assert [p.name for p in batch.client_folders(clients_dir=tmp_path)] == ["a", "b"]
    assert [p.name for p in batch.client_folders(["b"], clients_dir=tmp_path)] == ["b"]
    assert [p.name for p in batch.client_folders(folder=tmp_path)] == ["a", "b"]
    with pytest.raises(batch.AuditError, match="no client folder"):
        batch.client_folders(["nope"], clients_dir=tmp_path)
    with pytest.raises(batch.AuditError, match="no clients folder"):
        batch.client_folders(folder=tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a").mkdir()
    (tmp_path / "other" / "c").mkdir()
    assert [p.name for p in batch.client_folders(["c"], folder=tmp_path / "other", clients_dir=tmp_path)] == ["c"]
    with pytest.raises(batch.AuditError, match="share the id a"):
        batch.client_folders(["a", str(tmp_path / "other" / "a")], clients_dir=tmp_path)


def test_leftovers_removed_and_a_report_set_aside_mid_swap_restored(tmp_path):
    client = tmp_path / "out" / "acme"
    (client / ".2026.abc123.tmp").mkdir(parents=True)
    (client / ".2026.abc123.tmp" / "report.ipynb").write_text("{}")
    aside = client / ".2026.2026.xyz.tmp.old"                  # the good report, renamed aside
    aside.mkdir()
    (aside / "manifest.json").write_text(json.dumps({"engagement": "2026"}))
    (tmp_path / "out" / ".index.html.q1.tmp").write_text("partial")
    (client / "2025").mkdir()                                  # a report: never touched
    other = tmp_path / "out" / "other" / ".2026.zzz.tmp"       # another client's run: not ours
    other.mkdir(parents=True)
    batch.remove_temp_leftovers(tmp_path / "out", ["acme"])
    assert (client / "2026" / "manifest.json").is_file()       # restored, not deleted
    assert not (client / ".2026.abc123.tmp").exists() and not aside.exists()
    assert not (tmp_path / "out" / ".index.html.q1.tmp").exists()
    assert (client / "2025").is_dir() and other.is_dir()


def _what_the_child_wrote(pid: int, reader: int, writer: int) -> str:
    """A forked child's message on the pipe (read to its end), once the child has exited with 0."""
    os.close(writer)
    _, status = os.waitpid(pid, 0)
    chunks = []
    while chunk := os.read(reader, 65536):
        chunks.append(chunk)
    os.close(reader)
    message = b"".join(chunks).decode()
    assert os.waitstatus_to_exitcode(status) == 0, message
    return message


def test_warm_kernel_runs_a_notebook_like_a_regular_kernel(tmp_path):
    """stdout, rich output, errors and the per-cell timeout on the in-process kernel (in a child)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata.tags = ["parameters"]
    nb.cells = [params,
                nbformat.v4.new_code_cell("import os, sys\nprint('out', x)\nprint('err', file=sys.stderr)\n"
                                          "os.getcwd()"),
                nbformat.v4.new_code_cell("from IPython.display import HTML\ndisplay(HTML('<b>x</b>'))\n"
                                          "import matplotlib\nmatplotlib.get_backend()"),
                nbformat.v4.new_code_cell("print('before')\ndisplay(HTML('<i>shown</i>'))\ndisplay(HTML('<i>again</i>'))\n"
                                          "print('after')"),
                nbformat.v4.new_code_cell("import time\nwhile True:\n    try:\n        time.sleep(5)\n"
                                          "    except Exception:\n        pass   # swallowing does not help")]
    src = tmp_path / "in.ipynb"
    nbformat.write(nb, src)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: like a batch worker
        code = 1
        try:
            import papermill

            batch.use_warm_engine()
            try:
                papermill.execute_notebook(str(src), str(tmp_path / "out.ipynb"), parameters={"x": 42},
                                           cwd=str(tmp_path), execution_timeout=3, progress_bar=False)
            except papermill.PapermillExecutionError as exc:
                os.write(writer, f"{exc.ename}|{exc.evalue}".encode())
                code = 0
        finally:
            os._exit(code)
    message = _what_the_child_wrote(pid, reader, writer)
    assert message.startswith("CellTimeout|") and "3 s" in message   # 3 s: a loaded machine runs cell 2 in 1 s
    done = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    cells = {c.source.split("\n")[0]: c for c in done.cells if c.cell_type == "code"}
    outs = cells["import os, sys"].outputs
    streams = {o.name: o.text for o in outs if o.output_type == "stream"}
    assert streams == {"stdout": "out 42\n", "stderr": "err\n"}      # print() lands in its own cell
    assert str(tmp_path) in outs[-1].data["text/plain"]                # papermill's cwd
    order = [o.get("text") or o.data["text/html"] for o in cells["print('before')"].outputs]
    assert order == ["before\n", "<i>shown</i>", "<i>again</i>", "after\n"]   # text before the display after it
    rich = cells["from IPython.display import HTML"].outputs
    assert rich[0].data["text/html"] == "<b>x</b>"
    assert "inline" in rich[1].data["text/plain"]        # the inline backend, as ipykernel sets it


def test_warm_kernel_hands_each_message_over_at_once_unsigned(tmp_path):
    """The warm kernel runs no IOPub thread: ipykernel then sends each message on the thread that
    publishes it, so a cell's messages are all there when execute() returns, in order. Fails if
    ipykernel starts the thread itself or stops sending at once without it (the in-process client
    would then wait for messages that never come). Its session has no key: no HMAC per message."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: the kernel's shell is a process-wide singleton
        code = 1
        try:
            import asyncio

            from auditlib.batch.kernel import kernel_manager_class

            km = kernel_manager_class()(cell_timeout=0.0)
            km.start_kernel(cwd=str(tmp_path))
            kc = km.client()
            kc.start_channels()
            asyncio.run(kc.execute("from IPython.display import HTML, display\nprint('before')\n"
                                   "display(HTML('<b>x</b>'))\nprint('after')"))
            seen = []
            while kc.iopub_channel.msg_ready():
                m = kc.iopub_channel._queue.get_nowait()
                seen.append(m["header"]["msg_type"] + ":" + (m["content"].get("execution_state")
                                                             or m["content"].get("text", "").strip()
                                                             or m["content"].get("data", {}).get("text/html", "")))
            result = {"seen": seen, "thread": km.kernel.iopub_thread.thread.is_alive(),
                      "key": km.session.key.decode(), "signature": "", "reply": kc.shell_channel.msg_ready()}
            iopub = km.kernel.iopub_thread
            km.shutdown_kernel()
            result["closed"] = iopub.io_loop.asyncio_loop.is_closed()   # its fds: none left behind
            os.write(writer, json.dumps(result).encode())
            code = 0
        finally:
            os._exit(code)
    result = json.loads(_what_the_child_wrote(pid, reader, writer))
    assert result["thread"] is False and result["key"] == "" and result["reply"] and result["closed"]
    assert result["seen"] == ["status:busy", "execute_input:", "stream:before", "display_data:<b>x</b>",
                              "stream:after", "status:idle"]


def test_the_cell_alarm_waits_while_a_message_is_handed_over():
    """The warm kernel sends its output on the cell's thread: an alarm then must not cut a message
    in half (the printed text would be lost); the cell is stopped by the next one, a second later."""
    from auditlib.batch.kernel import CellTimeout, _alarm_held, _cell_guard

    started = time.monotonic()
    with pytest.raises(CellTimeout):
        with _cell_guard(0.2):
            with _alarm_held():
                time.sleep(0.5)          # the alarm fires here: held
            held_for = time.monotonic() - started
            time.sleep(5)                # re-armed every second: stopped here
    assert held_for >= 0.5 and time.monotonic() - started < 3


def test_a_warm_child_imports_nothing_the_zygote_could_have(tmp_path):
    """What the kernel's start and a cell import, and matplotlib's list of backends (read when the
    kernel sets the inline backend), are loaded by warm_up, not again in each child."""
    code = (
        "import sys, asyncio, importlib.metadata as im\n"
        "from auditlib.batch.local import warm_up\n"
        "warm_up(None, formats=('html',))\n"
        "calls = []\n"
        "real = im.entry_points\n"
        "im.entry_points = lambda *a, **k: (calls.append(1), real(*a, **k))[1]\n"
        "before = set(sys.modules)\n"
        "from auditlib.batch.kernel import kernel_manager_class\n"
        "km = kernel_manager_class()(cell_timeout=0.0)\n"
        f"km.start_kernel(cwd={str(tmp_path)!r})\n"
        "kc = km.client(); kc.start_channels()\n"
        "asyncio.run(kc.execute('from IPython.display import HTML, display\\ndisplay(HTML(\"x\"))'))\n"
        "print(sorted(set(sys.modules) - before), len(calls))\n"
        "km.shutdown_kernel()\n")
    env = {**os.environ, "MPLBACKEND": ""}
    env.pop("MPLBACKEND")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[] 0"


def test_a_warm_child_compiles_no_template():
    """The warm parent compiles every commentary template of both languages and the report's
    fragments: the children's commentary, whichever templates their client needs, compiles none."""
    code = (
        "import jinja2\n"
        "from auditlib.batch.local import warm_up\n"
        "from auditlib.config import Settings\n"
        f"loaded = warm_up(Settings.from_env(), sample={str(DATA / 'clients' / 'nl-delta-water')!r}, "
        "formats=('html',))\n"
        "compiled = []\n"
        "real = jinja2.Environment.compile\n"
        "def counted(self, source, name=None, *a, **k):\n"
        "    compiled.append(name)\n"
        "    return real(self, source, name, *a, **k)\n"
        "jinja2.Environment.compile = counted\n"
        "from auditlib.audit import analyse\n"
        "from auditlib.interpret import interpret\n"
        "from auditlib.report.fragments import _fragments\n"
        "_fragments()\n"
        "from pathlib import Path\n"
        f"for client in sorted(p for p in Path({str(DATA / 'clients')!r}).iterdir() if p.is_dir()):\n"
        "    result = analyse(client, catalogue=loaded['catalogue'], benchmark=loaded['benchmark'])\n"
        "    for lang in ('en', 'nl'):\n"
        "        interpret(result, lang).to_markdown()\n"
        "print(sorted(loaded), sorted(set(compiled)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180,
                         env={**os.environ, "AUDITLIB_DATA": str(DATA)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "['benchmark', 'catalogue', 'code_hash'] []"


def _stand_in_spawned(job):   # module level: a spawned child imports it by name
    if job.client_dir.name == "raises":
        raise RuntimeError("boom")
    return _outcome(job)


def test_without_fork_every_client_runs_in_a_spawned_process(tmp_path):
    names = ["ok-1", "raises"]
    for n in names:
        (tmp_path / n).mkdir()
    result = batch.run_batch([tmp_path / n for n in names], workers=2, outputs_dir=tmp_path / "out",
                             runner=_stand_in_spawned, warm=False, progress=False, write_index=False)
    assert [(r.client_id, r.status) for r in result.results] == [("ok-1", "ok"), ("raises", "failed")]
    assert "RuntimeError: boom" in result.results[1].reason


def test_warm_engine_gives_the_same_report_as_a_regular_kernel(tmp_path):
    """Every output of the report notebook (text, HTML, SVG charts) is identical on the warm
    in-process kernel and on a regular kernel process: the batch runs the whole report."""
    import papermill

    params = {"client_id": "nl-delta-water"}
    papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / "regular.ipynb"), parameters=params,
                               progress_bar=False, cwd=str(tmp_path), kernel_name="python3")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            batch.use_warm_engine()
            papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / "warm.ipynb"), parameters=params,
                                       progress_bar=False, cwd=str(tmp_path), kernel_name="python3")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

    def outputs(path):
        nb = nbformat.read(path, as_version=4)
        return [[(o.output_type, o.get("name"), o.get("text"), dict(o.get("data", {})), o.get("ename"))
                 for o in c.outputs] for c in nb.cells if c.cell_type == "code"]

    regular, warm = outputs(tmp_path / "regular.ipynb"), outputs(tmp_path / "warm.ipynb")
    assert sum(len(c) for c in regular) > 20 and any("image/svg+xml" in o[3] for c in regular for o in c)
    assert warm == regular


# --- issue 10: safe batches ------------------------------------------------------------------------

def test_a_second_writer_cannot_destroy_a_running_batchs_work(tmp_path):
    """Today the second batch's start-up clean-up deleted the first one's live build folders."""
    from auditlib.files import outputs_lock

    (tmp_path / "clients" / "c").mkdir(parents=True)
    live = tmp_path / "out" / "c" / ".2026.abcd1234.tmp"         # the first batch's build in progress
    live.mkdir(parents=True)
    (live / "report.ipynb").write_text("{}")
    with outputs_lock(tmp_path / "out"):                          # the first batch holds the folder
        with pytest.raises(batch.AuditError, match="another auditlib batch or run is writing"):
            batch.run_batch([tmp_path / "clients" / "c"], outputs_dir=tmp_path / "out", runner=_stand_in,
                            warm=True, progress=False, write_index=False)
    assert live.is_dir()
    result = batch.run_batch([tmp_path / "clients" / "c"], outputs_dir=tmp_path / "out", runner=_stand_in,
                             warm=True, progress=False, write_index=False)
    assert result.results[0].status == "ok"


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_run_batch_refuses_a_timeout_that_would_mean_none(tmp_path, timeout):
    (tmp_path / "c").mkdir()
    with pytest.raises(batch.AuditError, match="positive number of seconds"):
        batch.run_batch([tmp_path / "c"], cell_timeout=timeout, outputs_dir=tmp_path / "out", runner=_stand_in,
                        progress=False, write_index=False)


@pytest.mark.parametrize("name", ["index.html", "portfolio.json"])
def test_a_client_named_like_the_portfolio_files_is_refused(tmp_path, name):
    (tmp_path / name).mkdir()
    with pytest.raises(batch.AuditError, match="portfolio's own file"):
        batch.client_folders(clients_dir=tmp_path)


def test_an_engagement_named_like_a_failed_run_is_refused(tmp_path):
    """Today a later good run of 2026 deleted the report written as engagement '2026.failed'."""
    from auditlib.errors import ParameterError
    from auditlib.report import run_engagement

    with pytest.raises(ParameterError, match="ends like a working folder"):
        run_engagement(DATA / "clients" / "es-huerta-food", engagement="2026.failed", outputs_dir=tmp_path,
                       formats=["xlsx"])
    assert not any(tmp_path.iterdir())


def test_changed_only_sees_a_change_of_the_library(monkeypatch):
    import auditlib
    from auditlib.config import Settings
    from auditlib.report.manifest import input_hashes

    settings = Settings.defaults()
    before = input_hashes(DATA / "clients" / "es-huerta-food", settings)
    assert "code/auditlib" in before
    monkeypatch.setattr(auditlib, "__version__", auditlib.__version__ + ".post1")
    after = input_hashes(DATA / "clients" / "es-huerta-food", settings)
    assert before["code/auditlib"] != after["code/auditlib"]
    assert {k: v for k, v in before.items() if k != "code/auditlib"} == \
        {k: v for k, v in after.items() if k != "code/auditlib"}


def test_a_notebook_cut_short_by_a_full_disk_is_never_kept(tmp_path, monkeypatch):
    import errno

    import papermill

    from auditlib.report import run_engagement

    def full_disk(src, out, **kwargs):
        Path(out).write_text('{"cells": [{"cell_type": "code", "sou')     # what a full disk leaves
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(papermill, "execute_notebook", full_disk)
    outcome = run_engagement(DATA / "clients" / "es-huerta-food", outputs_dir=tmp_path, formats=["xlsx"])
    assert outcome.status == "failed" and outcome.failed_notebook is None
    assert "could not be saved whole" in outcome.error and "No space left" in outcome.error
    assert not (tmp_path / "es-huerta-food" / "2026.failed").exists()
    assert not leftovers(tmp_path)


def test_the_index_links_no_notebook_that_is_cut_short(tmp_path):
    from auditlib.config import Settings

    bad = tmp_path / "c" / "2026.failed" / "report.ipynb"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"cells": [')
    res = batch.ClientResult("c", tmp_path / "clients" / "c", "failed", 1.0, "cell 3: boom", "2026",
                             failed_notebook=bad)
    batch.write_portfolio_index([res], settings=Settings.from_env(), outputs_dir=tmp_path)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "2026.failed/report.ipynb" not in html and "boom" in html
    assert not batch.whole_notebook(bad)


def test_a_cell_stopped_for_its_timeout_says_so_in_a_failed_notebook_of_sensible_size(tmp_path, monkeypatch):
    """A cell that floods its output, then hangs: today the reason was an empty 'CellExecutionError'
    and the failed notebook held every printed line (1.1 MB after 4 s)."""
    import auditlib.report as report

    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    flood = nbformat.v4.new_code_cell("import time\nfor i in range(400000):\n    print('line', i)\ntime.sleep(120)")
    nb.cells = [params, flood]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    monkeypatch.setattr(report, "NOTEBOOK", tmp_path / "nb.ipynb")
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:   # a batch worker: the warm in-process kernel, the per-cell alarm
        try:
            batch.kernel._CHILD.update(cell_timeout=3.0)
            batch.use_warm_engine()
            outcome = report.run_engagement(DATA / "clients" / "es-huerta-food", outputs_dir=tmp_path / "out",
                                            formats=["html"], cell_timeout=3.0)
            size = outcome.failed_notebook.stat().st_size if outcome.failed_notebook else -1
            os.write(writer, json.dumps([outcome.status, outcome.error, size]).encode())
        finally:
            os._exit(0)
    status, error, size = json.loads(_what_the_child_wrote(pid, reader, writer))
    assert status == "failed"
    assert "CellTimeout: the cell ran longer than the per-cell timeout of 3 s" in error
    assert 0 < size < 200_000
    kept = nbformat.read(tmp_path / "out" / "es-huerta-food" / "2026.failed" / "report.ipynb", as_version=4)
    outputs = kept.cells[-1].outputs
    assert any(o.output_type == "error" and o.ename == "CellTimeout" for o in outputs)
    assert any("characters cut" in o.get("text", "") for o in outputs)


def test_run_uses_the_in_process_kernel_and_puts_everything_back(tmp_path):
    """`auditlib run` executes the notebook on the in-process kernel (no kernel process to start and
    import into), with the per-cell alarm; afterwards papermill's engines and the cwd are as before."""
    import papermill
    from papermill.engines import papermill_engines

    from auditlib.batch.kernel import in_process_kernel

    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import os\npid = os.getpid()\nprint(pid)"),
                nbformat.v4.new_code_cell("import time\nif hang: time.sleep(60)")]
    params = nbformat.v4.new_code_cell("hang = False")
    params.metadata.tags = ["parameters"]
    nb.cells.insert(0, params)
    nbformat.write(nb, tmp_path / "nb.ipynb")
    before_engine, cwd = papermill_engines.get_engine(None), os.getcwd()
    with in_process_kernel(2):
        assert papermill_engines.get_engine(None).__name__ == "WarmEngine"
        done = papermill.execute_notebook(str(tmp_path / "nb.ipynb"), str(tmp_path / "ok.ipynb"),
                                          parameters={"hang": False}, cwd=str(tmp_path), progress_bar=False)
        assert done.cells[2].outputs[0]["text"].strip() == str(os.getpid())     # this very process
        t0 = time.monotonic()
        with pytest.raises(Exception, match="CellTimeout"):
            papermill.execute_notebook(str(tmp_path / "nb.ipynb"), str(tmp_path / "hang.ipynb"),
                                       parameters={"hang": True}, cwd=str(tmp_path), progress_bar=False,
                                       execution_timeout=2)
        assert time.monotonic() - t0 < 30
    assert papermill_engines.get_engine(None) is before_engine and os.getcwd() == cwd
    from auditlib.batch.orchestrate import _inside_ipython

    assert not _inside_ipython()


def test_each_in_process_run_starts_with_fresh_globals(tmp_path):
    """IPython's shell is a process-wide singleton: a second `run` in the same process (from
    Python, or a test after another) must not see the first notebook's globals, which the
    report's parameter check would otherwise read as unknown parameters."""
    import papermill

    from auditlib.batch.kernel import in_process_kernel

    first = nbformat.v4.new_notebook()
    first.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    first.cells = [nbformat.v4.new_code_cell("left_behind = 42")]
    nbformat.write(first, tmp_path / "first.ipynb")
    second = nbformat.v4.new_notebook()
    second.metadata.kernelspec = first.metadata.kernelspec
    second.cells = [nbformat.v4.new_code_cell("assert 'left_behind' not in globals(), 'globals leaked'")]
    nbformat.write(second, tmp_path / "second.ipynb")
    for name in ("first", "second"):
        with in_process_kernel(30):
            papermill.execute_notebook(str(tmp_path / f"{name}.ipynb"), str(tmp_path / f"{name}.out.ipynb"),
                                       cwd=str(tmp_path), progress_bar=False)
    with in_process_kernel(30):   # within one context too: each kernel start is a fresh namespace
        papermill.execute_notebook(str(tmp_path / "first.ipynb"), str(tmp_path / "a.ipynb"),
                                   cwd=str(tmp_path), progress_bar=False)
        papermill.execute_notebook(str(tmp_path / "second.ipynb"), str(tmp_path / "b.ipynb"),
                                   cwd=str(tmp_path), progress_bar=False)

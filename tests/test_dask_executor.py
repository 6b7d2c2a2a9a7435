"""The batch on Dask (`auditlib batch --scheduler ADDRESS`): a real LocalCluster of 2 worker processes,
each with 2 threads (a firm's cluster has several worker processes; `--scheduler local` starts one
with a thread per report slot, and each worker's fork server forks one report per thread).

One batch on one cluster (a single test: under xdist a module fixture would start a cluster per
test worker) covers what the local executor guarantees: two good clients, a broken one, one
whose cell hangs (stopped by the per-cell timeout) and one whose Dask worker is killed in the
middle of its report (Dask retries the reports it was running, on the other worker or on the
one its nanny restarted, which gets the plugin again); then Ctrl-C in a second batch
on the same cluster keeps the finished report and writes nothing half. The good reports are compared
byte for byte with the local executor's. The workers get every input as bytes and work in their
own temporary folders (the manifests name our inputs and keep the worker's paths under built_on),
the outputs folder starts empty.

The test notebook is tests/test_batch.py's copy of the report notebook with its test cell, plus
a line that kills the report's Dask worker once (the worker is the fork server's parent).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest

from test_batch import (CTRL_C_CLIENTS, assert_complete, leftovers, make_clients, notebook_with_test_cell,
                        press_ctrl_c_after_the_first_report, run_cli)

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")

KILL_CELL = '''# test cell (tests/test_dask_executor.py): a '-die' client kills its Dask worker, once
import os as _os
from pathlib import Path as _Path
if client_id.endswith("-die") and not _Path(MARKER).exists():
    _Path(MARKER).write_text("killed once")
    _fork_server = _os.getppid()
    with open(f"/proc/{_fork_server}/stat") as _stat:
        _worker = int(_stat.read().rsplit(")", 1)[1].split()[1])
    _os.kill(_worker, 9)
    import time as _time
    _time.sleep(60)
'''


def _dask_notebook(folder: Path, marker: Path) -> Path:
    path = notebook_with_test_cell(folder)
    nb = nbformat.read(path, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "validate_parameters" in c.source)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(KILL_CELL.replace("MARKER", repr(str(marker))),
                                                      metadata={"tags": ["remove_cell"]}))
    nbformat.write(nb, path)
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kill cell reads /proc")
def test_dask_batch_matches_local_and_keeps_every_guarantee(tmp_path, monkeypatch):
    import dask
    from distributed import LocalCluster

    workers_tmp = tmp_path / "workers-tmp"              # the workers' temporary folders, watched below
    workers_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(workers_tmp))

    clients = make_clients(tmp_path / "clients", {"es-huerta-food": "es-huerta-food",
                                                  "no-fjord-maritime": "no-fjord-maritime",
                                                  "broken-input": "es-huerta-food+broken",
                                                  "m-hang": "pl-wisla-ict",
                                                  "pl-wisla-die": "pl-wisla-ict"})
    marker = tmp_path / "killed-once"
    notebook = _dask_notebook(tmp_path / "nb", marker)
    out = tmp_path / "out-dask"
    with dask.config.set({"distributed.scheduler.allowed-failures": 2}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
                               silence_logs=40)
    try:
        t0 = time.monotonic()
        proc = run_cli(["batch", "--clients-dir", str(clients), "--outputs", str(out), "--timeout", "15",
                        "--formats", "html,xlsx", "--scheduler", cluster.scheduler_address],
                       cwd=tmp_path, notebook=notebook, timeout=900)
        seconds = time.monotonic() - t0
        # Ctrl-C on the same cluster: the finished report stays, the hanging one and those not
        # started are not written, nothing is half-written, exit 130 (as for the local executor).
        # a-first's worker goes on to c-third and d-slow meanwhile; d-slow's 45 s cell keeps it
        # unfinished at the press, so only a batch that waited for it would write it
        ctrl_c = tmp_path / "out-ctrl-c"
        press_ctrl_c_after_the_first_report(
            ["batch", "--clients-dir", str(make_clients(tmp_path / "clients-ctrl-c", CTRL_C_CLIENTS)),
             "--outputs", str(ctrl_c), "--timeout", "300", "--formats", "html",
             "--scheduler", cluster.scheduler_address], tmp_path, notebook, ctrl_c)
        with distributed.Client(cluster) as watcher:     # what the cluster's dashboard and metrics show
            prefixes = watcher.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    finally:
        cluster.close()
    # the reports' task keys name no client
    assert "auditlib-report" in prefixes
    assert not [p for p in prefixes for cid in ("huerta", "fjord", "broken", "hang", "wisla", "first") if cid in p]
    # each worker's copy of the benchmark and the clients is gone, the killed worker's too
    assert list(workers_tmp.glob("auditlib-worker-*")) == []
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text                          # the broken and the hanging client failed
    assert "Traceback" not in text
    rows = {ln.split()[0]: ln for ln in proc.stdout.splitlines() if ln.strip() and not ln.startswith("-")}
    assert rows["es-huerta-food"].split()[1] == "ok" and rows["no-fjord-maritime"].split()[1] == "ok", text
    # a broken client fails alone, with its reason and its failed notebook
    assert rows["broken-input"].split()[1] == "failed" and "QuestionnaireError" in rows["broken-input"]
    assert list((out / "broken-input").glob("*.failed/report.ipynb"))
    # a hanging cell is stopped by the per-cell timeout; the notebook says so
    assert rows["m-hang"].split()[1] == "failed" and "timeout" in rows["m-hang"].lower(), text
    assert "CellTimeout" in (out / "m-hang" / "2026.failed" / "report.ipynb").read_text(encoding="utf-8")
    assert seconds < 850                                       # the hang was cut (15 s; a loaded machine)
    # a worker killed mid-report: its client was retried on a worker and completed
    assert marker.read_text() == "killed once"
    assert rows["pl-wisla-die"].split()[1] == "ok", text
    for cid in ("es-huerta-food", "no-fjord-maritime", "pl-wisla-die"):
        assert_complete(out / cid / "2026")
    assert not leftovers(out)
    # the portfolio index, as for the local executor
    data = json.loads((out / "portfolio.json").read_text(encoding="utf-8"))
    assert {r["client_id"]: r["status"] for r in data["clients"]}["pl-wisla-die"] == "ok"
    # no shared filesystem: the worker read its own copies in its own temp folder, outside ours
    manifest = json.loads((out / "es-huerta-food" / "2026" / "manifest.json").read_text(encoding="utf-8"))
    built_on = manifest["built_on"]
    assert built_on["worker"].startswith("tcp://")
    worker_clients = Path(built_on["paths"]["clients_dir"])
    assert "auditlib-worker-" in str(worker_clients) and workers_tmp in worker_clients.parents
    assert Path(built_on["paths"]["catalogue_dir"]).name == "catalogue"
    assert "auditlib-worker-" in built_on["paths"]["benchmark"]
    assert not worker_clients.exists()                          # the worker cleaned its job folder
    assert not (tmp_path / "clients" / "es-huerta-food" / "report.ipynb").exists()

    # the same clients on the local executor: byte-identical report.html and scores.xlsx
    local = tmp_path / "out-local"
    good = [str(clients / c) for c in ("es-huerta-food", "no-fjord-maritime")]
    proc = run_cli(["batch", *good, "--outputs", str(local), "--timeout", "60", "--formats", "html,xlsx"],
                   cwd=tmp_path, notebook=notebook)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for cid in ("es-huerta-food", "no-fjord-maritime"):
        for name in ("report.html", "scores.xlsx"):
            assert (out / cid / "2026" / name).read_bytes() == (local / cid / "2026" / name).read_bytes(), \
                f"{cid}/{name} differs between the Dask and the local executor"
        # the manifest names the inputs the batch was started on, as the local executor's does
        dask_m, local_m = (json.loads((o / cid / "2026" / "manifest.json").read_text(encoding="utf-8"))
                           for o in (out, local))
        assert dask_m["parameters"] == local_m["parameters"]
        assert dask_m["benchmark"] == local_m["benchmark"] and dask_m["catalogue"] == local_m["catalogue"]
        assert dask_m["inputs"] == local_m["inputs"] and "built_on" not in local_m


def test_an_unreachable_scheduler_is_one_clear_message(tmp_path):
    clients = make_clients(tmp_path / "clients", {"es-huerta-food": "es-huerta-food"})
    proc = run_cli(["batch", "--clients-dir", str(clients), "--outputs", str(tmp_path / "out"),
                    "--scheduler", "tcp://127.0.0.1:9"], cwd=tmp_path, timeout=120,
                   extra_env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"})     # Dask's own setting
    assert proc.returncode == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr
    assert "after 3 s" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not list((tmp_path / "out").glob("es-huerta-food/*"))
    # a TLS scheduler without this machine's TLS settings: said so, not a traceback
    proc = run_cli(["batch", "--clients-dir", str(clients), "--outputs", str(tmp_path / "out"),
                    "--scheduler", "tls://127.0.0.1:9"], cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "cannot connect to the Dask scheduler at tls://127.0.0.1:9" in proc.stderr
    assert "distributed.comm.tls.ca-file" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_the_local_cluster_s_workers_run_quiet():
    """The LocalCluster `--scheduler local` starts: one worker process with `--workers` threads (one fork
    server's warm-up and one Chromium for the machine, as the local executor), with the batch's settings
    (dask_executor.QUIET_CLUSTER: no statistical profiler sampling every thread, a slow tick and
    monitors, no work stealing), and its scheduler retries a lost worker's report RETRIES times."""
    import types

    from auditlib.batch.dask_executor import QUIET_CLUSTER, RETRIES, DaskExecutor

    def settings() -> dict:
        import dask

        return {key: dask.config.get(key) for key in QUIET_CLUSTER}

    def profiler(dask_worker) -> list:
        return sorted(name for name in dask_worker.periodic_callbacks if name.startswith("profile"))

    ctx = types.SimpleNamespace(workers=2)
    sink = types.SimpleNamespace(status=lambda text: None)
    client, cluster = DaskExecutor("local")._connect(ctx, sink)
    try:
        on_workers = client.run(settings)
        assert list(client.nthreads().values()) == [2]           # one worker process, a thread per report slot
        assert list(on_workers.values()) == [QUIET_CLUSTER]
        assert list(client.run(profiler).values()) == [[]]
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures) == RETRIES
        assert client.run_on_scheduler(lambda dask_scheduler: "stealing" in dask_scheduler.extensions) is False
    finally:
        client.close()
        cluster.close()


def test_the_local_cluster_is_private_to_this_account():
    """`--scheduler local`: nothing else on the machine can reach the cluster. Its scheduler speaks
    mutual TLS with credentials only this process holds (a plain connection, or TLS without them, is
    refused), and neither the scheduler nor its worker serves an HTTP route (workers, tasks, metrics)."""
    import contextlib
    import socket
    import types
    import urllib.error
    import urllib.request
    import warnings

    from distributed import Client

    from auditlib.batch.dask_executor import DaskExecutor

    ctx = types.SimpleNamespace(workers=1)
    sink = types.SimpleNamespace(status=lambda text: None)
    held = socket.socket()
    with contextlib.suppress(OSError):     # taken already (another cluster): the same case
        held.bind(("127.0.0.1", 8787))
        held.listen()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client, cluster = DaskExecutor("local")._connect(ctx, sink)
    held.close()
    try:
        # its HTTP server takes a free port, not the usual dashboard's: no "Port 8787 is already in use"
        assert not [w for w in caught if "already in use" in str(w.message)]
        assert cluster.scheduler_address.startswith("tls://")
        assert client.submit(lambda x: x + 1, 1).result() == 2          # its own client works
        for address in (cluster.scheduler_address.replace("tls://", "tcp://"), cluster.scheduler_address):
            with pytest.raises((OSError, TypeError)):                   # no credentials: refused
                Client(address, timeout=5).close()

        def http_sockets(server) -> list[tuple[str, int]]:
            return [sock.getsockname()[:2] for sock in server.http_server._sockets.values()]

        bound = http_sockets(cluster.scheduler)
        bound += [s for found in client.run(lambda dask_worker: http_sockets(dask_worker)).values() for s in found]
        assert len(bound) >= 2 and {host for host, _ in bound} == {"127.0.0.1"}
        ports = [port for _, port in bound]
        for port in ports:
            for path in ("/json/identity.json", "/info/main/workers.html", "/metrics", "/health"):
                with pytest.raises(urllib.error.HTTPError) as answer:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)
                assert answer.value.code == 404, (port, path)
    finally:
        client.close()
        cluster.close()


def test_the_fork_server_collects_rarely_from_its_first_import():
    """The fork server's command (dask_executor.ZYGOTE_MAIN) sets a cold run's GC thresholds and
    freezes before anything heavy is imported, then serves the worker's socket."""
    import subprocess

    from auditlib.batch.dask_executor import ZYGOTE_MAIN
    from auditlib.startup import FEW_COLLECTIONS

    last = "serve_fd(int(sys.argv[1]), sys.argv[2])\n"
    assert ZYGOTE_MAIN.endswith(last)
    probe = ZYGOTE_MAIN.replace("from auditlib.batch.zygote import serve_fd\n", "before = 'pandas' in sys.modules\n"
                                "from auditlib.batch.zygote import serve_fd\n")
    probe = probe.replace(last, "print(list(gc.get_threshold()), gc.get_freeze_count() > 0, before, "
                                "callable(serve_fd))\n")
    out = subprocess.run([sys.executable, "-c", probe, "0"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{list(FEW_COLLECTIONS)} True False True"


def test_the_readme_gives_a_firm_s_own_cluster_the_same_settings():
    """README "More than one machine" documents QUIET_CLUSTER for a cluster started without `--scheduler
    local`: the YAML there sets exactly the settings the LocalCluster gets."""
    import re

    import yaml

    from auditlib.batch.dask_executor import QUIET_CLUSTER

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = text.split("## More than one machine", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README: no yaml block in 'More than one machine'"

    def flat(tree: dict, prefix: str = "") -> dict:
        out: dict = {}
        for key, value in tree.items():
            out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
        return out

    assert flat(yaml.safe_load(block.group(1))) == QUIET_CLUSTER


FAKE_WORKER = '''
import sys, time
from pathlib import Path
from auditlib.batch.dask_executor import _ForkServer
server = _ForkServer(Path(sys.argv[1]), ("warm", None, None, "en", (), None, 1))
assert server.conn.recv() == ("ready", None)
print(server.proc.pid, flush=True)
if sys.argv[2] == "close":
    server.close()
    print("closed", flush=True)
time.sleep(600)
'''


@pytest.mark.parametrize("end", ["killed", "close"])
def test_a_killed_worker_s_fork_server_removes_its_folder(tmp_path, end):
    """Killed (no teardown): the worker's fork server removes the worker's folder as it exits. Closed
    by a living worker (which starts another fork server on the same folder): the folder stays."""
    import os
    import signal
    import subprocess

    import psutil

    root = tmp_path / "auditlib-worker-x"
    (root / "benchmark").mkdir(parents=True)
    (root / "benchmark" / "copy.csv").write_text("id;value\n", encoding="utf-8")
    worker = subprocess.Popen([sys.executable, "-c", FAKE_WORKER, str(root), end], stdout=subprocess.PIPE,
                              text=True)
    try:
        server = int(worker.stdout.readline())
        if end == "close":
            assert worker.stdout.readline() == "closed\n"
            assert not psutil.pid_exists(server) and root.is_dir()
            return
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        deadline = time.monotonic() + 60
        while root.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = root / "fork-server.log"
        assert not root.exists(), "the killed worker's folder was left behind: " + (
            log.read_text(encoding="utf-8", errors="replace") if log.exists() else "")
    finally:
        worker.kill()
        worker.wait()

"""Batch speed: `auditlib batch` against the usual per-client command-line loop, and the floor.

Generates N synthetic client folders (default 20) from rows of the seeded synthetic benchmark
generator (data/benchmark/generate.py, another seed than the shipped database), then measures,
in one run on this machine:

  (a) `auditlib batch --folder <clients> --formats html` (a subprocess, as a user runs it):
      report.ipynb + report.html per client;
  (b) the usual loop, one client after another: the `papermill` command line on the report
      notebook, then `jupyter nbconvert --to html --no-input` on its output: the same
      notebook + HTML per client, so the comparison is fair;
  (c) the floor: a notebook with one parameters cell and one trivial cell, run N times through
      papermill's API in this process (a fresh kernel each time).

CPU is this process's own plus its waited-for children's (resource.getrusage RUSAGE_SELF +
RUSAGE_CHILDREN), so kernels and workers count.

Targets (2 cores): (a) at least 6x faster than (b); CPU per report of (a) at most 3x the floor's.

Run: .venv/bin/python benchmarks/bench_batch.py [--n 20] [--workers N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _common import generator

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOK = REPO / "notebooks" / "audit_report.ipynb"
SEED = 4242                      # not the shipped database's seed: the clients are not in it


def make_clients(n: int, folder: Path, seed: int = SEED) -> list[Path]:
    """N synthetic client folders (questionnaire.yaml each) from the generator's rows."""
    from auditlib.catalogue import load_catalogue

    catalogue = load_catalogue(REPO / "data" / "catalogue")
    frame = generator().generate(max(n, 1), seed)
    folders = []
    for k, row in enumerate(frame.itertuples(index=False), start=1):
        row = row._asdict()
        answers = {}
        for ind in catalogue.indicators:
            value = row[ind.id]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                answers[ind.id] = ""
            elif ind.kind == "yes_no":
                answers[ind.id] = "yes" if value >= 0.5 else "no"
            elif float(value).is_integer():
                answers[ind.id] = int(value)
            else:
                answers[ind.id] = float(value)
        client = folder / f"synthetic-{k:03d}"
        client.mkdir(parents=True)
        doc = {"profile": {"name": f"Synthetic Cluster {k:03d}", "country": str(row["country"]),
                           "field": str(row["field"]), "founding_year": int(row["founding_year"]),
                           "benchmark_year": int(row["benchmark_year"]), "region": "Synthetic region",
                           "contact": f"Manager {k:03d}, manager{k:03d}@synthetic.example"},
               "answers": answers}
        (client / "questionnaire.yaml").write_text(
            "# SYNTHETIC client for benchmarks/bench_batch.py (fictional)\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        folders.append(client)
    return folders


def cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Measure:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = cpu_seconds() - self.cpu
        return False


def _env() -> dict:
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)          # as a user's shell: never Agg for the kernel
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # nor without bytecode: a user's second run reads it cached
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def run_a(clients_dir: Path, out: Path, workers: int) -> tuple[Measure, int]:
    cmd = [str(BIN / "auditlib"), "batch", "--folder", str(clients_dir), "--formats", "html",
           "--outputs", str(out), "--workers", str(workers), "--timeout", "600"]
    with Measure() as m:
        proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n", file=sys.stderr)
    ok = sum(1 for p in out.glob("*/*/report.html"))
    return m, ok


def run_b(clients: list[Path], clients_dir: Path, out: Path) -> tuple[Measure, int]:
    out.mkdir(parents=True, exist_ok=True)
    ok = 0
    with Measure() as m:
        for c in clients:
            nb = out / f"{c.name}.ipynb"
            r1 = subprocess.run([str(BIN / "papermill"), str(NOTEBOOK), str(nb), "-p", "client_id", c.name,
                                 "-p", "clients_dir", str(clients_dir), "--no-progress-bar", "--cwd", str(out)],
                                cwd=REPO, env=_env(), capture_output=True, text=True)
            r2 = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)],
                                cwd=REPO, env=_env(), capture_output=True, text=True)
            if r1.returncode or r2.returncode:
                print(f"(b) {c.name} failed:", (r1.stderr or r2.stderr)[-1500:], file=sys.stderr)
            ok += (out / f"{c.name}.html").is_file() and not (r1.returncode or r2.returncode)
    return m, ok


def run_c(n: int, work: Path) -> tuple[Measure, int]:
    import nbformat
    import papermill as pm

    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("client_id = 'floor'")
    params.metadata.tags = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(client_id)")]
    src = work / "floor.ipynb"
    nbformat.write(nb, src)
    # The kernels' start-up warnings go to a log, not to the table (the kernel inherits fd 2).
    log = open(work / "floor-kernels.log", "w")
    saved = os.dup(2)
    os.dup2(log.fileno(), 2)
    try:
        with Measure() as m:
            for k in range(n):
                pm.execute_notebook(str(src), str(work / f"floor-{k}.ipynb"), parameters={"client_id": f"c{k}"},
                                    progress_bar=False, kernel_name="python3")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        log.close()
    return m, n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="synthetic clients (default 20)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="batch workers (default: cores)")
    parser.add_argument("--keep", type=Path, help="keep the generated clients and outputs in this folder")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="bench-batch-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        clients_dir = work / "clients"
        shutil.rmtree(clients_dir, ignore_errors=True)
        clients = make_clients(args.n, clients_dir)
        load0 = os.getloadavg()[0]
        print(f"{args.n} synthetic clients in {clients_dir}; {os.cpu_count()} cores; batch workers {args.workers}; "
              f"load average before {load0:.2f}")
        print("each report: notebook + HTML in (a) and (b); (c) runs a 2-cell notebook\n", flush=True)

        a, a_ok = run_a(clients_dir, work / "out-a", args.workers)
        print(f"(a) auditlib batch:          {a.wall:7.1f} s wall, {a.cpu:7.1f} s CPU  ({a_ok}/{args.n} reports)",
              flush=True)
        b, b_ok = run_b(clients, clients_dir, work / "out-b")
        print(f"(b) papermill + nbconvert:   {b.wall:7.1f} s wall, {b.cpu:7.1f} s CPU  ({b_ok}/{args.n} reports)",
              flush=True)
        c, c_n = run_c(args.n, work)
        print(f"(c) floor (papermill API):   {c.wall:7.1f} s wall, {c.cpu:7.1f} s CPU  ({c_n} runs)\n", flush=True)

        n = args.n
        print(f"load average after: {os.getloadavg()[0]:.2f} (other work on this machine inflates the wall times)\n")
        print(f"{'':<28}{'wall s/report':>14}{'CPU s/report':>14}")
        for name, m in (("(a) auditlib batch", a), ("(b) CLI loop", b), ("(c) floor", c)):
            print(f"{name:<28}{m.wall / n:>14.2f}{m.cpu / n:>14.2f}")
        speed_ab = b.wall / a.wall
        cpu_ac = (a.cpu / n) / (c.cpu / n)
        print(f"\na/b speed: (a) is {speed_ab:.1f}x faster than (b)            target >= 6x: "
              f"{'met' if speed_ab >= 6 else 'NOT met'}")
        print(f"a/c CPU:   (a) uses {cpu_ac:.1f}x the floor's CPU per report   target <= 3x: "
              f"{'met' if cpu_ac <= 3 else 'NOT met'}")
        print(f"a/c wall:  (a) takes {a.wall / c.wall:.1f}x the floor's wall time")
        if a_ok < n or b_ok < n:
            print(f"warning: not every report was made ((a) {a_ok}/{n}, (b) {b_ok}/{n}); the ratios are not comparable")
            return 1
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

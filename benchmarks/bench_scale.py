"""ESCA scale: full-format reports (HTML + PDF + Excel) for N synthetic clients, measured in one run.

    .venv/bin/python benchmarks/bench_scale.py [--clients 200] [--workers N] [--baseline-clients 10]

  (1) `auditlib batch --formats html,pdf,xlsx` on the local executor (warm fork);
  (2) the same clients and formats with `--scheduler local` (a Dask LocalCluster on this machine,
      one worker per core): its CPU per report against (1) is the Dask overhead (target <= 1.15x);
  (3) the usual command-line loop for the same formats, one client after another: `papermill`
      (the notebook writes scores.xlsx), `jupyter nbconvert --to html --no-input`, then the
      `weasyprint` command for the PDF. It takes ~15 s per client, so it runs on the first
      --baseline-clients clients and is compared per report (target: (1) at least 10x faster);
  (4) the per-phase profile of a report (kernel start, analysis, charts, Excel, HTML, PDF), the
      mean of (1)'s manifests' timings, each phase in one process (seconds, CPU-bound);
  (5) the projection for 1,300 full reports on 1, 4 and 16 workers (one core each) from (1) and (2).

CPU is this process's children's (resource.getrusage RUSAGE_CHILDREN): every worker, kernel and
report process is waited for, so it counts. Clients: benchmarks/bench_batch.py's synthetic ones.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_batch import BIN, NOTEBOOK, REPO, Measure, _env, make_clients

FORMATS = "html,pdf,xlsx"
PHASES = (("kernel start", "kernel_start"), ("analysis", "kernel_analysis"), ("charts", "kernel_charts"),
          ("Excel", "kernel_xlsx"), ("HTML", "html"), ("PDF", "pdf"), ("whole report", "total"))


def batch(clients_dir: Path, out: Path, workers: int, scheduler: str | None = None) -> tuple[Measure, int]:
    cmd = [str(BIN / "auditlib"), "batch", "--folder", str(clients_dir), "--formats", FORMATS, "--outputs", str(out),
           "--workers", str(workers), "--timeout", "600"] + (["--scheduler", scheduler] if scheduler else [])
    with Measure() as m:
        proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
    ok = sum(1 for p in out.glob("*/*/report.pdf") if (p.parent / "scores.xlsx").is_file())
    return m, ok


def baseline(clients: list[Path], clients_dir: Path, out: Path) -> tuple[Measure, int]:
    """papermill + nbconvert + weasyprint commands per client, every format."""
    out.mkdir(parents=True, exist_ok=True)
    ok = 0
    with Measure() as m:
        for c in clients:
            nb, export = out / f"{c.name}.ipynb", out / c.name
            export.mkdir(exist_ok=True)
            steps = [[str(BIN / "papermill"), str(NOTEBOOK), str(nb), "-p", "client_id", c.name, "-p", "clients_dir",
                      str(clients_dir), "-p", "export_dir", str(export), "-p", "excel", "True", "--no-progress-bar",
                      "--cwd", str(out)],
                     [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)],
                     [str(BIN / "weasyprint"), str(out / f"{c.name}.html"), str(out / f"{c.name}.pdf")]]
            codes = [subprocess.run(s, cwd=REPO, env=_env(), capture_output=True, text=True).returncode for s in steps]
            ok += not any(codes) and (export / "scores.xlsx").is_file() and (out / f"{c.name}.pdf").is_file()
    return m, ok


def phases(out: Path) -> dict[str, float]:
    """Mean seconds per phase over the manifests of a batch's reports."""
    rows = [json.loads(p.read_text(encoding="utf-8")).get("timings", {}) for p in out.glob("*/*/manifest.json")]
    return {label: statistics.mean(float(r.get(key) or 0.0) for r in rows) for label, key in PHASES if rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200, help="synthetic clients (default 200)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers (default: cores)")
    parser.add_argument("--baseline-clients", type=int, default=10,
                        help="clients for the command-line loop (default 10; 0 skips it)")
    parser.add_argument("--keep", type=Path, help="keep clients and outputs in this folder")
    args = parser.parse_args(argv)
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        clients_dir = work / "clients"
        shutil.rmtree(clients_dir, ignore_errors=True)
        clients = make_clients(args.clients, clients_dir)
        n, w = args.clients, args.workers
        print(f"{n} synthetic clients, formats {FORMATS}; {os.cpu_count()} cores, {w} workers; "
              f"load average before {os.getloadavg()[0]:.2f}", flush=True)
        local, local_ok = batch(clients_dir, work / "out-local", w)
        print(f"(1) local executor:      {local.wall:8.1f} s wall {local.cpu:8.1f} s CPU ({local_ok}/{n} reports)",
              flush=True)
        dask, dask_ok = batch(clients_dir, work / "out-dask", w, scheduler="local")
        print(f"(2) Dask LocalCluster:   {dask.wall:8.1f} s wall {dask.cpu:8.1f} s CPU ({dask_ok}/{n} reports)",
              flush=True)
        k = min(args.baseline_clients, n)
        base = None
        if k:
            base, base_ok = baseline(clients[:k], clients_dir, work / "out-cli")
            print(f"(3) CLI loop ({k} clients): {base.wall:6.1f} s wall {base.cpu:8.1f} s CPU ({base_ok}/{k} reports)",
                  flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f} (other work on this machine inflates every figure)\n")

        print(f"{'per report':<26}{'wall s':>9}{'CPU s':>9}")
        rows = [("(1) local executor", local, n), ("(2) Dask LocalCluster", dask, n)]
        rows += [("(3) CLI loop", base, k)] if base else []
        for name, m, count in rows:
            print(f"{name:<26}{m.wall / count:>9.2f}{m.cpu / count:>9.2f}")
        ratio = (dask.cpu / n) / (local.cpu / n)
        print(f"\nDask overhead: {ratio:.2f}x the local CPU per report          target <= 1.15x: "
              f"{'met' if ratio <= 1.15 else 'NOT met'}")
        if base:
            speed = (base.wall / k) / (local.wall / n)
            print(f"CLI loop / local executor, wall per report: {speed:.1f}x       target >= 10x: "
                  f"{'met' if speed >= 10 else 'NOT met'}")
        print("\nper-phase profile of one report (mean of (1)'s manifests, seconds):")
        for label, secs in phases(work / "out-local").items():
            print(f"  {label:<14}{secs:7.2f}")
        cpu_local, cpu_dask = local.cpu / n, dask.cpu / n
        print("\nprojection, 1,300 full reports (one core per worker, CPU per report as measured):")
        for workers in (1, 4, 16):
            print(f"  {workers:>2} workers: local {1300 * cpu_local / workers / 60:6.1f} min   "
                  f"Dask {1300 * cpu_dask / workers / 60:6.1f} min")
        return 0 if local_ok == n and dask_ok == n else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

"""Issue 12's own measurement, before and after, in one run: the product as it was when the issue was
taken up against the product now, on their bundled example clients, one step after the other.

    .venv/bin/python benchmarks/bench_issue.py [--rounds 1] [--cold-runs 3] [--workers N]

Why: issue 12 set absolute targets (a full report at <= 1.7 s of CPU "from about 3.1 s today", the
PDF's extra over HTML-only at <= 0.5 s from about 2 s, one cold `auditlib run` at <= 5 s wall "from
about 10 s"), measured on the 7 example clients on the day it was written. This machine's speed
drifts: the same step measured 25-40 % apart on different days, and the code of that day, run here,
no longer takes what the issue measured. So the targets are also checked as the reductions they
ask for, with the "before" measured in the same run (the project's rule for speed figures):

    full report CPU        after / before <= 1.7 / 3.1  (0.55)
    PDF's extra CPU        after / before <= 0.5 / 2.0  (0.25)   (html+pdf minus html)
    cold run, median wall  after / before <= 5 / 10     (0.50)

"Before" is commit BASE, the last commit before the issue's work (the parent of the issue's first
commit, which added the Dask dependency), unpacked from this repository's history with `git archive`
and run on this venv with its own code, notebooks and data, and without the optional imports the
after side skips (ENTRY_BEFORE); "after" is this checkout. Both run `auditlib batch` on their
data/clients with --formats html, html,pdf and html,pdf,xlsx (alternated, --rounds times; the median
is kept), then --cold-runs cold `auditlib run nl-delta-water` each; one unmeasured cold run per side
first fills its caches (bytecode, verdicts). CPU counts every descendant (bench_scale's child
subreaper). Without git or the commit (a shallow clone), it says so and exits 0. About 5 minutes
with the defaults on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from bench_batch import BIN, REPO, Measure
from bench_scale import COLD_CLIENT, counted, load, subreaper

from auditlib.startup import UNUSED_IMPORTS

BASE = "d58f1e67f48513debf9be3571a3eb996d1fd2e85"     # parent of 7355631, the first commit
FORMATS = ("html", "html,pdf", "html,pdf,xlsx")
# what -> (the "before", the target): the reductions the issue asks for
TARGETS = {"full": (3.1, 1.7), "pdf": (2.0, 0.5), "cold": (10.0, 5.0)}
ENTRY = "import sys; from auditlib.cli import main; sys.exit(main())"
# The before side also skips the optional imports that auditlib.startup skips now (rfc3987_syntax alone
# costs 2.5-3 s a process with this venv's jupyter-events): a conservative "before", which does not
# credit the after side with what the environment may have added since the issue was written.
ENTRY_BEFORE = f"import sys; [sys.modules.setdefault(n, None) for n in {UNUSED_IMPORTS!r}]; " + ENTRY


def unpack_base(dest: Path) -> bool:
    """BASE's tree into `dest` (False when git or the commit is not there)."""
    try:
        tar = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", BASE],
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"skipped: commit {BASE[:10]} is not in this clone ({exc})")
        return False
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(dest, filter="data")
    return True


def run(tree: Path, cache: Path, *args: str) -> tuple[Measure, bool]:
    """`auditlib ARGS` run in `tree` with its own code (first on the path) and its own cache folder."""
    env = {"PYTHONPATH": str(tree), "AUDITLIB_CACHE": str(cache)}
    entry = ENTRY if tree == REPO else ENTRY_BEFORE
    m, proc = counted([str(BIN / "python"), "-c", entry, *args], env=env, cwd=tree)
    if proc.returncode != 0:
        print(proc.stdout[-1500:], proc.stderr[-1500:], sep="\n", file=sys.stderr)
    return m, proc.returncode == 0


def batch(tree: Path, cache: Path, formats: str, workers: int, out: Path) -> tuple[Measure, bool]:
    shutil.rmtree(out, ignore_errors=True)
    return run(tree, cache, "batch", "--formats", formats, "--workers", str(workers), "--outputs", str(out))


def cold(tree: Path, cache: Path, out: Path) -> tuple[Measure, bool]:
    shutil.rmtree(out, ignore_errors=True)
    return run(tree, cache, "run", COLD_CLIENT, "--outputs", str(out))


def verdict(ratio: float, what: str) -> str:
    before, target = TARGETS[what]
    limit = target / before
    return f"target <= {limit:.2f} ({target:g} from {before:g}): {'met' if ratio <= limit else 'NOT met'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="alternated rounds of the batches (default 1)")
    parser.add_argument("--cold-runs", type=int, default=3, help="measured cold runs per side (default 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="batch workers (default: cores)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.cold_runs < 1:
        parser.error("--rounds and --cold-runs must be at least 1")
    adopted = subreaper()
    work = Path(tempfile.mkdtemp(prefix="bench-issue-"))
    try:
        before = work / "before"
        if not unpack_base(before):
            return 0
        sides = {"before": before, "after": REPO}
        for tree in sides.values():      # bytecode compiled first: measured runs read it cached
            subprocess.run([str(BIN / "python"), "-m", "compileall", "-q", str(tree / "auditlib")], check=True)
        clients = {name: len([p for p in (tree / "data" / "clients").iterdir() if p.is_dir()])
                   for name, tree in sides.items()}
        print(f"before: commit {BASE[:10]} ({clients['before']} example clients); after: this checkout "
              f"({clients['after']}); {args.workers} workers; load average {load()}"
              + ("" if adopted else "; WARNING: no child subreaper, Chromium's CPU is undercounted"), flush=True)
        cpu: dict[tuple[str, str], list[float]] = {}
        ok = True
        for name, tree in sides.items():      # unmeasured: fills its cache (the benchmark's verdict, templates)
            ok &= cold(tree, work / f"cache-{name}", work / f"cold-{name}")[1]
        for r in range(args.rounds):
            for formats in FORMATS:
                for name, tree in sides.items():
                    m, good = batch(tree, work / f"cache-{name}", formats, args.workers, work / f"out-{name}")
                    ok &= good
                    cpu.setdefault((name, formats), []).append(m.cpu / clients[name])
                    print(f"  round {r + 1}: {name:<6} batch --formats {formats:<14}{m.wall:7.1f} s wall "
                          f"{m.cpu:7.1f} s CPU (load {load()})", flush=True)
        walls: dict[str, list[float]] = {}
        for name, tree in sides.items():
            for _ in range(args.cold_runs):
                m, good = cold(tree, work / f"cache-{name}", work / f"cold-{name}")
                ok &= good
                walls.setdefault(name, []).append(m.wall)
            print(f"  {name:<6} cold `auditlib run {COLD_CLIENT}`: "
                  f"{', '.join(f'{w:.2f}' for w in walls[name])} s wall (load {load()})", flush=True)

        def per(name: str, formats: str) -> float:
            return statistics.median(cpu[(name, formats)])

        print(f"\n{'CPU per report (median of rounds)':<36}{'before':>9}{'after':>9}{'after/before':>14}")
        for formats in FORMATS:
            b, a = per("before", formats), per("after", formats)
            print(f"  {formats:<34}{b:>9.2f}{a:>9.2f}{a / b:>14.2f}")
        full_b, full_a = per("before", "html,pdf,xlsx"), per("after", "html,pdf,xlsx")
        pdf_b = per("before", "html,pdf") - per("before", "html")
        pdf_a = per("after", "html,pdf") - per("after", "html")
        cold_b, cold_a = statistics.median(walls["before"]), statistics.median(walls["after"])
        print(f"\nfull report: {full_b:.2f} -> {full_a:.2f} s CPU per report: {full_a / full_b:.2f}x     "
              + verdict(full_a / full_b, "full"))
        print(f"PDF's extra over HTML only: {pdf_b:.2f} -> {pdf_a:.2f} s CPU per report: {pdf_a / pdf_b:.2f}x     "
              + verdict(pdf_a / pdf_b, "pdf"))
        print(f"cold run, median wall: {cold_b:.2f} -> {cold_a:.2f} s: {cold_a / cold_b:.2f}x     "
              + verdict(cold_a / cold_b, "cold"))
        print(f"  the issue's absolute targets on this run's machine: full report {full_a:.2f} s (<= 1.7), PDF's "
              f"extra {pdf_a:.2f} s (<= 0.5), cold run {cold_a:.2f} s (<= 5); the issue's own 'before' figures "
              f"were 3.1 s, about 2 s and about 10 s, this run's {full_b:.2f} s, {pdf_b:.2f} s and {cold_b:.2f} s")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

"""The PDF's cost per report: WeasyPrint against Chromium (a new page per print, a warm page, a forked child).

    .venv/bin/python benchmarks/bench_pdf.py [--html outputs/nl-delta-water/2026/report.html] [--n 5]
                                             [--batch-clients 7]

One report's HTML (by default nl-delta-water's, made first with `auditlib run --formats html`) is
printed --n times by each engine after one warm-up print; CPU per print counts this process AND
Chromium's whole process tree (psutil: the browser, its zygotes, renderers and utilities, with
what they reaped), not only Python's. Chromium is measured three ways:

  new page    Target.createTarget per print (a fresh renderer each time), as a one-off run would
  warm page   the same page target reused (the batch's pool), printed from this process
  forked      the warm page used by a child forked from this process, as the batch's children do

--batch-clients K also runs `auditlib batch` over K example clients with --formats html,xlsx and
with html,pdf,xlsx on each engine (CPU of the batch and everything it started, RUSAGE_CHILDREN):
the PDF's extra CPU per report in the batch, the issue's target being <= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from auditlib.report import pdf  # noqa: E402
from bench_scale import reap, subreaper  # noqa: E402  (Chromium's orphans counted as in bench_scale)


def tree_cpu(browser: pdf.Browser) -> float:
    """CPU seconds of the browser's process tree so far (each process's own and its reaped children's)."""
    import psutil

    total = 0.0
    for pid in browser.pids():
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def own_cpu() -> float:
    return time.process_time()


def measure(fn, n: int, browser: pdf.Browser | None = None) -> tuple[float, float]:
    """(wall s, CPU s) per call, the mean of n calls after one warm-up call."""
    fn()
    walls, cpus = [], []
    for _ in range(n):
        c0, b0, t0 = own_cpu(), tree_cpu(browser) if browser else 0.0, time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(own_cpu() - c0 + ((tree_cpu(browser) - b0) if browser else 0.0))
    return statistics.mean(walls), statistics.mean(cpus)


def weasyprint(html: str, tmp: Path, n: int) -> tuple[float, float]:
    return measure(lambda: pdf.export_pdf(html, tmp / "w.pdf", tmp, engine="weasyprint"), n)


def chromium_new_page(html: str, exe: Path, n: int) -> tuple[float, float]:
    """A new target per print; the tree is sampled before the target is closed (its renderer still counts)."""
    with pdf.Browser(exe) as browser:
        samples: list[float] = []

        def once() -> None:
            c0, b0 = own_cpu(), tree_cpu(browser)
            target = browser._new_target()
            browser._print_on(target, html, time.monotonic() + pdf.PRINT_TIMEOUT)
            samples.append(own_cpu() - c0 + tree_cpu(browser) - b0)
            browser._browser_call("Target.closeTarget", {"targetId": target})
            time.sleep(0.3)       # the closed renderer exits before the next print is sampled

        wall, _ = measure(once, n)
        return wall, statistics.mean(samples[1:])


def chromium_warm_page(html: str, exe: Path, n: int) -> tuple[float, float]:
    with pdf.Browser(exe, pages=1) as browser:
        return measure(lambda: browser.print_pdf(html), n, browser)


def chromium_forked(html: str, exe: Path, n: int) -> tuple[float, float]:
    """The batch's way: each print in a child forked from the process that holds the warm browser
    (after gc.freeze, as local.warm_up does, so the child's garbage collector copies no pages)."""
    import gc

    gc.collect()
    gc.freeze()
    with pdf.Browser(exe, pages=1) as browser:
        def once(work: bool = True) -> None:
            pid = os.fork()
            if pid == 0:
                try:
                    if work:
                        browser.print_pdf(html)
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)

        def children() -> float:
            r = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r.ru_utime + r.ru_stime

        once()                    # the page's first print
        c0 = children()
        for _ in range(n):
            once(work=False)
        empty = (children() - c0) / n     # a fork that prints nothing: the report child's cost, not the PDF's
        c0, b0, t0 = children(), tree_cpu(browser), time.perf_counter()
        for _ in range(n):
            once()
        wall = (time.perf_counter() - t0) / n
        FORK_ALONE.append(empty)
        return wall, (children() - c0 + tree_cpu(browser) - b0) / n


FORK_ALONE: list[float] = []


def batch(clients: list[str], formats: str, engine: str, out: Path) -> tuple[float, float]:
    """(wall, CPU) of one `auditlib batch` over the clients, everything it started included (orphans too)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([str(BIN / "auditlib"), "batch", *clients, "--formats", formats, "--outputs", str(out),
                           "--pdf-engine", engine], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    reap(1.0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"batch ({formats}, {engine}) failed")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="a report.html (default: nl-delta-water's, made first)")
    parser.add_argument("--n", type=int, default=5, help="prints per engine after the warm-up (default 5)")
    parser.add_argument("--batch-clients", type=int, default=0,
                        help="also run `auditlib batch` over this many example clients per engine (default 0)")
    opts = parser.parse_args(argv)
    exe = pdf.find_chromium()
    if exe is None:
        raise SystemExit("no /usr/bin/chromium: run `make browser` as root")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmpdir:
        tmp = Path(tmpdir)
        path = opts.html
        if path is None:
            subprocess.run([str(BIN / "auditlib"), "run", "nl-delta-water", "--formats", "html", "--outputs",
                            str(tmp / "out")], cwd=REPO, check=True, capture_output=True)
            path = next((tmp / "out").glob("nl-delta-water/*/report.html"))
        html = path.read_text(encoding="utf-8")
        rows = [("weasyprint (warm process)", weasyprint(html, tmp, opts.n)),
                ("chromium, new page per print", chromium_new_page(html, exe, opts.n)),
                ("chromium, warm page", chromium_warm_page(html, exe, opts.n)),
                ("chromium, warm page, forked child", chromium_forked(html, exe, opts.n))]
        base = rows[0][1][1]
        print(f"\nPDF of {path.name} ({len(html) // 1000} kB HTML), mean of {opts.n} prints after a warm-up:")
        print(f"{'engine':36} {'wall s':>7} {'CPU s':>7} {'CPU vs weasyprint':>18}")
        for name, (wall, cpu) in rows:
            print(f"{name:36} {wall:7.2f} {cpu:7.2f} {cpu / base:17.2f}x")
        print(f"(a fork of this process that prints nothing costs {FORK_ALONE[0]:.2f} s of CPU; in the batch the "
              "report's child exists anyway)")
        if opts.batch_clients:
            clients_dir = REPO / "data" / "clients"
            clients = sorted(p.name for p in clients_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
            clients = clients[:opts.batch_clients]
            k = len(clients)
            subreaper()
            runs = [("html,xlsx", "weasyprint"), ("html,pdf,xlsx", "weasyprint"), ("html,pdf,xlsx", "chromium")]
            got = {run: batch(clients, run[0], run[1], tmp / f"b-{i}") for i, run in enumerate(runs)}
            plain = got[runs[0]][1] / k
            print(f"\n`auditlib batch` over {k} example clients (2 workers), CPU per report:")
            for formats, engine in runs:
                wall, cpu = got[(formats, engine)]
                extra = f"PDF +{cpu / k - plain:.2f} s" if "pdf" in formats else ""
                print(f"{formats:14} {engine if 'pdf' in formats else '':11} wall {wall:6.1f} s  CPU/report "
                      f"{cpu / k:5.2f} s  {extra}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

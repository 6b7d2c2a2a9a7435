"""`make bench`: every benchmark, one after another, each in a fresh process (figures measured in one run).

    .venv/bin/python benchmarks/run_all.py [--n N] [--clients N] [--baseline-clients K]

Runs benchmarks/bench_engine.py, bench_disclosure.py, bench_meeting.py, bench_batch.py (--n),
bench_issue.py (issue 12's targets as reductions against the code before the issue, in the same run), then
bench_scale.py (--clients, default 200: CPU per report for HTML only and for full-format reports,
local executor against a Dask LocalCluster with its fixed and per-report parts, the WeasyPrint
"before", the command-line loop on --baseline-clients of them, one cold `auditlib run`, the
per-phase profile before/after and the 1,300-report projection; about 20 min for 200 clients on an
idle 2-core machine); exits non-zero if one fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# None / "scale": this script's options
BENCHMARKS = [("bench_engine.py", []), ("bench_disclosure.py", []), ("bench_meeting.py", []),
              ("bench_batch.py", None), ("bench_issue.py", []), ("bench_scale.py", "scale")]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, help="clients for bench_batch.py (default 20)")
    parser.add_argument("--clients", type=int, default=200,
                        help="synthetic clients for the full-format scale run, bench_scale.py (default 200)")
    parser.add_argument("--baseline-clients", type=int, default=10,
                        help="clients for bench_scale.py's command-line loop baseline (default 10)")
    opts = parser.parse_args(sys.argv[1:] if argv is None else argv)
    passed = {None: ["--n", str(opts.n)] if opts.n else [],
              "scale": ["--clients", str(opts.clients), "--baseline-clients", str(opts.baseline_clients)]}
    status = 0
    for script, args in BENCHMARKS:
        print(f"=== {script} ===", flush=True)
        code = subprocess.call([sys.executable, str(HERE / script),
                                *(passed[args] if args is None or isinstance(args, str) else args)],
                               cwd=HERE.parent)
        if code:
            print(f"{script} exited with {code}", file=sys.stderr)
            status = status or code
        print(flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())

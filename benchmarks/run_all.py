"""`make bench`: every benchmark, one after another, each in a fresh process (figures measured in one run).

    .venv/bin/python benchmarks/run_all.py [--n N]     # --n is passed to bench_batch.py

Runs benchmarks/bench_engine.py, bench_disclosure.py, bench_meeting.py, then bench_batch.py;
exits non-zero if one fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [("bench_engine.py", []), ("bench_disclosure.py", []), ("bench_meeting.py", []),
              ("bench_batch.py", None)]   # None: gets this script's arguments


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    status = 0
    for script, args in BENCHMARKS:
        print(f"=== {script} ===", flush=True)
        code = subprocess.call([sys.executable, str(HERE / script), *(argv if args is None else args)],
                               cwd=HERE.parent)
        if code:
            print(f"{script} exited with {code}", file=sys.stderr)
            status = status or code
        print(flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())

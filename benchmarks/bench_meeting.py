"""Meeting speed: one what-if update, from the changed value to the redrawn numbers.

Measured on the headless meeting screen (auditlib.meeting.widgets.MeetingApp): setting the
what-if answer box runs the answer check, the scenario's positions in every peer group, the
what-if rule, dimension scores, label readiness with flipped criteria and the HTML of the
what-if pane (the numbers); then the scenario's handles, drawn in their own pane right after
(reported too). Reported as a ratio against a full analyse() of the same client in
the same run (cold: every group's statistics computed afresh, as bench_engine measures it), at
the shipped 1,300 rows and at 100,000 generated rows.

Targets (issue 11): <= 200 ms at 1,300 rows and <= 1 s at 100,000 rows per update.

Run: .venv/bin/python benchmarks/bench_meeting.py
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from _common import generator, timed  # noqa: E402
from auditlib.audit import analyse, reference_for  # noqa: E402
from auditlib.benchmark import load_benchmark  # noqa: E402
from auditlib.catalogue import load_catalogue  # noqa: E402
from auditlib.intake import load_client  # noqa: E402
from auditlib.meeting.session import MeetingSession  # noqa: E402
from auditlib.meeting.widgets import MeetingApp  # noqa: E402
from conftest import make_db  # noqa: E402

CLIENT = "nl-delta-water"
IND = "secured_funding_years"
VALUES = ("2", "3", "4", "0")


def main() -> int:
    catalogue = load_catalogue(REPO / "data" / "catalogue")
    shipped = load_benchmark(REPO / "data" / "benchmark" / "benchmark.csv", catalogue)
    big = make_db(generator().generate(100_000).set_index("org_id"), version="synthetic-100k")
    work = Path(tempfile.mkdtemp(prefix="bench-meeting-"))
    shutil.copytree(REPO / "data" / "clients" / CLIENT, work / CLIENT)
    client = load_client(work / CLIENT, catalogue)
    groups = list(catalogue.peers.default_groups)
    print(f"{'measure':<58}{'what-if':>10}{'analyse':>11}{'ratio':>8}")
    figures = {}
    try:
        for label, db, repeat in (("1,300 rows", shipped, 20), ("100,000 rows", big, 6)):
            ref = reference_for(db, catalogue)

            def cold():
                ref.cache.clear()
                analyse(client, catalogue=catalogue, benchmark=db, groups=groups)

            full = timed(cold, max(3, repeat // 2))
            app = MeetingApp(MeetingSession(work / CLIENT, catalogue=catalogue, benchmark=db, groups=groups))
            app.wi_indicator.value = IND
            counter = iter(range(10**6))
            drawn: list[float] = []
            app.wi_html.observe(lambda _: drawn.append(time.perf_counter()), names="value")
            numbers: list[float] = []

            def update():
                start = time.perf_counter()
                drawn.clear()
                app.wi_value.value = VALUES[next(counter) % len(VALUES)]
                numbers.append(drawn[0] - start)             # the numbers pane redrawn
                assert app.s.scenario is not None and "data-indicator" in app.wi_html.value
            update()                         # the first update warms the group statistics once
            numbers.clear()
            whole = timed(update, repeat)                     # ... and the handles pane after it
            one = statistics.median(numbers)
            figures[label] = (one, full)
            print(f"{'one what-if update: value -> redrawn numbers, ' + label:<58}"
                  f"{one * 1000:>8.1f}ms{full * 1000:>9.1f}ms{one / full:>7.2f}x")
            print(f"{'  same, with the scenario handles redrawn too':<58}"
                  f"{whole * 1000:>8.1f}ms{full * 1000:>9.1f}ms{whole / full:>7.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\ntargets: one what-if update <= 200 ms at 1,300 rows and <= 1 s at 100,000 rows")
    ok = figures["1,300 rows"][0] <= 0.2 and figures["100,000 rows"][0] <= 1.0
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

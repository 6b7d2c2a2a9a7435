"""The meeting screen in a real browser: Voilà on localhost, headless Chromium via Playwright.

Uses Debian's chromium (`make test` installs it; Playwright never downloads a browser here).
Without chromium the test is skipped on a developer's machine and FAILS under CI (CI=true), so
it can never be skipped silently where it matters. It takes the README's screenshot; with
AUDITLIB_UPDATE_SCREENSHOT=1 it replaces docs/meeting.png (otherwise the checkout is left as it
was: a test run never changes a tracked file).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from auditlib import present
from auditlib.meeting.session import MeetingSession
from auditlib.meeting.serve import start
from auditlib.disclosure import whatif_percentile
from auditlib.testing import REPO

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CLIENT = "nl-delta-water"
IND = "secured_funding_years"
SCREENSHOT = REPO / "docs" / "meeting.png"

pytestmark = pytest.mark.slow


def _browser_or_skip():
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is missing under CI: `make test` installs it (make browser)")
        pytest.skip("no /usr/bin/chromium (run `make browser` as root to install Debian's chromium)")
    return pytest.importorskip("playwright.sync_api")


def _wait_file_contains(path: Path, text: str, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file() and text in path.read_text(encoding="utf-8"):
            return True
        time.sleep(0.2)
    return False


def test_meeting_in_a_real_browser(tmp_path):
    sync_api = _browser_or_skip()
    clients = tmp_path / "clients"
    shutil.copytree(REPO / "data" / "clients" / CLIENT, clients / CLIENT)
    # what the screen must show after the change, from the library and the presentation layer
    session = MeetingSession(clients / CLIENT)
    session.set_answer(IND, 2)
    pct = session.shown.positions_in("field").set_index("indicator").at[IND, "percentile"]
    n = int(session.result.positions_in("field").set_index("indicator").at[IND, "n"])
    assert pct == whatif_percentile(pct, n, session.floor)[0]
    expected = present.percentile(pct, "en")
    real = present.percentile(session.result.positions_in("field").set_index("indicator").at[IND, "percentile"], "en")
    assert expected != real

    log = open(tmp_path / "voila.log", "wb")
    server = start({"client_id": CLIENT, "lang": "en", "clients_dir": str(clients),
                    "outputs_dir": str(tmp_path / "outputs")}, log=log)
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(server.url, timeout=90_000)
            page.wait_for_selector(".auditlib-meeting", timeout=90_000)
            # the widgets render: title, tabs, the overview's profile
            page.wait_for_selector("text=Interpretation meeting", timeout=30_000)
            assert page.locator(".mt-overview-html").inner_text().count("\n") > 5
            assert page.locator("text=Dimension profile against").count() >= 1
            # change one answer: the shown percentile changes to what the library says
            page.get_by_role("tab", name="What-if").click()
            page.locator(".mt-wi-indicator select").select_option(label="Years of secured funding")
            box = page.locator(".mt-wi-value input")
            # the kernel has taken the choice when the box shows the real answer (a loaded machine
            # may take seconds); only then type the new one
            sync_api.expect(box).to_have_value("1", timeout=60_000)
            box.fill("2")
            box.press("Enter")
            row = page.locator(f'.mt-wi-html tr[data-indicator="{IND}"][data-group="field"]')
            row.wait_for(timeout=60_000)
            cells = row.locator("td").all_inner_texts()
            assert cells[2] == real and cells[3] == expected, cells
            assert page.locator('.mt-wi-html tr.flip[data-criterion="q15"]').count() == 1
            shot = tmp_path / "meeting.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            if os.environ.get("AUDITLIB_UPDATE_SCREENSHOT") == "1":
                shutil.copyfile(shot, SCREENSHOT)
            # save a note: it lands in notes.yaml
            page.get_by_role("tab", name="Notes").click()
            page.locator(".mt-note-text textarea").fill("Written in the browser test.")
            page.locator(".mt-note-new").click()
            page.locator(".mt-notes-save").click()
            assert _wait_file_contains(clients / CLIENT / "notes.yaml", "Written in the browser test.")
            page.locator(".mt-notes-msg", has_text="Notes saved").wait_for(timeout=10_000)
            browser.close()
    finally:
        server.stop()
        log.close()

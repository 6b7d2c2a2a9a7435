"""The report's PDF engines (auditlib/report/pdf.py): Chromium's print of the report page, the warm pool, the lockdown.

Cheap by design: one small page made by the real exporter (export_html: the report's CSS, a chart as an
SVG data: image) printed by one module-wide browser; no notebook is run. The browser opens no port: it
speaks DevTools over a pipe to its broker (auditlib/report/devtools.py), which listens on a private
Unix socket. Without /usr/bin/chromium the Chromium tests are skipped on a developer's machine and FAIL
under CI (CI=true), as the meeting's browser test does.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path

import pytest

from auditlib.errors import AuditError, ParameterError, ProblemCode
from auditlib.report import devtools, pdf
from auditlib.report.finalise import check_html, export_html

# A name that tries every way out of a CSS string and the <style> element, with a line break.
CLIENT = 'Zq "Ω" \\ </style><p>x</p> url(a) line\nbreak'
SHOWN = 'Zq "Ω" \\ </style><p>x</p> url(a) line break'      # one line in the footer, literally
CHART_WORD = "Chartlabel"
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="120" viewBox="0 0 300 120">'
       '<rect x="10" y="10" width="200" height="60" fill="#1f4e79"/>'
       f'<text x="20" y="100" font-family="DejaVu Sans" font-size="14">{CHART_WORD}</text></svg>')


def _chromium_or_skip() -> Path:
    exe = pdf.find_chromium()
    if exe is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is missing under CI: `make test` installs it (make browser)")
        pytest.skip("no /usr/bin/chromium (run `make browser` as root to install Debian's chromium)")
    return exe


def _page(lang: str) -> str:
    """A three-page report page from the real exporter: text sections, a chart, the footer's client."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cells = []
    for n in range(3):
        cells.append(nbformat.v4.new_markdown_cell(f'<h2 class="section">Section {n}</h2>\n\n'
                                                   + "Some selectable text of the report. " * 20))
    chart = nbformat.v4.new_code_cell("display(chart)", metadata={"tags": ["remove_input"]})
    chart.outputs = [nbformat.v4.new_output("display_data", {"image/svg+xml": SVG, "text/plain": ""})]
    cells.insert(2, chart)
    nb.cells = cells
    return export_html(nb, lang=lang, title="Report", client=CLIENT)


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {"en": _page("en"), "nl": _page("nl")}


@pytest.fixture(scope="module")
def browser():
    exe = _chromium_or_skip()
    b = pdf.Browser(exe, pages=1)
    yield b
    b.close()


def _texts(data: bytes) -> list[str]:
    import io

    import pypdf

    return [" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def _image_xobjects(data: bytes) -> int:
    import io

    import pypdf

    count = 0
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        stack = list(xobjects.values())
        while stack:
            obj = stack.pop().get_object()
            if obj.get("/Subtype") == "/Image":
                count += 1
            elif obj.get("/Subtype") == "/Form":
                stack += list(((obj.get("/Resources") or {}).get("/XObject") or {}).values())
    return count


# --- the page: CSS string, footer, page numbers, text, vector charts -----------------------------------

def test_the_client_name_is_one_css_string_that_cannot_escape(pages):
    literal = pdf.css_string(CLIENT)
    assert literal.startswith('"') and literal.endswith('"') and '"' not in literal[1:-1]
    assert "<" not in literal and "\n" not in literal and "url(" not in literal
    html = pages["en"]
    assert not check_html(html)                       # a name with url( and </style> does not trip the check
    assert html.count("</style>") == 1                # the name did not close the style element
    assert f"content: {literal};" in html


@pytest.mark.parametrize("lang, word", [("en", "Page"), ("nl", "Pagina")])
def test_chromium_prints_page_numbers_the_footer_text_and_vector_charts(browser, pages, lang, word):
    data = browser.print_pdf(pages[lang])
    texts = _texts(data)
    n = len(texts)
    assert n >= 3
    for i, text in enumerate(texts, 1):
        assert f"{word} {i} / {n}" in text, (i, text[:200])
    assert SHOWN not in texts[0]                      # no footer on the cover page
    assert all(SHOWN in t for t in texts[1:]), texts[1]
    assert "Some selectable text of the report" in texts[0]
    assert any(CHART_WORD in t for t in texts)        # the chart's text is text: the SVG stayed vector
    assert _image_xobjects(data) == 0                 # and no chart was rasterised


def test_only_the_printed_copy_is_held_from_the_screen(pages):
    """SCREEN_HOLD goes first in the copy's <head> (the doctype stays first), never into the report."""
    html = pages["en"]
    assert pdf.SCREEN_HOLD not in html
    held = pdf.held_for_print(html)
    assert held.replace(pdf.SCREEN_HOLD, "", 1) == html
    assert held.index("<head>") < held.index(pdf.SCREEN_HOLD) < held.index("<meta")
    assert held.lstrip().lower().startswith("<!doctype html>")
    assert "@media screen" in pdf.SCREEN_HOLD and "print" not in pdf.SCREEN_HOLD
    assert pdf.held_for_print("<!DOCTYPE html><p>x</p>") == "<!DOCTYPE html>" + pdf.SCREEN_HOLD + "<p>x</p>"
    assert pdf.held_for_print("<p>x</p>") == pdf.SCREEN_HOLD + "<p>x</p>"


def _evaluate(warm: pdf.Browser, target: str, expression: str, html: str | None = None):
    """`expression`'s value in the page `target` (its content set to `html` first when given)."""
    with devtools.Client(warm.socket_path, time.monotonic() + 30, pdf.BrowserGone) as cdp:
        session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            if html is not None:
                frame = cdp.send("Page.getFrameTree", session=session)["frameTree"]["frame"]["id"]
                cdp.send("Page.setDocumentContent", {"frameId": frame, "html": html}, session)
            return cdp.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                            session)["result"]["value"]
        finally:
            cdp.send("Target.detachFromTarget", {"sessionId": session})


def test_the_page_lays_out_nothing_for_the_screen_and_prints_the_same_pdf(browser, pages, monkeypatch):
    """The held copy's content is not laid out for the screen (content-visibility: hidden, print media
    not matched), while its PDF is byte for byte the one printed without the hold."""
    extra = browser._new_target()
    try:
        screen = _evaluate(browser, extra, "[matchMedia('print').matches, getComputedStyle(document.body)"
                           ".contentVisibility, document.body.getBoundingClientRect().height]",
                           pdf.held_for_print(pages["en"]))
        assert screen == [False, "hidden", 0]    # on the screen the body's content is not laid out
    finally:
        browser._browser_call("Target.closeTarget", {"targetId": extra})
    sent: list[tuple[str, dict]] = []
    real = devtools.Client.send

    def send(self, method, params=None, session=None):
        sent.append((method, params or {}))
        return real(self, method, params, session)

    monkeypatch.setattr(devtools.Client, "send", send)
    held = browser.print_pdf(pages["en"])
    contents = [params["html"] for method, params in sent if method == "Page.setDocumentContent"]
    assert contents[0] == pdf.held_for_print(pages["en"])       # the print sets the held copy
    assert not [m for m, _ in sent if m.startswith("Emulation.")]  # print media emulated would lay it out
    monkeypatch.setattr(pdf, "held_for_print", lambda html: html)
    assert browser.print_pdf(pages["en"]) == held


def test_a_cold_run_prints_on_the_page_chromium_opened_at_start(browser, pages, monkeypatch):
    """`browser_session` (one cold `auditlib run`) does not wait for the start, and its print uses the
    page Chromium opened with it, so no renderer is spawned for the one PDF; the bytes are those of
    the warm pool's print."""
    exe = _chromium_or_skip()
    created: list[str] = []
    real = pdf.Browser._new_target
    monkeypatch.setattr(pdf.Browser, "_new_target", lambda self: created.append("new") or real(self))
    monkeypatch.setitem(pdf._WARM, "browser", None)
    with pdf.browser_session("chromium", exe) as cold:
        assert cold is not None and not cold._started                # the session did not wait
        (slot,) = cold.slots
        assert slot.read_text(encoding="ascii") == ""
        printed = cold.print_pdf(pages["en"])
        opened = [t["targetId"] for t in cold._browser_call("Target.getTargets")["targetInfos"]
                  if t.get("type") == "page"]
        assert opened == [slot.read_text(encoding="ascii")]          # the page it opened, and no other
        assert cold.print_pdf(pages["nl"]) != printed                 # and the slot is used again
    assert created == []
    assert printed == browser.print_pdf(pages["en"])


def test_weasyprint_prints_the_same_footer_and_auto_falls_back_to_it(pages, tmp_path):
    """A Chromium that is installed but cannot start: "auto" prints with WeasyPrint, "chromium" says why."""
    pytest.importorskip("weasyprint")
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'no usable sandbox' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(AuditError, match="exited at start.*no usable sandbox"):
        pdf.export_pdf(pages["en"], tmp_path / "c.pdf", tmp_path, engine="chromium", chromium=broken)
    out = tmp_path / "w.pdf"
    assert pdf.export_pdf(pages["en"], out, tmp_path, engine="auto", chromium=broken) == "weasyprint"
    texts = _texts(out.read_bytes())
    assert SHOWN not in texts[0] and SHOWN in texts[1]
    assert f"Page 2 / {len(texts)}" in texts[1]


# --- nothing leaves the browser --------------------------------------------------------------------------

class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - the handler's name
        type(self).seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _leaky_page(port: int) -> str:
    """A page with external resources injected past check_html (as a bug in the exporter would)."""
    return (f'<!DOCTYPE html><html><head><style>body {{ background: url("http://127.0.0.1:{port}/css.png"); }}'
            f'</style></head><body><p>leak</p><img src="http://127.0.0.1:{port}/img.png">'
            f'<img src="http://localhost:{port}/host.png"></body></html>')


def test_the_browser_loads_no_external_resource(browser, recorder):
    browser.print_pdf(_leaky_page(recorder.server_address[1]))
    time.sleep(0.3)
    assert _Recorder.seen == []


def test_without_the_lockdown_the_same_page_would_reach_the_network(recorder, monkeypatch):
    """The check above can fail: the very page, on a browser without the lockdown flags, fetches."""
    exe = _chromium_or_skip()
    monkeypatch.setattr(pdf, "LOCKDOWN_FLAGS", ())
    with pdf.Browser(exe) as open_browser:
        open_browser.print_pdf(_leaky_page(recorder.server_address[1]))
    assert "/img.png" in _Recorder.seen


# --- choosing the engine -----------------------------------------------------------------------------------

def test_engine_selection(tmp_path):
    missing = tmp_path / "no-chromium"
    assert pdf.resolve_engine("auto", missing) == ("weasyprint", None)
    assert pdf.resolve_engine("weasyprint", None) == ("weasyprint", None)
    with pytest.raises(ParameterError) as err:
        pdf.resolve_engine("chromium", missing)
    assert err.value.code == ProblemCode.FILE_MISSING and str(missing) in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(ParameterError) as err:
        pdf.resolve_engine("princexml", None)
    assert err.value.code == ProblemCode.UNKNOWN_VALUE
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert pdf.resolve_engine("auto", fake) == ("chromium", fake)
    assert pdf.resolve_engine(" Chromium ", fake) == ("chromium", fake)


def test_the_cli_refuses_a_missing_chromium_in_one_line(tmp_path, monkeypatch, capsys):
    from auditlib.cli import main

    monkeypatch.setenv("AUDITLIB_CHROMIUM", str(tmp_path / "no-chromium"))
    code = main(["run", "nl-delta-water", "--pdf-engine", "chromium", "--outputs", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: the chromium PDF engine needs Chromium at") and err.count("\n") == 1
    assert "Traceback" not in err and not (tmp_path / "out" / "nl-delta-water").exists()
    monkeypatch.setenv("AUDITLIB_PDF_ENGINE", "chromium")     # the environment alone asks for it too
    assert main(["batch", "nl-delta-water", "--outputs", str(tmp_path / "out")]) == 1
    assert "chromium PDF engine needs Chromium" in capsys.readouterr().err


# --- the warm pool of a forking process ------------------------------------------------------------------

def _fork(fn) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        finally:
            os._exit(code)
    return pid


def _child_print(html: str, out: Path, exe: Path):
    return lambda: pdf.export_pdf(html, out, out.parent, engine="chromium", chromium=exe)


def _browser_processes() -> list:
    import psutil

    return [p for p in psutil.Process().children(recursive=True) if "chromium" in p.name()]


def _dies_mid_print(warm: pdf.Browser, html: str):
    """A child that sends Page.printToPDF on its page's session and is SIGKILLed before the answer comes."""
    def run():
        def send(self, method, params=None, session=None):
            if method == "Page.printToPDF":     # (not id-first: the broker's parsing path)
                self.sock.sendall(json.dumps({"method": method, "id": 99, "sessionId": session,
                                              "params": params}).encode() + b"\0")
                time.sleep(0.05)
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, method, params, session)

        real = devtools.Client.send
        devtools.Client.send = send
        warm.print_pdf(html)
    return run


def _pages_attached(warm: pdf.Browser) -> dict[str, bool]:
    infos = warm._browser_call("Target.getTargets")["targetInfos"]
    return {t["targetId"]: t["attached"] for t in infos if t["type"] == "page"}


def test_forked_children_print_on_the_warm_pool_and_a_killed_child_leaves_it_usable(browser, pages, tmp_path):
    import psutil

    exe = _chromium_or_skip()
    warm = pdf.start_warm_browser("chromium", exe, pages=2, warm_html=pages["en"])
    try:
        assert warm is not None and pdf.warm_browser() is warm
        root, broker = warm.proc.pid, warm.broker.pid
        targets = sorted(p.read_text() for p in warm.slots)
        expected = {lang: warm.print_pdf(pages[lang]) for lang in ("en", "nl")}   # printed by the owner
        assert expected["en"] != expected["nl"]
        # a child that dies in the middle of a print, holding a page
        pid = _fork(lambda: [warm.print_pdf(pages["en"]) for _ in range(50)])
        time.sleep(0.4)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        # one killed while its printToPDF is in Chromium: the broker drops that answer, detaches its session
        pid = _fork(_dies_mid_print(warm, pages["nl"]))
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == -signal.SIGKILL
        # two children at once, two different reports: each takes a free warm page, on the same browser,
        # and gets its own report's PDF (the broker routed each answer to the connection that asked)
        outs = {lang: tmp_path / f"{lang}.pdf" for lang in ("en", "nl")}
        pids = [_fork(_child_print(pages[lang], out, exe)) for lang, out in outs.items()]
        assert [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids] == [0, 0]
        for lang, word in (("en", "Page"), ("nl", "Pagina")):
            data = outs[lang].read_bytes()
            assert f"{word} 2 / {len(_texts(data))}" in _texts(data)[1]
            assert data == expected[lang]                # byte-identical to the owner's print of the same page
        assert warm.proc.pid == root and warm.broker.pid == broker and warm.alive()
        # one browser process for the pool (besides the module's own browser): no child started another
        assert {p.pid for p in _browser_processes() if p.ppid() == os.getpid()} == {root, browser.proc.pid}
        assert sorted(p.read_text() for p in warm.slots) == targets   # the same warm pages served them
        for _ in range(50):                              # no session left attached by the killed children
            attached = _pages_attached(warm)
            if not any(attached.values()):
                break
            time.sleep(0.1)
        assert sorted(attached) == targets and not any(attached.values()), attached   # and no extra page
        # the browser crashes: its broker exits with it, the next print still succeeds, and the parent
        # restarts it before a fork
        crashed = [psutil.Process(p) for p in warm.pids()]
        os.kill(root, signal.SIGKILL)
        warm.proc.wait(timeout=10)
        assert warm.broker.wait(timeout=10) == 0          # on its own, when Chromium's pipe closed
        out = tmp_path / "after-crash.pdf"
        pid = _fork(_child_print(pages["en"], out, exe))
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 and out.stat().st_size > 1000
        pdf.ensure_warm_browser()
        again = pdf.warm_browser()
        assert again is not None and again is not warm and again.alive() and len(again.slots) == 2
        procs = [psutil.Process(p) for p in again.pids()]
        profile = again.dir
    finally:
        pdf.close_warm_browser()
    # shut down: no process of either browser left (renderers and brokers included), the profile removed
    gone, alive = psutil.wait_procs(procs + crashed, timeout=10)
    assert alive == [] and not profile.exists()
    assert pdf.warm_browser() is None
    assert {p.pid for p in _browser_processes() if p.ppid() == os.getpid()} == {browser.proc.pid}


# --- no port: the DevTools pipe, its broker and their private socket ----------------------------------------

def test_more_printers_than_pages_print_on_a_page_of_their_own_and_close_it(pages):
    """A pool of one page, three prints at once: those that find the page busy print on a page of their
    own and close it; the same bytes, the browser alive, one page left."""
    exe = _chromium_or_skip()
    with pdf.Browser(exe, pages=1) as browser:
        printed: list[bytes] = []
        threads = [threading.Thread(target=lambda: printed.append(browser.print_pdf(pages["en"])))
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(0.5)
        assert len(printed) == 3 and len(set(printed)) == 1 and browser.alive()
        infos = browser._browser_call("Target.getTargets")["targetInfos"]
        assert len([t for t in infos if t["type"] == "page"]) == 1


def test_the_browser_listens_on_no_tcp_port_and_its_broker_on_a_private_socket(browser, pages):
    import psutil

    browser.print_pdf(pages["en"])                     # everything started: renderer, print compositor
    args = psutil.Process(browser.proc.pid).cmdline()
    assert "--remote-debugging-pipe" in args
    assert not [a for a in args if a.startswith(("--remote-debugging-port", "--remote-debugging-address"))]
    checked = set()
    for pid in browser.pids():                         # no TCP or UDP socket at all, listening or not
        try:
            proc = psutil.Process(pid)
            assert proc.net_connections(kind="inet") == [], (proc.name(), proc.cmdline()[:3])
        except psutil.NoSuchProcess:                   # a print's short-lived compositor ended meanwhile
            continue
        checked.add(pid)
    assert {browser.proc.pid, browser.broker.pid} <= checked and len(checked) >= 3
    # the broker's one socket: a Unix socket in the browser's folder, which only this account may enter
    path = browser.socket_path
    assert stat.S_ISSOCK(path.stat().st_mode) and path.parent == browser.dir
    folder = browser.dir.stat()
    assert stat.S_IMODE(folder.st_mode) == 0o700 and folder.st_uid == os.getuid()
    broker = psutil.Process(browser.broker.pid).net_connections(kind="all")
    assert [c.laddr for c in broker if c.family == socket.AF_UNIX and not c.raddr] == [str(path)]
    with devtools.Client(path, time.monotonic() + 10) as cdp:    # and it is the DevTools endpoint
        assert cdp.send("Browser.getVersion")["product"].startswith(("Chrome/", "HeadlessChrome/"))


def test_a_killed_broker_stops_its_browser_and_the_warm_browser_is_restarted(pages, tmp_path):
    """No browser is left without its broker: Chromium exits when the pipe's other end closes."""
    exe = _chromium_or_skip()
    warm = pdf.start_warm_browser("chromium", exe, pages=1)
    try:
        assert warm is not None
        os.kill(warm.broker.pid, signal.SIGKILL)
        warm.proc.wait(timeout=15)                       # on its own: nobody else stopped it
        assert not warm.alive()
        out = tmp_path / "after.pdf"                     # a child's print still succeeds (a browser of its own)
        pid = _fork(_child_print(pages["en"], out, exe))
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 and out.stat().st_size > 1000
        pdf.ensure_warm_browser()                        # and the owner restarts it before the next fork
        again = pdf.warm_browser()
        assert again is not None and again is not warm and again.alive()
        assert again.print_pdf(pages["en"]).startswith(b"%PDF")
    finally:
        pdf.close_warm_browser()


def test_a_hung_warm_browser_is_replaced_before_the_next_report(pages, tmp_path, monkeypatch):
    """A warm browser that stops answering but stays alive (SIGSTOP): the report whose print times out
    prints on a browser of its own and marks the warm one; the owner replaces it before the next fork,
    so the next report prints on a warm browser again instead of waiting out its timeout."""
    import psutil

    exe = _chromium_or_skip()
    monkeypatch.setattr(pdf, "PRINT_TIMEOUT", 3.0)
    warm = pdf.start_warm_browser("chromium", exe, pages=1)
    hung: list = []
    try:
        assert warm is not None and warm.failed() is None
        hung = [psutil.Process(p) for p in warm.pids()]
        os.kill(warm.proc.pid, signal.SIGSTOP)
        out = tmp_path / "hung.pdf"
        pid = _fork(_child_print(pages["en"], out, exe))
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 and out.read_bytes().startswith(b"%PDF")
        assert warm.alive() and "timed out" in (warm.failed() or "")   # alive: only the mark tells
        pdf.ensure_warm_browser()
        again = pdf.warm_browser()
        assert again is not None and again is not warm and again.alive() and len(again.slots) == 1
        pid = _fork(_child_print(pages["en"], tmp_path / "next.pdf", exe))
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        assert (tmp_path / "next.pdf").read_bytes() == out.read_bytes()
        assert again.failed() is None                        # printed on the new warm browser
        pdf.ensure_warm_browser()
        assert pdf.warm_browser() is again                   # a browser that answers is kept
    finally:
        pdf.close_warm_browser()
    gone, alive = psutil.wait_procs(hung, timeout=10)        # the hung browser's processes are gone
    assert alive == []


def test_the_browser_starts_when_fork_handlers_close_the_parents_files():
    """The batch's parent holds files that filelock's and matplotlib's fork handlers close in every forked
    child (os.register_at_fork), at fds 3 and 4 among others: the pipe's fds must not depend on them."""
    import subprocess
    import sys

    exe = _chromium_or_skip()
    code = ("import os, sys\n"
            "held = [os.open(os.devnull, os.O_RDONLY) for _ in range(8)]\n"
            "os.register_at_fork(after_in_child=lambda: [os.close(fd) for fd in held])\n"
            "from auditlib.report import pdf\n"
            "with pdf.Browser(sys.argv[1], pages=1) as b:\n"
            "    sys.stdout.write(repr(sorted(held)[:2]) + repr(b.print_pdf('<p>x</p>')[:5]))\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-c", code, str(exe)], capture_output=True, text=True, timeout=120,
                          env=env)
    assert proc.stdout == "[3, 4]b'%PDF-'", proc.stdout + proc.stderr[-2000:]


def _connect_as_nobody(path: Path) -> str:
    """What another account gets from the broker's socket: run in a child that drops root for uid 65534."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                with devtools.Client(path, time.monotonic() + 5) as cdp:
                    cdp.send("Browser.getVersion")
                said = "answered"
            except (OSError, ConnectionError) as exc:
                said = type(exc).__name__ + ": " + str(exc)
            os.write(write, said.encode()[:500])
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as said:
        return said.read().decode()


def test_another_account_cannot_reach_the_broker(browser):
    """The folder keeps another uid from the socket; opened up, the broker itself refuses the peer (SO_PEERCRED)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to act as another account")
    said = _connect_as_nobody(browser.socket_path)
    assert "Permission denied" in said, said
    folder, sock = browser.dir.stat().st_mode, browser.socket_path.stat().st_mode
    try:                 # as if the folder and the socket were open to everyone: the second wall holds
        browser.dir.chmod(0o711)
        browser.socket_path.chmod(0o777)
        said = _connect_as_nobody(browser.socket_path)
    finally:
        browser.dir.chmod(stat.S_IMODE(folder))
        browser.socket_path.chmod(stat.S_IMODE(sock))
    assert said.startswith("ConnectionError") and "answered" not in said, said
    assert browser.alive()


def test_the_broker_and_the_browser_die_with_their_owner(tmp_path):
    """An owner killed with SIGKILL (a lost Dask worker's fork server): its browser and broker die with it,
    and the next browser removes the folder it left."""
    import psutil

    exe = _chromium_or_skip()
    # the owner's profile in a temp folder of this test's own: a browser started meanwhile by a test in
    # another worker removes stale folders from the shared one (as it should), which raced this check
    # (a short path: the DevTools socket's address has a length limit)
    private = Path(tempfile.mkdtemp(prefix="t-", dir="/tmp"))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            tempfile.tempdir = str(private)
            b = pdf.Browser(exe, pages=1)
            os.write(write, json.dumps([b.pids(), str(b.dir)]).encode())
            os.close(write)
            time.sleep(60)
        finally:
            os._exit(1)
    os.close(write)
    try:
        with os.fdopen(read, "rb") as got:
            pids, folder = json.loads(got.read())
        procs = [psutil.Process(p) for p in pids]
        assert len(procs) >= 2 and any(p.name() == "chromium" for p in procs)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        gone, alive = psutil.wait_procs(procs, timeout=15)
        assert alive == []
        assert Path(folder).parent == private and Path(folder).is_dir()
        from auditlib.files import remove_orphaned_temp_dirs

        assert remove_orphaned_temp_dirs(pdf.PROFILE_PREFIX, private) == [Path(folder)]
        assert not Path(folder).exists()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def test_a_killed_owners_browser_profile_is_removed_by_the_next_browser(tmp_path, monkeypatch):
    """A process killed with its browser (SIGKILL) leaves its profile folder; the next start removes it
    (which folders count as orphaned: tests/test_files.py). The new folder records its owner."""
    import json
    import socket
    import subprocess
    import sys

    from auditlib.files import OWNER_FILE, _owner

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(gone.stdout)
    stale = tmp_path / f"{pdf.PROFILE_PREFIX}{dead_pid}-abc123"
    (stale / "profile").mkdir(parents=True)
    (stale / "profile" / "Cookies").write_text("x")
    (stale / OWNER_FILE).write_text(json.dumps({"host": socket.gethostname(), "pid": dead_pid, "started": 1.0}))
    monkeypatch.setattr(pdf.Browser, "_start", lambda self, *a, **k: None)        # the folder, not a browser
    browser = pdf.Browser("/bin/true", pages=0)
    assert not stale.exists()
    assert browser.dir.parent == tmp_path and browser.dir.name.startswith(f"{pdf.PROFILE_PREFIX}{os.getpid()}-")
    assert json.loads((browser.dir / OWNER_FILE).read_text()) == _owner(os.getpid())
    browser.close()
    assert not browser.dir.exists()

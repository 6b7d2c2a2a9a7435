"""The report's PDF: engines found by name (like papermill's engines), printing the very HTML the client gets.

    chromium    Debian's headless Chromium driven over the DevTools protocol (no node driver):
                vector charts (the SVG images stay vector), selectable text, page numbers from the
                CSS @page margin boxes, `break-inside: avoid` honoured. Fast when warm: the batch
                starts one browser per forking process (`start_warm_browser`) with a small pool of
                page targets, and each forked child prints on a free, warm page. The browser opens
                no port: it speaks DevTools over a pipe owned by a broker process, reached through a
                Unix socket in the browser's private folder (auditlib/report/devtools.py). A warm
                browser that exited, or on which a print failed (a hung browser stays alive), is
                replaced before the next report is forked (`ensure_warm_browser`).
    weasyprint  pure Python on the system's Pango: no browser needed, about 8x the CPU of a warm
                Chromium for the full report (docs/performance.md).

`resolve_engine("auto")` is chromium when its executable is found (/usr/bin/chromium or the
`chromium` setting), else weasyprint; asking for chromium without it is a ParameterError
(code FILE_MISSING). The engine comes from Settings (AUDITLIB_PDF_ENGINE, `--pdf-engine`), read
at the entry points and passed down.

The browser is locked down (no request leaves it): every URL goes through a proxy at a closed
local port (`--proxy-server=http://127.0.0.1:9`, with `<-loopback>` so localhost is no
exception), every host name resolves to nothing (`--host-resolver-rules`), and the page is set
as the content of an about:blank page, so it has no file:// origin either. check_html has
already refused any external URL; this is the second wall.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from auditlib.errors import AuditError, ParameterError, ProblemCode
from auditlib.files import owned_temp_dir
from auditlib.report import devtools

_log = logging.getLogger(__name__)

ENGINE_CHOICES = ("auto", "chromium", "weasyprint")
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
START_TIMEOUT = 30.0        # seconds for the browser to answer its first command (its start)
PRINT_TIMEOUT = 120.0       # seconds for one print, every DevTools wait included
# Chromium's print options: the CSS @page size and margins rule; no tagged PDF (costs ~0.4 s a report)
PRINT_OPTIONS = {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False,
                 "generateTaggedPDF": False, "generateDocumentOutline": False}
# Everything in the page is decoded before printing (data: images load asynchronously).
_READY_JS = ("Promise.all(Array.from(document.images, i => i.decode().catch(() => null)))"
             ".then(() => document.fonts.ready).then(() => document.images.length)")
LOCKDOWN_FLAGS = ("--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                  "--host-resolver-rules=MAP * ~NOTFOUND")
# Added to the copy Chromium prints (never to the report): nobody looks at the page on its screen, so
# its content is not laid out for the screen at all, only for print (about 20 % less CPU per print,
# the same PDF bytes). Print media does not match it, so the PDF is what it was.
SCREEN_HOLD = "<style>@media screen { body { content-visibility: hidden; } }</style>"
_HEAD_TAG = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_DOCTYPE = re.compile(r"\s*<!doctype[^>]*>", re.IGNORECASE)


# --- choosing the engine -------------------------------------------------------------------------------

def css_string(text: str) -> str:
    """`text` as one quoted CSS string that cannot end the string, the rule or the <style> element.

    Letters, digits and spaces stay; every other character is a CSS hex escape ('<' is \\3c , so
    '</style>' never closes the element, and 'url(' or '@import' never reads as one); a line
    break becomes a space (the footer is one line)."""
    out = []
    for ch in " ".join(str(text).split()):
        out.append(ch if (ch.isalnum() or ch == " ") else f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


def find_chromium(path: str | Path | None = None) -> Path | None:
    """The Chromium executable: `path` if given, else /usr/bin/chromium; None when it is not there."""
    candidate = Path(path) if path else DEFAULT_CHROMIUM
    if not candidate.is_absolute():
        found = shutil.which(str(candidate))
        candidate = Path(found) if found else candidate
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def resolve_engine(engine: str | None = "auto", chromium: str | Path | None = None) -> tuple[str, Path | None]:
    """(engine name, chromium executable or None) for a setting: auto | chromium | weasyprint.

    Raises
    ------
    ParameterError
        An unknown engine (UNKNOWN_VALUE), or chromium asked for and not found (FILE_MISSING).
    """
    name = (engine or "auto").strip().lower()
    if name not in ENGINE_CHOICES and name not in _ENGINES:
        raise ParameterError(f"unknown PDF engine {engine!r}; expected one of {', '.join(engine_names())}",
                             code=ProblemCode.UNKNOWN_VALUE, place="pdf_engine")
    if name in ("auto", "chromium"):
        exe = find_chromium(chromium)
        if exe is not None:
            return "chromium", exe
        if name == "chromium":
            where = chromium or DEFAULT_CHROMIUM
            raise ParameterError(f"the chromium PDF engine needs Chromium at {where}, which is not there: install it "
                                 "as root with 'make browser' (apt-get install chromium), give its path in "
                                 "AUDITLIB_CHROMIUM, or use --pdf-engine weasyprint", code=ProblemCode.FILE_MISSING,
                                 place="pdf_engine")
        return "weasyprint", None
    return name, None


_PDF_DATES = re.compile(rb"/(?:CreationDate|ModDate) *\(D:[0-9Z+\-']*\)")


def without_time_of_day(pdf: bytes) -> bytes:
    """Chromium's PDF with its CreationDate and ModDate blanked (same inputs, same bytes, as WeasyPrint's).

    Each entry becomes spaces of the same length, so the cross-reference offsets stay right and
    the information dictionary stays valid (whitespace between its entries)."""
    return _PDF_DATES.sub(lambda m: b" " * len(m.group(0)), pdf)


def held_for_print(html: str) -> str:
    """The page as Chromium prints it: SCREEN_HOLD first in its <head> (after the doctype when it has none)."""
    found = _HEAD_TAG.search(html) or _DOCTYPE.match(html)
    at = found.end() if found else 0
    return html[:at] + SCREEN_HOLD + html[at:]


# --- the engines ---------------------------------------------------------------------------------------

def _weasyprint(html: str, out: Path, base_dir: Path, chromium: Path | None) -> None:
    """WeasyPrint: pure Python on Pango; only data: URIs may be read, anything else stops the print."""
    import warnings

    with warnings.catch_warnings():   # "HarfBuzz-Subset will be required": fontTools subsets meanwhile
        warnings.filterwarnings("ignore", message=".*HarfBuzz-Subset.*")
        import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    fetcher: Any
    try:  # WeasyPrint >= 70: a fetcher object
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols=["data"], fail_on_errors=True)
    except ImportError:  # older WeasyPrint: a fetcher function
        def fetcher(url: str, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError(f"the report may not load external resources: {url[:60]}")
            return weasyprint.default_url_fetcher(url, *args, **kwargs)

    weasyprint.HTML(string=html, base_url=str(base_dir), url_fetcher=fetcher).write_pdf(str(out))


def _chromium(html: str, out: Path, base_dir: Path, chromium: Path | None) -> None:
    """Chromium: the warm browser this process inherited when there is one, else a browser for this print."""
    assert chromium is not None, "resolve_engine found the executable"
    warm = _WARM.get("browser")
    if isinstance(warm, Browser) and warm.executable == chromium:
        try:
            out.write_bytes(warm.print_pdf(html))
            return
        except BrowserGone as exc:      # crashed or hung mid-batch: this print on a browser of its own,
            warm.mark_failed(str(exc))  # and the owner starts another before the next report
            _log.warning("the warm Chromium failed (%s); printing on a fresh one", exc)
    with Browser(chromium) as browser:
        out.write_bytes(browser.print_pdf(html))


_ENGINES: dict[str, Callable[[str, Path, Path, Path | None], None]] = {
    "chromium": _chromium, "weasyprint": _weasyprint}


def register_engine(name: str, render: Callable[[str, Path, Path, Path | None], None]) -> None:
    """Make `render(html, out, base_dir, chromium)` the PDF engine called `name`."""
    _ENGINES[name] = render


def engine_names() -> list[str]:
    return ["auto", *sorted(_ENGINES)]


def export_pdf(html: str, out: Path, base_dir: Path, *, engine: str | None = "auto",
               chromium: str | Path | None = None) -> str:
    """Print the report's HTML to `out` with the engine asked for; returns the engine used.

    Parameters
    ----------
    html, out, base_dir
        The checked page (check_html), the PDF's path, the folder relative URLs would be read from.
    engine, chromium
        auto | chromium | weasyprint, and the Chromium executable (default /usr/bin/chromium).

    Raises
    ------
    ParameterError
        The engine is unknown, or chromium is asked for and missing.
    AuditError
        The browser could not print (the reason in one line); with engine "auto", WeasyPrint prints instead.
    """
    name, exe = resolve_engine(engine, chromium)
    try:
        _ENGINES[name](html, Path(out), Path(base_dir), exe)
    except AuditError as exc:
        if (engine or "auto").strip().lower() != "auto" or name != "chromium":
            raise
        # auto: a Chromium that is installed but cannot run here (no sandbox support, ...) is no reason to
        # fail the report: WeasyPrint prints it, and the manifest says so
        _log.warning("Chromium could not print (%s); the PDF is printed by WeasyPrint", exc)
        name = "weasyprint"
        _ENGINES[name](html, Path(out), Path(base_dir), None)
    return name


# --- the browser ---------------------------------------------------------------------------------------

class BrowserGone(AuditError):
    """The browser (or its page) stopped answering: a crash, a kill, a timeout."""


def _die_with_parent() -> None:
    """In the browser's process before exec: SIGKILL when the process that started it dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG


def _pipe_fds(read_fd: int, write_fd: int) -> Callable[[], None]:
    """The browser's preexec: dies with its parent, reads the DevTools pipe on fd 3 and writes on fd 4,
    and inherits no other file (what close_fds does, which would close 3 and 4 too).

    Nothing here assumes what fds 3 and 4 were: fork handlers (filelock's, matplotlib's) may have closed them."""
    def setup() -> None:
        _die_with_parent()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (read_fd, write_fd)]   # neither is 3 or 4 now
        os.dup2(high[0], 3)
        os.dup2(high[1], 4)       # dup2 clears close-on-exec
        for fd in high:
            os.close(fd)
        try:
            fds = [int(name) for name in os.listdir("/proc/self/fd")]
        except OSError:
            fds = list(range(5, 4096))
        for fd in fds:
            if fd > 4:
                with contextlib.suppress(OSError):
                    os.set_inheritable(fd, False)
    return setup


PROFILE_PREFIX = "auditlib-chromium-"     # + the owner's pid + "-": its temporary profile folder
FAILED_MARK = "print-failed"              # in the browser's folder: a print failed on it (Browser.mark_failed)


@dataclass
class _Slot:
    fd: int
    path: Path
    target: str


class Browser:
    """One headless Chromium process and a pool of warm page targets, usable from forked children.

    The process that starts it owns it (only the owner closes it). Chromium opens no port: it speaks
    the DevTools protocol over a pipe (`--remote-debugging-pipe`) owned by a broker process
    (auditlib/report/devtools.py), which every process reaches through a Unix socket in the browser's
    private folder (mode 0700). Each page target has a slot file holding its id; a printing process
    takes a free slot with flock (released by the kernel when that process dies), so concurrent
    children print on separate warm renderers. With no free slot, a print uses a new target and
    closes it afterwards.
    """

    def __init__(self, executable: str | Path, *, pages: int = 0, timeout: float = START_TIMEOUT,
                 first_page_later: bool = False):
        self.executable = Path(executable)
        self.owner = os.getpid()
        self.proc: subprocess.Popen | None = None
        self.broker: subprocess.Popen | None = None
        # mode 0700; an owner that closes its browser removes it, one killed (SIGKILL, a lost Dask worker's
        # fork server) cannot, and its browser dies with it (PR_SET_PDEATHSIG): the next browser started on
        # this machine removes what such owners left (files.owned_temp_dir)
        self.dir = owned_temp_dir(f"{PROFILE_PREFIX}{self.owner}-", kind=PROFILE_PREFIX)
        self.log = self.dir / "chromium.log"
        self.socket_path = self.dir / "devtools.sock"
        self.timeout, self._started = timeout, False
        args = [str(self.executable), "--headless", "--remote-debugging-pipe",
                f"--user-data-dir={self.dir / 'profile'}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-breakpad", "--mute-audio", "--hide-scrollbars",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows", *LOCKDOWN_FLAGS]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")      # root: Chromium's sandbox refuses to start otherwise
        args.append("about:blank")
        try:
            self._start(args)
        except (OSError, subprocess.SubprocessError) as exc:
            self.close()
            raise AuditError(f"cannot start Chromium ({self.executable}): {exc}") from None
        atexit.register(self.close)
        self.slots = [self.dir / f"page-{i}" for i in range(pages)]
        if first_page_later:
            # one slot for the page Chromium opens at start, found at the first print (the constructor
            # does not wait for the start): a print then spawns no renderer of its own
            self.slots = [self.dir / "page-0"]
            self.slots[0].write_text("", encoding="ascii")
        elif pages:
            try:      # the page the browser opened at start is the first of the pool
                for i, slot in enumerate(self.slots):
                    slot.write_text(self._first_page() if i == 0 else self._new_target(), encoding="ascii")
            except BaseException:
                self.close()
                raise

    def _start(self, args: list[str]) -> None:
        """Chromium with its pipe (its fds 3 and 4), and the broker holding the other ends and the socket."""
        if len(os.fsencode(self.socket_path)) > 100:
            raise OSError(f"the temporary folder's path is too long for a Unix socket ({self.dir}): set TMPDIR "
                          "to a shorter folder")
        to_chromium, to_broker = os.pipe(), os.pipe()         # (read, write) each, close-on-exec
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.socket_path))
            listener.listen(64)
            with open(self.log, "wb") as log:
                self.proc = subprocess.Popen(
                    args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.dir, close_fds=False,
                    start_new_session=True,            # the terminal's Ctrl-C is ours to handle, not the browser's
                    preexec_fn=_pipe_fds(to_chromium[0], to_broker[1]))     # (it closes the rest at exec)
                ends = (listener.fileno(), to_broker[0], to_chromium[1])
                self.broker = subprocess.Popen(
                    [sys.executable, "-I", "-S", devtools.__file__, *map(str, ends)], stdin=subprocess.DEVNULL,
                    stdout=log, stderr=log, cwd=self.dir, pass_fds=ends, start_new_session=True,
                    preexec_fn=_die_with_parent)
        finally:
            listener.close()
            for fd in (*to_chromium, *to_broker):
                os.close(fd)

    def _log_tail(self) -> str:
        try:
            lines = [ln.strip() for ln in self.log.read_text(encoding="utf-8", errors="replace").splitlines()
                     if ln.strip()]
        except OSError:
            return ""
        return (": " + " | ".join(ln[:160] for ln in lines[-2:])) if lines else ""

    def _runs(self, proc: subprocess.Popen | None) -> bool:
        if proc is None:
            return False
        if os.getpid() == self.owner:
            return proc.poll() is None
        try:                        # a forked child cannot wait for it: it asks the kernel
            os.kill(proc.pid, 0)
        except OSError:
            return False
        return True

    def alive(self) -> bool:
        """The browser process and its broker run."""
        return self._runs(self.proc) and self._runs(self.broker)

    def mark_failed(self, why: str) -> None:
        """Tell the owner that a print on this browser failed (any process may): `ensure_warm_browser`
        then replaces it. Why: a browser that hangs rather than exits stays alive, and every later
        report would wait its whole print timeout before printing on a fresh browser."""
        with contextlib.suppress(OSError):
            (self.dir / FAILED_MARK).write_text(why[:500], encoding="utf-8")

    def failed(self) -> str | None:
        """Why a print on this browser failed (`mark_failed`), or None."""
        try:
            return (self.dir / FAILED_MARK).read_text(encoding="utf-8") or "no reason given"
        except OSError:
            return None

    def _wait_started(self) -> None:
        """Once per process: wait until the browser answers (its start), or say why it did not start.

        Raises BrowserGone: Chromium exited at start (its code and its log's last lines), or did not
        answer within the start timeout."""
        if self._started:
            return
        try:
            with devtools.Client(self.socket_path, time.monotonic() + self.timeout, BrowserGone) as cdp:
                cdp.send("Browser.getVersion")
        except BrowserGone as exc:
            why = str(exc)
            for _ in range(100):      # a browser that exited at start closed the pipe: say why
                if not self._runs(self.proc):
                    code = self.proc.returncode if self.proc is not None and os.getpid() == self.owner else "?"
                    why = f"Chromium ({self.executable}) exited at start (code {code})"
                    break
                time.sleep(0.02)
            raise BrowserGone(why + self._log_tail()) from None
        self._started = True

    def _browser_call(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        self._wait_started()
        with devtools.Client(self.socket_path, time.monotonic() + timeout, BrowserGone) as cdp:
            return cdp.send(method, params)

    def _first_page(self) -> str:
        """The page Chromium opened at start (a new one if it is gone)."""
        infos = self._browser_call("Target.getTargets")["targetInfos"]
        pages = [str(t["targetId"]) for t in infos if t.get("type") == "page"]
        return pages[0] if pages else self._new_target()

    def _new_target(self) -> str:
        return str(self._browser_call("Target.createTarget", {"url": "about:blank"})["targetId"])

    @contextlib.contextmanager
    def _slot(self) -> Iterator[_Slot | None]:
        """A free warm page, locked for this process until the print is done (None: all busy)."""
        for path in self.slots:
            fd = os.open(path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            try:
                target = os.pread(fd, 64, 0).decode("ascii").strip()
                if not target:                      # first_page_later: its page, now that it runs
                    target = self._first_page()
                    os.pwrite(fd, target.encode("ascii"), 0)
                yield _Slot(fd, path, target)
            finally:
                os.close(fd)            # closing releases the lock
            return
        yield None

    def print_pdf(self, html: str, timeout: float | None = None) -> bytes:
        """The page printed to PDF bytes, on a free warm page (or a new one), within `timeout` seconds
        (default PRINT_TIMEOUT)."""
        timeout = PRINT_TIMEOUT if timeout is None else timeout
        if not self.alive():
            self._wait_started()            # raises why it exited at start, from its log
            raise BrowserGone("Chromium is not running" + self._log_tail())
        deadline = time.monotonic() + timeout
        with self._slot() as slot:
            if slot is None:
                target = self._new_target()
                try:
                    return self._print_on(target, html, deadline)
                finally:
                    with contextlib.suppress(AuditError):
                        self._browser_call("Target.closeTarget", {"targetId": target}, timeout=5)
            try:
                return self._print_on(slot.target, html, deadline)
            except BrowserGone:
                if not self._target_gone(slot.target):
                    raise
            slot.target = self._new_target()     # its renderer crashed or it was closed: replace it
            os.ftruncate(slot.fd, 0)
            os.pwrite(slot.fd, slot.target.encode("ascii"), 0)
            return self._print_on(slot.target, html, deadline)

    def _target_gone(self, target: str) -> bool:
        try:
            infos = self._browser_call("Target.getTargets", timeout=5)["targetInfos"]
        except BrowserGone:
            return False
        return not any(t.get("targetId") == target for t in infos)

    def _print_on(self, target: str, html: str, deadline: float) -> bytes:
        """One print on the page `target`, through a flatten session of its own, detached afterwards."""
        self._wait_started()
        with devtools.Client(self.socket_path, deadline, BrowserGone) as cdp:
            session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            try:
                frame = cdp.send("Page.getFrameTree", session=session)["frameTree"]["frame"]["id"]
                # held for print: its screen rendering lays nothing out (SCREEN_HOLD)
                cdp.send("Page.setDocumentContent", {"frameId": frame, "html": held_for_print(html)}, session)
                cdp.send("Runtime.evaluate", {"expression": _READY_JS, "awaitPromise": True, "returnByValue": True},
                         session)
                data = cdp.send("Page.printToPDF", PRINT_OPTIONS, session)["data"]
                cdp.send("Page.setDocumentContent", {"frameId": frame, "html": ""}, session)   # the report leaves
            finally:     # (a connection that closes without it is detached by the broker)
                with contextlib.suppress(BrowserGone):
                    cdp.send("Target.detachFromTarget", {"sessionId": session})
        return without_time_of_day(base64.b64decode(data))

    def pids(self) -> list[int]:
        """The browser's process and all its descendants (renderers, zygotes, utilities), and its broker."""
        import psutil

        found = []
        for proc in (self.proc, self.broker):
            if proc is None:
                continue
            try:
                root = psutil.Process(proc.pid)
                found += [root.pid] + [p.pid for p in root.children(recursive=True)]
            except psutil.Error:
                continue
        return found

    def close(self) -> None:
        """Stop the browser, every process of its group and its broker, remove its profile (owner only)."""
        if os.getpid() != self.owner:
            return
        proc, self.proc = getattr(self, "proc", None), None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)    # renderers left behind (its own process group)
        broker, self.broker = getattr(self, "broker", None), None
        if broker is not None:
            if broker.poll() is None:               # it exits when Chromium's pipe closes; no need to wait
                broker.kill()
            broker.wait(timeout=5)
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)
        self._remove_dir()

    def _remove_dir(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the warm browser of a forking process --------------------------------------------------------------

_WARM: dict[str, Any] = {}      # "browser": the Browser this process (or its parent before the fork) started


def start_warm_browser(engine: str | None, chromium: str | Path | None, *, pages: int = 1,
                       warm_html: str | None = None) -> Browser | None:
    """Start the process's warm browser (children forked later print on it); None when the engine is not chromium.

    The browser prints `warm_html` once, on its first page, so the first report does not pay for the
    browser's first print (~1 s of CPU). A browser that cannot start is not an error here: each report
    then says why itself. (A loop meant to print on each page printed twice on the first one: sequential
    prints take the first free page.)"""
    name, exe = resolve_engine(engine, chromium)
    if name != "chromium" or exe is None:
        return None
    old = _WARM.get("browser")
    if isinstance(old, Browser) and old.alive() and old.executable == exe and len(old.slots) >= pages:
        return old
    close_warm_browser()
    try:
        browser = Browser(exe, pages=pages)
    except AuditError as exc:
        _log.warning("the warm Chromium did not start: %s", exc)
        return None
    _WARM["browser"] = browser
    if warm_html:
        with contextlib.suppress(AuditError):
            browser.print_pdf(warm_html, timeout=30)
    return browser


@contextlib.contextmanager
def browser_session(engine: str | None, chromium: str | Path | None, formats=("pdf",)) -> Iterator[Browser | None]:
    """One cold report (`auditlib run`): Chromium starts now, while the notebook runs, prints the one
    PDF, and is closed at the end. Nothing is started when no PDF is asked for or the engine is not chromium."""
    if "pdf" not in formats or warm_browser() is not None:
        yield warm_browser()
        return
    name, exe = resolve_engine(engine, chromium)
    if name != "chromium" or exe is None:
        yield None
        return
    try:
        browser = Browser(exe, first_page_later=True)     # does not wait: the print waits for its start
    except AuditError as exc:
        _log.warning("Chromium did not start: %s", exc)
        yield None
        return
    _WARM["browser"] = browser
    try:
        yield browser
    finally:
        if _WARM.get("browser") is browser:
            _WARM.pop("browser")
        browser.close()


def warm_browser() -> Browser | None:
    browser = _WARM.get("browser")
    return browser if isinstance(browser, Browser) else None


def ensure_warm_browser() -> None:
    """Before a child is forked: replace the warm browser if it crashed, or if a print on it failed
    (a hung browser stays alive), so that the next report has a browser that answers."""
    browser = warm_browser()
    if browser is None or os.getpid() != browser.owner:
        return
    alive = browser.alive()
    failed = browser.failed() if alive else None
    if alive and not failed:
        return
    if failed:
        _log.warning("a print on the warm Chromium failed (%s); starting another", failed)
        if browser.proc is not None:
            browser.proc.kill()             # a hung browser may not answer SIGTERM (close's first try)
    else:
        _log.warning("the warm Chromium exited (%s); starting another", browser._log_tail() or "no reason logged")
    pages = len(browser.slots)
    close_warm_browser()
    with contextlib.suppress(AuditError):
        _WARM["browser"] = Browser(browser.executable, pages=pages)


def close_warm_browser() -> None:
    """Stop this process's warm browser (the batch ended, Ctrl-C, the fork server exits)."""
    browser = _WARM.pop("browser", None)
    if isinstance(browser, Browser):
        browser.close()

"""One cold `auditlib run`: the report's HTML page prepared in a second process while the notebook runs.

Why: in a cold run, importing nbconvert and compiling the report's templates cost ~0.4 s of the
main process's path (the whole run is ~5 s), while the machine's other core idles as the notebook
runs. `html_helper` forks a process that does both at once, then waits for the executed notebook;
`export_html` hands the notebook to it and takes the page back. The helper runs the same
`export_html` (the same bytes). Whatever goes wrong with it (it died, it failed, it is slow), the
page is rendered in this process, as without it, so an error is reported the usual way. Only where
`fork` exists; a forked child of this process (the batch's) never uses its parent's helper.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

# How long export_html waits for the helper's page before rendering it itself (it takes ~0.1 s).
WAIT_SECONDS = 60.0

_HELPER: dict[str, Any] = {}


@contextlib.contextmanager
def html_helper(lang: str) -> Iterator[None]:
    """Within: `export_html` in this process is rendered by the helper (once). The helper is gone afterwards.

    Parameters
    ----------
    lang
        The report's language: the helper loads its words while it waits.
    """
    if _HELPER or not hasattr(os, "fork"):
        yield
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    proc = context.Process(target=_helper_main, args=(theirs, ours, lang), name="auditlib-html", daemon=True)
    try:
        proc.start()
    except OSError:                 # no process to spare: the page is rendered here
        ours.close()
        theirs.close()
        yield
        return
    theirs.close()
    _HELPER.update(conn=ours, proc=proc, owner=os.getpid())
    try:
        yield
    finally:
        _HELPER.clear()
        ours.close()                # a helper still waiting for a notebook ends on this
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()


def rendered(nb, options: dict) -> str | None:
    """The page of `nb` from the helper (`export_html`'s keyword options), or None: render it here."""
    if _HELPER.get("owner") != os.getpid():
        return None
    conn = _HELPER.pop("conn", None)          # one page per helper
    if conn is None:
        return None
    try:
        conn.send((nb, options))
        if not conn.poll(WAIT_SECONDS):
            return None
        status, page = conn.recv()
    except (OSError, EOFError, ValueError, TypeError):   # died, or the notebook could not be sent
        return None
    finally:
        conn.close()
    return page if status == "ok" and isinstance(page, str) else None


def _helper_main(conn, parent_end, lang: str) -> None:
    """In the helper: import and compile (a one-cell warm-up page), then render the one notebook sent."""
    _HELPER.clear()
    parent_end.close()              # so that the run's closing its end is an end of file here
    try:
        import nbformat

        from auditlib.report.finalise import export_html

        warm = nbformat.v4.new_notebook()
        warm.cells = [nbformat.v4.new_markdown_cell("# warm-up\n\nwarm-up")]
        export_html(warm, lang=lang, title="warm-up", client="warm-up")
        nb, options = conn.recv()
        conn.send(("ok", export_html(nb, **options)))
    except EOFError:                # the run ended, or needed no page
        pass
    except BaseException as exc:    # the run renders the page itself and reports this the usual way
        with contextlib.suppress(Exception):
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))

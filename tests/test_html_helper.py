"""The cold run's HTML helper: the same page from a second process; whatever goes wrong, this process renders it."""

from __future__ import annotations

import os

import nbformat
import pytest

from auditlib.errors import AuditError
from auditlib.report import finalise, html_helper
from auditlib.report.finalise import export_html
from auditlib.report.html_helper import rendered

OPTIONS = {"lang": "nl", "title": "Auditrapport: Delta & Co", "client": "Delta & Co"}


def _notebook(html: str = "<p>Positie: 3,4 van 5 &lt;script&gt;</p>") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("show()", metadata={"tags": ["remove_input"]})
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": "x"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Samenvatting\n\nDe cluster scoort **hoog**."), code]
    for n, cell in enumerate(nb.cells):
        cell.id = f"cell-{n}"                       # fixed ids: the same notebook gives the same page
    return nb


@pytest.fixture(scope="module")
def reference() -> str:
    return export_html(_notebook(), **OPTIONS)


def refuse_to_render_here(monkeypatch) -> None:
    """This process's exporter refuses to work (called after the helper is forked): a page that
    comes back was rendered by the helper."""
    monkeypatch.setattr(finalise, "_html_exporter", lambda: pytest.fail("rendered in this process"))


def test_the_helper_renders_the_same_page_and_is_gone_afterwards(reference, monkeypatch):
    with html_helper.html_helper("nl"):
        proc = html_helper._HELPER["proc"]
        assert proc.is_alive() and proc.pid != os.getpid()
        refuse_to_render_here(monkeypatch)
        assert export_html(_notebook(), **OPTIONS) == reference
        assert rendered(_notebook(), OPTIONS) is None            # one page per helper
    assert not proc.is_alive() and proc.exitcode == 0
    assert html_helper._HELPER == {}


def test_a_dead_helper_leaves_the_page_to_this_process(reference):
    with html_helper.html_helper("nl"):
        proc = html_helper._HELPER["proc"]
        proc.kill()
        proc.join()
        assert export_html(_notebook(), **OPTIONS) == reference


def test_a_page_the_helper_refuses_is_refused_here_with_the_usual_error(monkeypatch):
    unsafe = _notebook('<p onclick="steal()">x</p>')
    calls: list[int] = []
    real = finalise._html_exporter

    def counted():
        calls.append(os.getpid())
        return real()

    with html_helper.html_helper("nl"):
        monkeypatch.setattr(finalise, "_html_exporter", counted)      # in this process only (forked before)
        with pytest.raises(AuditError, match="not self-contained and safe"):
            export_html(unsafe, **OPTIONS)
    assert calls == [os.getpid()]                                      # the helper failed, this process rendered


def test_a_forked_child_renders_its_own_page_and_leaves_the_helper_to_its_parent(reference, monkeypatch):
    with html_helper.html_helper("nl"):
        refuse_to_render_here(monkeypatch)
        pid = os.fork()
        if pid == 0:                                                   # the batch's children are forked like this
            os._exit(0 if rendered(_notebook(), OPTIONS) is None else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert export_html(_notebook(), **OPTIONS) == reference      # still the parent's to use


def test_an_error_inside_ends_the_helper_too():
    with pytest.raises(KeyError):
        with html_helper.html_helper("en"):
            proc = html_helper._HELPER["proc"]
            raise KeyError("the notebook failed")
    assert not proc.is_alive() and proc.exitcode == 0     # it ended on its own (end of file), not killed
    assert html_helper._HELPER == {}


def test_no_helper_no_change(reference, monkeypatch):
    assert rendered(_notebook(), OPTIONS) is None
    monkeypatch.delattr(os, "fork")
    with html_helper.html_helper("nl"):
        assert html_helper._HELPER == {}
        assert export_html(_notebook(), **OPTIONS) == reference

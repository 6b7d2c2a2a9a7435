"""The portfolio: key figures of each client, the escaped self-contained index, atomic writes,
and the firm's overview notebook."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from auditlib import portfolio
from auditlib.audit import analyse
from auditlib.errors import ParameterError
from auditlib.portfolio import PortfolioRow

from auditlib.testing import DATA, REPO


@pytest.fixture(scope="module")
def delta(catalogue):
    return analyse(DATA / "clients" / "nl-delta-water", catalogue=catalogue)


def test_key_figures_are_the_clients_own(delta, catalogue):
    fig = portfolio.key_figures(delta)
    assert fig["name"] == delta.client.name
    assert set(fig["dimensions"]) == {d.id for d in catalogue.dimensions}
    profile = delta.profile_in().set_index("dimension")["score"]
    for dim, score in fig["dimensions"].items():
        assert score == pytest.approx(profile[dim], abs=0.05)
    assert fig["highest_ready"] == delta.labels.highest_ready and fig["next_label"] == delta.labels.next_label
    assert fig["handles"] > 0
    # nothing about other organisations: only the client's own figures (no peer medians, no ids)
    text = json.dumps(fig)
    assert "peer_median" not in text and "CO-" not in text
    json.dumps(fig, allow_nan=False)                         # plain JSON


def _row(cid, status="ok", **kw):
    return PortfolioRow(cid, status, **kw)


def test_index_escapes_names_and_reasons(delta, catalogue):
    fig = portfolio.key_figures(delta)
    rows = [_row("evil", figures={**fig, "name": "<script>alert('x')</script>"}),
            _row("bad", "failed", reason="cell 3 (analysis): ValueError: <img src=x onerror=alert(1)>")]
    html = portfolio.render_index(rows, catalogue)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [v for k, v in attrs if k in ("href", "src")]


def test_index_is_self_contained_and_links_are_relative(tmp_path, delta, catalogue):
    out = tmp_path / "outputs"
    report = out / "acme #1" / "2026"
    report.mkdir(parents=True)
    for name in ("report.html", "report.pdf", "scores.xlsx", "report.ipynb"):
        (report / name).write_text("x")
    failed = out / "broken" / "2026.failed"
    failed.mkdir(parents=True)
    (failed / "report.ipynb").write_text("{}")
    rows = [_row("acme #1", figures=portfolio.key_figures(delta), engagement="2026",
                 reports=portfolio.report_links(report, out)),
            _row("broken", "failed", reason="boom", failed_notebook=portfolio.relative_link(failed / "report.ipynb",
                                                                                            out))]
    index = portfolio.write_portfolio(out, rows, catalogue)
    html = index.read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert "http:" not in html and "https:" not in html and "url(" not in html
    assert len(parser.hrefs) == 5
    for href in parser.hrefs:
        assert not href.startswith("/") and ":" not in href
        assert (out / unquote(href)).is_file(), href
    assert "acme%20%231/2026/report.html" in parser.hrefs            # quoted: '#' is not a fragment
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []   # no temp file left
    data = json.loads((out / portfolio.PORTFOLIO_FILE).read_text(encoding="utf-8"))
    assert [r["client_id"] for r in data["clients"]] == ["acme #1", "broken"]


def test_write_is_atomic_a_failed_render_keeps_the_old_index(tmp_path, catalogue, monkeypatch):
    out = tmp_path / "outputs"
    portfolio.write_portfolio(out, [_row("a")], catalogue)
    before = (out / "index.html").read_text(encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(portfolio, "render_index", broken)
    with pytest.raises(RuntimeError):
        portfolio.write_portfolio(out, [_row("b")], catalogue)
    assert (out / "index.html").read_text(encoding="utf-8") == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_merge_keeps_other_clients_whose_reports_still_exist(tmp_path):
    out = tmp_path
    (out / "a" / "1").mkdir(parents=True)
    (out / "a" / "1" / "report.html").write_text("x")
    old = [_row("a", reports={"html": "a/1/report.html"}), _row("gone", reports={"html": "gone/1/report.html"}),
           _row("b", reports={"html": "b/1/report.html"})]
    new = [_row("b", "failed", reason="boom")]
    merged = portfolio.merge_rows(old, new, out)
    assert [(r.client_id, r.status) for r in merged] == [("a", "ok"), ("b", "failed")]


def test_unknown_status_refused():
    with pytest.raises(ValueError):
        PortfolioRow("x", "maybe")


def test_portfolio_frame_analyses_every_client_and_lists_problems(tmp_path, catalogue):
    import shutil

    shutil.copytree(DATA / "clients" / "es-huerta-food", tmp_path / "es-huerta-food")
    (tmp_path / "empty-client").mkdir()
    frame, problems = portfolio.portfolio_frame(tmp_path, catalogue=catalogue,
                                                benchmark=DATA / "benchmark" / "benchmark.csv")
    assert list(frame["client_id"]) == ["es-huerta-food"]
    assert list(problems["client_id"]) == ["empty-client"]
    counts = portfolio.readiness_counts(frame)
    assert list(counts.index) == ["none", "bronze", "silver", "gold"] and counts.sum() == 1
    fig = portfolio.heatmap_figure(frame, catalogue)
    assert portfolio.to_png(fig).startswith(b"\x89PNG")


def test_overview_parameters_refuse_unknown_names_and_missing_folders(tmp_path):
    with pytest.raises(ParameterError) as err:
        portfolio.overview_parameters({"clients_dir": str(tmp_path / "nope"), "colour": "red", "lang": "de"})
    text = str(err.value)
    assert "unknown parameter 'colour'" in text and "no such folder" in text and "lang" in text
    ok = portfolio.overview_parameters({"clients_dir": str(DATA / "clients"), "outputs_dir": str(tmp_path)})
    assert ok.clients_dir == DATA / "clients" and ok.outputs_dir == tmp_path


@pytest.mark.slow
def test_overview_notebook_runs_top_to_bottom(tmp_path, catalogue):
    import nbformat
    import papermill

    out = tmp_path / "outputs"
    portfolio.write_portfolio(out, [_row("nl-delta-water", "failed", reason="example")], catalogue)
    notebook = REPO / "notebooks" / "portfolio_overview.ipynb"
    stored = nbformat.read(notebook, as_version=4)
    assert all(not c.get("outputs") for c in stored.cells if c.cell_type == "code")    # stored without outputs
    env_backend = os.environ.pop("MPLBACKEND", None)
    try:
        done = papermill.execute_notebook(str(notebook), str(tmp_path / "overview.ipynb"),
                                          parameters={"clients_dir": str(DATA / "clients"), "outputs_dir": str(out)},
                                          cwd=str(tmp_path), progress_bar=False, kernel_name="python3")
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
    kinds = [list(o.get("data", {})) for c in done.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("image/png" in k for k in kinds) == 2                      # heatmap and readiness
    text = json.dumps(done)
    assert "nl-delta-water" in text and "example" in text
    assert "CO-0" not in text                                              # no benchmark organisation

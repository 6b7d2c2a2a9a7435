"""The auditor's review (issue 14): commentary as Markdown cells, `auditlib finalise`, carry-over.

One real report per language is made once per module (papermill, as `auditlib run` does);
each test works on its own copy of the report folder and of the client folder, edits the
notebook with nbformat the way JupyterLab saves it (sources as lines, new cells without our
metadata, the UI's own metadata keys), and finalises.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from auditlib.testing import DATA

from auditlib import carryover, review
from auditlib.batch.kernel import in_process_kernel
from auditlib.cli import main
from auditlib.report import check_html, run_engagement
from auditlib.textcheck import check_text, figures, sentences

CLIENT = "nl-delta-water"
pytestmark = pytest.mark.slow            # two notebook runs and a few PDF renders


def _made(tmp_path_factory, lang: str, formats) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp(f"review-{lang}")
    clients = root / "clients"
    shutil.copytree(DATA / "clients" / CLIENT, clients / CLIENT)
    with in_process_kernel(600):          # as `auditlib run`: no kernel process to start
        outcome = run_engagement(clients / CLIENT, lang=lang, formats=formats, outputs_dir=root / "outputs")
    assert outcome.status == "ok", outcome.error
    return outcome.out_dir, clients / CLIENT


@pytest.fixture(scope="module")
def made_en(tmp_path_factory):
    return _made(tmp_path_factory, "en", ["html", "pdf"])


@pytest.fixture(scope="module")
def made_nl(tmp_path_factory):
    return _made(tmp_path_factory, "nl", ["html"])


def fresh(made, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the report folder and of the client folder; the manifest points at the copy."""
    folder, client = made
    new_client = tmp_path / "clients" / client.name
    shutil.copytree(client, new_client)
    new_folder = tmp_path / "outputs" / client.name / folder.name
    shutil.copytree(folder, new_folder)
    manifest = json.loads((new_folder / "manifest.json").read_text())
    manifest["parameters"]["clients_dir"] = str(new_client.parent)
    (new_folder / "manifest.json").write_text(json.dumps(manifest))
    return new_folder, new_client


def notebook(folder: Path):
    return nbformat.read(str(folder / "report.ipynb"), as_version=4)


def save(folder: Path, nb) -> None:
    """As JupyterLab saves: nbformat's JSON, with the UI's own metadata on some cells."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.metadata.setdefault("jp-MarkdownHeadingCollapsed", True)
    nbformat.write(nb, str(folder / "report.ipynb"))


def cell_at(nb, anchor: str):
    return next(c for c in nb.cells if c.metadata.get("auditlib", {}).get("anchor") == anchor
                and c.metadata["auditlib"]["origin"] in ("generated", "auditor"))


def append(folder: Path, anchor: str, text: str) -> None:
    nb = notebook(folder)
    cell = cell_at(nb, anchor)
    cell.source = cell.source.rstrip("\n") + "\n- " + text
    save(folder, nb)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def pdf_text(path: Path) -> str:
    import pypdf

    return " ".join(" ".join((page.extract_text() or "").split()) for page in pypdf.PdfReader(str(path)).pages)


# --- the draft ---------------------------------------------------------------------------------

def test_the_draft_holds_the_commentary_as_anchored_markdown_cells(made_en):
    folder, _ = made_en
    nb = notebook(folder)
    meta = [c.metadata["auditlib"] for c in nb.cells if "auditlib" in c.metadata]
    anchors = [m["anchor"] for m in meta]
    for expected in ("overall", "labels", "silver_areas", "dimension:financing", "indicators:financing",
                     "evolution", "notes:overall", "notes:dimension:services"):
        assert expected in anchors
    assert {m["origin"] for m in meta} == {"generated", "auditor"}
    assert all(m["origin"] == "auditor" for m in meta if m["anchor"].startswith("notes:"))
    for cell in nb.cells:
        if "auditlib" in cell.metadata:
            assert cell.cell_type == "markdown"
            assert review.text_hash(cell.source) == cell.metadata["auditlib"]["hash"]
        if cell.cell_type == "code":          # no interpretation left as a code cell's output
            assert not any("text/markdown" in o.get("data", {}) for o in cell.get("outputs", []))
    html = (folder / "report.html").read_text()
    assert check_html(html) == []
    for cell in nb.cells:                     # every passage's text is on the page
        if "auditlib" in cell.metadata:
            first = sentences(cell.source)[0]
            assert first[:40].replace("&", "&amp;") in html or first[:40] in html
    record = json.loads((folder / "manifest.json").read_text())["review"]
    assert record["status"] == "draft" and record["flagged"] == []
    assert [g["anchor"] for g in record["generated"]] == anchors
    assert len(record["code_cells"]) == sum(c.cell_type == "code" for c in nb.cells)
    assert (folder / review.FACTS_FILE).is_file()


def test_the_generated_commentary_passes_the_text_check():
    """No false alarm: every generated sentence of every example client, EN and NL, passes."""
    from auditlib.audit import analyse
    from auditlib.benchmark import load_benchmark
    from auditlib.catalogue import load_catalogue
    from auditlib.interpret import interpret

    cat = load_catalogue(DATA / "catalogue")
    bench = load_benchmark(DATA / "benchmark" / "benchmark.csv", cat)
    checked = 0
    for client in sorted(p for p in (DATA / "clients").iterdir() if p.is_dir()):
        result = analyse(client, catalogue=cat, benchmark=bench)
        for lang in ("en", "nl"):
            figs = figures(result, lang)
            for p in review.interpretation_passages(interpret(result, lang)):
                assert check_text(p.markdown, p.anchor, figs) == [], (client.name, lang, p.anchor)
                checked += 1
    assert checked > 100


# --- round trip --------------------------------------------------------------------------------

def test_round_trip_edits_reach_html_pdf_manifest_and_the_client_folder(made_en, tmp_path):
    folder, client = fresh(made_en, tmp_path)
    nb = notebook(folder)
    fin = cell_at(nb, "dimension:financing")
    fin.source = fin.source.replace("All 6 scored indicators", "Reviewed by the auditor: all 6 scored indicators")
    silver = cell_at(nb, "silver_areas")
    deleted_text = sentences(silver.source)[0]
    nb.cells.remove(silver)
    at = nb.cells.index(cell_at(nb, "indicators:services"))
    nb.cells.insert(at + 1, nbformat.v4.new_markdown_cell("The matchmaking programme restarts in spring; "
                                                          "**Zeeland** members join in 2027."))
    save(folder, nb)

    outcome = review.finalise(folder)
    html = (folder / "report.html").read_text()
    assert "Reviewed by the auditor: all 6 scored indicators" in html
    assert "The matchmaking programme restarts in spring" in html and "<strong>Zeeland</strong>" in html
    assert deleted_text[:50] not in html
    assert check_html(html) == []
    text = pdf_text(folder / "report.pdf")
    assert "Reviewed by the auditor" in text and "matchmaking programme restarts" in text
    assert deleted_text[:40] not in text
    changes = {(c.anchor, c.change) for c in outcome.changes}
    assert changes == {("dimension:financing", "edited"), ("silver_areas", "deleted"), ("indicators:services", "added")}
    manifest = json.loads((folder / "manifest.json").read_text())
    record = manifest["review"]
    assert record["status"] == "reviewed" and record["reviewed_utc"]
    edited = next(c for c in record["changes"] if c["change"] == "edited")
    assert edited["before"] == cell_at(notebook(made_en[0]), "dimension:financing").metadata["auditlib"]["hash"]
    assert edited["after"] == review.text_hash(fin.source) != edited["before"]
    from auditlib.report.manifest import sha256_file

    assert manifest["outputs"]["report.html"] == sha256_file(folder / "report.html")
    assert manifest["outputs"]["report.ipynb"] == sha256_file(folder / "report.ipynb")
    stored = carryover.read(client)["en"]
    assert {(e.anchor, e.change) for e in stored.edits} == changes

    # a second finalise after a further edit works the same way and keeps the history
    append(folder, "labels", "The board aims at Gold in 2028.")
    review.finalise(folder, formats=["html"])
    record = json.loads((folder / "manifest.json").read_text())["review"]
    assert len(record["finalised"]) == 2
    assert ("labels", "edited") in {(c["anchor"], c["change"]) for c in record["changes"]}
    assert "The board aims at Gold in 2028." in (folder / "report.html").read_text()


# --- contradictions ----------------------------------------------------------------------------

WRONG = {
    "en": [("indicators:achievements", ("Profile on the European Cluster Collaboration Platform puts the cluster "
                                        "in the top 10% of its peers."), "top 10%"),
           ("dimension:financing", ("Against organisations in the same field: Energy and environment (n = 178), "
                                    "the budget grew."), "n = 178"),
           ("labels", "The cluster is ready for Gold.", "Gold is not ready")],
    "nl": [("indicators:achievements", ("Met het profiel op het European Cluster Collaboration Platform staat het "
                                        "cluster in de top 10%."), "top 10%"),
           ("dimension:financing", ("Ten opzichte van organisaties in hetzelfde veld: Energie en milieu (n = 178) "
                                    "groeide het budget."), "n = 178"),
           ("labels", "Goud: gereed.", "Goud is not ready")],
}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_contradicting_edits_are_refused_then_accepted_deliberately(lang, made_en, made_nl, tmp_path):
    folder, client = fresh(made_en if lang == "en" else made_nl, tmp_path)
    for anchor, sentence, _ in WRONG[lang]:
        append(folder, anchor, sentence)
    before = snapshot(folder)
    with pytest.raises(review.ReviewRefused) as info:
        review.finalise(folder, formats=["html"])
    assert len(info.value.lines) == 3
    for (anchor, sentence, figure), problem in zip(sorted(WRONG[lang]), sorted(info.value.lines,
                                                                              key=lambda p: p.split("(")[1])):
        assert f"({anchor})" in problem and sentence[:30] in problem and figure.split()[0] in problem
        assert problem.startswith("cell ")
    assert snapshot(folder) == before                    # nothing written
    assert not (client / carryover.FILE_NAME).exists()
    assert "P71" in next(p for p in info.value.lines if "top 10%" in p)

    keys = [p.rsplit("--accept ", 1)[1].rstrip("]") for p in info.value.lines]
    with pytest.raises(review.ReviewRefused) as again:       # accepting two of three is not enough
        review.finalise(folder, accept=keys[:2], formats=["html"])
    assert len(again.value.lines) == 1
    outcome = review.finalise(folder, accept=keys, formats=["html"])
    assert {a["key"] for a in outcome.accepted} == set(keys)
    record = json.loads((folder / "manifest.json").read_text())["review"]
    assert {a["key"] for a in record["accepted"]} == set(keys)
    assert all(a["sentence"] and a["figure"] for a in record["accepted"])
    html = (folder / "report.html").read_text()
    assert WRONG[lang][2][1][:12] in html and not any(k in html for k in keys)   # shown as written, no trace
    assert set(carryover.read(client)[lang].accept) == set(keys)
    review.finalise(folder, formats=["html"])        # the acceptances are kept in commentary.yaml


# --- tampering and unsafe cells ----------------------------------------------------------------

def _change_code(nb):
    cell = next(c for c in nb.cells if c.cell_type == "code" and "view.summary()" in c.source)
    cell.source = cell.source.replace("view.summary()", "view.summary()  # changed")


def _change_output(nb):
    cell = next(c for c in nb.cells if c.cell_type == "code" and "view.summary()" in c.source)
    data = cell.outputs[0]["data"]
    data["text/html"] = data["text/html"].replace("</table>", "<tr><td>99</td></tr></table>", 1)


def _add_code(nb):
    nb.cells.insert(5, nbformat.v4.new_code_cell("print('hello')"))


def _raw_cell(nb):
    nb.cells.insert(5, nbformat.v4.new_raw_cell("<b>raw</b>"))


@pytest.mark.parametrize("tamper, words", [(_change_code, "code or its output"), (_change_output, "code or its output"),
                                           (_add_code, "code cells"), (_raw_cell, "raw cell")])
def test_a_notebook_with_changed_code_or_outputs_is_refused(tamper, words, made_en, tmp_path):
    folder, _ = fresh(made_en, tmp_path)
    nb = notebook(folder)
    tamper(nb)
    save(folder, nb)
    before = snapshot(folder)
    with pytest.raises(review.ReviewRefused) as info:
        review.finalise(folder, formats=["html"])
    assert any(words in p for p in info.value.lines), info.value.lines
    assert snapshot(folder) == before


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "See [our site](https://example.org/x).",
                                  '<img src="http://example.org/p.png">'])
def test_an_unsafe_edited_cell_is_refused_naming_the_cell(text, made_en, tmp_path):
    folder, _ = fresh(made_en, tmp_path)
    append(folder, "overall", text)
    with pytest.raises(review.ReviewRefused) as info:
        review.finalise(folder, formats=["html"])
    assert info.value.lines and all("(overall)" in p for p in info.value.lines)


def test_escaped_markup_in_an_edit_stays_text(made_en, tmp_path):
    folder, _ = fresh(made_en, tmp_path)
    append(folder, "overall", "The board said &lt;script&gt; is not a word here.")
    review.finalise(folder, formats=["html"])
    assert "&lt;script&gt; is not a word here" in (folder / "report.html").read_text()


# --- carry-over --------------------------------------------------------------------------------

def _redraft(folder: Path, client: Path, answers: dict | None = None):
    """The draft a re-run would make (in-process): the generated notebook without its commentary cells."""
    import yaml

    from auditlib.audit import analyse
    from auditlib.report import ReportView

    if answers:
        path = client / "questionnaire.yaml"
        data = yaml.safe_load(path.read_text())
        data["answers"].update(answers)
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
    nb = notebook(folder)
    nb.cells = [c for c in nb.cells if "auditlib" not in c.metadata]
    view = ReportView.from_result(analyse(client), "en")
    info = json.loads(json.dumps(review.commentary_info(view), default=str))
    out = folder.parent / "redraft"
    out.mkdir(exist_ok=True)
    record = review.prepare_draft(nb, info, client_dir=client, lang="en", out_dir=out, title="t")
    return nb, record


def test_edits_carry_over_unchanged_figures_and_are_flagged_after_they_move(made_en, tmp_path):
    folder, client = fresh(made_en, tmp_path)
    nb = notebook(folder)
    fin = cell_at(nb, "dimension:financing")
    fin.source += "\n- EDIT-A: the budget covers three years."
    at = nb.cells.index(cell_at(nb, "indicators:services"))
    nb.cells.insert(at + 1, nbformat.v4.new_markdown_cell("ADDED-B: onboarding starts in spring."))
    nb.cells.remove(cell_at(nb, "silver_areas"))
    save(folder, nb)
    review.finalise(folder, formats=["html"])

    same, record = _redraft(folder, client)                 # figures unchanged: applied, nothing flagged
    assert record["status"] == "draft" and record["flagged"] == []
    assert "EDIT-A" in cell_at(same, "dimension:financing").source
    texts = [c.source for c in same.cells if c.cell_type == "markdown"]
    assert any("ADDED-B" in t for t in texts)
    assert not any(c.metadata.get("auditlib", {}).get("anchor") == "silver_areas" for c in same.cells)

    moved, record = _redraft(folder, client, {"total_budget": 90, "secured_funding_years": 1})
    assert "dimension:financing" in record["flagged"] and record["status"] == "needs_review"
    assert "EDIT-A" in cell_at(moved, "dimension:financing").source           # kept, never dropped
    flags = [c for c in moved.cells if c.metadata.get("auditlib", {}).get("origin") == "review"]
    assert flags and all("remove_cell" in c.metadata["tags"] for c in flags)  # in the notebook, not the HTML
    k = moved.cells.index(cell_at(moved, "dimension:financing"))
    assert moved.cells[k - 1] in flags and "newly generated text" in moved.cells[k - 1].source

    # finalise refuses while a review note is there; deleting the notes after checking lets it pass
    (folder / "report.ipynb").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["review"] = record
    shutil.copy(folder.parent / "redraft" / review.FACTS_FILE, folder / review.FACTS_FILE)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    save(folder, moved)
    with pytest.raises(review.ReviewRefused) as info:
        review.finalise(folder, formats=["html"])
    assert any("review note" in p for p in info.value.lines)
    new_text = next(g for g in record["generated"] if g["anchor"] == "dimension:financing")
    moved.cells = [c for c in moved.cells if c not in flags]
    save(folder, moved)
    with pytest.raises(review.ReviewRefused) as info:      # the kept edit states the old percentile
        review.finalise(folder, formats=["html"])
    assert any("(dimension:financing)" in p and "percentile 59" in p for p in info.value.lines)
    regenerated = flags[0].source.split("newly generated text:", 1)[1]
    cell = cell_at(moved, "dimension:financing")
    cell.source = "\n".join(line[2:] if line.startswith("> ") else line.lstrip(">")
                            for line in regenerated.strip().split("\n")) + "\n- EDIT-A: the budget covers three years."
    save(folder, moved)
    review.finalise(folder, formats=["html"])
    record = json.loads((folder / "manifest.json").read_text())["review"]
    assert record["status"] == "reviewed"
    edit = next(c for c in record["changes"] if c["anchor"] == "dimension:financing")
    assert edit["before"] == new_text["hash"]


def test_a_real_rerun_carries_the_edits_over(made_en, tmp_path, in_process):
    folder, client = fresh(made_en, tmp_path)
    append(folder, "dimension:financing", "EDIT-RERUN: the budget covers three years.")
    review.finalise(folder, formats=["html"])
    again = run_engagement(client, formats=["html"], outputs_dir=tmp_path / "again")
    assert again.status == "ok", again.error
    assert again.manifest["review"]["status"] == "draft"
    assert "EDIT-RERUN" in cell_at(notebook(again.out_dir), "dimension:financing").source
    assert "EDIT-RERUN" in (again.out_dir / "report.html").read_text()


def test_a_malformed_commentary_file_is_refused_with_its_place(tmp_path):
    (tmp_path / carryover.FILE_NAME).write_text("en:\n  edits:\n    - anchor: dimension:financing\n"
                                                "      change: rewritten\n      generated: abc\n")
    with pytest.raises(carryover.CommentaryError) as info:
        carryover.read(tmp_path)
    text = str(info.value)
    assert "en.edits[1].change" in text and "en.edits[1].generated" in text and "rewritten" in text


# --- the command line --------------------------------------------------------------------------

def test_cli_finalise_exit_codes_and_messages(made_en, tmp_path, capsys):
    folder, _ = fresh(made_en, tmp_path)
    append(folder, "labels", "The cluster is ready for Gold.")
    assert main(["finalise", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "contradict" in err and "Gold is not ready" in err and "--accept" in err and "Traceback" not in err
    key = err.split("--accept ")[-1].split("]")[0]
    assert main(["finalise", str(folder), "--accept", key]) == 0
    out = capsys.readouterr().out
    assert "reviewed" in out and "1 accepted" in out
    assert main(["finalise", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert "no report folder" in err and "Traceback" not in err
    (folder / "manifest.json").write_text("{not json")
    assert main(["finalise", str(folder)]) == 1
    assert "manifest.json cannot be read" in capsys.readouterr().err


# --- portfolio and batch summary ---------------------------------------------------------------

def test_portfolio_and_batch_summary_show_draft_reviewed_and_needs_another_look(made_en, tmp_path):
    from auditlib.batch.index import summary_table
    from auditlib.batch.model import ClientResult
    from auditlib.catalogue import load_catalogue
    from auditlib.portfolio import PortfolioRow, load_rows, write_portfolio

    folder, client = fresh(made_en, tmp_path)
    outputs = folder.parent.parent
    row = PortfolioRow(CLIENT, "ok", "2026", reports={"html": f"{CLIENT}/{folder.name}/report.html"})
    cat = load_catalogue(DATA / "catalogue")
    index = write_portfolio(outputs, [row], cat)
    assert "draft" in index.read_text() and load_rows(outputs)[0].review == "draft"
    review.finalise(folder, formats=["html"])
    manifest = json.loads((folder / "manifest.json").read_text())
    from auditlib.report.manifest import sha256_file

    assert manifest["inputs"][f"client/{carryover.FILE_NAME}"] == sha256_file(client / carryover.FILE_NAME)
    write_portfolio(outputs, [row], cat, lang="nl")
    assert "nagekeken" in index.read_text() and load_rows(outputs)[0].review == "reviewed"

    manifest["review"].update(status="needs_review", flagged=["dimension:financing"])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    write_portfolio(outputs, [row], cat)
    assert "reviewed edits need another look" in index.read_text()
    table = summary_table([ClientResult(CLIENT, client, "ok", 1.0, engagement="2026", out_dir=folder)])
    assert "reviewed edits need another look: dimension:financing" in table and "1 with reviewed edits" in table

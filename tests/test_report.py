"""The engagement run: the notebook runs for every example client; the HTML hides all code and
loads nothing from outside; the PDF carries the cluster's name; the Excel holds the result's
figures; the manifest's hashes match; failures keep their notebook and never touch a good
report; client text is escaped; path-escaping ids and bad parameters are refused.

Each example client runs once (html + xlsx; the Dutch client also pdf); the slow tests run
kernels (a few seconds each) but still belong to `make test`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from auditlib import templating
from auditlib.config import Settings
from auditlib.errors import ParameterError
from auditlib.report import (NOTEBOOK, PARAMETERS, REMOVE_CELL_TAGS, REMOVE_INPUT_TAGS, check_html,
                             input_hashes, keep_failed_notebook, run_engagement, split_groups, temp_paths,
                             validate_parameters)
from auditlib.testing import DATA

CLIENTS = sorted(p.name for p in (DATA / "clients").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
DUTCH = "nl-delta-water"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_offline_html_without_code(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    urls = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", html, re.I)
    assert urls, "the report embeds its charts"
    assert all(u.startswith("data:") or u.startswith("#") for u in urls), [u[:40] for u in urls if
                                                                           not u.startswith(("data:", "#"))]
    assert "http://" not in html and "https://" not in html
    assert "jp-InputArea" not in html and 'class="input' not in html and "input_prompt" not in html
    assert "display(view" not in html and "import " not in html          # no code text at all
    assert check_html(html) == []


# --- every example client, once --------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("client", CLIENTS)
def test_report_for_every_example_client(client, tmp_path, in_process):
    from auditlib.audit import analyse

    lang = "nl" if client == DUTCH else "en"
    formats = ["html", "xlsx", "pdf"] if client == DUTCH else ["html", "xlsx"]
    outcome = run_engagement(client, lang=lang, formats=formats, outputs_dir=tmp_path)
    assert outcome.status == "ok", outcome.error
    out = outcome.out_dir
    assert out == tmp_path / client / (outcome.engagement + (".nl" if lang == "nl" else ""))   # languages apart
    expected = {"report.ipynb", "report.html", "scores.xlsx", "manifest.json", "review-facts.json"} | \
        ({"report.pdf"} if "pdf" in formats else set())
    assert {p.name for p in out.iterdir()} == expected
    assert temp_paths(tmp_path) == []

    result = analyse(DATA / "clients" / client)
    assert outcome.engagement == str(result.client.benchmark_year)

    # HTML: one offline file, no code, the cluster's name as text, the sections in the language
    html = (out / "report.html").read_text(encoding="utf-8")
    assert_offline_html_without_code(html)
    from html import escape

    assert escape(result.client.name, quote=False) in html
    assert f'<html lang="{lang}">' in html
    headings = ["Samenvatting", "Dimensieprofiel", "Gereedheid voor labels", "Bijlage: methode en herkomst"] \
        if lang == "nl" else ["Summary", "Dimension profile", "Label readiness", "Appendix: method and provenance"]
    for heading in headings:
        assert heading in html
    assert ("Evolution since" in html or "Ontwikkeling sinds" in html) == (result.evolution is not None)
    # every chart carries its alt text, in the report's language (nbconvert's placeholder is not used)
    images = re.findall(r"<img\b[^>]*>", html)
    assert len(images) >= 3
    alts = [re.search(r'\balt="([^"]+)"', img) for img in images]
    assert all(alts), [img[:80] for img, a in zip(images, alts) if not a]
    assert ("Dimensieprofiel" if lang == "nl" else "Dimension profile") in [a.group(1) for a in alts if a]

    # Excel: the same figures as the result object
    from tests.test_export import assert_sheets_hold

    assert_sheets_hold(out / "scores.xlsx", result.to_frames())

    # manifest: hashes of the outputs and the inputs, versions, timings
    import json

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == outcome.manifest
    assert set(manifest["outputs"]) == expected - {"manifest.json"}
    for name, digest in manifest["outputs"].items():
        assert sha256(out / name) == digest, name
    assert manifest["inputs"] == input_hashes(DATA / "clients" / client, Settings.from_env())
    assert any(k.startswith("client/questionnaire.") for k in manifest["inputs"])
    assert manifest["catalogue"]["version"] == result.catalogue_version
    assert manifest["benchmark"]["sha256"] == result.benchmark_sha256
    assert manifest["parameters"]["lang"] == lang and manifest["parameters"]["client_id"] == client
    for package in ("auditlib", "pandas", "matplotlib", "papermill", "nbconvert", "weasyprint", "openpyxl"):
        assert manifest["versions"][package]
    for step in ("kernel_start", "execute", "html"):
        assert manifest["timings"][step] >= 0
    # the public size: none for a group below the floor or refused by the disclosure rules
    assert [g["n"] for g in manifest["result"]["peer_groups"]] == [g.public_n for g in result.peer_groups]

    # the executed notebook is kept, with outputs
    nb = nbformat.read(str(out / "report.ipynb"), as_version=4)
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")

    if "pdf" in formats:
        pypdf = pytest.importorskip("pypdf", reason="pypdf extracts the PDF's text (a test dependency)")
        reader = pypdf.PdfReader(str(out / "report.pdf"))
        assert len(reader.pages) >= 5
        first = reader.pages[0].extract_text()
        assert result.client.name in first
        assert "Pagina 1 /" in first
        assert manifest["timings"]["pdf"] > 0
        from auditlib.report.pdf import resolve_engine

        assert manifest["pdf_engine"] == resolve_engine("auto")[0]     # the engine that printed it, on record


# --- failure, safety, reproducibility ---------------------------------------------------------------

def _tmp_client(tmp_path: Path, source: str = "es-huerta-food") -> tuple[Settings, Path]:
    clients = tmp_path / "clients"
    shutil.copytree(DATA / "clients" / source, clients / source)
    return Settings.from_env(clients_dir=clients, outputs_dir=tmp_path / "outputs"), clients / source


@pytest.mark.slow
def test_broken_input_keeps_the_failed_notebook_and_the_earlier_report(tmp_path, monkeypatch, in_process):
    settings, folder = _tmp_client(tmp_path)
    good = run_engagement(folder.name, settings=settings, formats=["html", "xlsx"])
    assert good.status == "ok", good.error
    before = {p.name: p.read_bytes() for p in good.out_dir.iterdir()}

    # a failure after the notebook ran (here: the HTML export) never replaces the good report either
    import auditlib.report.run

    def broken_export(*args, **kwargs):
        raise RuntimeError("exporter crashed")

    with monkeypatch.context() as m:
        m.setattr(auditlib.report.run, "export_html", broken_export)
        crashed = run_engagement(folder.name, settings=settings, formats=["html", "xlsx"])
    assert crashed.status == "failed"
    assert crashed.error == "html export: RuntimeError: exporter crashed"
    assert crashed.failed_notebook.is_file()
    assert {p.name: p.read_bytes() for p in good.out_dir.iterdir()} == before

    questionnaire = folder / "questionnaire.yaml"
    text = questionnaire.read_text(encoding="utf-8")
    questionnaire.write_text(text.replace("answers:", "answers: [\n", 1), encoding="utf-8")
    bad = run_engagement(folder.name, settings=settings, formats=["html", "xlsx"])
    assert bad.status == "failed"
    assert re.match(r"cell \d+ \(analysis\): QuestionnaireError: ", bad.error), bad.error
    assert "questionnaire.yaml" in bad.error
    assert bad.engagement == good.engagement
    assert bad.failed_notebook == tmp_path / "outputs" / folder.name / f"{good.engagement}.failed" / "report.ipynb"
    failed_nb = nbformat.read(str(bad.failed_notebook), as_version=4)
    errors = [o for c in failed_nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert errors and errors[0].ename == "QuestionnaireError"
    assert {p.name for p in bad.failed_notebook.parent.iterdir()} == {"report.ipynb"}
    assert {p.name: p.read_bytes() for p in good.out_dir.iterdir()} == before      # untouched

    questionnaire.write_text(text, encoding="utf-8")
    again = run_engagement(folder.name, settings=settings, formats=["html", "xlsx"])
    assert again.status == "ok", again.error
    assert not bad.failed_notebook.parent.exists()                                   # stale failure removed
    # same inputs, same report: byte-identical HTML (no timestamps, stable images)
    assert (again.out_dir / "report.html").read_bytes() == before["report.html"]
    assert (again.out_dir / "scores.xlsx").read_bytes() == before["scores.xlsx"]
    assert temp_paths(settings.outputs_dir) == []
    assert sorted(p.name for p in (tmp_path / "outputs" / folder.name).iterdir()) == [good.engagement]


@pytest.mark.slow
def test_two_runs_give_byte_identical_html_pdf_and_xlsx(tmp_path):
    """Same inputs, same files: no time of day in the HTML, the PDF or the workbook."""
    settings = Settings.from_env()
    made = []
    for k in (1, 2):
        outcome = run_engagement(DUTCH, settings=settings, lang="nl", outputs_dir=tmp_path / f"run{k}")
        assert outcome.status == "ok", outcome.error
        made.append(outcome.out_dir)
        if k == 1:
            import time
            time.sleep(1.1)                      # a second later: any timestamp would differ
    for name in ("report.html", "report.pdf", "scores.xlsx"):
        assert (made[0] / name).read_bytes() == (made[1] / name).read_bytes(), name


@pytest.mark.slow
def test_client_text_is_escaped_in_the_html(in_process, tmp_path):
    settings, folder = _tmp_client(tmp_path)
    questionnaire = folder / "questionnaire.yaml"
    text = questionnaire.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^  name: .*$", '  name: "<script>alert(1)</script> Cluster"', text, count=1)
    questionnaire.write_text(text, encoding="utf-8")
    (folder / "notes.yaml").write_text(
        'notes:\n  - {anchor: overall, text: "<img src=x onerror=alert(2)> & <b>bold</b>"}\n', encoding="utf-8")
    outcome = run_engagement(folder.name, settings=settings, formats=["html"])
    assert outcome.status == "ok", outcome.error
    html = (outcome.out_dir / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Cluster" in html
    assert "<script" not in html.lower()
    assert "&lt;img src=x onerror=alert(2)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<img src=x" not in html and "<b>bold" not in html
    assert_offline_html_without_code(html)


@pytest.mark.parametrize("client", ["../x", "..", "/etc", "/tmp/x", "a/b", ".hidden", "", "x y", "-rf", "~root",
                                    "nl-delta-water/../../x"])
def test_path_escaping_client_ids_are_refused(client, tmp_path):
    with pytest.raises(ParameterError, match="client id"):
        run_engagement(client, outputs_dir=tmp_path / "outputs")
    assert not (tmp_path / "outputs").exists()


def test_an_unknown_client_is_refused_before_any_kernel(tmp_path):
    with pytest.raises(ParameterError, match="no client 'nobody'.*known: .*nl-delta-water"):
        run_engagement("nobody", outputs_dir=tmp_path)


# --- parameters ---------------------------------------------------------------------------------------

def test_unknown_parameter_and_bad_language_are_reported_together():
    with pytest.raises(ParameterError) as exc:
        validate_parameters({"client_id": DUTCH, "lang": "de", "colour": "blue"})
    message = str(exc.value)
    assert "unknown parameter 'colour'" in message
    assert "lang: 'de' is not a report language (expected one of en, nl)" in message
    assert message.startswith("2 invalid report parameters")


@pytest.mark.parametrize("params, expected", [
    ({"anonymity_floor": "ten"}, "anonymity_floor: expected int"),
    ({"anonymity_floor": True}, "anonymity_floor: expected int"),
    ({"anonymity_floor": 3}, "below the minimum of 5"),
    ({"peer_groups": "all,moon"}, "unknown peer group 'moon'"),
    ({"peer_groups": ["field", "field"]}, "asked for twice"),
    ({"engagement_date": "26-11-2026"}, "expected YYYY-MM-DD"),
    ({"engagement_id": "../up"}, "engagement_id"),
    ({"earlier_audit": "1999"}, "no earlier audit of 1999"),
    ({"client_id": "nobody"}, "no client 'nobody'"),
    ({"benchmark": "/no/such/file.csv"}, "benchmark: no such file"),
])
def test_parameter_values_are_checked(params, expected):
    with pytest.raises(ParameterError, match=re.escape(expected)):
        validate_parameters({"client_id": DUTCH, **params})


def test_notebook_namespace_is_validated_like_a_dict():
    import types

    namespace = {"client_id": DUTCH, "lang": "nl", "In": [], "Out": {}, "_": None, "get_ipython": print,
                 "os": types.ModuleType("os"), "validate_parameters": validate_parameters}
    params = validate_parameters(namespace)
    assert params.lang == "nl" and params.client_id == DUTCH and params.groups == ()
    assert params.client_dir == Settings.from_env().clients_dir / DUTCH


def test_custom_groups_keep_their_commas():
    assert split_groups("all, field,mine=field:ict|food,country:NL") == ["all", "field",
                                                                          "mine=field:ict|food,country:NL"]
    assert split_groups(["all", " eu "]) == ["all", "eu"]
    params = validate_parameters({"client_id": DUTCH, "peer_groups": "all,mine=field:ict|food,country:NL"})
    assert params.groups == ("all", "mine=field:ict|food,country:NL")


def test_run_engagement_refuses_bad_arguments_before_any_kernel(tmp_path):
    out = tmp_path / "outputs"
    with pytest.raises(ParameterError, match="lang"):
        run_engagement(DUTCH, lang="fr", outputs_dir=out)
    with pytest.raises(ParameterError, match="unknown output format"):
        run_engagement(DUTCH, formats=["html", "docx"], outputs_dir=out)
    with pytest.raises(ParameterError, match="unknown parameter 'colour'"):
        run_engagement(DUTCH, extra_parameters={"colour": "blue"}, outputs_dir=out)
    with pytest.raises(ParameterError, match="as run_engagement arguments"):
        run_engagement(DUTCH, extra_parameters={"lang": "nl"}, outputs_dir=out)
    assert not out.exists()


@pytest.mark.slow
def test_the_notebook_itself_refuses_unknown_parameters_and_bad_languages(tmp_path):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError) as exc:
        papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"), parameters={"colour": "blue",
                                                                                             "lang": "de"},
                                   kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
                                   extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    assert exc.value.ename == "ParameterError"
    assert "unknown parameter 'colour'" in exc.value.evalue and "lang: 'de'" in exc.value.evalue
    assert exc.value.exec_count == 3          # the first cell after papermill's injected parameters


# --- the notebook template ----------------------------------------------------------------------------

def test_notebook_is_stored_without_outputs_and_every_code_cell_is_tagged():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None
        tags = set(cell.metadata.get("tags", []))
        assert tags & (REMOVE_INPUT_TAGS | REMOVE_CELL_TAGS), cell.source[:40]
    assert "parameters" in code[0].metadata["tags"]
    checked = [c for c in code if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert len(checked) >= 2


def test_the_parameters_cell_matches_the_known_parameters():
    import papermill

    found = papermill.inspect_notebook(str(NOTEBOOK))
    assert list(found) == list(PARAMETERS)
    for name, info in found.items():
        types_, default, _ = PARAMETERS[name]
        assert info["inferred_type_name"] in {t.__name__ for t in types_}
        assert eval(info["default"]) == default      # noqa: S307 (literal defaults of our own notebook)


# --- inputs and leftovers -------------------------------------------------------------------------------

def test_input_hashes_cover_every_input(tmp_path):
    settings, folder = _tmp_client(tmp_path, DUTCH)
    (folder / "notes.yaml").write_text("notes: []\n", encoding="utf-8")
    hashes = input_hashes(folder, settings)
    for key in ("client/questionnaire.yaml", "client/earlier/2024.yaml", "client/notes.yaml",
                "catalogue/indicators.yaml", "catalogue/labels.yaml", "benchmark/benchmark.csv",
                "notebook/audit_report.ipynb", "template/report/index.html.j2", "template/report/words.yaml"):
        assert key in hashes, key
    assert hashes["client/questionnaire.yaml"] == sha256(folder / "questionnaire.yaml")
    before = dict(hashes)
    (folder / "notes.yaml").write_text("notes: []\nimprovement_areas: [sme_share]\n", encoding="utf-8")
    after = input_hashes(folder, settings)
    assert [k for k in after if after[k] != before.get(k)] == ["client/notes.yaml"]


def test_a_killed_run_leaves_a_keepable_notebook(tmp_path):
    client_out = tmp_path / "outputs" / "acme"
    build = client_out / ".2026.ab12cd_x.tmp"
    build.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nbformat.write(nb, str(build / "report.ipynb"))
    (build / "scores.xlsx").write_bytes(b"partial")
    assert temp_paths(tmp_path / "outputs") == [build]
    kept = keep_failed_notebook(tmp_path / "clients" / "acme", outputs_dir=tmp_path / "outputs",
                                reason="killed <after> 600 s")
    assert kept == client_out / "2026.failed" / "report.ipynb"
    assert {p.name for p in kept.parent.iterdir()} == {"report.ipynb"}
    first = nbformat.read(str(kept), as_version=4).cells[0]
    assert "killed &lt;after&gt; 600 s" in first.source
    assert temp_paths(tmp_path / "outputs") == []


def test_the_html_export_checks_the_notebook_once_and_still_refuses_an_invalid_one(monkeypatch):
    """nbconvert validates the notebook after all its preprocessors (optimistic_validation), not
    after each of them: one whole-notebook schema check per report, and an invalid notebook fails."""
    from auditlib.report import export_html

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(x)", metadata={"tags": ["remove_input"]})
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": "<p>shown</p>", "text/plain": ""})]
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), cell]
    calls = []
    real = nbformat.validate
    monkeypatch.setattr(nbformat, "validate", lambda node, *a, **k: (calls.append(1), real(node, *a, **k))[1])
    assert "<p>shown</p>" in export_html(nb, lang="en", title="t")
    assert len(calls) == 1
    cell.outputs[0]["output_type"] = "not-an-output"
    with pytest.raises(nbformat.ValidationError):
        export_html(nb, lang="en", title="t")


def _small_notebook():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(x)", metadata={"tags": ["remove_input"]})
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": "<p>shown</p>", "text/plain": ""})]
    nb.cells = [nbformat.v4.new_markdown_cell("# title\n\n- one\n- two"), cell]
    return nb


@pytest.fixture
def fresh_exporter():
    """Each build of the HTML exporter in these tests starts from nothing; none is left behind."""
    from auditlib.report import finalise

    templating.remember_compiled_templates(None)
    finalise._html_exporter.cache_clear()
    yield finalise
    templating.remember_compiled_templates(None)
    finalise._html_exporter.cache_clear()


def test_compiled_templates_are_kept_and_the_page_is_the_same(tmp_path, fresh_exporter, compiled_templates):
    """With a cache folder the report's templates are compiled once and loaded by the next process
    (here: the next exporter); a damaged cached file is compiled again. The page never changes."""
    finalise, nb, compiled = fresh_exporter, _small_notebook(), compiled_templates

    def page() -> str:
        compiled.clear()
        finalise._html_exporter.cache_clear()
        return finalise.export_html(nb, lang="nl", title="t")

    plain = page()
    assert "index.html.j2" in compiled
    templating.remember_compiled_templates(tmp_path)
    assert page() == plain and "index.html.j2" in compiled           # compiled, then kept
    kept = sorted(p for p in (tmp_path / "templates").rglob("*") if p.is_file())
    assert kept and {p.parent.name for p in kept} == {"page"}       # nbconvert's environment's own folder
    assert page() == plain and compiled == []                        # all loaded from the folder
    for path in kept:
        path.write_bytes(b"not a compiled template")
    assert page() == plain and "index.html.j2" in compiled


def test_a_cache_folder_that_cannot_be_written_changes_nothing(tmp_path, monkeypatch, fresh_exporter):
    """Nor does one that other accounts could write into: no compiled template is read from there."""
    finalise, nb = fresh_exporter, _small_notebook()
    plain = finalise.export_html(nb, lang="en", title="t")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    templating.remember_compiled_templates(blocked)                   # its templates folder cannot be made
    finalise._html_exporter.cache_clear()
    assert finalise.export_html(nb, lang="en", title="t") == plain
    import tempfile

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    shared = tmp_path / "shared"
    (shared / "templates").mkdir(parents=True)
    (shared / "templates").chmod(0o777)                            # anyone could plant compiled code there
    templating.remember_compiled_templates(shared)
    finalise._html_exporter.cache_clear()
    assert finalise.export_html(nb, lang="en", title="t") == plain
    assert [p for p in (shared / "templates").rglob("*") if p.is_file()] == []
    templating.remember_compiled_templates(tmp_path / "cache")        # made, but nothing can be written in it
    finalise._html_exporter.cache_clear()
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full_disk)
    assert finalise.export_html(nb, lang="en", title="t") == plain
    assert [p for p in (tmp_path / "cache" / "templates").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("deaths, error", [(1, None), (2, None), (1, "a cell's own RuntimeError")])
def test_a_kernel_that_dies_at_start_is_started_once_more(tmp_path, monkeypatch, deaths, error):
    """A kernel process that dies before its first reply (another process took one of its ports) is
    started again, once; a second death fails the client's run with the reason, and any other error
    is not retried."""
    import papermill

    from auditlib.report.run import KERNEL_START_FAILED

    real, calls = papermill.execute_notebook, []

    def flaky(*args, **kwargs):
        if kwargs.get("prepare_only"):           # the failed run's parameterised copy: no kernel
            return real(*args, **kwargs)
        calls.append(1)
        if len(calls) <= deaths:
            raise RuntimeError(error or KERNEL_START_FAILED)
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    outcome = run_engagement(DUTCH, settings=Settings.from_env(), lang="nl", outputs_dir=tmp_path / "out",
                             formats=("xlsx",))
    if error:
        assert len(calls) == 1 and outcome.status == "failed" and error in outcome.error
    elif deaths == 1:
        assert len(calls) == 2 and outcome.status == "ok", outcome.error
    else:
        assert len(calls) == 2 and outcome.status == "failed" and KERNEL_START_FAILED in outcome.error

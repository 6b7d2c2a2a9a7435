"""The auditor's workspace: languages apart, `auditlib open` works on a copy, notebooks find the
outputs from wherever they are opened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from auditlib.testing import DATA

from auditlib.config import Settings
from auditlib.report.paths import (
    language_suffix_problem,
    report_dir_language,
    report_dir_name,
)

CLIENT = "es-huerta-food"


# --- languages apart ----------------------------------------------------------------------------

def test_report_folder_names_keep_the_languages_apart():
    assert report_dir_name("2026", "en") == "2026"               # English paths stay as they were
    assert report_dir_name("2026", "nl") == "2026.nl"
    assert report_dir_language("2026.nl") == ("2026", "nl")
    assert report_dir_language("2026") == ("2026", "en")
    assert report_dir_language("v1.2") == ("v1.2", "en")          # a dot alone is not a language
    assert language_suffix_problem("2026.nl") and language_suffix_problem("audit.EN")
    assert language_suffix_problem("2026") is None and language_suffix_problem("v1.2") is None


@pytest.mark.slow
def test_english_and_dutch_reports_do_not_overwrite_each_other_and_changed_only_respects_the_language(
        tmp_path, monkeypatch):
    import auditlib.report
    import auditlib.report.manifest
    from auditlib.batch import last_good_report, unchanged_report
    from auditlib.errors import ParameterError
    from auditlib.report import run_engagement

    # The inputs' hashes are frozen for this test (the language is under test, not the hashing), so
    # an edit elsewhere in the tree between the two runs cannot make the English report stale.
    def frozen(client_dir, settings):
        return {"client": Path(client_dir).name}

    monkeypatch.setattr(auditlib.report.manifest, "input_hashes", frozen)
    monkeypatch.setattr(auditlib.report, "input_hashes", frozen)

    settings = Settings.from_env()
    out = tmp_path / "outputs"
    en = run_engagement(CLIENT, settings=settings, lang="en", formats=["html"], outputs_dir=out)
    nl = run_engagement(CLIENT, settings=settings, lang="nl", formats=["html"], outputs_dir=out)
    assert en.status == nl.status == "ok", (en.error, nl.error)
    assert en.out_dir == out / CLIENT / "2026" and nl.out_dir == out / CLIENT / "2026.nl"
    assert '<html lang="en">' in (en.out_dir / "report.html").read_text(encoding="utf-8")   # still English
    assert '<html lang="nl">' in (nl.out_dir / "report.html").read_text(encoding="utf-8")
    manifest = json.loads((nl.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["engagement"], manifest["lang"], manifest["folder"]) == ("2026", "nl", "2026.nl")
    assert nl.engagement == "2026"

    # --changed-only: each language finds its own report, never the other one
    client_dir = DATA / "clients" / CLIENT
    assert unchanged_report(client_dir, settings, out, lang="nl", formats=["html"]) == nl.out_dir
    assert unchanged_report(client_dir, settings, out, lang="en", formats=["html"]) == en.out_dir
    assert last_good_report(out, CLIENT, "nl") == nl.out_dir and last_good_report(out, CLIENT, "en") == en.out_dir
    # a batch asking for another floor or engagement does not take this report as current
    assert unchanged_report(client_dir, settings, out, lang="en", formats=["html"],
                            extra_parameters={"anonymity_floor": 12}) is None
    assert unchanged_report(client_dir, settings, out, lang="en", formats=["html"],
                            extra_parameters={"engagement_id": "2026-q4"}) is None
    import shutil

    shutil.rmtree(nl.out_dir)       # no Dutch report: the English one must not count as the Dutch one
    assert unchanged_report(client_dir, settings, out, lang="nl", formats=["html"]) is None

    # an engagement named like another language's folder is refused before any kernel starts
    with pytest.raises(ParameterError, match="suffix of a report language"):
        run_engagement(CLIENT, settings=settings, lang="en", engagement="2026.nl", formats=["html"],
                       outputs_dir=out)


# --- auditlib open: a copy, never the template ------------------------------------------------------

def test_open_writes_a_parameterised_copy_keeps_it_and_never_touches_the_template(tmp_path, capsys):
    import hashlib

    import nbformat

    from auditlib.cli import main
    from auditlib.report import NOTEBOOK

    before = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    out = tmp_path / "outputs"
    assert main(["open", CLIENT, "--lang", "nl", "--write-only", "--outputs", str(out)]) == 0
    copy = out / CLIENT / "2026.nl.workspace.ipynb"
    assert f"wrote workspace notebook {copy}" in capsys.readouterr().out
    nb = nbformat.read(copy, as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f'client_id = "{CLIENT}"' in injected.source and 'lang = "nl"' in injected.source
    assert f'catalogue_dir = "{(DATA / "catalogue").resolve()}"' in injected.source       # absolute paths
    assert not (out / CLIENT / "2026.nl").exists()          # beside the report folder, which run replaces whole

    # the auditor's own cell survives a second open; --fresh starts over
    nb.cells.append(nbformat.v4.new_code_cell("# my own question"))
    nbformat.write(nb, copy)
    assert main(["open", CLIENT, "--lang", "nl", "--write-only", "--outputs", str(out)]) == 0
    assert "kept your workspace notebook" in capsys.readouterr().out
    assert "# my own question" in copy.read_text(encoding="utf-8")
    assert main(["open", CLIENT, "--lang", "nl", "--write-only", "--fresh", "--outputs", str(out)]) == 0
    assert "# my own question" not in copy.read_text(encoding="utf-8")
    assert main(["open", CLIENT, "--write-only", "--outputs", str(out)]) == 0       # English: its own copy
    assert (out / CLIENT / "2026.workspace.ipynb").is_file()
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == before               # the template is untouched
    assert main(["open", "no-such-client", "--write-only", "--outputs", str(out)]) == 1
    assert "no client 'no-such-client'" in capsys.readouterr().err


def test_lab_is_started_on_the_copy_in_its_own_folder(tmp_path):
    from auditlib.workspace import lab_command

    nb = tmp_path / CLIENT / "2026.workspace.ipynb"
    cmd = lab_command(nb, browser=False)
    assert cmd[1:4] == ["-m", "jupyter", "lab"] and nb.name in cmd and "--no-browser" in cmd
    assert f"--ServerApp.root_dir={nb.parent}" in cmd
    assert "--no-browser" not in lab_command(nb)


@pytest.mark.slow
def test_the_workspace_copy_runs_from_any_folder(tmp_path, monkeypatch):
    import papermill

    from auditlib.workspace import open_workspace

    ws = open_workspace(DATA / "clients" / CLIENT, settings=Settings.from_env(), lang="nl",
                        outputs_dir=tmp_path / "outputs")
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    nb = papermill.execute_notebook(str(ws.notebook), str(tmp_path / "ran.ipynb"), cwd=str(elsewhere),
                                    kernel_name="python3", progress_bar=False)
    assert nb.metadata.papermill.exception is None or nb.metadata.papermill.exception is False
    assert list(elsewhere.iterdir()) == []                    # it exports nothing: `run` makes the report


# --- every notebook finds the outputs from wherever it is opened -------------------------------------

@pytest.mark.parametrize("folder", [".", "notebooks", "auditlib/report"])
def test_the_outputs_are_found_from_any_folder_of_the_project(folder, monkeypatch):
    """notebooks/portfolio_overview.ipynb opened in notebooks/ reads the same outputs/ as `auditlib batch`."""
    from auditlib.config import REPO_ROOT
    from auditlib.portfolio import overview_parameters

    for name in ("AUDITLIB_DATA", "AUDITLIB_OUTPUTS", "AUDITLIB_CLIENTS", "AUDITLIB_CATALOGUE", "AUDITLIB_BENCHMARK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO_ROOT / folder)
    assert Settings.from_env().outputs_dir == REPO_ROOT / "outputs"
    overview = overview_parameters({"clients_dir": "", "outputs_dir": "", "lang": "nl"})
    assert overview.outputs_dir == REPO_ROOT / "outputs" and overview.clients_dir == REPO_ROOT / "data" / "clients"


def test_the_outputs_follow_the_data_folder_named_by_the_environment(tmp_path):
    settings = Settings.from_env({"AUDITLIB_DATA": str(tmp_path / "licensed" / "data")})
    assert settings.outputs_dir == tmp_path / "licensed" / "outputs"
    assert Settings.from_env({"AUDITLIB_OUTPUTS": str(tmp_path / "o")}).outputs_dir == tmp_path / "o"


def test_the_readme_sends_the_auditor_to_a_copy_not_to_the_template():
    from auditlib.config import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "auditlib open" in readme
    assert "open `notebooks/audit_report.ipynb`" not in readme and "set the parameters cell" not in readme
    assert "docs/report-page1-en.png" in readme and "docs/report-page1-nl.png" in readme
    for name in ("report-page1-en.png", "report-page1-nl.png"):
        assert (REPO_ROOT / "docs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name

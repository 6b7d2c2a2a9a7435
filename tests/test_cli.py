"""The `auditlib` command: exit codes, messages, and no traceback for a user mistake."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from auditlib.cli import main

from conftest import DATA, TEST_DATA


def test_validate_clean_client_prints_one_line(capsys):
    assert main(["validate", str(DATA / "clients" / "nl-delta-water")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("nl-delta-water:")


def test_validate_all_example_clients(capsys):
    assert main(["validate"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) >= 6


def test_validate_malformed_client_lists_problems_and_exits_1(tmp_path, capsys):
    client = tmp_path / "broken-client"
    client.mkdir()
    shutil.copy(TEST_DATA / "several_problems.xlsx", client / "questionnaire.xlsx")
    assert main(["validate", str(client)]) == 1
    err = capsys.readouterr().err
    assert "questionnaire.xlsx" in err and "sheet 'answers', row" in err
    assert "Traceback" not in err
    assert err.count("  - ") >= 5


def test_score_prints_profile_and_readiness(capsys):
    assert main(["score", "nl-delta-water", "--group", "field", "--group", "country"]) == 0
    out = capsys.readouterr().out
    assert "Dimension profile" in out and "Label readiness" in out and "bronze" in out
    assert "Evolution 2024 -> 2026" in out


def test_score_bad_floor_is_a_clear_error(capsys):
    assert main(["score", "nl-delta-water", "--floor", "3"]) == 1
    assert "never below 5" in capsys.readouterr().err


def test_score_refuses_benchmark_that_does_not_fit(tmp_path, capsys):
    bad = tmp_path / "export.csv"
    bad.write_text("org_id,country\nX-1,NL\n")
    assert main(["score", "nl-delta-water", "--benchmark", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "export.csv" in err and "Traceback" not in err


def test_unknown_client_is_a_clear_error(capsys):
    assert main(["validate", "no-such-client"]) == 1
    assert "no-such-client" in capsys.readouterr().err


def test_template_writes_xlsx(tmp_path, capsys):
    out = tmp_path / "q.xlsx"
    assert main(["template", str(out), "--lang", "nl"]) == 0
    assert out.stat().st_size > 0


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "auditlib", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("auditlib ")


@pytest.mark.slow
def test_run_writes_report_and_a_failure_exits_1_with_kept_notebook(tmp_path, capsys):
    client = tmp_path / "clients" / "acme"
    shutil.copytree(DATA / "clients" / "pl-wisla-ict", client)
    outputs = tmp_path / "out"
    assert main(["run", str(client), "--formats", "html", "--outputs", str(outputs)]) == 0
    assert (outputs / "acme" / "2026" / "report.html").is_file()
    good = (outputs / "acme" / "2026" / "report.html").read_bytes()
    capsys.readouterr()
    (client / "questionnaire.csv").write_text("indicator_id,answer\ncommitted_members,lots\n")
    assert main(["run", str(client), "--formats", "html", "--outputs", str(outputs)]) == 1
    err = capsys.readouterr().err
    assert "report failed" in err and "failed notebook is kept" in err and "Traceback" not in err
    assert (outputs / "acme" / "2026" / "report.html").read_bytes() == good     # the good report stays
    assert list((outputs / "acme").glob("*.failed/report.ipynb"))


def test_run_refuses_escaping_client_id(capsys):
    assert main(["run", "../no-such-client-0b1f"]) == 1     # an id, not a folder: refused
    assert "refused client id" in capsys.readouterr().err

"""No traceback, ever: every file in tests/data and every bad option tried, through the CLI.

validate, score and interpret run in-process over every fixture; run and batch over the hostile
client folders (a formula, a Markdown link, control characters, an alias bomb in the notes) and
with every bad option. Each ends in output without 'Traceback' and without a raw terminal escape;
a failure exits non-zero with a message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from auditlib.cli import main
from auditlib.testing import REPO, TEST_DATA

FOLDERS = TEST_DATA / "folders"
VALID_FOLDERS = {"index.html", "portfolio.json", "formula_name", "link_name"}


def fixture_files() -> list[Path]:
    return sorted(p for p in TEST_DATA.iterdir() if p.is_file() and p.suffix not in (".py", ".md")
                  and not p.name.endswith(".profile.csv"))


def as_client(path: Path, root: Path) -> Path:
    """A client folder holding one fixture file as its questionnaire (and its profile.csv)."""
    folder = root / path.name.replace(".", "_")
    folder.mkdir(parents=True)
    shutil.copy(path, folder / f"questionnaire{path.suffix}")
    profile = path.with_name(f"{path.stem}.profile.csv")
    if profile.is_file():
        shutil.copy(profile, folder / "profile.csv")
    return folder


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:        # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(code, out, err, *, ok: bool, what: str) -> None:
    text = out + err
    assert "Traceback" not in text, what
    assert "\x1b" not in text and "\x07" not in text, f"{what}: raw terminal escape in the output"
    if ok:
        assert code == 0, f"{what}: {err}"
    else:
        assert code not in (0, None), what
        assert err.strip(), f"{what}: no message"


@pytest.mark.parametrize("fixture", fixture_files(), ids=lambda p: p.name)
@pytest.mark.parametrize("command", ["validate", "score", "interpret"])
def test_every_fixture_file_gives_a_message_not_a_traceback(fixture, command, tmp_path, capsys):
    folder = as_client(fixture, tmp_path)
    assert_clean(*cli([command, str(folder)], capsys), ok=False, what=f"{command} {fixture.name}")


@pytest.mark.parametrize("folder", sorted(p.name for p in FOLDERS.iterdir() if p.is_dir()))
@pytest.mark.parametrize("command", ["validate", "score", "interpret"])
def test_every_fixture_folder_gives_a_result_or_a_message(folder, command, capsys):
    code, out, err = cli([command, str(FOLDERS / folder)], capsys)
    assert_clean(code, out, err, ok=folder in VALID_FOLDERS, what=f"{command} {folder}")


def test_escapes_in_a_name_are_shown_inert(capsys):
    code, out, err = cli(["validate", str(FOLDERS / "control_characters_name")], capsys)
    assert code == 1
    assert "\\x1b[31mRED" in err and "a control character (\\x1b) at character 10" in err


@pytest.mark.parametrize("command", ["score", "interpret"])
def test_a_group_name_with_escapes_is_shown_inert(capsys, command):
    code, out, err = cli([command, "es-huerta-food", "--group", "\x1b]0;pwned\x07=country:ES"], capsys)
    assert_clean(code, out, err, ok=True, what=f"{command} with an escape in a group name")
    assert "\\x1b]0;pwned\\x07" in out


def bad_options(tmp: Path) -> list[list[str]]:
    a_file = tmp / "a-file"
    a_file.write_text("not a folder")
    folder = tmp / "a-folder"
    folder.mkdir()
    c = "es-huerta-food"
    return [
        ["score", c, "--group", "x=country:"], ["score", c, "--group", "x=founding_year:abc"],
        ["score", c, "--group", "x=colour:red"], ["score", c, "--floor", "3"],
        ["score", c, "--exclude-id", "co-99999"],
        ["run", c, "--timeout", "0"], ["run", c, "--timeout", "-1"], ["run", c, "--timeout", "nan"],
        ["run", c, "--timeout", "abc"], ["run", c, "--lang", "xx"], ["run", c, "--formats", "docx"],
        ["run", c, "--engagement", "2026.failed"], ["run", c, "--engagement", "../x"],
        ["run", c, "--outputs", str(a_file)], ["run", str(FOLDERS / "index.html"), "--outputs", str(tmp / "o")],
        ["run", "no-such-client"],
        ["batch", c, "--timeout", "0"], ["batch", c, "--timeout", "-5"], ["batch", c, "--workers", "0"],
        ["batch", c, "--outputs", str(a_file)], ["batch", str(FOLDERS / "portfolio.json"), "--outputs", str(tmp / "o")],
        ["batch", "no-such-client"], ["batch", c, "--formats", "html,docx"],
        ["template", str(a_file / "q.xlsx")], ["template", str(folder)], ["template", "q.xlsx", "--lang", "xx"],
        ["validate", "no-such-client"], ["interpret", c, "--lang", "de"],
    ]


def test_every_bad_option_gives_a_message_not_a_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITLIB_CLIENTS", str(REPO / "data" / "clients"))
    monkeypatch.setenv("AUDITLIB_OUTPUTS", str(tmp_path / "outputs"))
    for argv in bad_options(tmp_path):
        assert_clean(*cli(argv, capsys), ok=False, what=" ".join(argv))
    assert not (tmp_path / "outputs" / "es-huerta-food").exists()     # refused before any work


def test_run_refuses_while_another_writer_holds_the_outputs_folder(tmp_path, capsys):
    from auditlib.files import outputs_lock

    with outputs_lock(tmp_path):
        code, out, err = cli(["run", "es-huerta-food", "--outputs", str(tmp_path), "--formats", "xlsx"], capsys)
    assert_clean(code, out, err, ok=False, what="run while locked")
    assert "another auditlib batch or run is writing" in err


@pytest.mark.slow
def test_batch_over_hostile_clients_with_a_fractional_timeout(tmp_path):
    """A fractional timeout (a TraitError for every client today); a formula and a Markdown link as
    names (a live formula in scores.xlsx, a report refused by the offline check today); escapes in
    a name and an alias bomb in the notes refused with their reason."""
    clients = tmp_path / "clients"
    for name in ("formula_name", "link_name", "control_characters_name", "alias_bomb_notes"):
        shutil.copytree(FOLDERS / name, clients / name)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITLIB_")}
    proc = subprocess.run([sys.executable, "-m", "auditlib", "batch", "--clients-dir", str(clients),
                           "--outputs", str(out), "--timeout", "30.5", "--formats", "html,xlsx"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text and "\x1b[31m" not in text
    assert proc.returncode == 1
    rows = {r["client_id"]: r for r in json.loads((out / "portfolio.json").read_text())["clients"]}
    assert rows["formula_name"]["status"] == rows["link_name"]["status"] == "ok", text
    assert "TraitError" not in text
    assert rows["control_characters_name"]["status"] == "failed"
    assert rows["alias_bomb_notes"]["status"] == "failed" and "would expand" in rows["alias_bomb_notes"]["reason"]
    html = (out / "link_name" / "2026" / "report.html").read_text(encoding="utf-8")
    assert "[click me](http://x.example)" in html and 'href="http' not in html
    wb = openpyxl.load_workbook(out / "formula_name" / "2026" / "scores.xlsx")
    assert not [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]

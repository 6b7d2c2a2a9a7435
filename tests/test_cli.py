"""The `auditlib` command: exit codes, messages, and no traceback for a user mistake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from auditlib.cli import main

from auditlib.testing import DATA, TEST_DATA


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


def test_the_command_line_remembers_a_benchmark_that_passed(tmp_path):
    """The first command validates the benchmark and remembers it in AUDITLIB_CACHE (the compiled
    templates go there too); the next one does not import pandera at all (a cold run's ~0.4 s)."""
    probe = ("import sys\nfrom auditlib.cli import main\ncode = main(['run', 'no-such-client'])\n"
             "from auditlib import templating\n"
             "print(code, 'pandera' in sys.modules, templating.folder())")
    env = {**os.environ, "AUDITLIB_CACHE": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    # the client is unknown; the compiled templates would be kept in the same cache
    assert first.stdout.split() == ["1", "True", str(tmp_path / "cache" / "templates")], first.stdout + first.stderr
    assert len(list((tmp_path / "cache" / "benchmark-verdicts").glob("*.json"))) == 1
    second = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert second.stdout.split()[:2] == ["1", "False"], second.stdout + second.stderr
    assert "no-such-client" in second.stderr


def test_run_refuses_escaping_client_id(capsys):
    assert main(["run", "../no-such-client-0b1f"]) == 1     # an id, not a folder: refused
    assert "refused client id" in capsys.readouterr().err


# --- rough edges (issue 15): one option set for run and batch, nothing dead, pipes, --lang help ---

def _options(command: str) -> dict:
    from auditlib.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices[command]._option_string_actions


def test_run_and_batch_take_the_same_report_options():
    shared = ("--group", "--floor", "--exclude-id", "--engagement", "--date", "--lang", "--formats", "--outputs",
              "--timeout", "--catalogue", "--benchmark", "--clients-dir")
    for command in ("run", "batch"):
        missing = [o for o in shared if o not in _options(command)]
        assert not missing, f"{command} lacks {missing}"


def test_every_lang_option_says_what_it_does():
    for command in ("template", "interpret", "run", "batch", "meeting", "open"):
        action = _options(command)["--lang"]
        assert action.help and "nl (Dutch)" in action.help, command
        assert list(action.choices) == ["en", "nl"]


def test_template_offers_no_option_it_would_ignore(tmp_path, capsys):
    # the template reads the catalogue only (--clients-dir serves --prefill); a benchmark it would ignore
    for dead in ("--benchmark",):
        assert dead not in _options("template")
        with pytest.raises(SystemExit) as exc:
            main(["template", str(tmp_path / "q.xlsx"), dead, "x"])
        assert exc.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_batch_passes_group_floor_engagement_and_date_to_every_report(monkeypatch, tmp_path, capsys):
    import auditlib.batch as batch_pkg
    from auditlib.batch.model import BatchResult

    seen = {}

    def fake_run_batch(paths, **kwargs):
        seen.update(kwargs, paths=paths)
        return BatchResult([], None)

    monkeypatch.setattr(batch_pkg, "run_batch", fake_run_batch)
    status = main(["batch", "nl-delta-water", "--group", "field", "--group", "benelux=country:NL|BE",
                   "--floor", "12", "--engagement", "2026-q4", "--date", "2026-11-30", "--outputs",
                   str(tmp_path)])
    assert status == 0, capsys.readouterr().err
    assert seen["groups"] == ["field", "benelux=country:NL|BE"]
    assert seen["extra_parameters"] == {"anonymity_floor": 12, "engagement_id": "2026-q4",
                                        "engagement_date": "2026-11-30"}
    # a caller's mistake stops the batch before any client starts
    seen.clear()
    assert main(["batch", "--floor", "3", "--date", "30-11-2026", "--outputs", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "anonymity_floor" in err and "engagement_date" in err and not seen


def test_run_passes_the_floor_to_the_report(monkeypatch, tmp_path, capsys):
    import auditlib.report as report_pkg

    seen = {}

    def fake_run_engagement(client, **kwargs):
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(report_pkg, "run_engagement", fake_run_engagement)
    with pytest.raises(SystemExit):
        main(["run", "nl-delta-water", "--floor", "12", "--group", "field", "--outputs", str(tmp_path)])
    assert seen["extra_parameters"]["anonymity_floor"] == 12 and seen["groups"] == ["field"]


def test_a_custom_group_named_like_the_help_placeholder_is_refused_and_the_readme_example_names_its_group():
    import re

    from auditlib.errors import ParameterError
    from auditlib.peers import parse_custom

    with pytest.raises(ParameterError, match="placeholder.*benelux=country:NL"):
        parse_custom("name=country:NL")
    readme = (DATA.parent / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r'--group "([^"]+=[^"]+)"', readme)
    assert examples, "the README shows a custom group"
    for example in examples:
        assert parse_custom(example).key != "name", example


def test_a_closed_pipe_ends_quietly():
    """`auditlib score | head`: the reader goes away; no BrokenPipeError traceback, exit 141."""
    proc = subprocess.Popen([sys.executable, "-m", "auditlib", "score"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.readline()          # the reader takes one line, then closes its end
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err


# --- the end of `auditlib run` on the command line (cli._end_process): nothing lost, nothing left ---

def _left_behind(pid: int, args: list[str] | None = None) -> list[str]:
    """What is left of the Chromium that the auditlib process `pid` started: its private folder
    (<tmp>/auditlib-chromium-<pid>-*), and any process naming that folder on its command line or
    working in it (Chromium, its renderers, the DevTools broker); with `args`, any process still
    running that command line (a process the run forked and left running)."""
    import tempfile
    from pathlib import Path

    from auditlib.report.pdf import PROFILE_PREFIX

    marker = f"{PROFILE_PREFIX}{pid}-"
    left = [f"left behind: {p}" for p in Path(tempfile.gettempdir()).glob(marker + "*")]
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            seen = (proc / "cmdline").read_bytes().decode(errors="replace") + " " + os.readlink(proc / "cwd")
        except OSError:
            continue
        if marker in seen or (args and seen.split("\0")[:-1] == args):
            left.append(f"left behind: process {proc.name}: {seen[:200]}")
    return left


def _command_line(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """`python -m auditlib ARGS` as a user runs it; stdout is a pipe and block-buffered (no
    PYTHONUNBUFFERED), so a line not flushed before the process ends would be missing."""

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "AUDITLIB_DEBUG")}
    proc = subprocess.Popen([sys.executable, "-m", "auditlib", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    out, err = proc.communicate(timeout=300)
    left = _left_behind(proc.pid, [str(a) for a in proc.args])
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err + "\n".join(left))


@pytest.mark.slow
def test_a_run_on_the_command_line_ends_with_every_file_written_and_nothing_left_behind(tmp_path):
    """The process ends itself after the report (no interpreter teardown): its output is flushed, its
    files are whole and the same bytes as a run that returns normally, Chromium and its broker are
    gone with their folder, the outputs folder has no build folder left, and the exit code is 0."""
    import zipfile

    from auditlib.report.pdf import find_chromium

    client = tmp_path / "clients" / "acme"
    shutil.copytree(DATA / "clients" / "nl-delta-water", client)
    formats = "html,pdf,xlsx" if find_chromium() else "html,xlsx"
    done = _command_line("run", str(client), "--formats", formats, "--outputs", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "acme: report written to" in done.stdout
    assert "left behind" not in done.stderr, done.stderr
    report = tmp_path / "out" / "acme" / "2026"
    assert {"report.html", "scores.xlsx", "manifest.json"} <= {p.name for p in report.iterdir()}
    assert zipfile.ZipFile(report / "scores.xlsx").testzip() is None
    if "pdf" in formats:
        assert (report / "report.pdf").read_bytes().rstrip().endswith(b"%%EOF")
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".tmp")]
    # the same report from a run that returns to its caller (the interpreter's normal end)
    assert main(["run", str(client), "--formats", "html,xlsx", "--outputs", str(tmp_path / "again")]) == 0
    again = tmp_path / "again" / "acme" / "2026"
    for name in ("report.html", "scores.xlsx"):
        assert (report / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.slow
def test_a_failed_run_on_the_command_line_exits_1_with_its_message_and_nothing_left_behind(tmp_path):
    client = tmp_path / "clients" / "acme"
    shutil.copytree(DATA / "clients" / "pl-wisla-ict", client)
    (client / "questionnaire.csv").write_text("indicator_id,answer\ncommitted_members,lots\n")
    done = _command_line("run", str(client), "--outputs", str(tmp_path / "out"))   # every format: Chromium too
    assert done.returncode == 1, done.stderr
    assert "report failed" in done.stderr and "failed notebook is kept" in done.stderr
    assert "left behind" not in done.stderr and "Traceback" not in done.stderr
    mistake = _command_line("run", "no-such-client-7c1e", "--outputs", str(tmp_path / "out"))
    assert mistake.returncode == 1 and "error:" in mistake.stderr


def test_end_process_runs_the_exit_handlers_flushes_and_keeps_the_status():
    code = ("import atexit, sys\n"
            "from auditlib.cli import _end_process\n"
            "atexit.register(lambda: print('exit handler ran'))\n"
            "print('buffered line')\n"
            "sys.stderr.write('buffered error')\n"
            "_end_process(3)\n"
            "print('not reached')\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 3
    assert done.stdout.splitlines() == ["buffered line", "exit handler ran"] and done.stderr == "buffered error"


def test_end_process_leaves_the_end_to_the_interpreter_while_a_thread_runs():
    """A non-daemon thread still working: the interpreter's exit waits for it, as without _end_process."""
    code = ("import sys, threading, time\n"
            "from auditlib.cli import _end_process\n"
            "threading.Thread(target=lambda: (time.sleep(0.3), print('thread finished'))).start()\n"
            "_end_process(4)\n"
            "print('returned')\n"
            "sys.exit(4)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 4 and done.stdout.splitlines() == ["returned", "thread finished"]


@pytest.mark.slow
def test_a_run_in_a_process_that_goes_on_releases_the_notebooks_namespace(tmp_path):
    """The in-process kernel ends IPython's session when the run ends (IPython's exit work, done then and
    not again at the process's exit): the notebook's objects (its ReportView, result, frames) are released."""
    import gc

    from IPython.core.interactiveshell import InteractiveShell

    from auditlib.report.view import ReportView

    def views() -> int:
        gc.collect()
        return sum(isinstance(o, ReportView) for o in gc.get_objects())

    before = views()
    for i in range(2):
        assert main(["run", "nl-delta-water", "--formats", "html", "--outputs", str(tmp_path / str(i))]) == 0
        assert not InteractiveShell.initialized()
    assert views() == before

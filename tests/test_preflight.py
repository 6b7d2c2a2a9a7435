"""validate = ready to run; run and batch check the shared inputs once, before any client.

The licensed-style catalogue (tests/licensed_catalogue.py) is the done-when test of issue 15:
another folder, benchmark and clients, and validate, run and batch work without a code change,
with numbers, tables and sentences (the Silver wording too) following the new catalogue.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
import yaml
from licensed_catalogue import (
    FLOOR,
    GAP,
    RENAMED,
    SILVER_AREAS,
    build_benchmark,
    build_catalogue,
    write_client,
)

from auditlib.cli import main
from auditlib.errors import ProblemCode
from auditlib.preflight import PreflightError, check, require_shared

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def licensed(tmp_path_factory) -> dict[str, Path]:
    """The licensed-style catalogue, its benchmark (500 fictional rows) and two clients, one of them
    (with an earlier audit and notes) written entirely under the former ids."""
    root = tmp_path_factory.mktemp("licensed")
    cat = build_catalogue(root / "catalogue")
    bench = build_benchmark(cat, root / "benchmark.csv", n=500)
    clients = root / "clients"
    write_client(clients, "new-ids", cat, earlier_year=2024)
    write_client(clients, "old-ids", cat, old_ids=True, earlier_year=2024,
                 notes={"notes": [{"anchor": "indicator:committed_members", "text": "Noted under the old id."}],
                        "improvement_areas": ["committed_members", "service_usage"]})
    return {"root": root, "catalogue": cat, "benchmark": bench, "clients": clients}


def _options(d: dict[str, Path]) -> list[str]:
    return ["--catalogue", str(d["catalogue"]), "--benchmark", str(d["benchmark"]), "--clients-dir", str(d["clients"])]


def _text(report: Path) -> str:
    page = report.read_text(encoding="utf-8")
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_licensed_catalogue_validate_run_and_batch_without_code_change(licensed, capsys):
    opts = _options(licensed)
    assert main(["validate", *opts]) == 0
    out, err = capsys.readouterr()
    assert "new-ids:" in out and "39 indicators, 39 answered" in out and "old-ids:" in out
    for old, new in RENAMED.items():       # every former id was mapped, with a note saying so
        assert f"former indicator id, read as '{new}' (got '{old}'" in err
    assert "notes.yaml: key improvement_areas.0" in err

    outputs = licensed["root"] / "outputs"
    assert main(["run", "old-ids", *opts, "--outputs", str(outputs), "--formats", "html"]) == 0
    en = _text(outputs / "old-ids" / "2026" / "report.html")
    assert (f"interviewed {GAP['min']} to {GAP['max']} years after the earlier audit's interview, "
            f"{SILVER_AREAS} improvement areas and every Gold minimum requirement") in en
    assert "all 34 quality thresholds" in en and "of 40 criteria" in en          # 6 minimums + 34 quality
    assert f"fewer than {FLOOR} organisations" in en
    assert "Results and impact" in en and "Sustainability report published" in en
    assert "Maturity of the innovation process" in en and "Share of services delivered digitally" in en
    assert "39 of 39 indicators answered" in en
    assert "Noted under the old id." in en                   # the note under a former id reached the report
    for stale in ("three improvement areas", "first three", "one to two years", "1.5 to 2 years", "31 quality"):
        assert stale not in en, stale
    # 37 ranked indicators: the positions chart is split into page-sized figures
    page = (outputs / "old-ids" / "2026" / "report.html").read_text(encoding="utf-8")
    assert page.count('alt="Positions per indicator"') == 2

    code = main(["batch", *opts, "--outputs", str(outputs), "--formats", "html", "--lang", "nl", "--workers", "2"])
    capsys.readouterr()
    assert code == 0
    for client in ("new-ids", "old-ids"):
        nl = _text(outputs / client / "2026.nl" / "report.html")
        assert f"{GAP['min']} tot {GAP['max']} jaar" in nl and f"{SILVER_AREAS} verbetergebieden" in nl
        assert "alle 34 kwaliteitsdrempels" in nl and "Resultaten en impact" in nl
        assert "drie verbetergebieden" not in nl and "eerste drie" not in nl


def test_validate_refuses_a_missing_rules_file_in_the_named_folder(licensed, tmp_path, capsys):
    cat = tmp_path / "catalogue"
    shutil.copytree(licensed["catalogue"], cat)
    (cat / "commentary_rules.yaml").unlink()
    code = main(["validate", "--catalogue", str(cat), "--benchmark", str(licensed["benchmark"]),
                 "--clients-dir", str(licensed["clients"])])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{cat / 'commentary_rules.yaml'}: file: the file is missing" in err
    assert str(DATA / "catalogue") not in err                # never the shipped copy
    assert "the clients were not checked" in err


def test_validate_honours_a_bad_benchmark_path(tmp_path, capsys):
    missing = tmp_path / "no-such-export.csv"
    code = main(["validate", "pl-wisla-ict", "--benchmark", str(missing)])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{missing}: file: the benchmark file does not exist" in err
    assert "pl-wisla-ict:" in out                            # the questionnaire itself was still checked


def test_validate_refuses_notes_on_an_unknown_id(tmp_path, capsys):
    client = tmp_path / "clients" / "pl-wisla-ict"
    shutil.copytree(DATA / "clients" / "pl-wisla-ict", client)
    for extra in client.glob("notes.*"):
        extra.unlink()
    (client / "notes.yaml").write_text(yaml.safe_dump(
        {"notes": [{"anchor": "indicator:no_such_indicator", "text": "x"}],
         "improvement_areas": ["service_usage", "also_unknown"]}), encoding="utf-8")
    code = main(["validate", str(client)])
    err = capsys.readouterr().err
    assert code == 1
    assert "notes.yaml: key notes.0" in err and "no_such_indicator" in err
    assert "notes.yaml: key improvement_areas.1" in err and "also_unknown" in err


def test_validate_catches_what_run_would_refuse_in_the_analysis(tmp_path, capsys):
    """An --earlier year that the client does not have, and a floor below the minimum: exit 1 here."""
    assert main(["validate", "nl-delta-water", "--earlier", "2019"]) == 1
    assert "no earlier audit for 2019" in capsys.readouterr().err
    assert main(["validate", "nl-delta-water", "--floor", "3"]) == 1
    assert "floor" in capsys.readouterr().err.lower()


def _broken_catalogue(tmp_path: Path) -> Path:
    cat = tmp_path / "catalogue"
    shutil.copytree(DATA / "catalogue", cat)
    data = yaml.safe_load((cat / "labels.yaml").read_text(encoding="utf-8"))
    data["gold"]["quality"][0]["indicator"] = "no_such_indicator"
    (cat / "labels.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return cat


def test_batch_with_bad_inputs_stops_once_before_any_client_with_the_full_list(tmp_path, capsys):
    cat, missing, outputs = _broken_catalogue(tmp_path), tmp_path / "missing.csv", tmp_path / "outputs"
    code = main(["batch", "--catalogue", str(cat), "--benchmark", str(missing), "--outputs", str(outputs)])
    err = capsys.readouterr().err
    assert code == 1
    assert "2 problems in the catalogue or benchmark; no report was started" in err
    lines = err.splitlines()
    assert sum("no_such_indicator" in line for line in lines) == 1       # each problem once, not per client
    assert sum("the benchmark file does not exist" in line for line in lines) == 1
    assert "cell" not in err                                  # no per-client notebook failure
    assert not outputs.exists() or not any(outputs.iterdir())


def test_run_batch_checks_the_shared_inputs_before_any_client(tmp_path):
    from auditlib.batch import run_batch
    from auditlib.config import Settings

    settings = Settings.from_env(benchmark_path=tmp_path / "missing.csv", outputs_dir=tmp_path / "outputs")
    with pytest.raises(PreflightError) as err:
        run_batch([DATA / "clients" / "pl-wisla-ict"], settings=settings, outputs_dir=tmp_path / "outputs",
                  progress=False)
    assert ProblemCode.FILE_MISSING in err.value.codes
    assert not (tmp_path / "outputs").exists()


def test_run_with_a_bad_benchmark_stops_before_the_notebook(tmp_path, capsys):
    outputs = tmp_path / "outputs"
    code = main(["run", "pl-wisla-ict", "--benchmark", str(tmp_path / "missing.csv"), "--outputs", str(outputs)])
    err = capsys.readouterr().err
    assert code == 1 and "no report was started" in err
    assert not (outputs / "pl-wisla-ict").exists()


def test_require_shared_lists_catalogue_and_benchmark_problems_together(tmp_path):
    with pytest.raises(PreflightError) as err:
        require_shared(_broken_catalogue(tmp_path), tmp_path / "missing.csv")
    files = {Path(p.file).name for p in err.value.problems}
    assert files == {"labels.yaml", "missing.csv"}


def test_check_is_ready_for_the_shipped_examples():
    ready = check(DATA / "catalogue", DATA / "benchmark" / "benchmark.csv", [DATA / "clients" / "pt-tejo-biotech"])
    assert ready.ready, ready.problems
    assert [c.client_id for c in ready.clients] == ["pt-tejo-biotech"]

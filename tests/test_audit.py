"""The analysis of the shipped example clients against the shipped benchmark database."""

from __future__ import annotations

import pytest

from auditlib.audit import analyse
from auditlib.benchmark import load_benchmark

from auditlib.testing import DATA

CLIENTS = sorted(p.name for p in (DATA / "clients").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def benchmark(catalogue):
    return load_benchmark(DATA / "benchmark" / "benchmark.csv", catalogue)


@pytest.fixture(scope="module")
def results(catalogue, benchmark):
    return {c: analyse(DATA / "clients" / c, catalogue=catalogue, benchmark=benchmark) for c in CLIENTS}


def test_every_example_client_is_analysed_against_every_default_group(results, catalogue):
    assert len(results) >= 6
    for client, result in results.items():
        assert [g.requested for g in result.peer_groups] == list(catalogue.peers.default_groups), client
        assert len(result.positions) == len(catalogue.ids) * len(result.peer_groups)
        shown = result.dimensions["group"].isin([g.requested for g in result.peer_groups if g.available])
        assert result.dimensions.loc[shown, "score"].between(0, 100).all(), client
        # a group refused by the disclosure rules shows no score at all
        assert result.dimensions.loc[~shown, ["score", "peer_median"]].isna().all().all(), client


def test_small_country_falls_back_and_says_so(results):
    group = results["is-nordurljos-tourism"].group("country")
    assert group.key == "all" and group.fallback_from == ("country",)   # Iceland is not in the EU
    assert "fewer organisations than the anonymity floor" in group.reason
    table = results["is-nordurljos-tourism"].peer_group_table().set_index("group")
    assert group.public_n == group.n and table.loc["country", "n"] > 10


def test_gold_like_client_is_gold_ready(results):
    verdicts = results["de-lichtwerk-photonics"].labels.verdicts
    assert verdicts["bronze"].ready and verdicts["gold"].ready
    assert verdicts["gold"].total_score >= 80


def test_young_client_is_in_the_young_age_band(results, catalogue):
    result = results["pt-tejo-biotech"]
    assert catalogue.age_band(result.client.age) == "young"
    assert result.group("age_band").name_en.startswith("organisations of the same age band: young")


def test_incomplete_client_has_uncovered_indicators(results):
    result = results["es-huerta-food"]
    pos = result.positions_in()
    assert (pos["status"] == "not_answered").sum() >= 5
    assert (result.profile_in()["coverage"] < 1).any()


def test_client_with_earlier_audit_has_evolution(results):
    evo = results["nl-delta-water"].evolution
    assert evo is not None and evo.earlier_year == 2024
    assert "active_member_share" in set(evo.declined["indicator"])


def test_same_inputs_same_result(catalogue, benchmark, results):
    again = analyse(DATA / "clients" / "nl-delta-water", catalogue=catalogue, benchmark=benchmark)
    first = results["nl-delta-water"]
    for name, frame in first.to_frames().items():
        assert frame.equals(again.to_frames()[name]), name


def test_analysis_imports_no_plotting_library():
    import subprocess
    import sys

    code = ("import sys; from auditlib.audit import analyse; "
            f"analyse({str(DATA / 'clients' / 'pl-wisla-ict')!r}); "
            "print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('matplotlib', 'seaborn', 'IPython', 'papermill')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

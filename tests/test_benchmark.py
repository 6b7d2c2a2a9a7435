"""The synthetic benchmark database (generator, shipped file) and its loader/validator."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from auditlib import benchmark
from auditlib.benchmark import LABELS, META_COLUMNS, BenchmarkDB, load_benchmark
from auditlib.catalogue import load_catalogue
from auditlib.errors import AuditError, BenchmarkError, ProblemCode

from auditlib.testing import DATA

SHIPPED = DATA / "benchmark" / "benchmark.csv"
SHIPPED_META = DATA / "benchmark" / "benchmark.meta.yaml"
NON_EUROPEAN = {"KR", "JP", "BR", "CA", "IL", "TN", "ZA", "AU", "MA", "US"}


@pytest.fixture(scope="module")
def gen():
    """The generator script, imported as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("benchmark_generate", DATA / "benchmark" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def db(catalogue) -> BenchmarkDB:
    return load_benchmark(SHIPPED, catalogue)


@pytest.fixture(scope="module")
def frame(db) -> pd.DataFrame:
    return db.frame


@pytest.fixture(scope="module")
def raw_text() -> pd.DataFrame:
    """The shipped file as text cells: edit one, write it back, expect the loader to object."""
    return pd.read_csv(SHIPPED, dtype=str, keep_default_na=False)


def write(tmp_path: Path, frame: pd.DataFrame, name: str = "bench.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def refused(path: Path, catalogue) -> BenchmarkError:
    with pytest.raises(BenchmarkError) as info:
        load_benchmark(path, catalogue)
    return info.value


def gold_passes(frame: pd.DataFrame, catalogue) -> pd.Series:
    ok = pd.Series(True, index=frame.index)
    for crit in catalogue.labels.gold.quality:
        ok &= frame[crit.indicator].map(crit.passes).astype(bool)
    return ok


# --- generator ----------------------------------------------------------------------------

def test_generator_reproduces_the_shipped_file(gen, tmp_path):
    out = gen.write(gen.generate(), tmp_path / "benchmark.csv", gen.DEFAULT_SEED)
    assert out.read_bytes() == SHIPPED.read_bytes()
    assert (tmp_path / "benchmark.meta.yaml").read_bytes() == SHIPPED_META.read_bytes()


def test_another_seed_gives_other_data(gen, tmp_path):
    a = gen.write(gen.generate(200, seed=1), tmp_path / "a.csv", 1).read_bytes()
    b = gen.write(gen.generate(200, seed=2), tmp_path / "b.csv", 2).read_bytes()
    again = gen.write(gen.generate(200, seed=1), tmp_path / "c.csv", 1).read_bytes()
    assert a != b and a == again


def test_main_writes_csv_and_sidecar(gen, tmp_path, catalogue):
    assert gen.main(["--n", "60", "--seed", "7", "--out", str(tmp_path / "small.csv")]) == 0
    meta = yaml.safe_load((tmp_path / "small.meta.yaml").read_text())
    assert meta["seed"] == 7 and meta["n"] == 60 and meta["synthetic"] is True
    assert meta["catalogue_version"] == catalogue.version
    assert meta["sha256"] == hashlib.sha256((tmp_path / "small.csv").read_bytes()).hexdigest()
    assert load_benchmark(tmp_path / "small.csv", catalogue).version == meta["version"]


def test_generate_scales_to_100k_rows(gen, catalogue):
    big = gen.generate(100_000)   # its speed is measured in benchmarks/, not asserted here
    assert big.shape == (100_000, 6 + len(catalogue.ids))
    assert big["org_id"].is_unique


def test_generator_follows_the_catalogue(gen, tmp_path, catalogue):
    cat_dir = tmp_path / "catalogue"
    shutil.copytree(DATA / "catalogue", cat_dir)
    spec = yaml.safe_load((cat_dir / "indicators.yaml").read_text())
    extra = dict(spec["indicators"][1], id="cleantech_pilots", kind="count", min=0, max=40)
    spec["indicators"].append(extra)
    (cat_dir / "indicators.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    frame = gen.generate(300, catalogue_dir=cat_dir)
    assert list(frame.columns[-1:]) == ["cleantech_pilots"]
    values = frame["cleantech_pilots"].dropna()
    assert values.between(0, 40).all() and (values % 1 == 0).all() and values.nunique() > 3
    out = gen.write(frame, tmp_path / "b.csv", gen.DEFAULT_SEED, catalogue_dir=cat_dir)
    assert len(load_benchmark(out, load_catalogue(cat_dir)).frame) == 300
    with pytest.raises(BenchmarkError, match="missing indicator column|unknown column"):
        load_benchmark(out, catalogue)


# --- shape of the shipped data --------------------------------------------------------------

def test_columns_and_ids(catalogue):
    header = SHIPPED.read_text().splitlines()[0].split(",")
    assert header == ["org_id", *META_COLUMNS, *catalogue.ids]
    ids = pd.read_csv(SHIPPED, usecols=["org_id"])["org_id"]
    assert ids.str.fullmatch(r"CO-\d{5}").all()


def test_size_countries_and_fields(frame, catalogue):
    assert len(frame) >= 1300
    counts = frame["country"].value_counts()
    assert len(counts) >= 40
    assert len(set(counts.index) & NON_EUROPEAN) >= 5
    assert {"NO", "CH", "GB", "IS", "TR", "UA", "RS"} <= set(counts.index)
    assert (counts < 10).sum() >= 5, "small countries make the anonymity floor matter"
    assert counts.iloc[0] >= 10 * counts.median(), "the country mix is skewed"
    assert 25 <= counts["NL"] <= 40
    assert set(frame["field"]) == set(catalogue.fields)
    fields = frame["field"].value_counts()
    assert fields.iloc[0] >= 3 * fields.iloc[-1]


def test_years_and_age(frame):
    assert frame["founding_year"].between(1990, 2025).all()
    assert frame["benchmark_year"].between(2015, 2026).all()
    assert (frame["benchmark_year"] >= frame["founding_year"]).all()
    assert (frame["org_age"] == frame["benchmark_year"] - frame["founding_year"]).all()


def test_label_shares(frame):
    shares = frame["label"].value_counts(normalize=True)
    assert set(shares.index) == set(LABELS)
    assert 0.07 <= shares["gold"] <= 0.08 and 90 <= (frame["label"] == "gold").sum() <= 110
    assert 0.08 <= shares["silver"] <= 0.12
    assert 0.50 <= shares["bronze"] <= 0.60


def test_gold_holders_pass_gold_thresholds(frame, catalogue):
    passes = gold_passes(frame, catalogue)
    by_label = passes.groupby(frame["label"]).mean()
    assert by_label["gold"] >= 0.8
    assert by_label["none"] <= 0.02 and by_label["bronze"] <= 0.05
    assert by_label["gold"] > by_label["silver"] > by_label["none"]


def test_gold_scores_higher_across_the_board(frame, catalogue):
    gold, none = frame[frame["label"] == "gold"], frame[frame["label"] == "none"]
    for ind in catalogue.indicators:
        if ind.direction == "context":
            continue
        g, n = gold[ind.id].mean(), none[ind.id].mean()
        assert (g > n) if ind.direction == "higher" else (g < n), ind.id


def test_correlations(frame):
    age_members = frame["org_age"].corr(frame["committed_members"], method="spearman")
    fte_budget = frame["management_fte"].corr(frame["total_budget"], method="spearman")
    assert age_members > 0.2
    assert fte_budget > 0.6


def test_skewed_counts_and_budgets(frame):
    for col in ("committed_members", "total_budget", "media_mentions"):
        values = frame[col].dropna()
        assert values.mean() > 1.2 * values.median(), f"{col} should be right-skewed"


def test_values_follow_the_rules(frame, catalogue):
    for ind in catalogue.indicators:
        values = frame[ind.id].dropna()
        assert values.between(ind.min, ind.max).all(), ind.id
        if ind.is_integer:
            assert (values % 1 == 0).all(), ind.id
        if ind.kind == "share":
            assert np.allclose(values, values.round(1)), ind.id
    assert (frame["public_funding_share"] + frame["private_funding_share"]).dropna().le(100).all()
    assert (frame["research_members"] <= frame["committed_members"]).where(
        frame[["research_members", "committed_members"]].notna().all(axis=1), True).all()
    assert frame.loc[frame["satisfaction_survey"] == 0, "member_satisfaction"].isna().all()
    assert frame.loc[frame["satisfaction_survey"] == 1, "member_satisfaction"].notna().mean() > 0.8


def test_missing_answers(frame, catalogue):
    assert frame[list(META_COLUMNS)].notna().all().all()
    rates = frame[catalogue.ids].isna().mean()
    structural = {"member_satisfaction", "strategy_age", "org_age"}
    ordinary = rates.drop(list(structural))
    assert (ordinary > 0).all(), "every answered indicator has some missing answers"
    assert ordinary.between(0.005, 0.15).all()
    assert 0.03 <= ordinary.median() <= 0.08
    for sensitive in ("total_budget", "media_mentions", "member_satisfaction"):
        assert rates[sensitive] > ordinary.median() * 1.5, sensitive
    assert rates["org_age"] == 0


# --- loader ---------------------------------------------------------------------------------

def test_loader_accepts_the_shipped_file(db, catalogue):
    frame = db.frame
    assert frame.index.name == "org_id" and frame.index.is_unique
    assert pd.api.types.is_string_dtype(frame.index.dtype)
    assert list(frame.columns) == [*META_COLUMNS, *catalogue.ids]
    for col in ("country", "field", "label"):
        assert pd.api.types.is_string_dtype(frame[col].dtype), col
    assert frame["founding_year"].dtype == "int64" and frame["benchmark_year"].dtype == "int64"
    assert (frame[catalogue.ids].dtypes == "float64").all()
    assert db.sha256 == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert db.version == yaml.safe_load(SHIPPED_META.read_text())["version"]
    assert db.version.startswith("synthetic-")
    assert db.path == SHIPPED.resolve()


def test_loader_is_cached_and_notices_changes(tmp_path, catalogue):
    path = tmp_path / "b.csv"
    shutil.copy(SHIPPED, path)
    first = load_benchmark(path, catalogue)
    assert load_benchmark(path, catalogue) is first
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    second = load_benchmark(path, catalogue)
    assert second is not first and len(second.frame) == len(first.frame) - 1


# --- verdicts remembered on disk (the command line's `remember_verdicts`) -----------------------

@pytest.fixture
def verdicts(tmp_path, monkeypatch):
    """Verdicts on, in a folder of the test's own; the process cache emptied, so each load reads."""
    folder = tmp_path / "cache"
    benchmark.remember_verdicts(folder)
    monkeypatch.setattr(benchmark, "_CACHE", {})
    yield folder / "benchmark-verdicts"
    benchmark.remember_verdicts(None)


@pytest.fixture
def validations(monkeypatch) -> list[Path]:
    """The files pandera validated, in order."""
    seen: list[Path] = []
    real = benchmark._validate

    def spy(raw, path, catalogue):
        seen.append(path)
        return real(raw, path, catalogue)

    monkeypatch.setattr(benchmark, "_validate", spy)
    return seen


def test_a_file_that_passed_is_not_validated_again_and_reads_the_same(tmp_path, catalogue, verdicts,
                                                                        validations, monkeypatch):
    path = tmp_path / "export.csv"
    shutil.copy(SHIPPED, path)
    first = load_benchmark(path, catalogue)
    assert validations == [path]
    (verdict,) = verdicts.glob("*.json")
    record = json.loads(verdict.read_text(encoding="utf-8"))
    assert record["key"] == verdict.stem and record["verdict"] == "valid"
    assert record["file_sha256"] == first.sha256
    monkeypatch.setattr(benchmark, "_CACHE", {})                 # as a new process
    second = load_benchmark(path, catalogue)
    assert validations == [path]                                 # remembered: not validated again
    assert second is not first
    pd.testing.assert_frame_equal(second.frame, first.frame, check_exact=True)
    assert (second.sha256, second.version) == (first.sha256, first.version)
    assert not second.frame[catalogue.ids].to_numpy().flags.writeable


def test_a_changed_file_catalogue_or_library_is_validated_again(tmp_path, catalogue, verdicts, validations,
                                                                 monkeypatch, raw_text):
    path = tmp_path / "export.csv"
    shutil.copy(SHIPPED, path)
    load_benchmark(path, catalogue)
    # the same path with other bytes: a value out of range is found, though the path passed before
    bad = raw_text.copy()
    bad.loc[3, "sme_share"] = "250"
    write(tmp_path, bad, "export.csv")
    monkeypatch.setattr(benchmark, "_CACHE", {})
    assert "sme_share" in str(refused(path, catalogue))
    shutil.copy(SHIPPED, path)
    # another catalogue (one file's bytes changed) and another pandas: validated again
    other_dir = tmp_path / "catalogue"
    shutil.copytree(DATA / "catalogue", other_dir)
    with (other_dir / "labels.yaml").open("a", encoding="utf-8") as f:
        f.write("\n# edited\n")
    other = load_catalogue(other_dir)
    monkeypatch.setattr(benchmark, "_CACHE", {})
    load_benchmark(path, other)
    monkeypatch.setattr(pd, "__version__", "0.0-test")
    monkeypatch.setattr(benchmark, "_CACHE", {})
    load_benchmark(path, catalogue)
    assert validations == [path] * 4
    assert len(list(verdicts.glob("*.json"))) == 3               # the refused file left none


def test_a_damaged_or_foreign_verdict_counts_as_none(tmp_path, catalogue, verdicts, validations, monkeypatch):
    path = tmp_path / "export.csv"
    shutil.copy(SHIPPED, path)
    load_benchmark(path, catalogue)
    (verdict,) = verdicts.glob("*.json")
    good = verdict.read_text(encoding="utf-8")
    for text in ("", '{"key": "', "[]", good.replace('"valid"', '"invalid"'),
                 good.replace(verdict.stem, "0" * 64)):
        verdict.write_text(text, encoding="utf-8")
        monkeypatch.setattr(benchmark, "_CACHE", {})
        load_benchmark(path, catalogue)
        assert verdict.read_text(encoding="utf-8") == good       # validated, and written whole again
    assert len(validations) == 6
    assert [p.name for p in verdicts.iterdir()] == [verdict.name]  # no temporary file left


def test_a_refused_file_leaves_no_verdict_and_an_unwritable_folder_is_no_error(tmp_path, catalogue, raw_text,
                                                                              validations, monkeypatch):
    bad = raw_text.copy()
    bad.loc[0, "founding_year"] = "1850"
    path = write(tmp_path, bad)
    benchmark.remember_verdicts(tmp_path / "cache")
    refused(path, catalogue)
    refused(path, catalogue)
    assert len(validations) == 2 and not (tmp_path / "cache").exists()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder would be", encoding="utf-8")
    benchmark.remember_verdicts(blocked)
    monkeypatch.setattr(benchmark, "_CACHE", {})
    assert len(load_benchmark(SHIPPED, catalogue).frame) > 1000   # loads, remembering nothing
    benchmark.remember_verdicts(None)


def test_verdicts_are_off_unless_an_entry_point_turns_them_on(tmp_path, catalogue, validations, monkeypatch):
    monkeypatch.setattr(benchmark, "_CACHE", {})
    monkeypatch.chdir(tmp_path)
    load_benchmark(SHIPPED, catalogue)
    monkeypatch.setattr(benchmark, "_CACHE", {})
    load_benchmark(SHIPPED, catalogue)
    assert len(validations) == 2 and not any(tmp_path.iterdir())


def test_frame_refuses_in_place_edits(tmp_path, catalogue):
    path = tmp_path / "b.csv"
    shutil.copy(SHIPPED, path)
    frame = load_benchmark(path, catalogue).frame
    with pytest.raises(ValueError, match="read-only"):
        frame.loc[frame.index[0], "sme_share"] = 1.0
    copy = frame.copy()
    copy.loc[copy.index[0], "sme_share"] = 1.0  # a copy is the caller's own
    assert frame["sme_share"].iloc[0] != 1.0 or np.isnan(frame["sme_share"].iloc[0])


def test_version_falls_back_to_the_hash(tmp_path, catalogue):
    path = tmp_path / "export.csv"
    shutil.copy(SHIPPED, path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert load_benchmark(path, catalogue).version == "sha256:" + sha[:12]
    stale = tmp_path / "stale.csv"
    stale.write_bytes(path.read_bytes())
    (tmp_path / "stale.meta.yaml").write_text("version: synthetic-old\nsha256: " + "0" * 64 + "\n")
    assert load_benchmark(stale, catalogue).version == "sha256:" + sha[:12]


def test_the_path_from_the_environment_is_resolved_at_the_entry_point(tmp_path, monkeypatch, catalogue):
    """AUDITLIB_BENCHMARK reaches load_benchmark through Settings.from_env() (the entry point),
    never by load_benchmark reading the environment."""
    from auditlib.config import Settings

    path = tmp_path / "licensed.csv"
    shutil.copy(SHIPPED, path)
    monkeypatch.setenv("AUDITLIB_BENCHMARK", str(path))
    assert load_benchmark(Settings.from_env().benchmark_path, catalogue).path == path.resolve()
    monkeypatch.setenv("AUDITLIB_BENCHMARK", str(tmp_path / "gone.csv"))
    with pytest.raises(BenchmarkError, match="does not exist") as err:
        load_benchmark(Settings.from_env().benchmark_path, catalogue)
    assert err.value.codes == [ProblemCode.FILE_MISSING]


def test_loader_reads_xlsx(tmp_path, db, catalogue):
    path = tmp_path / "export.xlsx"
    pd.read_csv(SHIPPED, nrows=150).to_excel(path, index=False)  # numbers as numbers, empty cells
    xdb = load_benchmark(path, catalogue)
    pd.testing.assert_frame_equal(xdb.frame, db.frame.iloc[:150])


# --- refusals ---------------------------------------------------------------------------------

def test_missing_file_is_refused(tmp_path, catalogue):
    err = refused(tmp_path / "nowhere.csv", catalogue)
    assert isinstance(err, AuditError)
    assert "does not exist" in str(err) and "nowhere.csv" in str(err)
    assert err.codes == [ProblemCode.FILE_MISSING]


def test_missing_indicator_column(tmp_path, raw_text, catalogue):
    err = refused(write(tmp_path, raw_text.drop(columns=["sme_share"])), catalogue)
    assert len(err.problems) == 1
    p = err.problems[0]
    assert p.place == "column 'sme_share'" and "missing indicator column" in p.message
    assert p.code is ProblemCode.MISSING_COLUMN
    assert f"does not fit the catalogue version {catalogue.version}" in str(err)


def test_unknown_extra_column(tmp_path, raw_text, catalogue):
    err = refused(write(tmp_path, raw_text.assign(client_name="Acme")), catalogue)
    assert [p.place for p in err.problems] == ["column 'client_name'"]
    assert err.codes == [ProblemCode.UNKNOWN_COLUMN]
    assert "unknown column" in str(err) and catalogue.version in str(err)


def test_value_out_of_range(tmp_path, raw_text, catalogue):
    bad = raw_text.copy()
    bad.loc[15, "committed_members"] = "6000"
    err = refused(write(tmp_path, bad), catalogue)
    (p,) = err.problems
    assert (p.place, p.indicator, p.value) == ("row 17", "committed_members", "6000")
    assert "outside the indicator's range" in p.message and "0 to 5000" in p.expected
    assert p.code is ProblemCode.OUT_OF_RANGE


def test_text_in_a_number_column(tmp_path, raw_text, catalogue):
    bad = raw_text.copy()
    bad.loc[0, "sme_share"] = "about half"
    bad.loc[1, "total_budget"] = "1.200,5"
    err = refused(write(tmp_path, bad), catalogue)
    assert [(p.place, p.indicator, p.value) for p in err.problems] == [
        ("row 2", "sme_share", "about half"), ("row 3", "total_budget", "1.200,5")]
    assert all("not a number" in p.message for p in err.problems)
    assert err.codes == [ProblemCode.WRONG_TYPE] * 2


def test_fraction_in_a_count_column(tmp_path, raw_text, catalogue):
    bad = raw_text.copy()
    bad.loc[4, "member_types"] = "2.5"
    (p,) = refused(write(tmp_path, bad), catalogue).problems
    assert p.indicator == "member_types" and "not a whole number" in p.message and p.place == "row 6"
    assert p.code is ProblemCode.NOT_INTEGER


def test_unknown_country(tmp_path, raw_text, catalogue):
    bad = raw_text.copy()
    bad.loc[2, "country"] = "XX"
    bad.loc[3, "country"] = "UK"
    err = refused(write(tmp_path, bad), catalogue)
    assert [p.value for p in err.problems] == ["XX", "UK"]
    assert all("unknown country code" in p.message for p in err.problems)
    assert err.codes == [ProblemCode.UNKNOWN_VALUE] * 2
    assert "did you mean 'GB'" in err.problems[1].expected


def test_namibia_is_not_a_missing_value(tmp_path, raw_text, catalogue):
    ok = raw_text.copy()
    ok.loc[0, "country"] = "NA"
    frame = load_benchmark(write(tmp_path, ok), catalogue).frame
    assert frame["country"].iloc[0] == "NA"


def test_unknown_field(tmp_path, raw_text, catalogue):
    bad = raw_text.copy()
    bad.loc[7, "field"] = "quantum"
    bad.loc[8, "field"] = "Food industry"
    err = refused(write(tmp_path, bad), catalogue)
    assert [(p.place, p.value) for p in err.problems] == [("row 9", "quantum"), ("row 10", "Food industry")]
    assert "unknown technology field" in str(err)
    assert "'food'" in err.problems[1].expected
    assert err.codes == [ProblemCode.UNKNOWN_VALUE] * 2


def test_duplicate_and_empty_org_id(tmp_path, raw_text, catalogue):
    bad = raw_text.copy()
    bad.loc[10, "org_id"] = bad.loc[3, "org_id"]
    bad.loc[11, "org_id"] = ""
    err = refused(write(tmp_path, bad), catalogue)
    dup, empty = err.problems
    assert dup.place == "row 12" and "duplicate organisation id" in dup.message and "row 5" in dup.expected
    assert empty.place == "row 13" and "empty" in empty.message
    assert (dup.code, empty.code) == (ProblemCode.DUPLICATE, ProblemCode.MISSING_VALUE)


def test_bad_label(tmp_path, raw_text, catalogue):
    bad = raw_text.copy()
    bad.loc[20, "label"] = "platinum"
    (p,) = refused(write(tmp_path, bad), catalogue).problems
    assert p.value == "platinum" and "unknown label" in p.message
    assert p.code is ProblemCode.UNKNOWN_VALUE
    assert all(label in p.expected for label in LABELS)


def test_bad_years(tmp_path, raw_text, catalogue):
    bad = raw_text.copy()
    bad.loc[0, "benchmark_year"] = str(int(bad.loc[0, "founding_year"]) - 1)
    bad.loc[1, "founding_year"] = "1850"
    bad.loc[2, "founding_year"] = "sometime"
    err = refused(write(tmp_path, bad), catalogue)
    msgs = [(p.place, p.message) for p in err.problems]
    assert "before the founding year" in msgs[0][1] and msgs[0][0] == "row 2"
    assert msgs[1][0] == "row 3" and "implausible year" in msgs[1][1]
    assert msgs[2][0] == "row 4" and "not a whole year" in msgs[2][1]
    assert err.codes == [ProblemCode.INCONSISTENT, ProblemCode.OUT_OF_RANGE, ProblemCode.NOT_INTEGER]


def test_all_problems_are_reported_together(tmp_path, raw_text, catalogue):
    bad = raw_text.drop(columns=["awards_recognition"]).assign(notes="x")
    bad.loc[0, "country"] = "ZZ"
    bad.loc[1, "field"] = "space_mining"
    bad.loc[2, "label"] = "GOLD"
    bad.loc[3, "sme_share"] = "150"
    bad.loc[4, "events_per_year"] = "many"
    err = refused(write(tmp_path, bad), catalogue)
    places = [p.place for p in err.problems]
    assert places == ["column 'awards_recognition'", "column 'notes'",
                      "row 2", "row 3", "row 4", "row 5", "row 6"]
    assert err.to_frame().shape[0] == 7
    assert err.to_frame()["code"].tolist() == [
        "missing_column", "unknown_column", "unknown_value", "unknown_value", "unknown_value", "out_of_range",
        "wrong_type"]
    assert "does not fit the catalogue" in err.summary


def test_many_problems_are_grouped(tmp_path, raw_text, catalogue):
    bad = raw_text.assign(sme_share="n.a.", eccp_profile="yes")
    err = refused(write(tmp_path, bad), catalogue)
    assert len(err.problems) == 51
    last = err.problems[-1]
    assert last.message.startswith(f"... and {2 * len(bad) - 50} more")
    assert "sme_share" in last.message and "eccp_profile" in last.message
    assert last.code is ProblemCode.MORE
    assert f"sme_share: {len(bad) - 25}" in last.message    # counted per column, not parsed back from text


def test_blank_lines_keep_row_numbers(tmp_path, raw_text, catalogue):
    lines = SHIPPED.read_text().splitlines()[:30]
    lines.insert(5, "")
    cells = lines[12].split(",")
    cells[1] = "XX"
    lines[12] = ",".join(cells)
    path = tmp_path / "blank.csv"
    path.write_text("\n".join(lines) + "\n\n")
    (p,) = refused(path, catalogue).problems
    assert p.place == "row 13" and p.value == "XX"


@pytest.mark.parametrize("name, content, text, code", [
    ("empty.csv", b"", "empty", ProblemCode.FILE_EMPTY),
    ("latin1.csv", "org_id,country\nCO-1,Österreich\n".encode("latin-1"), "not UTF-8", ProblemCode.ENCODING),
    ("ragged.csv", b"org_id,country\nCO-1,DE,extra,cells\n", "not valid CSV", ProblemCode.PARSE_ERROR),
    ("broken.xlsx", b"this is not a workbook", "cannot be read", ProblemCode.PARSE_ERROR),
    ("data.json", b"{}", "unsupported file type", ProblemCode.WRONG_FILE_TYPE),
])
def test_unreadable_files(tmp_path, catalogue, name, content, text, code):
    path = tmp_path / name
    path.write_bytes(content)
    err = refused(path, catalogue)
    assert text in str(err) and name in str(err)
    assert err.codes == [code]


def test_header_only_file_is_refused(tmp_path, raw_text, catalogue):
    err = refused(write(tmp_path, raw_text.iloc[:0]), catalogue)
    assert "no organisations" in str(err)
    assert err.codes == [ProblemCode.FILE_EMPTY]


def test_na_tokens_and_spaces_in_number_columns(tmp_path, raw_text, catalogue):
    edited = raw_text.copy()
    edited.loc[0, ["sme_share", "total_budget", "media_mentions"]] = ["NA", " - ", "n/a"]
    edited.loc[1, ["sme_share", "country"]] = [" 45.5 ", " DE "]
    frame = load_benchmark(write(tmp_path, edited), catalogue).frame
    assert frame.iloc[0][["sme_share", "total_budget", "media_mentions"]].isna().all()
    assert frame.iloc[1]["sme_share"] == 45.5 and frame.iloc[1]["country"] == "DE"

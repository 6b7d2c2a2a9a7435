"""The shipped catalogue is complete, and a malformed one is refused with every problem named."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from auditlib.catalogue import LANGUAGES, load_catalogue
from auditlib.errors import CatalogueError
from conftest import DATA


def test_shipped_catalogue_has_36_indicators_in_6_dimensions(catalogue):
    assert len(catalogue.indicators) == 36
    assert len(catalogue.dimensions) == 6
    assert len(set(catalogue.ids)) == 36
    assert all(catalogue.in_dimension(d.id) for d in catalogue.dimensions)
    assert {i.dimension for i in catalogue.indicators} == {d.id for d in catalogue.dimensions}


def test_every_indicator_speaks_both_languages(catalogue):
    for ind in catalogue.indicators:
        for lang in LANGUAGES:
            assert ind.name[lang].strip(), (ind.id, lang)
            assert ind.question[lang].strip(), (ind.id, lang)
            assert ind.unit[lang].strip(), (ind.id, lang)
        if ind.kind == "ordinal":
            assert all(level[lang].strip() for level in ind.levels.values() for lang in LANGUAGES)


def test_shipped_fields_and_labels(catalogue):
    assert len(catalogue.fields) == 14
    assert catalogue.field_id("Energie en milieu") == "energy_environment"
    assert catalogue.field_id("ICT") == "ict"
    assert len(catalogue.labels.gold.quality) == 31
    assert catalogue.peers.anonymity_floor >= 5


# --- malformed catalogues ------------------------------------------------------------------

@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped catalogue, to break."""
    target = tmp_path / "catalogue"
    shutil.copytree(DATA / "catalogue", target)
    return target


def edit(directory: Path, filename: str, change: Callable[[Any], None]) -> None:
    path = directory / filename
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def refused(directory: Path) -> CatalogueError:
    with pytest.raises(CatalogueError) as err:
        load_catalogue(directory)
    return err.value


BREAKS: dict[str, tuple[Callable[[Path], None], str, list[str]]] = {
    "unknown kind": (
        lambda d: edit(d, "indicators.yaml", lambda y: y["indicators"][1].update(kind="percentage")),
        "indicators.yaml", ["indicator committed_members, key kind", "percentage"]),
    "duplicate id": (
        lambda d: edit(d, "indicators.yaml", lambda y: y["indicators"][2].update(id="committed_members")),
        "indicators.yaml", ["duplicate indicator id", "committed_members"]),
    "min not below max": (
        lambda d: edit(d, "indicators.yaml", lambda y: y["indicators"][3].update(min=100)),
        "indicators.yaml", ["indicator sme_share", "must be below max"]),
    "missing file": (
        lambda d: (d / "labels.yaml").unlink(),
        "labels.yaml", ["file", "missing"]),
    "broken YAML": (
        lambda d: (d / "fields.yaml").write_text("fields: [\n  - {id: ict\n", encoding="utf-8"),
        "fields.yaml", ["line 2", "not valid YAML"]),
    "criterion on unknown indicator": (
        lambda d: edit(d, "labels.yaml", lambda y: y["gold"]["quality"][0].update(indicator="nonexistent")),
        "labels.yaml", ["key gold.quality[q01].indicator", "unknown indicator", "nonexistent"]),
    "anonymity floor below 5": (
        lambda d: edit(d, "peer_groups.yaml", lambda y: y.update(anonymity_floor=3)),
        "peer_groups.yaml", ["key anonymity_floor", "greater than or equal to 5"]),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_malformed_catalogue_is_refused_naming_file_and_key(catalogue_dir, case):
    breaker, filename, fragments = BREAKS[case]
    breaker(catalogue_dir)
    error = refused(catalogue_dir)
    assert len(error.problems) == 1, error.render()
    problem = error.problems[0]
    assert Path(problem.file).name == filename
    text = str(error)
    for fragment in fragments:
        assert fragment in text, text


def test_several_catalogue_problems_come_together(catalogue_dir):
    edit(catalogue_dir, "indicators.yaml", lambda y: y["indicators"][1].update(kind="percentage"))
    edit(catalogue_dir, "peer_groups.yaml", lambda y: y.update(anonymity_floor=3))
    (catalogue_dir / "labels.yaml").unlink()
    error = refused(catalogue_dir)
    files = sorted(Path(p.file).name for p in error.problems)
    assert files == ["indicators.yaml", "labels.yaml", "peer_groups.yaml"]
    assert "3 problem(s)" in str(error)


def test_missing_catalogue_folder(tmp_path):
    error = refused(tmp_path / "nowhere")
    assert "does not exist" in str(error)

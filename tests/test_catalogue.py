"""The shipped catalogue is complete, and a malformed one is refused with every problem named."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from auditlib.testing import DATA

from auditlib.catalogue import LANGUAGES, load_catalogue
from auditlib.errors import CatalogueError, ProblemCode


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
        # (regional_concentration: no other file names it, so the duplicate is the only problem)
        lambda d: edit(d, "indicators.yaml", lambda y: next(
            i for i in y["indicators"] if i["id"] == "regional_concentration").update(id="committed_members")),
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


# --- the folder is the whole set; errors at once, by id --------------------------------------

@pytest.mark.parametrize("missing", ["commentary_rules.yaml", "actions.yaml"])
def test_a_missing_rules_or_actions_file_is_an_error_never_the_shipped_copy(catalogue_dir, missing):
    (catalogue_dir / missing).unlink()
    error = refused(catalogue_dir)
    assert [Path(p.file) for p in error.problems] == [catalogue_dir / missing]
    assert ProblemCode.FILE_MISSING in error.codes


def test_loaded_catalogue_holds_its_own_rules_and_actions(catalogue_dir):
    from auditlib.commentary_rules import load_rules
    from auditlib.handles import load_actions

    edit(catalogue_dir, "actions.yaml", lambda y: y["default"].update(en="Our own default action."))
    cat = load_catalogue(catalogue_dir)
    assert load_actions(cat).default.en == "Our own default action."
    assert load_rules(cat) is cat.rules and cat.directory == catalogue_dir.resolve()


def test_catalogue_errors_come_all_at_once_across_files_named_by_id(catalogue_dir):
    def break_indicators(y):
        by_id = {i["id"]: i for i in y["indicators"]}
        by_id["sme_share"].update(kind="percentage")
        by_id["research_members"].pop("unit")
    edit(catalogue_dir, "indicators.yaml", break_indicators)
    edit(catalogue_dir, "labels.yaml", lambda y: y["gold"]["quality"][4].update(indicator="no_such_indicator"))
    edit(catalogue_dir, "commentary_rules.yaml",
         lambda y: y["rules"]["public_dependence"].update(public_indicator="public_share_typo"))
    edit(catalogue_dir, "actions.yaml", lambda y: y["actions"].update(retired_indicator=[{"en": "x", "nl": "x"}]))
    edit(catalogue_dir, "peer_groups.yaml", lambda y: y.update(anonymity_floor=3))
    error = refused(catalogue_dir)
    places = {(Path(p.file).name, p.place) for p in error.problems}
    assert ("indicators.yaml", "indicator sme_share, key kind") in places
    assert ("indicators.yaml", "indicator research_members, key unit") in places
    assert ("labels.yaml", "key gold.quality[q05].indicator") in places
    assert ("commentary_rules.yaml", "key rules.public_dependence") in places
    assert ("actions.yaml", "key actions.retired_indicator") in places
    assert ("peer_groups.yaml", "key anonymity_floor") in places
    assert not any(re.search(r"indicators\.\d", p.place) for p in error.problems)   # never by position
    assert "in 5 file(s)" in str(error)


def test_a_disabled_rule_is_not_checked_an_enabled_one_is(catalogue_dir):
    edit(catalogue_dir, "commentary_rules.yaml",
         lambda y: y["rules"]["service_gap"].update(weak_dimension="no_such_dimension"))
    error = refused(catalogue_dir)
    assert [(p.place, p.value) for p in error.problems] == [("key rules.service_gap", "no_such_dimension")]
    edit(catalogue_dir, "commentary_rules.yaml", lambda y: y["rules"]["service_gap"].update(enabled=False))
    assert load_catalogue(catalogue_dir).rules.rules.service_gap.enabled is False
    # switched off, a rule needs none of its settings
    edit(catalogue_dir, "commentary_rules.yaml", lambda y: y["rules"].update(passive_membership={"enabled": False}))
    assert load_catalogue(catalogue_dir).rules.rules.passive_membership.enabled is False


def test_a_disabled_rule_never_speaks(catalogue, result_for_rules):
    from auditlib.interpret import interpret

    on = {s.facts.get("rule") for s in interpret(result_for_rules, "en").statements()}
    rules = catalogue.rules.rules
    young_off = rules.young_organisation.model_copy(update={"enabled": False})
    off = rules.model_copy(update={"young_organisation": young_off})
    patched = catalogue.rules.model_copy(update={"rules": off})
    saved, catalogue.rules = catalogue.rules, patched
    try:
        silent = {s.facts.get("rule") for s in interpret(result_for_rules, "en").statements()}
    finally:
        catalogue.rules = saved
    assert "young_organisation" in on and "young_organisation" not in silent


@pytest.fixture
def result_for_rules(catalogue, synthetic_db):
    from auditlib.testing import make_profile

    from auditlib.audit import analyse

    young = make_profile(catalogue, founding_year=2024, total_budget=100, management_fte=1.0)
    return analyse(young, catalogue=catalogue, benchmark=synthetic_db)


def test_silver_areas_are_set_once_in_labels_yaml(catalogue_dir):
    edit(catalogue_dir, "commentary_rules.yaml", lambda y: y["handles"].update(silver_areas=3))
    error = refused(catalogue_dir)
    assert "silver.improvement_areas" in str(error) and "key handles" in str(error)


# --- roles and former ids ---------------------------------------------------------------------

def test_old_ids_and_roles_are_checked(catalogue_dir):
    def change(y):
        y["indicators"][1]["old_ids"] = ["sme_share"]              # a current id
        y["indicators"][2]["role"] = "org_age"                     # a second indicator with the role
        y["indicators"][4]["role"] = "budget"                      # not a known role
    edit(catalogue_dir, "indicators.yaml", change)
    text = str(refused(catalogue_dir))
    assert "unknown role 'budget'" in text


def test_old_ids_clash_refused(catalogue_dir):
    edit(catalogue_dir, "indicators.yaml", lambda y: y["indicators"][1].update(old_ids=["sme_share"]))
    assert "also current indicator ids" in str(refused(catalogue_dir))
    edit(catalogue_dir, "indicators.yaml", lambda y: (y["indicators"][1].update(old_ids=[]),
                                                      y["indicators"][2].update(role="org_age")))
    assert "one indicator per role" in str(refused(catalogue_dir))


def _renamed(catalogue_dir: Path) -> Path:
    """The age indicator renamed (found by its role) and committed_members renamed, with old ids."""
    def change(y):
        for i in y["indicators"]:
            if i["id"] in ("org_age", "committed_members"):
                i["old_ids"] = [i["id"]]
                i["id"] = {"org_age": "age_years", "committed_members": "member_organisations"}[i["id"]]
    edit(catalogue_dir, "indicators.yaml", change)
    for name in ("labels.yaml", "commentary_rules.yaml", "actions.yaml"):
        path = catalogue_dir / name
        path.write_text(path.read_text(encoding="utf-8").replace("committed_members", "member_organisations"),
                        encoding="utf-8")
    return catalogue_dir


def _questionnaire(tmp_path: Path, answers: dict) -> Path:
    path = tmp_path / "questionnaire.yaml"
    profile = {"name": "Role Cluster", "country": "DE", "field": "ict", "founding_year": 2012,
               "benchmark_year": 2026, "region": "R", "contact": "a@example.org"}
    path.write_text(yaml.safe_dump({"profile": profile, "answers": answers}), encoding="utf-8")
    return path


def test_the_age_is_found_by_its_role_not_its_id(catalogue_dir, tmp_path):
    from auditlib.errors import QuestionnaireError
    from auditlib.intake import read_questionnaire

    cat = load_catalogue(_renamed(catalogue_dir))
    assert cat.role("org_age").id == "age_years"
    blank = {i: None for i in cat.ids}
    assert read_questionnaire(_questionnaire(tmp_path, blank), cat, "x").value("age_years") == 14.0
    with pytest.raises(QuestionnaireError) as err:                 # a wrong age is caught under the new id
        read_questionnaire(_questionnaire(tmp_path, {**blank, "age_years": 30}), cat, "x")
    assert [p.indicator for p in err.value.problems] == ["age_years"]
    # without a declared role nothing is derived, whatever the indicator is called
    edit(catalogue_dir, "indicators.yaml", lambda y: y["indicators"][0].pop("role"))
    plain = load_catalogue(catalogue_dir)
    assert plain.role("org_age") is None
    assert read_questionnaire(_questionnaire(tmp_path, blank), plain, "x").value("age_years") is None


def test_former_ids_load_with_a_warning(catalogue_dir, tmp_path):
    from auditlib.intake import read_questionnaire
    from auditlib.notes import load_notes

    cat = load_catalogue(_renamed(catalogue_dir))
    answers = {cat.indicator(i).old_ids[0] if cat.indicator(i).old_ids else i: None for i in cat.ids}
    answers["committed_members"] = 55
    profile = read_questionnaire(_questionnaire(tmp_path, answers), cat, "x")
    assert profile.value("member_organisations") == 55 and "committed_members" not in profile.answers
    assert {(w.value, w.indicator) for w in profile.warnings} == {("committed_members", "member_organisations"),
                                                                  ("org_age", "age_years")}
    assert all(w.code == ProblemCode.RENAMED_ID for w in profile.warnings)
    notes_file = tmp_path / "notes.yaml"
    notes_file.write_text(yaml.safe_dump({"notes": [{"anchor": "indicator:committed_members", "text": "t"}],
                                          "improvement_areas": ["committed_members"]}), encoding="utf-8")
    notes = load_notes(notes_file, cat)
    assert notes.improvement_areas == ("member_organisations",)
    assert notes.notes[0].anchor == "indicator:member_organisations"
    assert [w.place for w in notes.warnings] == ["key notes.0", "key improvement_areas.0"]
    # both the old and the new id in one file: the second is a duplicate, not silently merged
    with pytest.raises(Exception, match="duplicate"):
        read_questionnaire(_questionnaire(tmp_path, {**answers, "member_organisations": 56}), cat, "x")


def test_a_criterion_on_a_former_id_says_what_it_was_renamed_to(catalogue_dir):
    _renamed(catalogue_dir)
    path = catalogue_dir / "labels.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("member_organisations", "committed_members", 1),
                    encoding="utf-8")
    assert "renamed to member_organisations" in str(refused(catalogue_dir))

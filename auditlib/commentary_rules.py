"""The commentary's rules as data: commentary_rules.yaml read into typed, validated models.

Kept apart from auditlib.interpret (which writes the text) so that module stays readable; the
thresholds and switches of every context rule live in the data file, not in code. Strengths and
weaknesses are not among them: one definition, auditlib.scoring.is_strength / is_weakness.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditlib.catalogue import Catalogue, References, Text
from auditlib.errors import CatalogueError, Problem, ProblemCode
from auditlib.handles import RULES_FILE, HandleSettings
from auditlib.peers import BUILT_IN


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Notable(_Model):
    # strengths and weaknesses are not set here: one definition, auditlib.scoring.is_strength
    near_threshold_fraction: float = Field(ge=0)
    near_threshold_skip_kinds: list[str] = []
    evolution_max_changes: int = Field(ge=0)


class Rule(_Model):
    """A context rule; `enabled: false` switches it off (its other keys may then be left out)."""

    label: Text
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _switched_off(cls, data: Any) -> Any:
        """A disabled rule needs no settings: missing ones get neutral values it never uses."""
        if isinstance(data, dict) and data.get("enabled") is False:
            neutral = {list: [], dict: {}, str: "", int: 0, float: 0.0}
            filler: dict[str, Any] = {"label": {"en": "(disabled)", "nl": "(uitgeschakeld)"}}
            for name, info in cls.model_fields.items():
                origin = get_origin(info.annotation) or info.annotation
                if info.is_required() and name != "label" and origin in neutral:
                    filler[name] = neutral[origin]
            return {**filler, **data}
        return data


class YoungRule(Rule):
    age_bands: list[str]
    max_age: int = Field(ge=0)
    indicators: list[str]
    compare_group: str = "age_band"


class FallbackRule(Rule):
    groups: list[str]


class FieldNormsRule(Rule):
    field_group: str = "field"
    reference_group: str = "all"
    min_difference: dict[str, float]


class ServiceGapRule(Rule):
    strong_dimension: str
    strong_min_score: float
    weak_dimension: str
    weak_max_score: float


class PublicDependenceRule(Rule):
    public_indicator: str
    public_min: float
    sources_indicator: str
    sources_max: float


class PassiveMembershipRule(Rule):
    members_indicator: str
    members_min_percentile: float
    active_indicator: str
    active_below_percentile: float


class Rules(_Model):
    young_organisation: YoungRule
    small_group_fallback: FallbackRule
    field_norms: FieldNormsRule
    service_gap: ServiceGapRule
    public_dependence: PublicDependenceRule
    passive_membership: PassiveMembershipRule


class CommentaryRules(_Model):
    version: str
    notable: Notable
    rules: Rules
    handles: HandleSettings


def load_rules(catalogue: Catalogue) -> CommentaryRules:
    """The catalogue folder's commentary_rules.yaml, validated when the catalogue was loaded."""
    if catalogue.rules is None:      # a Catalogue built by hand, not by load_catalogue
        raise CatalogueError([Problem(str(catalogue.directory / RULES_FILE), "file", "no commentary rules loaded",
                                      expected="a catalogue loaded with load_catalogue",
                                      code=ProblemCode.FILE_MISSING)])
    return catalogue.rules


def _rule_references(r: Rules) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
    """Per enabled rule: the indicator ids, dimension ids and peer groups it names (a disabled rule names none)."""
    inds: dict[str, list[str]] = {}
    dims: dict[str, list[str]] = {}
    groups: dict[str, list[str]] = {}
    if r.young_organisation.enabled:
        inds["young_organisation.indicators"] = list(r.young_organisation.indicators)
        groups["young_organisation.compare_group"] = [r.young_organisation.compare_group]
    if r.small_group_fallback.enabled:
        groups["small_group_fallback.groups"] = list(r.small_group_fallback.groups)
    if r.field_norms.enabled:
        inds["field_norms.min_difference"] = list(r.field_norms.min_difference)
        groups["field_norms"] = [r.field_norms.field_group, r.field_norms.reference_group]
    if r.service_gap.enabled:
        dims["service_gap"] = [r.service_gap.strong_dimension, r.service_gap.weak_dimension]
    if r.public_dependence.enabled:
        inds["public_dependence"] = [r.public_dependence.public_indicator, r.public_dependence.sources_indicator]
    if r.passive_membership.enabled:
        inds["passive_membership"] = [r.passive_membership.members_indicator, r.passive_membership.active_indicator]
    return inds, dims, groups


def rule_problems(rules: CommentaryRules, path: Path, refs: References) -> list[Problem]:
    """Unknown indicators, dimensions and peer groups named by the enabled rules, all together.

    `refs`: the ids the catalogue's indicators.yaml defines (catalogue.References). A rule with
    `enabled: false` is not checked: a licensed catalogue without, say, a services dimension
    switches the service-gap rule off instead of inventing one.
    """
    by_id, renamed, dim_ids = refs.ids, refs.renamed, sorted(refs.dimensions)
    inds, dims, groups = _rule_references(rules.rules)
    problems = []
    for key, ids in inds.items():
        for i in ids:
            if i not in by_id:
                hint = f" (renamed to {renamed[i]}: use the new id)" if i in renamed else ""
                problems.append(Problem(str(path), f"key rules.{key}", "unknown indicator" + hint, value=i,
                                        indicator=i, expected="an indicator id of indicators.yaml, or "
                                        "enabled: false on the rule", code=ProblemCode.UNKNOWN_ID))
    for key, ids in dims.items():
        problems += [Problem(str(path), f"key rules.{key}", "unknown dimension", value=d,
                             expected=f"one of {', '.join(dim_ids)}, or enabled: false on the rule",
                             code=ProblemCode.UNKNOWN_ID) for d in ids if d not in dim_ids]
    for key, ids in groups.items():
        problems += [Problem(str(path), f"key rules.{key}", "unknown peer group", value=g,
                             expected=f"one of {BUILT_IN}",
                             code=ProblemCode.UNKNOWN_ID) for g in ids if g not in BUILT_IN]
    return problems

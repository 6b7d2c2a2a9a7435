"""The commentary's rules as data: commentary_rules.yaml read into typed, validated models.

Kept apart from auditlib.interpret (which writes the text) so that module stays readable; the
thresholds and switches of every context rule live in the data file, not in code. Strengths and
weaknesses are not among them: one definition, auditlib.scoring.is_strength / is_weakness.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from auditlib.catalogue import Catalogue, Text
from auditlib.errors import CatalogueError, Problem
from auditlib.handles import RULES_FILE, HandleSettings, data_path, load_model
from auditlib.peers import BUILT_IN

class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Notable(_Model):
    # strengths and weaknesses are not set here: one definition, auditlib.scoring.is_strength
    near_threshold_fraction: float = Field(ge=0)
    near_threshold_skip_kinds: list[str] = []
    evolution_max_changes: int = Field(ge=0)


class Rule(_Model):
    label: Text
    enabled: bool = True


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
    """Read commentary_rules.yaml; unknown keys, indicators and dimensions are refused together."""
    path = data_path(catalogue, RULES_FILE)
    rules = load_model(path, CommentaryRules)
    r = rules.rules
    problems = []
    indicators = {"young_organisation.indicators": r.young_organisation.indicators,
                  "field_norms.min_difference": list(r.field_norms.min_difference),
                  "public_dependence": [r.public_dependence.public_indicator, r.public_dependence.sources_indicator],
                  "passive_membership": [r.passive_membership.members_indicator, r.passive_membership.active_indicator]}
    for key, ids in indicators.items():
        problems += [Problem(str(path), f"key rules.{key}", "unknown indicator", value=i,
                             expected="an indicator id of indicators.yaml") for i in ids if i not in catalogue.by_id]
    dims = {d.id for d in catalogue.dimensions}
    for d in (r.service_gap.strong_dimension, r.service_gap.weak_dimension):
        if d not in dims:
            problems.append(Problem(str(path), "key rules.service_gap", "unknown dimension", value=d,
                                    expected=f"one of {', '.join(sorted(dims))}"))
    groups = [*r.small_group_fallback.groups, r.young_organisation.compare_group,
              r.field_norms.field_group, r.field_norms.reference_group]
    problems += [Problem(str(path), "key rules", "unknown peer group", value=g, expected=f"one of {BUILT_IN}")
                 for g in groups if g not in BUILT_IN]
    if problems:
        raise CatalogueError(problems)
    return rules

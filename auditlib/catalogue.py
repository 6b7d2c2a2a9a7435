"""The indicator catalogue: versioned data, never hard-coded.

`data/catalogue/` holds six YAML files, and the folder the auditor names is the whole set:
the indicators (`indicators.yaml`), the technology fields and EU members (`fields.yaml`), the
label criteria (`labels.yaml`), the peer-group settings (`peer_groups.yaml`), the commentary
rules and handle weights (`commentary_rules.yaml`) and the improvement actions
(`actions.yaml`). Every file is required: nothing falls back to the shipped copy, so a report
never mixes the licensed indicators with our modelled rules. A malformed folder is refused
with every problem of every file at once (`CatalogueError`), each named by file, indicator
(or criterion, dimension) id and key.

Indicators the code needs for a purpose are found by a declared `role` (ROLES), never by id;
a renamed indicator lists its former ids in `old_ids`, so earlier audits and notes still load.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from auditlib import yamlsafe
from auditlib.errors import (
    CatalogueError,
    Problem,
    ProblemCode,
    code_for_pydantic,
)

Kind = Literal["count", "share", "amount", "ordinal", "yes_no"]
Direction = Literal["higher", "lower", "context"]
LANGUAGES = ("en", "nl")
MIN_ANONYMITY_FLOOR = 5

FILES = {
    "indicators": "indicators.yaml",
    "fields": "fields.yaml",
    "labels": "labels.yaml",
    "peer_groups": "peer_groups.yaml",
    "commentary_rules": "commentary_rules.yaml",
    "actions": "actions.yaml",
}
# Roles an indicator can declare (`role: org_age`); the code finds these indicators by role.
ROLES = {
    "org_age": "the organisation's age in years: derived from the founding and benchmark year "
               "when blank, checked against them when given",
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Model):
    """A text the client reads, in every report language."""

    en: str = Field(min_length=1)
    nl: str = Field(min_length=1)

    def __getitem__(self, lang: str) -> str:
        return getattr(self, lang)


class Dimension(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Text


class Indicator(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    dimension: str
    name: Text
    unit: Text
    unit_one: Text | None = None     # the unit after the number 1 ("year" beside "years"); default: unit
    kind: Kind
    min: float
    max: float
    direction: Direction
    weight: float = Field(ge=0, default=1.0)
    question: Text
    description: Text
    levels: dict[int, Text] | None = None
    role: str | None = None                     # one of ROLES: what the code needs it for
    old_ids: list[str] = []                     # former ids: earlier files under them still load

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.kind == "share" and (self.min < 0 or self.max > 100):
            raise ValueError("a share lies within 0-100 (per cent)")
        if self.kind == "yes_no" and (self.min, self.max) != (0, 1):
            raise ValueError("a yes/no indicator has min 0 and max 1")
        if self.kind == "ordinal":
            if not self.levels:
                raise ValueError("an ordinal indicator needs its levels")
            if sorted(self.levels) != list(range(int(self.min), int(self.max) + 1)):
                raise ValueError(f"ordinal levels must be exactly {int(self.min)}..{int(self.max)}")
        elif self.levels:
            raise ValueError("only ordinal indicators have levels")
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; known roles: {', '.join(sorted(ROLES))}")
        return self

    @property
    def scored(self) -> bool:
        return self.direction != "context"

    @property
    def is_integer(self) -> bool:
        return self.kind in ("count", "ordinal", "yes_no")


class IndicatorFile(_Model):
    catalogue: str
    version: str
    dimensions: list[Dimension] = Field(min_length=1)
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> IndicatorFile:
        dims = [d.id for d in self.dimensions]
        _no_duplicates(dims, "dimension")
        _no_duplicates([i.id for i in self.indicators], "indicator")
        ids = {i.id for i in self.indicators}
        clash = sorted({o for i in self.indicators for o in i.old_ids if o in ids})
        if clash:
            raise ValueError(f"old id(s) {clash} are also current indicator ids")
        _no_duplicates([o for i in self.indicators for o in i.old_ids], "old")
        _no_duplicates([i.role for i in self.indicators if i.role], "role (one indicator per role),")
        unknown = sorted({i.dimension for i in self.indicators} - set(dims))
        if unknown:
            raise ValueError(f"indicators refer to unknown dimension(s) {unknown}; known: {dims}")
        empty = [d for d in dims if not any(i.dimension == d for i in self.indicators)]
        if empty:
            raise ValueError(f"dimension(s) without indicators: {empty}")
        return self


class TechField(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Text


class FieldFile(_Model):
    version: str
    fields: list[TechField] = Field(min_length=1)
    eu_members: list[str]

    @field_validator("eu_members")
    @classmethod
    def _alpha2(cls, codes: list[str]) -> list[str]:
        bad = [c for c in codes if len(c) != 2 or not c.isupper()]
        if bad:
            raise ValueError(f"EU members must be ISO 3166 alpha-2 codes, got {bad}")
        return codes


class Criterion(_Model):
    """One label requirement on one indicator."""

    id: str
    indicator: str
    op: Literal[">=", "<="]
    threshold: float
    target: float | None = None

    def passes(self, value: float | None) -> bool:
        if value is None or math.isnan(value):  # missing never passes
            return False
        return value >= self.threshold if self.op == ">=" else value <= self.threshold

    def distance(self, value: float | None) -> float | None:
        """How far the value is from the threshold; positive means still to go."""
        if value is None or math.isnan(value):
            return None
        gap = self.threshold - value if self.op == ">=" else value - self.threshold
        return max(gap, 0.0)


class GapYears(_Model):
    """A span in years (halves allowed: 1.5); the journey reads it in whole months."""

    min: float = Field(ge=0)
    max: float = Field(ge=0)


class BronzeRules(_Model):
    name: Text
    motto: Text
    minimums: list[Criterion]
    valid_years: float = Field(default=2, gt=0)             # from the benchmark interview month
    renewal_window_years: float = Field(default=1, ge=0)    # a renewal this close to expiry extends it


class GoldRules(_Model):
    name: Text
    motto: Text
    total_score_min: float = Field(ge=0, le=100)
    score_at_threshold: float = Field(gt=0, lt=100)
    valid_years: float = Field(default=2, gt=0)
    reassessment_years: GapYears = GapYears(min=2, max=3)   # the public rhythm of reassessment
    minimums: list[Criterion]
    quality: list[Criterion] = Field(min_length=1)

    @model_validator(mode="after")
    def _targets(self) -> GoldRules:
        for c in self.quality:
            if c.target is None:
                raise ValueError(f"gold quality criterion {c.id} needs a target")
            wrong_side = c.target < c.threshold if c.op == ">=" else c.target > c.threshold
            if wrong_side:
                raise ValueError(f"gold quality criterion {c.id}: target lies on the failing side of the threshold")
        return self


class SilverRules(_Model):
    name: Text
    motto: Text
    improvement_areas: int = Field(ge=1)
    areas_must_be_quality_indicators: bool = True
    earlier_audit_gap_years: GapYears
    valid_years: float = Field(default=2, gt=0)
    min_areas_improved: int = Field(ge=0)


class LabelFile(_Model):
    version: str
    bronze: BronzeRules
    silver: SilverRules
    gold: GoldRules

    def all_criteria(self) -> list[Criterion]:
        return [*self.bronze.minimums, *self.gold.minimums, *self.gold.quality]


class AgeBand(_Model):
    id: str
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    name: Text


class Band(_Model):
    id: str
    min: float = Field(ge=0, le=100)
    name: Text


class PeerGroupFile(_Model):
    version: str
    anonymity_floor: int = Field(ge=MIN_ANONYMITY_FLOOR)
    primary_group: str
    default_groups: list[str] = Field(min_length=1)
    age_bands: list[AgeBand] = Field(min_length=1)
    bands: list[Band] = Field(min_length=2)
    evolution_noise_percentile: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> PeerGroupFile:
        mins = [b.min for b in self.bands]
        if mins != sorted(mins) or mins[0] != 0:
            raise ValueError("bands must start at 0 and be in increasing order of min")
        for a, b in zip(self.age_bands, self.age_bands[1:]):
            if b.min != a.max + 1:
                raise ValueError(f"age bands must be contiguous: {a.id} ends at {a.max}, {b.id} starts at {b.min}")
        return self


def _no_duplicates(ids: list[str], what: str) -> None:
    seen, dup = set(), []
    for i in ids:
        if i in seen:
            dup.append(i)
        seen.add(i)
    if dup:
        raise ValueError(f"duplicate {what} id(s): {dup}")


class Catalogue:
    """The loaded, validated catalogue: indicators, fields, label criteria, peer settings."""

    def __init__(self, directory: Path, indicators: IndicatorFile, fields: FieldFile,
                 labels: LabelFile, peers: PeerGroupFile, hashes: dict[str, str],
                 rules=None, actions=None):
        self.directory = directory
        self._file = indicators
        self.fields_file = fields
        self.labels = labels
        self.peers = peers
        self.hashes = hashes
        self.rules = rules          # commentary_rules.CommentaryRules, validated with the rest
        self.actions = actions      # handles.ActionFile

    @property
    def name(self) -> str:
        return self._file.catalogue

    @property
    def version(self) -> str:
        return self._file.version

    @property
    def dimensions(self) -> list[Dimension]:
        return list(self._file.dimensions)

    @property
    def indicators(self) -> list[Indicator]:
        return list(self._file.indicators)

    @cached_property
    def by_id(self) -> dict[str, Indicator]:
        return {i.id: i for i in self._file.indicators}

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self._file.indicators]

    @property
    def scored_ids(self) -> list[str]:
        return [i.id for i in self._file.indicators if i.scored]

    def indicator(self, indicator_id: str) -> Indicator:
        return self.by_id[indicator_id]

    def role(self, role: str) -> Indicator | None:
        """The indicator that declares this role (e.g. 'org_age'), or None when none does."""
        return next((i for i in self._file.indicators if i.role == role), None)

    @cached_property
    def renamed(self) -> dict[str, str]:
        """Former id -> current id, from every indicator's `old_ids`."""
        return {old: i.id for i in self._file.indicators for old in i.old_ids}

    def current_id(self, indicator_id: str) -> str | None:
        """The current id for a current or former id; None when the catalogue knows neither."""
        if indicator_id in self.by_id:
            return indicator_id
        return self.renamed.get(indicator_id)

    def dimension(self, dimension_id: str) -> Dimension:
        return next(d for d in self._file.dimensions if d.id == dimension_id)

    def in_dimension(self, dimension_id: str) -> list[Indicator]:
        return [i for i in self._file.indicators if i.dimension == dimension_id]

    @cached_property
    def fields(self) -> dict[str, TechField]:
        return {f.id: f for f in self.fields_file.fields}

    @property
    def eu_members(self) -> frozenset[str]:
        return frozenset(self.fields_file.eu_members)

    def field_id(self, text: str) -> str | None:
        """The field id for an id or an English or Dutch field name (case-insensitive)."""
        key = str(text).strip().casefold()
        for f in self.fields_file.fields:
            if key in (f.id, f.name.en.casefold(), f.name.nl.casefold()):
                return f.id
        return None

    def age_band(self, age: float) -> str | None:
        for band in self.peers.age_bands:
            if band.min <= age <= band.max:
                return band.id
        return None

    def band(self, percentile: float) -> str:
        chosen = self.peers.bands[0].id
        for b in self.peers.bands:
            if percentile >= b.min:
                chosen = b.id
        return chosen

    def frame(self):
        """The indicators as a tidy DataFrame, one row each (English names)."""
        import pandas as pd

        rows = [
            {"indicator": i.id, "dimension": i.dimension, "name": i.name.en, "name_nl": i.name.nl,
             "unit": i.unit.en, "kind": i.kind, "min": i.min, "max": i.max,
             "direction": i.direction, "weight": i.weight}
            for i in self._file.indicators
        ]
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return f"Catalogue({self.name!r}, version={self.version!r}, {len(self.ids)} indicators)"


def _read_yaml(path: Path, problems: list[Problem]) -> object | None:
    if not path.is_file():
        problems.append(Problem(str(path), "file", "the file is missing", expected="a YAML file",
                                code=ProblemCode.FILE_MISSING))
        return None
    try:
        return yamlsafe.load_path(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        problems.append(Problem(str(path), place, f"not valid YAML: {getattr(exc, 'problem', exc)}",
                                expected="well-formed YAML", code=ProblemCode.PARSE_ERROR))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(str(path), "file", "not UTF-8 text", expected="a UTF-8 YAML file",
                                code=ProblemCode.ENCODING))
        return None


def _validate(model: type[BaseModel], data: object, path: Path, problems: list[Problem]):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            place, indicator = located(err["loc"], data)
            value = err.get("input") if not isinstance(err.get("input"), (dict, list)) else None
            problems.append(Problem(str(path), place, err["msg"], value=value, indicator=indicator,
                                    expected=_expected(err), code=code_for_pydantic(err["type"])))
        return None


def located(loc: tuple, data: object) -> tuple[str, str | None]:
    """A pydantic location in the author's terms: list items by their id, not their position.

    ('indicators', 25, 'kind') -> 'indicator sme_share, key kind'; ('gold', 'quality', 3,
    'target') -> 'key gold.quality[q04].target'. Returns the place and the indicator id, if any.
    """
    parts: list[str] = []
    node, indicator, owner = data, None, None
    for step in loc:
        item = node[step] if isinstance(node, list) and isinstance(step, int) and -len(node) <= step < len(node) \
            else (node.get(step) if isinstance(node, dict) else None)
        if isinstance(step, int) and isinstance(item, dict) and isinstance(item.get("id"), str) and parts:
            name = item["id"]
            if len(parts) == 1 and parts[0] in ("indicators", "dimensions"):
                owner = f"{parts[0][:-1]} {name}"
                indicator = name if parts[0] == "indicators" else None
                parts = []
            else:
                parts[-1] += f"[{name}]"
        elif isinstance(step, int) and parts:
            parts[-1] += f"[{step}]"
        else:
            parts.append(str(step))
        node = item
    key = ".".join(parts)
    if owner:
        return (f"{owner}, key {key}" if key else owner), indicator
    return f"key {key or '(top level)'}", indicator


def _expected(err: Mapping[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return f"one of {ctx['expected']}"
    if err["type"] == "missing":
        return "this key to be present"
    if err["type"] == "extra_forbidden":
        return "no such key (check the spelling)"
    return ""


@dataclass(frozen=True)
class References:
    """What the other files may name: indicator ids (with former and context-only ones), dimensions.

    Taken from the validated indicators, or, when indicators.yaml has problems of its own, from
    its raw entries, so the other files are still checked in the same pass.
    """

    ids: frozenset[str]
    renamed: dict[str, str]
    context: frozenset[str]
    dimensions: tuple[str, ...]

    @classmethod
    def of(cls, model: IndicatorFile | None, raw: object) -> References | None:
        if model is not None:
            return cls(frozenset(i.id for i in model.indicators),
                       {o: i.id for i in model.indicators for o in i.old_ids},
                       frozenset(i.id for i in model.indicators if not i.scored),
                       tuple(d.id for d in model.dimensions))
        if not isinstance(raw, dict) or not isinstance(raw.get("indicators"), list):
            return None
        items = [i for i in raw["indicators"] if isinstance(i, dict) and isinstance(i.get("id"), str)]
        dims = [d["id"] for d in raw.get("dimensions") or [] if isinstance(d, dict) and isinstance(d.get("id"), str)]
        return cls(frozenset(i["id"] for i in items),
                   {str(o): i["id"] for i in items if isinstance(i.get("old_ids"), list) for o in i["old_ids"]},
                   frozenset(i["id"] for i in items if i.get("direction") == "context")
                   - {i["id"] for i in items if i.get("direction") != "context"}, tuple(dims))


def _label_checks(refs: References, labels: LabelFile, path: str, problems: list[Problem]) -> None:
    renamed = refs.renamed
    for group, criteria in (("bronze.minimums", labels.bronze.minimums),
                            ("gold.minimums", labels.gold.minimums),
                            ("gold.quality", labels.gold.quality)):
        for c in criteria:
            place = f"key {group}[{c.id}].indicator"
            if c.indicator not in refs.ids:
                hint = f" (renamed to {renamed[c.indicator]})" if c.indicator in renamed else ""
                problems.append(Problem(path, place, "unknown indicator" + hint, value=c.indicator,
                                        indicator=c.indicator, expected="an indicator id of indicators.yaml",
                                        code=ProblemCode.UNKNOWN_ID))
            elif c.indicator in refs.context:
                problems.append(Problem(path, place, "a context-only indicator cannot be a label criterion",
                                        value=c.indicator, indicator=c.indicator, expected="a scored indicator",
                                        code=ProblemCode.INCONSISTENT))
    quality = {c.indicator for c in labels.gold.quality}
    if labels.silver.areas_must_be_quality_indicators and labels.silver.improvement_areas > len(quality):
        problems.append(Problem(path, "key silver.improvement_areas", "more Silver improvement areas than "
                                "Gold quality indicators to choose them from", value=labels.silver.improvement_areas,
                                expected=f"at most {len(quality)}", code=ProblemCode.INCONSISTENT))
    if labels.silver.min_areas_improved > labels.silver.improvement_areas:
        problems.append(Problem(path, "key silver.min_areas_improved", "more areas must improve than are named",
                                value=labels.silver.min_areas_improved,
                                expected=f"at most silver.improvement_areas ({labels.silver.improvement_areas})",
                                code=ProblemCode.INCONSISTENT))
    gap = labels.silver.earlier_audit_gap_years
    if gap.min > gap.max:
        problems.append(Problem(path, "key silver.earlier_audit_gap_years", "min is above max",
                                value=f"{gap.min}-{gap.max}", expected="min <= max",
                                code=ProblemCode.INCONSISTENT))


def _peer_checks(peers: PeerGroupFile, path: str, problems: list[Problem]) -> None:
    known_groups = {"all", "field", "country", "eu", "age_band", "gold"}
    for key in [peers.primary_group, *peers.default_groups]:
        if key not in known_groups:
            problems.append(Problem(path, "key default_groups/primary_group", "unknown peer group",
                                    value=key, expected=f"one of {sorted(known_groups)}",
                                    code=ProblemCode.UNKNOWN_ID))


_CACHE: dict[tuple, Catalogue] = {}


def _stamp(directory: Path) -> tuple:
    """What identifies the folder's content cheaply: every file's name, size and mtime."""
    try:
        return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in directory.iterdir()))
    except OSError:
        return ()


def load_catalogue(directory: str | Path) -> Catalogue:
    """Load and validate the catalogue folder; raise CatalogueError listing every problem.

    A valid catalogue is kept per process while its files are unchanged (a report loads it
    from several places; the batch from every client).

    Parameters
    ----------
    directory
        The catalogue folder (``Settings.catalogue_dir``: the entry point resolves it).

    Returns
    -------
    Catalogue
        The validated catalogue.

    Raises
    ------
    CatalogueError
        Every problem of every file at once, each with its ProblemCode.
    """
    directory = Path(directory).resolve()
    key = (str(directory), _stamp(directory))
    if key in _CACHE:
        return _CACHE[key]
    catalogue = _load(directory)
    _CACHE.clear()
    _CACHE[key] = catalogue
    return catalogue


def _load(directory: Path) -> Catalogue:
    """Every file read and checked, each on its own and against the others, before any problem is raised."""
    from auditlib.commentary_rules import CommentaryRules, rule_problems
    from auditlib.handles import ActionFile, action_problems

    problems: list[Problem] = []
    if not directory.is_dir():
        raise CatalogueError([Problem(str(directory), "folder", "the catalogue folder does not exist",
                                      expected="a folder with " + ", ".join(FILES.values()),
                                      code=ProblemCode.FILE_MISSING)])
    models: dict[str, type[BaseModel]] = {
        "indicators": IndicatorFile, "fields": FieldFile, "labels": LabelFile, "peer_groups": PeerGroupFile,
        "commentary_rules": CommentaryRules, "actions": ActionFile}
    loaded: dict[str, Any] = {}
    hashes: dict[str, str] = {}
    raw: dict[str, object] = {}
    for key, filename in FILES.items():
        path = directory / filename
        data = raw[key] = _read_yaml(path, problems)
        if path.is_file():
            hashes[filename] = hashlib.sha256(path.read_bytes()).hexdigest()
        loaded[key] = None if data is None else _validate(models[key], data, path, problems)
    for extra in sorted(directory.glob("*.yaml")):      # anything else beside them: provenance too
        if extra.name not in hashes:
            hashes[extra.name] = hashlib.sha256(extra.read_bytes()).hexdigest()
    # Checks across files run for every file that is valid on its own (against the indicators'
    # raw ids when indicators.yaml has problems of its own), so all problems come at once.
    ind = loaded["indicators"]
    if loaded["peer_groups"] is not None:
        _peer_checks(loaded["peer_groups"], str(directory / FILES["peer_groups"]), problems)
    refs = References.of(ind, raw.get("indicators"))
    if refs is not None:
        if loaded["labels"] is not None:
            _label_checks(refs, loaded["labels"], str(directory / FILES["labels"]), problems)
        if loaded["commentary_rules"] is not None:
            problems += rule_problems(loaded["commentary_rules"], directory / FILES["commentary_rules"], refs)
        if loaded["actions"] is not None:
            problems += action_problems(loaded["actions"], directory / FILES["actions"], refs)
    if problems:
        raise CatalogueError(problems, summary=f"the catalogue in {directory} is not valid "
                                               f"({len(problems)} problem(s) in "
                                               f"{len({p.file for p in problems})} file(s))")
    return Catalogue(directory, ind, loaded["fields"], loaded["labels"], loaded["peer_groups"], hashes,
                     rules=loaded["commentary_rules"], actions=loaded["actions"])

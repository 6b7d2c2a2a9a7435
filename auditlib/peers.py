"""Peer groups: who a client is compared with, and whether that group may be shown.

A group below the anonymity floor yields no statistics (confidentiality); the engine then
falls back to the next broader group and records that it did. The client's own record is
never among its peers, even when the benchmark database holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

import numpy as np
import pandas as pd

from auditlib.catalogue import MIN_ANONYMITY_FLOOR, Catalogue
from auditlib.errors import ParameterError, ProblemCode

if TYPE_CHECKING:
    from auditlib.intake import ClientProfile

BUILT_IN = ("all", "field", "country", "eu", "age_band", "gold")
# Which broader group to use when a group is below the floor.
FALLBACK = {"field": "all", "country": "eu", "eu": "all", "age_band": "all", "gold": "all"}
# Columns a custom filter may use.
FILTER_COLUMNS = ("country", "field", "label", "age_band", "eu", "founding_year", "benchmark_year")


@dataclass(frozen=True)
class Reference:
    """The benchmark database prepared for fast comparisons (numpy arrays, derived columns)."""

    meta: pd.DataFrame          # country, field, label, founding_year, benchmark_year, age, age_band, eu
    values: np.ndarray          # organisations x catalogue indicators, float64, NaN = missing
    ids: np.ndarray             # org ids (kept private to the engine; never shown to a client)
    indicator_ids: tuple[str, ...]
    version: str
    order: np.ndarray | None = field(default=None, repr=False, compare=False)  # per indicator: rows sorted by value
    cache: dict = field(default_factory=dict, compare=False, repr=False)   # per-group statistics

    @classmethod
    def build(cls, frame: pd.DataFrame, catalogue: Catalogue, version: str = "") -> "Reference":
        meta = frame[["country", "field", "label", "founding_year", "benchmark_year"]].copy()
        meta["age"] = (meta["benchmark_year"] - meta["founding_year"]).astype(int)
        bands = catalogue.peers.age_bands
        edges = [b.min for b in bands] + [bands[-1].max + 1]
        meta["age_band"] = pd.cut(meta["age"], bins=edges, right=False,
                                  labels=[b.id for b in bands]).astype(object)
        meta["eu"] = meta["country"].isin(catalogue.eu_members)
        values = frame[catalogue.ids].to_numpy(dtype=np.float64, copy=True)
        values.setflags(write=False)
        # Sorted once per database: any peer group's sorted order is this order filtered (O(n)).
        order = np.argsort(values.T, axis=1, kind="stable")
        order.setflags(write=False)
        return cls(meta.reset_index(drop=True), values, frame.index.to_numpy(dtype=object),
                   tuple(catalogue.ids), version, order)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class GroupSpec:
    """A peer group as asked for: a built-in key, or a named custom filter combination."""

    key: str
    filters: Mapping[str, object] = field(default_factory=dict)
    name_en: str = ""
    name_nl: str = ""

    @property
    def custom(self) -> bool:
        return self.key not in BUILT_IN


@dataclass(frozen=True)
class PeerGroup:
    """The group actually used for one requested group. No member identities, only n."""

    requested: str
    key: str
    name_en: str
    name_nl: str
    filters: Mapping[str, object]
    n: int                            # organisations in the group used (internal when not available)
    available: bool                   # False: below the floor even after every fallback
    fallback_from: tuple[str, ...] = ()   # the requested (and intermediate) groups that were too small
    reason: str | None = None         # why a fallback happened or no statistics are shown
    mask: np.ndarray | None = field(default=None, repr=False, compare=False)
    refusals: tuple = ()              # disclosure.Refusal: why the group or some indicators are not shown

    def name(self, lang: str = "en") -> str:
        return self.name_nl if lang == "nl" else self.name_en

    @property
    def public_n(self) -> int | None:
        """The size to show anyone: none for a group below the floor (its size is a statistic too)."""
        return self.n if self.available else None


def built_in_spec(key: str, client: ClientProfile, catalogue: Catalogue) -> GroupSpec:
    """The filters of a built-in group for this client."""
    field_name = catalogue.fields[client.field].name if client.field in catalogue.fields else None
    band_id = catalogue.age_band(client.age)
    band = next((b for b in catalogue.peers.age_bands if b.id == band_id), None)
    if key == "all":
        return GroupSpec("all", {}, "all organisations", "alle organisaties")
    if key == "field":
        return GroupSpec("field", {"field": client.field},
                         f"organisations in the same field: {field_name.en if field_name else client.field}",
                         f"organisaties in hetzelfde veld: {field_name.nl if field_name else client.field}")
    if key == "country":
        return GroupSpec("country", {"country": client.country},
                         f"organisations from the same country: {client.country}",
                         f"organisaties uit hetzelfde land: {client.country}")
    if key == "eu":
        return GroupSpec("eu", {"eu": True}, "organisations from EU member states", "organisaties uit EU-lidstaten")
    if key == "age_band":
        return GroupSpec("age_band", {"age_band": band_id},
                         f"organisations of the same age band: {band.name.en if band else band_id}",
                         f"organisaties uit dezelfde leeftijdsklasse: {band.name.nl if band else band_id}")
    if key == "gold":
        return GroupSpec("gold", {"label": "gold"}, "Gold-labelled organisations",
                         "organisaties met een Gouden label")
    raise ParameterError(f"unknown peer group '{key}'; expected one of {', '.join(BUILT_IN)} "
                         f"or a custom group 'name=column:value[|value],...'", code=ProblemCode.UNKNOWN_ID,
                         place="peer_groups")


def parse_custom(text: str) -> GroupSpec:
    """Parse 'name=field:ict|food,country:NL' into a custom GroupSpec (CLI and notebooks)."""
    name, sep, body = text.partition("=")
    if not sep or not name.strip() or not body.strip():
        raise ParameterError(f"custom peer group '{text}': expected 'name=column:value[|value],...'")
    if name.strip().lower() == "name":      # the help's placeholder copied as it stands
        raise ParameterError(f"custom peer group '{text}': 'name' is the placeholder for your group's own name; "
                             f"write e.g. 'benelux={body.strip()}'")
    filters: dict[str, object] = {}
    for part in body.split(","):
        col, sep, vals = part.partition(":")
        col = col.strip()
        if not sep or col not in FILTER_COLUMNS:
            raise ParameterError(f"custom peer group '{text}': '{part}' must be column:value with "
                                 f"column one of {', '.join(FILTER_COLUMNS)}")
        items = [v.strip() for v in vals.split("|") if v.strip()]
        if not items:
            raise ParameterError(f"custom peer group '{text}': '{part.strip()}' has no value; expected "
                                 f"{col}:value[|value]")
        if col in ("founding_year", "benchmark_year"):
            try:
                lo, _, hi = vals.partition("-")
                filters[col] = (int(lo), int(hi or lo))
            except ValueError:
                raise ParameterError(f"custom peer group '{text}': {col} takes a year range like 2000-2010") from None
        elif col == "eu":
            filters[col] = items[0].lower() in ("1", "true", "yes")
        else:
            filters[col] = items if len(items) > 1 else items[0]
    return GroupSpec(name.strip(), filters, f"custom group: {name.strip()}",
                     f"eigen groep: {name.strip()}")


def _mask(ref: Reference, filters: Mapping[str, object]) -> np.ndarray:
    mask = np.ones(len(ref), dtype=bool)
    for col, want in filters.items():
        series = ref.meta[col]
        if isinstance(want, tuple):
            mask &= series.between(want[0], want[1]).to_numpy()
        elif isinstance(want, (list, set, frozenset)):
            mask &= series.isin(list(want)).to_numpy()
        else:
            mask &= (series == want).to_numpy()
    return mask


def check_floor(floor: int | None, catalogue: Catalogue) -> int:
    floor = catalogue.peers.anonymity_floor if floor is None else int(floor)
    if floor < MIN_ANONYMITY_FLOOR:
        raise ParameterError(f"anonymity floor {floor} is too low: it is never below {MIN_ANONYMITY_FLOOR}",
                             code=ProblemCode.OUT_OF_RANGE, place="anonymity_floor")
    return floor


def resolve(spec: GroupSpec, client: ClientProfile, ref: Reference, catalogue: Catalogue, *,
            floor: int, exclude: np.ndarray) -> PeerGroup:
    """The group to use for `spec`: itself if it reaches the floor, else the next broader one.

    Parameters
    ----------
    spec
        The group asked for (built-in or custom).
    client
        The client, whose country, field and age band the built-in groups follow.
    ref, catalogue
        The reference database and the catalogue (its fallback order and EU members).
    floor
        The anonymity floor: a group with fewer organisations is not used.
    exclude
        The client's own record (see `client_exclusion`), left out of every group.

    Returns
    -------
    PeerGroup
        The group used, with its n (public only when it reaches the floor), the groups tried
        before it and why; `available` is False when even the broadest group is below the floor.
    """
    tried: list[str] = []
    reasons: list[str] = []
    current = spec
    while True:
        mask = _mask(ref, current.filters) & ~exclude
        n = int(mask.sum())
        if n >= floor:
            reason = "; ".join(reasons) or None
            return PeerGroup(spec.key, current.key, current.name_en, current.name_nl,
                             dict(current.filters), n, True, tuple(tried), reason, mask)
        tried.append(current.key)
        # the exact count of a group below the floor is itself a statistic of it: not disclosed
        reasons.append(f"{current.name_en} has fewer organisations than the anonymity floor of {floor}")
        nxt = "all" if current.custom else FALLBACK.get(current.key)
        if nxt == "eu" and client.country not in catalogue.eu_members:
            nxt = "all"
        if nxt is None:
            return PeerGroup(spec.key, current.key, current.name_en, current.name_nl,
                             dict(current.filters), n, False, tuple(tried[:-1]),
                             "; ".join(reasons) + "; no statistics are shown", None)
        current = built_in_spec(nxt, client, catalogue)


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def client_exclusion(ref: Reference, client: ClientProfile, exclude_id: str | None = None) -> np.ndarray:
    """True for the client's own record in the database; refuse any other organisation's.

    Excluding one organisation from every group is the differencing attack against `all`
    (n versus n - 1), so only the client's own record may be excluded:
    - the id must exist in the database, exactly (ids are case-sensitive);
    - the profile's `benchmark_id` names the client's own; an `exclude_id` that differs is refused;
    - either way the record must have the client's country, field and founding year (the
      facts the questionnaire declares), so a questionnaire cannot name another organisation.
    """
    declared = (client.benchmark_id or "").strip() or None
    asked = (exclude_id or "").strip() or None
    if declared and asked and asked != declared:
        raise ParameterError(f"--exclude-id '{asked}' differs from the questionnaire's benchmark_id "
                             f"'{declared}': only the client's own record may be excluded",
                             code=ProblemCode.INCONSISTENT, place="exclude_id")
    own = declared or asked
    if own is None:
        return np.zeros(len(ref), dtype=bool)
    hit = ref.ids == own
    source = "the questionnaire's benchmark_id" if declared else "--exclude-id"
    if not hit.any():
        near = [str(i) for i in ref.ids[np.char.lower(ref.ids.astype(str)) == own.lower()]]
        hint = f" (ids are case-sensitive: did you mean '{near[0]}'?)" if near else ""
        raise ParameterError(f"{source} '{own}' is not in the benchmark database{hint}; "
                             f"expected the id of the client's own record, or none", code=ProblemCode.UNKNOWN_ID,
                             place="exclude_id")
    row = ref.meta.loc[int(np.flatnonzero(hit)[0])]
    mine = {"country": client.country, "field": client.field, "founding_year": client.founding_year}
    theirs = {"country": row["country"], "field": row["field"], "founding_year": int(row["founding_year"])}
    differ = [k for k in mine if mine[k] != theirs[k]]
    if differ:
        raise ParameterError(
            f"{source} '{own}' is not this client's record: its {_words(differ)} "
            f"differ{'s' if len(differ) == 1 else ''} from the client's profile; only the client's own "
            f"record may be excluded", code=ProblemCode.INCONSISTENT, place="exclude_id")
    return hit

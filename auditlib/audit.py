"""One engagement's analysis: the AuditResult every renderer reads.

`analyse()` runs peer groups, positions, the dimension profile, strengths and weaknesses,
label readiness and evolution. It needs no notebook and imports no plotting library. The
report notebook, the meeting widgets, the Excel export and the portfolio index all read the
same AuditResult, so no figure is computed twice.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from auditlib.benchmark import BenchmarkDB
from auditlib.catalogue import Catalogue, load_catalogue
from auditlib.config import Settings
from auditlib.disclosure import (DisclosureLedger, DisclosureSummary, Rules, protect, protect_dimensions,
                                 protect_evolution)
from auditlib.errors import ParameterError
from auditlib.evolution import Evolution, compare
from auditlib.intake import ClientFolder, ClientProfile
from auditlib.journey import Journey, Month, client_journey
from auditlib.labels import LabelReadiness, evaluate
from auditlib.notes import AuditorNotes, load_notes
from auditlib.peers import (GroupSpec, PeerGroup, Reference, built_in_spec, check_floor, client_exclusion,
                            parse_custom, resolve)
from auditlib.scoring import dimension_profile, positions_for_group, strengths_weaknesses


@dataclass(frozen=True)
class AuditResult:
    """Everything one engagement's report shows, computed once."""

    client: ClientProfile
    earlier: tuple[ClientProfile, ...]
    peer_groups: tuple[PeerGroup, ...]
    primary_group: str
    positions: pd.DataFrame        # group x indicator (scoring.POSITION_COLUMNS)
    dimensions: pd.DataFrame       # group x dimension: score, peer_median, coverage
    strengths: pd.DataFrame        # in the primary group
    weaknesses: pd.DataFrame
    labels: LabelReadiness
    evolution: Evolution | None
    notes: AuditorNotes
    catalogue: Catalogue = field(repr=False)
    benchmark_version: str = ""
    benchmark_sha256: str = ""
    anonymity_floor: int = 10
    disclosure: DisclosureSummary = field(default_factory=DisclosureSummary)   # what the rules withheld
    journey: Journey | None = None   # the label journey as of the interview month (label history)

    @property
    def catalogue_version(self) -> str:
        return self.catalogue.version

    def group(self, requested: str) -> PeerGroup:
        for g in self.peer_groups:
            if g.requested == requested:
                return g
        raise KeyError(requested)

    def positions_in(self, requested: str | None = None) -> pd.DataFrame:
        key = requested or self.primary_group
        return self.positions[self.positions["group"] == key].reset_index(drop=True)

    def profile_in(self, requested: str | None = None) -> pd.DataFrame:
        key = requested or self.primary_group
        return self.dimensions[self.dimensions["group"] == key].reset_index(drop=True)

    def peer_group_table(self) -> pd.DataFrame:
        """The groups compared with, their n and any fallback: the report's appendix."""
        names_nl = {g.requested: g.name_nl for g in self.peer_groups}
        return pd.DataFrame([{
            "group": g.requested, "used": g.key, "name": g.name_en, "name_nl": g.name_nl,
            "n": g.public_n,                       # a group below the floor: not even its size
            "statistics": g.available, "fallback_from": ", ".join(g.fallback_from), "reason": g.reason or "",
            # the disclosure rules' refusals, in Dutch too, and the indicators they withhold
            "reason_nl": "; ".join(r.text("nl", self.anonymity_floor, names_nl) for r in g.refusals),
            "withheld": ", ".join(i for r in g.refusals for i in r.indicators),
        } for g in self.peer_groups])

    def dimension_matrix(self) -> pd.DataFrame:
        """Dimension scores, one column per peer group (the compact terminal view)."""
        table = self.dimensions.pivot(index="dimension", columns="group", values="score")
        order = [d.id for d in self.catalogue.dimensions]
        return table.reindex(index=order, columns=[g.requested for g in self.peer_groups])

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """The tables of the result, by sheet name (Excel export, tests)."""
        frames = {
            "positions": self.positions,
            "dimensions": self.dimensions,
            "strengths": self.strengths,
            "weaknesses": self.weaknesses,
            "labels": self.labels.summary(),
            "criteria": self.labels.criteria,
            "peer_groups": self.peer_group_table(),
        }
        if self.evolution is not None:
            frames["evolution"] = self.evolution.changes
        return frames


_REFERENCES: dict[tuple, Reference] = {}


def reference_for(db: BenchmarkDB, catalogue: Catalogue) -> Reference:
    """The prepared benchmark, built once per file and catalogue in a process."""
    key = (db.sha256, catalogue.version, id(db.frame))
    if key not in _REFERENCES:
        _REFERENCES.clear()
        _REFERENCES[key] = Reference.build(db.frame, catalogue, db.version)
    return _REFERENCES[key]


def _specs(groups: Sequence[str | GroupSpec] | None, client: ClientProfile, catalogue: Catalogue) -> list[GroupSpec]:
    groups = list(groups) if groups else list(catalogue.peers.default_groups)
    specs: list[GroupSpec] = []
    for g in groups:
        if isinstance(g, GroupSpec):
            spec = g if g.custom else built_in_spec(g.key, client, catalogue)
        elif "=" in str(g):
            spec = parse_custom(str(g))
        else:
            spec = built_in_spec(str(g), client, catalogue)
        if spec.key in [s.key for s in specs]:
            raise ParameterError(f"peer group '{spec.key}' is asked for twice")
        specs.append(spec)
    return specs


def _vector(profile: ClientProfile, catalogue: Catalogue) -> np.ndarray:
    answers = [profile.answers.get(i) for i in catalogue.ids]
    return np.array([np.nan if a is None else float(a) for a in answers], dtype=np.float64)


def analyse(client: ClientFolder | ClientProfile | str | Path, *, catalogue: Catalogue | None = None,
            benchmark: BenchmarkDB | str | Path | None = None,
            groups: Sequence[str | GroupSpec] | None = None, primary_group: str | None = None,
            anonymity_floor: int | None = None, notes: AuditorNotes | None = None,
            exclude_id: str | None = None, ledger: DisclosureLedger | None = None,
            as_of: _dt.date | None = None, settings: Settings | None = None) -> AuditResult:
    """Analyse one engagement: peer groups, positions, profile, labels, evolution, in one result.

    Every disclosure rule is applied here, once. This is an entry point (a notebook calls
    ``analyse("nl-delta-water")``): what is not given is loaded through `settings`, resolved
    from the environment when not given either.

    Parameters
    ----------
    client
        A loaded ClientFolder or ClientProfile, a client folder, or a client id.
    catalogue, benchmark
        Loaded objects, or (benchmark) a file path; default: those of `settings`.
    groups
        Peer groups to compare with: built-in keys or custom specs (default: the catalogue's).
    primary_group
        The group the profile, strengths and weaknesses are read against.
    anonymity_floor
        Minimum answers per group and indicator (default: the catalogue's; never below 5).
    notes
        The auditor's notes (default: the client folder's notes file, if any).
    exclude_id
        The client's own record in the database, excluded from every group (only that one:
        see peers.client_exclusion).
    ledger
        What was shown before in the same session (the meeting keeps one; default: a fresh one
        per result), so a group conflicting with an earlier one is the one refused.
    as_of
        The date of the label journey (default: the first day of the interview month).
    settings
        Where to load what is not given (default: ``Settings.from_env()``).

    Returns
    -------
    AuditResult
        The typed result every renderer reads.

    Raises
    ------
    ParameterError
        A refused group, floor or exclusion id (each coded).
    CatalogueError, BenchmarkError, QuestionnaireError, NotesError
        A malformed input file, with every problem.
    """
    needs_files = (catalogue is None or not isinstance(benchmark, BenchmarkDB)
                   or isinstance(client, (str, Path)))
    if settings is None and needs_files:
        settings = Settings.from_env()      # entry point: the one environment read
    if catalogue is None:
        assert settings is not None
        catalogue = load_catalogue(settings.catalogue_dir)
    if not isinstance(benchmark, BenchmarkDB):
        from auditlib.benchmark import load_benchmark

        assert settings is not None
        benchmark = load_benchmark(benchmark or settings.benchmark_path, catalogue)
    if isinstance(client, (str, Path)):
        from auditlib.intake import load_client

        assert settings is not None
        client = load_client(client, catalogue, clients_dir=settings.clients_dir)
    if isinstance(client, ClientFolder):
        folder = client
        profile, earlier = folder.profile, tuple(folder.earlier)
        # as of the interview month: the report describes that benchmark, and reads the same tomorrow
        journey = client_journey(folder, catalogue, as_of or Month(*profile.interview).first_day)
        if notes is None:
            notes = load_notes(folder.notes_path, catalogue)
    else:
        profile, earlier, journey = client, (), None
    notes = notes or AuditorNotes()
    floor = check_floor(anonymity_floor, catalogue)
    ref = reference_for(benchmark, catalogue)

    exclude = client_exclusion(ref, profile, exclude_id)
    specs = _specs(groups, profile, catalogue)
    resolved = tuple(resolve(s, profile, ref, catalogue, floor=floor, exclude=exclude) for s in specs)
    primary = primary_group or catalogue.peers.primary_group
    if primary not in [g.requested for g in resolved]:
        primary = resolved[0].requested

    values = _vector(profile, catalogue)
    per_group = {g.requested: positions_for_group(values, g, ref, catalogue, floor) for g in resolved}
    # every disclosure rule, in one place: renderers only ever see the protected figures
    resolved, per_group, disclosure = protect(resolved, per_group, ref, floor, primary, ledger=ledger)
    positions = pd.concat(per_group.values(), ignore_index=True)
    dims = pd.concat([dimension_profile(per_group[g.requested], g, ref, catalogue) for g in resolved],
                     ignore_index=True)
    dims = protect_dimensions(dims, resolved, Rules(floor))
    strengths, weaknesses = strengths_weaknesses(per_group[primary], catalogue)

    last = earlier[-1] if earlier else None
    labels = evaluate(catalogue, profile.answers, benchmark_year=profile.benchmark_year,
                      earlier=last.answers if last else None,
                      earlier_year=last.benchmark_year if last else None,
                      interview=profile.interview, earlier_interview=last.interview if last else None,
                      improvement_areas=notes.improvement_areas)
    evolution = None
    if last is not None:
        labels_then = evaluate(catalogue, last.answers, benchmark_year=last.benchmark_year)
        group = next(g for g in resolved if g.requested == primary)
        evolution = compare(catalogue, ref, group, values, _vector(last, catalogue),
                            earlier_year=last.benchmark_year, current_year=profile.benchmark_year,
                            labels_then=labels_then, floor=floor)
        evolution = replace(evolution, changes=protect_evolution(evolution.changes, per_group[primary]))
    return AuditResult(profile, earlier, resolved, primary, positions, dims, strengths, weaknesses,
                       labels, evolution, notes, catalogue, benchmark.version, benchmark.sha256, floor,
                       disclosure, journey)

"""Questionnaire intake: read a client's answers and profile, validate, return a ClientProfile.

CONTRACT (implemented by the intake work; other modules rely on these names):

    ClientProfile             frozen dataclass below
    ClientFolder              frozen dataclass below
    load_client(path, catalogue) -> ClientFolder       raises QuestionnaireError (all problems)
    read_questionnaire(path, catalogue, client_id) -> ClientProfile
    write_template(out_path, catalogue, lang="en") -> Path
    summary_line(folder: ClientFolder) -> str           one line for `auditlib validate`
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping


@dataclass(frozen=True)
class ClientProfile:
    """One questionnaire of one client cluster organisation, validated.

    `answers` holds every catalogue indicator id; None means "not answered" (kept distinct
    from 0). yes/no answers are 1.0/0.0; ordinal answers are their level number.
    """

    client_id: str
    name: str
    country: str          # ISO 3166-1 alpha-2, upper case
    field: str            # technology field id (catalogue fields.yaml)
    founding_year: int
    benchmark_year: int   # the year the answers describe
    region: str
    contact: str
    answers: Mapping[str, float | None]
    source: Path
    benchmark_id: str | None = None   # the client's own record in the benchmark database, if any

    @property
    def age(self) -> int:
        return self.benchmark_year - self.founding_year

    def value(self, indicator_id: str) -> float | None:
        return self.answers.get(indicator_id)

    @property
    def missing(self) -> list[str]:
        return [k for k, v in self.answers.items() if v is None]


@dataclass(frozen=True)
class ClientFolder:
    """A client's folder: the current questionnaire, earlier audits and the auditor's notes."""

    client_id: str
    path: Path
    profile: ClientProfile
    earlier: tuple[ClientProfile, ...] = field(default_factory=tuple)   # oldest first
    notes_path: Path | None = None

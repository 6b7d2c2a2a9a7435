"""The intake's data model: a validated questionnaire (ClientProfile), a client's folder
(ClientFolder), and the vocabulary every reader and check shares."""

from __future__ import annotations

import datetime as _dt
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

    @property
    def answered(self) -> list[str]:
        return [k for k, v in self.answers.items() if v is not None]


@dataclass(frozen=True)
class ClientFolder:
    """A client's folder: the current questionnaire, earlier audits and the auditor's notes."""

    client_id: str
    path: Path
    profile: ClientProfile
    earlier: tuple[ClientProfile, ...] = field(default_factory=tuple)   # oldest first
    notes_path: Path | None = None

    @property
    def previous(self) -> ClientProfile | None:
        """The most recent earlier audit, the one evolution compares against."""
        return self.earlier[-1] if self.earlier else None


# --- constants ----------------------------------------------------------------------------

QUESTIONNAIRE_STEM = "questionnaire"
FORMATS = {".xlsx": "xlsx", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
REQUIRED_PROFILE_KEYS = ("name", "country", "field", "founding_year", "benchmark_year",
                         "region", "contact")
OPTIONAL_PROFILE_KEYS = ("benchmark_id",)
PROFILE_KEYS = REQUIRED_PROFILE_KEYS + OPTIONAL_PROFILE_KEYS
NOTES_FILES = ("notes.yaml", "notes.yml", "notes.md")
# "none" is deliberately absent: as an answer to "how many awards?" it means 0.
NOT_ANSWERED = frozenset({"", "not answered", "n/a", "niet beantwoord", "n.v.t."})
YES = frozenset({"yes", "ja", "true", "1"})
NO = frozenset({"no", "nee", "false", "0"})
EARLIEST_YEAR = 1900
ORG_AGE = "org_age"
# Codes in common (EU) use that are not ISO 3166 alpha-2.
NON_ISO_CODES = {"UK": "GB", "EL": "GR"}
EXPECTED_COUNTRY = "an ISO 3166 alpha-2 country code such as NL, DE or FR"


def _this_year() -> int:
    return _dt.date.today().year

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
    interview_month: int | None = None   # 1-12: the month of the benchmark interview, if recorded
    interview_year: int | None = None    # the interview's year (benchmark_year or the one after)
    prefill: "Prefill | None" = None     # the file was written prefilled with an earlier audit
    warnings: tuple = ()                 # Problems that do not stop the audit (a former indicator id, mapped)

    @property
    def interview(self) -> tuple[int, int]:
        """(year, month) of the benchmark interview; a year-only file reads as June of the
        benchmark year (DEFAULT_INTERVIEW_MONTH, documented in the README)."""
        if self.interview_month is None:
            return self.benchmark_year, DEFAULT_INTERVIEW_MONTH
        return self.interview_year or self.benchmark_year, self.interview_month

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
class Prefill:
    """The marker of a prefilled questionnaire: which audit it was filled from, and a
    fingerprint of the answers written into it (so a file returned unchanged is recognised)."""

    source: str          # e.g. "2026-03": the interview (or year) of the audit it repeats
    check: str           # answers_fingerprint() of the prefilled answers


@dataclass(frozen=True)
class LabelRecord:
    """One label in the client's history (label_history.yaml), validated."""

    label: str                   # bronze, silver or gold
    awarded: tuple[int, int]     # (year, month)
    benchmark_year: int          # the audit it rests on


@dataclass(frozen=True)
class ClientFolder:
    """A client's folder: the current questionnaire, earlier audits and the auditor's notes."""

    client_id: str
    path: Path
    profile: ClientProfile
    earlier: tuple[ClientProfile, ...] = field(default_factory=tuple)   # oldest first
    notes_path: Path | None = None
    labels: tuple[LabelRecord, ...] = ()       # label history, oldest award first
    warnings: tuple = ()                        # Problems that do not stop the audit

    @property
    def previous(self) -> ClientProfile | None:
        """The most recent earlier audit, the one evolution compares against."""
        return self.earlier[-1] if self.earlier else None


# --- constants ----------------------------------------------------------------------------

QUESTIONNAIRE_STEM = "questionnaire"
FORMATS = {".xlsx": "xlsx", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
REQUIRED_PROFILE_KEYS = ("name", "country", "field", "founding_year", "benchmark_year",
                         "region", "contact")
# interview: the benchmark interview's month (YYYY-MM); prefilled_from / prefill_check: the
# visible marker `auditlib template --prefill` writes (see auditlib/template.py)
PREFILL_KEYS = ("prefilled_from", "prefill_check")
OPTIONAL_PROFILE_KEYS = ("benchmark_id", "interview") + PREFILL_KEYS
DEFAULT_INTERVIEW_MONTH = 6      # a year-only audit is read as interviewed in June of that year
HISTORY_FILE = "label_history.yaml"
PROFILE_KEYS = REQUIRED_PROFILE_KEYS + OPTIONAL_PROFILE_KEYS
NOTES_FILES = ("notes.yaml", "notes.yml", "notes.md")
# "none" is deliberately absent: as an answer to "how many awards?" it means 0.
NOT_ANSWERED = frozenset({"", "not answered", "n/a", "niet beantwoord", "n.v.t."})
YES = frozenset({"yes", "ja", "true", "1"})
NO = frozenset({"no", "nee", "false", "0"})
EARLIEST_YEAR = 1900
ORG_AGE = "org_age"      # the catalogue role (not the id) of the organisation's age
# Codes in common (EU) use that are not ISO 3166 alpha-2.
NON_ISO_CODES = {"UK": "GB", "EL": "GR"}
EXPECTED_COUNTRY = "an ISO 3166 alpha-2 country code such as NL, DE or FR"


def _this_year() -> int:
    return _dt.date.today().year


def answers_fingerprint(answers: Mapping[str, float | None]) -> str:
    """A short fingerprint of answers: equal answers, equal fingerprint (order-free)."""
    import hashlib

    text = ";".join(f"{k}={'' if v is None else repr(float(v))}" for k, v in sorted(answers.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

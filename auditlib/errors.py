"""User-facing errors.

A user mistake (a malformed questionnaire, catalogue or benchmark file, a bad parameter)
raises an `AuditError`; the CLI prints it without a traceback. Input problems are collected
and reported together, each naming the file, the place, the value and what was expected,
in the spirit of pandera's lazy validation: the failures are data (`InputError.to_frame`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with enough context to find and fix it."""

    file: str
    place: str
    message: str
    expected: str = ""
    value: Any = None
    indicator: str | None = None

    def __str__(self) -> str:
        parts = [f"{self.file}: {self.place}"]
        if self.indicator:
            parts.append(f"indicator '{self.indicator}'")
        text = ": ".join(parts) + f": {self.message}"
        details = []
        if self.value is not None:
            details.append(f"got {self.value!r}")
        if self.expected:
            details.append(f"expected {self.expected}")
        if details:
            text += " (" + "; ".join(details) + ")"
        return text


class AuditError(Exception):
    """Base of every error that is the user's to fix; shown without a traceback."""


class ParameterError(AuditError):
    """A run parameter (client id, language, peer group...) is not acceptable."""


class InputError(AuditError):
    """One or more problems in an input file, reported together."""

    kind = "input"

    def __init__(self, problems: Iterable[Problem], summary: str | None = None):
        self.problems = list(problems)
        self.summary = summary or f"{len(self.problems)} problem(s) in the {self.kind}"
        super().__init__(self.render())

    def render(self) -> str:
        lines = [self.summary + ":"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def to_frame(self):
        """The problems as a DataFrame, one row each (like pandera's failure cases)."""
        import pandas as pd

        return pd.DataFrame([asdict(p) for p in self.problems])


class CatalogueError(InputError):
    kind = "catalogue"


class BenchmarkError(InputError):
    kind = "benchmark database"


class QuestionnaireError(InputError):
    kind = "questionnaire"


class NotesError(InputError):
    kind = "auditor's notes"

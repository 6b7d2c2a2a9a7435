"""User-facing errors.

A user mistake (a malformed questionnaire, catalogue or benchmark file, a bad parameter)
raises an `AuditError`; the CLI prints it without a traceback. Input problems are collected
and reported together, each naming the file, the place, the value and what was expected,
in the spirit of pandera's lazy validation: the failures are data (`InputError.to_frame`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable


# Problems printed per file: a sheet with 200,000 bad rows must not print 200,000 lines.
MAX_SHOWN_PER_FILE = 50


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

    def render(self, per_file: int | None = None) -> str:
        """The summary and one line per problem, at most `per_file` (default MAX_SHOWN_PER_FILE)
        of each file, then how many more there are (all of them stay in `problems`)."""
        limit = MAX_SHOWN_PER_FILE if per_file is None else per_file
        lines = [self.summary + ":"]
        shown: dict[str, int] = {}
        hidden: dict[str, int] = {}
        for p in self.problems:
            if shown.get(p.file, 0) < limit:
                shown[p.file] = shown.get(p.file, 0) + 1
                lines.append(f"  - {p}")
            else:
                hidden[p.file] = hidden.get(p.file, 0) + 1
        for file, n in hidden.items():
            lines.append(f"  ... and {n:,} more problem{'s' if n > 1 else ''} in {file} "
                         f"(the first {limit} are shown)")
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

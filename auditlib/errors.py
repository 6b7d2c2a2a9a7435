"""User-facing errors and the problems they carry.

A user mistake (a malformed questionnaire, catalogue or benchmark file, a bad parameter)
raises an `AuditError`; the CLI prints it without a traceback. Input problems are collected
and reported together, each naming the file, the place, the value and what was expected,
in the spirit of pandera's lazy validation: the failures are data (`InputError.to_frame`),
and each carries a machine-readable `ProblemCode` (like pandera's `SchemaErrorReason`), so
callers and tests branch on the code, never on the message text.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    import pandas as pd


# Problems printed per file: a sheet with 200,000 bad rows must not print 200,000 lines.
MAX_SHOWN_PER_FILE = 50


class ProblemCode(str, enum.Enum):
    """Why an input or a parameter is refused: one code per kind of mistake.

    The value is the lower-case name, so a code reads the same in a DataFrame, JSON or a
    log line. Messages stay the human explanation; the code is what programs compare.
    """

    # the file or folder itself
    FILE_MISSING = "file_missing"          # the file or folder does not exist
    FILE_UNREADABLE = "file_unreadable"    # it exists but cannot be read (permissions, I/O)
    FILE_EMPTY = "file_empty"              # nothing in it
    WRONG_FILE_TYPE = "wrong_file_type"    # unsupported suffix, or content of another kind
    ENCODING = "encoding"                  # not UTF-8 text
    PARSE_ERROR = "parse_error"            # not well-formed YAML / CSV / workbook
    TOO_LARGE = "too_large"                # alias bomb, too many rows, too deep
    # layout: sheets, columns, sections, keys
    MISSING_SHEET = "missing_sheet"
    AMBIGUOUS_SHEET = "ambiguous_sheet"    # several sheets could be the one meant
    HIDDEN_SHEET = "hidden_sheet"
    MERGED_CELLS = "merged_cells"
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    DUPLICATE_COLUMN = "duplicate_column"  # two columns with the same name
    MISSING_KEY = "missing_key"            # a required key, section or entry is absent
    UNKNOWN_KEY = "unknown_key"            # a key or section that is not part of the format
    STRUCTURE = "structure"                # wrong shape: not a mapping, nested value, schema error
    # one value
    MISSING_VALUE = "missing_value"        # a required value is blank
    WRONG_TYPE = "wrong_type"              # text where a number belongs, a date, yes/no in a number
    NOT_INTEGER = "not_integer"
    OUT_OF_RANGE = "out_of_range"          # below the minimum, above the maximum, implausible year
    UNKNOWN_VALUE = "unknown_value"        # not in the allowed vocabulary (country, field, level, yes/no)
    UNKNOWN_ID = "unknown_id"              # an indicator, dimension, anchor or peer group id not in the catalogue
    AMBIGUOUS_NUMBER = "ambiguous_number"  # '1.234': thousands or decimals cannot be told apart
    FORMULA = "formula"                    # an Excel formula without a saved result, or client text starting with '='
    INVALID_TEXT = "invalid_text"          # control characters, lone surrogates
    DUPLICATE = "duplicate"                # given twice: key, row, id, scenario name, earlier-audit year
    BAD_NAME = "bad_name"                  # a file, client or engagement name that breaks the naming rule
    INCONSISTENT = "inconsistent"          # values disagree with each other (years, organisation age)
    OUT_OF_ORDER = "out_of_order"          # dates that must follow each other do not (label history)
    UNCHANGED = "unchanged"                # a prefilled questionnaire returned without a change (warning)
    RENAMED_ID = "renamed_id"              # a former indicator id (catalogue old_ids), read as the new one (warning)
    # run parameters
    INVALID_PARAMETER = "invalid_parameter"
    REFUSED = "refused"                    # the anonymity floor or the disclosure rules refuse it
    # catch-alls (prefer a specific code)
    CHECK_FAILED = "check_failed"          # a validation check failed or could not run
    MORE = "more"                          # "... and N more problems" summarising the rest
    UNSPECIFIED = "unspecified"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with enough context to find and fix it.

    `code` says what kind of mistake it is (a `ProblemCode`); `message` and `expected` say
    it to a person.
    """

    file: str
    place: str
    message: str
    expected: str = ""
    value: Any = None
    indicator: str | None = None
    code: ProblemCode = ProblemCode.UNSPECIFIED

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.place) if p]
        if self.indicator:
            parts.append(f"indicator '{self.indicator}'")
        text = ": ".join(parts + [self.message])
        details = []
        if self.value is not None:
            details.append(f"got {self.value!r}")
        if self.expected:
            details.append(f"expected {self.expected}")
        if details:
            text += " (" + "; ".join(details) + ")"
        return text


def code_for_exception(exc: BaseException) -> ProblemCode:
    """The code of a failure to read a file: missing, unreadable, not UTF-8, or not parseable."""
    if isinstance(exc, FileNotFoundError):
        return ProblemCode.FILE_MISSING
    if isinstance(exc, OSError):
        return ProblemCode.FILE_UNREADABLE
    if isinstance(exc, UnicodeError):
        return ProblemCode.ENCODING
    return ProblemCode.PARSE_ERROR


_PYDANTIC_CODES = {
    "missing": ProblemCode.MISSING_KEY,
    "extra_forbidden": ProblemCode.UNKNOWN_KEY,
    "greater_than": ProblemCode.OUT_OF_RANGE,
    "greater_than_equal": ProblemCode.OUT_OF_RANGE,
    "less_than": ProblemCode.OUT_OF_RANGE,
    "less_than_equal": ProblemCode.OUT_OF_RANGE,
    "literal_error": ProblemCode.UNKNOWN_VALUE,
    "enum": ProblemCode.UNKNOWN_VALUE,
    "int_from_float": ProblemCode.NOT_INTEGER,
}


def code_for_pydantic(error_type: str) -> ProblemCode:
    """The code of one pydantic validation error (its ``type``), for catalogue-style files."""
    if error_type in _PYDANTIC_CODES:
        return _PYDANTIC_CODES[error_type]
    if error_type.endswith(("_type", "_parsing")):
        return ProblemCode.WRONG_TYPE
    return ProblemCode.STRUCTURE


class AuditError(Exception):
    """Base of every error that is the user's to fix; shown without a traceback."""

    problems: list[Problem]

    @property
    def codes(self) -> list[ProblemCode]:
        """The problems' codes, in order (what tests and programs compare)."""
        return [p.code for p in getattr(self, "problems", [])]


def _rebuild(cls: type[AuditError], problems: list[Problem], summary: str | None, message: str) -> AuditError:
    """Unpickle an error (a worker process sends it to the parent) with its problems intact."""
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.problems = problems
    err.__dict__["summary"] = summary
    return err


class ParameterError(AuditError):
    """A run parameter (client id, language, peer group...) is not acceptable.

    Parameters
    ----------
    message_or_problems
        One message (the common case), or the `Problem`s found, all reported together.
    code
        The code of a single message (default `ProblemCode.INVALID_PARAMETER`).
    place
        Which parameter a single message is about (e.g. ``"lang"``), for its `Problem`.
    summary
        The first line when several problems are given (default "N invalid parameter(s)").
    """

    def __init__(self, message_or_problems: str | Iterable[Problem] = "", *,
                 code: ProblemCode = ProblemCode.INVALID_PARAMETER, place: str = "",
                 summary: str | None = None):
        if isinstance(message_or_problems, str):
            self.problems = [Problem("", place, message_or_problems, code=code)]
            self.summary = summary
            text = message_or_problems
        else:
            self.problems = list(message_or_problems)
            n = len(self.problems)
            self.summary = summary or f"{n} invalid parameter{'s' if n != 1 else ''}"
            text = self.summary + ": " + "; ".join(str(p) for p in self.problems)
        super().__init__(text)

    @property
    def code(self) -> ProblemCode:
        """The first problem's code (a single-message error has exactly one)."""
        return self.problems[0].code if self.problems else ProblemCode.UNSPECIFIED

    def __reduce__(self):
        return _rebuild, (type(self), self.problems, self.summary, str(self)), dict(self.__dict__)


class InputError(AuditError):
    """One or more problems in an input file, reported together."""

    kind = "input"

    def __init__(self, problems: Iterable[Problem], summary: str | None = None):
        self.problems = list(problems)
        self.summary = summary or f"{len(self.problems)} problem(s) in the {self.kind}"
        super().__init__(self.render())

    def __reduce__(self):
        return _rebuild, (type(self), self.problems, self.summary, str(self)), dict(self.__dict__)

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

    def to_frame(self) -> pd.DataFrame:
        """The problems as a DataFrame, one row each (like pandera's failure cases), with
        the code as its plain string value."""
        import pandas as pd

        rows = []
        for p in self.problems:
            row = asdict(p)
            row["code"] = p.code.value
            rows.append(row)
        return pd.DataFrame(rows)


class CatalogueError(InputError):
    """Problems in the indicator catalogue's files (data/catalogue/)."""

    kind = "catalogue"


class BenchmarkError(InputError):
    """Problems in the benchmark database export."""

    kind = "benchmark database"


class QuestionnaireError(InputError):
    """Problems in a client's questionnaire or client folder."""

    kind = "questionnaire"


class NotesError(InputError):
    """Problems in the auditor's notes file."""

    kind = "auditor's notes"

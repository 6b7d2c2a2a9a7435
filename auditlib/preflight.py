"""Ready to run: every input a report reads, checked before any report starts.

`auditlib validate` reads what `auditlib run` would read, for the chosen catalogue, benchmark
and clients, and reports every problem at once; exit 0 means `run` will not fail on input.
`run` and `batch` check the shared inputs (catalogue folder and benchmark) once, before any
client starts, and stop with the full list: one bad benchmark file is one message, not one
truncated failure per client.

What is checked:

    shared   the catalogue folder (all six files, each on its own and against the others) and
             the benchmark file against that catalogue; when the catalogue is broken, the
             benchmark is still checked for being there and readable
    client   the questionnaire, the earlier audits, the label history, the notes (anchors and
             improvement areas on known ids), the profile's benchmark_id against the database,
             an earlier audit asked for by year; then, when all that is clean, the analysis and
             the interpretation themselves (a dry run without rendering), so anything else the
             report would refuse (a peer group, a floor, an exclusion) is caught here too

Warnings (a former indicator id mapped to its new one, a prefilled questionnaire returned
unchanged) are reported but do not fail the check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditlib.errors import AuditError, InputError, Problem, ProblemCode


class PreflightError(InputError):
    """The shared inputs are not ready: nothing was run."""

    kind = "shared inputs"


@dataclass
class ClientCheck:
    """One client's check: its problems (empty when ready) and warnings."""

    client_id: str
    path: Path
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    folder: Any = None                  # the loaded ClientFolder when it could be read

    @property
    def ready(self) -> bool:
        return not self.problems


@dataclass
class Readiness:
    """The result of `check`: the shared inputs' problems and each client's."""

    shared: list[Problem] = field(default_factory=list)
    clients: list[ClientCheck] = field(default_factory=list)
    catalogue: Any = None             # the loaded Catalogue when it is sound
    benchmark: Any = None             # the loaded BenchmarkDB when it is sound

    @property
    def ready(self) -> bool:
        return not self.shared and all(c.ready for c in self.clients)

    @property
    def problems(self) -> list[Problem]:
        return [*self.shared, *(p for c in self.clients for p in c.problems)]


def check_shared(catalogue_dir: str | Path, benchmark_path: str | Path) -> Readiness:
    """The catalogue folder and the benchmark file, every problem of both at once."""
    from auditlib.benchmark import load_benchmark
    from auditlib.catalogue import load_catalogue

    out = Readiness()
    try:
        out.catalogue = load_catalogue(catalogue_dir)
    except InputError as exc:
        out.shared += exc.problems
    bench = Path(benchmark_path)
    if out.catalogue is not None:
        try:
            out.benchmark = load_benchmark(bench, out.catalogue)
        except InputError as exc:
            out.shared += exc.problems
    elif not bench.is_file():          # the catalogue is broken, but a missing file is known now
        out.shared.append(Problem(str(bench), "file", "the benchmark file does not exist",
                                  expected="the benchmark database export (.csv or .xlsx)",
                                  code=ProblemCode.FILE_MISSING))
    return out


def require_shared(catalogue_dir: str | Path, benchmark_path: str | Path):
    """The loaded (catalogue, benchmark); raises PreflightError with every shared problem."""
    shared = check_shared(catalogue_dir, benchmark_path)
    if shared.shared:
        n = len(shared.shared)
        raise PreflightError(shared.shared, summary=f"{n} problem{'s' if n != 1 else ''} in the catalogue "
                                                    "or benchmark; no report was started")
    return shared.catalogue, shared.benchmark


def check_client(path: Path, catalogue, benchmark=None, *, groups: Sequence[str] | None = None,
                 floor: int | None = None, exclude_id: str | None = None, earlier: str | int | None = None,
                 langs: Sequence[str] = ("en",)) -> ClientCheck:
    """Everything one client's report reads, checked against a loaded catalogue and benchmark."""
    from auditlib.audit import analyse, reference_for
    from auditlib.intake import load_client
    from auditlib.interpret import interpret
    from auditlib.notes import load_notes
    from auditlib.peers import client_exclusion

    path = Path(path)
    check = ClientCheck(path.name, path)
    try:
        folder = load_client(path, catalogue)
    except InputError as exc:
        check.problems += exc.problems
        return check
    check.folder = folder
    check.warnings += list(getattr(folder, "warnings", ()))
    notes = None
    if folder.notes_path is not None:
        try:
            notes = load_notes(folder.notes_path, catalogue)
            check.warnings += list(notes.warnings)
        except InputError as exc:
            check.problems += exc.problems
    if benchmark is not None:
        try:
            client_exclusion(reference_for(benchmark, catalogue), folder.profile, exclude_id)
        except AuditError as exc:
            check.problems += _problems(exc, str(path), "benchmark_id")
    if earlier is not None and str(earlier) not in {str(e.benchmark_year) for e in folder.earlier}:
        years = ", ".join(str(e.benchmark_year) for e in folder.earlier) or "none"
        check.problems.append(Problem(str(path / "earlier"), "file", f"no earlier audit for {earlier}",
                                      value=earlier, expected=f"one of the earlier audits ({years})",
                                      code=ProblemCode.FILE_MISSING))
    if check.problems or benchmark is None:
        return check
    try:                                # the dry run: what the report computes, without rendering
        result = analyse(folder, catalogue=catalogue, benchmark=benchmark, groups=groups or None,
                         anonymity_floor=floor, exclude_id=exclude_id, notes=notes)
        for lang in langs:
            interpret(result, lang)
    except AuditError as exc:
        check.problems += _problems(exc, str(path), "analysis")
    return check


def _problems(exc: AuditError, file: str, place: str) -> list[Problem]:
    return list(getattr(exc, "problems", None) or [Problem(file, place, str(exc), code=ProblemCode.CHECK_FAILED)])


def check(catalogue_dir: str | Path, benchmark_path: str | Path, clients: Sequence[Path], **options) -> Readiness:
    """`validate`: the shared inputs, then each client (against the benchmark when that is sound)."""
    out = check_shared(catalogue_dir, benchmark_path)
    if out.catalogue is None:          # questionnaires cannot be read without it
        return out
    out.clients = [check_client(Path(p), out.catalogue, out.benchmark, **options) for p in clients]
    return out

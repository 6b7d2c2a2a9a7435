"""A client's folder: find its one questionnaire and its earlier audits, load them all, and
report every problem of the folder together (`load_client`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from auditlib.errors import Problem, ProblemCode, QuestionnaireError
from auditlib.intake.history import read_history
from auditlib.intake.model import (
    FORMATS, HISTORY_FILE, NOTES_FILES, QUESTIONNAIRE_STEM, ClientFolder, ClientProfile, LabelRecord,
    answers_fingerprint,
)
from auditlib.intake.questionnaire import _collect

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue


def _usable(p: Path) -> bool:
    """Skip hidden files and Excel's lock files (~$name.xlsx) when looking for questionnaires."""
    return p.is_file() and not p.name.startswith((".", "~$"))


def _resolve_folder(path: str | Path, clients_dir: Path | None) -> Path:
    candidate = Path(path)
    if candidate.is_dir():
        return candidate
    if clients_dir is None:
        raise QuestionnaireError([Problem(str(path), "folder", "no such client folder", value=str(path),
                                          expected="the path of a client folder (a bare client id needs "
                                                   "the clients folder)", code=ProblemCode.FILE_MISSING)],
                                 summary=f"client '{path}' not found")
    if not candidate.is_absolute() and len(candidate.parts) == 1 and (clients_dir / candidate).is_dir():
        return clients_dir / candidate
    known = sorted(p.name for p in clients_dir.iterdir() if p.is_dir()) if clients_dir.is_dir() else []
    raise QuestionnaireError([Problem(str(path), "folder", "no such client folder", value=str(path),
                                      expected=f"a client folder, or a client id in {clients_dir}"
                                      + (f" (known: {', '.join(known)})" if known else ""),
                                      code=ProblemCode.FILE_MISSING)],
                             summary=f"client '{path}' not found")


def _find_questionnaire(folder: Path, problems: list[Problem]) -> Path | None:
    found = sorted(p for p in folder.glob(f"{QUESTIONNAIRE_STEM}.*") if _usable(p))
    if not found:
        problems.append(Problem(str(folder), "folder", "no questionnaire in the client folder",
                                expected="one questionnaire.xlsx, questionnaire.yaml or questionnaire.csv",
                                code=ProblemCode.FILE_MISSING))
        return None
    if len(found) > 1:
        problems.append(Problem(str(folder), "folder", f"{len(found)} questionnaires in the client folder",
                                value=", ".join(p.name for p in found),
                                expected="exactly one questionnaire file (move older ones to earlier/<year>.*)",
                                code=ProblemCode.DUPLICATE))
        return None
    return found[0]


def _earlier_files(folder: Path, problems: list[Problem]) -> list[tuple[int, Path]]:
    directory = folder / "earlier"
    if not directory.is_dir():
        return []
    out: list[tuple[int, Path]] = []
    years: dict[int, Path] = {}
    for p in sorted(directory.iterdir()):
        if not _usable(p) or p.name.endswith(".profile.csv"):
            continue
        if not re.fullmatch(r"\d{4}", p.stem) or p.suffix.lower() not in FORMATS:
            problems.append(Problem(str(p), "file", "not an earlier audit name", value=p.name,
                                    expected="earlier/<year>.xlsx, .yaml or .csv, e.g. earlier/2024.yaml",
                                    code=ProblemCode.BAD_NAME))
            continue
        year = int(p.stem)
        if year in years:
            problems.append(Problem(str(p), "file", f"a second earlier audit for {year}",
                                    value=p.name, expected=f"one file per year (also found {years[year].name})",
                                    code=ProblemCode.DUPLICATE))
            continue
        years[year] = p
        out.append((year, p))
    return out


def load_client(path: str | Path, catalogue: Catalogue, *, clients_dir: str | Path | None = None) -> ClientFolder:
    """Load a client folder: the questionnaire, earlier audits, notes path.

    Parameters
    ----------
    path
        The client folder, or a client id (a folder name in `clients_dir`).
    catalogue
        The catalogue the answers are read against.
    clients_dir
        Where a bare client id is looked up (``Settings.clients_dir``); without it only a
        folder path is accepted.

    Returns
    -------
    ClientFolder
        The current questionnaire, the valid earlier audits (strictly earlier years) and the notes path.

    Raises
    ------
    QuestionnaireError
        Every problem of the current questionnaire, the earlier audits and the folder layout at once.
    """
    folder = _resolve_folder(path, Path(clients_dir) if clients_dir is not None else None)
    client_id = folder.name
    problems: list[Problem] = []
    current: ClientProfile | None = None
    qfile = _find_questionnaire(folder, problems)
    if qfile is not None:
        current, found = _collect(qfile, catalogue, client_id)
        problems += found
    earlier: list[ClientProfile] = []
    for year, p in _earlier_files(folder, problems):
        profile, found = _collect(p, catalogue, client_id)
        problems += found
        if profile is None:
            continue
        if profile.benchmark_year != year:
            problems.append(Problem(str(p), "profile key benchmark_year", "does not match the file name",
                                    value=profile.benchmark_year, expected=f"{year}, as in {p.name}",
                                    code=ProblemCode.INCONSISTENT))
        elif current is not None and year >= current.benchmark_year:
            problems.append(Problem(str(p), "file", "an earlier audit not before the current one",
                                    value=year, expected=f"a year before {current.benchmark_year}",
                                    code=ProblemCode.INCONSISTENT))
        else:
            earlier.append(profile)
    labels: tuple[LabelRecord, ...] = ()
    if (folder / HISTORY_FILE).is_file():
        audits = {p.benchmark_year: p.interview for p in (*earlier, *([current] if current else []))}
        labels = read_history(folder / HISTORY_FILE, audits, problems)
    if problems or current is None:
        raise QuestionnaireError(problems, summary=f"client '{client_id}' ({folder}): "
                                                   f"{len(problems)} problem(s)")
    notes = next((folder / n for n in NOTES_FILES if (folder / n).is_file()), None)
    return ClientFolder(client_id=client_id, path=folder, profile=current,
                        earlier=tuple(sorted(earlier, key=lambda e: e.benchmark_year)),
                        notes_path=notes, labels=labels,
                        warnings=prefill_warnings(current) + tuple(w for p in (*earlier, current) for w in p.warnings))


def prefill_warnings(profile: ClientProfile) -> tuple[Problem, ...]:
    """A prefilled questionnaire returned with every answer as it was prefilled: a warning.

    Why a warning and not an error: an unchanged value is read as this year's answer, and a
    client whose figures really did not move may return the file as it is; the auditor asks.
    """
    if profile.prefill is None or answers_fingerprint(profile.answers) != profile.prefill.check:
        return ()
    return (Problem(str(profile.source), "profile key prefill_check",
                    f"the questionnaire prefilled from {profile.prefill.source} came back with every "
                    "answer unchanged", expected="this year's answers (an unchanged value counts as this "
                    "year's answer: check with the client)", code=ProblemCode.UNCHANGED),)


def summary_line(folder: ClientFolder) -> str:
    """One line per client for `auditlib validate`."""
    p = folder.profile
    n, missing = len(p.answers), len(p.missing)
    k = len(folder.earlier)
    earlier = "no earlier audit" if k == 0 else f"{k} earlier audit{'s' if k > 1 else ''}"
    return (f"{folder.client_id}: {p.name} ({p.country}, {p.field}, founded {p.founding_year}, "
            f"benchmark {p.benchmark_year}): {n} indicators, {n - missing} answered, "
            f"{missing} not answered, {earlier}")

"""The report's parameters: the first cell after papermill's injection checks and resolves them.

Also used by the runner (`run_engagement`) to refuse a caller's mistake before any kernel starts.
"""

from __future__ import annotations

import datetime as _dt
import re
import types
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from auditlib.config import Settings
from auditlib.errors import ParameterError, Problem, ProblemCode
from auditlib.report.paths import CLIENT_ID, LANGUAGES

PARAMETERS: dict[str, tuple[tuple[type, ...], Any, str]] = {
    "client_id": ((str,), "nl-delta-water", "the client folder's name in the clients folder"),
    "lang": ((str,), "en", "report language: en or nl"),
    "peer_groups": ((str, list, tuple), "", "comma-separated peer groups, or a list; '' = catalogue default"),
    "benchmark": ((str,), "", "the benchmark file; '' = the default"),
    "earlier_audit": ((str, int), "", "the earlier audit to compare with: a year, a file, 'none'; "
                                      "'' = the latest in the client's earlier/ folder"),
    "engagement_id": ((str,), "", "the engagement's name; '' = the benchmark year"),
    "engagement_date": ((str,), "", "the engagement's date, YYYY-MM-DD; '' = none shown"),
    "anonymity_floor": ((int,), 0, "anonymity floor; 0 = the catalogue's (never below 5)"),
    "data_dir": ((str,), "", "data folder; '' = the default"),
    "catalogue_dir": ((str,), "", "catalogue folder; '' = <data>/catalogue"),
    "clients_dir": ((str,), "", "clients folder; '' = <data>/clients"),
    "export_dir": ((str,), "", "folder for scores.xlsx and run-info.json; '' = write nothing"),
    "excel": ((bool,), False, "write scores.xlsx into export_dir"),
    "exclude_id": ((str,), "", "the client's own record id in the benchmark database (only that one: "
                               "docs/confidentiality.md); '' = the questionnaire's benchmark_id, if any"),
    "scenarios": ((str,), "", "what-if scenarios of the meeting shown as a marked appendix: comma-separated "
                              "names saved in the client's scenarios.yaml; '' = none"),
}
# Names every IPython namespace holds besides the user's.
_IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})
_LITERAL_TYPES = (str, int, float, bool, list, tuple, dict, type(None))


@dataclass(frozen=True)
class ReportParameters:
    """The validated, resolved parameters of one report."""

    client_id: str
    lang: str
    groups: tuple[str, ...]
    earlier_audit: str
    engagement_id: str
    engagement_date: str
    anonymity_floor: int | None
    settings: Settings
    client_dir: Path
    export_dir: Path | None
    excel: bool
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    exclude_id: str | None = None        # checked by analyse(): only the client's own record


def split_groups(value: str | Sequence[str]) -> list[str]:
    """Peer groups from a list or a comma-separated string.

    A custom group's own commas stay with it: 'all,field,mine=field:ict|food,country:NL' is
    ['all', 'field', 'mine=field:ict|food,country:NL'].
    """
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    out: list[str] = []
    for part in str(value).split(","):
        part = part.strip()
        if not part:
            continue
        if out and "=" in out[-1] and ":" in part and "=" not in part:
            out[-1] += "," + part
        else:
            out.append(part)
    return out


def _check_groups(groups: list[str], problems: list[Problem]) -> None:
    from auditlib.peers import BUILT_IN, parse_custom

    seen = set()
    for g in groups:
        key = g.partition("=")[0].strip()
        if "=" in g:
            try:
                parse_custom(g)
            except ParameterError as exc:
                problems.extend(replace(q, place="peer_groups") for q in exc.problems)
        elif g not in BUILT_IN:
            problems.append(_problem("peer_groups", ProblemCode.UNKNOWN_ID,
                                     f"unknown peer group '{g}' (expected one of {', '.join(BUILT_IN)} "
                                     f"or a custom group 'name=column:value[|value],...')"))
        if key in seen:
            problems.append(_problem("peer_groups", ProblemCode.DUPLICATE, f"'{key}' is asked for twice"))
        seen.add(key)


def _earlier_choice(value: str, client_dir: Path, problems: list[Problem]) -> None:
    if value in ("", "none"):
        return
    if re.fullmatch(r"\d{4}", value):
        found = [p for p in (client_dir / "earlier").glob(f"{value}.*")
                 if p.is_file() and not p.name.endswith(".profile.csv")]
        if not found:
            have = sorted(p.stem for p in (client_dir / "earlier").glob("*.*")
                          if re.fullmatch(r"\d{4}", p.stem)) if (client_dir / "earlier").is_dir() else []
            problems.append(_problem("earlier_audit", ProblemCode.FILE_MISSING,
                                     f"no earlier audit of {value} in {client_dir / 'earlier'} "
                                     f"(found: {', '.join(have) or 'none'})"))
        return
    if not Path(value).is_file():
        problems.append(_problem("earlier_audit", ProblemCode.INVALID_PARAMETER,
                                 f"'{value}' is neither a year, 'none', nor an existing file"))


def validate_parameters(namespace: Mapping[str, Any], *, check_client: bool = True) -> ReportParameters:
    """Check the report parameters and resolve them; raise ParameterError listing every problem.

    `namespace` is the notebook's globals() after papermill's injection (papermill only warns
    on unknown parameters: here they are refused), or a plain dict of parameters. Names that
    start with '_', IPython's own names, modules and other non-literal objects are not
    parameters.
    """
    values = {name: default for name, (_types, default, _doc) in PARAMETERS.items()}
    problems: list[Problem] = []
    for name, value in namespace.items():
        if name.startswith("_") or name in _IPYTHON_NAMES or isinstance(value, types.ModuleType):
            continue
        if not isinstance(value, _LITERAL_TYPES):
            continue
        if name not in PARAMETERS:
            problems.append(_problem("", ProblemCode.UNKNOWN_KEY,
                                     f"unknown parameter '{name}' (known: {', '.join(PARAMETERS)})"))
            continue
        values[name] = value
    for name, (accepted, _default, doc) in PARAMETERS.items():
        value = values[name]
        ok = isinstance(value, accepted) and not (isinstance(value, bool) and bool not in accepted)
        if not ok:
            kinds = " or ".join(t.__name__ for t in accepted)
            problems.append(_problem(name, ProblemCode.WRONG_TYPE,
                                     f"expected {kinds}, got {type(value).__name__} {value!r} ({doc})"))
            values[name] = _default          # the value checks below then see the default

    lang = values["lang"]
    if lang not in LANGUAGES:
        problems.append(_problem("lang", ProblemCode.UNKNOWN_VALUE,
                                 f"'{lang}' is not a report language (expected one of {', '.join(LANGUAGES)})"))
    client_id = values["client_id"]
    if not CLIENT_ID.fullmatch(client_id or ""):
        problems.append(_problem("client_id", ProblemCode.BAD_NAME,
                                 f"'{client_id}' is not a client id (letters, digits, '.', '_', '-'; "
                                 f"starting with a letter or digit)"))
    engagement = values["engagement_id"]
    if engagement and not CLIENT_ID.fullmatch(engagement):
        problems.append(_problem("engagement_id", ProblemCode.BAD_NAME,
                                 f"'{engagement}' is not a usable folder name (letters, digits, "
                                 f"'.', '_', '-')"))
    date = values["engagement_date"]
    if date:
        try:
            _dt.date.fromisoformat(date)
        except ValueError:
            problems.append(_problem("engagement_date", ProblemCode.WRONG_TYPE,
                                     f"'{date}' is not a date (expected YYYY-MM-DD)"))
    floor = values["anonymity_floor"]
    from auditlib.catalogue import MIN_ANONYMITY_FLOOR

    if floor and floor < MIN_ANONYMITY_FLOOR:
        problems.append(_problem("anonymity_floor", ProblemCode.OUT_OF_RANGE,
                                 f"{floor} is below the minimum of {MIN_ANONYMITY_FLOOR} "
                                 f"(0 = the catalogue's floor)"))
    for name in ("data_dir", "catalogue_dir", "clients_dir"):
        if values[name] and not Path(values[name]).is_dir():
            problems.append(_problem(name, ProblemCode.FILE_MISSING, f"no such folder '{values[name]}'"))
    if values["benchmark"] and not Path(values["benchmark"]).is_file():
        problems.append(_problem("benchmark", ProblemCode.FILE_MISSING,
                                 f"no such file '{values['benchmark']}'"))
    if values["export_dir"] and not Path(values["export_dir"]).is_dir():
        problems.append(_problem("export_dir", ProblemCode.FILE_MISSING,
                                 f"no such folder '{values['export_dir']}'"))
    groups = split_groups(values["peer_groups"])
    _check_groups(groups, problems)
    settings = Settings.from_env(data_dir=values["data_dir"] or None,
                                 catalogue_dir=values["catalogue_dir"] or None,
                                 clients_dir=values["clients_dir"] or None,
                                 benchmark_path=values["benchmark"] or None)
    client_dir = settings.clients_dir / client_id
    if check_client and CLIENT_ID.fullmatch(client_id or ""):
        if not client_dir.is_dir():
            known = sorted(p.name for p in settings.clients_dir.iterdir()
                           if p.is_dir() and not p.name.startswith((".", "_"))) \
                if settings.clients_dir.is_dir() else []
            problems.append(_problem("client_id", ProblemCode.FILE_MISSING,
                                     f"no client '{client_id}' in {settings.clients_dir}"
                            + (f" (known: {', '.join(known)})" if known else "")))
        else:
            _earlier_choice(str(values["earlier_audit"]).strip(), client_dir, problems)
    if problems:
        _raise(problems)
    return ReportParameters(
        client_id=client_id, lang=lang, groups=tuple(groups),
        earlier_audit=str(values["earlier_audit"]).strip(), engagement_id=engagement,
        engagement_date=date, anonymity_floor=floor or None, settings=settings, client_dir=client_dir,
        export_dir=Path(values["export_dir"]) if values["export_dir"] else None, excel=values["excel"],
        raw=dict(values), exclude_id=str(values["exclude_id"]).strip() or None)


def _problem(name: str, code: ProblemCode, message: str) -> Problem:
    """One refused parameter: `name` is the parameter (its place), `message` what is wrong."""
    return Problem("", name, message, code=code)


def _raise(problems: list[Problem]) -> None:
    n = len(problems)
    raise ParameterError(problems, summary=f"{n} invalid report parameter{'s' if n > 1 else ''}")



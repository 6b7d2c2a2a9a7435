"""One questionnaire file: read with its format's reader, check the profile and every answer,
and return a ClientProfile or every problem found."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from auditlib import localnum
from auditlib.errors import Problem, ProblemCode, QuestionnaireError
from auditlib.intake import csv_reader, xlsx_reader, yaml_reader
from auditlib.intake.model import (
    EARLIEST_YEAR, EXPECTED_COUNTRY, FORMATS, ORG_AGE, REQUIRED_PROFILE_KEYS, ClientProfile, Prefill, _this_year,
)
from auditlib.intake.raw import FORMULA_EXPECTED, Formula, _Bad, _blank, _Raw, _suggest
from auditlib.intake.values import _country, _fmt, _plain_text, _text, _year, parse_answer

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue


def _check_profile(raw: _Raw, catalogue: Catalogue, problems: list[Problem]) -> dict[str, Any]:
    """The profile values, checked; a key that fails is left out (its problem is recorded)."""
    out: dict[str, Any] = {}
    words_expected = {"country": EXPECTED_COUNTRY, "field": "a technology field",
                      "founding_year": "a four-digit year such as 2012",
                      "benchmark_year": "the four-digit year the answers describe"}
    for key in REQUIRED_PROFILE_KEYS:
        if raw.have_profile and key not in raw.profile:
            problems.append(Problem(raw.profile_file, raw.profile_missing.format(key=key),
                                    f"missing profile key '{key}'", expected="this key with a value",
                                    code=ProblemCode.MISSING_KEY))
    for key, entry in raw.profile.items():
        try:
            if isinstance(entry.value, Formula):
                raise _Bad(f"cell {entry.value.cell}: a formula without a saved result (the value "
                           "cannot be read)", FORMULA_EXPECTED, ProblemCode.FORMULA)
            if _blank(entry.value):
                if key in REQUIRED_PROFILE_KEYS:
                    raise _Bad("no value", words_expected.get(key, f"the client's {key.replace('_', ' ')}"),
                               ProblemCode.MISSING_VALUE)
                out[key] = None
            elif key in ("founding_year", "benchmark_year"):
                out[key] = _year(entry.value)
            elif key == "interview":
                out[key] = _interview(entry.value)
            elif key == "country":
                out[key] = _country(entry.value)
            elif key == "field":
                field_id = catalogue.field_id(_text(entry.value))
                if field_id is None:
                    raise _Bad("unknown technology field", "a field id or its English or Dutch name: "
                               + ", ".join(catalogue.fields) + _suggest(_text(entry.value), catalogue.fields),
                               ProblemCode.UNKNOWN_VALUE)
                out[key] = field_id
            else:
                out[key] = _plain_text(_text(entry.value))
        except _Bad as bad:
            problems.append(Problem(entry.file, entry.place, bad.message, value=entry.value,
                                    expected=bad.expected, code=bad.code))
    now = _this_year()
    founded, year = out.get("founding_year"), out.get("benchmark_year")

    def reject(key: str, message: str, expected: str, code: ProblemCode = ProblemCode.OUT_OF_RANGE) -> None:
        entry = raw.profile[key]
        problems.append(Problem(entry.file, entry.place, message, value=entry.value, expected=expected,
                                code=code))
        out.pop(key, None)

    if founded is not None:
        if founded > now:
            reject("founding_year", "founding year in the future", f"a year up to {now}")
        elif founded < EARLIEST_YEAR:
            reject("founding_year", f"founding year before {EARLIEST_YEAR}", f"a year from {EARLIEST_YEAR} to {now}")
    if year is not None:
        if year > now:
            reject("benchmark_year", "benchmark year in the future", f"the year the answers describe, up to {now}")
        elif year < EARLIEST_YEAR:
            reject("benchmark_year", f"benchmark year before {EARLIEST_YEAR}", f"a year from {EARLIEST_YEAR} to {now}")
    founded, year = out.get("founding_year"), out.get("benchmark_year")
    if founded is not None and year is not None and year < founded:
        reject("benchmark_year", "benchmark year before the founding year",
               f"a year from the founding year ({founded}) on", ProblemCode.INCONSISTENT)
    interview = out.get("interview")
    if interview is not None and year is not None and interview[0] not in (year, year + 1):
        reject("interview", "interview month not in (or just after) the benchmark year",
               f"a month of {year} or {year + 1}, as YYYY-MM", ProblemCode.INCONSISTENT)
    if bool(out.get("prefilled_from")) != bool(out.get("prefill_check")):
        key = "prefill_check" if out.get("prefilled_from") else "prefilled_from"
        place = raw.profile[key].place if key in raw.profile else raw.profile_missing.format(key=key)
        problems.append(Problem(raw.profile_file, place, "prefill marker incomplete",
                                expected="both prefilled_from and prefill_check as the template wrote them, "
                                         "or neither", code=ProblemCode.MISSING_VALUE))
    return out


def _interview(value: Any) -> tuple[int, int]:
    """The interview month, 'YYYY-MM' (or a date cell) as (year, month)."""
    from auditlib.journey import Month

    try:
        m = Month.parse(value)
    except ValueError:
        raise _Bad("not a month", "the interview month as YYYY-MM, e.g. 2025-05", ProblemCode.WRONG_TYPE) from None
    return m.year, m.month


def _check_answers(raw: _Raw, profile: Mapping[str, Any], catalogue: Catalogue,
                   problems: list[Problem]) -> dict[str, float | None]:
    answers: dict[str, float | None] = {}
    convention = localnum.convention_of((e.value for e in raw.answers.values()), raw.number_style,
                                        raw.number_why)
    for ind in catalogue.indicators:
        entry = raw.answers.get(ind.id)
        if entry is None:
            if not raw.have_answers:
                continue
            problems.append(Problem(raw.answers_file, raw.answers_missing.format(key=ind.id),
                                    "no entry for this indicator", indicator=ind.id,
                                    expected="an entry for every indicator (the answer may be blank)",
                                    code=ProblemCode.MISSING_KEY))
            continue
        try:
            answers[ind.id] = parse_answer(entry.value, ind, convention)
        except _Bad as bad:
            problems.append(Problem(entry.file, entry.place, bad.message, value=entry.value,
                                    indicator=ind.id, expected=bad.expected, code=bad.code))
    _check_org_age(raw, profile, catalogue, answers, problems)
    return answers


def _check_org_age(raw: _Raw, profile: Mapping[str, Any], catalogue: Catalogue,
                   answers: dict[str, float | None], problems: list[Problem]) -> None:
    """The age follows from the years: derive it when blank, report it when it disagrees.

    The age indicator is the one with `role: org_age` in the catalogue, whatever its id.
    """
    ind = catalogue.role(ORG_AGE)
    if ind is None or ind.id not in answers:
        return
    age_id = ind.id
    founded, year = profile.get("founding_year"), profile.get("benchmark_year")
    if founded is None or year is None:
        return
    derived = float(year - founded)
    given = answers[age_id]
    if given is None:
        answers[age_id] = derived
    elif abs(given - derived) > 1:
        entry = raw.answers[age_id]
        problems.append(Problem(entry.file, entry.place, "does not agree with the founding and "
                                "benchmark years", value=entry.value, indicator=age_id,
                                expected=f"{_fmt(derived)} (benchmark_year {year} - founding_year "
                                         f"{founded}), give or take 1, or blank",
                                code=ProblemCode.INCONSISTENT))


def _collect(path: Path, catalogue: Catalogue, client_id: str) -> tuple[ClientProfile | None, list[Problem]]:
    """Read and validate one questionnaire; never raises for malformed input."""
    problems: list[Problem] = []
    file = str(path)
    try:
        if not path.is_file():
            problems.append(Problem(file, "file", "the file does not exist",
                                    expected="a questionnaire .xlsx, .yaml or .csv",
                                    code=ProblemCode.FILE_MISSING))
            return None, problems
        kind = FORMATS.get(path.suffix.lower())
        if kind is None:
            hint = " (save an .xls workbook as .xlsx)" if path.suffix.lower() == ".xls" else ""
            problems.append(Problem(file, "file", f"unsupported file type '{path.suffix}'",
                                    value=path.name, expected=".xlsx, .yaml or .csv" + hint,
                                    code=ProblemCode.WRONG_FILE_TYPE))
            return None, problems
        # looked up on the reader modules at call time (a test replaces one reader there)
        reader = {"xlsx": xlsx_reader._read_xlsx, "yaml": yaml_reader._read_yaml,
                  "csv": csv_reader._read_csv}[kind]
        raw = reader(path, catalogue, problems)
        if raw is None:
            return None, problems
        profile = _check_profile(raw, catalogue, problems)
        answers = _check_answers(raw, profile, catalogue, problems)
        if problems:
            return None, problems
        return ClientProfile(
            client_id=client_id, name=profile["name"], country=profile["country"],
            field=profile["field"], founding_year=profile["founding_year"],
            benchmark_year=profile["benchmark_year"], region=profile["region"],
            contact=profile["contact"], answers=answers, source=path,
            benchmark_id=profile.get("benchmark_id"),
            interview_month=profile["interview"][1] if profile.get("interview") else None,
            interview_year=profile["interview"][0] if profile.get("interview") else None,
            prefill=Prefill(str(profile["prefilled_from"]), str(profile["prefill_check"]))
            if profile.get("prefilled_from") and profile.get("prefill_check") else None,
            warnings=tuple(raw.renamed),
        ), problems
    except Exception as exc:  # last resort: malformed input must never show a traceback
        problems.append(Problem(file, "file", f"could not be read ({type(exc).__name__}: {exc})",
                                expected="a questionnaire in the documented format",
                                code=ProblemCode.PARSE_ERROR))
        return None, problems


def read_questionnaire(path: str | Path, catalogue: Catalogue, client_id: str) -> ClientProfile:
    """Read and validate one questionnaire file; raise QuestionnaireError with every problem."""
    path = Path(path)
    profile, problems = _collect(path, catalogue, client_id)
    if problems or profile is None:
        raise QuestionnaireError(problems, summary=f"{path}: {len(problems)} problem(s) in the questionnaire")
    return profile

"""A client's label history (`label_history.yaml` in the client folder), read and checked.

The file lists the labels the client holds or held, oldest first:

    labels:
      - {label: bronze, awarded: 2024-07, benchmark: 2024}
      - {label: silver, awarded: 2026-05, benchmark: 2026}

`label` is bronze, silver or gold; `awarded` the month the label was awarded (YYYY-MM);
`benchmark` the benchmark year of the audit it rests on, which must be one of the folder's
audits (the current questionnaire or earlier/<year>.*). Every problem is reported at once,
named by file and key: an unknown label, a month that is not YYYY-MM, a benchmark that is
not in the folder, an award before its benchmark's interview month, awards out of order.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any

from auditlib.errors import Problem, ProblemCode
from auditlib.intake.model import LabelRecord

KEYS = ("label", "awarded", "benchmark")
LABELS = ("bronze", "silver", "gold")


def read_history(path: Path, interviews: Mapping[int, tuple[int, int]],
                 problems: list[Problem]) -> tuple[LabelRecord, ...]:
    """The label history in `path`, checked against the folder's audits.

    Parameters
    ----------
    path : the label_history.yaml file
    interviews : benchmark year -> (year, month) of its interview, for every audit of the folder
    problems : every problem found is appended here (nothing is raised for bad input)

    Returns
    -------
    The valid records in file order (empty when the file has problems).
    """
    from auditlib import yamlsafe
    from auditlib.journey import Month

    file = str(path)
    found: list[Problem] = []
    try:
        data = yamlsafe.load_path(path)
    except Exception as exc:  # noqa: BLE001 - malformed YAML, alias bomb, unreadable: one problem, never a traceback
        problems.append(Problem(file, "file", f"could not be read ({type(exc).__name__}: {exc})",
                                expected="a YAML file with a 'labels:' list", code=ProblemCode.PARSE_ERROR))
        return ()
    if data is None:
        return ()
    if not isinstance(data, dict) or set(data) - {"labels"} or not isinstance(data.get("labels", []), list):
        problems.append(Problem(file, "file", "not a label history", value=type(data).__name__,
                                expected="a mapping with one key 'labels:' holding a list of "
                                         "{label, awarded, benchmark}", code=ProblemCode.STRUCTURE))
        return ()
    records: list[tuple[LabelRecord, str]] = []
    known = ", ".join(str(y) for y in sorted(interviews)) or "none"
    for i, entry in enumerate(data.get("labels") or []):
        place = f"key labels[{i + 1}]"
        if not isinstance(entry, dict):
            found.append(Problem(file, place, "not a label entry", value=entry,
                                 expected="{label: bronze|silver|gold, awarded: YYYY-MM, benchmark: <year>}",
                                 code=ProblemCode.STRUCTURE))
            continue
        for key in entry:
            if key not in KEYS:
                found.append(Problem(file, f"{place}.{key}", "unknown key", value=key,
                                     expected="one of " + ", ".join(KEYS), code=ProblemCode.UNKNOWN_KEY))
        for key in KEYS:
            if entry.get(key) in (None, ""):
                found.append(Problem(file, f"{place}.{key}", f"missing '{key}'", expected=_EXPECTED[key],
                                     code=ProblemCode.MISSING_KEY))
        label = str(entry.get("label") or "").strip().lower()
        ok = True
        if entry.get("label") not in (None, "") and label not in LABELS:
            found.append(Problem(file, f"{place}.label", "unknown label", value=entry.get("label"),
                                 expected=_EXPECTED["label"], code=ProblemCode.UNKNOWN_VALUE))
            ok = False
        awarded: Month | None = None
        if entry.get("awarded") not in (None, ""):
            try:
                awarded = Month.parse(entry["awarded"])
            except ValueError:
                found.append(Problem(file, f"{place}.awarded", "not a month", value=entry["awarded"],
                                     expected=_EXPECTED["awarded"], code=ProblemCode.WRONG_TYPE))
        year = _year(entry.get("benchmark"))
        if entry.get("benchmark") not in (None, "") and (year is None or year not in interviews):
            found.append(Problem(file, f"{place}.benchmark", "no such audit in the client folder",
                                 value=entry.get("benchmark"),
                                 expected=f"the benchmark year of one of the folder's audits ({known})",
                                 code=ProblemCode.UNKNOWN_ID))
            year = None
        if awarded is not None and year is not None:
            interview = Month(*interviews[year])
            if awarded < interview:
                found.append(Problem(file, f"{place}.awarded", "awarded before its benchmark interview",
                                     value=str(awarded), expected=f"{interview} or later (the interview of "
                                     f"benchmark {year})", code=ProblemCode.OUT_OF_ORDER))
                ok = False
        if ok and label in LABELS and awarded is not None and year is not None:
            records.append((LabelRecord(label, (awarded.year, awarded.month), year), place))
    for (before, _), (after, place) in pairwise(records):
        if after.awarded < before.awarded:
            found.append(Problem(file, f"{place}.awarded", "awards out of order",
                                 value=str(Month(*after.awarded)),
                                 expected=f"{Month(*before.awarded)} or later: the history lists labels oldest "
                                          "first", code=ProblemCode.OUT_OF_ORDER))
    problems += found
    return () if found else tuple(r for r, _ in records)


def _year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() and len(text) == 4 else None


_EXPECTED = {"label": "bronze, silver or gold",
             "awarded": "the month the label was awarded, as YYYY-MM (e.g. 2025-07)",
             "benchmark": "the benchmark year of the audit the label rests on (e.g. 2024)"}

"""Questionnaire intake: read a client's answers and profile, validate, return a ClientProfile.

API:

    ClientProfile             one questionnaire: profile and answers (frozen dataclass, intake.model)
    ClientFolder              a client's folder: the current questionnaire, earlier audits, notes path
    load_client(path, catalogue, *, clients_dir=None) -> ClientFolder
                              raises QuestionnaireError (all problems, each with its ProblemCode)
    read_questionnaire(path, catalogue, client_id) -> ClientProfile
    write_template(out_path, catalogue, lang="en") -> Path
    summary_line(folder: ClientFolder) -> str           one line for `auditlib validate`

A client folder (`data/clients/<client_id>/`, see data/clients/README.md):

    questionnaire.xlsx | questionnaire.yaml | questionnaire.csv   exactly one
    profile.csv                      the profile, only with questionnaire.csv (key,value rows)
    earlier/<year>.xlsx|yaml|csv     optional earlier audits, same formats
                                     (a CSV one has its profile in earlier/<year>.profile.csv)
    notes.yaml (or notes.md)         optional auditor's notes, owned by another module

The three formats carry the same content:

    YAML   `profile: {key: value}` and `answers: {indicator_id: value}`
    xlsx   sheet "profile" (columns key, value) and sheet "answers" (columns indicator_id,
           answer; other columns are for the reader's eyes); rows above the header row are
           ignored, so a sheet may open with an instructions line
    CSV    questionnaire.csv (columns indicator_id, answer) and profile.csv (key, value);
           comma or semicolon separated, UTF-8 (a BOM is fine)

Profile keys: name, country (ISO 3166 alpha-2), field (field id or EN/NL name),
founding_year, benchmark_year, region, contact; optional benchmark_id.
Every catalogue indicator needs an entry; a blank answer (or "not answered", "n/a",
"niet beantwoord", "n.v.t.") means not answered and stays None, never 0.

Validation collects every problem of every file and raises one QuestionnaireError; no
exception from malformed input escapes as a traceback.

The package, by concern (every name above stays importable from `auditlib.intake`):

    model.py          ClientProfile, ClientFolder, profile keys and answer words
    raw.py            entries with their place, shared by the readers; text files, header tables
    yaml_reader.py    xlsx_reader.py    csv_reader.py      one reader per format
    values.py         one answer, year, country or text: parsed, or refused with what was expected
    questionnaire.py  one file: read, check the profile and every answer (read_questionnaire)
    folder.py         a client's folder: questionnaire, earlier audits, notes (load_client)
"""

from __future__ import annotations

from typing import Any

from auditlib.intake.csv_reader import CSV_DELIMITERS, csv_profile_path
from auditlib.intake.folder import load_client, summary_line
from auditlib.intake.model import (
    EARLIEST_YEAR, EXPECTED_COUNTRY, FORMATS, NO, NON_ISO_CODES, NOT_ANSWERED, NOTES_FILES, OPTIONAL_PROFILE_KEYS,
    ORG_AGE, PREFILL_KEYS, PROFILE_KEYS, QUESTIONNAIRE_STEM, REQUIRED_PROFILE_KEYS, YES, ClientFolder, ClientProfile,
)
from auditlib.intake.questionnaire import read_questionnaire
from auditlib.intake.raw import FORMULA_EXPECTED, SUGGEST_LIMIT, Formula
from auditlib.intake.values import expected_text, parse_answer

__all__ = [
    "CSV_DELIMITERS", "EARLIEST_YEAR", "EXPECTED_COUNTRY", "FORMATS", "FORMULA_EXPECTED", "NO", "NON_ISO_CODES",
    "NOT_ANSWERED", "NOTES_FILES", "OPTIONAL_PROFILE_KEYS", "ORG_AGE", "PREFILL_KEYS", "PROFILE_KEYS",
    "QUESTIONNAIRE_STEM",
    "REQUIRED_PROFILE_KEYS", "SUGGEST_LIMIT", "YES", "ClientFolder", "ClientProfile", "Formula",
    "csv_profile_path", "expected_text", "load_client", "parse_answer", "read_questionnaire", "summary_line",
    "ANSWER_COLUMNS", "level_choices", "save_atomic", "write_template",
]

# The Excel template lives in auditlib/template.py; its names stay importable from here.
_TEMPLATE_NAMES = ("ANSWER_COLUMNS", "level_choices", "save_atomic", "write_template")


def __getattr__(name: str) -> Any:
    if name in _TEMPLATE_NAMES:
        from auditlib import template

        return getattr(template, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

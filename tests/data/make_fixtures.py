"""(Re)create the example clients (data/clients/) and the malformed questionnaires (tests/data/).

Run from the repository root:  .venv/bin/python tests/data/make_fixtures.py

Every file is generated from the values below, so the YAML, CSV and Excel forms stay
consistent with the catalogue. The Excel files start from `write_template` and are filled
with openpyxl; their zip timestamps are fixed so a re-run gives the same bytes (the
template's year validation follows the current year). All clients are FICTIONAL.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterable

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from auditlib.catalogue import Catalogue, load_catalogue  # noqa: E402
from auditlib.intake import csv_profile_path, write_template  # noqa: E402

FIXED_TIME = (2026, 1, 1, 0, 0, 0)
Pairs = list[tuple[str, Any]]
_DROP = object()   # in a scenario: leave this key out

# --- example clients (FICTIONAL) ----------------------------------------------------------

# Bronze-plus Dutch energy cluster; compare with its 2024 audit in earlier/2024.yaml.
DELTA_2026 = {
    "org_age": 14, "committed_members": 85, "member_types": 6, "sme_share": 62,
    "research_members": 9, "regional_concentration": 80,
    "management_fte": 3.2, "staff_experience": 6, "board_industry_share": 55,
    "member_involvement": 3, "written_strategy": "yes", "strategy_age": 2,
    "total_budget": 620, "public_funding_share": 58, "private_funding_share": 42,
    "funding_sources": 5, "secured_funding_years": 1, "fee_paying_share": 55,
    "service_types": 8, "service_usage": 52, "sme_service_effect": 1,
    "international_activities": 4, "transition_services": 6, "service_feedback": "yes",
    "events_per_year": 24, "working_groups": 6, "active_member_share": 41,
    "satisfaction_survey": "yes", "member_satisfaction": 76, "member_cooperations": 22,
    "joint_projects": 11, "media_mentions": 18, "success_stories": 6,
    "english_website": "yes", "eccp_profile": "yes", "awards_recognition": 2,
}
# Two years earlier, written in Dutch: big gains since (members, public share, fees,
# transition services, feedback, survey), one clear decline (active member share).
DELTA_2024 = {
    **DELTA_2026,
    "org_age": None, "committed_members": 58, "member_types": 5, "sme_share": 60,
    "research_members": 7, "regional_concentration": 83, "management_fte": "2,0",
    "staff_experience": 4, "board_industry_share": 50, "member_involvement": "2 - geraadpleegd",
    "written_strategy": "ja", "strategy_age": 4, "total_budget": 480,
    "public_funding_share": 72, "private_funding_share": 28, "funding_sources": 3,
    "fee_paying_share": 40, "service_types": 6, "service_usage": 38,
    "international_activities": 2, "transition_services": 2, "service_feedback": "nee",
    "events_per_year": 18, "working_groups": 5, "active_member_share": 52,
    "satisfaction_survey": "nee", "member_satisfaction": "niet beantwoord",
    "member_cooperations": 14, "joint_projects": 7, "media_mentions": 14, "success_stories": 3,
    "english_website": "ja", "eccp_profile": "nee", "awards_recognition": 1,
}
# Mature, Gold-like: passes every Gold quality threshold with room to spare.
LICHTWERK = {
    "org_age": None, "committed_members": 240, "member_types": 8, "sme_share": 68,
    "research_members": 26, "regional_concentration": 72,
    "management_fte": 9.5, "staff_experience": 12, "board_industry_share": 70,
    "member_involvement": "4 - co-deciding in board and working groups", "written_strategy": "yes",
    "strategy_age": 1, "total_budget": 2100, "public_funding_share": 35,
    "private_funding_share": 65, "funding_sources": 9, "secured_funding_years": 4,
    "fee_paying_share": 85, "service_types": 11, "service_usage": 78,
    "sme_service_effect": "4 - measured systematically", "international_activities": 30,
    "transition_services": 8, "service_feedback": "yes", "events_per_year": 45,
    "working_groups": 12, "active_member_share": 65, "satisfaction_survey": "yes",
    "member_satisfaction": 84, "member_cooperations": 60, "joint_projects": 28,
    "media_mentions": 75, "success_stories": 16, "english_website": "yes",
    "eccp_profile": "yes", "awards_recognition": 6,
}
# Young and small: founded 2023, 0.8 FTE, 20 members; no survey yet, so no satisfaction.
TEJO = {
    "org_age": None, "committed_members": 20, "member_types": 4, "sme_share": 80,
    "research_members": 3, "regional_concentration": 90,
    "management_fte": 0.8, "staff_experience": 2, "board_industry_share": 60,
    "member_involvement": 2, "written_strategy": "yes", "strategy_age": 1,
    "total_budget": 95, "public_funding_share": 85, "private_funding_share": 15,
    "funding_sources": 2, "secured_funding_years": 1, "fee_paying_share": 30,
    "service_types": 4, "service_usage": 45, "sme_service_effect": 1,
    "international_activities": 2, "transition_services": 1, "service_feedback": "no",
    "events_per_year": 8, "working_groups": 2, "active_member_share": 55,
    "satisfaction_survey": "no", "member_satisfaction": None, "member_cooperations": 4,
    "joint_projects": 2, "media_mentions": 5, "success_stories": 1,
    "english_website": "yes", "eccp_profile": "no", "awards_recognition": 0,
}
# Incomplete: six questions not answered (in the several ways the loader accepts).
HUERTA = {
    "org_age": None, "committed_members": 140, "member_types": 5, "sme_share": 78,
    "research_members": None, "regional_concentration": 85,
    "management_fte": 4, "staff_experience": "not answered", "board_industry_share": 75,
    "member_involvement": 3, "written_strategy": "yes", "strategy_age": 3,
    "total_budget": 780, "public_funding_share": 48, "private_funding_share": 52,
    "funding_sources": 6, "secured_funding_years": "n/a", "fee_paying_share": 70,
    "service_types": 7, "service_usage": 48, "sme_service_effect": "",
    "international_activities": 12, "transition_services": 3, "service_feedback": "yes",
    "events_per_year": 30, "working_groups": 5, "active_member_share": 35,
    "satisfaction_survey": "yes", "member_satisfaction": None, "member_cooperations": 25,
    "joint_projects": 9, "media_mentions": "not answered", "success_stories": 4,
    "english_website": "yes", "eccp_profile": "yes", "awards_recognition": 0,
}
WISLA = {
    "org_age": 12, "committed_members": 110, "member_types": 6, "sme_share": 82,
    "research_members": 8, "regional_concentration": 75,
    "management_fte": "3,5", "staff_experience": 7, "board_industry_share": 65,
    "member_involvement": 3, "written_strategy": "yes", "strategy_age": 2,
    "total_budget": 540, "public_funding_share": 62, "private_funding_share": 38,
    "funding_sources": 2, "secured_funding_years": 2, "fee_paying_share": 60,
    "service_types": 8, "service_usage": 50, "sme_service_effect": 2,
    "international_activities": 14, "transition_services": 5, "service_feedback": "yes",
    "events_per_year": 28, "working_groups": 7, "active_member_share": 28,
    "satisfaction_survey": "yes", "member_satisfaction": 79, "member_cooperations": 30,
    "joint_projects": 12, "media_mentions": 22, "success_stories": 5,
    "english_website": "yes", "eccp_profile": "yes", "awards_recognition": 2,
}
FJORD = {
    "org_age": None, "committed_members": 95, "member_types": 7, "sme_share": 58,
    "research_members": 11, "regional_concentration": 70,
    "management_fte": 4.5, "staff_experience": 9, "board_industry_share": 68,
    "member_involvement": 3, "written_strategy": "yes", "strategy_age": 2,
    "total_budget": 1150, "public_funding_share": 40, "private_funding_share": 60,
    "funding_sources": 7, "secured_funding_years": 1, "fee_paying_share": 75,
    "service_types": 9, "service_usage": 60, "sme_service_effect": 3,
    "international_activities": 22, "transition_services": 7, "service_feedback": "yes",
    "events_per_year": 32, "working_groups": 8, "active_member_share": 50,
    "satisfaction_survey": "yes", "member_satisfaction": 81, "member_cooperations": 40,
    "joint_projects": 18, "media_mentions": 40, "success_stories": 2,
    "english_website": "yes", "eccp_profile": "yes", "awards_recognition": 3,
}
# Three years earlier (FICTIONAL): a Bronze from 2023 that lapsed in 2025 before this benchmark.
FJORD_2023 = {**FJORD, "committed_members": 70, "management_fte": 3.0, "total_budget": 820,
              "public_funding_share": 55, "private_funding_share": 45, "international_activities": 12,
              "media_mentions": 22, "success_stories": 1}
NORDURLJOS = {
    "org_age": None, "committed_members": 38, "member_types": 5, "sme_share": 85,
    "research_members": 2, "regional_concentration": 88,
    "management_fte": 1.5, "staff_experience": 5, "board_industry_share": 70,
    "member_involvement": 2, "written_strategy": "yes", "strategy_age": 3,
    "total_budget": 210, "public_funding_share": 65, "private_funding_share": 35,
    "funding_sources": 4, "secured_funding_years": 2, "fee_paying_share": 45,
    "service_types": 6, "service_usage": 42, "sme_service_effect": 2,
    "international_activities": 6, "transition_services": 2, "service_feedback": "yes",
    "events_per_year": 14, "working_groups": 3, "active_member_share": 45,
    "satisfaction_survey": "yes", "member_satisfaction": 74, "member_cooperations": 12,
    "joint_projects": 4, "media_mentions": 30, "success_stories": 3,
    "english_website": "yes", "eccp_profile": "no", "awards_recognition": 1,
}


def _profile(name: str, country: str, field: str, founded: int, year: int, region: str,
             contact: str) -> dict[str, Any]:
    return {"name": name, "country": country, "field": field, "founding_year": founded,
            "benchmark_year": year, "region": region, "contact": contact}


CLIENTS: dict[str, dict[str, Any]] = {
    "nl-delta-water": {
        "format": "yaml", "answers": DELTA_2026,
        "about": "Bronze-plus Dutch energy and water cluster with an earlier audit (2024).",
        "profile": {**_profile("Deltawerk Water & Energie Cluster", "NL", "energy_environment", 2012, 2026,
                               "Zuid-Holland", "Marieke van Doorn, m.vandoorn@deltawerk.example"),
                    "interview": "2026-03"},
        "earlier": {2024: {"format": "yaml", "answers": DELTA_2024, "profile": {**_profile(
            "Deltawerk Water & Energie Cluster", "nl", "Energie en milieu", 2012, 2024,
            "Zuid-Holland", "Marieke van Doorn, m.vandoorn@deltawerk.example"), "interview": "2024-05"}}},
        # Bronze on the 2024 benchmark; Silver on this second benchmark, 22 months later
        "history": [{"label": "bronze", "awarded": "2024-07", "benchmark": 2024},
                    {"label": "silver", "awarded": "2026-05", "benchmark": 2026}],
    },
    "de-lichtwerk-photonics": {
        "format": "xlsx", "answers": LICHTWERK,
        "about": "Mature Gold-like photonics network, filled in the Excel template.",
        "profile": _profile("Lichtwerk Photonik-Netzwerk", "DE", "Micro, nano and optical technologies",
                            1998, 2026, "Thüringen", "Dr. Katrin Albers, albers@lichtwerk.example"),
    },
    "pt-tejo-biotech": {
        "format": "yaml", "answers": TEJO,
        "about": "Young, small biotech cluster (founded 2023, 0.8 FTE, 20 members).",
        "profile": _profile("Tejo BioHub Associação", "PT", "biotechnology", 2023, 2026, "Lisboa",
                            "Inês Carvalho, ines.carvalho@tejobiohub.example"),
    },
    "es-huerta-food": {
        "format": "yaml", "answers": HUERTA,
        "about": "Food cluster with six questions not answered (no errors).",
        "profile": _profile("Clúster Agroalimentario Huerta Viva", "ES", "food", 2008, 2026,
                            "Región de Murcia", "Javier Morales, jmorales@huertaviva.example"),
    },
    "pl-wisla-ict": {
        "format": "csv", "answers": WISLA,
        "about": "Polish ICT cluster delivered as CSV (questionnaire.csv + profile.csv).",
        "profile": _profile("Wisła Digital Cluster", "PL", "ict", 2014, 2026, "Pomorskie",
                            "Agnieszka Nowicka, a.nowicka@wisladigital.example"),
        # Bronze on this benchmark; the CSV gives no interview month (read as June 2026)
        "history": [{"label": "bronze", "awarded": "2026-08", "benchmark": 2026}],
    },
    "no-fjord-maritime": {
        "format": "yaml", "answers": FJORD,
        "about": "Non-EU (Norway) maritime cluster: strong, two Gold thresholds missed.",
        "profile": {**_profile("Vestkyst Havteknologi Klynge", "NO", "maritime", 2006, 2026, "Vestland",
                               "Ola Haugland, ola@vestkysthav.example"), "interview": "2026-02"},
        "earlier": {2023: {"format": "yaml", "answers": FJORD_2023, "profile": {**_profile(
            "Vestkyst Havteknologi Klynge", "NO", "maritime", 2006, 2023, "Vestland",
            "Ola Haugland, ola@vestkysthav.example"), "interview": "2023-04"}}},
        # a Bronze from the 2023 interview, expired 2025-04, before this benchmark
        "history": [{"label": "bronze", "awarded": "2023-06", "benchmark": 2023}],
    },
    "is-nordurljos-tourism": {
        "format": "yaml", "answers": NORDURLJOS,
        "about": "Small-country (Iceland) tourism cluster: its country peer group is below the floor.",
        "profile": _profile("Norðurljós Tourism Cluster", "IS", "sports_leisure_tourism", 2017, 2026,
                            "Norðurland eystra", "Sigrún Jónsdóttir, sigrun@nordurljos.example"),
    },
}

# --- malformed questionnaires (tests/data) -------------------------------------------------

BASE_PROFILE = _profile("Fixture Cluster (fictional)", "NL", "ict", 2012, 2026, "Utrecht",
                        "Test Contact, test@fixture.example")
BASE_ANSWERS = {**WISLA, "org_age": None, "management_fte": 3.5}


def _with(answers: dict[str, Any] | None = None, **profile: Any) -> tuple[dict, Pairs]:
    """The base questionnaire with some answers or profile values replaced (None drops a key)."""
    prof = {**BASE_PROFILE, **profile}
    prof = {k: v for k, v in prof.items() if v is not _DROP}
    ans = {**BASE_ANSWERS, **(answers or {})}
    return prof, [(k, v) for k, v in ans.items() if v is not _DROP]


# file name -> (what it carries, builder); YAML unless the suffix says otherwise.
YAML_SCENARIOS: dict[str, tuple[str, Any]] = {
    "share_above_100.yaml": ("sme_share is 120 (a share above 100%)", _with({"sme_share": 120})),
    "share_below_0.yaml": ("public_funding_share is -5 (a share below 0%)",
                           _with({"public_funding_share": -5})),
    "negative_count.yaml": ("committed_members is -3", _with({"committed_members": -3})),
    "above_max.yaml": ("member_types is 12, above its maximum of 9", _with({"member_types": 12})),
    "text_in_number.yaml": ("total_budget is 'about half a million'",
                            _with({"total_budget": "about half a million"})),
    "non_integer_count.yaml": ("events_per_year is 12.5 (a count must be whole)",
                               _with({"events_per_year": 12.5})),
    "non_integer_ordinal.yaml": ("member_involvement is 2.5 (an ordinal level must be whole)",
                                 _with({"member_involvement": 2.5})),
    "ordinal_not_a_level.yaml": ("sme_service_effect is 'quite good' (not a level)",
                                 _with({"sme_service_effect": "quite good"})),
    "yes_no_unrecognised.yaml": ("english_website is 'maybe'", _with({"english_website": "maybe"})),
    "unknown_country.yaml": ("country is 'XX'", _with(country="XX")),
    "unknown_field.yaml": ("field is 'quantum computing'", _with(field="quantum computing")),
    "future_founding_year.yaml": ("founding_year is 2099", _with(founding_year=2099)),
    "founding_before_1900.yaml": ("founding_year is 1850", _with(founding_year=1850)),
    "future_benchmark_year.yaml": ("benchmark_year is 2099", _with(benchmark_year=2099)),
    "benchmark_before_founding.yaml": ("benchmark_year 2012 before founding_year 2015",
                                       _with(founding_year=2015, benchmark_year=2012)),
    "missing_profile_key.yaml": ("the profile has no 'contact'", _with(contact=_DROP)),
    "unknown_profile_key.yaml": ("the profile has an unknown key 'adress'", _with(adress="Main St 1")),
    "unknown_indicator.yaml": ("an extra answer for 'member_satisfation' (misspelt)",
                               (BASE_PROFILE, [*_with()[1], ("member_satisfation", 80)])),
    "missing_indicator.yaml": ("no entry at all for joint_projects", _with({"joint_projects": _DROP})),
    "duplicate_indicator.yaml": ("events_per_year given twice",
                                 (BASE_PROFILE, [*_with()[1], ("events_per_year", 30)])),
    "org_age_mismatch.yaml": ("org_age 25 while 2026 - 2012 = 14", _with({"org_age": 25})),
}
TEXT_SCENARIOS: dict[str, tuple[str, bytes]] = {
    "malformed.yaml": ("broken YAML (an unclosed quote)",
                       b"profile:\n  name: \"Fixture Cluster\n  country: NL\nanswers:\n  sme_share: 50\n"),
    "empty.yaml": ("an empty file", b""),
    "not_a_mapping.yaml": ("a YAML list instead of the profile/answers mapping", b"- profile\n- answers\n"),
    "missing_section.yaml": ("no 'answers' section",
                             b"profile:\n  name: Fixture Cluster\n  country: NL\n  field: ict\n"
                             b"  founding_year: 2012\n  benchmark_year: 2026\n  region: Utrecht\n"
                             b"  contact: Test Contact\n"),
    "not_utf8.yaml": ("saved as Latin-1, not UTF-8", "profile:\n  name: Zürich Cluster\n".encode("latin-1")),
    "wrong_file_type.xls": ("an old .xls workbook (not supported)", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(56)),
    "corrupt.xlsx": ("an .xlsx that is not a workbook (not a zip archive)",
                     b"PK\x03\x04 this is not really an Excel workbook\n"),
}
CSV_SCENARIOS = {
    "duplicate_indicator.csv": ("events_per_year on two rows (profile in duplicate_indicator.profile.csv)",
                                (BASE_PROFILE, [*_with()[1], ("events_per_year", 30)]), True),
    "missing_profile.csv": ("no missing_profile.profile.csv next to it", _with(), False),
}
XLSX_SCENARIOS = {
    "text_in_number.xlsx": "management_fte is 'about two' (sheet 'answers', row 9)",
    "missing_sheet.xlsx": "the workbook has no 'answers' sheet",
    "several_problems.xlsx": "ten problems at once: see the list below",
}
SEVERAL = [
    "country 'XX' (unknown country)", "founding_year 2099 (in the future)",
    "no 'contact' row (missing profile key)", "committed_members -3 (negative)",
    "sme_share 120 (share above 100%)", "total_budget 'unknown' (text in a number field)",
    "english_website 'misschien' (yes/no not recognised)", "events_per_year on a second row (duplicate)",
    "'media_mention' (unknown indicator)", "no awards_recognition row (missing indicator)",
]


# --- writers ------------------------------------------------------------------------------

def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value in ("yes", "no"):
        return value   # YAML reads these as true/false, which the loader takes as 1/0
    if re.fullmatch(r"[A-Za-z][\w .,@&()/'-]*", value) and yaml.safe_load(value) == value:
        return value   # plain when YAML reads it back as the same string
    return json.dumps(value, ensure_ascii=False)   # a JSON string is a valid YAML scalar


def yaml_text(profile: dict[str, Any], answers: Pairs, catalogue: Catalogue, title: str) -> str:
    lines = [f"# {title}", "# FICTIONAL client; generated by tests/data/make_fixtures.py.", "profile:"]
    lines += [f"  {k}: {_scalar(v)}".rstrip() for k, v in profile.items()]
    lines.append("answers:")
    dimension = None
    for key, value in answers:
        ind = catalogue.by_id.get(key)
        if ind is not None and ind.dimension != dimension:
            dimension = ind.dimension
            lines.append(f"  # {catalogue.dimension(dimension).name.en}")
        note = f"  # {ind.name.en} ({ind.unit.en})" if ind is not None else ""
        lines.append(f"  {key}: {_scalar(value)}".rstrip() + note)
    return "\n".join(lines) + "\n"


def csv_text(header: tuple[str, str], rows: Iterable[tuple[str, Any]]) -> str:
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for key, value in rows:
        writer.writerow([key, "" if value is None else value])
    return buf.getvalue()


def _normalise_xlsx(path: Path) -> None:
    """Fix the zip and document timestamps so the same content gives the same bytes."""
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    path.write_bytes(buf.getvalue())


def filled_workbook(path: Path, catalogue: Catalogue, profile: dict[str, Any], answers: Pairs,
                    comments: dict[str, str] | None = None):
    """The template filled in as a client would: values in 'value' and 'answer' cells."""
    import openpyxl

    write_template(path, catalogue)
    wb = openpyxl.load_workbook(path)
    ws = wb["profile"]
    rows = {ws.cell(row=r, column=1).value: r for r in range(3, ws.max_row + 1)}
    for key, value in profile.items():
        row = rows.pop(key, None)
        if row is None:   # an extra key at the end
            row = ws.max_row + 1
            ws.cell(row=row, column=1, value=key)
        ws.cell(row=row, column=2, value=value)
    for row in sorted(rows.values(), reverse=True):   # keys not in `profile`: drop their row
        ws.delete_rows(row)
    ws = wb["answers"]
    header = [c.value for c in ws[2]]
    col_id, col_answer = header.index("indicator_id") + 1, header.index("answer") + 1
    col_comment = header.index("comment") + 1
    rows = {ws.cell(row=r, column=col_id).value: r for r in range(3, ws.max_row + 1)}
    for key, value in answers:
        row = rows.pop(key, None)
        if row is None:   # an extra (duplicate or unknown) row at the end
            row = ws.max_row + 1
            ws.cell(row=row, column=col_id, value=key)
        ws.cell(row=row, column=col_answer, value=value)
        if comments and key in comments:
            ws.cell(row=row, column=col_comment, value=comments[key])
    for row in sorted(rows.values(), reverse=True):   # indicators not in `answers`: drop their row
        ws.delete_rows(row)
    return wb


def save(wb: Any, path: Path) -> None:
    wb.properties.creator = "make_fixtures"
    wb.save(path)
    _normalise_xlsx(path)


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def _pairs(answers: dict[str, Any]) -> Pairs:
    return list(answers.items())


def write_questionnaire(path: Path, fmt: str, profile: dict, answers: Pairs, catalogue: Catalogue,
                        title: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "yaml":
        _write(path, yaml_text(profile, answers, catalogue, title))
    elif fmt == "csv":
        _write(path, csv_text(("indicator_id", "answer"), answers))
        _write(csv_profile_path(path), csv_text(("key", "value"), profile.items()))
    else:
        save(filled_workbook(path, catalogue, profile, answers), path)


def build_clients(root: Path, catalogue: Catalogue) -> None:
    clients = root / "data" / "clients"
    for client_id, spec in CLIENTS.items():
        folder = clients / client_id
        title = f"{client_id}: {spec['about']}"
        if spec["format"] == "xlsx":
            comments = {"total_budget": "2025 accounts", "media_mentions": "press clippings 2025"}
            wb = filled_workbook(folder / "questionnaire.xlsx", catalogue, spec["profile"],
                                 _pairs(spec["answers"]), comments)
            save(wb, folder / "questionnaire.xlsx")
        else:
            write_questionnaire(folder / f"questionnaire.{spec['format']}", spec["format"],
                                spec["profile"], _pairs(spec["answers"]), catalogue, title)
        for year, old in spec.get("earlier", {}).items():
            language = " (answers in Dutch)" if old["profile"]["country"] == "nl" else ""
            write_questionnaire(folder / "earlier" / f"{year}.{old['format']}", old["format"],
                                old["profile"], _pairs(old["answers"]), catalogue,
                                f"{client_id}: the audit of {year}{language}")
        if "history" in spec:
            _write(folder / "label_history.yaml", history_text(client_id, spec["history"]))


def history_text(client_id: str, history: list[dict[str, Any]]) -> str:
    """A client's label_history.yaml (labels oldest first)."""
    lines = [f"# {client_id}: label history (FICTIONAL); generated by tests/data/make_fixtures.py.",
             "# label: bronze|silver|gold; awarded: YYYY-MM; benchmark: the audit's benchmark year.",
             "labels:"]
    lines += [f"  - {{label: {h['label']}, awarded: {h['awarded']}, benchmark: {h['benchmark']}}}" for h in history]
    return "\n".join(lines) + "\n"


def _several_problems(path: Path, catalogue: Catalogue) -> None:
    profile = {**BASE_PROFILE, "country": "XX", "founding_year": 2099}
    del profile["contact"]
    answers = {**BASE_ANSWERS, "committed_members": -3, "sme_share": 120, "total_budget": "unknown",
               "english_website": "misschien"}
    del answers["awards_recognition"]
    pairs = [*answers.items(), ("events_per_year", 30), ("media_mention", 12)]
    save(filled_workbook(path, catalogue, profile, pairs), path)


def _bomb(levels: int = 9, key: str = "x-shared") -> str:
    """A 'billion laughs' YAML block: 9 levels of 9 aliases, about 400 bytes, 387 million values."""
    lines = [f"{key}:", '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _replace_line(text: str, key: str, value: str) -> str:
    """The YAML text with `key:`'s value written as given (raw, not as _scalar would)."""
    out = re.sub(rf"(?m)^(  {key}: )[^#\n]*?(\s*#|$)", lambda m: m.group(1) + value + m.group(2), text, count=1)
    assert out != text, key
    return out


# An OLE2 compound file as Excel writes a workbook protected with a password to open: the
# directory names the streams EncryptionInfo and EncryptedPackage (contents are irrelevant).
def _encrypted_workbook() -> bytes:
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    header += bytes(512 - len(header))
    entries = b""
    for name in ("Root Entry", "EncryptionInfo", "EncryptedPackage"):
        raw = name.encode("utf-16-le") + b"\x00\x00"
        entries += raw + bytes(64 - len(raw)) + len(raw).to_bytes(2, "little") + bytes(128 - 66)
    return header + entries + bytes(1024 - len(entries))


def _filled(path: Path, catalogue: Catalogue, answers: dict[str, Any] | None = None):
    profile, pairs = _with(answers)
    return filled_workbook(path, catalogue, profile, pairs)


def _answer_cell(wb: Any, indicator: str) -> Any:
    ws = wb["answers"]
    header = [c.value for c in ws[2]]
    for r in range(3, ws.max_row + 1):
        if ws.cell(row=r, column=header.index("indicator_id") + 1).value == indicator:
            return ws.cell(row=r, column=header.index("answer") + 1)
    raise KeyError(indicator)


def build_robustness(data: Path, catalogue: Catalogue) -> list[str]:
    """Fixtures for misreads, YAML bombs and hostile names (issue 10); returns README lines."""
    readme = []
    profile, pairs = _with()
    base = yaml_text(profile, pairs, catalogue, "Scenario: {what}")
    texts = {
        "ambiguous_thousands.yaml": ("total_budget is \"1.250\" (1250 in Dutch style, 1.25 in English style)",
                                     _replace_line(base, "total_budget", '"1.250"')),
        "ambiguous_thousands_unquoted.yaml": ("total_budget is 1.250 unquoted (YAML itself would read 1.25)",
                                              _replace_line(base, "total_budget", "1.250")),
        "alias_bomb.yaml": ("a 'billion laughs' block of nested YAML aliases next to valid sections",
                            base + _bomb()),
    }
    for name, (what, text) in texts.items():
        _write(data / name, text.replace("{what}", what))
        readme.append(f"| `{name}` | {what} |")
    _write(data / "ambiguous_thousands.csv",
           csv_text(("indicator_id", "answer"), [(k, "1,250" if k == "total_budget" else v) for k, v in pairs]))
    _write(data / "ambiguous_thousands.profile.csv", csv_text(("key", "value"), profile.items()))
    readme.append('| `ambiguous_thousands.csv` | total_budget is "1,250" in a comma-separated file |')
    lines = csv_text(("indicator_id", "answer"), pairs).replace("management_fte,3.5", "management_fte,3,5")
    _write(data / "decimal_comma_unquoted.csv", lines)
    _write(data / "decimal_comma_unquoted.profile.csv", csv_text(("key", "value"), profile.items()))
    readme.append("| `decimal_comma_unquoted.csv` | `management_fte,3,5`: a decimal comma splits the row |")

    wb = _filled(data / "formula_without_value.xlsx", catalogue)
    _answer_cell(wb, "total_budget").value = "=500+40"     # openpyxl stores no computed result
    save(wb, data / "formula_without_value.xlsx")
    readme.append("| `formula_without_value.xlsx` | total_budget is a formula the workbook has no result for |")
    wb = _filled(data / "duplicate_sheets.xlsx", catalogue)
    extra = wb.copy_worksheet(wb["answers"])
    extra.title = "Answers "
    extra.sheet_state = "hidden"
    save(wb, data / "duplicate_sheets.xlsx")
    readme.append("| `duplicate_sheets.xlsx` | a hidden sheet 'Answers ' beside 'answers' |")
    wb = _filled(data / "merged_answers.xlsx", catalogue, {"working_groups": None})
    cell = _answer_cell(wb, "events_per_year")
    wb["answers"].merge_cells(start_row=cell.row, start_column=cell.column, end_row=cell.row + 1,
                              end_column=cell.column)
    save(wb, data / "merged_answers.xlsx")
    readme.append("| `merged_answers.xlsx` | the answers of events_per_year and working_groups are one merged cell |")
    _write(data / "encrypted.xlsx", _encrypted_workbook())
    readme.append("| `encrypted.xlsx` | a workbook protected with a password to open (an OLE2 file) |")

    folders = data / "folders"
    hostile = {
        "alias_bomb_notes": ("notes.yaml is a 'billion laughs' file", {}),
        "control_characters_name": ("the name holds terminal escapes, a bell, a lone surrogate pair",
                                    {"name": "Tomato \ud83c\udf45 \x1b[31mRED\x1b[0m\x07\x01 Cluster"}),
        "formula_name": ("the name is an Excel formula", {"name": '=HYPERLINK("http://x.example","click")'}),
        "link_name": ("the name is a Markdown link and a URL",
                      {"name": "[click me](http://x.example) www.x.example https://x.example/a"}),
        "index.html": ("a valid client whose folder is named like the portfolio page", {}),
        "portfolio.json": ("a valid client whose folder is named like the portfolio data", {}),
    }
    for folder, (what, prof) in hostile.items():
        text = yaml_text(profile, pairs, catalogue, what)
        if "name" in prof:    # JSON's ASCII escapes are YAML escapes: lone surrogates survive the file
            text = _replace_line(text, "name", json.dumps(prof["name"]))
        _write(folders / folder / "questionnaire.yaml", text)
        readme.append(f"- `{folder}/`: {what}")
    _write(folders / "alias_bomb_notes" / "notes.yaml",
           "# Billion laughs: must be refused, not expanded\nnotes:\n  - anchor: overall\n    text: hello\n"
           + _bomb(key="improvement_areas_shared"))
    return readme


def build_tests(root: Path, catalogue: Catalogue) -> None:
    data = root / "tests" / "data"
    readme = ["# Malformed questionnaires", "",
              "Generated by `make_fixtures.py`; each file carries exactly one problem unless said "
              "otherwise. `tests/test_intake.py` asserts the message each one yields.", "",
              "| file | problem |", "|---|---|"]
    for name, (what, (profile, answers)) in YAML_SCENARIOS.items():
        _write(data / name, yaml_text(profile, answers, catalogue, f"Scenario: {what}"))
        readme.append(f"| `{name}` | {what} |")
    for name, (what, content) in TEXT_SCENARIOS.items():
        _write(data / name, content)
        readme.append(f"| `{name}` | {what} |")
    for name, (what, (profile, answers), with_profile) in CSV_SCENARIOS.items():
        _write(data / name, csv_text(("indicator_id", "answer"), answers))
        if with_profile:
            _write(csv_profile_path(data / name), csv_text(("key", "value"), profile.items()))
        readme.append(f"| `{name}` | {what} |")

    pairs = _with()[1]
    wb = filled_workbook(data / "text_in_number.xlsx", catalogue, BASE_PROFILE,
                         [(k, "about two" if k == "management_fte" else v) for k, v in pairs])
    save(wb, data / "text_in_number.xlsx")
    wb = filled_workbook(data / "missing_sheet.xlsx", catalogue, BASE_PROFILE, pairs)
    del wb["answers"]
    save(wb, data / "missing_sheet.xlsx")
    _several_problems(data / "several_problems.xlsx", catalogue)
    for name, what in XLSX_SCENARIOS.items():
        readme.append(f"| `{name}` | {what} |")
    readme += ["", "`several_problems.xlsx` carries:", ""] + [f"- {s}" for s in SEVERAL]

    folders = data / "folders"
    _write(folders / "no_questionnaire" / "notes.md", "# Notes without a questionnaire\n")
    profile, answers = _with()
    write_questionnaire(folders / "two_questionnaires" / "questionnaire.yaml", "yaml", profile, answers,
                        catalogue, "one of two questionnaires")
    write_questionnaire(folders / "two_questionnaires" / "questionnaire.csv", "csv", profile, answers,
                        catalogue, "one of two questionnaires")
    p, a = YAML_SCENARIOS["share_above_100.yaml"][1]
    write_questionnaire(folders / "broken_current_and_earlier" / "questionnaire.yaml", "yaml", p, a,
                        catalogue, "current audit: sme_share 120")
    p, a = _with({"committed_members": -3}, benchmark_year=2024)
    write_questionnaire(folders / "broken_current_and_earlier" / "earlier" / "2024.yaml", "yaml", p, a,
                        catalogue, "earlier audit: committed_members -3")
    write_questionnaire(folders / "earlier_wrong_year" / "questionnaire.yaml", "yaml", profile, answers,
                        catalogue, "current audit, fine")
    p, a = _with(benchmark_year=2023)
    write_questionnaire(folders / "earlier_wrong_year" / "earlier" / "2024.yaml", "yaml", p, a,
                        catalogue, "file says 2024, profile says 2023")
    readme += ["", "Client folders (`folders/`):", "",
               "- `no_questionnaire/`: only notes, no questionnaire file",
               "- `two_questionnaires/`: questionnaire.yaml and questionnaire.csv side by side",
               "- `broken_current_and_earlier/`: sme_share 120 now, committed_members -3 in "
               "earlier/2024.yaml (reported together)",
               "- `earlier_wrong_year/`: earlier/2024.yaml whose benchmark_year is 2023"]
    robust = build_robustness(data, catalogue)
    readme[readme.index("") if False else readme.index("`several_problems.xlsx` carries:") - 1:
           readme.index("`several_problems.xlsx` carries:") - 1] = [r for r in robust if r.startswith("|")]
    readme += [r for r in robust if r.startswith("-")]
    _write(data / "README.md", "\n".join(readme) + "\n")


def build(root: Path = REPO, catalogue: Catalogue | None = None) -> None:
    catalogue = catalogue or load_catalogue(REPO / "data" / "catalogue")
    build_clients(root, catalogue)
    build_tests(root, catalogue)


if __name__ == "__main__":
    build()
    print("fixtures written under", REPO)

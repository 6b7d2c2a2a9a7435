"""The Excel questionnaire template (`auditlib template`), written from the catalogue.

Split from the intake (which reads what clients send back): the template is the catalogue
rendered for a client, with data validation on every answer cell and dropdowns for fields and
levels; intake re-exports `write_template`, `level_choices` and `save_atomic`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditlib.errors import ParameterError
from auditlib.files import atomic_write
from auditlib.intake.model import EARLIEST_YEAR, PREFILL_KEYS, PROFILE_KEYS, _this_year
from auditlib.intake.values import _fmt

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue, Indicator


_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "profile_intro": "Fill in column 'value' for every key. country: ISO 3166 alpha-2 code "
                         "(NL, DE, FR...); field: choose from the list; years as four digits.",
        "answers_intro": "Answer in column 'answer', one per row. Leave it blank when not answered "
                         "(blank is not 0). Pick yes/no and levels from the dropdown.",
        "age_blank": " {age} may stay blank: it follows from the years.",
        "help": {
            "name": "Name of the cluster organisation",
            "country": "Country: ISO 3166 alpha-2 code, e.g. NL, DE, FR, ES, NO",
            "field": "Technology field (choose from the list)",
            "founding_year": "Year the cluster organisation was founded",
            "benchmark_year": "Year the answers describe (not in the future)",
            "region": "Home region of the cluster",
            "contact": "Cluster manager and e-mail address",
            "benchmark_id": "Optional: the record id in the benchmark database, e.g. CO-00042",
            "interview": "Month of the benchmark interview, as YYYY-MM (e.g. 2025-05)",
            "prefilled_from": "Prefilled from this earlier audit: leave as it is",
            "prefill_check": "Tells the workbench what was prefilled: leave as it is",
        },
        "prefilled": "PREFILLED with your answers of {source} (shaded cells): change what has changed "
                     "since; a value left as it is counts as this year's answer.",
        "yes_no": ("yes", "no"), "yes_no_range": "yes / no", "levels": "level",
        "prompt": "Answer", "error_title": "Invalid answer", "expected": "Expected",
    },
    "nl": {
        "profile_intro": "Vul kolom 'value' in voor elke sleutel. country: ISO 3166 alpha-2-code "
                         "(NL, DE, FR...); field: kies uit de lijst; jaartallen met vier cijfers.",
        "answers_intro": "Antwoord in kolom 'answer', één per rij. Laat leeg als er geen antwoord is "
                         "(leeg is niet 0). Kies ja/nee en niveaus uit de keuzelijst.",
        "age_blank": " {age} mag leeg blijven: die volgt uit de jaartallen.",
        "help": {
            "name": "Naam van de clusterorganisatie",
            "country": "Land: ISO 3166 alpha-2-code, bijv. NL, BE, DE, FR",
            "field": "Technologieveld (kies uit de lijst)",
            "founding_year": "Jaar van oprichting van de clusterorganisatie",
            "benchmark_year": "Jaar waarop de antwoorden betrekking hebben (niet in de toekomst)",
            "region": "Thuisregio van het cluster",
            "contact": "Clustermanager en e-mailadres",
            "benchmark_id": "Optioneel: het recordnummer in de benchmarkdatabase, bijv. CO-00042",
            "interview": "Maand van het benchmarkinterview, als JJJJ-MM (bijv. 2025-05)",
            "prefilled_from": "Vooraf ingevuld uit deze eerdere audit: niet wijzigen",
            "prefill_check": "Vertelt de werkbank wat vooraf is ingevuld: niet wijzigen",
        },
        "prefilled": "VOORAF INGEVULD met uw antwoorden van {source} (gekleurde cellen): pas aan wat "
                     "sindsdien veranderd is; een ongewijzigde waarde geldt als het antwoord van dit jaar.",
        "yes_no": ("ja", "nee"), "yes_no_range": "ja / nee", "levels": "niveau",
        "prompt": "Antwoord", "error_title": "Ongeldig antwoord", "expected": "Verwacht",
    },
}
ANSWER_COLUMNS = ("indicator_id", "dimension", "indicator", "unit", "range", "question", "answer", "comment")


def _range_text(ind: Indicator, lang: str) -> str:
    words = _WORDS[lang]
    if ind.kind == "yes_no":
        return words["yes_no_range"]
    if ind.kind == "ordinal":
        return f"{words['levels']} {_fmt(ind.min)}-{_fmt(ind.max)}"
    suffix = " %" if ind.kind == "share" else ""
    return f"{_fmt(ind.min)}-{_fmt(ind.max)}{suffix}"


def level_choices(ind: Indicator, lang: str = "en") -> list[str]:
    """The dropdown entries of an ordinal indicator: "0 - not involved", ..."""
    return [f"{k} - {v[lang]}" for k, v in sorted((ind.levels or {}).items())]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _answer_validation(ind: Indicator, lang: str, lists: dict[str, str]):
    from openpyxl.worksheet.datavalidation import DataValidation

    words = _WORDS[lang]
    if ind.kind == "yes_no":
        dv = DataValidation(type="list", formula1='"' + ",".join(words["yes_no"]) + '"')
    elif ind.kind == "ordinal":
        dv = DataValidation(type="list", formula1=lists[ind.id])
    else:
        dv = DataValidation(type="whole" if ind.kind == "count" else "decimal", operator="between",
                            formula1=_fmt(ind.min), formula2=_fmt(ind.max))
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.showInputMessage = True
    dv.errorTitle = words["error_title"]
    dv.error = _short(f"{words['expected']}: {_range_text(ind, lang)} ({ind.unit[lang]})", 225)
    dv.promptTitle = words["prompt"]
    dv.prompt = _short(f"{ind.name[lang]}: {_range_text(ind, lang)} ({ind.unit[lang]})", 250)
    return dv


def _build_template(catalogue: Catalogue, lang: str):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    words = _WORDS[lang]
    bold = Font(bold=True)
    wb = Workbook()
    profile = wb.active
    profile.title = "profile"
    answers = wb.create_sheet("answers")
    lists = wb.create_sheet("lists")
    lists.sheet_state = "hidden"

    # the lists behind the dropdowns: fields, then one column per ordinal indicator
    refs: dict[str, str] = {}
    columns: list[tuple[str, list[str]]] = [("field", [f.name[lang] for f in catalogue.fields.values()])]
    columns += [(ind.id, level_choices(ind, lang)) for ind in catalogue.indicators if ind.kind == "ordinal"]
    for c, (name, values) in enumerate(columns, start=1):
        letter = get_column_letter(c)
        lists.cell(row=1, column=c, value=name)
        for r, v in enumerate(values, start=2):
            lists.cell(row=r, column=c, value=v)
        refs[name] = f"lists!${letter}$2:${letter}${len(values) + 1}"

    # profile sheet: an instructions line, the header, one row per key
    profile.append([words["profile_intro"]])
    profile.append(["key", "value", "help"])
    keys = [k for k in PROFILE_KEYS if k not in PREFILL_KEYS]    # the marker only in a prefilled file
    for key in keys:
        profile.append([key, None, words["help"][key]])
    for cell in profile[2]:
        cell.font = bold
    row_of = {key: i + 3 for i, key in enumerate(keys)}
    now = _this_year()
    validations = [
        (DataValidation(type="list", formula1=refs["field"], allow_blank=False), "field"),
        (DataValidation(type="textLength", operator="equal", formula1="2"), "country"),
        (DataValidation(type="whole", operator="between", formula1=str(EARLIEST_YEAR), formula2=str(now)),
         "founding_year"),
        (DataValidation(type="whole", operator="between", formula1=str(EARLIEST_YEAR), formula2=str(now)),
         "benchmark_year"),
    ]
    for dv, key in validations:
        dv.showErrorMessage = dv.showInputMessage = True
        dv.promptTitle = key
        dv.prompt = words["help"][key]
        dv.errorTitle = words["error_title"]
        dv.error = words["help"][key]
        dv.add(f"B{row_of[key]}")
        profile.add_data_validation(dv)
    profile.column_dimensions["A"].width = 18
    profile.column_dimensions["B"].width = 36
    profile.column_dimensions["C"].width = 70
    profile.freeze_panes = "A3"

    # answers sheet: an instructions line, the header, one row per indicator
    age = catalogue.role("org_age")        # the age indicator, whatever the catalogue calls it
    answers.append([words["answers_intro"] + (words["age_blank"].format(age=age.id) if age else "")])
    answers.append(list(ANSWER_COLUMNS))
    for cell in answers[2]:
        cell.font = bold
    answer_col = get_column_letter(ANSWER_COLUMNS.index("answer") + 1)
    for r, ind in enumerate(catalogue.indicators, start=3):
        answers.append([ind.id, catalogue.dimension(ind.dimension).name[lang], ind.name[lang],
                        ind.unit[lang], _range_text(ind, lang), ind.question[lang], None, None])
        answers.cell(row=r, column=ANSWER_COLUMNS.index("question") + 1).alignment = Alignment(wrap_text=True)
        dv = _answer_validation(ind, lang, refs)
        dv.add(f"{answer_col}{r}")
        answers.add_data_validation(dv)
    for name, width in zip(ANSWER_COLUMNS, (24, 28, 34, 14, 12, 70, 26, 30)):
        answers.column_dimensions[get_column_letter(ANSWER_COLUMNS.index(name) + 1)].width = width
    answers.freeze_panes = "A3"
    return wb


def write_template(out_path: str | Path, catalogue: Catalogue, lang: str = "en") -> Path:
    """Write an Excel questionnaire for the catalogue, atomically (temp file, then rename).

    Sheets: "profile" (key, value, help), "answers" (one row per indicator, with data
    validation on the answer cells) and a hidden "lists" sheet that feeds the dropdowns.
    """
    if lang not in _WORDS:
        raise ParameterError(f"unknown language {lang!r}; expected one of {', '.join(_WORDS)}")
    out = Path(out_path)
    wb = _build_template(catalogue, lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(wb, out)
    return out


def save_atomic(wb: Any, out: Path) -> None:
    """Save an openpyxl workbook so that a failure never leaves a half-written file."""
    atomic_write(out, wb.save)


# --- the prefilled questionnaire (`auditlib template OUT --prefill CLIENT`) ---------------------

PREFILL_FILL = "FFF2CC"     # the shade of a prefilled cell (last time's answer)


def _cell_text(ind: Indicator, value: float | None, lang: str) -> Any:
    """An answer as the questionnaire writes it, so the intake reads the same value back."""
    if value is None:
        return None
    if ind.kind == "yes_no":
        return _WORDS[lang]["yes_no"][0 if value >= 0.5 else 1]
    if ind.kind == "ordinal":
        return next((c for c in level_choices(ind, lang) if c.split(" - ", 1)[0] == _fmt(value)), _fmt(value))
    return int(value) if float(value).is_integer() else float(value)


def prefilled_answers(catalogue: Catalogue, earlier: Any, benchmark_year: int) -> dict[str, float | None]:
    """The answers a prefilled file gives back when returned unchanged: the earlier audit's,
    with the age indicator left to follow from the new benchmark year."""
    answers = dict(earlier.answers)
    age = catalogue.role("org_age")
    if age is not None and age.id in answers:
        answers[age.id] = float(benchmark_year - earlier.founding_year)
    return answers


def write_prefilled(out_path: str | Path, catalogue: Catalogue, earlier: Any, benchmark_year: int,
                    lang: str = "en") -> Path:
    """Write the questionnaire prefilled with an earlier audit's profile and answers.

    Parameters
    ----------
    out_path : the .xlsx file to write (atomically)
    catalogue : the indicator catalogue
    earlier : the ClientProfile whose answers are repeated (the client's latest audit)
    benchmark_year : the year the new answers describe (from the entry point: this year)
    lang : the template language, "en" or "nl"

    Returns
    -------
    The path written.

    Why the marker is two visible profile rows (`prefilled_from`, `prefill_check`): the intake
    must recognise a file returned unchanged, and the workbook rules refuse what a person cannot
    see; the check is a fingerprint of the prefilled answers, so any change to any answer makes
    the file this year's without the intake needing the earlier audit. Prefilled cells are shaded.
    """
    from openpyxl.styles import PatternFill

    from auditlib.intake.model import answers_fingerprint

    if lang not in _WORDS:
        raise ParameterError(f"unknown language {lang!r}; expected one of {', '.join(_WORDS)}")
    words = _WORDS[lang]
    wb = _build_template(catalogue, lang)
    shade = PatternFill("solid", start_color=PREFILL_FILL, end_color=PREFILL_FILL)
    month = earlier.interview_month
    source = f"{earlier.interview[0]:04d}-{month:02d}" if month else str(earlier.benchmark_year)
    field_name = catalogue.fields[earlier.field].name[lang] if earlier.field in catalogue.fields else earlier.field
    values = {"name": earlier.name, "country": earlier.country, "field": field_name,
              "founding_year": earlier.founding_year, "benchmark_year": benchmark_year,
              "region": earlier.region, "contact": earlier.contact, "benchmark_id": earlier.benchmark_id}
    profile = wb["profile"]
    for row in profile.iter_rows(min_row=3):
        key = row[0].value
        if key in values and values[key] is not None:
            row[1].value = values[key]
            if key != "benchmark_year":
                row[1].fill = shade
    check = answers_fingerprint(prefilled_answers(catalogue, earlier, benchmark_year))
    profile.append(["prefilled_from", source, words["help"]["prefilled_from"]])
    profile.append(["prefill_check", check, words["help"]["prefill_check"]])
    profile["A1"].value = words["prefilled"].format(source=source) + " " + str(profile["A1"].value)
    answers = wb["answers"]
    answers["A1"].value = words["prefilled"].format(source=source) + " " + str(answers["A1"].value)
    column = ANSWER_COLUMNS.index("answer")
    age = catalogue.role("org_age")
    for row in answers.iter_rows(min_row=3):
        ind = catalogue.by_id.get(str(row[0].value))
        if ind is None or (age is not None and ind.id == age.id):
            continue
        row[column].value = _cell_text(ind, earlier.answers.get(ind.id), lang)
        row[column].fill = shade
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(wb, out)
    return out

"""The label journey (auditlib/journey.py): validity, renewal and Silver window rules at their
boundaries, timelines, the due list, the label history intake, the prefilled questionnaire,
and the journey section and Silver form of the report (EN and NL)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from auditlib.testing import DATA, make_profile

from auditlib.cli import main
from auditlib.errors import ProblemCode, QuestionnaireError
from auditlib.intake import load_client, read_questionnaire
from auditlib.journey import (
    Award,
    Benchmark,
    JourneyRules,
    Month,
    due_for_clients,
    due_list,
    due_row,
    journey,
    next_step,
    parse_within,
    periods_of,
)
from auditlib.template import write_prefilled

D = dt.date


@pytest.fixture(scope="module")
def rules(catalogue):
    return JourneyRules.from_catalogue(catalogue)


def bronze(interview: str, awarded: str | None = None, year: int | None = None) -> Award:
    m = Month.parse(interview)
    return Award("bronze", Month.parse(awarded) if awarded else m, year or m.year, m)


def bench(interview: str) -> Benchmark:
    m = Month.parse(interview)
    return Benchmark(m.year, m)


# --- months and the rules from labels.yaml ---------------------------------------------------------

def test_month_arithmetic_and_parsing():
    assert str(Month(2025, 11).plus(18)) == "2027-05" and str(Month(2025, 11).plus(-11)) == "2024-12"
    assert Month(2027, 5).since(Month(2025, 11)) == 18
    assert Month.parse("2025-05") == Month.parse(D(2025, 5, 17)) == Month(2025, 5)
    for bad in ("2025", "2025-13", "May 2025", "25-05"):
        with pytest.raises(ValueError):
            Month.parse(bad)


def test_rules_come_from_labels_yaml_in_months(rules, catalogue):
    assert rules.valid_months == {"bronze": 24, "silver": 24, "gold": 24}
    assert rules.renewal_window_months == 12
    gap = catalogue.labels.silver.earlier_audit_gap_years      # the one Silver timing key
    assert rules.silver_gap_months == (round(gap.min * 12), round(gap.max * 12)) == (18, 24)
    assert rules.gold_reassessment_months == (24, 36)


# --- validity at its boundaries -----------------------------------------------------------------------

def test_bronze_valid_until_the_day_before_the_expiry_month(rules):
    awards = [bronze("2025-05")]
    (p,) = periods_of(awards, rules)
    assert str(p.expires) == "2027-05" and str(p.valid_until) == "2027-04"
    day_before = journey(awards, [bench("2025-05")], rules, D(2027, 4, 30))
    assert day_before.current == p and day_before.status != "expired"
    month_of = journey(awards, [bench("2025-05")], rules, D(2027, 5, 1))
    assert month_of.current is None and month_of.status == "expired" and month_of.last == p
    assert month_of.next_step.step == "new_benchmark"


@pytest.mark.parametrize("renewal, extended, expires", [
    ("2024-05", True, "2027-05"),    # first month of the window (a year before expiry): extends
    ("2025-04", True, "2027-05"),    # last month before expiry: extends
    ("2024-04", False, "2026-04"),   # a month too early: a new period from its own interview
    ("2025-05", False, "2027-05"),   # in the month of expiry: the label had lapsed; a new period
])
def test_renewal_inside_and_outside_the_window(rules, renewal, extended, expires):
    first, again = bronze("2023-05", "2023-07"), bronze(renewal, Month.parse(renewal).plus(1).__str__())
    periods = periods_of([first, again], rules)
    assert str(periods[0].expires) == "2025-05"
    assert periods[1].extended is extended and str(periods[1].expires) == expires


def test_lapse_before_a_late_renewal_shows_in_the_timeline(rules):
    j = journey([bronze("2023-05", "2023-07"), bronze("2025-05", "2025-07")],
                [bench("2023-05"), bench("2025-05")], rules, D(2025, 12, 1))
    kinds = [(str(e.month), e.kind) for e in j.timeline]
    assert ("2025-05", "expired") in kinds
    assert kinds.index(("2025-05", "benchmark")) < kinds.index(("2025-05", "expired"))
    extended = journey([bronze("2023-05", "2023-07"), bronze("2025-04", "2025-04")],
                       [bench("2023-05"), bench("2025-04")], rules, D(2025, 12, 1))
    assert [e.kind for e in extended.timeline if e.kind in ("expired", "renewed")] == ["renewed"]


# --- the Silver window and the status -------------------------------------------------------------------

def test_silver_window_opens_18_and_closes_24_months_after_the_bronze_interview(rules):
    awards = [bronze("2025-11", "2026-01")]
    step = next_step(periods_of(awards, rules), [bench("2025-11")], rules, D(2026, 6, 1))
    assert (step.step, str(step.opens), str(step.closes)) == ("silver_benchmark", "2027-05", "2027-11")


@pytest.mark.parametrize("as_of, within, status", [
    (D(2026, 11, 30), 6, "due"),      # opens 2027-05: within 6 months of 2026-11
    (D(2026, 11, 30), 5, "later"),
    (D(2027, 6, 15), 6, "due"),       # the window is open
    (D(2027, 11, 1), 0, "expired"),   # the Bronze expired with the window's last month
])
def test_status_due_later_expired(rules, as_of, within, status):
    j = journey([bronze("2025-11", "2026-01")], [bench("2025-11")], rules, as_of, within)
    assert j.status == status


def test_overdue_when_the_window_closed_while_an_extended_label_still_holds(rules):
    awards = [bronze("2023-05", "2023-07"), bronze("2024-09", "2024-10")]     # renewal in the window
    j = journey(awards, [bench("2023-05"), bench("2024-09")], rules, D(2026, 12, 1))
    assert str(j.current.expires) == "2027-05"
    assert str(j.next_step.closes) == "2026-09" and j.status == "overdue"


def test_a_benchmark_inside_the_window_is_the_step_taken(rules):
    j = journey([bronze("2024-05", "2024-07")], [bench("2024-05"), bench("2026-03")], rules, D(2026, 3, 1))
    assert j.status == "taken" and str(j.next_step.taken.interview) == "2026-03"


# --- timelines -----------------------------------------------------------------------------------------------

def test_timeline_without_a_label(rules):
    j = journey([], [bench("2026-03")], rules, D(2026, 11, 30))
    assert j.current is None and j.last is None and j.status == "none"
    assert j.next_step.step == "first_benchmark" and [e.kind for e in j.timeline] == ["benchmark"]


def test_timeline_bronze_to_silver(rules):
    awards = [bronze("2024-05", "2024-07"), Award("silver", Month(2026, 5), 2026, Month(2026, 3))]
    j = journey(awards, [bench("2024-05"), bench("2026-03")], rules, D(2026, 11, 30))
    assert [(str(e.month), e.kind, e.label) for e in j.timeline] == [
        ("2024-05", "benchmark", None), ("2024-07", "awarded", "bronze"),
        ("2026-03", "benchmark", None), ("2026-05", "awarded", "silver")]   # Bronze superseded, not "expired"
    assert j.current.label == "silver" and str(j.current.expires) == "2028-03"
    step = j.next_step
    assert (step.step, str(step.opens), str(step.closes)) == ("silver_or_gold", "2027-03", "2028-02")
    before = journey(awards, [bench("2024-05"), bench("2026-03")], rules, D(2026, 3, 1))   # at the interview
    assert before.current.label == "bronze" and [p.label for p in before.periods] == ["bronze"]


def test_timeline_expired(rules):
    j = journey([bronze("2023-04", "2023-06")], [bench("2023-04"), bench("2026-02")], rules, D(2026, 11, 30))
    assert j.status == "expired" and j.last.label == "bronze" and str(j.last.expires) == "2025-04"
    assert ("2025-04", "expired") in [(str(e.month), e.kind) for e in j.timeline]
    assert j.next_step.step == "new_benchmark" and str(j.next_step.taken.interview) == "2026-02"


def test_gold_reassessment_window_before_expiry(rules):
    gold = Award("gold", Month(2025, 9), 2025, Month(2025, 6))
    j = journey([gold], [bench("2025-06")], rules, D(2026, 1, 1))
    step = j.next_step
    assert (step.step, str(step.opens), str(step.closes)) == ("gold_reassessment", "2026-06", "2027-05")


# --- the due list ----------------------------------------------------------------------------------------------

def test_due_list_sorts_expired_and_overdue_first_then_by_due_date(rules):
    def row(cid, awards, benches):
        return due_row(cid, cid, journey(awards, benches, rules, D(2026, 12, 1)))

    rows = [row("later", [bronze("2026-06")], [bench("2026-06")]),
            row("none", [], [bench("2026-06")]),
            row("soon", [bronze("2025-06")], [bench("2025-06")]),
            row("expired", [bronze("2023-01")], [bench("2023-01")]),
            row("overdue", [bronze("2023-05", "2023-07"), bronze("2024-09", "2024-10")],
                [bench("2023-05"), bench("2024-09")])]
    assert [r.client_id for r in due_list(rows)] == ["expired", "overdue", "soon", "later", "none"]
    assert [r.status for r in due_list(rows, only_due=True)] == ["expired", "overdue", "due"]


def test_parse_within():
    assert (parse_within("6m"), parse_within("6"), parse_within("1y"), parse_within(" 18M ")) == (6, 6, 12, 18)
    with pytest.raises(ValueError):
        parse_within("six months")


def test_due_list_of_the_example_clients(catalogue):
    clients = sorted(p for p in (DATA / "clients").iterdir() if p.is_dir())
    rows, problems = due_for_clients(clients, catalogue, D(2026, 11, 30), 6)
    assert problems == []
    by_id = {r.client_id: r for r in rows}
    assert rows[0].client_id == "no-fjord-maritime" and by_id["no-fjord-maritime"].status == "expired"
    delta = by_id["nl-delta-water"]
    assert (delta.label, str(delta.expires), delta.status) == ("silver", "2028-03", "due")
    wisla = by_id["pl-wisla-ict"]                     # year-only CSV: the interview reads as June 2026
    assert (wisla.label, str(wisla.expires), str(wisla.opens), wisla.status) == \
        ("bronze", "2028-06", "2027-12", "later")


def test_due_command_prints_the_list_sorted(capsys):
    assert main(["due", "--within", "6m", "pl-wisla-ict", "no-fjord-maritime", "nl-delta-water"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Label journey: what is due") and "within 6 months" in lines[0]
    assert lines[1].split()[:2] == ["Client", "Label"]
    assert lines[2].startswith("no-fjord-maritime") and lines[2].rstrip().endswith("expired")
    assert [line.split()[0] for line in lines[2:]] == ["no-fjord-maritime", "nl-delta-water", "pl-wisla-ict"]


def test_due_command_in_dutch_and_a_bad_period(capsys):
    assert main(["due", "--lang", "nl", "no-fjord-maritime"]) == 0
    out = capsys.readouterr().out
    assert "Labeltraject" in out and "verlopen" in out
    assert main(["due", "--within", "soon"]) == 1
    err = capsys.readouterr().err
    assert "--within" in err and "Traceback" not in err


# --- the label history at intake -----------------------------------------------------------------------------

def _client(tmp_path: Path, history: str, interview: str | None = "2026-03") -> Path:
    folder = tmp_path / "acme"
    shutil.copytree(DATA / "clients" / "nl-delta-water", folder)
    q = folder / "questionnaire.yaml"
    text = q.read_text(encoding="utf-8").replace('  interview: "2026-03"\n', "" if interview is None
                                                  else f'  interview: "{interview}"\n')
    q.write_text(text, encoding="utf-8")
    (folder / "label_history.yaml").write_text(history, encoding="utf-8")
    return folder


def test_example_histories_load(catalogue):
    delta = load_client(DATA / "clients" / "nl-delta-water", catalogue)
    assert [(r.label, r.awarded, r.benchmark_year) for r in delta.labels] == [
        ("bronze", (2024, 7), 2024), ("silver", (2026, 5), 2026)]
    assert delta.profile.interview == (2026, 3) and delta.earlier[0].interview == (2024, 5)


def test_every_history_problem_at_once_with_file_and_key(tmp_path, catalogue):
    folder = _client(tmp_path, "labels:\n"
                     "  - {label: platinum, awarded: 2024-07, benchmark: 2024}\n"
                     "  - {label: bronze, awarded: July 2024, benchmark: 2024}\n"
                     "  - {label: bronze, awarded: 2024-07, benchmark: 2019}\n"
                     "  - {label: bronze, awarded: 2024-03, benchmark: 2024}\n"
                     "  - {label: silver, awarded: 2026-05, benchmark: 2026, note: x}\n"
                     "  - {label: silver, awarded: 2026-04, benchmark: 2026}\n"
                     "  - {label: gold, benchmark: 2026}\n")
    with pytest.raises(QuestionnaireError) as err:
        load_client(folder, catalogue)
    problems = [p for p in err.value.problems if p.file.endswith("label_history.yaml")]
    found = {(p.place, p.code) for p in problems}
    assert ("key labels[1].label", ProblemCode.UNKNOWN_VALUE) in found
    assert ("key labels[2].awarded", ProblemCode.WRONG_TYPE) in found
    assert ("key labels[3].benchmark", ProblemCode.UNKNOWN_ID) in found
    assert ("key labels[4].awarded", ProblemCode.OUT_OF_ORDER) in found        # before the 2024-05 interview
    assert ("key labels[5].note", ProblemCode.UNKNOWN_KEY) in found
    assert ("key labels[7].awarded", ProblemCode.MISSING_KEY) in found
    text = "\n".join(str(p) for p in problems)
    assert "2024, 2026" in text and "bronze, silver or gold" in text


def test_awards_out_of_order(tmp_path, catalogue):
    folder = _client(tmp_path, "labels:\n  - {label: silver, awarded: 2026-05, benchmark: 2026}\n"
                     "  - {label: bronze, awarded: 2024-07, benchmark: 2024}\n")
    with pytest.raises(QuestionnaireError) as err:
        load_client(folder, catalogue)
    (p,) = err.value.problems
    assert p.code == ProblemCode.OUT_OF_ORDER and p.place == "key labels[2].awarded" and "oldest first" in p.expected


def test_history_not_a_list(tmp_path, catalogue):
    with pytest.raises(QuestionnaireError) as err:
        load_client(_client(tmp_path, "- bronze\n"), catalogue)
    assert ProblemCode.STRUCTURE in err.value.codes


@pytest.mark.parametrize("interview, code", [("2026-13", ProblemCode.WRONG_TYPE),
                                             ("2024-05", ProblemCode.INCONSISTENT)])
def test_interview_month_checked(tmp_path, catalogue, interview, code):
    with pytest.raises(QuestionnaireError) as err:
        load_client(_client(tmp_path, "labels: []\n", interview), catalogue)
    assert any(p.code == code and "interview" in p.place for p in err.value.problems)


def test_a_year_only_audit_reads_as_june(tmp_path, catalogue):
    folder = load_client(_client(tmp_path, "labels: []\n", None), catalogue)
    assert folder.profile.interview_month is None and folder.profile.interview == (2026, 6)


# --- the prefilled questionnaire -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, which, month", [("en", "current", "2026-03"), ("nl", "earlier", "2024-05")])
def test_prefilled_template_round_trip(tmp_path, catalogue, lang, which, month):
    folder = load_client(DATA / "clients" / "nl-delta-water", catalogue)
    source = folder.profile if which == "current" else folder.earlier[0]
    out = write_prefilled(tmp_path / "acme" / "questionnaire.xlsx", catalogue, source, 2026, lang=lang)
    back = read_questionnaire(out, catalogue, "acme")
    age = catalogue.role("org_age").id
    assert {k: v for k, v in back.answers.items() if k != age} == {k: v for k, v in source.answers.items() if k != age}
    assert back.answers[age] == 2026 - source.founding_year          # follows from the years
    assert (back.benchmark_year, back.name, back.field) == (2026, source.name, source.field)
    assert back.prefill is not None and back.prefill.source == month


def test_prefilled_file_returned_unchanged_warns_and_a_change_does_not(tmp_path, catalogue):
    from openpyxl import load_workbook

    source = load_client(DATA / "clients" / "nl-delta-water", catalogue).profile
    out = write_prefilled(tmp_path / "acme" / "questionnaire.xlsx", catalogue, source, 2026)
    folder = load_client(tmp_path / "acme", catalogue)
    (warning,) = [w for w in folder.warnings if w.code == ProblemCode.UNCHANGED]
    assert "unchanged" in warning.message and warning.file.endswith("questionnaire.xlsx")
    wb = load_workbook(out)
    ws = wb["answers"]
    row = next(r for r in ws.iter_rows(min_row=3) if r[0].value == "committed_members")
    row[6].value = 91
    wb.save(out)
    changed = load_client(tmp_path / "acme", catalogue)
    assert changed.profile.answers["committed_members"] == 91
    assert not [w for w in changed.warnings if w.code == ProblemCode.UNCHANGED]


def test_prefill_marker_is_visible_and_formula_free(tmp_path, catalogue):
    from openpyxl import load_workbook

    source = load_client(DATA / "clients" / "nl-delta-water", catalogue).profile
    out = write_prefilled(tmp_path / "q.xlsx", catalogue, source, 2026)
    wb = load_workbook(out)
    assert wb["profile"].sheet_state == "visible"
    keys = {r[0].value: r[1].value for r in wb["profile"].iter_rows(min_row=3)}
    assert keys["prefilled_from"] == "2026-03" and len(keys["prefill_check"]) == 16
    assert [ws.title for ws in wb.worksheets if ws.sheet_state != "visible"] == ["lists"]   # as the blank template
    assert not any(isinstance(c.value, str) and c.value.startswith("=")
                   for ws in (wb["profile"], wb["answers"]) for row in ws.iter_rows() for c in row)


def test_half_a_prefill_marker_is_refused(tmp_path, catalogue):
    from openpyxl import load_workbook

    source = load_client(DATA / "clients" / "nl-delta-water", catalogue).profile
    out = write_prefilled(tmp_path / "q.xlsx", catalogue, source, 2026)
    wb = load_workbook(out)
    row = next(r for r in wb["profile"].iter_rows(min_row=3) if r[0].value == "prefill_check")
    row[1].value = None
    wb.save(out)
    with pytest.raises(QuestionnaireError) as err:
        read_questionnaire(out, catalogue, "acme")
    assert [p.message for p in err.value.problems] == ["prefill marker incomplete"]


def test_template_prefill_command(tmp_path, capsys):
    out = tmp_path / "next.xlsx"
    assert main(["template", str(out), "--prefill", "nl-delta-water", "--lang", "nl"]) == 0
    assert out.is_file() and "prefilled" in capsys.readouterr().out
    assert main(["template", str(tmp_path / "x.xlsx"), "--prefill", "no-such-client"]) == 1
    assert not (tmp_path / "x.xlsx").exists()


def test_silver_timing_counts_the_months_between_the_interviews(catalogue):
    from auditlib.labels import evaluate

    folder = load_client(DATA / "clients" / "nl-delta-water", catalogue)
    now, then = folder.profile, folder.earlier[0]
    readiness = evaluate(catalogue, now.answers, benchmark_year=now.benchmark_year, earlier=then.answers,
                         earlier_year=then.benchmark_year, interview=now.interview, earlier_interview=then.interview)
    row = readiness.criteria.set_index("criterion").loc["silver_second_benchmark"]
    assert row["value"] == pytest.approx(22 / 12) and bool(row["passed"])     # 2024-05 -> 2026-03
    assert make_profile(catalogue).interview[1] == 6                          # no month recorded: June


# --- the report section, the Silver form, the Excel sheets and the portfolio ------------------------------------

@pytest.fixture(scope="module")
def delta(catalogue, synthetic_db):
    from auditlib.audit import analyse

    return analyse(DATA / "clients" / "nl-delta-water", catalogue=catalogue, benchmark=synthetic_db, groups=["all"])


def _view(result, lang):
    from auditlib.report.view import ReportView

    return ReportView.from_result(result, lang)


def test_report_journey_section_in_english(delta):
    j = delta.journey
    assert j.as_of == D(2026, 3, 1)                  # as of the interview month, not the clock
    frag = _view(delta, "en").journey()
    html = frag.html
    assert "Label journey" in html and "2024-07" in html and "Bronze label awarded" in html
    assert "Current label: Bronze, valid until the end of April 2026 (it expires in May 2026)." in frag.text
    assert "Silver window opens November 2025 and closes May 2026" in frag.text
    assert "3 improvement areas" in frag.text and "This benchmark (March 2026) falls inside that window." in frag.text
    # the figures behind the Silver progress check: baseline 2024, current 2026, effect
    assert "Baseline 2024" in html and "Current value 2026" in html
    assert "&lt;" not in html and "<td class=\"num strong\">52%</td>" in html     # a table, not escaped text
    assert "q18" not in html and "≥ 40%" in html                                 # the threshold, no criterion id
    assert "service_usage: 38% -&gt; 52% (improved)" not in html     # text form only in .text
    assert "service_usage: 38% -> 52% (improved)" in frag.text


def test_report_journey_section_in_dutch(delta):
    frag = _view(delta, "nl").journey()
    assert "Labeltraject" in frag.html and "Brons-label toegekend" in frag.html
    assert "Huidig label: Brons, geldig tot en met april 2026 (het verloopt in mei 2026)." in frag.text
    assert "Het venster voor Zilver gaat open in november 2025 en sluit in mei 2026" in frag.text
    assert "Nulmeting 2024" in frag.html and "verbeterd" in frag.html


def test_report_journey_without_history(catalogue, synthetic_db):
    from auditlib.audit import analyse

    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db, groups=["all"])
    assert result.journey is None
    assert "No benchmark or label recorded yet." in _view(result, "en").journey().text


def test_silver_form_page_has_every_area_ready_to_hand_in(delta):
    from auditlib.journey import improvement_form

    areas = improvement_form(delta, "en")
    assert [a.indicator for a in areas] == list(delta.notes.improvement_areas)
    usage = areas[0]
    assert (usage.baseline, usage.current, usage.target, usage.effect, usage.reached) == \
        (38.0, 52.0, 40.0, "improved", True)
    html = _view(delta, "en").silver_form().html
    assert "Silver improvement-area form" in html and html.count('class="block"') == 3
    assert usage.actions[0] in html and "q18" not in html and "+14%" in html.replace("+14 %", "+14%")
    nl = _view(delta, "nl").silver_form().html
    assert "Formulier verbetergebieden Zilver" in nl and "Acties" in nl


def test_scores_xlsx_has_the_silver_form_and_journey_sheets(delta, tmp_path):
    import pandas as pd

    from auditlib.export import write_excel

    path = write_excel(delta, tmp_path / "scores.xlsx", lang="en")
    book = pd.read_excel(path, sheet_name=None)
    form = book["silver_form"].set_index("area")
    assert list(form.index) == list(delta.notes.improvement_areas)
    assert form.loc["service_usage", ["baseline", "current", "target"]].tolist() == [38, 52, 40]
    assert form.loc["service_usage", "effect"] == "improved" and form.loc["service_usage", "actions"]
    assert book["journey"]["event"].tolist() == ["benchmark", "awarded", "benchmark"]


def test_portfolio_index_shows_the_journey_sorted_by_due_date(delta, catalogue):
    from auditlib.portfolio import PortfolioRow, key_figures, render_index

    fig = key_figures(delta)
    expired = {**fig, "name": "Expired Cluster",
               "journey": {"awards": [{"label": "bronze", "awarded": "2022-01", "benchmark_year": 2022,
                                       "interview": "2022-01"}], "benchmarks": []}}
    rows = [PortfolioRow("nl-delta-water", "ok", figures=fig), PortfolioRow("zz-expired", "ok", figures=expired)]
    html = render_index(rows, catalogue, "en", generated="x", as_of=D(2026, 11, 30))
    table = html[html.index('id="journey"'):]
    assert table.index("zz-expired") < table.index("nl-delta-water")     # expired first
    assert "2027-03 – 2028-02" in table and "Silver" in table and ">due<" in table
    assert 'id="journey"' not in render_index(rows, catalogue, "en", generated="x")


def test_overview_journey_frame_is_the_due_list(catalogue):
    from auditlib.portfolio import journey_frame

    frame = journey_frame(DATA / "clients", catalogue=catalogue, as_of=D(2026, 11, 30))
    assert frame["client_id"].tolist()[:3] == ["no-fjord-maritime", "nl-delta-water", "pl-wisla-ict"]
    assert frame.set_index("client_id").loc["nl-delta-water", ["label", "expires", "window", "status"]].tolist() == [
        "Silver", "2028-03", "2027-03 – 2028-02", "due"]


@pytest.mark.parametrize("client", ["es-huerta-food", "de-lichtwerk-photonics", "pl-wisla-ict"])
def test_prefill_round_trip_keeps_blanks_levels_and_yes_no(tmp_path, catalogue, client):
    source = load_client(DATA / "clients" / client, catalogue).profile
    out = write_prefilled(tmp_path / "q.xlsx", catalogue, source, source.benchmark_year)
    back = read_questionnaire(out, catalogue, client)
    assert back.answers == source.answers                     # unanswered stays unanswered, not 0
    assert back.prefill is not None and back.prefill.source == str(source.benchmark_year)   # year-only source


def test_due_command_names_a_folder_it_cannot_read(capsys):
    from auditlib.testing import TEST_DATA

    assert main(["due", "nl-delta-water", str(TEST_DATA / "folders" / "no_questionnaire")]) == 1
    captured = capsys.readouterr()
    assert "nl-delta-water" in captured.out
    assert "no_questionnaire: not read" in captured.err and "Traceback" not in captured.err


def test_counts_take_the_singular(catalogue):
    from auditlib.journey import due_title
    from auditlib.report.view_journey import agreed_text, journey_facts

    assert agreed_text(1, "en") == "1 improvement area" and agreed_text(3, "nl") == "3 verbetergebieden"
    assert due_title(D(2026, 11, 30), 1, "en").endswith("within 1 month)")
    assert due_title(D(2026, 11, 30), 6, "nl").endswith("binnen 6 maanden)")
    facts = journey_facts(catalogue, "en")
    assert (facts["renewal"], facts["renewal_years"], facts["valid_years"]) == ("1", "year", "years")

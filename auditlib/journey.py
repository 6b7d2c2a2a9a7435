"""The label journey: a client's labels over the years, where it stands, and what comes next.

Why a module of its own: the report, the portfolio, the overview notebook and `auditlib due`
all answer the same questions ("which label holds now, until when, and when is the next step
due?"), so they are answered once, here, by pure functions over the client's label history
and an as-of date. The date is always passed in by the entry point (the CLI, the notebook,
the batch); nothing here reads the clock, so a report or a test reads the same tomorrow.

The rules come from the catalogue's `labels.yaml` (see `JourneyRules.from_catalogue`):

- a label is valid `valid_years` from the month of the benchmark interview it rests on; it
  *expires* in the month `valid_years` later (a Bronze from an interview in 2025-05 is valid
  up to and including 2027-04-30 and expired from 2027-05-01 on);
- a renewal of the same label whose interview falls in the `renewal_window_years` before the
  expiry month extends the label from its old expiry; a renewal earlier than that starts a new
  period from its own interview; one in the month of expiry or later comes after a lapse;
- Silver needs a second benchmark `silver.earlier_audit_gap_years` after the first: its window
  opens that minimum after the interview the Bronze rests on and closes at the maximum (both
  months inclusive);
- Silver and Gold are renewed (Gold reassessed) inside the renewal window before expiry.

Months are whole calendar months (`Month`); a date is compared by its month, except that
"expired" is decided on the day: from the first day of the expiry month.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue
    from auditlib.intake.model import ClientFolder

LABELS = ("bronze", "silver", "gold")
RANK = {lab: i for i, lab in enumerate(LABELS)}
Step = Literal["first_benchmark", "silver_benchmark", "silver_or_gold", "gold_reassessment", "new_benchmark"]
Status = Literal["none", "later", "due", "taken", "overdue", "expired"]
STATUSES: tuple[str, ...] = ("expired", "overdue", "due", "taken", "later", "none")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month (year, month); `str()` gives the ISO form 2027-05."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is not 1-12")

    @classmethod
    def parse(cls, value: object) -> Month:
        """'2025-05' (or a date) as a Month; ValueError for anything else."""
        if isinstance(value, _dt.datetime):
            value = value.date()
        if isinstance(value, _dt.date):
            return cls(value.year, value.month)
        match = _MONTH.fullmatch(str(value).strip())
        if not match:
            raise ValueError(f"{value!r} is not a month written as YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: _dt.date) -> Month:
        return cls(day.year, day.month)

    def plus(self, months: int) -> Month:
        k = self.year * 12 + self.month - 1 + months
        return Month(k // 12, k % 12 + 1)

    def since(self, other: Month) -> int:
        """Whole months from `other` to this month."""
        return (self.year - other.year) * 12 + self.month - other.month

    @property
    def first_day(self) -> _dt.date:
        return _dt.date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class JourneyRules:
    """The timing rules of the labels, in months (from `labels.yaml`)."""

    valid_months: Mapping[str, int]
    renewal_window_months: int
    silver_gap_months: tuple[int, int]          # second benchmark: min..max months after the first
    gold_reassessment_months: tuple[int, int]   # the public rhythm, for the words only
    improvement_areas: int

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue) -> JourneyRules:
        rules = catalogue.labels
        gap = rules.silver.earlier_audit_gap_years
        again = rules.gold.reassessment_years
        return cls(valid_months={lab: _months(getattr(rules, lab).valid_years) for lab in LABELS},
                   renewal_window_months=_months(rules.bronze.renewal_window_years),
                   silver_gap_months=(_months(gap.min), _months(gap.max)),
                   gold_reassessment_months=(_months(again.min), _months(again.max)),
                   improvement_areas=rules.silver.improvement_areas)


def _months(years: float) -> int:
    return round(float(years) * 12)


@dataclass(frozen=True)
class Award:
    """One label in the client's history: awarded in a month, resting on one benchmark."""

    label: str
    awarded: Month
    benchmark_year: int          # the audit it rests on (its benchmark year)
    interview: Month             # that audit's interview month


@dataclass(frozen=True)
class Period:
    """A label's validity as it came out of the history."""

    label: str
    awarded: Month
    benchmark_year: int
    valid_from: Month            # the interview month it counts from
    expires: Month               # the first month it is no longer valid
    extended: bool = False       # a renewal inside the window: runs on from the old expiry

    @property
    def valid_until(self) -> Month:
        """The last month the label is valid."""
        return self.expires.plus(-1)

    def active(self, day: _dt.date) -> bool:
        return self.awarded.first_day <= day < self.expires.first_day


@dataclass(frozen=True)
class Benchmark:
    """One benchmark interview of the client (an audit of the folder)."""

    year: int
    interview: Month
    month_recorded: bool = True  # False: a year-only file read with the default month


@dataclass(frozen=True)
class Event:
    """One line of the timeline, oldest first."""

    month: Month
    kind: Literal["benchmark", "awarded", "renewed", "expired"]
    label: str | None = None
    until: Month | None = None   # for awarded/renewed: the last month it is valid


@dataclass(frozen=True)
class NextStep:
    """What comes next, and its window (inclusive months; None = as soon as possible)."""

    step: Step
    label: str                   # the label the step leads to
    opens: Month | None = None
    closes: Month | None = None
    taken: Benchmark | None = None   # a benchmark already held inside the window


@dataclass(frozen=True)
class Journey:
    """A client's label journey as of one date (`awards`: the whole history, also later ones)."""

    as_of: _dt.date
    awards: tuple[Award, ...]
    benchmarks: tuple[Benchmark, ...]
    periods: tuple[Period, ...]
    timeline: tuple[Event, ...]
    current: Period | None       # the label valid on the as-of date
    last: Period | None          # the most recent label (expired when current is None)
    next_step: NextStep
    status: Status
    within_months: int

    @property
    def due_by(self) -> Month | None:
        """The month by which the next step must be taken (the window's last month)."""
        return self.next_step.closes


def periods_of(awards: Sequence[Award], rules: JourneyRules) -> tuple[Period, ...]:
    """The validity periods of a history of awards (sorted by award month).

    A renewal of the same label whose interview falls inside the renewal window (from
    `renewal_window_months` before the expiry month up to the month before it) extends the
    earlier period from its old expiry; otherwise the new period counts from its own interview.
    """
    out: list[Period] = []
    for a in sorted(awards, key=lambda a: (a.awarded, RANK.get(a.label, 0))):
        valid = rules.valid_months[a.label]
        same = next((p for p in reversed(out) if p.label == a.label), None)
        if same is not None and same.expires.plus(-rules.renewal_window_months) <= a.interview < same.expires:
            out.append(Period(a.label, a.awarded, a.benchmark_year, a.interview, same.expires.plus(valid), True))
        else:
            out.append(Period(a.label, a.awarded, a.benchmark_year, a.interview, a.interview.plus(valid)))
    return tuple(out)


def current_period(periods: Sequence[Period], as_of: _dt.date) -> Period | None:
    """The label valid on the date: the highest of those active, the latest among equals."""
    active = [p for p in periods if p.active(as_of)]
    if not active:
        return None
    return max(active, key=lambda p: (RANK[p.label], p.awarded))


def timeline(benchmarks: Sequence[Benchmark], periods: Sequence[Period], as_of: _dt.date) -> tuple[Event, ...]:
    """Benchmarks, awards, renewals and expiries up to the as-of date, oldest first.

    An expiry is listed only when no later period of the same or a higher label took over
    before it (a Bronze superseded by Silver does not "expire" in the story).
    """
    events: list[Event] = [Event(b.interview, "benchmark") for b in benchmarks if b.interview.first_day <= as_of]
    for i, p in enumerate(periods):
        if p.awarded.first_day <= as_of:
            events.append(Event(p.awarded, "renewed" if p.extended else "awarded", p.label, p.valid_until))
        later = [q for q in periods[i + 1:] if RANK[q.label] >= RANK[p.label] and q.awarded <= p.expires]
        if not later and p.expires.first_day <= as_of:
            events.append(Event(p.expires, "expired", p.label))
    order = {"benchmark": 0, "awarded": 1, "renewed": 1, "expired": 2}
    return tuple(sorted(events, key=lambda e: (e.month, order[e.kind])))


def next_step(periods: Sequence[Period], benchmarks: Sequence[Benchmark], rules: JourneyRules,
              as_of: _dt.date) -> NextStep:
    """The next step on the ladder and its window.

    No label yet: a first benchmark (Bronze). A valid Bronze: the second benchmark for
    Silver, in the window after the interview it rests on. A valid Silver: the Gold assessment
    (or a Silver renewal), a valid Gold: its reassessment, both in the renewal window before
    expiry. A lapsed label: a new benchmark as soon as possible.
    """
    current = current_period(periods, as_of)
    if current is None:
        step: Step = "new_benchmark" if periods else "first_benchmark"
        since = max((p.expires for p in periods), default=None)
        held = [b for b in benchmarks if b.interview.first_day <= as_of and (since is None or b.interview >= since)]
        return NextStep(step, "bronze", taken=held[-1] if held else None)
    if current.label == "bronze":
        lo, hi = rules.silver_gap_months
        opens, closes = current.valid_from.plus(lo), current.valid_from.plus(hi)
        result = NextStep("silver_benchmark", "silver", opens, closes)
    else:
        opens = current.expires.plus(-rules.renewal_window_months)
        closes = current.expires.plus(-1)
        result = NextStep("silver_or_gold" if current.label == "silver" else "gold_reassessment", "gold",
                          opens, closes)
    taken = [b for b in benchmarks if result.opens is not None and result.closes is not None
             and result.opens <= b.interview <= result.closes and b.interview.first_day <= as_of]
    if taken:
        result = NextStep(result.step, result.label, result.opens, result.closes, taken[-1])
    return result


def status_of(periods: Sequence[Period], step: NextStep, as_of: _dt.date, within_months: int) -> Status:
    """expired (the last label lapsed), none (never a label), taken (a benchmark inside the
    window already), overdue (the window has closed), due (it opens within `within_months` or
    is open), later."""
    if current_period(periods, as_of) is None:
        return "expired" if periods else "none"
    if step.taken is not None:
        return "taken"
    now = Month.of(as_of)
    if step.closes is not None and now > step.closes:
        return "overdue"
    if step.opens is None or step.opens <= now.plus(within_months):
        return "due"
    return "later"


def journey(awards: Sequence[Award], benchmarks: Sequence[Benchmark], rules: JourneyRules,
            as_of: _dt.date, within_months: int = 6) -> Journey:
    """The whole journey of one client as of a date (the date comes from the caller).

    Parameters
    ----------
    awards : the label history (any order), each with its benchmark's interview month
    benchmarks : the client's benchmark interviews
    rules : the timing rules (JourneyRules.from_catalogue)
    as_of : the date the journey is read on: never the clock inside the library
    within_months : how far ahead a step counts as "due"

    Returns
    -------
    Journey: periods and timeline up to `as_of`, the current label, the next step, the status.
    """
    periods = periods_of(awards, rules)
    bench = tuple(sorted(benchmarks, key=lambda b: b.interview))
    step = next_step(periods, bench, rules, as_of)
    shown = tuple(p for p in periods if p.awarded.first_day <= as_of)
    return Journey(as_of=as_of, awards=tuple(awards), benchmarks=bench, periods=shown,
                   timeline=timeline(bench, periods, as_of),
                   current=current_period(periods, as_of), last=shown[-1] if shown else None,
                   next_step=step, status=status_of(periods, step, as_of, within_months),
                   within_months=within_months)


def benchmarks_of(folder: ClientFolder) -> tuple[Benchmark, ...]:
    """Every audit of a client folder as a benchmark interview (earlier ones and the current)."""
    return tuple(Benchmark(p.benchmark_year, Month(*p.interview), p.interview_month is not None)
                 for p in (*folder.earlier, folder.profile))


def awards_of(folder: ClientFolder) -> tuple[Award, ...]:
    """The folder's label history with each award's benchmark interview month."""
    interview = {b.year: b.interview for b in benchmarks_of(folder)}
    return tuple(Award(r.label, Month(*r.awarded), r.benchmark_year, interview[r.benchmark_year])
                 for r in folder.labels)


def client_journey(folder: ClientFolder, catalogue: Catalogue, as_of: _dt.date,
                   within_months: int = 6) -> Journey:
    """The journey of a loaded client folder as of a date (see `journey`).

    Parameters
    ----------
    folder : a ClientFolder (load_client): its audits' interview months and label history
    catalogue : the catalogue whose labels.yaml holds the timing rules
    as_of : the date (the report passes the interview month, the portfolio today)
    within_months : the "due" horizon

    Returns
    -------
    Journey
    """
    return journey(awards_of(folder), benchmarks_of(folder), JourneyRules.from_catalogue(catalogue), as_of,
                   within_months)


@dataclass(frozen=True)
class DueRow:
    """One client in the due list."""

    client_id: str
    name: str
    label: str | None            # the label valid now
    expires: Month | None        # its expiry month (None without a valid label)
    last_label: str | None       # the most recent label, valid or not
    step: Step
    step_label: str
    opens: Month | None
    closes: Month | None
    status: Status
    taken: Benchmark | None = None   # a benchmark already held for the step


def to_data(j: Journey) -> dict:
    """The journey's inputs as plain JSON data (portfolio.json): awards and benchmarks."""
    return {"awards": [{"label": a.label, "awarded": str(a.awarded), "benchmark_year": a.benchmark_year,
                        "interview": str(a.interview)} for a in j.awards],
            "benchmarks": [{"year": b.year, "interview": str(b.interview), "recorded": b.month_recorded}
                           for b in j.benchmarks]}


def from_data(data: Mapping, rules: JourneyRules, as_of: _dt.date, within_months: int = 6) -> Journey:
    """A journey rebuilt from `to_data` as of another date (the portfolio's today)."""
    awards = [Award(a["label"], Month.parse(a["awarded"]), int(a["benchmark_year"]), Month.parse(a["interview"]))
              for a in data.get("awards", [])]
    benchmarks = [Benchmark(int(b["year"]), Month.parse(b["interview"]), bool(b.get("recorded", True)))
                  for b in data.get("benchmarks", [])]
    return journey(awards, benchmarks, rules, as_of, within_months)


def due_row(client_id: str, name: str, j: Journey) -> DueRow:
    s = j.next_step
    return DueRow(client_id, name, j.current.label if j.current else None,
                  j.current.expires if j.current else None, j.last.label if j.last else None,
                  s.step, s.label, s.opens, s.closes, j.status, s.taken)


def due_sort_key(row: DueRow) -> tuple:
    """Soonest first: expired and overdue lead, then by the window's last month; no date last."""
    urgency = {"expired": 0, "overdue": 1}.get(row.status, 2)
    return (urgency, row.closes is None, row.closes or Month(9999, 12), row.client_id)


def due_list(rows: Iterable[DueRow], *, only_due: bool = False) -> list[DueRow]:
    """The rows sorted by due date; `only_due` keeps expired, overdue and due ones."""
    out = sorted(rows, key=due_sort_key)
    return [r for r in out if r.status in ("expired", "overdue", "due")] if only_due else out


def parse_within(text: str) -> int:
    """'6m' / '6' (months) or '1y' as a number of months; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d{1,3})\s*([my]?)\s*", str(text).lower())
    if not match:
        raise ValueError(f"{text!r} is not a period such as 6m (months) or 1y (years)")
    n = int(match.group(1))
    return n * 12 if match.group(2) == "y" else n


# --- the Silver improvement areas: baseline, target, current value and effect ------------------

Effect = Literal["improved", "unchanged", "declined", "not_measured", "not_yet"]


@dataclass(frozen=True)
class AreaForm:
    """One agreed Silver improvement area, as the form (and the report) shows it.

    baseline: the value at the benchmark where the area was agreed (the earlier audit at a
    second benchmark, else this one); target: the Gold quality threshold of its indicator, or,
    when the baseline already passes it, the value that earns the full score; current: this
    benchmark's value at a second benchmark (None before it); effect: how the value moved in
    the indicator's better direction.
    """

    indicator: str
    criterion: str | None
    baseline: float | None
    baseline_year: int
    target: float | None
    current: float | None
    current_year: int | None
    change: float | None
    effect: Effect
    reached: bool | None
    actions: tuple[str, ...]
    notes: tuple[str, ...]


def _effect(direction: str, then: float | None, now: float | None) -> Effect:
    if then is None or now is None or math.isnan(then) or math.isnan(now):
        return "not_measured"
    if now == then:
        return "unchanged"
    better = now > then if direction != "lower" else now < then
    return "improved" if better else "declined"


def improvement_form(result, lang: str = "en", actions=None) -> tuple[AreaForm, ...]:
    """The agreed improvement areas of an AuditResult with their figures (see AreaForm).

    A second benchmark (an earlier audit exists) reads the baseline from the latest earlier
    audit and shows the effect; otherwise the areas are a plan: baseline now, no effect yet.
    """
    from auditlib.handles import load_actions

    catalogue = result.catalogue
    actions = actions or load_actions(catalogue)
    quality = {c.indicator: c for c in catalogue.labels.gold.quality}
    last = result.earlier[-1] if result.earlier else None
    out = []
    for area in result.notes.improvement_areas:
        if area not in catalogue.by_id:
            continue
        ind = catalogue.indicator(area)
        crit = quality.get(area)
        now = result.client.answers.get(area)
        baseline = last.answers.get(area) if last is not None else now
        target = None
        if crit is not None:
            target = crit.threshold if not crit.passes(baseline) else (crit.target or crit.threshold)
        current = now if last is not None else None
        change = None if current is None or baseline is None else float(current) - float(baseline)
        reached = None if current is None or crit is None else bool(
            current >= target if crit.op == ">=" else current <= target) if target is not None else None
        first, alternative = actions.for_indicator(area, lang)
        out.append(AreaForm(area, crit.id if crit else None, baseline,
                            last.benchmark_year if last is not None else result.client.benchmark_year,
                            target, current, result.client.benchmark_year if last is not None else None,
                            change, _effect(ind.direction, baseline, current) if last is not None else "not_yet",
                            reached, tuple(a for a in (first, alternative) if a),
                            tuple(n.text for n in result.notes.for_anchor(f"indicator:{area}"))))
    return tuple(out)


def due_words(lang: str) -> dict:
    """The due list's words (templates/report/journey.yaml, section due)."""
    from auditlib.report.view_journey import journey_words

    return journey_words(lang)["due"]


def due_title(as_of: _dt.date, within_months: int, lang: str) -> str:
    """The due list's heading: its date and its horizon ('within 6 months', 'binnen 1 maand')."""
    from auditlib import present

    w = due_words(lang)
    within = f"{present.number(within_months, lang)} {present.plural(within_months, **w['months'])}"
    return w["title"].format(date=present.date(as_of, lang), within_text=within)


def due_cells(row: DueRow, catalogue: Catalogue, lang: str) -> dict[str, str]:
    """One due-list row as the reader sees it: every month and label through present."""
    from auditlib import present

    w = due_words(lang)
    label = getattr(catalogue.labels, row.label).name[lang] if row.label else present.DASH
    if row.taken is not None:
        held = present.month(row.taken.interview, lang) if row.taken.month_recorded else str(row.taken.year)
        window = w["held"].format(month=held)
    elif row.opens is None:
        window = w["asap"]
    else:
        window = f"{present.month(row.opens, lang)} – {present.month(row.closes, lang)}"
    status = due_status_words(lang)[row.status]
    return {"client": row.client_id, "name": row.name, "label": label,
            "expires": present.month(row.expires, lang), "step": w["steps"][row.step],
            "window": window, "status": status}


def due_status_words(lang: str) -> dict[str, str]:
    from auditlib.report.view_journey import journey_words

    return journey_words(lang)["status"]


def due_for_clients(paths: Iterable, catalogue: Catalogue, as_of: _dt.date,
                    within_months: int = 6) -> tuple[list[DueRow], list[tuple[str, str]]]:
    """Every client folder's due row as of a date, sorted by due date.

    Reads the folders only (no benchmark, no analysis), so the list is quick for a whole
    portfolio; `auditlib due` and the overview notebook show it.

    Parameters
    ----------
    paths : client folders (paths or ids)
    catalogue : the catalogue (timing rules; the questionnaires are read against it)
    as_of : the date of the list, from the entry point
    within_months : the "due" horizon

    Returns
    -------
    (rows, problems): the DueRows soonest first, and (client id, first line of the problem)
    for each folder that could not be read; nothing is raised for a bad folder.
    """
    from auditlib.errors import AuditError
    from auditlib.intake import load_client

    rules = JourneyRules.from_catalogue(catalogue)
    rows, problems = [], []
    for path in paths:
        try:
            folder = load_client(path, catalogue)
        except AuditError as exc:
            problems.append((getattr(path, "name", str(path)), str(exc).splitlines()[0]))
            continue
        j = journey(awards_of(folder), benchmarks_of(folder), rules, as_of, within_months)
        rows.append(due_row(folder.client_id, folder.profile.name, j))
    return due_list(rows), problems

"""One interpretation meeting's state, without any widget: what the screen shows and changes.

Why apart from the widgets: every rule (the floor, the differencing ledger, the what-if rule,
the notes merge) lives here and is tested headless; the widgets only call these methods and
render what they return with `auditlib.present`. The real AuditResult is computed by
`analyse()` and never changed; a what-if scenario is a separate result.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from auditlib.audit import AuditResult, analyse, reference_for
from auditlib.benchmark import BenchmarkDB, load_benchmark
from auditlib.catalogue import Catalogue, load_catalogue
from auditlib.config import Settings
from auditlib.errors import AuditError, ParameterError
from auditlib.files import outputs_lock
from auditlib.intake import ClientFolder, load_client
from auditlib.labels import evaluate
from auditlib.meeting.groups import Candidate, Refusal, admit_result, check_custom, meeting_ledger
from auditlib.meeting.notes_store import NotesDraft
from auditlib.meeting.scenarios import load_scenarios, save_scenarios, upsert, valid_name
from auditlib.meeting.whatif import Scenario, changed_answers, check_answer, confine, flipped_criteria
from auditlib.peers import Reference, client_exclusion
from auditlib.scoring import _signs, client_percentiles, group_stats

SHOWN_STATUS = ("ok", "not_answered")          # rows whose peer statistics the real result shows


def _vector(answers, catalogue: Catalogue) -> np.ndarray:
    return np.array([np.nan if answers.get(i) is None else float(answers[i]) for i in catalogue.ids])


def _reference(result: AuditResult) -> Reference:
    """The prepared benchmark this result was computed on (cached in the process by analyse)."""
    from auditlib import audit

    for key, ref in audit._REFERENCES.items():
        if key[0] == result.benchmark_sha256 and key[1] == result.catalogue.version:
            return ref
    raise ParameterError("the benchmark of this result is no longer loaded; analyse again")


def scenario_result(result: AuditResult, answers, ref: Reference | None = None) -> AuditResult:
    """The real result with some answers changed: positions, dimensions, labels, strengths.

    Peer statistics are the real result's (the peers do not change); only the client's values
    move. A group or indicator the real result shows no statistics for shows none here either,
    and changed indicators follow the what-if rule (`whatif.confine`).
    """
    ref = ref or _reference(result)
    cat = result.catalogue
    new_answers = {**result.client.answers, **answers}
    changed = set(changed_answers(result.client.answers, answers))
    values = _vector(new_answers, cat)
    signs = _signs(cat)
    pos = result.positions.copy()
    idx = {iid: k for k, iid in enumerate(cat.ids)}
    ind_arr, grp_arr = pos["indicator"].to_numpy(), pos["group"].to_numpy()
    status = pos["status"].to_numpy(dtype=object).copy()
    val_arr = pos["value"].to_numpy(dtype=float).copy()
    pct_arr = pos["percentile"].to_numpy(dtype=float).copy()
    rows = np.flatnonzero(np.isin(ind_arr, list(changed)))
    groups = {g.requested: g for g in result.peer_groups}
    for r in rows:
        k = idx[ind_arr[r]]
        val_arr[r] = values[k]
        if status[r] not in SHOWN_STATUS:
            continue                                  # no statistics in the real result: none here
        g = groups[grp_arr[r]]
        stats = group_stats(ref, g, cat)
        one = np.full(len(values), np.nan)
        one[k] = values[k]
        pct_arr[r] = client_percentiles(one, stats, signs, result.anonymity_floor)[k] \
            if values[k] == values[k] else np.nan
        status[r] = "not_answered" if values[k] != values[k] else "ok"
    pos["value"], pos["percentile"], pos["status"] = val_arr, pct_arr, status
    last = result.earlier[-1] if result.earlier else None
    feeds = {c.indicator for c in cat.labels.all_criteria()} | set(result.notes.improvement_areas)
    labels = result.labels if not (changed & feeds) else evaluate(
        cat, new_answers, benchmark_year=result.client.benchmark_year,
        earlier=last.answers if last else None, earlier_year=last.benchmark_year if last else None,
        interview=result.client.interview, earlier_interview=last.interview if last else None,
        improvement_areas=result.notes.improvement_areas)
    profile = replace(result.client, answers=new_answers)
    return confine(replace(result, client=profile, positions=pos, labels=labels, evolution=None), changed)


class GroupRefused(ParameterError):
    """A group (or a switch of the chosen group) that the meeting's disclosure ledger refuses."""

    def __init__(self, refusal: Refusal):
        super().__init__(f"refused: {refusal.message('en', 10) or refusal.other}")
        self.refusal = refusal


@dataclass(frozen=True)
class ReportRun:
    """The outcome of the report button: ok with its folder, or failed with the reason."""

    ok: bool
    seconds: float
    html: Path | None = None
    reason: str = ""


class MeetingSession:
    """The state of one meeting: client, groups, ledger, what-if, notes, scenarios, report."""

    def __init__(self, client: str | Path, *, lang: str = "en", groups: Sequence[str] | str | None = None,
                 earlier_audit: str = "", anonymity_floor: int | None = None, settings: Settings | None = None,
                 catalogue: Catalogue | None = None, benchmark: BenchmarkDB | None = None,
                 outputs_dir: str | Path | None = None, formats: Sequence[str] = ("html", "pdf", "xlsx")):
        from auditlib.present import words
        from auditlib.report import split_groups

        words(lang)                                           # a bad language is refused here
        self.lang = lang
        self.settings = settings or Settings.from_env()
        self.catalogue = catalogue or load_catalogue(self.settings.catalogue_dir)
        self.benchmark = benchmark or load_benchmark(self.settings.benchmark_path, self.catalogue)
        path = Path(client)
        self.client_dir = path if path.is_dir() else self.settings.clients_dir / str(client)
        folder = load_client(self.client_dir, self.catalogue)
        self.folder = self._with_earlier(folder, str(earlier_audit).strip())
        self.floor = anonymity_floor or self.catalogue.peers.anonymity_floor
        self.ref = reference_for(self.benchmark, self.catalogue)
        self.exclude = client_exclusion(self.ref, self.folder.profile)
        self.group_texts = split_groups(groups) if groups else list(self.catalogue.peers.default_groups)
        self.outputs_dir = Path(outputs_dir or self.settings.outputs_dir)
        self.formats = tuple(formats)
        self.ledger = meeting_ledger(self.ref, self.floor)
        self.shown_names: set[str] = set()
        self.notes = NotesDraft.load_or_problem(folder.notes_path or self.client_dir / "notes.yaml", self.catalogue)
        self.primary = self.catalogue.peers.primary_group
        self.result = self._analyse()
        self.primary = self.result.primary_group
        self.whatif: dict[str, float | None] = {}
        self.scenario: AuditResult | None = None
        self.scenario_name = ""
        self.scenarios: list[Scenario] = load_scenarios(self.client_dir, self.catalogue)
        self.report_thread: threading.Thread | None = None
        self.last_report: ReportRun | None = None

    # --- the real analysis ------------------------------------------------------------------
    @staticmethod
    def _with_earlier(folder: ClientFolder, choice: str) -> ClientFolder:
        if choice in ("", "latest"):
            return folder
        if choice == "none":
            return replace(folder, earlier=())
        chosen = tuple(e for e in folder.earlier if str(e.benchmark_year) == choice)
        if not chosen:
            years = ", ".join(str(e.benchmark_year) for e in folder.earlier) or "none"
            raise ParameterError(f"earlier_audit: no earlier audit of {choice} (found: {years})")
        return replace(folder, earlier=chosen)

    def _analyse(self) -> AuditResult:
        """A new real result, admitted against everything the meeting has shown (else refused)."""
        result = analyse(self.folder, catalogue=self.catalogue, benchmark=self.benchmark,
                         groups=self.group_texts, primary_group=self.primary,
                         anonymity_floor=self.floor, notes=self.notes.as_notes(), ledger=self.ledger)
        refused = admit_result(self.ledger, result)       # every group shown counts for the meeting
        if refused is not None:
            raise GroupRefused(refused)
        self.shown_names |= {g.requested for g in result.peer_groups}
        return result

    @property
    def shown(self) -> AuditResult:
        """What the screen shows: the scenario while answers are changed, else the real result."""
        return self.scenario if self.scenario is not None else self.result

    def group_keys(self) -> list[str]:
        return [g.requested for g in self.result.peer_groups]

    def set_primary(self, key: str) -> None:
        if key not in self.group_keys():
            raise ParameterError(f"unknown peer group '{key}' in this meeting")
        before = self.primary
        self.primary = key
        try:
            result = self._analyse()
            chosen = result.group(key)
            if not chosen.available:        # below the floor, or refused by the disclosure rules
                reason = chosen.refusals[0].text(self.lang, self.floor) if chosen.refusals else (chosen.reason or "")
                raise GroupRefused(Refusal("floor" if not chosen.refusals else "disclosure", reason=reason))
        except GroupRefused:
            self.primary = before
            raise
        self.result = result
        self._rescore()

    def set_lang(self, lang: str) -> None:
        from auditlib.present import words

        words(lang)
        self.lang = lang

    # --- custom groups -----------------------------------------------------------------------
    def check_group(self, name: str, filters: str) -> Candidate:
        """The live check of a custom group as typed: n (or below the floor) and any refusal."""
        used = self.group_keys() + sorted(self.shown_names)
        return check_custom(name, filters, self.folder.profile, self.ref, self.catalogue, floor=self.floor,
                            exclude=self.exclude, ledger=self.ledger, used_names=used)

    def add_group(self, name: str, filters: str) -> Candidate:
        """Add a custom group when nothing refuses it; the group then counts as shown."""
        candidate = self.check_group(name, filters)
        if candidate.refusal is None:
            self.group_texts.append(candidate.text)
            try:
                self.result = self._analyse()
            except GroupRefused as exc:
                self.group_texts.pop()
                return replace(candidate, refusal=exc.refusal)
            self._rescore()
        return candidate

    # --- what-if -----------------------------------------------------------------------------
    def set_answer(self, indicator: str, raw: object) -> AuditResult:
        """Change one answer in the scenario (validated like the intake: AnswerError if not)."""
        value = check_answer(self.catalogue.indicator(indicator), raw)
        self.whatif[indicator] = value
        self.whatif = changed_answers(self.result.client.answers, self.whatif)
        self._rescore()
        return self.shown

    def clear_answer(self, indicator: str) -> None:
        self.whatif.pop(indicator, None)
        self._rescore()

    def reset_whatif(self) -> None:
        self.whatif, self.scenario_name = {}, ""
        self._rescore()

    def _rescore(self) -> None:
        self.scenario = scenario_result(self.result, self.whatif, self.ref) if self.whatif else None

    def flipped(self) -> pd.DataFrame:
        """Criteria that pass or fail differently in the scenario (empty without one)."""
        if self.scenario is None:
            return flipped_criteria(self.result, self.result)
        return flipped_criteria(self.result, self.scenario)

    def handles(self, result: AuditResult | None = None) -> pd.DataFrame:
        from auditlib.handles import improvement_handles

        return improvement_handles(result or self.shown, self.lang)

    # --- scenarios -----------------------------------------------------------------------------
    def save_scenario(self, name: str) -> Path:
        name = name.strip()
        if not valid_name(name):
            raise ParameterError("scenario_bad_name")
        if not self.whatif:
            raise ParameterError("scenario_empty")
        current = load_scenarios(self.client_dir, self.catalogue)     # someone may have added one
        self.scenarios = upsert(current, Scenario(name, dict(self.whatif)))
        path = save_scenarios(self.client_dir, self.scenarios)
        self.scenario_name = name
        return path

    def load_scenario(self, name: str) -> None:
        found = next(s for s in self.scenarios if s.name == name)
        self.whatif = changed_answers(self.result.client.answers, dict(found.answers))
        self.scenario_name = name
        self._rescore()

    def set_in_report(self, names: Sequence[str]) -> Path | None:
        """Which scenarios the report's appendix shows (stored in scenarios.yaml)."""
        current = load_scenarios(self.client_dir, self.catalogue)
        self.scenarios = [replace(s, in_report=s.name in names) for s in current]
        return save_scenarios(self.client_dir, self.scenarios) if self.scenarios else None

    # --- notes -------------------------------------------------------------------------------
    def save_notes(self) -> Path:
        path = self.notes.save()
        self.result = self._analyse()       # the improvement areas feed Silver readiness
        self._rescore()
        return path

    def set_improvement_areas(self, areas: Sequence[str]) -> None:
        self.notes.set_areas(list(areas))

    # --- the report ------------------------------------------------------------------------
    def regenerate_report(self, on_progress: Callable[[float], None] | None = None,
                          background: bool = False) -> ReportRun | None:
        """Write the engagement's report with the saved notes and the chosen scenarios.

        Unsaved notes are saved first (the report reads the file). A failure keeps the earlier
        report (run_engagement's atomic swap) and returns the reason. With `background`, the
        run happens in a thread (`self.report_thread`) and `self.last_report` holds the outcome.
        """
        if self.notes.dirty:
            self.save_notes()

        def work() -> ReportRun:
            from auditlib.report import PARAMETERS, run_engagement

            start = time.perf_counter()
            extra: dict[str, Any] = {"earlier_audit": "none"} if not self.folder.earlier else {}
            if self.folder.earlier:
                extra["earlier_audit"] = str(self.folder.earlier[-1].benchmark_year)
            chosen = [s.name for s in self.scenarios if s.in_report]
            if "scenarios" in PARAMETERS:
                extra["scenarios"] = ",".join(chosen)
            if self.floor != self.catalogue.peers.anonymity_floor:
                extra["anonymity_floor"] = self.floor
            ticker = None
            if on_progress is not None:
                stop = threading.Event()

                def tick():
                    while not stop.wait(0.5):
                        on_progress(time.perf_counter() - start)
                ticker = threading.Thread(target=tick, daemon=True)
                ticker.start()
            try:
                with outputs_lock(self.outputs_dir):    # no batch or run writing there at the same time
                    outcome = run_engagement(self.client_dir, settings=self.settings, lang=self.lang,
                                             groups=self.group_texts, formats=self.formats,
                                             outputs_dir=self.outputs_dir, extra_parameters=extra)
                if outcome.status == "ok" and outcome.out_dir is not None:
                    run = ReportRun(True, time.perf_counter() - start, outcome.out_dir / "report.html")
                else:
                    run = ReportRun(False, time.perf_counter() - start, reason=outcome.error or "unknown")
            except AuditError as exc:     # refused (the lock, a parameter): its own message
                run = ReportRun(False, time.perf_counter() - start, reason=str(exc))
            except Exception as exc:      # the screen shows the reason; the earlier report stays
                run = ReportRun(False, time.perf_counter() - start, reason=f"{type(exc).__name__}: {exc}")
            finally:
                if ticker is not None:
                    stop.set()
            self.last_report = run
            return run

        if background:
            self.report_thread = threading.Thread(target=work, daemon=True)
            self.report_thread.start()
            return None
        return work()

    # --- the summary -----------------------------------------------------------------------
    def export_summary(self, fmt: str = "md", today: _dt.date | None = None) -> Path:
        from auditlib.meeting.summary import write_summary

        return write_summary(self, fmt, today or _dt.date.today())

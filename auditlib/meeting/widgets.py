"""The meeting screen: ipywidgets wired to a MeetingSession, rendered by `meeting.render`.

Works in JupyterLab and, without code, in Voilà (`auditlib meeting CLIENT`). Every callback
catches the workbench's own errors and shows them as a message on screen, never a traceback.
The widgets are attributes with stable names so tests can set values and click buttons.
"""

from __future__ import annotations

import functools
from dataclasses import replace
import threading
import traceback

import ipywidgets as w

from auditlib import present
from auditlib.errors import AuditError, InputError
from auditlib.meeting import render
from auditlib.meeting.groups import Candidate
from auditlib.meeting.session import GroupRefused, MeetingSession
from auditlib.meeting.texts import t
from auditlib.meeting.whatif import AnswerError

WIDE = w.Layout(width="32em")
_EMPTY = Candidate("", None, None, None)


def _guard(message_attr: str):
    """Run a callback; show the workbench's errors (or an unexpected one) in a message pane."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapped(self, *args, **kwargs):
            try:
                return fn(self, *args, **kwargs)
            except AnswerError as exc:
                self._msg(message_attr, t(self.s.lang, "whatif_bad", indicator=self._ind_name(exc.indicator),
                                          message=exc.message, expected=exc.expected), bad=True)
            except InputError as exc:
                self._msg(message_attr, exc.render(), bad=True)
            except AuditError as exc:
                key = str(exc)
                text = t(self.s.lang, key) if key in ("scenario_bad_name", "scenario_empty") else key
                self._msg(message_attr, text, bad=True)
            except Exception as exc:     # noqa: BLE001 - the screen must not show a traceback
                self.errors.append(traceback.format_exc())
                self._msg(message_attr, f"{type(exc).__name__}: {exc}", bad=True)
        return wrapped
    return deco


class MeetingApp:
    """All widgets of one meeting screen. `app.widget` is the root to display."""

    def __init__(self, session: MeetingSession):
        self.s = session
        self.errors: list[str] = []
        self._quiet = False
        self.report_thread: threading.Thread | None = None
        lang = session.lang
        self.lang_toggle = w.ToggleButtons(options=[("English", "en"), ("Nederlands", "nl")], value=lang)
        self.group_select = w.Dropdown(description="", layout=WIDE)
        self.group_msg = w.HTML()
        self.header = w.HTML()
        # overview and groups
        self.overview_html = w.HTML()
        self.groups_html = w.HTML()
        self.custom_name = w.Text(placeholder="mine", layout=w.Layout(width="10em"))
        self.custom_filter = w.Text(placeholder="country:NL|BE,field:water", layout=WIDE, continuous_update=True)
        self.custom_check = w.Button()
        self.custom_add = w.Button(button_style="primary")
        self.custom_msg = w.HTML()
        self.custom_hint = w.HTML()
        # drill-down
        self.dim_select = w.Dropdown(layout=WIDE)
        self.ind_select = w.Dropdown(layout=WIDE)
        self.dim_html = w.HTML()
        self.ind_html = w.HTML()
        # what-if
        self.wi_intro = w.HTML()
        self.wi_indicator = w.Dropdown(layout=WIDE)
        self.wi_value = w.Text(continuous_update=False, layout=w.Layout(width="12em"))
        self.wi_slider = w.FloatSlider(continuous_update=False, readout=False, layout=w.Layout(width="24em"))
        self.wi_apply = w.Button(button_style="primary")
        self.wi_reset = w.Button()
        self.wi_msg = w.HTML()
        self.wi_html = w.HTML()
        self.wi_handles_html = w.HTML()
        self.sc_name = w.Text(layout=w.Layout(width="16em"))
        self.sc_save = w.Button()
        self.sc_select = w.Dropdown(layout=w.Layout(width="16em"))
        self.sc_load = w.Button()
        self.sc_report = w.SelectMultiple(layout=w.Layout(width="24em", height="5em"))
        self.sc_msg = w.HTML()
        self.sc_report_label = w.HTML()
        # notes
        self.note_anchor = w.Dropdown(layout=WIDE)
        self.note_list = w.Select(layout=w.Layout(width="48em", height="6em"))
        self.note_text = w.Textarea(layout=w.Layout(width="48em", height="8em"))
        self.note_new = w.Button()
        self.note_update = w.Button()
        self.note_delete = w.Button(button_style="warning")
        self.notes_save = w.Button(button_style="primary")
        self.notes_msg = w.HTML()
        self.area_selects = [w.Dropdown(layout=WIDE) for _ in range(session.catalogue.labels.silver.improvement_areas)]
        self.areas_label = w.HTML()
        # report and summary
        self.report_button = w.Button(button_style="primary")
        self.report_progress = w.IntProgress(min=0, max=100, value=0, layout=w.Layout(width="20em"))
        self.report_html = w.HTML()
        self.summary_format = w.ToggleButtons(options=[("Markdown", "md"), ("HTML", "html")], value="md")
        self.summary_button = w.Button()
        self.summary_html = w.HTML()
        self.tabs = w.Tab()
        self._build()
        self._wire()
        self.refresh()
        if session.notes.problem:
            self._msg("notes_msg", session.notes.problem, bad=True)

    # --- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        row = lambda *c: w.HBox(list(c))   # noqa: E731
        overview = w.VBox([self.overview_html])
        groups = w.VBox([self.groups_html, self.custom_hint, row(self.custom_name, self.custom_filter),
                         row(self.custom_check, self.custom_add), self.custom_msg])
        drill = w.VBox([self.dim_select, self.dim_html, self.ind_select, self.ind_html])
        whatif = w.VBox([self.wi_intro, row(self.wi_indicator, self.wi_value, self.wi_apply, self.wi_reset),
                         self.wi_slider,
                         self.wi_msg, self.wi_html, self.wi_handles_html, row(self.sc_name, self.sc_save),
                         row(self.sc_select, self.sc_load), self.sc_report_label, self.sc_report, self.sc_msg])
        notes = w.VBox([self.note_anchor, self.note_list, self.note_text,
                        row(self.note_new, self.note_update, self.note_delete), self.areas_label,
                        *self.area_selects, self.notes_save, self.notes_msg])
        report = w.VBox([row(self.report_button, self.report_progress), self.report_html,
                         row(self.summary_format, self.summary_button), self.summary_html])
        self.tabs.children = [overview, groups, drill, whatif, notes, report]
        self.widget = w.VBox([self.header, row(self.lang_toggle, self.group_select), self.group_msg, self.tabs])
        self.widget.add_class("auditlib-meeting")
        for name in ("wi_indicator", "wi_value", "wi_html", "wi_handles_html", "wi_msg", "note_anchor", "note_text",
                     "note_new",
                     "notes_save", "notes_msg", "overview_html", "custom_filter", "custom_msg", "group_select",
                     "group_msg",
                     "lang_toggle", "report_button", "report_html", "tabs"):
            getattr(self, name).add_class("mt-" + name.replace("_", "-"))   # stable hooks for the browser test

    def _on(self, widget, fn) -> None:
        """Observe a value; quiet while the screen itself refills options (no spurious changes)."""
        widget.observe(lambda ch: None if self._quiet else fn(ch["new"]), names="value")

    def _wire(self) -> None:
        self._on(self.lang_toggle, self.on_lang)
        self._on(self.group_select, self.on_group)
        self._on(self.custom_filter, lambda _: self.on_check())
        self.custom_check.on_click(lambda _: self.on_check())
        self.custom_add.on_click(lambda _: self.on_add_group())
        self._on(self.dim_select, self.on_dimension)
        self._on(self.ind_select, self.on_indicator)
        self._on(self.wi_value, lambda _: self.on_apply())
        self._on(self.wi_slider, lambda v: setattr(self.wi_value, "value", _plain(v)))
        self.wi_apply.on_click(lambda _: self.on_apply())
        self.wi_reset.on_click(lambda _: self.on_reset())
        self._on(self.wi_indicator, lambda _: self._show_current_answer())
        self.sc_save.on_click(lambda _: self.on_save_scenario())
        self.sc_load.on_click(lambda _: self.on_load_scenario())
        self._on(self.sc_report, self.on_in_report)
        self._on(self.note_anchor, lambda _: self._fill_notes())
        self._on(self.note_list, lambda _: self._show_note())
        self.note_new.on_click(lambda _: self.on_note_new())
        self.note_update.on_click(lambda _: self.on_note_update())
        self.note_delete.on_click(lambda _: self.on_note_delete())
        self.notes_save.on_click(lambda _: self.on_notes_save())
        for d in self.area_selects:
            self._on(d, lambda _: self.on_areas())
        self.report_button.on_click(lambda _: self.on_report())
        self.summary_button.on_click(lambda _: self.on_summary())

    # --- helpers -------------------------------------------------------------------------------
    def _msg(self, attr: str, text: str, bad: bool = False) -> None:
        cls = "refused" if bad else "ok"
        getattr(self, attr).value = f'<div class="mt"><span class="{cls}">{render.E(text)}</span></div>' if text else ""

    def _ind_name(self, iid: str) -> str:
        return self.s.catalogue.indicator(iid).name[self.s.lang]

    @staticmethod
    def _set_options(widget, options, keep=True) -> None:
        """Replace a selector's options and keep its value where it still exists."""
        old = widget.value
        values = [v for _, v in options]
        widget.options = options
        if keep and old in values:
            widget.value = old
        elif values and not isinstance(widget, w.Select):
            widget.value = values[0]

    # --- rendering ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Every label and pane again (after a language switch or a new real result)."""
        was, self._quiet = self._quiet, True
        try:
            self._refresh()
        finally:
            self._quiet = was
        self._show_note()

    def _refresh(self) -> None:
        s, lang, cat = self.s, self.s.lang, self.s.catalogue
        titles = ["tab_overview", "tab_groups", "tab_drill", "tab_whatif", "tab_notes", "tab_report"]
        self.tabs.titles = tuple(t(lang, k) for k in titles)
        self.group_select.description = t(lang, "peer_group")
        self._set_options(self.group_select, [(g.name(lang), g.requested) for g in s.result.peer_groups])
        self.group_select.value = s.primary
        for b, k in ((self.custom_check, "custom_check"), (self.custom_add, "custom_add"),
                     (self.wi_apply, "whatif_apply"), (self.wi_reset, "whatif_reset"),
                     (self.sc_save, "scenario_save"), (self.sc_load, "scenario_load"),
                     (self.note_new, "note_new"), (self.note_update, "note_update"),
                     (self.note_delete, "note_delete"), (self.notes_save, "notes_save"),
                     (self.report_button, "report_button"), (self.summary_button, "summary_button")):
            b.description = t(lang, k)
        self.custom_name.description = t(lang, "custom_name")
        self.custom_filter.description = t(lang, "custom_filter")
        self.custom_hint.value = f'<p class="muted">{render.E(t(lang, "custom_hint"))}</p>'
        self.wi_value.description = t(lang, "whatif_answer")
        self.sc_name.description = t(lang, "scenario_name")
        self.sc_report.description = ""
        self.wi_intro.value = f"<p>{render.E(t(lang, 'whatif_intro'))}</p>"
        self.sc_report_label.value = f"<p>{render.E(t(lang, 'scenario_in_report'))}:</p>"
        hint = t(lang, 'areas_hint').format(**present.silver_gap(cat, lang))
        self.areas_label.value = f"<h4>{render.E(t(lang, 'areas'))}</h4><p class='muted'>{render.E(hint)}</p>"
        self._set_options(self.dim_select, [(d.name[lang], d.id) for d in cat.dimensions])
        dims_ind = [(i.name[lang], i.id) for i in cat.in_dimension(self.dim_select.value)]
        self._set_options(self.ind_select, dims_ind)
        self._set_options(self.wi_indicator, [(i.name[lang], i.id) for i in cat.indicators])
        self._set_options(self.note_anchor, render.anchors(s))
        quality = [("", "")] + [(cat.indicator(c.indicator).name[lang], c.indicator)
                                for c in cat.labels.gold.quality]
        for slot, d in enumerate(self.area_selects):
            self._set_options(d, quality, keep=False)
            d.value = s.notes.areas[slot] if slot < len(s.notes.areas) and s.notes.areas[slot] in dict(
                (v, 1) for _, v in quality) else ""
        self._fill_scenarios()
        self.redraw()

    def redraw(self) -> None:
        """The panes that depend on the result and the scenario."""
        s = self.s
        self.header.value = render.header(s)
        self.overview_html.value = render.overview(s)
        self.groups_html.value = render.groups_table(s)
        self.dim_html.value = render.dimension_detail(s, self.dim_select.value)
        self.ind_html.value = render.indicator_detail(s, self.ind_select.value) if self.ind_select.value else ""
        self._draw_whatif()
        self._fill_notes()

    def _fill_scenarios(self) -> None:
        names = render.scenario_list(self.s)
        self._set_options(self.sc_select, [(n, n) for n in names])
        with self.sc_report.hold_trait_notifications():
            self.sc_report.options = names
            self.sc_report.value = tuple(sc.name for sc in self.s.scenarios if sc.in_report)

    def _fill_notes(self) -> None:
        anchor = self.note_anchor.value
        items = self.s.notes.for_anchor(anchor) if anchor else []
        opts = [(n.text[:90] + ("…" if len(n.text) > 90 else ""), i) for i, n in items]
        self._set_options(self.note_list, opts)
        if self.note_list.value is None and opts:
            self.note_list.value = opts[0][1]
        if not opts:
            self.note_text.value = ""

    def _show_note(self) -> None:
        i = self.note_list.value
        if i is not None and i < len(self.s.notes.notes):
            self.note_text.value = self.s.notes.notes[i].text

    def _show_current_answer(self) -> None:
        iid = self.wi_indicator.value
        if iid is None:
            return
        value = self.s.whatif.get(iid, self.s.result.client.answers.get(iid))
        ind = self.s.catalogue.indicator(iid)
        was, self._quiet = self._quiet, True          # showing the current answer is not a change
        try:
            self.wi_value.value = "" if value is None else _plain(value)
            step = 1.0 if ind.is_integer else (0.5 if ind.kind == "share" else (ind.max - ind.min) / 200)
            with self.wi_slider.hold_trait_notifications():
                self.wi_slider.min, self.wi_slider.max, self.wi_slider.step = -1e18, 1e18, step
                self.wi_slider.min, self.wi_slider.max = ind.min, ind.max
            self.wi_slider.value = ind.min if value is None else min(max(float(value), ind.min), ind.max)
        finally:
            self._quiet = was

    def _draw_whatif(self) -> None:
        """The scenario's numbers first, then its handles (the slower part) in their own pane."""
        self.wi_html.value = render.whatif(self.s)
        self.wi_handles_html.value = render.whatif_handles(self.s)

    # --- callbacks -----------------------------------------------------------------------------
    @_guard("custom_msg")
    def on_lang(self, lang: str) -> None:
        self.s.set_lang(lang)
        self.refresh()

    @_guard("group_msg")
    def on_group(self, key: str) -> None:
        if key and key != self.s.primary:
            try:
                self.s.set_primary(key)
            except GroupRefused as exc:
                self._quiet = True
                self.group_select.value = self.s.primary
                self._quiet = False
                self.group_msg.value = render.candidate_message(self.s, replace(_EMPTY, refusal=exc.refusal))
                return
            self.group_msg.value = ""
            self.redraw()

    @_guard("custom_msg")
    def on_check(self) -> None:
        if not self.custom_filter.value.strip():
            self.custom_msg.value = ""
            return
        cand = self.s.check_group(self.custom_name.value or "mine", self.custom_filter.value)
        self.custom_msg.value = render.candidate_message(self.s, cand)

    @_guard("custom_msg")
    def on_add_group(self) -> None:
        cand = self.s.add_group(self.custom_name.value or "mine", self.custom_filter.value)
        if cand.refusal is not None:
            self.custom_msg.value = render.candidate_message(self.s, cand)
            return
        n = present.group_size(cand.public_n, self.s.floor, self.s.lang)
        assert cand.spec is not None, "an admitted group has its spec"
        self.refresh()
        self._msg("custom_msg", t(self.s.lang, "custom_added", name=cand.spec.key, n=n))

    def on_dimension(self, dim: str) -> None:
        if dim is None:
            return
        lang = self.s.lang
        self._set_options(self.ind_select, [(i.name[lang], i.id) for i in self.s.catalogue.in_dimension(dim)],
                          keep=False)
        self.dim_html.value = render.dimension_detail(self.s, dim)

    def on_indicator(self, iid: str) -> None:
        if iid:
            self.ind_html.value = render.indicator_detail(self.s, iid)

    @_guard("wi_msg")
    def on_apply(self) -> None:
        iid = self.wi_indicator.value
        if iid is None:
            return
        self.s.set_answer(iid, self.wi_value.value)
        self._show_current_answer()          # the slider follows a typed value
        self.wi_msg.value = ""
        self._draw_whatif()

    @_guard("wi_msg")
    def on_reset(self) -> None:
        self.s.reset_whatif()
        self.wi_msg.value = ""
        self._show_current_answer()
        self._draw_whatif()

    @_guard("sc_msg")
    def on_save_scenario(self) -> None:
        path = self.s.save_scenario(self.sc_name.value)
        self._fill_scenarios()
        self._msg("sc_msg", t(self.s.lang, "scenario_saved", name=self.sc_name.value.strip(), path=path))

    @_guard("sc_msg")
    def on_load_scenario(self) -> None:
        name = self.sc_select.value
        if not name:
            return
        self.s.load_scenario(name)
        self.sc_name.value = name
        self._show_current_answer()
        self._draw_whatif()
        self._msg("sc_msg", t(self.s.lang, "scenario_loaded", name=name))

    @_guard("sc_msg")
    def on_in_report(self, names) -> None:
        if tuple(names) != tuple(sc.name for sc in self.s.scenarios if sc.in_report):
            self.s.set_in_report(list(names))

    @_guard("notes_msg")
    def on_note_new(self) -> None:
        if not self.note_text.value.strip():
            self._msg("notes_msg", t(self.s.lang, "notes_empty"), bad=True)
            return
        i = self.s.notes.add(self.note_anchor.value, self.note_text.value)
        self._fill_notes()
        self.note_list.value = i
        self._msg("notes_msg", t(self.s.lang, "notes_unsaved"))

    @_guard("notes_msg")
    def on_note_update(self) -> None:
        i = self.note_list.value
        if i is None:
            return self.on_note_new()
        if not self.note_text.value.strip():
            self._msg("notes_msg", t(self.s.lang, "notes_empty"), bad=True)
            return
        self.s.notes.edit(i, self.note_text.value)
        self._fill_notes()
        self._msg("notes_msg", t(self.s.lang, "notes_unsaved"))

    @_guard("notes_msg")
    def on_note_delete(self) -> None:
        i = self.note_list.value
        if i is None:
            return
        self.s.notes.delete(i)
        self.note_list.value = None
        self._fill_notes()
        self.note_text.value = ""
        self._msg("notes_msg", t(self.s.lang, "notes_unsaved"))

    @_guard("notes_msg")
    def on_areas(self) -> None:
        self.s.set_improvement_areas([d.value for d in self.area_selects if d.value])

    @_guard("notes_msg")
    def on_notes_save(self) -> None:
        try:
            path = self.s.save_notes()
        except (OSError, InputError) as exc:
            reason = exc.render() if isinstance(exc, InputError) else str(exc)
            self._msg("notes_msg", t(self.s.lang, "notes_failed", reason=reason), bad=True)
            return
        self.redraw()
        self._msg("notes_msg", t(self.s.lang, "notes_saved", path=path))

    def on_report(self) -> None:
        """Regenerate the report in a thread; the bar moves while it runs; the link when done."""
        if self.report_thread is not None and self.report_thread.is_alive():
            return
        lang = self.s.lang
        self.report_button.disabled = True
        self.report_progress.bar_style = "info"
        self.report_progress.value = 5
        self.report_html.value = f"<p>{render.E(t(lang, 'report_running', seconds=0))}</p>"

        def progress(seconds: float) -> None:
            self.report_progress.value = min(95, 5 + int(seconds * 3))
            self.report_html.value = f"<p>{render.E(t(lang, 'report_running', seconds=int(seconds)))}</p>"

        def work() -> None:
            try:
                ran = self.s.regenerate_report(on_progress=progress)   # in the foreground: an outcome
                assert ran is not None
                run = ran
            except Exception as exc:   # noqa: BLE001 - shown on screen
                self.errors.append(traceback.format_exc())
                from auditlib.meeting.session import ReportRun
                run = ReportRun(False, 0.0, reason=f"{type(exc).__name__}: {exc}")
            self.report_button.disabled = False
            secs = present.number(run.seconds, lang, 1)
            if run.ok and run.html is not None:
                self.report_progress.value, self.report_progress.bar_style = 100, "success"
                link = run.html.resolve().as_uri()
                done = render.E(t(lang, "report_done", seconds=secs))
                self.report_html.value = (f'<div class="mt"><span class="ok">{done}</span> <a href="{render.E(link)}" '
                                          f'target="_blank">{render.E(str(run.html))}</a></div>')
            else:
                self.report_progress.value, self.report_progress.bar_style = 100, "danger"
                self._msg("report_html", t(lang, "report_failed", reason=run.reason), bad=True)

        self.report_thread = threading.Thread(target=work, daemon=True)
        self.report_thread.start()

    @_guard("summary_html")
    def on_summary(self) -> None:
        path = self.s.export_summary(self.summary_format.value)
        link = path.resolve().as_uri()
        done = render.E(t(self.s.lang, "summary_done"))
        self.summary_html.value = (f'<div class="mt"><span class="ok">{done}</span> '
                                   f'<a href="{render.E(link)}" target="_blank">{render.E(str(path))}</a></div>')


def _plain(x: float) -> str:
    """An answer as typed into the box (not a figure for reading: no separators, no rounding)."""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(round(x, 6))


def meeting_app(client_id: str, lang: str = "en", **kwargs) -> MeetingApp:
    """Build the screen for a client (the notebook's one call)."""
    return MeetingApp(MeetingSession(client_id, lang=lang, **kwargs))

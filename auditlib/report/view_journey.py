"""The report's label journey section and the Silver improvement-area form (issue 13).

A mixin of ReportView, like view_sections: it reads the view's `result` (whose `journey` is
computed as of the interview month, see audit.analyse), `catalogue`, `interpretation` and
`lang`. Words come from templates/report/journey.yaml; every figure and month from present.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from auditlib import present
from auditlib.config import PACKAGE_ROOT
from auditlib.journey import AreaForm, improvement_form
from auditlib.report.fragments import Fragment, _fragments

JOURNEY_WORDS = PACKAGE_ROOT / "templates" / "report" / "journey.yaml"


def _all_words() -> dict:
    return present.word_list(JOURNEY_WORDS)


def journey_words(lang: str) -> dict:
    """The journey section's words in one language (checked like the report's words)."""
    present.words(lang)                 # refuses an unknown language with the usual message
    return _all_words()[lang]


def journey_facts(catalogue, lang: str) -> dict[str, str]:
    """The timing rules as the sentences state them, from labels.yaml (one key per fact)."""
    rules = catalogue.labels
    again = rules.gold.reassessment_years
    year = journey_words(lang)["year"]

    def years(x: float) -> str:
        return present.plural(present.number(x, lang), year["one"], year["many"])

    return {**present.silver_gap(catalogue, lang),      # gap_min, gap_max, gap_years, areas_text...
            "valid": present.number(rules.bronze.valid_years, lang), "valid_years": years(rules.bronze.valid_years),
            "renewal": present.number(rules.bronze.renewal_window_years, lang),
            "renewal_years": years(rules.bronze.renewal_window_years),
            "again_min": present.number(again.min, lang), "again_max": present.number(again.max, lang),
            "again_years": years(again.max)}


def agreed_text(n: int, lang: str) -> str:
    """'3 improvement areas' / '1 verbetergebied': the areas actually agreed, counted."""
    words = journey_words(lang)["area_words"]
    return f"{present.number(n, lang)} {present.plural(n, words['one'], words['many'])}"


class JourneySections:
    """The label journey (timeline, standing, next step, improvement areas) and the Silver form."""

    result: Any
    catalogue: Any
    lang: str

    def _jw(self) -> dict:
        return journey_words(self.lang)

    def _label(self, label: str | None) -> str:
        if not label:
            return present.DASH
        return getattr(self.catalogue.labels, label).name[self.lang]

    def journey_text(self) -> str:
        """Where the client stands and what comes next, as plain sentences."""
        j, jw = self.result.journey, self._jw()
        if j is None:
            return jw["no_history"]
        facts = journey_facts(self.catalogue, self.lang)
        if j.current is not None:
            standing = jw["standing"]["valid"].format(label=self._label(j.current.label),
                                                      until=present.month(j.current.valid_until, self.lang, long=True),
                                                      expires=present.month(j.current.expires, self.lang, long=True))
        elif j.last is not None:
            standing = jw["standing"]["expired"].format(label=self._label(j.last.label),
                                                        expires=present.month(j.last.expires, self.lang, long=True))
        else:
            standing = jw["standing"]["none"]
        s = j.next_step
        step = jw["steps"][s.step].format(opens=present.month(s.opens, self.lang, long=True),
                                          closes=present.month(s.closes, self.lang, long=True), **facts)
        lines = [standing, step]
        if s.taken is not None:
            key = "taken" if s.opens is not None else "taken_new"
            when = present.month(s.taken.interview, self.lang, long=True) if s.taken.month_recorded \
                else str(s.taken.year)
            lines.append(jw[key].format(month=when))
        return " ".join(lines)

    def journey(self) -> Fragment:
        """The label journey section: intro, timeline table, standing and next step, and at a
        second benchmark each improvement area's baseline, target, current value and effect."""
        j, jw, f = self.result.journey, self._jw(), _fragments()
        html = f.heading(jw["title"], "journey")
        if j is None or not j.timeline:
            return Fragment(html + f.message(jw["no_history"]), jw["no_history"])
        html += f.intro(jw["intro"].format(date=present.date(j.as_of, self.lang),
                                           **journey_facts(self.catalogue, self.lang)))
        head = [(jw["month"], ""), (jw["event"], ""), (jw["label"], ""), (jw["valid_until"], "")]
        recorded = {b.interview: b for b in j.benchmarks}
        rows = []
        for e in j.timeline:
            if e.kind == "benchmark":
                b = recorded.get(e.month)
                text = jw["events"]["benchmark"] if b is None or b.month_recorded else \
                    jw["events"]["benchmark_year"].format(year=b.year, month=present.month(e.month, self.lang))
            else:
                text = jw["events"][e.kind].format(label=self._label(e.label))
            rows.append({"cells": [(present.month(e.month, self.lang), "num"), (text, ""),
                                   (self._label(e.label) if e.label else "", "strong"),
                                   (present.month(e.until, self.lang) if e.until else "", "")]})
        text = self.journey_text()
        html += f.block(jw["timeline"], "journey-timeline", "", head, rows, [text])
        areas = self.area_table()
        return Fragment(html + Markup(areas.html), text + ("\n" + areas.text if areas.text else ""))

    def _areas(self) -> tuple[AreaForm, ...]:
        return improvement_form(self.result, self.lang)

    def _value(self, iid: str, x) -> str:
        return present.value(self.catalogue.indicator(iid), x, self.lang) if x is not None else present.DASH

    def _threshold(self, a: AreaForm) -> str:
        """The Gold threshold of the area's quality criterion, in words and figures (no id)."""
        crit = next((c for c in self.catalogue.labels.gold.quality if c.id == a.criterion), None)
        if crit is None:
            return present.DASH
        return f"{'≥' if crit.op == '>=' else '≤'} {self._value(a.indicator, crit.threshold)}"

    def _change(self, a: AreaForm) -> str:
        if a.change is None:
            return present.DASH
        text = self._value(a.indicator, abs(a.change))
        return ("+" if a.change > 0 else "−" if a.change < 0 else "") + text

    def area_table(self) -> Fragment:
        """At a second benchmark: the figures behind the Silver progress criterion."""
        jw, f = self._jw(), _fragments()
        areas = self._areas()
        if not areas or not self.result.earlier:
            return Fragment("", "")
        head = [(jw["area"], ""), (jw["gold_threshold"], "num"), (f"{jw['baseline']} {areas[0].baseline_year}", "num"),
                (jw["target"], "num"), (f"{jw['current']} {areas[0].current_year}", "num"), (jw["change"], "num"),
                (jw["effect_head"], "")]
        rows = []
        for a in areas:
            effect = jw["effect"][a.effect] + (f" ({jw['reached']})" if a.reached else "")
            rows.append({"cells": [(self.catalogue.indicator(a.indicator).name[self.lang], "strong"),
                                   (self._threshold(a), "num"), (self._value(a.indicator, a.baseline), "num"),
                                   (self._value(a.indicator, a.target), "num"),
                                   (self._value(a.indicator, a.current), "num strong"), (self._change(a), "num"),
                                   (effect, "ok" if a.effect == "improved" else "open")]})
        intro = jw["areas_intro"].format(agreed_text=agreed_text(len(areas), self.lang), then=areas[0].baseline_year)
        text = "; ".join(f"{a.indicator}: {self._value(a.indicator, a.baseline)} -> "
                         f"{self._value(a.indicator, a.current)} ({a.effect})" for a in areas)
        return Fragment(f.block(jw["areas_title"], "journey-areas", intro, head, rows), text)

    def silver_form(self) -> Fragment:
        """The Silver improvement-area form: one block per agreed area, ready to hand in."""
        jw, f = self._jw(), _fragments()
        html = f.heading(jw["form_title"], "silver-form")
        areas = self._areas()
        if not areas:
            return Fragment(html + f.message(jw["areas_none"]), jw["areas_none"])
        second = bool(self.result.earlier)
        html += f.intro(jw["form_intro"].format(name=self.result.client.name,
                                                agreed_text=agreed_text(len(areas), self.lang),
                                                effect_clause=jw["form_effect_clause"] if second else ""))
        for k, a in enumerate(areas, start=1):
            ind = self.catalogue.indicator(a.indicator)
            rows = [(f"{jw['baseline']} ({a.baseline_year})", self._value(a.indicator, a.baseline)),
                    (jw["target"], self._value(a.indicator, a.target))]
            if second:
                rows += [(f"{jw['current']} ({a.current_year})", self._value(a.indicator, a.current)),
                         (jw["effect_head"], f"{self._change(a)}: {jw['effect'][a.effect]}"
                          + (f" ({jw['reached']})" if a.reached else ""))]
            rows += [(jw["actions"], " / ".join(a.actions) or present.DASH),
                     (jw["notes"], " ".join(a.notes) or jw["no_notes"])]
            head = [(jw["criterion"], ""), (f"{ind.name[self.lang]} ({jw['gold_threshold']} {self._threshold(a)})", "")]
            html += f.block(f"{k}. {ind.name[self.lang]}", f"silver-form-{k}", "", head,
                            [{"cells": [(label, "strong"), (value, "")]} for label, value in rows],
                            cls="data form")
        return Fragment(html, f"{len(areas)} improvement areas")

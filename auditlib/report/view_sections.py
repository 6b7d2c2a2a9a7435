"""The report's later sections: label readiness, evolution, interpretation, notes, handles.

A mixin of ReportView (auditlib.report.view), kept apart so neither module grows past ~600
lines; it reads the view's `result`, `catalogue`, `interpretation`, `lang` and `w`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from auditlib import present
from auditlib.report.fragments import Fragment, _demote_headings, _drop_title, _fragments, _paragraphs
from auditlib.report.paths import HANDLES_SHOWN

if TYPE_CHECKING:
    from auditlib.audit import AuditResult
    from auditlib.catalogue import Catalogue
    from auditlib.interpret import Interpretation


class LaterSections:
    """Label readiness, evolution, interpretation, the auditor's notes and the handles."""

    # what the mixin reads from ReportView (annotations only: ReportView sets them)
    result: AuditResult
    catalogue: Catalogue
    interpretation: Interpretation
    lang: str
    w: dict[str, Any]
    params: Any
    heading: Callable[..., Fragment]
    _label_name: Callable[..., str]
    _ind: Callable[..., Any]
    _pct: Callable[..., str]
    _name: Callable[..., str]

    def label_text(self) -> str:
        """Label readiness as plain text (the nbval-checked contract of the label cell)."""
        lines = []
        for key, v in self.result.labels.verdicts.items():
            score = f", total score {present.gold_total(v.total_score, 'en')}" if v.total_score is not None else ""
            lines.append(f"{key}: {'ready' if v.ready else 'not yet'} ({v.passed}/{v.total} criteria{score})")
        return "\n".join(lines)

    def label_summary(self) -> Fragment:
        w, r = self.w, self.result
        gold_min = self.catalogue.labels.gold.total_score_min
        head = [(w["label"], ""), (w["ready"], ""), (w["criteria_passed"], "num"), (w["total_score"], "num"),
                (w["blocked_by"], "")]
        rows = []
        for step in present.label_ladder(r.labels, self.catalogue, self.lang):
            v = r.labels.verdicts[step["label"]]
            rows.append({"cells": [(step["name"], "strong"), (step["state"], "ok" if v.ready else "open"),
                                   (f"{v.passed} / {v.total}", "num"),
                                   (present.gold_total(v.total_score, self.lang) if v.total_score is not None
                                    else "", "num"),
                                   ("; ".join(step["blockers"]), "")]})
        intro = w["labels_intro"].format(**{**present.silver_gap(self.catalogue, self.lang),
                                           "gold_min": present.number(gold_min, self.lang)})
        html = _fragments().heading(w["labels"], "labels") + _fragments().block("", "", intro, head, rows)
        return Fragment(html, self.label_text())

    def label_criteria(self) -> Fragment:
        w, r = self.w, self.result
        crit = r.labels.criteria
        open_ = crit[~crit["passed"]]
        if open_.empty:
            return Fragment(_fragments().message(w["all_criteria_met"], "ok"), w["all_criteria_met"])
        merged: dict[str, dict] = {}
        for row in open_.itertuples():
            item = merged.setdefault(row.criterion, {"labels": [], "row": row})
            name = self._label_name(row.label)
            if name not in item["labels"]:
                item["labels"].append(name)
        head = [(w["label"], ""), (w["criterion"], ""), (w["requirement"], "num"), (w["value"], "num"),
                (w["distance"], "num")]
        rows = []
        for cid, item in merged.items():
            row = item["row"]
            if isinstance(row.indicator, str) and row.indicator in self.catalogue.by_id:
                ind = self._ind(row.indicator)
                op = "≥" if row.op == ">=" else "≤"
                requirement = f"{op} {present.value(ind, row.threshold, self.lang)}"
                value = present.value(ind, row.value, self.lang) if row.value is not None else \
                    w["status"]["not_answered"]
                distance = present.value(ind, row.distance, self.lang) if row.distance is not None and \
                    ind.kind not in ("yes_no",) else ""
                name = ind.name[self.lang]
            else:
                name = present.criterion_name(cid, self.catalogue, self.lang)
                requirement = self._silver_requirement(row)
                value = present.number(row.value, self.lang) if row.value is not None else "–"
                distance = present.number(row.distance, self.lang) if row.distance is not None and \
                    row.distance == row.distance else ""
            rows.append({"cells": [(", ".join(item["labels"]), ""), (name, ""), (requirement, "num"),
                                   (value, "num"), (distance, "num")]})
        html = _fragments().block(w["open_criteria"], "open-criteria", "", head, rows)
        return Fragment(html, f"{len(rows)} open criteria")

    def _silver_requirement(self, row) -> str:
        if row.op == "in":
            return f"{present.number(row.threshold, self.lang)}–{present.number(row.target, self.lang)}"
        return f"≥ {present.number(row.threshold, self.lang)}"

    def evolution_heading(self) -> Fragment | None:
        evo = self.result.evolution
        if evo is None:
            return None
        w = self.w
        text = w["evolution"].format(year=evo.earlier_year)
        intro = w["evolution_intro"].format(then=evo.earlier_year, now=evo.current_year,
                                            group=self.result.group(evo.group).name(self.lang),
                                            noise=present.number(evo.noise_band, self.lang))
        return Fragment(_fragments().heading(text, "evolution") + _fragments().intro(intro), text)

    def evolution_table(self) -> Fragment | None:
        evo = self.result.evolution
        if evo is None:
            return None
        w = self.w
        moved = evo.changes[evo.changes["trend"].isin(["improved", "declined"])]
        if moved.empty:
            return Fragment(_fragments().message(w["evolution_none"]), w["evolution_none"])
        head = [(w["indicator"], ""), (str(evo.earlier_year), "num"), (str(evo.current_year), "num"),
                (f"P {evo.earlier_year}", "num"), (f"P {evo.current_year}", "num"), (w["trend"], "")]
        rows = []
        for row in moved.itertuples():
            ind = self._ind(row.indicator)
            rows.append({"cells": [(ind.name[self.lang], ""), (present.value(ind, row.value_then, self.lang), "num"),
                                   (present.value(ind, row.value_now, self.lang), "num"),
                                   (self._pct(row.percentile_then), "num"), (self._pct(row.percentile_now), "num"),
                                   (w["trends"][row.trend], row.trend)]})
        html = _fragments().block("", "", "", head, rows)
        side = evo.labels_side_by_side(self.result.labels)
        head2 = [(w["label"], ""), (str(evo.earlier_year), ""), (str(evo.current_year), ""),
                 (w["criteria_passed"], "num")]
        rows2 = []
        for row in side.itertuples(index=False):
            d = row._asdict()
            then, now = d[f"ready_{evo.earlier_year}"], d[f"ready_{evo.current_year}"]
            rows2.append({"cells": [(self._label_name(row.label), "strong"),
                                    (w["ready_yes"] if then else w["ready_no"], "ok" if then else "open"),
                                    (w["ready_yes"] if now else w["ready_no"], "ok" if now else "open"),
                                    (f"{d[f'passed_{evo.earlier_year}']} → {d[f'passed_{evo.current_year}']} "
                                     f"/ {d['total']}", "num")]})
        html += _fragments().block(w["labels_then_now"], "labels-then-now", "", head2, rows2)
        return Fragment(html, f"{len(rows)} indicators moved")

    def interpretation_heading(self) -> Fragment:
        return self.heading("interpretation")

    def interpretation_markdown(self):
        """The interpretation as Markdown (its text is escaped by auditlib.interpret)."""
        from IPython.display import Markdown

        if self.interpretation is None:
            return Fragment(_fragments().message(self.w["interpretation_missing"]), self.w["interpretation_missing"])
        try:  # the handles and the auditor's notes have sections of their own in this report
            text = self.interpretation.to_markdown(handles=False, notes=False)
        except TypeError:
            text = self.interpretation.to_markdown()
        return Markdown(_demote_headings(_drop_title(text)))

    def note_groups(self) -> list[tuple[str, str, list[list[str]]]]:
        """The auditor's notes by anchor, in report order: (anchor, title, paragraphs per note).

        One walk for the notes section and the notes' Markdown cells (review.note_passages).
        """
        notes, cat = self.result.notes, self.catalogue
        order = ["overall"] + [f"dimension:{d.id}" for d in cat.dimensions] + [f"indicator:{i}" for i in cat.ids]
        out = []
        for anchor in order:
            found = notes.for_anchor(anchor)
            if not found:
                continue
            kind, _, target = anchor.partition(":")
            title = self.w["notes_overall"] if kind == "overall" else \
                cat.dimension(target).name[self.lang] if kind == "dimension" else self._name(target)
            out.append((anchor, title, [_paragraphs(n.text) for n in found]))
        return out

    def notes(self) -> Fragment:
        w = self.w
        groups = [(title, paragraphs) for _, title, paragraphs in self.note_groups()]
        data = {"title": w["notes"], "none": w["notes_none"], "groups": groups,
                "cls": "section" if groups else "section keep"}
        return Fragment(_fragments().notes(data), f"{sum(len(t) for _, t in groups)} notes")

    def handles(self) -> Fragment:
        w = self.w
        html = _fragments().heading(w["handles"], "handles")
        frame = getattr(self.interpretation, "handles", None)
        if frame is None or len(frame) == 0:
            return Fragment(html + _fragments().message(w["handles_none"]), w["handles_none"])
        head = [("#", "num"), (w["indicator"], ""), (w["value"], "num"), (w["percentile"], "num"),
                (w["target"], "num"), (w["action"], "")]
        shown = len(getattr(self.interpretation, "handle_items", None) or []) or HANDLES_SHOWN
        silver = set(getattr(self.interpretation, "silver_areas", None) or [])
        rows = []
        for k, row in enumerate(frame.head(shown).to_dict("records"), start=1):
            iid = row.get("indicator")
            ind = self._ind(iid) if iid in self.catalogue.by_id else None
            name = ind.name[self.lang] if ind else str(iid)
            value = present.value(ind, row.get("value"), self.lang) if ind else str(row.get("value", ""))
            target = present.value(ind, row.get("target"), self.lang) if ind and row.get("target") is not None else ""
            action = str(row.get("action") or "")
            rows.append({"cells": [(str(row.get("priority", k)), "num"),
                                   (name + (" ★" if iid in silver else ""), "strong"), (value, "num"),
                                   (self._pct(row.get("percentile")), "num"), (target, "num strong"),
                                   (action, "action")]})
        notes = [w["handles_silver"]] if silver else []
        if len(frame) > len(rows):
            key = "handles_more" if self.params.excel else "handles_more_hidden"
            notes.append(w[key].format(n=len(frame) - len(rows)))
        html += _fragments().block("", "", w["handles_intro"].format(**present.silver_gap(self.catalogue, self.lang)),
                                   head, rows, notes)
        return Fragment(html, f"{len(rows)} handles")


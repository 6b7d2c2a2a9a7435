"""The notebook's view of one result: ReportView turns an AuditResult into displayable fragments.

Imported in the kernel; keep imports light (the analysis modules are imported when a view is made).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from auditlib.errors import ParameterError
from auditlib import present
from auditlib.present import words
from auditlib.report.fragments import Chart, Fragment, _country_name, _fragments, _interpret
from auditlib.report.parameters import ReportParameters
from auditlib.report.paths import OUTPUT_FILES, RUN_INFO
from auditlib.report.view_sections import LaterSections
from auditlib.report.view_journey import JourneySections
from auditlib.scoring import STRENGTH_MIN, WEAKNESS_BELOW


class ReportView(LaterSections, JourneySections):
    """One engagement's report content: loads the inputs, runs the analysis, renders fragments.

    Every method returns something for display(): a Fragment (escaped HTML built from
    fragments.html.j2 with autoescape), a Chart, or IPython Markdown. No figure is computed
    here: everything shown comes from the AuditResult and the interpretation.
    """

    def __init__(self, params: ReportParameters):
        t0 = time.perf_counter()
        from auditlib.audit import analyse
        from auditlib.benchmark import load_benchmark
        from auditlib.catalogue import load_catalogue
        from auditlib.intake import load_client

        self.params = params
        self.lang = params.lang
        self.w = words(params.lang)
        s = params.settings
        self.catalogue = load_catalogue(s.catalogue_dir)
        self.benchmark = load_benchmark(s.benchmark_path, self.catalogue)
        folder = load_client(params.client_dir, self.catalogue)
        self.folder = self._choose_earlier(folder)
        self.result = analyse(self.folder, catalogue=self.catalogue, benchmark=self.benchmark,
                              groups=list(params.groups) or None, anonymity_floor=params.anonymity_floor,
                              exclude_id=params.exclude_id)
        self.interpretation = _interpret(self.result, self.lang)
        self.timings: dict[str, float] = {"analysis": time.perf_counter() - t0}
        self._chart_seconds = 0.0

    @classmethod
    def from_result(cls, result, lang: str, *, benchmark=None, interpretation=None,
                    params: ReportParameters | None = None) -> "ReportView":
        """A view of a result already made (tests, the meeting): no loading, the same fragments."""
        from auditlib.config import Settings

        view = cls.__new__(cls)
        view.params = params or ReportParameters(
            client_id=result.client.client_id, lang=lang, groups=(), earlier_audit="", engagement_id="",
            engagement_date="", anonymity_floor=None, settings=Settings.defaults(), client_dir=Path("."),
            export_dir=None, excel=True)
        view.lang = lang
        view.w = words(lang)
        view.catalogue = result.catalogue
        view.benchmark = benchmark
        view.folder = None       # only run_info() reads the folder; a view made here writes none
        view.result = result
        view.interpretation = interpretation if interpretation is not None else _interpret(result, lang)
        view.timings = {"analysis": 0.0}
        view._chart_seconds = 0.0
        return view

    # -- inputs ---------------------------------------------------------------------------
    def _choose_earlier(self, folder):
        from dataclasses import replace

        choice = self.params.earlier_audit
        if choice == "":
            return folder
        if choice == "none":
            return replace(folder, earlier=())
        if re.fullmatch(r"\d{4}", choice):
            year = int(choice)
            kept = tuple(e for e in folder.earlier if e.benchmark_year <= year)
            if not kept or kept[-1].benchmark_year != year:
                raise ParameterError(f"earlier_audit: no valid earlier audit of {year} for {folder.client_id}")
            return replace(folder, earlier=kept)
        from auditlib.intake import read_questionnaire

        earlier = read_questionnaire(Path(choice), self.catalogue, folder.client_id)
        if earlier.benchmark_year >= folder.profile.benchmark_year:
            raise ParameterError(f"earlier_audit: {choice} describes {earlier.benchmark_year}, not a year "
                                 f"before {folder.profile.benchmark_year}")
        return replace(folder, earlier=(earlier,))

    # -- helpers --------------------------------------------------------------------------
    def _ind(self, iid: str):
        return self.catalogue.indicator(iid)

    def _name(self, iid: str) -> str:
        return self._ind(iid).name[self.lang]

    def _pct(self, x) -> str:
        """A percentile, dimension score or peer median in a table cell (the one rule: present)."""
        return present.percentile_number(x, self.lang)

    def _n(self, g) -> str:
        """A group's size, or 'fewer than <floor>' below the floor (present.group_size); a group
        refused by the disclosure rules is not small, its size is just not shown."""
        if not g.available and g.refusals:
            return present.DASH
        return present.group_size(g.n if g.available else None, self.result.anonymity_floor, self.lang)

    def _status(self, status: str) -> str:
        return self.w["status"].get(status, status).format(floor=self.result.anonymity_floor)

    def _group(self, requested: str | None = None):
        return self.result.group(requested or self.result.primary_group)

    def _group_short(self, requested: str) -> str:
        short = {"en": {"all": "All", "field": "Field", "country": "Country", "eu": "EU",
                        "age_band": "Age band", "gold": "Gold"},
                 "nl": {"all": "Alle", "field": "Veld", "country": "Land", "eu": "EU",
                        "age_band": "Leeftijd", "gold": "Goud"}}[self.lang]
        return short.get(requested, requested)

    def _label_name(self, label: str) -> str:
        return getattr(self.catalogue.labels, label).name[self.lang]

    def heading(self, key: str, anchor: str | None = None, **fmt) -> Fragment:
        text = self.w[key].format(**fmt)
        return Fragment(_fragments().heading(text, anchor or key, 2, "section"), text)

    def intro(self, key: str, **fmt) -> Fragment:
        text = self.w[key].format(**fmt)
        return Fragment(_fragments().intro(text), text)

    def chart(self, fig, alt: str = "") -> Chart | Fragment:
        """Render a Figure to a byte-stable SVG and let it go (charts never use pyplot).

        The figure is not cleared: Figure.clear rebuilds every Axes' ticks and spines before
        dropping them (a tenth of the charts' cost); an unreferenced figure is freed anyway.
        """
        if fig is None:
            return Fragment("", "")
        from auditlib.charts import to_svg

        t0 = time.perf_counter()
        svg = to_svg(fig)
        alt = alt or fig.get_label()
        self._chart_seconds += time.perf_counter() - t0
        return Chart(svg, alt)

    # -- sections -------------------------------------------------------------------------
    def cover(self) -> Fragment:
        w, c, r = self.w, self.result.client, self.result
        wc = w["cover"]
        field = self.catalogue.fields.get(c.field)
        facts = [
            (wc["country"], _country_name(c.country, self.lang)),
            (wc["field"], field.name[self.lang] if field else c.field),
            (wc["founded"], f"{c.founding_year} ({w['years'].format(n=c.age)})"),
            (wc["benchmark_year"], str(c.benchmark_year)),
            (wc["region"], c.region),
            (wc["contact"], c.contact),
        ]
        engagement = self.params.engagement_id or str(c.benchmark_year)
        facts.append((wc["engagement"], engagement))
        if self.params.engagement_date:
            facts.append((wc["engagement_date"], self.params.engagement_date))
        if r.evolution is not None:
            facts.append((wc["earlier_audit"], str(r.evolution.earlier_year)))
        facts.append((wc["catalogue"], f"{self.catalogue.name} {self.catalogue.version}"))
        facts.append((wc["benchmark"], r.benchmark_version))
        data = {"title": w["report_title"], "name": c.name, "subtitle": w["report_subtitle"], "facts": facts,
                "confidential": w["confidential"].format(name=c.name)}
        text = f"{w['report_title']}: {c.name}"
        return Fragment(_fragments().cover(data), text)

    def summary(self) -> Fragment:
        w, r = self.w, self.result
        g = self._group()
        prof = r.profile_in().set_index("dimension")
        dims = [(d.name[self.lang], present.dimension_score(prof.loc[d.id, "score"], self.lang),
                 present.peer_median(prof.loc[d.id, "peer_median"], self.lang))
                for d in self.catalogue.dimensions if d.id in prof.index]
        labels = []
        for step in present.label_ladder(r.labels, self.catalogue, self.lang):
            v = r.labels.verdicts[step["label"]]
            detail = w["criteria_of"].format(passed=v.passed, total=v.total)
            if v.total_score is not None:
                detail += "; " + w["total_score_short"].format(score=present.gold_total(v.total_score, self.lang))
            if step["blockers"]:
                detail += f"; {w['blocked_by']}: " + "; ".join(step["blockers"])
            labels.append((step["name"], step["state"], step["ready"], detail))
        evolution = ""
        if r.evolution is not None:
            evolution = w["summary_evolution"].format(year=r.evolution.earlier_year,
                                                      improved=len(r.evolution.improved),
                                                      declined=len(r.evolution.declined))
        data = {
            "title": w["summary"], "intro": w["summary_intro"].format(group=g.name(self.lang), n=self._n(g)),
            "dimensions_title": w["summary_dimensions"], "dimension": w["dimension"], "score": w["score"],
            "peer_median": w["peer_median"], "dimensions": dims,
            "strengths_title": w["summary_strengths"], "weaknesses_title": w["summary_weaknesses"],
            "strengths": [(self._name(x.indicator), self._pct(x.percentile)) for x in r.strengths.itertuples()],
            "weaknesses": [(self._name(x.indicator), self._pct(x.percentile)) for x in r.weaknesses.itertuples()],
            "none": w["none"], "labels_title": w["summary_labels"], "labels": labels, "evolution": evolution,
        }
        return Fragment(_fragments().summary(data), self.label_text())

    def profile(self) -> Fragment:
        """The questionnaire's answers by dimension, as given (context indicators included)."""
        w, c = self.w, self.result.client
        f = _fragments()
        head = [(w["indicator"], ""), (w["value"], "num"), ("", "unit")]
        rows = []
        for d in self.catalogue.dimensions:
            rows.append({"cells": [(d.name[self.lang], "")], "cls": "group-row", "span": 3})
            for ind in self.catalogue.in_dimension(d.id):
                value = c.answers.get(ind.id)
                name = ind.name[self.lang] + ("" if ind.scored else " *")
                unit = "" if ind.kind in ("yes_no", "share") else present.unit(ind, value, self.lang)
                if ind.kind == "ordinal" and value is not None and ind.levels and int(value) in ind.levels:
                    unit = ind.levels[int(value)][self.lang]         # "2 consulted", not "2 level 0-4"
                rows.append({"cells": [(name, ""), (present.value(ind, value, self.lang) if value is not None
                                                    else w["status"]["not_answered"],
                                                    "num" if value is not None else "num muted"),
                                       (unit, "unit")]})
        n = len(c.answers)
        notes = [w["answered"].format(answered=n - len(c.missing), total=n), f"* {w['status']['context']}"]
        html = _fragments().heading(w["profile"], "profile") + f.block("", "", w["profile_intro"], head, rows, notes,
                                                                       cls="data dense")
        return Fragment(html, w["profile"])

    def dimension_table(self) -> Fragment:
        w, r = self.w, self.result
        matrix = r.dimension_matrix()
        groups = [g.requested for g in r.peer_groups]
        prof = r.profile_in().set_index("dimension")
        head = [(w["dimension"], "")] + [(self._group_short(g), "num") for g in groups] + \
               [(w["peer_median"], "num"), (w["coverage"], "num")]
        rows = []
        for d in self.catalogue.dimensions:
            if d.id not in matrix.index:
                continue
            cells = [(d.name[self.lang], "")]
            cells += [(self._pct(matrix.loc[d.id, g]), "num strong" if g == r.primary_group else "num")
                      for g in groups]
            p = prof.loc[d.id]
            cells += [(present.peer_median(p["peer_median"], self.lang), "num"),
                      (f"{int(p['answered'])}/{int(p['scored'])}", "num")]
            rows.append({"cells": cells})
        notes = [self._groups_legend()]
        html = _fragments().block("", "", "", head, rows, notes)
        return Fragment(html, matrix.to_string())

    def _groups_legend(self) -> str:
        parts = []
        for g in self.result.peer_groups:
            text = f"{self._group_short(g.requested)}: {g.name(self.lang)}, n = {self._n(g)}"
            if not g.available:
                text = f"{self._group_short(g.requested)}: {self.w['no_statistics']}"
            parts.append(text)
        primary = self._group_short(self.result.primary_group)
        return "; ".join(parts) + f". {self.w['peer_median']}: {primary}."

    def positions_intro(self) -> Fragment:
        text = self.w["positions_intro"].format(group=self._group().name(self.lang))
        return Fragment(_fragments().intro(text), text)

    def dimension_heading(self, dimension: str) -> Fragment:
        d = self.catalogue.dimension(dimension)
        return Fragment(_fragments().heading(d.name[self.lang], f"dim-{d.id}", 3, "sub dimension"),
                        d.name[self.lang])

    def positions_table(self, dimension: str) -> Fragment:
        w, r = self.w, self.result
        pos = r.positions_in().set_index("indicator")
        head = [(w["indicator"], ""), (w["value"], "num"), (w["median"], "num"), (w["middle_half"], "num"),
                (w["percentile"], "num"), (w["band"], "")]
        rows = []
        for ind in self.catalogue.in_dimension(dimension):
            p = pos.loc[ind.id]
            value = present.value(ind, p["value"], self.lang)
            if p["median"] == p["median"] and ind.kind != "yes_no":
                median = present.value(ind, p["median"], self.lang)
                middle = f"{present.value(ind, p['p25'], self.lang)} – {present.value(ind, p['p75'], self.lang)}" \
                    if p["p25"] == p["p25"] and p["p75"] == p["p75"] else present.DASH   # withheld: one dash
            else:
                median = middle = "–"
            if p["status"] == "ok":
                pct, band = self._pct(p["percentile"]), present.band(p["percentile"], self.catalogue, self.lang)
                cells = [(ind.name[self.lang], ""), (value, "num"), (median, "num"), (middle, "num"),
                         (pct, "num strong"), (band, "")]
            else:
                cells = [(ind.name[self.lang], ""), (value, "num"), (median, "num"), (middle, "num"),
                         ("–", "num"), (self._status(p["status"]), "muted")]
            rows.append({"cells": cells})
        return Fragment(_fragments().block("", "", "", head, rows), f"positions {dimension}")

    def peer_comparison(self) -> Fragment:
        w, r = self.w, self.result
        groups = list(r.peer_groups)
        head = [(w["indicator"], "")] + [(self._group_short(g.requested) + ("*" if g.fallback_from else ""), "num")
                                         for g in groups]
        table = r.positions.pivot(index="indicator", columns="group", values="percentile")
        rows = []
        for d in self.catalogue.dimensions:
            inds = [i for i in self.catalogue.in_dimension(d.id) if i.scored]
            if not inds:
                continue
            rows.append({"cells": [(d.name[self.lang], "")], "cls": "group-row", "span": len(groups) + 1})
            for ind in inds:
                cells = [(ind.name[self.lang], "")]
                for g in groups:
                    x = table.loc[ind.id, g.requested]
                    cells.append((self._pct(x), "num strong" if g.requested == r.primary_group else "num"))
                rows.append({"cells": cells})
        notes = [self._groups_legend()]
        fallbacks = [g for g in groups if g.fallback_from]
        if fallbacks:
            notes.append("* " + "; ".join(self._fallback_text(g) for g in fallbacks))
        notes += self._refusal_notes(groups)
        html = (_fragments().heading(w["peers"], "peers")
                + _fragments().block("", "", w["peers_intro"].format(floor=r.anonymity_floor), head, rows, notes,
                                     cls="data dense"))
        return Fragment(html, w["peers"])

    def _group_names(self) -> dict[str, str]:
        return {g.requested: g.name(self.lang) for g in self.result.peer_groups}

    def _fallback_text(self, g) -> str:
        from auditlib.peers import built_in_spec

        if not g.available and g.refusals:     # refused by the disclosure rules, not below the floor
            return g.refusals[0].text(self.lang, self.result.anonymity_floor, self._group_names())

        names = []
        for key in g.fallback_from:
            try:
                spec = built_in_spec(key, self.result.client, self.catalogue)
                names.append(spec.name_nl if self.lang == "nl" else spec.name_en)
            except ParameterError:
                names.append(key)
        if not g.available and not names:
            names = [g.name(self.lang)]
        floor = self.result.anonymity_floor
        if g.available:
            return self.w["fallback_used"].format(names=", ".join(names), floor=floor, used=g.name(self.lang))
        return self.w["fallback_none"].format(names=", ".join(names), floor=floor)


    def _refusal_notes(self, groups) -> list[str]:
        """One note per group the disclosure rules refused, whole or for some indicators."""
        floor = self.result.anonymity_floor
        notes = []
        for g in groups:
            for r in g.refusals:
                names = ", ".join(self._name(i) for i in r.indicators)
                notes.append(f"{g.name(self.lang)}: {r.text(self.lang, floor, self._group_names())}"
                             + (f" ({names})" if names else ""))
        return notes

    def appendix(self) -> Fragment:
        from auditlib.disclosure import Rules

        w = self.w
        text = w["method"].format(floor=self.result.anonymity_floor)
        rules = " ".join(s[0].upper() + s[1:] + "." for s in Rules(self.result.anonymity_floor).notes(self.lang))
        gap = present.silver_gap(self.catalogue, self.lang)
        figures = w["method_figures"].format(**{
            **gap, "strength": present.number(STRENGTH_MIN, self.lang),
            "weakness": present.number(WEAKNESS_BELOW, self.lang)})
        html = _fragments().heading(w["appendix"], "appendix") + \
            _fragments().heading(w["method_title"], "method", 3, "sub") + \
            _fragments().paragraphs([text, figures, rules])
        return Fragment(html, w["appendix"])

    def scenarios(self, names: str = "") -> Fragment:
        """The meeting's what-if scenarios named in the `scenarios` parameter (none: nothing shown)."""
        names = names or str(self.params.raw.get("scenarios", "") or "")
        chosen = [n.strip() for n in names.split(",") if n.strip()]
        if not chosen:
            return Fragment("", "")
        from auditlib.meeting.scenarios import scenario_appendix

        return scenario_appendix(self.result, chosen, self.lang)

    def peer_groups(self) -> Fragment:
        """The groups compared with, their n and fallbacks (the nbval-checked contract)."""
        w, r = self.w, self.result
        head = [(w["group"], ""), (w["used"], ""), (w["n"], "num"), (w["statistics"], ""), (w["fallback"], "")]
        rows, lines = [], []
        for g in r.peer_groups:
            rows.append({"cells": [(self._group_short(g.requested), "strong"), (g.name(self.lang), ""),
                                   (self._n(g), "num"), (w["yes"] if g.available else w["no"], ""),
                                   (self._fallback_text(g) if g.fallback_from or not g.available else "", "muted")]})
            lines.append(f"{g.requested}: used {g.key}, n={g.public_n}, statistics {'yes' if g.available else 'no'}"
                         + (f", fallback from {', '.join(g.fallback_from)}" if g.fallback_from else ""))
        html = _fragments().block(w["groups_title"], "groups", "", head, rows)
        return Fragment(html, "\n".join(lines))

    def provenance(self) -> Fragment:
        w, r = self.w, self.result
        from auditlib import __version__

        head = [(w["item"], ""), (w["version"], ""), (w["checksum"], "hash")]
        rows = [{"cells": [(w["cover"]["catalogue"], "strong"), (f"{self.catalogue.name} {self.catalogue.version}", ""),
                           ("", "hash")]}]
        for name, sha in sorted(self.catalogue.hashes.items()):
            rows.append({"cells": [(w["catalogue_file"].format(name=name), ""), ("", ""), (sha, "hash")]})
        rows.append({"cells": [(w["benchmark_file"], "strong"), (r.benchmark_version, ""),
                               (r.benchmark_sha256, "hash")]})
        rows.append({"cells": [(w["workbench"], "strong"), (__version__, ""), ("", "hash")]})
        html = _fragments().block(w["provenance_title"], "provenance", "", head, rows)
        return Fragment(html, "provenance")

    # -- side outputs ---------------------------------------------------------------------
    def export(self) -> dict:
        """Write scores.xlsx (if asked) and run-info.json into export_dir; return the run info."""
        info = self.run_info()
        out = self.params.export_dir
        if out is None:
            return info
        if self.params.excel:
            from auditlib.export import write_excel

            t0 = time.perf_counter()
            write_excel(self.result, out / OUTPUT_FILES["xlsx"], interpretation=self.interpretation, lang=self.lang)
            info["timings"]["xlsx"] = round(time.perf_counter() - t0, 3)
        from auditlib.review import commentary_info

        info["review"] = commentary_info(self)   # the commentary as cells, and the figures it is checked against
        (out / RUN_INFO).write_text(json.dumps(info, indent=1, sort_keys=True, default=str), encoding="utf-8")
        return info

    def _key_figures(self) -> dict:
        """The portfolio's figures for this client, from this very result (the batch index reads them)."""
        from auditlib.portfolio import key_figures

        handles = self.interpretation.handles if self.interpretation is not None else None
        return key_figures(self.result, lang=self.lang, handles=handles)

    def run_info(self) -> dict:
        r, c = self.result, self.result.client
        return {
            "client": {"id": c.client_id, "name": c.name, "benchmark_year": c.benchmark_year,
                       "source": str(c.source)},
            "earlier": [{"year": e.benchmark_year, "source": str(e.source)} for e in self.folder.earlier],
            "compared_with": r.evolution.earlier_year if r.evolution is not None else None,
            "notes": str(self.folder.notes_path) if self.folder.notes_path else None,
            "catalogue": {"name": self.catalogue.name, "version": self.catalogue.version,
                          "directory": str(self.catalogue.directory), "files": dict(self.catalogue.hashes)},
            "benchmark": {"version": r.benchmark_version, "sha256": r.benchmark_sha256,
                          "path": str(self.benchmark.path)},
            "anonymity_floor": r.anonymity_floor,
            "primary_group": r.primary_group,
            "peer_groups": [{"group": g.requested, "used": g.key, "n": g.public_n, "statistics": g.available}
                            for g in r.peer_groups],
            "labels": {k: {"ready": v.ready, "passed": v.passed, "total": v.total, "total_score": v.total_score}
                       for k, v in r.labels.verdicts.items()},
            "interpretation": self.interpretation is not None,
            "key_figures": self._key_figures(),
            "timings": {"analysis": round(self.timings.get("analysis", 0.0), 3),
                        "charts": round(self._chart_seconds, 3)},
        }

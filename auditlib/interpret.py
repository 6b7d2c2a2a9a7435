"""Interpretation: commentary in English and Dutch, the auditor's notes, improvement handles.

API (the report, the meeting and the export read these):

    interpret(result: AuditResult, lang: str = "en") -> Interpretation
    Interpretation.sections      list[Section]  (overall first, then one per dimension)
    Section.anchor               "overall" | "dimension:<id>" | "indicator:<id>"
    Section.title                str, in the language
    Section.statements           list[Statement]  (generated text and auditor's notes)
    Statement.text / .source     str / "generated" | "auditor"
    Interpretation.handles       pandas DataFrame, one row per improvement handle, priority order
    Interpretation.silver_areas  list[str] the top handles' indicator ids (labels.yaml silver.improvement_areas of them)
    Interpretation.to_markdown() str  the whole interpretation as Markdown (text escaped)

Additions: an evolution section (anchor "evolution") follows the dimensions when there is an
earlier audit. Statement.anchor says what a statement is about, Statement.kind which rule or
template produced it, Statement.facts the computed values it states (checked by
`auditlib.consistency.check_consistency`), Statement.marker the "Auditor's note:" label.

Why templates: the rules and their thresholds are data (`commentary_rules.yaml`), the
sentences Jinja2 templates per language (`templates/commentary/<lang>/`), so wording and
thresholds change without code. Autoescape is off (the output is Markdown); every text from
outside the code (client and group names, catalogue names, notes) is escaped here for HTML
before it reaches a template, so a `<script>` in a cluster name stays text in the report.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from auditlib import present
from auditlib.catalogue import LANGUAGES, Catalogue, Indicator
from auditlib.commentary_rules import CommentaryRules, load_rules
from auditlib.errors import ParameterError
from auditlib.kinds import StatementSource
from auditlib.handles import improvement_handles, load_actions, next_step, silver_areas
from auditlib.peers import BUILT_IN, built_in_spec
from auditlib.scoring import is_strength, is_weakness
from auditlib.templating import keep_compiled

TEMPLATES = Path(__file__).resolve().parent / "templates" / "commentary"
PHRASES = "_phrases.j2"
DOCUMENT = "document.j2"


# --- formatting and escaping -----------------------------------------------------------------

# Markdown in outside text: a name "[click](http://x.example)" or a bare URL must stay text, not
# become a link (which would also fail the report's offline check) or emphasis. Escaped: the
# characters that open links, code, emphasis and HTML, and the ':' / '.' that start an autolink.
_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]<>~|])")
_MD_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|mailto|file)(:)|\b(www)(\.)")
_MD_UNESCAPE = re.compile(r"\\([\\`*_\[\]<>~|:.])")


def esc(text: Any) -> str:
    """Escape outside text for Markdown rendered to HTML (one line, whitespace collapsed): HTML
    characters as entities, Markdown link, emphasis and autolink syntax backslash-escaped."""
    text = _MD_PUNCTUATION.sub(r"\\\1", html.escape(" ".join(str(text).split()), quote=False))
    return _MD_AUTOLINK.sub(lambda m: f"{m.group(1)}\\:" if m.group(1) else f"{m.group(3)}\\.", text)


def esc_block(text: Any) -> str:
    """Escape a multi-line text (an auditor's note) and keep its line breaks."""
    return html.escape(str(text).strip(), quote=False)


def fmt_number(x: float, lang: str = "en", decimals: int | None = None) -> str:
    """A number in words: the presentation layer's (auditlib.present.number)."""
    return present.number(x, lang, decimals)


def pct_int(p: float) -> int | None:
    """A percentile, score or median as said in words: the one rule (auditlib.present)."""
    return present.shown_percentile(p)


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ParameterError(f"unknown language '{lang}'; expected one of {', '.join(LANGUAGES)}")
    return lang


@lru_cache(maxsize=None)
def commentary_env(lang: str) -> Environment:
    """The template environment of one language (StrictUndefined: a missing variable fails)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES / _check_lang(lang))), undefined=StrictUndefined,
                      autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters["num"] = lambda x, decimals=None: present.number(x, lang, decimals)
    env.filters["gold"] = lambda x: present.gold_total(x, lang)
    env.filters["pct"] = lambda x: present.percentile_number(x, lang)
    env.filters["plural"] = present.plural          # {{ n | plural("indicator", "indicators") }}
    return keep_compiled(env, f"commentary-{lang}")


@lru_cache(maxsize=None)
def phrases(lang: str):
    """The small phrases of one language (`_phrases.j2` macros), shared with the consistency check."""
    return commentary_env(lang).get_template(PHRASES).module


def template_names(lang: str) -> list[str]:
    return sorted(p.name for p in (TEMPLATES / _check_lang(lang)).glob("*.j2"))


def value_text(ind: Indicator, value: float | None, lang: str) -> str:
    """A value in words: yes/no, the ordinal level, or a number with its unit."""
    ph = phrases(lang)
    if value is None or value != value:
        return str(ph.not_answered())
    if ind.kind == "yes_no":
        return str(ph.yes() if value >= 0.5 else ph.no())
    if ind.kind == "ordinal" and ind.levels and float(value).is_integer() and int(value) in ind.levels:
        return str(ph.level(esc(ind.levels[int(value)][lang]), int(value), int(ind.max)))
    return str(ph.quantity(present.number(value, lang), esc(present.unit(ind, value, lang))))


def band_name(catalogue: Catalogue, band: str | None, lang: str) -> str:
    """The band's name in `lang`, escaped (a percentile without a band has none to name)."""
    if band is None:
        raise ValueError("no band to name: the percentile is missing")
    return esc(next(b.name[lang] for b in catalogue.peers.bands if b.id == band))


def label_name(catalogue: Catalogue, label: str, lang: str) -> str:
    return esc(getattr(catalogue.labels, label).name[lang])


def group_name(result, requested: str, lang: str) -> str:
    return esc(result.group(requested).name(lang))


# --- the interpretation ----------------------------------------------------------------------

@dataclass
class Statement:
    text: str
    source: StatementSource = "generated"
    anchor: str = "overall"                # what it is about: overall, dimension:<id>, indicator:<id>
    kind: str = ""                         # the template or rule that produced it
    facts: dict = field(default_factory=dict)
    marker: str = ""                       # "Auditor's note:" for the auditor's notes


@dataclass
class Section:
    anchor: str
    title: str
    statements: list[Statement] = field(default_factory=list)


@dataclass
class Interpretation:
    lang: str
    client_id: str
    client_name: str                       # escaped
    sections: list[Section]
    handles: pd.DataFrame
    silver_areas: list[str]
    handle_items: list[dict] = field(default_factory=list, repr=False)   # handles formatted for text
    templates_used: tuple[str, ...] = ()

    def section(self, anchor: str) -> Section:
        return next(s for s in self.sections if s.anchor == anchor)

    def statements(self, source: str | None = None) -> list[Statement]:
        return [st for s in self.sections for st in s.statements if source in (None, st.source)]

    def to_markdown(self, *, handles: bool = True, notes: bool = True) -> str:
        """The whole interpretation as Markdown; a report that shows the handles or the notes
        elsewhere can leave them out here (handles=False, notes=False)."""
        sections = [Section(s.anchor, s.title, [st for st in s.statements if notes or st.source != "auditor"])
                    for s in self.sections]
        text = commentary_env(self.lang).get_template(DOCUMENT).render(
            name=self.client_name, sections=sections, handles=self.handle_items, show_handles=handles)
        return text.strip() + "\n"

    def to_text(self) -> str:
        """The Markdown for a terminal: entities shown as characters (a terminal renders no HTML)."""
        return html.unescape(_MD_UNESCAPE.sub(r"\1", self.to_markdown()))


class _Writer:
    """Builds the sections of one result in one language."""

    def __init__(self, result, lang: str, rules: CommentaryRules):
        self.r = result
        self.lang = lang
        self.cat: Catalogue = result.catalogue
        self.rules = rules
        self.env = commentary_env(lang)
        self.ph = phrases(lang)
        self.used: set[str] = set()
        self.primary = result.primary_group
        self.rows = {(row["group"], row["indicator"]): row for row in result.positions.to_dict("records")}
        self.dims = {(row["group"], row["dimension"]): row for row in result.dimensions.to_dict("records")}
        self.extra: dict[str, list[Statement]] = {}     # indicator id -> context statements

    @cached_property
    def threshold_criteria(self) -> dict[str, list[dict]]:
        """The Bronze and Gold criteria of each indicator, in the criteria table's order (split once)."""
        crit = self.r.labels.criteria
        out: dict[str, list[dict]] = {}
        for c in crit[crit["label"].isin(["bronze", "gold"])].to_dict("records"):
            out.setdefault(c["indicator"], []).append(c)
        return out

    # -- helpers --
    def render(self, template: str, **ctx: Any) -> str:
        self.used.add(template)
        return " ".join(self.env.get_template(template).render(**ctx).split())

    def say(self, template: str, anchor: str, facts: dict | None = None, **ctx: Any) -> Statement:
        return Statement(self.render(template, **ctx), "generated", anchor, template.removesuffix(".j2"),
                         facts or {})

    def name(self, indicator: str) -> str:
        return esc(self.cat.indicator(indicator).name[self.lang])

    def value(self, indicator: str, value: float | None) -> str:
        return value_text(self.cat.indicator(indicator), value, self.lang)

    def group_ok(self, requested: str) -> bool:
        """The group is there, has statistics and is itself (not a broader fallback)."""
        try:
            g = self.r.group(requested)
        except KeyError:
            return False
        return g.available and g.key == requested

    def position(self, group: str, indicator: str) -> dict | None:
        row = self.rows.get((group, indicator))
        if row is None or row["percentile"] != row["percentile"]:
            return None
        band = present.band_id(row["percentile"], self.cat)     # the band of the number shown
        return {"indicator": indicator, "group": group, "percentile": pct_int(row["percentile"]),
                "band": band, "n": int(row["n"]),
                "band_name": band_name(self.cat, band, self.lang),
                "group_name": group_name(self.r, group, self.lang)}

    def dimension(self, group: str, dim: str) -> dict | None:
        row = self.dims.get((group, dim))
        if row is None or row["score"] != row["score"]:
            return None
        band = present.band_id(row["score"], self.cat)
        return {"dimension": dim, "group": group, "score": pct_int(row["score"]), "band": band,
                "band_name": band_name(self.cat, band, self.lang),
                "name": esc(self.cat.dimension(dim).name[self.lang])}

    def asked_name(self, requested: str) -> str:
        """The name of the group as asked for (before any fallback to a broader group)."""
        if requested not in BUILT_IN:
            return esc(requested)
        spec = built_in_spec(requested, self.r.client, self.cat)
        return esc(spec.name_nl if self.lang == "nl" else spec.name_en)

    def group_fact(self, requested: str) -> dict:
        g = self.r.group(requested)
        return {"group": requested, "n": g.n, "name": group_name(self.r, requested, self.lang)}

    # -- overall --
    def overall(self, areas: list[str]) -> list[Statement]:
        c = self.r.client
        out: list[Statement] = []
        dims = [d for d in (self.dimension(self.primary, x.id) for x in self.cat.dimensions) if d]
        top = max(dims, key=lambda d: d["score"]) if dims else None
        bottom = min(dims, key=lambda d: d["score"]) if len(dims) > 1 else None
        if bottom is not None and top is not None and bottom["score"] == top["score"]:
            bottom = None
        scored = [i for i in self.cat.indicators if i.scored]
        answered = sum(1 for i in scored if c.answers.get(i.id) is not None)
        field_name = self.cat.fields[c.field].name[self.lang] if c.field in self.cat.fields else c.field
        primary = self.group_fact(self.primary)
        out.append(self.say("overview.j2", "overall",
                            {"dimensions": [d for d in (top, bottom) if d], "groups": [primary]},
                            client={"name": esc(c.name), "field": esc(field_name), "country": esc(c.country),
                                    "founded": c.founding_year, "year": c.benchmark_year},
                            primary=primary, available=self.r.group(self.primary).available,
                            top=top, bottom=bottom, dims=len(self.cat.dimensions),
                            answered=answered, scored=len(scored)))
        others = [g for g in self.r.peer_groups if g.requested != self.primary]
        if others:
            items = [{**self.group_fact(g.requested), "available": g.available,
                      "asked": self.asked_name(g.requested), "fallback": bool(g.fallback_from),
                      "refused": bool(g.refusals)} for g in others]
            out.append(self.say("groups.j2", "overall", {"groups": [i for i in items if i["available"]]},
                                groups=items))
        out += self.label_statements()
        out.append(self.say("silver_areas.j2", "overall", {},
                            areas=[self.name(a) for a in areas],
                            documented=[self.name(a) for a in self.r.notes.improvement_areas
                                        if a in self.cat.by_id],
                            count=self.cat.labels.silver.improvement_areas))
        out += self.context_overall()
        return out

    def label_statements(self) -> list[Statement]:
        crit = self.r.labels.criteria
        out = []
        for label, verdict in self.r.labels.verdicts.items():
            rows = crit[(crit["label"] == label) & ~crit["passed"]]
            if label == "gold":
                rows = rows[rows["part"] == "minimum"]
            open_ = []
            for row in rows.to_dict("records"):
                ind = row["indicator"] if isinstance(row["indicator"], str) else None
                open_.append({"criterion": row["criterion"], "label": label, "passed": False,
                              "label_name": label_name(self.cat, label, self.lang), "part": row["part"],
                              "name": self.name(ind) if ind else "",
                              "part_text": esc(present.criterion_name(row["criterion"], self.cat, self.lang, ind)),
                              "value": self.value(ind, row["value"]) if ind else "",
                              "threshold": self.value(ind, row["threshold"]) if ind else ""})
            gold = self.cat.labels.gold
            quality_open = int(((crit["label"] == "gold") & (crit["part"] == "quality") & ~crit["passed"]).sum())
            out.append(self.say("label.j2", "overall",
                                {"labels": [{"label": label, "ready": verdict.ready}],
                                 "criteria": [{"criterion": o["criterion"], "label": o["label"], "passed": o["passed"],
                                               "name": o["part_text"]} for o in open_]},
                                label={"id": label, "name": label_name(self.cat, label, self.lang),
                                       "ready": verdict.ready, "passed": verdict.passed, "total": verdict.total,
                                       "score": verdict.total_score if verdict.total_score is not None else 0.0,
                                       "score_min": gold.total_score_min, "quality_open": quality_open,
                                       "quality_total": len(gold.quality)},
                                open=open_))
        return out

    # -- context rules --
    def context_overall(self) -> list[Statement]:
        rules = self.rules.rules
        out: list[Statement] = []
        c = self.r.client
        # a peer group that fell back to a broader group (a small home country, a rare field...)
        if rules.small_group_fallback.enabled:
            for g in self.r.peer_groups:
                if g.requested not in rules.small_group_fallback.groups or not g.fallback_from:
                    continue
                asked = self.asked_name(g.requested)
                facts = {"rule": "small_group_fallback",
                         "groups": [self.group_fact(g.requested)] if g.available else []}
                out.append(self.say("context_fallback.j2", "overall", facts, kind=g.requested, asked=asked,
                                    country=esc(c.country), floor=self.r.anonymity_floor,
                                    used=self.group_fact(g.requested), available=g.available))
        # a young organisation: budget, team and members also against its age band
        young = rules.young_organisation
        band = self.cat.age_band(c.age)
        if young.enabled and (band in young.age_bands or c.age <= young.max_age):
            ok = self.group_ok(young.compare_group)
            band_obj = next((b for b in self.cat.peers.age_bands if b.id == band), None)
            out.append(self.say("context_young.j2", "overall",
                                {"rule": "young_organisation",
                                 "groups": [self.group_fact(young.compare_group)] if ok else []},
                                age=c.age, band=esc(band_obj.name[self.lang]) if band_obj else "",
                                names=[self.name(i) for i in young.indicators],
                                group=self.group_fact(young.compare_group) if ok else None))
            for iid in young.indicators:
                mine = self.position(young.compare_group, iid) if ok else None
                if mine is None:
                    continue
                main = self.position(self.primary, iid) if self.primary != young.compare_group else None
                self.extra.setdefault(iid, []).append(self.say(
                    "context_young_indicator.j2", f"indicator:{iid}",
                    {"rule": "young_organisation", "positions": [p for p in (mine, main) if p]},
                    name=self.name(iid), value=self.value(iid, c.answers.get(iid)), pos=mine, main=main))
        # field norms differ: the field's median against the reference group's median
        norms = rules.field_norms
        if norms.enabled and self.group_ok(norms.field_group) and self.group_ok(norms.reference_group) \
                and norms.field_group != self.r.group(norms.reference_group).key:
            for iid, limit in norms.min_difference.items():
                f, a = self.rows.get((norms.field_group, iid)), self.rows.get((norms.reference_group, iid))
                if f is None or a is None or c.answers.get(iid) is None:
                    continue
                if f["median"] != f["median"] or a["median"] != a["median"] or abs(f["median"] - a["median"]) <= limit:
                    continue
                medians = [{"indicator": iid, "group": g, "median": float(row["median"]), "n": int(row["n"]),
                            "name": group_name(self.r, g, self.lang), "text": self.value(iid, row["median"])}
                           for g, row in ((norms.field_group, f), (norms.reference_group, a))]
                self.extra.setdefault(iid, []).append(self.say(
                    "context_field_norms.j2", f"indicator:{iid}", {"rule": "field_norms", "medians": medians},
                    name=self.name(iid), field=medians[0], reference=medians[1],
                    higher=f["median"] > a["median"]))
        # strong structure, weak services: a service gap
        gap = rules.service_gap          # a disabled rule's ids are not checked: never look them up
        strong, weak = (self.dimension(self.primary, gap.strong_dimension),
                        self.dimension(self.primary, gap.weak_dimension)) if gap.enabled else (None, None)
        if gap.enabled and strong and weak:
            raw_s = self.dims[(self.primary, gap.strong_dimension)]["score"]
            raw_w = self.dims[(self.primary, gap.weak_dimension)]["score"]
            if raw_s >= gap.strong_min_score and raw_w <= gap.weak_max_score:
                out.append(self.say("context_service_gap.j2", "overall",
                                    {"rule": "service_gap", "dimensions": [strong, weak],
                                     "groups": [self.group_fact(self.primary)]},
                                    strong=strong, weak=weak, group=self.group_fact(self.primary)))
        # high dependence on public money from few sources
        dep = rules.public_dependence
        pub, src = (c.answers.get(dep.public_indicator), c.answers.get(dep.sources_indicator)) if dep.enabled \
            else (None, None)
        if dep.enabled and pub is not None and src is not None and pub >= dep.public_min and src <= dep.sources_max:
            values = [{"indicator": dep.public_indicator, "value": float(pub), "text": self.value(dep.public_indicator,
                                                                                                  pub)},
                      {"indicator": dep.sources_indicator, "value": float(src),
                       "text": self.value(dep.sources_indicator, src)}]
            out.append(self.say("context_public_dependence.j2", "overall",
                                {"rule": "public_dependence", "values": values},
                                public=values[0], sources=values[1]))
        # many members, few of them active
        pas = rules.passive_membership
        members, active = (self.position(self.primary, pas.members_indicator),
                           self.position(self.primary, pas.active_indicator)) if pas.enabled else (None, None)
        if pas.enabled and members and active:
            m_raw = self.rows[(self.primary, pas.members_indicator)]["percentile"]
            a_raw = self.rows[(self.primary, pas.active_indicator)]["percentile"]
            if m_raw >= pas.members_min_percentile and a_raw < pas.active_below_percentile:
                out.append(self.say("context_passive_membership.j2", "overall",
                                    {"rule": "passive_membership", "positions": [members, active]},
                                    members=members, active=active,
                                    members_name=self.name(pas.members_indicator),
                                    active_name=self.name(pas.active_indicator)))
        return out

    # -- dimensions --
    def dimension_section(self, dim: str, notes) -> Section:
        title = esc(self.cat.dimension(dim).name[self.lang])
        sec = Section(f"dimension:{dim}", title)
        anchor = f"dimension:{dim}"
        d = self.dimension(self.primary, dim)
        row = self.dims.get((self.primary, dim), {})
        facts = {"dimensions": [d] if d else [], "groups": [self.group_fact(self.primary)]}
        peer = row.get("peer_median", float("nan"))
        sec.statements.append(self.say(
            "dimension.j2", anchor, facts, dim=d, name=title, group=self.group_fact(self.primary),
            peer_median=pct_int(peer) if peer == peer else None,
            answered=int(row.get("answered", 0)), scored=int(row.get("scored", 0))))
        sec.statements += notes.get(anchor, [])
        unanswered = []
        for ind in self.cat.in_dimension(dim):
            sec.statements += self.indicator_statements(ind)
            sec.statements += self.extra.get(ind.id, [])
            sec.statements += notes.get(f"indicator:{ind.id}", [])
            if ind.scored and self.r.client.answers.get(ind.id) is None:
                unanswered.append(self.name(ind.id))
        if unanswered:
            sec.statements.append(self.say("unanswered.j2", anchor, {}, names=unanswered))
        return sec

    def indicator_statements(self, ind: Indicator) -> list[Statement]:
        out = []
        anchor = f"indicator:{ind.id}"
        value = self.r.client.answers.get(ind.id)
        pos = self.position(self.primary, ind.id) if ind.scored else None
        notable = self.rules.notable
        if pos is not None:
            row = self.rows[(self.primary, ind.id)]
            strength, weakness = is_strength(row["percentile"]), is_weakness(row["percentile"])
            if strength or weakness:
                step = next_step(ind, float(value), {k: row[k] for k in ("p10", "p25", "median", "p75", "p90")})
                out.append(self.say(
                    "indicator.j2", anchor, {"positions": [pos]}, strength=strength, name=self.name(ind.id),
                    value=self.value(ind.id, value), pos=pos, median=self.value(ind.id, row["median"]),
                    next=self.value(ind.id, step[0]) if step and weakness else None,
                    step=step[1] if step and weakness else ""))
        if value is not None and ind.kind not in notable.near_threshold_skip_kinds:
            near = []
            for c in self.threshold_criteria.get(ind.id, ()):
                thr = float(c["threshold"])
                if abs(float(value) - thr) <= notable.near_threshold_fraction * abs(thr):
                    near.append({"criterion": c["criterion"], "label": c["label"], "passed": bool(c["passed"]),
                                 "label_name": label_name(self.cat, c["label"], self.lang),
                                 "threshold": self.value(ind.id, thr)})
            if near:
                out.append(self.say("criterion_near.j2", anchor,
                                    {"criteria": [{"criterion": n["criterion"], "label": n["label"],
                                                   "passed": n["passed"], "name": ""} for n in near]},
                                    name=self.name(ind.id), value=self.value(ind.id, value),
                                    crits=list({(n["label"], n["passed"], n["threshold"]): n for n in near}.values()),
                                    any_open=any(not n["passed"] for n in near)))
        return out

    # -- evolution --
    def evolution_section(self) -> Section | None:
        evo = self.r.evolution
        if evo is None:
            return None
        sec = Section("evolution", str(self.ph.title_evolution(evo.earlier_year)))
        ch = evo.changes
        counts = {t: int((ch["trend"] == t).sum()) for t in ("improved", "declined", "stable")}
        sec.statements.append(self.say(
            "evolution_summary.j2", "evolution", {"groups": [self.group_fact(evo.group)]},
            then=evo.earlier_year, now=evo.current_year, group=self.group_fact(evo.group),
            noise=evo.noise_band, **counts))
        labels = []
        for when, verdicts in (("then", evo.labels_then.verdicts), ("now", self.r.labels.verdicts)):
            for label, v in verdicts.items():
                labels.append({"label": label, "ready": v.ready, "when": when,
                               "name": label_name(self.cat, label, self.lang)})
        sec.statements.append(self.say("evolution_labels.j2", "evolution", {"labels": labels},
                                       then=evo.earlier_year, now=evo.current_year,
                                       before=[lb for lb in labels if lb["when"] == "then"],
                                       after=[lb for lb in labels if lb["when"] == "now"]))
        moved = ch[ch["trend"].isin(["improved", "declined"])].copy()
        moved["size"] = moved["percentile_change"].abs()
        moved["order"] = range(len(moved))
        moved = moved.sort_values(["size", "order"], ascending=[False,
                                                                True]).head(self.rules.notable.evolution_max_changes)
        for r in moved.to_dict("records"):
            then_p, now_p = pct_int(r["percentile_then"]), pct_int(r["percentile_now"])
            then_b, now_b = present.band_id(r["percentile_then"], self.cat), present.band_id(r["percentile_now"],
                                                                                             self.cat)
            fact = {"indicator": r["indicator"], "group": evo.group, "trend": r["trend"],
                    "percentile_then": then_p, "band_then": then_b, "percentile_now": now_p, "band_now": now_b}
            sec.statements.append(self.say(
                "evolution_change.j2", f"indicator:{r['indicator']}", {"evolution": [fact]},
                name=self.name(r["indicator"]), trend=r["trend"],
                value_then=self.value(r["indicator"], r["value_then"]),
                value_now=self.value(r["indicator"], r["value_now"]),
                then={"pct": then_p, "band": band_name(self.cat, then_b, self.lang)},
                now={"pct": now_p, "band": band_name(self.cat, now_b, self.lang)}))
        return sec

    # -- handles for the text --
    def handle_items(self, handles: pd.DataFrame, top: int) -> list[dict]:
        items = []
        for h in handles.head(top).to_dict("records"):
            unanswered = h["value"] != h["value"]
            items.append({
                "priority": int(h["priority"]), "name": self.name(h["indicator"]),
                "dimension": esc(self.cat.dimension(h["dimension"]).name[self.lang]),
                "unanswered": unanswered, "value": "" if unanswered else self.value(h["indicator"], h["value"]),
                "target": self.value(h["indicator"], h["target"]), "kind": h["target_kind"],
                "step": h["target_step"], "group": group_name(self.r, self.primary, self.lang),
                "criterion": esc(h["criterion"]) if isinstance(h["criterion"], str) else "",
                "label": label_name(self.cat, h["label"], self.lang) if isinstance(h["label"], str) else "",
                "action": esc(h["action"]), "alternative": esc(h["action_alt"]),
            })
        return items


def _note_statements(result, lang: str) -> dict[str, list[Statement]]:
    marker = str(phrases(lang).auditor_marker())
    out: dict[str, list[Statement]] = {}
    for note in result.notes.notes:
        out.setdefault(note.anchor, []).append(
            Statement(esc_block(note.text), "auditor", note.anchor, "note", {}, marker))
    return out


def interpret(result, lang: str = "en") -> Interpretation:
    """The interpretation of one AuditResult in one language (deterministic)."""
    _check_lang(lang)
    cat = result.catalogue
    rules = load_rules(cat)
    handles = improvement_handles(result, lang, rules.handles, load_actions(cat))
    areas = silver_areas(handles, cat.labels.silver.improvement_areas)
    w = _Writer(result, lang, rules)
    notes = _note_statements(result, lang)
    overall = Section("overall", str(w.ph.title_overall()), w.overall(areas) + notes.get("overall", []))
    sections = [overall] + [w.dimension_section(d.id, notes) for d in cat.dimensions]
    evo = w.evolution_section()
    if evo is not None:
        sections.append(evo)
    items = w.handle_items(handles, rules.handles.markdown_top)
    w.used.add(DOCUMENT)
    return Interpretation(lang, result.client.client_id, esc(result.client.name), sections, handles, areas,
                          items, tuple(sorted(w.used)))

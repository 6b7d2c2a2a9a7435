"""Free text against the figures: what an auditor's edited commentary states, checked.

The generated commentary is checked statement by statement from its structured facts
(`auditlib.consistency`). An auditor's edited or added passage has no facts: it is prose. This
module reads the figures such prose states (percentiles, bands, n, medians, label verdicts,
criteria counts, the Gold total) in English and Dutch, finds what each is about (the nearest
indicator, dimension, label or peer group named before it, else the passage's anchor) and
compares it with the result under the presentation layer's one rule (floor).

Why a stored snapshot (`Figures`, written as review-facts.json at generation): `auditlib
finalise` must check the text without re-running the analysis, whose inputs (the benchmark
export, the questionnaire) may have changed or gone since. The snapshot holds only shown
figures of the client and its groups (no other organisation's value), in the report's language.

Lenient where prose is ambiguous (a claim whose subject cannot be found is not judged, and a
figure that matches any of the candidate subjects passes); strict where it is not ("top 10%"
for an indicator at P71, a wrong n after a group's name, "ready" for a label that is not).
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from dataclasses import dataclass, field
from typing import Any

from auditlib import present

# the band words beyond the catalogue's own names: (language-independent) synonyms per band id
_BAND_SYNONYMS = {
    "top_quartile": ("top 25%", "upper quartile", "hoogste kwartiel", "bovenste 25%"),
    "bottom_quartile": ("bottom 25%", "lowest quartile", "laagste kwartiel", "onderste 25%"),
    "top_10": ("top decile", "bovenste 10%", "hoogste 10%"),
}
_NUMBER = r"\d{1,3}(?:[.,\u202f ]\d{3})+|\d+"
_PCT = [re.compile(r"\b(?:percentile|percentiel)\s+(\d{1,3})\b", re.IGNORECASE),
        re.compile(r"\b(\d{1,3})(?:st|nd|rd|th|e|ste|de)\s+percentiel?e?\b", re.IGNORECASE),
        re.compile(r"\bP(\d{1,3})\b")]
_N = [re.compile(r"\bn\s*=\s*(" + _NUMBER + r")", re.IGNORECASE),
      re.compile(r"\b(" + _NUMBER + r")\s+(?:organisations|organizations|organisaties|peers|clusters)\b",
                 re.IGNORECASE)]
_COUNT = re.compile(r"\b(\d+)\s*(?:of|out of|van|van de|/)\s*(\d+)\s+(?:\w+\s+)?(criteria|criterion|criterium|"
                    r"quality thresholds|kwaliteitsdrempels)\b", re.IGNORECASE)
_ALL_COUNT = re.compile(r"\b(?:all|alle)\s+(\d+)\s+(criteria|quality thresholds|kwaliteitsdrempels)\b", re.IGNORECASE)
_GOLD_TOTAL = re.compile(r"\b(?:total score|totaalscore)\b[^.;%\d]{0,30}?(\d+)\s*%", re.IGNORECASE)
_READY = re.compile(r"\b(not yet ready|not ready|nog niet gereed|niet gereed|nog niet klaar|niet klaar|"
                    r"ready|gereed|klaar)\b", re.IGNORECASE)
_MEDIAN = re.compile(r"\b(?:median|mediaan)\b[^.;:\d]{0,40}?(" + _NUMBER + r"(?:[.,]\d+)?)", re.IGNORECASE)
_PEER_MEAN = re.compile(r"(?:typical peer is at a mean of|staat gemiddeld op)\s+(\d+)\b", re.IGNORECASE)
_STATISTIC = re.compile(r"(?:\b(?:the|het|de|peers'|groep)\s*$|(?:percentile|percentiel|median|mediaan)\s*\(\s*$)",
                        re.IGNORECASE)
_EXCLUDE_N = re.compile(r"(?:fewer than|at least|minder dan|minstens|ten minste)\s*$", re.IGNORECASE)


@dataclass
class Figures:
    """The shown figures of one result in one language: what the free-text check needs."""

    lang: str
    primary: str
    groups: dict[str, dict]          # requested -> {name, n, available}
    indicators: dict[str, dict]      # id -> {name, dimension, positions: {group: {pct, band, n, median}}, evolution}
    dimensions: dict[str, dict]      # id -> {name, scores: {group: score}, peer_median}
    labels: dict[str, dict]          # id -> {name, names, ready, passed, total, ready_then, passed_then, ...}
    bands: list[dict]                # [{id, min, names: [...]}] in catalogue order
    years: dict[str, int] = field(default_factory=dict)     # {"then": 2024, "now": 2026}
    floor: int = 10
    total_n: int = 0

    def to_json(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict) -> Figures:
        return cls(**data)


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def figures(result, lang: str) -> Figures:
    """The snapshot of `result` the check needs (shown figures only, by the one rule)."""
    cat = result.catalogue
    shown = present.shown_percentile
    groups = {g.requested: {"name": g.name(lang), "n": int(g.n), "available": bool(g.available)}
              for g in result.peer_groups}
    inds: dict[str, dict] = {i.id: {"name": i.name[lang], "dimension": i.dimension, "positions": {},
                                    "evolution": None} for i in cat.indicators}
    for row in result.positions[["group", "indicator", "percentile", "n", "median"]].to_dict("records"):
        if row["indicator"] not in inds:
            continue
        ind = cat.indicator(row["indicator"])
        pct = shown(row["percentile"])
        med = None if _missing(row["median"]) else row["median"]
        inds[row["indicator"]]["positions"][row["group"]] = {
            "pct": pct, "band": present.band_id(row["percentile"], cat) if pct is not None else None,
            "n": None if _missing(row["n"]) else int(row["n"]),
            "median": None if med is None else present.value(ind, med, lang)}
    evo = result.evolution
    if evo is not None:
        for row in evo.changes[["indicator", "percentile_then", "percentile_now"]].to_dict("records"):
            if row["indicator"] in inds:
                inds[row["indicator"]]["evolution"] = {"then": shown(row["percentile_then"]),
                                                       "now": shown(row["percentile_now"])}
    dims: dict[str, dict] = {d.id: {"name": d.name[lang], "scores": {}, "peer_median": {}} for d in cat.dimensions}
    for row in result.dimensions[["group", "dimension", "score", "peer_median"]].to_dict("records"):
        if row["dimension"] in dims:
            dims[row["dimension"]]["scores"][row["group"]] = shown(row["score"])
            dims[row["dimension"]]["peer_median"][row["group"]] = shown(row["peer_median"])
    labels: dict[str, dict] = {}
    crit = result.labels.criteria
    for key, v in result.labels.verdicts.items():
        rule = getattr(cat.labels, key)
        item = {"name": rule.name[lang], "names": sorted({rule.name[x] for x in rule.name.model_dump()}
                                                         if hasattr(rule.name, "model_dump") else {rule.name[lang]}),
                "ready": bool(v.ready), "passed": int(v.passed), "total": int(v.total),
                "total_score": shown(v.total_score) if v.total_score is not None else None}
        if key == "gold":
            quality = crit[(crit["label"] == "gold") & (crit["part"] == "quality")]
            item["quality_passed"], item["quality_total"] = int(quality["passed"].sum()), len(quality)
        if evo is not None and key in evo.labels_then.verdicts:
            then = evo.labels_then.verdicts[key]
            item.update(ready_then=bool(then.ready), passed_then=int(then.passed), total_then=int(then.total))
        labels[key] = item
    bands = [{"id": b.id, "min": float(b.min),
              "names": sorted({*b.name.model_dump().values(), *_BAND_SYNONYMS.get(b.id, ())})
              if hasattr(b.name, "model_dump") else [b.name[lang], *_BAND_SYNONYMS.get(b.id, ())]}
             for b in cat.peers.bands]
    years = {"now": int(result.client.benchmark_year)}
    if evo is not None:
        years = {"then": int(evo.earlier_year), "now": int(evo.current_year)}
    total = max((g["n"] for g in groups.values()), default=0)
    return Figures(lang, result.primary_group, groups, inds, dims, labels, bands, years,
                   int(result.anonymity_floor), total)


# --- reading prose -------------------------------------------------------------------------------

def plain(markdown: str) -> str:
    """Markdown as the reader sees it: escapes, entities, emphasis and list marks removed."""
    text = re.sub(r"\\([\\`*_\[\]<>~|:.#!()+-])", r"\1", markdown)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    return text


def blocks(markdown: str) -> list[list[str]]:
    """The sentences of a passage, per paragraph or list item (headings left out: they state no figure)."""
    out: list[list[str]] = []
    for block in re.split(r"\n\s*(?:[-*+]\s+|\d+\.\s+|>\s*)?", "\n" + plain(markdown)):
        block = " ".join(block.split())
        if not block or block.startswith("#"):
            continue
        out.append([s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9À-Ý‘'\"(])", block) if s.strip()])
    return out


def sentences(markdown: str) -> list[str]:
    """The sentences of a passage."""
    return [s for block in blocks(markdown) for s in block]


def _int(text: str) -> int:
    return int(re.sub(r"[.,\u202f ]", "", text))


@dataclass(frozen=True)
class Contradiction:
    """One sentence stating a figure the result does not have."""

    cell: int               # the notebook cell's number, 1-based
    anchor: str
    sentence: str
    says: str               # what the text says
    figure: str             # what the figure is

    @property
    def key(self) -> str:
        """The hash an auditor gives to accept this contradiction deliberately (12 hex)."""
        return sentence_key(self.sentence, self.says)

    def message(self) -> str:
        return (f"cell {self.cell} ({self.anchor}): \"{_short(self.sentence)}\" says {self.says}, "
                f"but {self.figure} [accept with --accept {self.key}]")


def sentence_key(sentence: str, says: str) -> str:
    norm = " ".join(sentence.split()).casefold() + "\n" + says
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:12]


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class _Sentence:
    """One sentence, with where each subject (indicator, dimension, label, group) is named."""

    def __init__(self, text: str, figs: Figures, default: list[tuple[str, str]]):
        self.text, self.f, self.default = text, figs, default
        low = text.casefold()
        names: list[tuple[str, str, str]] = []
        for iid, i in figs.indicators.items():
            names.append((i["name"], "indicator", iid))
        for did, d in figs.dimensions.items():
            names.append((d["name"], "dimension", did))
        for lid, lab in figs.labels.items():
            for n in lab["names"]:
                names.append((n, "label", lid))
        for gid, g in figs.groups.items():
            names.append((g["name"], "group", gid))
        taken: list[tuple[int, int]] = []
        self.mentions: list[tuple[int, int, str, str]] = []
        for name, kind, ident in sorted(names, key=lambda x: -len(x[0])):
            pattern = re.compile(r"(?<!\w)" + re.escape(name.casefold()) + r"(?!\w)")
            for m in pattern.finditer(low):
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                taken.append((m.start(), m.end()))
                self.mentions.append((m.start(), m.end(), kind, ident))
        self.mentions.sort()

    def named(self, kinds: tuple[str, ...]) -> list[tuple[int, int, str, str]]:
        return [m for m in self.mentions if m[2] in kinds]

    def subjects(self, pos: int, kinds=("indicator", "dimension")) -> list[tuple[str, str]]:
        """What a figure at `pos` is about: the nearest subject named before it, else after, else the anchor's."""
        found = self.named(kinds)
        before = [m for m in found if m[1] <= pos]
        if before:
            return [(before[-1][2], before[-1][3])]
        after = [m for m in found if m[0] >= pos]
        if after:
            return [(after[0][2], after[0][3])]
        return [d for d in self.default if d[0] in kinds]

    def groups(self) -> list[str]:
        named = [m[3] for m in self.named(("group",))]
        return named or [self.f.primary]


def _band_range(figs: Figures, band_id: str) -> tuple[float, float]:
    ids = [b["id"] for b in figs.bands]
    k = ids.index(band_id)
    lo = figs.bands[k]["min"]
    hi = 101.0 if band_id.startswith("top") or k == len(ids) - 1 else figs.bands[k + 1]["min"]
    return lo, hi


def _band_at(figs: Figures, pct: int) -> str:
    chosen = figs.bands[0]
    for b in figs.bands:
        if pct >= b["min"]:
            chosen = b
    return chosen["id"]


def _band_word(figs: Figures, band_id: str) -> str:
    b = next(b for b in figs.bands if b["id"] == band_id)
    own = [n for n in b["names"] if n not in _BAND_SYNONYMS.get(band_id, ())]
    return own[0] if own else b["names"][0]


class TextCheck:
    """Checks passages of free text against one `Figures` snapshot."""

    def __init__(self, figs: Figures):
        self.f = figs
        self.band_names = sorted(((n, b["id"]) for b in figs.bands for n in b["names"]), key=lambda x: -len(x[0]))

    # -- subjects ---------------------------------------------------------------------------------
    def defaults(self, anchor: str) -> list[tuple[str, str]]:
        kind, _, target = anchor.partition(":")
        if kind.startswith("notes") and ":" in target:
            kind, _, target = target.partition(":")
        if kind == "dimension" and target in self.f.dimensions:
            return [("dimension", target)]
        if kind == "indicators" and target in self.f.dimensions:
            return [("indicator", i) for i, v in self.f.indicators.items() if v["dimension"] == target]
        if kind == "indicator" and target in self.f.indicators:
            return [("indicator", target)]
        return []

    def values(self, subject: tuple[str, str], groups: list[str], evolution: bool) -> list[tuple[int, str]]:
        """The shown percentiles (or scores) of a subject in the groups, with how to say them."""
        kind, ident = subject
        out = []
        for g in groups:
            gname = self.f.groups.get(g, {}).get("name", g)
            if kind == "indicator":
                pos = self.f.indicators[ident]["positions"].get(g)
                if pos and pos["pct"] is not None:
                    out.append((pos["pct"], f"{self.f.indicators[ident]['name']} is at P{pos['pct']} against {gname}"))
            elif kind == "dimension":
                score = self.f.dimensions[ident]["scores"].get(g)
                if score is not None:
                    out.append((score, f"{self.f.dimensions[ident]['name']} scores {score} against {gname}"))
        if evolution and kind == "indicator" and self.f.indicators[ident]["evolution"]:
            e = self.f.indicators[ident]["evolution"]
            for when in ("then", "now"):
                if e[when] is not None:
                    out.append((e[when], f"{self.f.indicators[ident]['name']} was at P{e[when]} ({when})"))
        return out

    # -- one sentence -----------------------------------------------------------------------------
    def sentence(self, text: str, anchor: str, carried: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
        """(what the sentence says, what the figure is) for every figure it gets wrong."""
        s = _Sentence(text, self.f, self.defaults(anchor) if carried is None else carried)
        low = text.casefold()
        out: list[tuple[str, str]] = []
        evolution = anchor == "evolution" or str(self.f.years.get("then", "")) in text
        groups = s.groups()

        # percentiles, with the band written right after them
        claimed: list[tuple[int, int, int]] = []       # (start, end, number)
        for pattern in _PCT:
            for m in pattern.finditer(text):
                if pattern is not _PCT[0] and _STATISTIC.search(text[:m.start()]):
                    continue        # "the 75th percentile (P75)": a statistic of the peers, not a position
                if not any(a <= m.start() < b for a, b, _ in claimed):
                    claimed.append((m.start(), m.end(), int(m.group(1))))
        attached: set[int] = set()
        for start, end, number in sorted(claimed):
            after = low[end:end + 30]
            for name, bid in self.band_names:
                if re.match(r"\s*\(\s*" + re.escape(name.casefold()) + r"\s*\)", after):
                    attached.add(low.index(name.casefold(), end))
                    if number > 100 or _band_at(self.f, number) != bid:
                        right = _band_word(self.f, _band_at(self.f, min(number, 100)))
                        out.append((f"percentile {number} ({name})", f"percentile {number} is in the {right} band"))
                    break
            subjects = s.subjects(start)
            cands = [v for sub in subjects for v in self.values(sub, groups, evolution)]
            if cands and all(v != number for v, _ in cands):
                out.append((f"percentile {number}", "; ".join(d for _, d in cands[:3])))
        # bands on their own: the subject's percentile must be in the band
        taken: list[tuple[int, int]] = []
        for name, bid in self.band_names:
            for m in re.finditer(r"(?<!\w)" + re.escape(name.casefold()) + r"(?!\w)", low):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                taken.append((m.start(), m.end()))
                if m.start() in attached:
                    continue
                lo, hi = _band_range(self.f, bid)
                cands = [v for sub in s.subjects(m.start()) for v in self.values(sub, groups, evolution)]
                if cands and not any(lo <= v < hi for v, _ in cands):
                    out.append((f"'{name}'", "; ".join(d for _, d in cands[:3])))
        out += self._counts(s, text, low)
        out += self._medians(s, text, groups)
        out += self._labels(s, text, low)
        return out

    def _counts(self, s: _Sentence, text: str, low: str) -> list[tuple[str, str]]:
        out = []
        for pattern in _N:
            for m in pattern.finditer(text):
                if _EXCLUDE_N.search(text[:m.start()]):
                    continue
                n = _int(m.group(1))
                before = [g for g in s.named(("group",)) if 0 <= m.start() - g[1] <= 3]
                subjects = [sub for sub in s.subjects(m.start(), ("indicator",))]
                if before:
                    g = before[-1][3]
                    allowed = {self.f.groups[g]["n"]}
                    allowed |= {self.f.indicators[i]["positions"].get(g, {}).get("n") for _, i in subjects}
                    where = f"{self.f.groups[g]['name']} has n = {present.count(self.f.groups[g]['n'], self.f.lang)}"
                else:
                    allowed = {g["n"] for g in self.f.groups.values()} | {self.f.floor, self.f.total_n}
                    allowed |= {p.get("n") for _, i in subjects for p in self.f.indicators[i]["positions"].values()}
                    where = "no peer group or indicator of this report has that n"
                if n not in allowed:
                    out.append((f"n = {m.group(1)}", where))
        for m in _GOLD_TOTAL.finditer(text):
            gold = self.f.labels.get("gold")
            if gold and gold["total_score"] is not None and int(m.group(1)) != gold["total_score"]:
                out.append((f"a Gold total score of {m.group(1)}%", f"the Gold total score is {gold['total_score']}%"))
        when = "now"
        for clause in re.split(r";", text):
            when = self._when(clause, when)
            label = self._label_in(s, text, clause)
            for m in _COUNT.finditer(clause):
                passed, total, what = int(m.group(1)), int(m.group(2)), m.group(3).casefold()
                out += self._count_problem(label, passed, total, what, when, m.group(0))
            for m in _ALL_COUNT.finditer(clause):
                total, what = int(m.group(1)), m.group(2).casefold()
                out += self._count_problem(label, total, total, what, when, m.group(0))
        return out

    def _label_in(self, s: _Sentence, text: str, clause: str) -> str | None:
        start = text.find(clause)
        inside = [m for m in s.named(("label",)) if start <= m[0] < start + len(clause)]
        if inside:
            return inside[-1][3]
        before = [m for m in s.named(("label",)) if m[1] <= start]
        return before[-1][3] if before else None

    def _when(self, clause: str, when: str) -> str:
        then, now = str(self.f.years.get("then", "-")), str(self.f.years.get("now", "-"))
        if then in clause and (now not in clause or clause.index(then) > clause.index(now)):
            return "then"
        if now in clause:
            return "now"
        return when

    def _count_problem(self, label: str | None, passed: int, total: int, what: str, when: str,
                       said: str) -> list[tuple[str, str]]:
        options = [label] if label else list(self.f.labels)
        quality = "quality" in what or "kwaliteit" in what
        facts = []
        for key in options:
            lab = self.f.labels[key]
            if quality:
                if "quality_total" in lab:
                    said_q = (f"{lab['name']}: {lab['quality_passed']} of {lab['quality_total']} "
                              "quality thresholds reached")
                    facts.append((lab["quality_passed"], lab["quality_total"], said_q))
            elif when == "then" and "passed_then" in lab:
                facts.append((lab["passed_then"], lab["total_then"],
                              f"{lab['name']} then: {lab['passed_then']} of {lab['total_then']} criteria met"))
            else:
                facts.append((lab["passed"], lab["total"],
                              f"{lab['name']}: {lab['passed']} of {lab['total']} criteria met"))
        if facts and not any(p == passed and t == total for p, t, _ in facts):
            return [(f"'{said}'", "; ".join(d for _, _, d in facts))]
        return []

    def _medians(self, s: _Sentence, text: str, groups: list[str]) -> list[tuple[str, str]]:
        out = []
        for m in _MEDIAN.finditer(text):
            said = m.group(1)
            cands = []
            for kind, ident in s.subjects(m.start()):
                for g in groups:
                    if kind == "indicator":
                        med = self.f.indicators[ident]["positions"].get(g, {}).get("median")
                        if med:
                            first = re.search(_NUMBER + r"(?:[.,]\d+)?", med)
                            if first:
                                what = f"the median of {self.f.indicators[ident]['name']} is {med}"
                                cands.append((first.group(0), what))
                    elif kind == "dimension":
                        med = self.f.dimensions[ident]["peer_median"].get(g)
                        if med is not None:
                            cands.append((str(med), f"the peer median of {self.f.dimensions[ident]['name']} is {med}"))
            if cands and all(c != said for c, _ in cands):
                out.append((f"a median of {said}", "; ".join(d for _, d in cands[:3])))
        for m in _PEER_MEAN.finditer(text):
            means: list[tuple[int, str]] = [
                (self.f.dimensions[i]["peer_median"][g], self.f.dimensions[i]["name"])
                for _, i in s.subjects(m.start(), ("dimension",)) for g in groups
                if self.f.dimensions[i]["peer_median"].get(g) is not None]
            if means and all(int(m.group(1)) != c for c, _ in means):
                out.append((f"a typical peer at {m.group(1)}",
                            "; ".join(f"the peer median of {n} is {c}" for c, n in means[:3])))
        return out

    def _labels(self, s: _Sentence, text: str, low: str) -> list[tuple[str, str]]:
        out = []
        when = "now"
        offset = 0
        for clause in text.split(";"):
            when = self._when(clause, when)
            labels = [m for m in s.named(("label",)) if offset <= m[0] < offset + len(clause)]
            for m in _READY.finditer(clause):
                pos = offset + m.start()
                before = [x for x in labels if x[1] <= pos]
                target = before[-1:] if before else [x for x in labels if x[0] >= pos][:1]
                if not target:
                    continue
                word = m.group(1).casefold()
                says_ready = not re.search(r"\b(not|niet|nog niet|never|nooit)\b", word) and \
                    not re.search(r"\b(not|niet|geen|nog niet)\s+(?:yet\s+|\w+\s+)?$", clause[:m.start()].casefold())
                key = target[0][3]
                lab = self.f.labels[key]
                actual = lab.get("ready_then") if when == "then" and "ready_then" in lab else lab["ready"]
                if says_ready != actual:
                    state = "ready" if actual else "not ready"
                    out.append((f"{lab['name']} '{m.group(1)}'", f"{lab['name']} is {state}"
                                + (" at the earlier audit" if when == "then" else "")))
            offset += len(clause) + 1
        return out

    # -- passages ---------------------------------------------------------------------------------
    def passage(self, markdown: str, anchor: str, cell: int) -> list[Contradiction]:
        """A sentence that names no indicator or dimension is about the one its paragraph named last."""
        out = []
        for block in blocks(markdown):
            carried = self.defaults(anchor)
            for sentence in block:
                for says, figure in self.sentence(sentence, anchor, carried):
                    out.append(Contradiction(cell, anchor, sentence, says, figure))
                named = _Sentence(sentence, self.f, []).named(("indicator", "dimension"))
                if named:
                    carried = [(named[-1][2], named[-1][3])]
        return out


def check_text(markdown: str, anchor: str, figs: Figures | dict, cell: int = 0) -> list[Contradiction]:
    """Every figure stated in `markdown` (a passage about `anchor`) that the result contradicts."""
    if isinstance(figs, dict):
        figs = Figures.from_json(figs)
    return TextCheck(figs).passage(markdown, anchor, cell)


__all__ = ["Contradiction", "Figures", "TextCheck", "check_text", "figures", "plain", "sentence_key", "sentences"]

"""The presentation layer: every figure a person reads is formatted here, once.

Why one module: the report's text, tables and charts, the Excel export, the portfolio, the
terminal and the meeting widgets all show the same figures. When each formats on its own, the
same percentile reads 96 in one place and 97 in another. Here each kind of figure has one
function, and every renderer calls it.

The one rule (stated in the report's method appendix): a displayed percentile, dimension
score, peer median or Gold total is the raw value rounded *down* to a whole number
(`shown_percentile`: floor(x + 1e-9); the 1e-9 absorbs floating-point noise such as
74.99999999999 for an exact 75; two true percentiles among n peers differ by at least
100 / (2n), far above 1e-9). Bands and label thresholds are ">= integer bound" rules, so
flooring is the one rounding under which the number shown always agrees with the band and the
pass/fail shown next to it: a Gold total of 79.97 reads "79%" and "not ready"; a percentile of
74.7 reads 74 in the "upper middle" band.

Files (manifest.json, portfolio.json, the Excel data sheets) keep raw values; rounding happens
only where a person reads. Number conventions: English 1,250.5; Dutch 1.250,5.
"""

from __future__ import annotations

import datetime as _dt
import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditlib.config import PACKAGE_ROOT
from auditlib.errors import ParameterError

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue, Indicator
    from auditlib.labels import LabelReadiness

LANGUAGES = ("en", "nl")
WORDS_FILE = PACKAGE_ROOT / "templates" / "report" / "words.yaml"
DASH = "–"                       # a figure that is not there (missing, not shown, below the floor)
EPSILON = 1e-9                   # floating-point noise below a whole number
MONTHS = {"en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December"),
          "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                 "oktober", "november", "december")}


@lru_cache(maxsize=4)
def word_list(path: Path = WORDS_FILE) -> dict:
    """A shipped word list (words.yaml, journey.yaml): the package's own files, read once.

    Through the project's safe YAML reader, with libyaml's parser when PyYAML has it (~10x faster
    than the pure-Python parser: 0.05 s of a cold run for the two files)."""
    from auditlib.yamlsafe import load_path

    return load_path(path, fast=True)


def _all_words() -> dict:
    return word_list(WORDS_FILE)


def words(lang: str) -> dict:
    """The report's fixed words in one language (headings, captions, table heads)."""
    if lang not in LANGUAGES:
        raise ParameterError(f"'{lang}' is not a report language; expected one of {', '.join(LANGUAGES)}")
    return _all_words()[lang]


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True


# --- the one rule ------------------------------------------------------------------------------

def shown_percentile(x: Any) -> int | None:
    """THE rule for a displayed percentile, score, median or total: floor(x + 1e-9); None if missing."""
    if _missing(x):
        return None
    x = float(x)
    if math.isinf(x):
        return None
    return int(math.floor(x + EPSILON))


def percentile(x: Any, lang: str, *, long: bool = False) -> str:
    """'P96' (short) or 'percentile 96' / 'percentiel 96' (long); a dash when there is none."""
    shown = shown_percentile(x)
    if shown is None:
        return DASH
    if long:
        return words(lang)["percentile_long"].format(p=shown)
    return f"P{shown}"


def percentile_number(x: Any, lang: str) -> str:
    """The bare shown percentile ('96'), for a table column headed 'Percentile'."""
    shown = shown_percentile(x)
    return DASH if shown is None else str(shown)


def band_id(x: Any, catalogue: Catalogue) -> str | None:
    """The band of the *shown* percentile, so the number and the band never disagree."""
    shown = shown_percentile(x)
    if shown is None:
        return None
    return catalogue.band(float(shown))


def band(x: Any, catalogue: Catalogue, lang: str) -> str:
    """The band's name in the reader's language ('' when there is no percentile)."""
    bid = band_id(x, catalogue)
    if bid is None:
        return ""
    return next(b.name[lang] for b in catalogue.peers.bands if b.id == bid)


def dimension_score(x: Any, lang: str) -> str:
    """A dimension score (mean percentile), whole number by the same floor rule."""
    return percentile_number(x, lang)


def peer_median(x: Any, lang: str) -> str:
    """A peer group's median score, whole number by the same floor rule."""
    return percentile_number(x, lang)


def gold_total(x: Any, lang: str) -> str:
    """The Gold total score: '79%' for 79.97, so a total that fails 80% never reads 80%."""
    shown = shown_percentile(x)
    return DASH if shown is None else f"{shown}%"


# --- plain numbers -----------------------------------------------------------------------------

def number(x: Any, lang: str, decimals: int | None = None) -> str:
    """A number for the reader: thousands separators, decimal comma in Dutch, a dash for missing.

    decimals=None: whole numbers without decimals, from 10 one decimal, below 10 two; trailing
    zeros dropped (3.25 FTE stays 3.25, 12.50 reads 12.5, 1234.5 reads 1,234.5).
    """
    if _missing(x):
        return DASH
    x = float(x)
    if math.isinf(x):
        return DASH
    trim = decimals is None
    if decimals is None:
        decimals = 0 if abs(x - round(x)) < EPSILON else (1 if abs(x) >= 10 else 2)
    text = f"{x:,.{decimals}f}"
    if trim and decimals:
        text = text.rstrip("0").rstrip(".")
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")           # no "-0"
    if lang == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def share(x: Any, lang: str) -> str:
    """A share on 0-100 with its percent sign ('62%', '12,5%')."""
    text = number(x, lang)
    return text if text == DASH else f"{text}%"


def money(x: Any, lang: str) -> str:
    """An amount in EUR thousand as the catalogue states it ('EUR 620k' / 'EUR 620k')."""
    text = number(x, lang)
    return text if text == DASH else f"€ {text}k"


def count(x: Any, lang: str) -> str:
    """A whole count ('1,278' / '1.278')."""
    if _missing(x):
        return DASH
    return number(round(float(x)), lang, 0)


def group_size(n: Any, floor: int | None, lang: str) -> str:
    """A group's size, or 'fewer than 10' when it is unknown or below the anonymity floor.

    Without a floor an unknown size is a dash (there is no bound to state: never "fewer than ").
    """
    if _missing(n):
        return DASH if floor is None else words(lang)["fewer_than"].format(floor=floor)
    if floor is not None and int(n) < floor:
        return words(lang)["fewer_than"].format(floor=floor)
    return count(n, lang)


def value(ind: Indicator, x: Any, lang: str) -> str:
    """An indicator's value as a reader sees it: yes/no, a level, a share with %, a number."""
    if _missing(x):
        return DASH
    if ind is None:
        return number(x, lang)
    if ind.kind == "yes_no":
        return words(lang)["yes"] if float(x) >= 0.5 else words(lang)["no"]
    if ind.kind == "ordinal":
        return f"{int(round(float(x)))}"
    if ind.kind == "share":
        return share(x, lang)
    return number(x, lang)


def plural(n: Any, one: str, many: str) -> str:
    """`one` after a figure that reads 1, else `many` ("1 year", "2 years", "1,5 jaar").

    The one place the singular is chosen: a figure shown as "1" (after the one rounding rule)
    takes the singular, every other figure (0, 1.5, 2, a dash) the plural.
    """
    if isinstance(n, str):
        return one if n.strip() == "1" else many
    if _missing(n):
        return many
    return one if abs(float(n) - 1) < EPSILON else many


def unit(ind: Indicator, x: Any, lang: str) -> str:
    """The indicator's unit as it reads after the value `x`: its singular after 1 (catalogue `unit_one`)."""
    if ind is None or not getattr(ind, "unit", None):
        return ""
    one = getattr(ind, "unit_one", None)
    many = ind.unit[lang]
    shown = number(x, lang) if not _missing(x) else DASH
    return plural(shown, one[lang], many) if one is not None else many


def value_with_unit(ind: Indicator, x: Any, lang: str) -> str:
    """The value followed by the indicator's unit where the value does not carry it."""
    text = value(ind, x, lang)
    if text == DASH or ind is None or ind.kind in ("yes_no", "share"):
        return text
    return f"{text} {unit(ind, x, lang)}".strip()


def date(d: Any, lang: str) -> str:
    """A date: '30 November 2026' / '30 november 2026'; a year stays a year; a dash for none."""
    if d is None or d == "":
        return DASH
    if isinstance(d, int):
        return str(d)
    if isinstance(d, str):
        try:
            d = _dt.date.fromisoformat(d)
        except ValueError:
            return d
    if isinstance(d, _dt.datetime):
        d = d.date()
    return f"{d.day} {MONTHS[lang][d.month - 1]} {d.year}"


def month(m: Any, lang: str, *, long: bool = False) -> str:
    """A calendar month (anything with .year and .month, or 'YYYY-MM'): '2027-05' (sortable, the
    same in both languages) or, long, 'May 2027' / 'mei 2027'; a dash for none."""
    if m is None or m == "":
        return DASH
    if isinstance(m, str):
        try:
            year, mon = (int(p) for p in m.split("-")[:2])
        except ValueError:
            return m
    else:
        year, mon = int(m.year), int(m.month)
    return f"{MONTHS[lang][mon - 1]} {year}" if long else f"{year:04d}-{mon:02d}"


def pct_change(x: Any, lang: str) -> str:
    """A change in shown percentile points, signed ('+12', '−3', '0')."""
    if _missing(x):
        return DASH
    k = int(x)
    return f"+{k}" if k > 0 else (f"−{-k}" if k < 0 else "0")


# Old names, kept while renderers move to the functions above.
fmt_number = number
fmt_value = value


# --- the label ladder ---------------------------------------------------------------------------

def silver_gap(catalogue: Catalogue, lang: str = "en") -> dict:
    """Every figure of the label rules a sentence states, from labels.yaml only (never a literal).

    gap_min, gap_max, gap_years   the Silver timing ('1.5' / '1,5' to '2' 'years' / 'jaar')
    areas, areas_text             the number of Silver improvement areas ('2', '2 improvement areas')
    improved_text                 how many must have improved ('every improvement area', 'at least 2 of ...')
    quality_total, gold_min       the Gold quality criteria count and minimum total score
    default_month                 the month a year-only audit counts as interviewed
    """
    from auditlib.intake.model import DEFAULT_INTERVIEW_MONTH

    silver = catalogue.labels.silver
    gap = silver.earlier_audit_gap_years
    sw = words(lang)["silver_words"]
    n_areas, n_improved = silver.improvement_areas, silver.min_areas_improved
    areas_text = f"{number(n_areas, lang)} {plural(n_areas, *sw['area'])}"
    improved = sw["improved_all"] if n_improved >= n_areas else sw["improved"].format(n=number(n_improved, lang))
    return {"gap_min": number(gap.min, lang), "gap_max": number(gap.max, lang),
            "gap_years": plural(number(gap.max, lang), *sw["year"]),
            "areas": number(n_areas, lang), "areas_text": areas_text, "improved_text": improved,
            "quality_total": number(len(catalogue.labels.gold.quality), lang),
            "gold_min": number(catalogue.labels.gold.total_score_min, lang),
            "default_month": MONTHS[lang][DEFAULT_INTERVIEW_MONTH - 1]}


def criterion_name(cid: str, catalogue: Catalogue, lang: str, indicator: str | None = None) -> str:
    """What a label criterion asks for, in words (a Silver part, or the indicator's name)."""
    w = words(lang)
    if cid in w.get("criteria", {}):
        return w["criteria"][cid].format(**silver_gap(catalogue, lang))
    if indicator and indicator in catalogue.by_id:
        return catalogue.indicator(indicator).name[lang]
    return cid


def criterion_kind(part: str, lang: str) -> str:
    """What kind of label criterion a row is ('quality threshold', 'minimumeis'), never its id."""
    return words(lang).get("criterion_parts", {}).get(str(part), str(part))


def label_ladder(readiness: LabelReadiness, catalogue: Catalogue, lang: str) -> list[dict]:
    """Per label, in order: its name, ready or not, and what blocks it, in words.

    Gold quality thresholds that are not reached are counted, not listed; a Gold total below the
    minimum reads as the floored total against the minimum (79.97 -> "79%", so never "80%").
    """
    w = words(lang)
    gold_min = catalogue.labels.gold.total_score_min
    crit = readiness.criteria
    indicator_of = {(r["label"], r["criterion"]): r["indicator"] for r in crit.to_dict("records")}
    part_of = {(r["label"], r["criterion"]): r["part"] for r in crit.to_dict("records")}
    out = []
    for step in readiness.ladder(gold_min):
        v = readiness.verdicts[step.label]
        texts, quality = [], 0
        for cid in step.blockers:
            if cid == "gold_total_score":
                texts.append(w["blocker_total"].format(score=gold_total(v.total_score, lang),
                                                       min=number(gold_min, lang)))
            elif part_of.get((step.label, cid)) == "quality":
                quality += 1
            else:
                ind = indicator_of.get((step.label, cid))
                texts.append(criterion_name(cid, catalogue, lang, ind if isinstance(ind, str) else None))
        if quality:
            texts.append(plural(quality, w["blocker_quality_one"], w["blocker_quality"]).format(n=quality))
        out.append({"label": step.label, "name": getattr(catalogue.labels, step.label).name[lang],
                    "ready": step.ready, "state": w["ready_yes"] if step.ready else w["ready_no"],
                    "blockers": texts})
    return out


def ladder_line(readiness: LabelReadiness, catalogue: Catalogue, lang: str) -> str:
    """The ladder on one line: 'Bronze: ready · Silver: not yet (needs: ...) · Gold: ready'."""
    w = words(lang)
    parts = []
    for s in label_ladder(readiness, catalogue, lang):
        text = f"{s['name']}: {s['state']}"
        if s["blockers"]:
            text += f" ({w['blocked_by']}: {'; '.join(s['blockers'])})"
        parts.append(text)
    return " · ".join(parts)

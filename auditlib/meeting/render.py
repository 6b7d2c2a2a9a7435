"""The meeting screen's HTML panes: one function per pane, every figure through `present`.

Why apart from the widgets: these are pure functions of the session (and easy to test); the
widget module only wires inputs to them. Every client-supplied or catalogue string is escaped.
"""

from __future__ import annotations

import html
import math
from typing import AbstractSet

import pandas as pd

from auditlib import present
from auditlib.meeting.summary import anchor_name
from auditlib.meeting.texts import rw, t
from auditlib.scoring import STAT_COLUMNS

STYLE = """<style>
.mt table{border-collapse:collapse;margin:.3em 0 1em 0}
.mt th,.mt td{border-bottom:1px solid #ddd;padding:.2em .6em;text-align:left}
.mt td.num{text-align:right}
.mt .flip{background:#fff3b0;font-weight:bold}
.mt .refused{color:#a00000;font-weight:bold}
.mt .ok{color:#006000}
.mt .muted{color:#666}
.mt .scenario{border-left:4px solid #e0a000;padding-left:.6em}
</style>"""

E = html.escape


def table(head: list[str], rows: list[list[str]], num: AbstractSet[int] = frozenset(), classes: list[str] | None = None,
          attrs: list[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{E(h)}</th>" for h in head) + "</tr>"]
    for k, row in enumerate(rows):
        cls = f' class="{classes[k]}"' if classes and classes[k] else ""
        extra = f" {attrs[k]}" if attrs and attrs[k] else ""
        out.append(f"<tr{cls}{extra}>" + "".join(
            f'<td class="num">{E(c)}</td>' if j in num else f"<td>{E(c)}</td>" for j, c in enumerate(row)) + "</tr>")
    return "".join(out) + "</table>"


def _label_name(cat, lab: str, lang: str) -> str:
    return getattr(cat.labels, lab).name[lang]


def header(session) -> str:
    r, lang = session.result, session.lang
    group = r.group(session.primary)
    return (STYLE + f'<div class="mt"><h2>{E(t(lang, "title", name=r.client.name))}</h2>'
            f'<p class="muted">{E(t(lang, "subtitle", year=r.client.benchmark_year, group=group.name(lang)))}'
            f' · {E(rw(lang, "confidential").format(name=r.client.name))}</p></div>')


def labels_table(result, lang: str, flipped: AbstractSet[str] = frozenset()) -> str:
    cat = result.catalogue
    rows, classes = [], []
    for lab, v in result.labels.verdicts.items():
        extra = " · " + rw(lang, "total_score_short").replace("{score}%", "{score}").format(
            score=present.gold_total(v.total_score, lang)) if v.total_score is not None else ""
        rows.append([_label_name(cat, lab, lang), rw(lang, "ready_yes") if v.ready else rw(lang, "ready_no"),
                     f"{present.count(v.passed, lang)} / {present.count(v.total, lang)}{extra}"])
        classes.append("flip" if lab in flipped else "")
    return table([rw(lang, "label"), rw(lang, "ready"), rw(lang, "criteria_passed")], rows, classes=classes)


def handles_table(session, result, top: int = 5) -> str:
    lang, cat = session.lang, result.catalogue
    handles = session.handles(result).head(top)
    if handles.empty:
        return f"<p>{E(t(lang, 'no_handles'))}</p>"
    rows = []
    for _, h in handles.iterrows():
        ind = cat.indicator(h["indicator"])
        rows.append([str(int(h["priority"])), ind.name[lang], present.value_with_unit(ind, h["value"], lang),
                     present.percentile(h["percentile"], lang), present.value_with_unit(ind, h["target"], lang),
                     h["action"]])
    return table(["#", rw(lang, "indicator"), rw(lang, "value"), rw(lang, "percentile"), rw(lang, "target"),
                  rw(lang, "action")], rows, num={0})


def overview(session) -> str:
    """The dimension profile against the chosen group, label readiness, the top handles (real answers)."""
    r, lang, cat = session.result, session.lang, session.catalogue
    prof = r.profile_in(session.primary).set_index("dimension")
    rows = [[d.name[lang], present.dimension_score(prof.at[d.id, "score"], lang),
             present.peer_median(prof.at[d.id, "peer_median"], lang),
             present.band(prof.at[d.id, "score"], cat, lang)] for d in cat.dimensions]
    group = r.group(session.primary).name(lang)
    return ('<div class="mt">' + f"<h3>{E(t(lang, 'profile', group=group))}</h3>"
            + table([rw(lang, "dimension"), rw(lang, "score"), rw(lang, "peer_median"), rw(lang, "band")],
                    rows, num={1, 2})
            + f"<h3>{E(t(lang, 'label_readiness'))}</h3>" + labels_table(r, lang)
            + f"<h3>{E(t(lang, 'top_handles'))}</h3>" + handles_table(session, r) + "</div>")


def groups_table(session) -> str:
    r, lang = session.result, session.lang
    rows = [[g.requested, g.name(lang), present.group_size(g.public_n, r.anonymity_floor, lang),
             g.reason or ""] for g in r.peer_groups]
    return ('<div class="mt">' + f"<h3>{E(t(lang, 'groups_table'))}</h3>"
            + table(["", rw(lang, "group"), rw(lang, "n"), rw(lang, "fallback")], rows, num={2}) + "</div>")


def candidate_message(session, candidate) -> str:
    """The live n of a custom group as typed, or why it is refused."""
    lang, floor = session.lang, session.floor
    ref = candidate.refusal
    if ref is None:
        n = present.group_size(candidate.public_n, floor, lang)
        return f'<div class="mt"><span class="ok">{E(t(lang, "custom_n", n=n))}</span></div>'
    if ref.kind == "syntax":
        msg = t(lang, "refused_syntax", reason=ref.reason)
    elif ref.kind == "name":
        msg = t(lang, "refused_name", name=ref.reason)
    elif ref.kind == "floor":
        msg = (t(lang, "custom_n", n=present.group_size(None, floor, lang)) + ". "
               + t(lang, "refused_floor", floor=floor))
    else:
        msg = t(lang, "refused_disclosure", reason=ref.message(lang, floor))
    return f'<div class="mt"><span class="refused">{E(msg)}</span></div>'


def notes_block(session, anchor: str) -> str:
    lang = session.lang
    notes = session.notes.for_anchor(anchor)
    body = "".join(f"<p>{E(n.text)}</p>" for _, n in notes) or f'<p class="muted">{E(t(lang, "no_notes"))}</p>'
    return f"<h4>{E(t(lang, 'notes_here'))}</h4>{body}"


def dimension_detail(session, dimension: str) -> str:
    """A dimension's indicators in the chosen group (real answers)."""
    r, lang, cat = session.result, session.lang, session.catalogue
    pos = r.positions_in(session.primary).set_index("indicator")
    rows = []
    for ind in cat.in_dimension(dimension):
        p = pos.loc[ind.id]
        rows.append([ind.name[lang], present.value_with_unit(ind, p["value"], lang),
                     present.percentile(p["percentile"], lang), present.band(p["percentile"], cat, lang)])
    title = t(lang, "indicators_of", dimension=cat.dimension(dimension).name[lang])
    return ('<div class="mt">' + f"<h3>{E(title)}</h3>"
            + table([rw(lang, "indicator"), rw(lang, "value"), rw(lang, "percentile"), rw(lang, "band")], rows,
                    num={2}) + notes_block(session, f"dimension:{dimension}") + "</div>")


def indicator_detail(session, indicator: str) -> str:
    """Value, percentile in every group, peer spread (quantiles only), band, target, criterion, notes."""
    r, lang, cat = session.result, session.lang, session.catalogue
    ind = cat.indicator(indicator)
    rows = []
    for g in r.peer_groups:
        p = r.positions_in(g.requested).set_index("indicator").loc[indicator]
        spread = " · ".join(present.value(ind, p[c], lang) for c in STAT_COLUMNS) \
            if any(not _nan(p[c]) for c in STAT_COLUMNS) else rw(lang, "no_statistics")
        rows.append([g.name(lang), present.group_size(g.public_n, r.anonymity_floor, lang),
                     present.percentile(p["percentile"], lang), present.band(p["percentile"], cat, lang), spread])
    crit = r.labels.criteria[r.labels.criteria["indicator"] == indicator]
    nxt = r.labels.next_label
    target = crit[(crit["label"] == nxt) & ~crit["passed"]]
    target_text = (t(lang, "target_next", label=_label_name(cat, nxt, lang)) + ": "
                   + ", ".join(f"{c['op']} {present.value_with_unit(ind, c['threshold'], lang)}"
                               for _, c in target.iterrows())) if nxt and len(target) else ""
    feeds = [[_label_name(cat, c["label"], lang), present.criterion_kind(c["part"], lang),
              f"{c['op']} {present.value_with_unit(ind, c['threshold'], lang)}",
              rw(lang, "ready_yes") if c["passed"] else rw(lang, "ready_no")] for _, c in crit.iterrows()]
    value = r.client.answers.get(indicator)
    out = ['<div class="mt">', f"<h3>{E(ind.name[lang])}</h3>",
           f"<p>{E(t(lang, 'value'))}: <strong>{E(present.value_with_unit(ind, value, lang))}</strong></p>",
           f"<h4>{E(t(lang, 'in_every_group'))}</h4>",
           table([rw(lang, "group"), rw(lang, "n"), rw(lang, "percentile"), rw(lang, "band"),
                  f"{t(lang, 'spread')} (P10 · P25 · {rw(lang, 'median')} · P75 · P90)"], rows, num={1, 2})]
    if target_text:
        out.append(f"<p><strong>{E(target_text)}</strong></p>")
    out.append(f"<h4>{E(t(lang, 'feeds'))}</h4>")
    out.append(table([rw(lang, "label"), rw(lang, "criterion"), rw(lang, "requirement"), rw(lang, "ready")], feeds)
               if feeds else f"<p>{E(t(lang, 'no_criterion'))}</p>")
    out.append(notes_block(session, f"indicator:{indicator}") + "</div>")
    return "".join(out)


def _nan(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def whatif(session) -> str:
    """Real against scenario: changed answers, their percentiles per group, dimensions, labels, handles."""
    lang, cat, real = session.lang, session.catalogue, session.result
    sc = session.scenario
    if sc is None:
        return f'<div class="mt"><p class="muted">{E(t(lang, "whatif_none"))}</p></div>'
    out = ['<div class="mt scenario">', f"<h3>{E(t(lang, 'whatif_changed'))}</h3>"]
    rows = [[cat.indicator(i).name[lang],
             t(lang, "from_to", before=present.value_with_unit(cat.indicator(i), real.client.answers.get(i), lang),
               after=present.value_with_unit(cat.indicator(i), v, lang))] for i, v in session.whatif.items()]
    out.append(table([rw(lang, "indicator"), rw(lang, "value")], rows))
    out.append(f"<h3>{E(t(lang, 'whatif_percentiles'))}</h3>")
    rows, attrs = [], []
    changed = list(session.whatif)

    def cells_of(result) -> dict:                      # (group, indicator) -> (percentile, status), one pass
        pos = result.positions
        sub = pos[pos["indicator"].isin(changed)]
        return {(g, i): (p, st) for g, i, p, st in
                zip(sub["group"], sub["indicator"], sub["percentile"], sub["status"])}
    a_cells, b_cells = cells_of(real), cells_of(sc)
    for iid in changed:
        ind = cat.indicator(iid)
        for g in real.peer_groups:
            a, (b, status) = a_cells[(g.requested, iid)][0], b_cells[(g.requested, iid)]
            shown = t(lang, "whatif_small") if status == "whatif_small_group" else present.percentile(b, lang)
            rows.append([ind.name[lang], g.name(lang), present.percentile(a, lang), shown,
                         present.band(b, cat, lang)])
            attrs.append(f'data-indicator="{E(iid)}" data-group="{E(g.requested)}"')
    out.append(table([rw(lang, "indicator"), rw(lang, "group"), t(lang, "whatif_real"), t(lang, "whatif_scenario"),
                      rw(lang, "band")], rows, num={2, 3}, attrs=attrs))
    a = real.profile_in(session.primary).set_index("dimension")
    b = sc.profile_in(session.primary).set_index("dimension")
    rows, classes = [], []
    for d in cat.dimensions:
        ra, rb = present.dimension_score(a.at[d.id, "score"], lang), present.dimension_score(b.at[d.id, "score"], lang)
        rows.append([d.name[lang], ra, rb])
        classes.append("flip" if ra != rb else "")
    out.append(f"<h3>{E(t(lang, 'profile', group=real.group(session.primary).name(lang)))}</h3>")
    out.append(table([rw(lang, "dimension"), t(lang, "whatif_real"), t(lang, "whatif_scenario")], rows, num={1, 2},
                     classes=classes))
    flips = session.flipped()
    verdicts = {lab for lab, v in real.labels.verdicts.items() if v.ready != sc.labels.verdicts[lab].ready}
    out.append(f"<h3>{E(t(lang, 'label_readiness'))} ({E(t(lang, 'whatif_scenario'))})</h3>")
    out.append(labels_table(sc, lang, verdicts))
    out.append(f"<h4>{E(t(lang, 'whatif_flipped'))}</h4>")
    if flips.empty:
        out.append(f"<p>{E(t(lang, 'whatif_no_flip'))}</p>")
    else:
        rows, attrs = [], []
        for _, f in flips.iterrows():
            ind = cat.indicator(f["indicator"]) if isinstance(f["indicator"], str) else None
            rows.append([_label_name(cat, f["label"], lang), present.criterion_kind(f["part"], lang),
                         ind.name[lang] if ind else present.criterion_name(str(f["criterion"]), cat, lang),
                         t(lang, "flip_pass") if f["passed_scenario"] else t(lang, "flip_fail")])
            attrs.append(f'data-criterion="{E(str(f["criterion"]))}"')
        out.append(table([rw(lang, "label"), rw(lang, "criterion"), rw(lang, "indicator"), ""], rows,
                         classes=["flip"] * len(rows), attrs=attrs))
    return "".join(out) + "</div>"


def whatif_handles(session) -> str:
    """The scenario's top handles (drawn right after the numbers: they take longest)."""
    sc, lang = session.scenario, session.lang
    if sc is None:
        return ""
    return (f'<div class="mt scenario"><h3>{E(t(lang, "top_handles"))} ({E(t(lang, "whatif_scenario"))})</h3>'
            + handles_table(session, sc) + "</div>")


def scenario_list(session) -> list[str]:
    return [s.name for s in session.scenarios]


def anchors(session) -> list[tuple[str, str]]:
    """(label, anchor) for every place a note can be anchored."""
    cat, lang = session.catalogue, session.lang
    out = [(anchor_name("overall", cat, lang), "overall")]
    out += [(anchor_name(f"dimension:{d.id}", cat, lang), f"dimension:{d.id}") for d in cat.dimensions]
    out += [(anchor_name(f"indicator:{i.id}", cat, lang), f"indicator:{i.id}") for i in cat.indicators]
    return out


def frame_percentiles(result, indicator: str) -> pd.Series:
    """The raw percentile of one indicator per group (tests compare the screen with it)."""
    pos = result.positions[result.positions["indicator"] == indicator]
    return pos.set_index("group")["percentile"]

"""Plain-text views of results for the terminal (`auditlib score`, `auditlib demo`)."""

from __future__ import annotations

from auditlib import present
from auditlib.audit import AuditResult

LANG = "en"   # the terminal speaks English; figures by the presentation layer, like the report


def _fmt(x: float) -> str:
    return present.dimension_score(x, LANG)


def score_summary(result: AuditResult) -> str:
    c = result.client
    cat = result.catalogue
    lines = [f"{c.client_id}: {c.name} ({c.country}, {c.field}, age {c.age}, benchmark {c.benchmark_year})",
             f"catalogue {cat.version}; benchmark {result.benchmark_version}; anonymity floor {result.anonymity_floor}",
             "", "Peer groups:"]
    for g in result.peer_groups:
        note = f"  [fallback: {g.reason}]" if g.fallback_from or not g.available else ""
        if g.refusals:                     # the disclosure rules' reasons (whole group or indicators)
            note = "  [" + "; ".join(r.text("en", result.anonymity_floor)
                                     + (f" ({', '.join(r.indicators)})" if r.indicators else "")
                                     for r in g.refusals) + "]"
        shown = g.name_en if g.available else "no statistics"
        size = f"n={present.count(g.n, LANG)}" if g.available else f"n<{result.anonymity_floor}"
        if not g.available and g.refusals:
            size = "n: -"                  # refused by differencing: not below the floor, just not shown
        lines.append(f"  {g.requested:<10} {size:<7} {shown}{note}")
    matrix = result.dimension_matrix()
    matrix.index = [cat.dimension(d).name.en for d in matrix.index]
    lines += ["", "Dimension profile (mean percentile; primary group: "
              f"{result.primary_group}):", matrix.map(_fmt).to_string()]
    prof = result.profile_in().set_index("dimension")
    lines.append("  coverage: " + ", ".join(f"{d} {int(r.answered)}/{int(r.scored)}" for d, r in prof.iterrows()))
    for title, table in (("Strengths", result.strengths), ("Weaknesses", result.weaknesses)):
        items = [f"{cat.indicator(r.indicator).name.en} ({present.percentile(r.percentile, LANG)})"
                 for r in table.itertuples()]
        lines.append(f"{title}: " + ("; ".join(items) if items else "none"))
    lines += ["", "Label readiness:"]
    for step in present.label_ladder(result.labels, cat, LANG):
        v = result.labels.verdicts[step["label"]]
        score = f", total score {present.gold_total(v.total_score, LANG)}" if v.total_score is not None else ""
        needs = f"; needs: {'; '.join(step['blockers'])}" if step["blockers"] else ""
        lines.append(f"  {v.label:<7} {step['state']:<8} {v.passed}/{v.total} criteria{score}{needs}")
    if result.evolution is not None:
        e = result.evolution
        lines += ["", f"Evolution {e.earlier_year} -> {e.current_year} (against {e.group}, noise band "
                      f"{present.number(e.noise_band, LANG)} points): {len(e.improved)} improved, "
                      f"{len(e.declined)} declined"]
        for title, rows in (("improved", e.improved), ("declined", e.declined)):
            for r in rows.itertuples():
                ind = cat.indicator(r.indicator)
                lines.append(f"  {title:<9}{ind.name.en}: {present.value(ind, r.value_then, LANG)} -> "
                             f"{present.value(ind, r.value_now, LANG)} ({present.percentile(r.percentile_then, LANG)}"
                             f" -> {present.percentile(r.percentile_now, LANG)})")
    return "\n".join(lines)

"""Plain-text views of results for the terminal (`auditlib score`, `auditlib demo`)."""

from __future__ import annotations


from auditlib.audit import AuditResult


def _fmt(x: float) -> str:
    return "-" if x != x else f"{x:.0f}"


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
        size = f"n={g.n}" if g.available else f"n<{result.anonymity_floor}"
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
        items = [f"{cat.indicator(r.indicator).name.en} (P{r.percentile:.0f})" for r in table.itertuples()]
        lines.append(f"{title}: " + ("; ".join(items) if items else "none"))
    lines += ["", "Label readiness:"]
    for v in result.labels.verdicts.values():
        score = f", total score {v.total_score:.0f}%" if v.total_score is not None else ""
        state = "ready" if v.ready else "not yet"
        failed = f"; open: {', '.join(v.failed)}" if v.failed else ""
        lines.append(f"  {v.label:<7} {state:<8} {v.passed}/{v.total} criteria{score}{failed}")
    if result.evolution is not None:
        e = result.evolution
        lines += ["", f"Evolution {e.earlier_year} -> {e.current_year} (against {e.group}, noise band "
                      f"{e.noise_band:.0f} points): {len(e.improved)} improved, {len(e.declined)} declined"]
        for title, rows in (("improved", e.improved), ("declined", e.declined)):
            for r in rows.itertuples():
                lines.append(f"  {title:<9}{cat.indicator(r.indicator).name.en}: {r.value_then:g} -> "
                             f"{r.value_now:g} (P{r.percentile_then:.0f} -> P{r.percentile_now:.0f})")
    return "\n".join(lines)

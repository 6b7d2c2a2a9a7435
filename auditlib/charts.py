"""The report's charts: matplotlib Figures drawn from one AuditResult.

Every function takes the AuditResult (and the report language) and returns a
`matplotlib.figure.Figure`. Labels come from the catalogue's en/nl names and the report's
word list, colours from the one module-level PALETTE, so every chart of every report looks
alike.

Backend: the figures are built with `matplotlib.figure.Figure` directly, never through
pyplot. No backend is chosen, changed or needed (savefig renders with the Agg canvas), so
the Jupyter kernel keeps its inline backend, nothing leaks between reports, and there is no
global figure list to close: a figure is gone once it is no longer referenced. `to_png`
renders byte-stable PNGs (no software/version metadata; Agg output is deterministic).

Confidentiality: the peer distribution is drawn from the peer statistics the result
already holds (percentiles 10, 25, 50, 75 and 90, present only when at least the anonymity
floor of organisations answered). No individual peer value reaches a chart: no strip or
swarm plot, no fliers, no whiskers at minimum or maximum, and no KDE whose tails would
betray the extremes. A group or indicator below the floor shows "no statistics".
"""

from __future__ import annotations

import io
import math
import textwrap

import numpy as np
from matplotlib.figure import Figure

from auditlib.audit import AuditResult
from auditlib.report import fmt_number, fmt_value, words

# One palette for every chart (print-friendly: blue and greys stay apart in greyscale).
PALETTE = {
    "client": "#1f4e79",        # this cluster organisation
    "client_light": "#a9c4de",
    "peer": "#6b7785",          # peer group lines and whiskers
    "peer_fill": "#d3d9e0",     # peer group middle half
    "median": "#1b1b1b",        # peer median marker
    "reference": "#c4c9cf",     # quartile reference lines
    "header": "#eef1f4",        # dimension header rows
    "text": "#1b1b1b",
    "muted": "#6b7280",
    "improved": "#2e7d4f",
    "declined": "#b4432a",
}
FONT_SIZE = 8.5
WIDTH = 7.0                      # inches: every figure spans the text width of an A4 page
DPI = 144                        # readable in print, cheap to render and embed
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": FONT_SIZE,
    "axes.edgecolor": PALETTE["reference"],
    "axes.labelcolor": PALETTE["text"],
    "axes.titlesize": FONT_SIZE,
    "axes.labelsize": FONT_SIZE,
    "xtick.color": PALETTE["muted"],
    "ytick.color": PALETTE["text"],
    "xtick.labelsize": FONT_SIZE - 1,
    "ytick.labelsize": FONT_SIZE,
    "legend.fontsize": FONT_SIZE - 0.5,
    "legend.frameon": False,
    "svg.hashsalt": "auditlib",   # stable ids should anyone save as SVG
}


def _figure(height: float) -> Figure:
    import matplotlib

    with matplotlib.rc_context(STYLE):
        return Figure(figsize=(WIDTH, height), layout="constrained", facecolor="white")


def _style(func):
    """Draw under the report style (rc settings apply when artists are created)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


def _clean(ax) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)


def _label(text: str, width: int = 46) -> str:
    return text if len(text) <= width else textwrap.shorten(text, width, placeholder="…")


def _group_name(result: AuditResult, group: str | None, lang: str) -> str:
    g = result.group(group or result.primary_group)
    return g.name(lang)


@_style
def dimension_profile(result: AuditResult, lang: str = "en", group: str | None = None) -> Figure:
    """The client's score per dimension (mean percentile) against the peer median score."""
    w = words(lang)
    cat = result.catalogue
    prof = result.profile_in(group).set_index("dimension")
    dims = [d for d in cat.dimensions if d.id in prof.index]
    fig = _figure(0.42 * len(dims) + 1.1)
    ax = fig.add_subplot()
    y = np.arange(len(dims))[::-1]
    scores = np.array([prof.loc[d.id, "score"] for d in dims], dtype=float)
    medians = np.array([prof.loc[d.id, "peer_median"] for d in dims], dtype=float)
    for x in (25, 75):
        ax.axvline(x, color=PALETTE["reference"], lw=0.6, zorder=0)
    ax.axvline(50, color=PALETTE["peer"], lw=0.8, ls=(0, (3, 3)), zorder=0)
    ax.barh(y, np.nan_to_num(scores), height=0.58, color=PALETTE["client"], label=w["client"], zorder=2)
    ax.scatter(medians, y, marker="D", s=30, color="white", edgecolor=PALETTE["median"], linewidth=1.2,
               zorder=3, label=w["peers_median"])
    for yi, s in zip(y, scores):
        if math.isnan(s):
            ax.text(1, yi, w["no_statistics"], va="center", fontsize=FONT_SIZE - 1, color=PALETTE["muted"],
                    style="italic")
        else:
            ax.text(min(s, 100) + 1.2, yi + 0.02, fmt_number(s, lang, 0), va="center",
                    fontsize=FONT_SIZE, color=PALETTE["client"], fontweight="bold")
    ax.set_yticks(y, [_label(d.name[lang], 44) for d in dims])
    ax.set_xlim(0, 104)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_ylim(-0.6, len(dims) - 0.4)
    ax.set_xlabel(w["percentile_axis"].format(group=_group_name(result, group, lang)))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    _clean(ax)
    fig.set_label(w["dimensions"])
    return fig


@_style
def percentile_bars(result: AuditResult, lang: str = "en", group: str | None = None) -> Figure:
    """Every ranked indicator's percentile in one group, grouped by dimension."""
    w = words(lang)
    cat = result.catalogue
    pos = result.positions_in(group).set_index("indicator")
    rows: list[tuple[str, object]] = []           # ("dim", Dimension) | ("ind", Indicator)
    for d in cat.dimensions:
        inds = [i for i in cat.in_dimension(d.id) if i.scored]
        if inds:
            rows.append(("dim", d))
            rows += [("ind", i) for i in inds]
    fig = _figure(0.19 * len(rows) + 0.9)
    ax = fig.add_subplot()
    n = len(rows)
    ylabels = []
    for k, (kind, item) in enumerate(rows):
        y = n - 1 - k
        if kind == "dim":
            ax.axhspan(y - 0.5, y + 0.5, color=PALETTE["header"], zorder=0, lw=0)
            ylabels.append(item.name[lang])
            continue
        ylabels.append(_label(item.name[lang]))
        row = pos.loc[item.id]
        pct = row["percentile"]
        if pct == pct:
            ax.barh(y, pct, height=0.66, color=PALETTE["client"], zorder=2)
            ax.text(pct + 1.0, y, fmt_number(pct, lang, 0), va="center", fontsize=FONT_SIZE - 1.5,
                    color=PALETTE["client"])
        else:
            status = w["status"].get(row["status"], row["status"]).format(floor=result.anonymity_floor)
            ax.text(1.0, y, status, va="center", fontsize=FONT_SIZE - 1.5, color=PALETTE["muted"],
                    style="italic")
    for x in (25, 75):
        ax.axvline(x, color=PALETTE["reference"], lw=0.6, zorder=1)
    ax.axvline(50, color=PALETTE["peer"], lw=0.8, ls=(0, (3, 3)), zorder=1)
    ax.set_yticks(np.arange(n)[::-1], ylabels)
    for tick, (kind, _) in zip(ax.get_yticklabels(), rows):
        if kind == "dim":
            tick.set_fontweight("bold")
        else:
            tick.set_fontsize(FONT_SIZE - 1)
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_xlim(0, 104)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel(w["percentile_axis"].format(group=_group_name(result, group, lang)))
    ax.xaxis.set_ticks_position("both")
    ax.tick_params(axis="x", labeltop=True)
    _clean(ax)
    fig.set_label(w["positions"])
    return fig


def _limits(values: list[float], ind) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad
    return max(lo, ind.min - pad), min(hi, ind.max + pad)


@_style
def distributions(result: AuditResult, dimension: str, lang: str = "en", group: str | None = None) -> Figure:
    """Per ranked indicator of one dimension: the peer spread (p10-p90, p25-p75, median) and the client.

    Drawn from the peer statistics only; an indicator without statistics says so.
    """
    w = words(lang)
    cat = result.catalogue
    pos = result.positions_in(group).set_index("indicator")
    inds = [i for i in cat.in_dimension(dimension) if i.scored]
    fig = _figure(0.66 * len(inds) + 0.55)
    axes = fig.subplots(len(inds), 1, squeeze=False)[:, 0]
    for ax, ind in zip(axes, inds):
        row = pos.loc[ind.id]
        value, pct = row["value"], row["percentile"]
        has_stats = row["median"] == row["median"] and ind.kind != "yes_no"
        title = ind.name[lang]
        if ind.direction == "lower":
            title += f" ({w['lower_is_better']})"
        unit = ind.unit[lang]
        ax.set_title(_label(f"{title}", 70) + (f"  [{unit}]" if unit and ind.kind not in ("yes_no",) else ""),
                     loc="left", fontsize=FONT_SIZE, pad=2, color=PALETTE["text"])
        right = []
        if value == value:
            right.append(fmt_value(ind, value, lang))
        else:
            right.append(w["status"]["not_answered"])
        if pct == pct:
            right.append(f"P{fmt_number(pct, lang, 0)}")
        ax.set_title(" · ".join(right), loc="right", fontsize=FONT_SIZE, pad=2, color=PALETTE["client"],
                     fontweight="bold")
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        if not has_stats:
            if ind.kind == "yes_no" and row["status"] == "ok":
                note = ""
            else:
                note = w["status"].get(row["status"], w["no_statistics"]).format(floor=result.anonymity_floor)
                if row["status"] in ("ok", "not_answered"):
                    note = w["no_statistics"]
            ax.set_xticks([])
            ax.spines["bottom"].set_visible(False)
            if note:
                ax.text(0.0, 0.5, note, transform=ax.transAxes, va="center", fontsize=FONT_SIZE - 1,
                        color=PALETTE["muted"], style="italic")
            continue
        stats = {"med": row["median"], "q1": row["p25"], "q3": row["p75"], "whislo": row["p10"],
                 "whishi": row["p90"], "fliers": []}
        ax.bxp([stats], orientation="horizontal", widths=0.55, showfliers=False, patch_artist=True,
               boxprops={"facecolor": PALETTE["peer_fill"], "edgecolor": PALETTE["peer"], "linewidth": 0.8},
               whiskerprops={"color": PALETTE["peer"], "linewidth": 0.8},
               capprops={"color": PALETTE["peer"], "linewidth": 0.8},
               medianprops={"color": PALETTE["median"], "linewidth": 1.6})
        span = [row["p10"], row["p90"]] + ([value] if value == value else [])
        ax.set_xlim(*_limits(span, ind))
        if value == value:
            ax.scatter([value], [1], marker="D", s=46, color=PALETTE["client"], edgecolor="white",
                       linewidth=0.8, zorder=5)
        ax.set_ylim(0.45, 1.55)
        ax.tick_params(axis="x", labelsize=FONT_SIZE - 1.5, length=2, pad=1)
        if ind.kind == "ordinal":
            lo, hi = ax.get_xlim()
            ax.set_xticks([t for t in range(int(ind.min), int(ind.max) + 1) if lo <= t <= hi])
        ax.xaxis.set_major_formatter(_formatter(lang))
    # One legend for the figure, drawn with proxy artists.
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], marker="D", ls="", color=PALETTE["client"], label=w["client"]),
               Patch(facecolor=PALETTE["peer_fill"], edgecolor=PALETTE["peer"], label=w["peers_middle"]),
               Line2D([], [], color=PALETTE["median"], lw=1.6, label=w["peers_median"]),
               Line2D([], [], color=PALETTE["peer"], lw=0.8, label=w["peers_range"])]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=FONT_SIZE - 1)
    fig.set_label(cat.dimension(dimension).name[lang])
    return fig


def _formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: fmt_number(x, lang))


@_style
def evolution_chart(result: AuditResult, lang: str = "en") -> Figure | None:
    """Percentile then and now for the indicators that moved beyond the noise band (None if none)."""
    evo = result.evolution
    if evo is None:
        return None
    w = words(lang)
    cat = result.catalogue
    moved = evo.changes[evo.changes["trend"].isin(["improved", "declined"])]
    if moved.empty:
        return None
    order = {iid: k for k, iid in enumerate(cat.ids)}
    moved = moved.assign(_o=moved["indicator"].map(order)).sort_values("_o")
    n = len(moved)
    fig = _figure(0.2 * n + 1.0)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    for yi, r in zip(y, moved.itertuples()):
        colour = PALETTE["improved"] if r.trend == "improved" else PALETTE["declined"]
        ax.annotate("", xy=(r.percentile_now, yi), xytext=(r.percentile_then, yi),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.3, "shrinkA": 3, "shrinkB": 3,
                                "mutation_scale": 9})
        ax.scatter([r.percentile_then], [yi], s=20, facecolor="white", edgecolor=colour, zorder=3, lw=1.1)
        ax.scatter([r.percentile_now], [yi], s=24, color=colour, zorder=4)
    for x in (25, 75):
        ax.axvline(x, color=PALETTE["reference"], lw=0.6, zorder=0)
    ax.axvline(50, color=PALETTE["peer"], lw=0.8, ls=(0, (3, 3)), zorder=0)
    ax.set_yticks(y, [_label(cat.indicator(i).name[lang]) for i in moved["indicator"]],
                  fontsize=FONT_SIZE - 1)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel(w["percentile_axis"].format(group=result.group(evo.group).name(lang)))
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", markerfacecolor="white", markeredgecolor=PALETTE["peer"],
                      color=PALETTE["peer"], label=str(evo.earlier_year)),
               Line2D([], [], marker="o", ls="", color=PALETTE["peer"], label=str(evo.current_year)),
               Line2D([], [], color=PALETTE["improved"], lw=1.3, label=w["trends"]["improved"]),
               Line2D([], [], color=PALETTE["declined"], lw=1.3, label=w["trends"]["declined"])]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4)
    _clean(ax)
    fig.set_label(w["evolution"].format(year=evo.earlier_year))
    return fig


def to_png(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes, byte-stable for the same figure (no metadata that varies)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buf.getvalue()

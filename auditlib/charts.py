"""The report's charts: matplotlib Figures drawn from one AuditResult.

Every function takes the AuditResult (and the report language) and returns a
`matplotlib.figure.Figure`. Labels come from the catalogue's en/nl names and the report's
word list, colours from the one module-level PALETTE, so every chart of every report looks
alike; every figure is WIDTH inches wide, so all print at the same scale.

Backend: figures are built with `matplotlib.figure.Figure` directly, never through pyplot,
and rendered by `to_svg` (the report: vector, text kept as text) or the Agg canvas (`to_png`).
No backend is chosen, changed or needed, so a
Jupyter kernel keeps its inline backend (no MPLBACKEND anywhere), nothing leaks between
reports, and there is no global figure list to close: a figure is freed once unreferenced.

Speed (batch runs render ~9 figures per report): layouts are fixed, computed from measured
label widths instead of a layout engine (which draws every figure twice), and `to_png`
writes a 256-colour PNG with Pillow (a third of the size of matplotlib's RGBA PNG, and
cheaper to embed in HTML and PDF). Output is byte-stable: Agg drawing and the quantizer are
deterministic and no metadata varies. Fewer artists for the same marks: row names are plain
texts where y tick labels would stand (no Tick objects), the distributions are drawn on the
figure in inches (no Axes), one collection per kind of mark; text metrics are kept across
figures (`to_svg`) and the style is set key by key (`_rc`), not by copying every rc setting.

Confidentiality: the peer spread is drawn from the peer statistics the result already holds
(percentiles 10, 25, 50, 75 and 90, present only when at least the anonymity floor of
organisations answered). No individual peer value reaches a chart: no strip or swarm plot, no
fliers, no whiskers at the minimum or maximum, no KDE whose tails betray the extremes. An
indicator or group below the floor says "no statistics".
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from matplotlib.figure import Figure

from auditlib import present
from auditlib.audit import AuditResult
from auditlib.present import words

# One palette for every chart (print-friendly: blue and greys stay apart in greyscale).
PALETTE = {
    "client": "#1f4e79",        # this cluster organisation
    "peer": "#6b7785",          # peer group whiskers and outlines
    "peer_fill": "#d3d9e0",     # peer group middle half
    "median": "#1b1b1b",        # peer median
    "reference": "#c4c9cf",     # quartile reference lines, row baselines
    "header": "#eef1f4",        # dimension header rows
    "text": "#1b1b1b",
    "muted": "#6b7280",
    "improved": "#2e7d4f",
    "declined": "#b4432a",
}
FONT = "DejaVu Sans"
FONT_SIZE = 8.5
WIDTH = 7.0                      # inches: every figure spans the text width of an A4 page
DPI = 144                        # sharp in print, cheap to render and embed
STYLE: Any = {                   # matplotlib rc parameters (rc_context types its keys as literals)
    "font.family": FONT,
    "font.size": FONT_SIZE,
    "axes.edgecolor": PALETTE["reference"],
    "axes.labelcolor": PALETTE["text"],
    "axes.labelsize": FONT_SIZE,
    "xtick.color": PALETTE["muted"],
    "ytick.color": PALETTE["text"],
    "xtick.labelsize": FONT_SIZE - 1,
    "ytick.labelsize": FONT_SIZE,
    "legend.fontsize": FONT_SIZE - 0.5,
    "legend.frameon": False,
    "svg.hashsalt": "auditlib",   # stable SVG ids, should anyone save a chart as SVG
}
PCT_TICKS = [0, 25, 50, 75, 100]


@contextmanager
def _rc(params: dict) -> Iterator[None]:
    """matplotlib.rc_context for the few keys given: set them, then put back what they were.

    rc_context copies and restores all of matplotlib's ~300 settings, and a report enters one
    per figure and per render: a tenth of its charts' cost. Nothing here sets others.
    """
    import matplotlib

    rc = matplotlib.rcParams
    saved = {key: rc[key] for key in params}
    rc.update(params)
    try:
        yield
    finally:
        rc.update(saved)


def _style(func):
    """Create the figure's artists under the report style (rc settings apply at creation)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _rc(STYLE):
            return func(*args, **kwargs)

    return wrapper


@lru_cache(maxsize=1)
def _renderer():
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(8, 8, 72)


def text_width(texts, size: float = FONT_SIZE, weight: str = "normal") -> float:
    """The widest of `texts` in inches, as Agg lays it out (no drawing)."""
    return max((_text_width(t, size, weight) for t in texts if t), default=0.0)


@lru_cache(maxsize=4096)
def _text_width(text: str, size: float, weight: str) -> float:
    """One label's width; labels repeat across charts and clients (a batch inherits the cache)."""
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(family=FONT, size=size, weight=weight)
    return _renderer().get_text_width_height_descent(text, prop, ismath=False)[0] / 72


def _axes(fig: Figure, left: float, right: float, bottom: float, top: float):
    """An axes placed by margins in inches."""
    w, h = fig.get_size_inches()
    return fig.add_axes((left / w, bottom / h, 1 - (left + right) / w, 1 - (bottom + top) / h))


def _label(text: str, width: int = 46) -> str:
    return text if len(text) <= width else textwrap.shorten(text, width, placeholder="…")


def _group_name(result: AuditResult, group: str | None, lang: str) -> str:
    return result.group(group or result.primary_group).name(lang)


def _percent_axis(ax, xlabel: str) -> None:
    for x in (25, 75):
        ax.axvline(x, color=PALETTE["reference"], lw=0.6, zorder=0)
    ax.axvline(50, color=PALETTE["peer"], lw=0.8, ls=(0, (3, 3)), zorder=0)
    ax.set_xlim(0, 104)
    ax.set_xticks(PCT_TICKS)
    ax.set_xlabel(xlabel)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


ROW_LABEL = "_row_label"         # the artist label of a chart's row names (see row_labels)


def _row_labels(ax, ys, labels, **text) -> None:
    """Row names drawn where matplotlib draws y tick labels, as plain texts, and no y ticks.

    A Tick per row (two tick lines, a grid line and two texts, built and drawn for one label)
    cost a quarter of these charts. Same place as the tick labels: right-aligned, the tick
    pad (ytick.major.pad, tick length 0) left of the axes, centred on the row's baseline
    centre, in the tick labels' size and colour.
    """
    import matplotlib
    from matplotlib.ticker import NullLocator

    rc = matplotlib.rcParams
    ax.yaxis.set_major_locator(NullLocator())
    transform, va, ha = ax.get_yaxis_text1_transform(rc["ytick.major.pad"])
    text = {"fontsize": rc["ytick.labelsize"], "color": rc["ytick.color"], **text}
    for y, label in zip(ys, labels):
        ax.text(0, y, label, transform=transform, va=va, ha=ha, label=ROW_LABEL, **text)


def row_labels(fig: Figure) -> list[str]:
    """A chart's row names, top to bottom (what a reader sees left of the bars)."""
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_label() == ROW_LABEL]


def _ok(x) -> bool:
    """A number, not NaN (pandas gives NaN for a missing statistic)."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


_NUMBER_BOX = {"boxstyle": "square,pad=0.08", "fc": "white", "ec": "none"}


@_style
def dimension_profile(result: AuditResult, lang: str = "en", group: str | None = None) -> Figure:
    """The client's score per dimension (mean percentile) against the peer median score."""
    w = words(lang)
    cat = result.catalogue
    prof = result.profile_in(group).set_index("dimension")
    dims = [d for d in cat.dimensions if d.id in prof.index]
    names = [_label(d.name[lang], 44) for d in dims]
    fig = Figure(figsize=(WIDTH, 0.42 * len(dims) + 1.0), facecolor="white")
    ax = _axes(fig, text_width(names) + 0.15, 0.15, 0.5, 0.35)
    y = list(range(len(dims)))[::-1]
    scores = [float(prof.loc[d.id, "score"]) for d in dims]
    medians = [float(prof.loc[d.id, "peer_median"]) for d in dims]
    bars = ax.barh(y, [0 if math.isnan(s) else s for s in scores], height=0.58, color=PALETTE["client"],
                   label=w["client"], zorder=2)
    marks = ax.scatter(medians, y, marker="D", s=30, color="white", edgecolor=PALETTE["median"], linewidth=1.2,
                       zorder=3, label=w["peers_median"])
    for yi, s, m in zip(y, scores, medians):
        if math.isnan(s):
            ax.text(1, yi, w["no_statistics"], va="center", fontsize=FONT_SIZE - 1, color=PALETTE["muted"],
                    style="italic")
        else:
            x = max(s, m if _ok(m) else s)
            ax.text(min(x, 98) + 2.2, yi, present.dimension_score(s, lang), va="center", fontsize=FONT_SIZE,
                    color=PALETTE["client"], fontweight="bold", zorder=4)
    _row_labels(ax, y, names)
    ax.set_ylim(-0.6, len(dims) - 0.4)
    _percent_axis(ax, w["percentile_axis"].format(group=_group_name(result, group, lang)))
    ax.legend(handles=[bars, marks], loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    fig.set_label(w["dimensions"])
    return fig


# The tallest figure that fits an A4 page under its heading (16 + 18 mm margins, 263 mm of
# text height; report.css never lets a chart break across pages). Longer charts are split.
PAGE_HEIGHT = 8.8
BAR_ROW = 0.19                   # inches per row of the positions chart
BAR_FRAME = 0.85                 # its axis, tick labels and margins


Row = tuple[str, Any]            # ("dim", Dimension) or ("ind", Indicator)


def _position_rows(result: AuditResult) -> list[list[Row]]:
    """The positions chart's rows as blocks, one per dimension: its header, then its ranked indicators."""
    blocks = []
    for d in result.catalogue.dimensions:
        inds = [i for i in result.catalogue.in_dimension(d.id) if i.scored]
        if inds:
            blocks.append([("dim", d)] + [("ind", i) for i in inds])
    return blocks


def _page_rows(blocks: list[list[Row]], max_rows: int) -> list[list[Row]]:
    """Whole dimensions per page while they fit; a dimension taller than a page is cut, its header repeated."""
    pages: list[list[Row]] = [[]]
    for block in blocks:
        head, body = block[0], block[1:]
        pieces = [[head] + body[k:k + max_rows - 1] for k in range(0, len(body), max_rows - 1)]
        for piece in pieces:
            if pages[-1] and len(pages[-1]) + len(piece) > max_rows:
                pages.append([])
            pages[-1] += piece
    return [p for p in pages if p]


@_style
def percentile_bars(result: AuditResult, lang: str = "en", group: str | None = None,
                    rows: list[Row] | None = None) -> Figure:
    """Every ranked indicator's percentile in one group, grouped by dimension (or the `rows` given).

    One figure however many indicators; the report uses `percentile_pages`, which splits them
    so each figure fits a page.
    """
    w = words(lang)
    pos = result.positions_in(group).set_index("indicator")
    if rows is None:
        rows = [r for block in _position_rows(result) for r in block]
    labels = [item.name[lang] if kind == "dim" else _label(item.name[lang]) for kind, item in rows]
    left = max(text_width([t for (k, _), t in zip(rows, labels) if k == "dim"], FONT_SIZE, "bold"),
               text_width([t for (k, _), t in zip(rows, labels) if k == "ind"], FONT_SIZE - 1)) + 0.12
    n = len(rows)
    fig = Figure(figsize=(WIDTH, BAR_ROW * n + BAR_FRAME), facecolor="white")
    ax = _axes(fig, left, 0.15, 0.5, 0.3)
    bars = []
    for k, (kind, item) in enumerate(rows):
        y = n - 1 - k
        if kind == "dim":
            ax.axhspan(y - 0.5, y + 0.5, color=PALETTE["header"], zorder=0, lw=0)
            continue
        row = pos.loc[item.id]
        pct = row["percentile"]
        if _ok(pct):
            bars.append((y, pct))
            ax.text(pct + 1.2, y, present.percentile_number(pct, lang), va="center", fontsize=FONT_SIZE - 1.5,
                    color=PALETTE["client"], zorder=3, bbox=_NUMBER_BOX)
        else:
            status = w["status"].get(row["status"], row["status"]).format(floor=result.anonymity_floor)
            ax.text(1.0, y, status, va="center", fontsize=FONT_SIZE - 1.5, color=PALETTE["muted"],
                    style="italic", zorder=3)
    if bars:                                  # one call for every bar (a call per bar cost as much)
        ax.barh([b[0] for b in bars], [b[1] for b in bars], height=0.66, color=PALETTE["client"], zorder=2)
    for y, (kind, _), label in zip(range(n)[::-1], rows, labels):
        _row_labels(ax, [y], [label], **({"fontweight": "bold"} if kind == "dim" else {"fontsize": FONT_SIZE - 1}))
    ax.set_ylim(-0.5, n - 0.5)
    _percent_axis(ax, w["percentile_axis"].format(group=_group_name(result, group, lang)))
    ax.tick_params(axis="x", top=True, labeltop=True)
    fig.set_label(w["positions"])
    return fig


def percentile_pages(result: AuditResult, lang: str = "en", group: str | None = None,
                     page_height: float = PAGE_HEIGHT) -> list[Figure]:
    """The positions chart as one figure per page: whole dimensions while they fit (36 or 60 indicators alike)."""
    max_rows = max(2, int((page_height - BAR_FRAME) / BAR_ROW))
    return [percentile_bars(result, lang, group, rows=page) for page in _page_rows(_position_rows(result), max_rows)]


def _limits(values: list[float], ind) -> tuple[float, float]:
    """The x range of one indicator's row: the peers' p10-p90 and the client, padded."""
    if ind.kind == "ordinal":
        return ind.min - 0.25, ind.max + 0.25
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.06
    return max(lo - pad, ind.min - pad), min(hi + pad, ind.max + pad)


ROW = 0.62        # inches per indicator with a spread
ROW_SHORT = 0.32  # inches per indicator without one (yes/no, no statistics)
LEGEND = 0.37     # the legend strip and top margin of a distributions figure


def distribution_pages(result: AuditResult, dimension: str, lang: str = "en", group: str | None = None,
                       page_height: float = PAGE_HEIGHT) -> list[Figure]:
    """One dimension's distributions as one figure per page (a dimension of 15 indicators takes two)."""
    pos = result.positions_in(group).set_index("indicator")
    inds = [i for i in result.catalogue.in_dimension(dimension) if i.scored]
    pages: list[list] = [[]]
    used = 0.0
    for ind in inds:
        h = ROW if (pos.loc[ind.id, "median"] == pos.loc[ind.id, "median"] and ind.kind != "yes_no") else ROW_SHORT
        if pages[-1] and used + h + LEGEND > page_height:
            pages.append([])
            used = 0.0
        pages[-1].append(ind)
        used += h
    return [distributions(result, dimension, lang, group, indicators=page) for page in pages if page]


@_style
def distributions(result: AuditResult, dimension: str, lang: str = "en", group: str | None = None,
                  indicators: list | None = None) -> Figure:
    """Per ranked indicator of one dimension: the peer spread (p10-p90, p25-p75, median) and the client.

    One row per indicator, each on its own scale (its p10 and p90 are labelled); drawn from
    the peer statistics only. Yes/no indicators and indicators without statistics get a short
    row with the answer and percentile, or the reason there are no statistics.

    Drawn on the figure in inches, without an Axes: an Axes (its ticks, spines and limits,
    all hidden here) cost more to build than this chart's marks.
    """
    from matplotlib.collections import LineCollection, PatchCollection, PathCollection
    from matplotlib.lines import Line2D
    from matplotlib.markers import MarkerStyle
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.transforms import Affine2D, IdentityTransform

    w = words(lang)
    cat = result.catalogue
    pos = result.positions_in(group).set_index("indicator")
    # One artist per kind of mark for the whole chart (hundreds of single Line2D are slow to build).
    baselines, whiskers, medians, boxes, clients = [], [], [], [], []
    inds = indicators if indicators is not None else [i for i in cat.in_dimension(dimension) if i.scored]
    spread = {i.id: (pos.loc[i.id, "median"] == pos.loc[i.id, "median"] and i.kind != "yes_no") for i in inds}
    heights = [ROW if spread[i.id] else ROW_SHORT for i in inds]
    legend_h = 0.32
    total = sum(heights) + legend_h + 0.05
    fig = Figure(figsize=(WIDTH, total), facecolor="white")
    inches = Affine2D().translate(0, legend_h) + fig.dpi_scale_trans   # x, y in inches above the legend

    def text(x: float, y: float, s: str, **kwargs) -> None:
        fig.text(x, y, s, transform=inches, **kwargs)

    x0, x1 = 0.12, WIDTH - 0.12            # the scale's span on each row, in inches
    top = sum(heights)
    small = FONT_SIZE - 1.5
    for ind, h in zip(inds, heights):
        row = pos.loc[ind.id]
        value, pct = row["value"], row["percentile"]
        title = ind.name[lang] + (f" ({w['lower_is_better']})" if ind.direction == "lower" else "")
        unit = ind.unit[lang] if ind.kind not in ("yes_no", "share") else ""
        ty = top - 0.12
        text(0.04, ty, _label(title, 80) + (f"  [{unit}]" if unit else ""), va="center", ha="left",
             fontsize=FONT_SIZE, color=PALETTE["text"])
        right = present.value(ind, value, lang) if _ok(value) else w["status"]["not_answered"]
        if _ok(pct):
            right += f" · {present.percentile(pct, lang)}"
        text(WIDTH - 0.04, ty, right, va="center", ha="right", fontsize=FONT_SIZE, color=PALETTE["client"],
             fontweight="bold")
        if not spread[ind.id]:
            if not (ind.kind == "yes_no" and row["status"] == "ok"):
                reason = row["status"] if row["status"] not in ("ok", "not_answered") else None
                note = w["status"][reason].format(floor=result.anonymity_floor) if reason else w["no_statistics"]
                text(x1, top - 0.25, note, va="center", ha="right", fontsize=small, color=PALETTE["muted"],
                     style="italic")
            top -= h
            continue
        stats = {k: float(row[k]) for k in ("p10", "p25", "median", "p75", "p90")}
        lo, hi = _limits([stats["p10"], stats["p90"]] + ([value] if _ok(value) else []), ind)

        def sx(v: float, lo: float = lo, hi: float = hi) -> float:
            return x0 + (v - lo) / (hi - lo) * (x1 - x0)

        yc = top - 0.34
        baselines.append([(x0, yc), (x1, yc)])
        whiskers += [[(sx(stats["p10"]), yc), (sx(stats["p25"]), yc)],
                     [(sx(stats["p75"]), yc), (sx(stats["p90"]), yc)]]
        whiskers += [[(sx(stats[k]), yc - 0.05), (sx(stats[k]), yc + 0.05)] for k in ("p10", "p90")]
        boxes.append(Rectangle((sx(stats["p25"]), yc - 0.08), max(sx(stats["p75"]) - sx(stats["p25"]), 0.01), 0.16))
        medians.append([(sx(stats["median"]), yc - 0.08), (sx(stats["median"]), yc + 0.08)])
        if _ok(value):
            clients.append((sx(value), yc))
        ly = yc - 0.16
        p10_text, p90_text = present.value(ind, stats["p10"], lang), present.value(ind, stats["p90"], lang)
        if ind.kind == "ordinal":
            for level in range(int(ind.min), int(ind.max) + 1):
                text(sx(level), ly, str(level), va="center", ha="center", fontsize=small, color=PALETTE["muted"])
        else:
            text(sx(stats["p10"]), ly, p10_text, va="center", ha="center", fontsize=small, color=PALETTE["muted"])
            if sx(stats["p90"]) - sx(stats["p10"]) > 0.45:
                text(sx(stats["p90"]), ly, p90_text, va="center", ha="center", fontsize=small,
                     color=PALETTE["muted"])
        top -= h
    fig.add_artist(LineCollection(baselines, colors=PALETTE["reference"], linewidths=0.5, zorder=1,
                                  transform=inches))
    fig.add_artist(LineCollection(whiskers, colors=PALETTE["peer"], linewidths=0.9, zorder=2, transform=inches))
    fig.add_artist(PatchCollection(boxes, facecolor=PALETTE["peer_fill"], edgecolor=PALETTE["peer"],
                                   linewidths=0.8, zorder=3, transform=inches))
    fig.add_artist(LineCollection(medians, colors=PALETTE["median"], linewidths=1.8, zorder=4, transform=inches))
    if clients:                            # what ax.scatter(marker="D", s=44) builds
        marker = MarkerStyle("D")
        fig.add_artist(PathCollection((marker.get_path().transformed(marker.get_transform()),), [44],
                                      offsets=clients, offset_transform=inches, transform=IdentityTransform(),
                                      facecolors=PALETTE["client"], edgecolors="white", linewidths=0.8, zorder=6))
    handles = [Line2D([], [], marker="D", ls="", color=PALETTE["client"], label=w["client"]),
               Patch(facecolor=PALETTE["peer_fill"], edgecolor=PALETTE["peer"], label=w["peers_middle"]),
               Line2D([], [], color=PALETTE["median"], lw=1.8, label=w["peers_median"]),
               Line2D([], [], color=PALETTE["peer"], lw=0.9, label=w["peers_range"])]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=4, fontsize=FONT_SIZE - 1)
    fig.set_label(cat.dimension(dimension).name[lang])
    return fig


@_style
def evolution_chart(result: AuditResult, lang: str = "en") -> Figure | None:
    """Percentile then and now for the indicators that moved beyond the noise band (None if none)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

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
    names = [_label(cat.indicator(i).name[lang]) for i in moved["indicator"]]
    # 0.2 inch per row, closer together when that would not fit one page (rows stay readable to ~80)
    fig = Figure(figsize=(WIDTH, min(0.2 * n + 0.95, PAGE_HEIGHT)), facecolor="white")
    ax = _axes(fig, text_width(names, FONT_SIZE - 1) + 0.15, 0.15, 0.5, 0.35)
    y = list(range(n))[::-1]
    colours = [PALETTE["improved"] if t == "improved" else PALETTE["declined"] for t in moved["trend"]]
    then, now = list(moved["percentile_then"]), list(moved["percentile_now"])
    # The arrows an annotate("", arrowprops=...) draws, without its empty text; one scatter per
    # kind of dot and colour (a scatter per dot cost more than the rest of the chart; one colour
    # per scatter keeps matplotlib's marker drawing, so the dots land where they did).
    for yi, a, b, colour in zip(y, then, now, colours):
        ax.add_artist(FancyArrowPatch((a, yi), (b, yi), arrowstyle="-|>", color=colour, lw=1.3, shrinkA=3,
                                      shrinkB=3, mutation_scale=9, zorder=3, clip_on=False))
    for colour in dict.fromkeys(colours):
        rows = [k for k, c in enumerate(colours) if c == colour]
        ys = [y[k] for k in rows]
        ax.scatter([then[k] for k in rows], ys, s=20, facecolor="white", edgecolor=colour, zorder=3, lw=1.1)
        ax.scatter([now[k] for k in rows], ys, s=24, color=colour, zorder=4)
    _row_labels(ax, y, names, fontsize=FONT_SIZE - 1)
    ax.set_ylim(-0.6, n - 0.4)
    _percent_axis(ax, w["percentile_axis"].format(group=result.group(evo.group).name(lang)))
    ax.set_xlim(0, 100)
    handles = [Line2D([], [], marker="o", ls="", markerfacecolor="white", markeredgecolor=PALETTE["peer"],
                      color=PALETTE["peer"], label=str(evo.earlier_year)),
               Line2D([], [], marker="o", ls="", color=PALETTE["peer"], label=str(evo.current_year)),
               Line2D([], [], color=PALETTE["improved"], lw=1.3, label=w["trends"]["improved"]),
               Line2D([], [], color=PALETTE["declined"], lw=1.3, label=w["trends"]["declined"])]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4)
    fig.set_label(w["evolution"].format(year=evo.earlier_year))
    return fig


_SVG_PROLOGUE = re.compile(r"\A<\?xml[^>]*>\s*<!DOCTYPE[^>]*>\s*", re.DOTALL)


def to_svg(fig: Figure) -> str:
    """The figure as SVG with its text kept as text: vector in print, and the cheapest render.

    Text is laid out with DejaVu Sans metrics and written as text (svg.fonttype 'none') with
    matplotlib's fallback list (Verdana, Arial, sans-serif), so no glyph is rasterised or
    traced. Byte-stable: no date or creator metadata, fixed ids (svg.hashsalt). The XML
    prologue with its DTD address is dropped, so the SVG names no external resource.

    What `FigureCanvasSVG.print_svg` does, with a renderer whose text metrics outlive it
    (`_SVGRenderer`).
    """
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buf = io.StringIO()
    with _rc({"svg.fonttype": "none", "svg.hashsalt": "auditlib"}):
        FigureCanvasSVG(fig)                         # the figure's canvas, as print_svg has it
        dpi = fig.dpi
        fig.dpi = 72
        width, height = fig.get_size_inches()
        svg = _svg_renderer_class()(width * 72, height * 72, buf, image_dpi=dpi,
                                    metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
        renderer = MixedModeRenderer(fig, width, height, dpi, svg)
        fig.draw(renderer)                           # type: ignore[arg-type]  # as print_svg does
        renderer.finalize()
    return _SVG_PROLOGUE.sub("", buf.getvalue())


@lru_cache(maxsize=1)
def _svg_renderer_class():
    """matplotlib's SVG renderer measuring text through `_svg_text_metrics`.

    matplotlib caches text metrics per renderer, and print_svg makes a new renderer per
    figure: every label, tick and legend entry was measured again in every figure (FreeType
    lays the string out each time). The same label in the same font measures the same.
    """
    from matplotlib.backends.backend_svg import RendererSVG

    class _SVGRenderer(RendererSVG):
        def get_text_width_height_descent(self, s, prop, ismath):
            if ismath:
                return super().get_text_width_height_descent(s, prop, ismath)
            return _svg_text_metrics(s, prop.copy())

        def _get_font_height_metrics(self, prop):
            # Text._get_layout asks the renderer first (matplotlib >= 3.10), else reads the
            # font's tables itself for every text drawn. (None, None, None) lets it do so: also
            # when matplotlib's private font lookup used here is gone in a later version.
            try:
                return _svg_font_heights(prop.copy())
            except AttributeError:
                return None, None, None

    return _SVGRenderer


@lru_cache(maxsize=256)
def _svg_font_heights(prop) -> tuple[float, float, float] | tuple[None, None, None]:
    """A font's ascent, descent and line gap at 72 dpi, read as Text._get_layout reads them."""
    from matplotlib.font_manager import fontManager, get_font

    dpi = 72                                 # the SVG figure's dpi while it is drawn
    font: Any = get_font(fontManager._find_fonts_by_props(prop))   # tables read by name, as matplotlib does
    for table_name, gap_key, ascent_key, descent_key in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                                         ("hhea", "lineGap", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * prop.get_size_in_points() * dpi / 72
        return table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale
    return None, None, None


@lru_cache(maxsize=8192)
def _svg_text_metrics(text: str, prop) -> tuple[float, float, float]:
    """One plain text's width, height and descent in points, as the SVG renderer measures it."""
    from matplotlib.textpath import text_to_path

    return text_to_path.get_text_width_height_descent(text, prop, False)


def to_png(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as a 256-colour PNG, byte-stable for the same figure (no varying metadata)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    image = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    image.save(buf, format="png", dpi=(dpi, dpi))
    return buf.getvalue()

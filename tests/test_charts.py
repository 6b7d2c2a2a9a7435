"""Charts: Figures from one AuditResult, labelled in the report language, byte-stable PNGs,
no pyplot, and no peer statistics where the anonymity floor forbids them."""

from __future__ import annotations

import io
import sys

import matplotlib
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from auditlib import charts
from auditlib.audit import analyse
from auditlib.evolution import Evolution
from auditlib.testing import make_db, make_profile, make_reference_frame


@pytest.fixture(scope="module")
def result(catalogue, synthetic_db):
    profile = make_profile(catalogue, committed_members=120, sme_share=70, total_budget=900, events_per_year=30,
                           service_usage=55, member_involvement=3, written_strategy=1, strategy_age=2)
    return analyse(profile, catalogue=catalogue, benchmark=synthetic_db)


@pytest.fixture(scope="module")
def result_with_evolution(catalogue, synthetic_db):
    from auditlib.intake import ClientFolder

    now = make_profile(catalogue, committed_members=120, events_per_year=40, service_usage=70)
    then = make_profile(catalogue, benchmark_year=2024, committed_members=20, events_per_year=2, service_usage=5)
    folder = ClientFolder("test-client", now.source.parent, now, (then,), None)
    return analyse(folder, catalogue=catalogue, benchmark=synthetic_db)


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def all_charts(result, lang):
    figs = [charts.dimension_profile(result, lang), charts.percentile_bars(result, lang)]
    figs += [charts.distributions(result, d.id, lang) for d in result.catalogue.dimensions]
    return figs


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_chart_is_a_figure_labelled_in_the_language(result, catalogue, lang):
    other = "nl" if lang == "en" else "en"
    foreign = [d.name[other] for d in catalogue.dimensions if d.name[other] != d.name[lang]]
    figs = all_charts(result, lang)
    assert len(figs) == 2 + len(catalogue.dimensions)
    for fig in figs:                                 # every figure, not only the last one
        assert isinstance(fig, Figure)
        assert tuple(fig.get_size_inches())[0] == charts.WIDTH
        shown = " ".join(texts(fig))
        assert shown, fig.get_label()
        assert fig.get_label()                       # the alt text of the image in the report
        assert not [name for name in foreign if name in shown], (fig.get_label(), lang)
    bars = " ".join(texts(charts.percentile_bars(result, lang)))
    for d in catalogue.dimensions:
        assert d.name[lang] in bars
    assert ("Percentiel" if lang == "nl" else "Percentile") in bars


def test_charts_do_not_use_pyplot(result):
    before = sys.modules.get("matplotlib.pyplot")
    fignums = before.get_fignums() if before else []
    all_charts(result, "en")
    after = sys.modules.get("matplotlib.pyplot")
    assert (after.get_fignums() if after else []) == fignums


def test_png_is_byte_stable_and_small(result):
    a = charts.to_png(charts.distributions(result, "services", "en"))
    b = charts.to_png(charts.distributions(result, "services", "en"))
    assert a == b
    assert a[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    image = Image.open(io.BytesIO(a))
    assert image.mode == "P"                         # 256-colour palette
    assert image.size[0] == round(charts.WIDTH * charts.DPI)
    assert b"Software" not in a and b"matplotlib" not in a.lower()


def test_distribution_shows_the_client_and_the_peer_statistics_only(result, catalogue):
    fig = charts.distributions(result, "structure", "en")
    shown = texts(fig)
    pos = result.positions_in().set_index("indicator")
    ind = catalogue.indicator("committed_members")
    assert any(t.startswith("120 · P") for t in shown)          # the client's value and percentile
    from auditlib.present import value as fmt_value

    assert fmt_value(ind, pos.loc[ind.id, "p10"], "en") in shown  # p10 and p90 are labelled
    assert fmt_value(ind, pos.loc[ind.id, "p90"], "en") in shown


def test_below_the_anonymity_floor_no_statistics_are_drawn(catalogue):
    tiny = make_db(make_reference_frame(catalogue, n=8, seed=3), "tiny")
    res = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=tiny)
    assert not any(g.available for g in res.peer_groups)
    for dim in catalogue.dimensions:
        fig = charts.distributions(res, dim.id, "en")
        from matplotlib.collections import Collection

        marks = [c for c in fig.findobj(Collection) if len(c.get_paths())]
        assert marks == []                         # no spread drawn at all: no box, whisker, median or scale
        assert any("anonymity floor" in t for t in texts(fig))
    bars = charts.percentile_bars(res, "nl")
    assert [p for p in bars.axes[0].patches if abs(p.get_height() - 0.66) < 1e-9] == []   # no percentile bar
    assert any("anonimiteitsgrens" in t for t in texts(bars))


def test_evolution_chart_only_with_an_earlier_audit(result, result_with_evolution):
    assert charts.evolution_chart(result, "en") is None
    fig = charts.evolution_chart(result_with_evolution, "nl")
    assert isinstance(result_with_evolution.evolution, Evolution)
    assert fig is not None and "2024" in texts(fig) and "verbeterd" in texts(fig)


def test_one_palette(result):
    fig = charts.dimension_profile(result, "en")
    bar_colours = {tuple(round(c, 3) for c in p.get_facecolor()[:3]) for p in fig.axes[0].patches}
    from matplotlib.colors import to_rgb

    assert bar_colours == {tuple(round(c, 3) for c in to_rgb(charts.PALETTE["client"]))}


def test_svg_is_byte_stable_keeps_text_and_names_no_external_resource(result):
    a = charts.to_svg(charts.distributions(result, "services", "en"))
    b = charts.to_svg(charts.distributions(result, "services", "en"))
    assert a == b
    assert a.startswith("<svg") and "<text" in a                 # text kept as text, not traced
    assert "DOCTYPE" not in a and "<dc:date>" not in a and "Matplotlib" not in a
    name = result.catalogue.indicator("service_types").name.en
    assert name in a


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A result on the licensed-style catalogue: 39 indicators, 37 of them ranked."""
    from licensed_catalogue import build_benchmark, build_catalogue

    from auditlib.benchmark import load_benchmark
    from auditlib.catalogue import load_catalogue

    root = tmp_path_factory.mktemp("many")
    cat = load_catalogue(build_catalogue(root / "catalogue"))
    db = load_benchmark(build_benchmark(root / "catalogue", root / "b.csv", n=300), cat)
    return analyse(make_profile(cat, member_organisations=40), catalogue=cat, benchmark=db)


def test_a_chart_of_many_indicators_fits_the_page(many):
    ranked = [i.id for i in many.catalogue.indicators if i.scored]
    assert len(ranked) == 37
    whole = charts.percentile_bars(many, "en")
    assert whole.get_size_inches()[1] > charts.PAGE_HEIGHT           # one figure would not fit a page
    pages = charts.percentile_pages(many, "en")
    assert len(pages) == 2
    assert all(f.get_size_inches()[1] <= charts.PAGE_HEIGHT for f in pages)
    rows = [r for f in pages for r in charts.row_labels(f)]
    expected = [charts._label(i.name["en"]) for d in many.catalogue.dimensions
                for i in many.catalogue.in_dimension(d.id) if i.scored]
    assert [r for r in rows if r not in {d.name["en"] for d in many.catalogue.dimensions}] == expected
    # dimensions are not cut while whole ones fit: every page starts with a dimension header
    names = {d.name["en"] for d in many.catalogue.dimensions}
    for f in pages:
        assert charts.row_labels(f)[0] in names


def test_a_dimension_taller_than_a_page_is_split_with_its_header_repeated(many):
    height = 2.2                                                      # a small page: every dimension is cut
    pages = charts.percentile_pages(many, "en", page_height=height)
    assert all(f.get_size_inches()[1] <= height for f in pages)
    dims = {d.name["en"] for d in many.catalogue.dimensions}
    assert all(charts.row_labels(f)[0] in dims for f in pages)                      # header first, always
    rows = [r for f in pages for r in charts.row_labels(f) if r not in dims]
    assert len(rows) == 37 and len(set(rows)) == 37
    for d in many.catalogue.dimensions:
        whole = charts.distributions(many, d.id, "en").get_size_inches()[1]
        split = charts.distribution_pages(many, d.id, "en", page_height=height)
        assert all(f.get_size_inches()[1] <= height for f in split) or len(split) == 1
        assert (len(split) > 1) == (whole > height)


def test_the_evolution_chart_is_capped_at_a_page(result_with_evolution):
    fig = charts.evolution_chart(result_with_evolution, "en")
    assert fig.get_size_inches()[1] <= charts.PAGE_HEIGHT


def _print_svg(fig) -> str:
    """The SVG as matplotlib's own print_svg writes it (what to_svg did before its metrics cache)."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "auditlib"}):
        FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None, "Creator": None, "Format": None,
                                                      "Type": None})
    return charts._SVG_PROLOGUE.sub("", buf.getvalue())


def test_to_svg_writes_what_print_svg_writes(result_with_evolution):
    """The text metrics kept across figures change nothing: same bytes as matplotlib's print_svg."""
    r = result_with_evolution
    for make in (lambda: charts.dimension_profile(r, "nl"), lambda: charts.percentile_bars(r, "en"),
                 lambda: charts.distributions(r, "services", "nl"), lambda: charts.evolution_chart(r, "en")):
        charts.to_svg(make())                                     # the metrics cache is warm
        assert charts.to_svg(make()) == _print_svg(make())


def test_font_heights_left_to_matplotlib_without_its_private_lookup(monkeypatch):
    """Should a later matplotlib drop the private font lookup `to_svg`'s font heights use, the renderer
    answers (None, None, None) and matplotlib measures the heights its own way: no chart fails."""
    import io

    from matplotlib.font_manager import FontProperties, fontManager

    renderer = charts._svg_renderer_class()(10, 10, io.StringIO())
    charts._svg_font_heights.cache_clear()
    assert None not in renderer._get_font_height_metrics(FontProperties(size=9))
    monkeypatch.delattr(type(fontManager), "_find_fonts_by_props")
    charts._svg_font_heights.cache_clear()
    try:
        assert renderer._get_font_height_metrics(FontProperties(size=9)) == (None, None, None)
    finally:
        charts._svg_font_heights.cache_clear()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_row_names_stand_where_the_y_tick_labels_stood(result_with_evolution, lang):
    """Row names are plain texts now: same text, place, size and weight as matplotlib's y tick labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    r = result_with_evolution
    for fig in (charts.dimension_profile(r, lang), charts.percentile_bars(r, lang), charts.evolution_chart(r, lang)):
        ax = fig.axes[0]
        rows = [t for t in ax.texts if t.get_label() == charts.ROW_LABEL]
        assert [t.get_text() for t in rows] == charts.row_labels(fig) and rows
        assert len(ax.get_yticks()) == 0                          # no y ticks besides
        renderer = FigureCanvasAgg(fig).get_renderer()
        placed = [(t.get_window_extent(renderer).bounds, t.get_fontsize(), t.get_fontweight(), t.get_color())
                  for t in rows]
        # the same names as y tick labels (tick length 0, as the charts had them), styled as the rows were
        with matplotlib.rc_context(charts.STYLE):
            ax.set_yticks([t.get_position()[1] for t in rows], [t.get_text() for t in rows])
            ax.tick_params(axis="y", length=0)
            for tick, t in zip(ax.get_yticklabels(), rows):
                tick.set_fontsize(t.get_fontsize())
                tick.set_fontweight(t.get_fontweight())
            ticks = [(t.get_window_extent(renderer).bounds, t.get_fontsize(), t.get_fontweight(), t.get_color())
                     for t in ax.get_yticklabels()]
        assert placed == ticks
        svg = charts.to_svg(fig)
        assert all(f">{name}<" in svg.replace("&amp;", "&") for name in charts.row_labels(fig))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_distributions_draw_every_row_inside_the_figure_above_the_legend(result, catalogue, lang):
    """Drawn in inches on the figure (no Axes): every mark on its row, inside the figure, above the legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import Collection

    for dim in catalogue.dimensions:
        fig = charts.distributions(result, dim.id, lang)
        assert fig.axes == []
        renderer = FigureCanvasAgg(fig).get_renderer()
        box = fig.bbox
        legend = fig.legends[0].get_window_extent(renderer)
        marks = [c for c in fig.findobj(Collection) if len(c.get_paths())]
        assert marks
        for mark in marks:
            extent = mark.get_window_extent(renderer)
            assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and extent.y1 <= box.y1
            assert extent.y0 >= legend.y1                            # never over the legend
        title = fig.texts[0]                                         # the first row's name, 0.05 + 0.12 in down
        x, y = title.get_transform().transform(title.get_position()) / fig.dpi
        assert (x, y) == pytest.approx((0.04, fig.get_size_inches()[1] - 0.05 - 0.12))
        inds = [i for i in catalogue.in_dimension(dim.id) if i.scored]
        svg = charts.to_svg(fig).replace("&amp;", "&")
        for ind in inds:
            assert charts._label(ind.name[lang], 80) in svg or ind.name[lang][:40] in svg


def test_the_evolution_chart_draws_one_arrow_and_two_dots_per_move(result_with_evolution):
    from matplotlib.collections import PathCollection
    from matplotlib.colors import to_hex
    from matplotlib.patches import FancyArrowPatch

    evo = result_with_evolution.evolution
    moved = evo.changes[evo.changes["trend"].isin(["improved", "declined"])]
    order = {iid: k for k, iid in enumerate(result_with_evolution.catalogue.ids)}
    moved = moved.assign(_o=moved["indicator"].map(order)).sort_values("_o")    # the chart's order
    fig = charts.evolution_chart(result_with_evolution, "en")
    ax = fig.axes[0]
    arrows = [a for a in ax.get_children() if isinstance(a, FancyArrowPatch)]
    assert len(arrows) == len(moved)
    then, now = set(), set()                       # (percentile, row, colour): hollow dots then, filled now
    for dots in (c for c in ax.collections if isinstance(c, PathCollection)):
        face, edge = to_hex(dots.get_facecolor()[0]), to_hex(dots.get_edgecolor()[0])
        found = then if face == "#ffffff" else now
        found |= {(round(float(x), 6), round(float(y), 6), edge) for x, y in dots.get_offsets()}
    colour = {"improved": charts.PALETTE["improved"], "declined": charts.PALETTE["declined"]}
    rows = range(len(moved))[::-1]                 # the first moved indicator on top
    assert then == {(round(float(r.percentile_then), 6), y, colour[r.trend]) for y, r in zip(rows, moved.itertuples())}
    assert now == {(round(float(r.percentile_now), 6), y, colour[r.trend]) for y, r in zip(rows, moved.itertuples())}
    for arrow, r in zip(arrows, moved.itertuples()):
        assert arrow.get_edgecolor() == pytest.approx(matplotlib.colors.to_rgba(colour[r.trend]))


def test_charts_leave_matplotlib_settings_as_they_were(result_with_evolution):
    """The report style and SVG settings apply while a chart is made and drawn, never after (a kernel keeps its own)."""
    before = dict(matplotlib.rcParams)
    with pytest.raises(StopIteration):                            # also when a chart fails
        charts.distributions(result_with_evolution, "no-such-dimension", "en")
    for fig in all_charts(result_with_evolution, "nl") + [charts.evolution_chart(result_with_evolution, "en")]:
        charts.to_svg(fig)
    assert dict(matplotlib.rcParams) == before

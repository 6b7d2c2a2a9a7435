"""One figure, one number: every figure a person reads equals the raw result under the one rule.

For every example client and 22 generated ones (a small country that falls back, ages 0 and 1,
all answers missing, extreme values, ties at the median, a Gold total between 79.5 and 80, an
earlier audit, random ones), in English and Dutch, the report's fragments (tables, summary,
label ladder), the interpretation's text, the charts' SVG text, the portfolio index, the
terminal summary and scores.xlsx are rendered in-process, every percentile, dimension score,
peer median, n and Gold total stated is extracted, and each is compared with the raw result
under the rule floor(x + 1e-9), computed here independently of auditlib.present. A renderer
that rounds instead of flooring fails (see test_a_renderer_that_rounds_is_caught).
"""

from __future__ import annotations

import math
import re
import types
from dataclasses import replace
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from auditlib import charts, console, present
from auditlib.audit import analyse
from auditlib.benchmark import load_benchmark
from auditlib.intake import ClientFolder
from auditlib.portfolio import PortfolioRow, key_figures, render_index
from auditlib.report import ReportView

from auditlib.testing import DATA, make_profile

LANGS = ("en", "nl")
EXAMPLES = sorted(p.name for p in (DATA / "clients").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
SPECIAL = ["small-country", "age-0", "age-1", "all-missing", "all-zero", "all-max", "ties-at-median", "gold-79.8",
           "gold-79.5"]
GENERATED = SPECIAL + [f"random-{k}" for k in range(len(SPECIAL), 22)]
CLIENTS = EXAMPLES + GENERATED
pytestmark = pytest.mark.slow       # about a minute on two cores; runs in `make test`
DASH = "–"


def shown(x) -> int | None:
    """The one rule, written out again here so the test does not trust the module it checks."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else math.floor(x + 1e-9)


def band_of(n: int, catalogue, lang: str) -> str:
    chosen = catalogue.peers.bands[0]
    for b in catalogue.peers.bands:
        if n >= b.min:
            chosen = b
    return chosen.name[lang]


def count_text(n: int, lang: str) -> str:
    text = f"{int(n):,}"
    return text.replace(",", ".") if lang == "nl" else text


# --- the clients ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def benchmark(catalogue):
    return load_benchmark(DATA / "benchmark" / "benchmark.csv", catalogue)


def _gold_answers(catalogue, target_total: float) -> dict:
    """Answers meeting every Gold criterion with a total score of `target_total` (bisection)."""
    from auditlib.labels import evaluate

    gold = catalogue.labels.gold
    answers: dict = {}
    for c in [*catalogue.labels.bronze.minimums, *gold.minimums, *gold.quality]:
        answers[c.indicator] = max(answers.get(c.indicator, c.threshold), c.threshold) if c.op == ">=" \
            else min(answers.get(c.indicator, c.threshold), c.threshold)

    def total(a):
        return evaluate(catalogue, a, benchmark_year=2026).verdicts["gold"].total_score

    quality = [c for c in gold.quality if c.target != c.threshold]
    for c in quality:                       # raise criteria to their target while below the aim
        trial = {**answers, c.indicator: c.target}
        if total(trial) >= target_total:
            lo, hi = answers[c.indicator], c.target
            for _ in range(80):
                mid = (lo + hi) / 2
                if total({**answers, c.indicator: mid}) < target_total:
                    lo = mid            # lo: below the aim, hi: at or above it (either direction)
                else:
                    hi = mid
            answers[c.indicator] = hi
            break
        answers = trial
    return answers


def _generated(catalogue, benchmark) -> list[tuple[str, object]]:
    frame = benchmark.frame
    counts = frame["country"].value_counts()
    small = next(c for c in ("LI", "MT", "LU", "IS", "CY", "EE") if counts.get(c, 0) < 10)
    median = {i.id: float(np.nanmedian(frame[i.id].to_numpy(dtype=float))) for i in catalogue.indicators}
    rng = np.random.default_rng(2026)
    cases: list[tuple[str, dict, dict]] = [
        ("small-country", {"country": small, "field": "ict"}, {}),
        ("age-0", {"founding_year": 2026}, {}),
        ("age-1", {"founding_year": 2025}, {}),
        ("all-missing", {}, {i: None for i in catalogue.ids}),
        ("all-zero", {}, {i.id: 0.0 for i in catalogue.indicators if i.id != "org_age"}),
        ("all-max", {}, {i.id: float(i.max) for i in catalogue.indicators if i.id != "org_age" and i.max is not None}),
        ("ties-at-median", {"country": "DE", "field": "ict"}, {k: v for k, v in median.items() if k != "org_age"}),
        ("gold-79.8", {}, _gold_answers(catalogue, 79.8)),
        ("gold-79.5", {}, _gold_answers(catalogue, 79.5)),
    ]
    fields = sorted(set(frame["field"]))
    countries = sorted(set(frame["country"]))
    assert [c[0] for c in cases] == SPECIAL
    while len(cases) < len(GENERATED):
        row = frame.iloc[int(rng.integers(len(frame)))]
        answers = {i.id: (None if rng.random() < 0.1 or row[i.id] != row[i.id] else float(row[i.id]) *
                          float(rng.choice([1.0, 1.0, 0.7, 1.3])))
                   for i in catalogue.indicators if i.id != "org_age"}
        for i in catalogue.indicators:
            v = answers.get(i.id)
            if v is not None and i.kind in ("yes_no", "ordinal"):
                answers[i.id] = float(min(max(round(v), i.min or 0), i.max))
            elif v is not None and i.kind == "share":
                answers[i.id] = min(v, 100.0)
        cases.append((f"random-{len(cases)}", {"country": str(rng.choice(countries)), "field": str(rng.choice(fields)),
                                               "founding_year": int(rng.integers(1990, 2026))}, answers))
    out = []
    for k, (name, profile_args, answers) in enumerate(cases):
        profile = make_profile(catalogue, client_id=f"gen-{name}", **profile_args, **answers)
        earlier = ()
        if k % 3 == 0 and name != "all-missing":           # some with an earlier audit (evolution, Silver)
            then = {i: (v * 0.8 if isinstance(v, float) and v is not None else v) for i, v in profile.answers.items()}
            earlier = (replace(profile, benchmark_year=2024, answers=then),)
        folder = ClientFolder(profile.client_id, Path("."), profile, earlier, None)
        out.append((name, analyse(folder, catalogue=catalogue, benchmark=benchmark)))
    return out


@pytest.fixture(scope="module")
def results(catalogue, benchmark):
    found = [(c, analyse(DATA / "clients" / c, catalogue=catalogue, benchmark=benchmark)) for c in EXAMPLES]
    found += _generated(catalogue, benchmark)
    return dict(found)


def test_the_generated_clients_cover_the_cases(results, catalogue):
    assert len(results) >= len(EXAMPLES) + 20
    gold = {k: r.labels.verdicts["gold"] for k, r in results.items() if k.startswith("gold-")}
    for v in gold.values():                           # every criterion met, total just below 80
        assert v.failed == () and 79.5 <= v.total_score < 80 and not v.ready
    assert any(g.fallback_from for g in results["small-country"].peer_groups)
    assert results["age-0"].client.age == 0 and results["age-1"].client.age == 1
    assert results["all-missing"].positions["percentile"].isna().all()
    ties = results["ties-at-median"].positions_in()
    assert (ties["value"] == ties["median"]).any()
    assert any(r.evolution is not None for r in results.values())


# --- extraction -------------------------------------------------------------------------------

class _Tables(HTMLParser):
    """Every table of an HTML fragment as rows of cell texts, and every list item's text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.items: list[str] = []
        self._cell: list[str] | None = None
        self._item: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "li":
            self._item = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "li" and self._item is not None:
            self.items.append(" ".join("".join(self._item).split()))
            self._item = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._item is not None:
            self._item.append(data)


def parse(html: str) -> _Tables:
    p = _Tables()
    p.feed(html)
    return p


def svg_texts(svg: str) -> list[str]:
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", t)).split())
            for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, flags=re.S)]


# --- the checks -------------------------------------------------------------------------------

class Check:
    """Collects every difference between a stated figure and the raw figure under the rule."""

    def __init__(self, name: str, result, lang: str):
        self.name, self.r, self.lang, self.cat = name, result, lang, result.catalogue
        self.problems: list[str] = []
        self.compared = 0
        self.pos = result.positions_in().set_index("indicator")
        self.prof = result.profile_in().set_index("dimension")
        self.ind_by_name = {i.name[lang]: i.id for i in self.cat.indicators}
        self.dim_by_name = {d.name[lang]: d.id for d in self.cat.dimensions}

    def same(self, where: str, stated, expected) -> None:
        self.compared += 1
        if str(stated) != str(expected):
            self.problems.append(f"{self.name}/{self.lang} {where}: states {stated!r}, the rule gives {expected!r}")

    def pct(self, raw) -> str:
        s = shown(raw)
        return DASH if s is None else str(s)

    # report tables ---------------------------------------------------------------------
    def view(self, view: ReportView) -> None:
        r, lang = self.r, self.lang
        # summary: dimension scores and peer medians, strengths, weaknesses, Gold total
        summary = parse(view.summary().html)
        for row in summary.tables[0][1:]:
            d = self.dim_by_name[row[0]]
            self.same(f"summary score {d}", row[1], self.pct(self.prof.loc[d, "score"]))
            self.same(f"summary peer median {d}", row[2], self.pct(self.prof.loc[d, "peer_median"]))
        stated = {}
        for item in summary.items:
            m = re.fullmatch(r"(.+) P(\d+)", item)
            if m:
                stated[self.ind_by_name[m.group(1)]] = int(m.group(2))
        ranked = self.pos[self.pos["percentile"].notna()]
        expected = {i: shown(p) for i, p in ranked["percentile"].items() if shown(p) >= 75 or shown(p) < 25}
        self.same("summary strengths and weaknesses", sorted(stated.items()), sorted(expected.items()))
        self.gold_text("summary", " ".join(summary.items))
        # positions per dimension: percentile and band, n never shown
        for d in self.cat.dimensions:
            rows = parse(view.positions_table(d.id).html).tables[0][1:]
            for ind, row in zip(self.cat.in_dimension(d.id), rows):
                raw = self.pos.loc[ind.id, "percentile"]
                self.same(f"positions {ind.id} percentile", row[4], self.pct(raw))
                if shown(raw) is not None:
                    self.same(f"positions {ind.id} band", row[5], band_of(shown(raw), self.cat, lang))
        # dimension table: every group's score, the peer median
        groups = [g.requested for g in r.peer_groups]
        matrix = r.dimension_matrix()
        for row in parse(view.dimension_table().html).tables[0][1:]:
            d = self.dim_by_name[row[0]]
            for k, g in enumerate(groups):
                self.same(f"dimension table {d} {g}", row[1 + k], self.pct(matrix.loc[d, g]))
            self.same(f"dimension table {d} peer median", row[1 + len(groups)], self.pct(self.prof.loc[d,
                                                                                                       "peer_median"]))
        # peer comparison: indicator x group
        table = r.positions.pivot(index="indicator", columns="group", values="percentile")
        for row in parse(view.peer_comparison().html).tables[0][1:]:
            if row[0] not in self.ind_by_name or len(row) == 1:
                continue
            iid = self.ind_by_name[row[0]]
            for k, g in enumerate(groups):
                self.same(f"peer comparison {iid} {g}", row[1 + k], self.pct(table.loc[iid, g]))
        # label ladder: the Gold total and ready / not ready with what blocks it
        for row in parse(view.label_summary().html).tables[0][1:]:
            label = next(k for k in ("bronze", "silver", "gold") if getattr(self.cat.labels, k).name[lang] == row[0])
            v = r.labels.verdicts[label]
            self.same(f"label {label} ready", row[1], present.words(lang)["ready_yes" if v.ready else "ready_no"])
            self.same(f"label {label} says what blocks it", bool(row[4]), not v.ready)
            if v.total_score is not None:
                self.same("label table Gold total", row[3], f"{shown(v.total_score)}%")
        # evolution: percentile then and now
        evo_frag = view.evolution_table()
        if evo_frag is not None and r.evolution is not None:
            changes = r.evolution.changes.set_index("indicator")
            tables = parse(evo_frag.html).tables
            if tables:
                for row in tables[0][1:]:
                    iid = self.ind_by_name[row[0]]
                    self.same(f"evolution {iid} then", row[3], self.pct(changes.loc[iid, "percentile_then"]))
                    self.same(f"evolution {iid} now", row[4], self.pct(changes.loc[iid, "percentile_now"]))
        # handles: the percentile of each handle's indicator
        frame = view.interpretation.handles
        for row in parse(view.handles().html).tables[0][1:] if len(frame) else []:
            h = frame.iloc[int(row[0]) - 1]
            self.same(f"handle {h['indicator']} percentile", row[3], self.pct(h["percentile"]))
        # peer groups: n, or fewer than the floor
        for g, row in zip(r.peer_groups, parse(view.peer_groups().html).tables[0][1:]):
            expected = count_text(g.n, lang) if g.available else present.words(lang)["fewer_than"].format(
                floor=r.anonymity_floor)
            if g.available or not g.refusals:
                self.same(f"peer group {g.requested} n", row[2], expected)

    def gold_text(self, where: str, text: str) -> None:
        v = self.r.labels.verdicts["gold"]
        word = {"en": r"total score (?:is )?(\d+)%", "nl": r"totaalscore (?:is )?(\d+)%"}[self.lang]
        for m in re.finditer(word, text):
            self.same(f"{where} Gold total", int(m.group(1)), shown(v.total_score))

    # the interpretation's text ------------------------------------------------------------
    def text(self, interpretation) -> None:
        lang, r = self.lang, self.r
        position = re.compile({"en": r"percentile (\d+) \(([^()]+?)\)", "nl": r"percentiel (\d+) \(([^()]+?)\)"}[lang])
        bands = {b.name[lang] for b in self.cat.peers.bands}
        for st in interpretation.statements("generated"):
            found = position.findall(unescape(st.text))
            for n, band in found:                          # the number and its band never disagree
                if band in bands:
                    self.same(f"text band of {n}", band, band_of(int(n), self.cat, lang))
            kind, anchor = st.kind, st.anchor
            if kind == "indicator" and found:
                iid = anchor.split(":", 1)[1]
                self.same(f"text {iid} percentile", int(found[0][0]), shown(self.pos.loc[iid, "percentile"]))
                m = re.search(r"\(n = ([\d.,]+)\)", st.text)
                self.same(f"text {iid} n", m.group(1), count_text(self.pos.loc[iid, "n"], lang))
            elif kind == "dimension" and found:
                d = anchor.split(":", 1)[1]
                self.same(f"text {d} score", int(found[0][0]), shown(self.prof.loc[d, "score"]))
                m = re.search({"en": r"a typical peer is at a mean of (\d+)",
                               "nl": r"staat gemiddeld op (\d+)\."}[lang], st.text)
                if m:
                    self.same(f"text {d} peer median", int(m.group(1)), shown(self.prof.loc[d, "peer_median"]))
            elif kind == "label":
                self.gold_text("text", st.text)
            elif kind == "evolution_change" and r.evolution is not None:
                iid = anchor.split(":", 1)[1]
                row = r.evolution.changes.set_index("indicator").loc[iid]
                self.same(f"text evolution {iid}", [int(n) for n, _ in found],
                          [shown(row["percentile_then"]), shown(row["percentile_now"])])
            elif kind == "overview" and found:
                dims = {shown(self.prof.loc[d.id, "score"]) for d in self.cat.dimensions}
                for n, _ in found:
                    self.same("text overview dimension score", int(n) in dims, True)

    # charts (SVG text) ------------------------------------------------------------------------
    def chart(self, fig, expected: list[str], pattern: str) -> None:
        """The chart's own labels matching `pattern`, as written into the SVG, against the rule."""
        svg = charts.to_svg(fig)
        texts = svg_texts(svg)
        stated = [m.group(1) for t in texts for m in [re.fullmatch(pattern, t)] if m]
        self.same(f"chart {fig.get_label()}", sorted(stated), sorted(expected))

    def charts(self) -> None:
        r, lang = self.r, self.lang
        scores = [self.pct(self.prof.loc[d.id, "score"]) for d in self.cat.dimensions
                  if d.id in self.prof.index and shown(self.prof.loc[d.id, "score"]) is not None]
        fig = charts.dimension_profile(r, lang)
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.texts if re.fullmatch(r"\d+", t.get_text())]
        self.same("chart dimension profile labels", sorted(labels), sorted(scores))
        self.chart(fig, scores + [str(t) for t in (0, 25, 50, 75, 100)], r"(\d+)")
        ranked = [self.pct(p) for p in self.pos["percentile"] if shown(p) is not None]
        fig = charts.percentile_bars(r, lang)
        labels = [t.get_text() for t in fig.axes[0].texts if re.fullmatch(r"\d+", t.get_text())]
        self.same("chart percentile bars labels", sorted(labels), sorted(ranked))
        for d in self.cat.dimensions:
            expected = [self.pct(self.pos.loc[i.id, "percentile"]) for i in self.cat.in_dimension(d.id)
                        if shown(self.pos.loc[i.id, "percentile"]) is not None]
            self.chart(charts.distributions(r, d.id, lang), expected, r".* · P(\d+)")

    # the terminal -----------------------------------------------------------------------------
    def terminal(self) -> None:
        if self.lang != "en":
            return
        text = console.score_summary(self.r)
        groups = [g.requested for g in self.r.peer_groups]
        matrix = self.r.dimension_matrix()
        names = {self.cat.dimension(d).name.en: d for d in matrix.index}
        for line in text.splitlines():
            for name, d in names.items():
                if line.startswith(name) and not line.startswith(name + ":"):
                    cells = line[len(name):].split()
                    self.same(f"terminal {d}", cells, [self.pct(matrix.loc[d, g]) for g in groups])
        for line in text.splitlines():
            if line.startswith(("Strengths:", "Weaknesses:")):
                for name, p in re.findall(r"([^;:]+?) \(P(\d+)\)", line):
                    self.same(f"terminal {name.strip()}", int(p), shown(self.pos.loc[self.ind_by_name[name.strip()],
                                                                                     "percentile"]))
        self.gold_text("terminal", text)

    # Excel --------------------------------------------------------------------------------------
    def excel(self, path: Path) -> None:
        import openpyxl

        from auditlib.export import write_excel

        write_excel(self.r, path, lang=self.lang)
        book = openpyxl.load_workbook(path, read_only=True)

        def rows(sheet):
            it = book[sheet].iter_rows(values_only=True)
            head = next(it)
            return [dict(zip(head, row)) for row in it]

        for row in rows("positions"):
            raw = row["percentile"]
            self.same(f"xlsx {row['group']} {row['indicator']} percentile_shown", row["percentile_shown"],
                      shown(raw))
            if shown(raw) is not None:
                self.same(f"xlsx {row['indicator']} band", row["band"],
                          next(b.id for b in self.cat.peers.bands if b.name.en == band_of(shown(raw), self.cat, "en")))
            if row["status"] in ("too_few_answers", "group_below_floor", "context"):
                self.same(f"xlsx {row['group']} {row['indicator']} n below the floor", (row["n"], row["n_missing"]),
                          (None, None))
        for row in rows("dimensions"):
            self.same(f"xlsx {row['group']} {row['dimension']} score_shown", row["score_shown"], shown(row["score"]))
            self.same(f"xlsx {row['group']} {row['dimension']} peer_median_shown", row["peer_median_shown"],
                      shown(row["peer_median"]))
        for row in rows("labels"):
            self.same(f"xlsx {row['label']} total_score_shown", row["total_score_shown"], shown(row["total_score"]))
        book.close()


def check_client(name: str, result, lang: str, tmp: Path) -> Check:
    view = ReportView.from_result(result, lang)
    c = Check(name, result, lang)
    c.view(view)
    c.text(view.interpretation)
    c.charts()
    c.terminal()
    c.excel(tmp / f"{name}-{lang}.xlsx")
    return c


def check_index(results: dict, lang: str) -> Check:
    """The portfolio index: each client's dimension scores and its Gold total, from the raw figures."""
    first = next(iter(results.values()))
    rows = [PortfolioRow(name, "ok", engagement="2026", figures=key_figures(r, lang)) for name, r in results.items()]
    html = render_index(rows, first.catalogue, lang)
    parsed = parse(html)
    c = Check("index", first, lang)
    no_stats = "no statistics" if lang == "en" else "geen statistieken"
    for (name, r), row in zip(results.items(), parsed.tables[0][2:]):
        prof = r.profile_in().set_index("dimension")
        dims = [d.id for d in r.catalogue.dimensions]
        cells = row[4:4 + len(dims)]
        expected = [no_stats if shown(prof.loc[d, "score"]) is None else str(shown(prof.loc[d, "score"]))
                    for d in dims]
        c.same(f"index {name} scores", cells, expected)
        c.r = r
        c.gold_text(f"index {name}", row[4 + len(dims)])
        gold = r.labels.verdicts["gold"]
        gold_name = r.catalogue.labels.gold.name[lang]
        ready = present.words(lang)["ready_yes"]
        c.same(f"index {name} Gold ready", f"{gold_name}: {ready}" in row[4 + len(dims)], gold.ready)
    return c


# --- the tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", CLIENTS)
def test_every_figure_follows_the_one_rule(results, name, lang, tmp_path):
    c = check_client(name, results[name], lang, tmp_path)
    assert c.compared > 150
    assert c.problems == [], f"{len(c.problems)} of {c.compared} figures differ:\n" + "\n".join(c.problems[:40])


@pytest.mark.parametrize("lang", LANGS)
def test_the_portfolio_index_follows_the_one_rule(results, lang):
    c = check_index(results, lang)
    assert c.compared >= 2 * len(results)
    assert c.problems == [], "\n".join(c.problems[:40])


def _rounding(module):
    """A copy of the presentation layer that rounds to nearest instead of flooring."""
    shim = types.SimpleNamespace(**{k: getattr(present, k) for k in dir(present) if not k.startswith("__")})

    def rounded(x):
        s = present.shown_percentile(x)
        return None if s is None else int(round(float(x)))

    shim.shown_percentile = rounded
    shim.percentile_number = lambda x, lang: DASH if rounded(x) is None else str(rounded(x))
    shim.dimension_score = shim.peer_median = shim.percentile_number
    shim.percentile = lambda x, lang, long=False: DASH if rounded(x) is None else f"P{rounded(x)}"
    shim.gold_total = lambda x, lang: DASH if rounded(x) is None else f"{rounded(x)}%"
    shim.band = lambda x, catalogue, lang: present.band(x, catalogue, lang)
    return shim


@pytest.mark.parametrize("module", ["auditlib.charts", "auditlib.report.view", "auditlib.report.view_sections",
                                    "auditlib.console", "auditlib.interpret", "auditlib.portfolio"])
def test_a_renderer_that_rounds_is_caught(results, module, monkeypatch, tmp_path):
    import importlib

    mod = importlib.import_module(module)
    monkeypatch.setattr(mod, "present", _rounding(mod))
    if module == "auditlib.interpret":
        mod.commentary_env.cache_clear()
        mod.phrases.cache_clear()
    chosen = {k: results[k] for k in ("nl-delta-water", "gold-79.8")}
    problems = []
    try:
        for name, result in chosen.items():
            problems += check_client(name, result, "en", tmp_path).problems
        problems += check_index(chosen, "en").problems
    finally:
        if module == "auditlib.interpret":
            mod.commentary_env.cache_clear()
            mod.phrases.cache_clear()
    assert problems, f"rounding in {module} went unnoticed"


def test_excel_that_rounds_is_caught(results, monkeypatch, tmp_path):
    monkeypatch.setattr(present, "shown_percentile", lambda x: None if x != x or x is None else int(round(x)))
    c = Check("nl-delta-water", results["nl-delta-water"], "en")
    c.excel(tmp_path / "x.xlsx")
    assert c.problems


def test_gold_total_just_below_80_never_reads_80(results):
    for name in ("gold-79.8", "gold-79.5"):
        r = results[name]
        for lang in LANGS:
            view = ReportView.from_result(r, lang)
            text = view.summary().html + view.label_summary().html + view.interpretation.to_markdown()
            said = re.findall(r"(?:total score|totaalscore)(?: is)? (\d+)%", unescape(text))
            assert said and set(said) == {"79"}, said
            assert not r.labels.verdicts["gold"].ready
            text = console.score_summary(r)
            assert "total score 79%" in text

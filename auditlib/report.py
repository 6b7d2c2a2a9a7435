"""The engagement run: execute the report notebook and write every output safely.

CONTRACT (implemented by the report work; `auditlib run`, the batch and `make demo` rely on it):

    RunOutcome                 frozen dataclass below
    run_engagement(client, *, settings=None, engagement=None, lang="en", groups=None,
                   formats=("html", "pdf", "xlsx"), outputs_dir=None, cell_timeout=600,
                   extra_parameters=None) -> RunOutcome
        Never raises for a failing client: the outcome says "failed", with the reason and the
        kept failed notebook. Raises ParameterError only for a refused client id (e.g. one that
        would escape outputs/).
    input_hashes(client_dir, settings) -> dict[str, str]   SHA-256 of every input (for --changed-only)

How a run works (`run_engagement`):

    1. check the arguments (client id, language, formats, peer groups, extra parameters) in
       this process, before any kernel starts: the caller's mistakes raise ParameterError;
    2. execute notebooks/audit_report.ipynb in-process with papermill's API, in a build
       folder next to the target (outputs/<client>/.<engagement>.<random>.tmp/); the kernel
       writes scores.xlsx and a small run-info.json from the very AuditResult the report shows;
    3. export report.html in-process with nbconvert (our `report` template: code hidden by cell
       tags through TagRemovePreprocessor, images as data: URIs, no script, no external URL)
       and render report.pdf from that HTML with WeasyPrint;
    4. write manifest.json last (parameters, SHA-256 of every input and output, versions,
       timings), then swap the build folder into outputs/<client>/<engagement>/ (old one renamed
       aside, new one renamed in, old one deleted), so a good report is never replaced by a
       partial one.

A failing run keeps its notebook, with papermill's error cell, in
outputs/<client>/<engagement>.failed/report.ipynb (replaced by the next failure, removed by
the next success) and returns RunOutcome(status="failed", error="cell N (...): Name: message").

Why WeasyPrint for the PDF: it is pip-installable (pure Python on top of the system's pango),
needs no browser download (unlike nbconvert's webpdf/playwright), runs offline, and honours
print CSS (A4 pages, page breaks, page numbers), so the PDF is made from the very HTML the
client gets.

The notebook side (imported in the kernel; keep this module's imports light): the report's
word list, number formatting, `validate_parameters` (the first cell after papermill's
injection) and `ReportView`, which turns one AuditResult into the escaped HTML fragments and
charts the notebook displays.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html as _html
import json
import math
import os
import re
import shutil
import tempfile
import time
import types
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from auditlib.config import PACKAGE_ROOT, REPO_ROOT, Settings
from auditlib.errors import AuditError, ParameterError

LANGUAGES = ("en", "nl")
FORMATS = ("html", "pdf", "xlsx")
CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
NOTEBOOK = REPO_ROOT / "notebooks" / "audit_report.ipynb"
TEMPLATES = PACKAGE_ROOT / "templates"
TEMPLATE_DIR = TEMPLATES / "report"
RUN_INFO = "run-info.json"
REPORT_TEMPLATE_DIRS = ("report", "commentary")   # the templates under auditlib/templates a report uses
OUTPUT_FILES = {"ipynb": "report.ipynb", "html": "report.html", "pdf": "report.pdf", "xlsx": "scores.xlsx"}
# Cell tags: every code cell hides its input; cells that show nothing are removed whole.
REMOVE_INPUT_TAGS = frozenset({"remove_input", "hide-input"})
REMOVE_CELL_TAGS = frozenset({"remove_cell", "injected-parameters", "parameters"})
HANDLES_SHOWN = 10                        # handles in the report's table (all are in scores.xlsx)
# The kernel's own log (transport warnings, the interrupt at shutdown) is noise for the CLI user;
# a failing cell or a dead kernel is reported through the outcome, not this log.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


@dataclass(frozen=True)
class RunOutcome:
    client_id: str
    engagement: str
    status: str                      # "ok" | "failed" | "skipped"
    out_dir: Path | None = None      # outputs/<client>/<engagement>/ when ok
    failed_notebook: Path | None = None
    error: str | None = None         # one line: which cell failed and why, or what was refused
    seconds: float = 0.0
    manifest: dict = field(default_factory=dict)


# --- words and numbers ----------------------------------------------------------------------

@lru_cache(maxsize=1)
def _all_words() -> dict:
    import yaml

    return yaml.safe_load((TEMPLATE_DIR / "words.yaml").read_text(encoding="utf-8"))


def words(lang: str) -> dict:
    """The report's fixed words in one language (headings, captions, table heads)."""
    if lang not in LANGUAGES:
        raise ParameterError(f"'{lang}' is not a report language; expected one of {', '.join(LANGUAGES)}")
    return _all_words()[lang]


def fmt_number(x: Any, lang: str = "en", decimals: int | None = None) -> str:
    """A number for the reader: thousands separators, decimal comma in Dutch, '–' for missing."""
    if x is None:
        return "–"
    x = float(x)
    if math.isnan(x):
        return "–"
    if decimals is None:
        decimals = 0 if abs(x - round(x)) < 1e-9 or abs(x) >= 100 else 1
    text = f"{x:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")
    if lang == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_value(ind, x: Any, lang: str = "en") -> str:
    """An indicator value as the report shows it (yes/no, level, share with %, number)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if ind.kind == "yes_no":
        return words(lang)["yes"] if float(x) >= 0.5 else words(lang)["no"]
    if ind.kind == "ordinal":
        return f"{int(round(float(x)))}"
    if ind.kind == "share":
        return f"{fmt_number(x, lang)}%"
    return fmt_number(x, lang)


# --- parameters (the first cell after papermill's injection) -------------------------------

# name: (accepted types, default, what it is). The notebook's `parameters` cell holds the same
# names and defaults (a test keeps them in agreement).
PARAMETERS: dict[str, tuple[tuple[type, ...], Any, str]] = {
    "client_id": ((str,), "nl-delta-water", "the client folder's name in the clients folder"),
    "lang": ((str,), "en", "report language: en or nl"),
    "peer_groups": ((str, list, tuple), "", "comma-separated peer groups, or a list; '' = catalogue default"),
    "benchmark": ((str,), "", "the benchmark file; '' = the default"),
    "earlier_audit": ((str, int), "", "the earlier audit to compare with: a year, a file, 'none'; "
                                      "'' = the latest in the client's earlier/ folder"),
    "engagement_id": ((str,), "", "the engagement's name; '' = the benchmark year"),
    "engagement_date": ((str,), "", "the engagement's date, YYYY-MM-DD; '' = none shown"),
    "anonymity_floor": ((int,), 0, "anonymity floor; 0 = the catalogue's (never below 5)"),
    "data_dir": ((str,), "", "data folder; '' = the default"),
    "catalogue_dir": ((str,), "", "catalogue folder; '' = <data>/catalogue"),
    "clients_dir": ((str,), "", "clients folder; '' = <data>/clients"),
    "export_dir": ((str,), "", "folder for scores.xlsx and run-info.json; '' = write nothing"),
    "excel": ((bool,), False, "write scores.xlsx into export_dir"),
}
# Names every IPython namespace holds besides the user's.
_IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})
_LITERAL_TYPES = (str, int, float, bool, list, tuple, dict, type(None))


@dataclass(frozen=True)
class ReportParameters:
    """The validated, resolved parameters of one report."""

    client_id: str
    lang: str
    groups: tuple[str, ...]
    earlier_audit: str
    engagement_id: str
    engagement_date: str
    anonymity_floor: int | None
    settings: Settings
    client_dir: Path
    export_dir: Path | None
    excel: bool
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def split_groups(value: str | Sequence[str]) -> list[str]:
    """Peer groups from a list or a comma-separated string.

    A custom group's own commas stay with it: 'all,field,mine=field:ict|food,country:NL' is
    ['all', 'field', 'mine=field:ict|food,country:NL'].
    """
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    out: list[str] = []
    for part in str(value).split(","):
        part = part.strip()
        if not part:
            continue
        if out and "=" in out[-1] and ":" in part and "=" not in part:
            out[-1] += "," + part
        else:
            out.append(part)
    return out


def _check_groups(groups: list[str], problems: list[str]) -> None:
    from auditlib.peers import BUILT_IN, parse_custom

    seen = set()
    for g in groups:
        key = g.partition("=")[0].strip()
        if "=" in g:
            try:
                parse_custom(g)
            except ParameterError as exc:
                problems.append(f"peer_groups: {exc}")
        elif g not in BUILT_IN:
            problems.append(f"peer_groups: unknown peer group '{g}' (expected one of {', '.join(BUILT_IN)} "
                            f"or a custom group 'name=column:value[|value],...')")
        if key in seen:
            problems.append(f"peer_groups: '{key}' is asked for twice")
        seen.add(key)


def _earlier_choice(value: str, client_dir: Path, problems: list[str]) -> None:
    if value in ("", "none"):
        return
    if re.fullmatch(r"\d{4}", value):
        found = [p for p in (client_dir / "earlier").glob(f"{value}.*")
                 if p.is_file() and not p.name.endswith(".profile.csv")]
        if not found:
            have = sorted(p.stem for p in (client_dir / "earlier").glob("*.*")
                          if re.fullmatch(r"\d{4}", p.stem)) if (client_dir / "earlier").is_dir() else []
            problems.append(f"earlier_audit: no earlier audit of {value} in {client_dir / 'earlier'} "
                            f"(found: {', '.join(have) or 'none'})")
        return
    if not Path(value).is_file():
        problems.append(f"earlier_audit: '{value}' is neither a year, 'none', nor an existing file")


def validate_parameters(namespace: Mapping[str, Any], *, check_client: bool = True) -> ReportParameters:
    """Check the report parameters and resolve them; raise ParameterError listing every problem.

    `namespace` is the notebook's globals() after papermill's injection (papermill only warns
    on unknown parameters: here they are refused), or a plain dict of parameters. Names that
    start with '_', IPython's own names, modules and other non-literal objects are not
    parameters.
    """
    values = {name: default for name, (_types, default, _doc) in PARAMETERS.items()}
    problems: list[str] = []
    for name, value in namespace.items():
        if name.startswith("_") or name in _IPYTHON_NAMES or isinstance(value, types.ModuleType):
            continue
        if not isinstance(value, _LITERAL_TYPES):
            continue
        if name not in PARAMETERS:
            problems.append(f"unknown parameter '{name}' (known: {', '.join(PARAMETERS)})")
            continue
        values[name] = value
    for name, (accepted, _default, doc) in PARAMETERS.items():
        value = values[name]
        ok = isinstance(value, accepted) and not (isinstance(value, bool) and bool not in accepted)
        if not ok:
            kinds = " or ".join(t.__name__ for t in accepted)
            problems.append(f"{name}: expected {kinds}, got {type(value).__name__} {value!r} ({doc})")
            values[name] = _default          # the value checks below then see the default

    lang = values["lang"]
    if lang not in LANGUAGES:
        problems.append(f"lang: '{lang}' is not a report language (expected one of {', '.join(LANGUAGES)})")
    client_id = values["client_id"]
    if not CLIENT_ID.fullmatch(client_id or ""):
        problems.append(f"client_id: '{client_id}' is not a client id (letters, digits, '.', '_', '-'; "
                        f"starting with a letter or digit)")
    engagement = values["engagement_id"]
    if engagement and not CLIENT_ID.fullmatch(engagement):
        problems.append(f"engagement_id: '{engagement}' is not a usable folder name (letters, digits, "
                        f"'.', '_', '-')")
    date = values["engagement_date"]
    if date:
        try:
            _dt.date.fromisoformat(date)
        except ValueError:
            problems.append(f"engagement_date: '{date}' is not a date (expected YYYY-MM-DD)")
    floor = values["anonymity_floor"]
    from auditlib.catalogue import MIN_ANONYMITY_FLOOR

    if floor and floor < MIN_ANONYMITY_FLOOR:
        problems.append(f"anonymity_floor: {floor} is below the minimum of {MIN_ANONYMITY_FLOOR} "
                        f"(0 = the catalogue's floor)")
    for name in ("data_dir", "catalogue_dir", "clients_dir"):
        if values[name] and not Path(values[name]).is_dir():
            problems.append(f"{name}: no such folder '{values[name]}'")
    if values["benchmark"] and not Path(values["benchmark"]).is_file():
        problems.append(f"benchmark: no such file '{values['benchmark']}'")
    if values["export_dir"] and not Path(values["export_dir"]).is_dir():
        problems.append(f"export_dir: no such folder '{values['export_dir']}'")
    groups = split_groups(values["peer_groups"])
    _check_groups(groups, problems)
    settings = Settings.from_env(data_dir=values["data_dir"] or None,
                                 catalogue_dir=values["catalogue_dir"] or None,
                                 clients_dir=values["clients_dir"] or None,
                                 benchmark_path=values["benchmark"] or None)
    client_dir = settings.clients_dir / client_id
    if check_client and CLIENT_ID.fullmatch(client_id or ""):
        if not client_dir.is_dir():
            known = sorted(p.name for p in settings.clients_dir.iterdir()
                           if p.is_dir() and not p.name.startswith((".", "_"))) \
                if settings.clients_dir.is_dir() else []
            problems.append(f"client_id: no client '{client_id}' in {settings.clients_dir}"
                            + (f" (known: {', '.join(known)})" if known else ""))
        else:
            _earlier_choice(str(values["earlier_audit"]).strip(), client_dir, problems)
    if problems:
        _raise(problems)
    return ReportParameters(
        client_id=client_id, lang=lang, groups=tuple(groups),
        earlier_audit=str(values["earlier_audit"]).strip(), engagement_id=engagement,
        engagement_date=date, anonymity_floor=floor or None, settings=settings, client_dir=client_dir,
        export_dir=Path(values["export_dir"]) if values["export_dir"] else None, excel=values["excel"],
        raw=dict(values))


def _raise(problems: list[str]) -> None:
    n = len(problems)
    raise ParameterError(f"{n} invalid report parameter{'s' if n > 1 else ''}: " + "; ".join(problems))


# --- the notebook's view of one result ------------------------------------------------------

class Fragment:
    """An HTML fragment for display(): HTML in the report, plain text for nbval and consoles."""

    def __init__(self, html: str, text: str = ""):
        self.html, self.text = str(html), text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text or "<report fragment>"


class Chart:
    """A rendered chart for display(): an SVG (byte-stable, vector in print) with its alt text."""

    def __init__(self, svg: str, alt: str):
        self.svg, self.alt = svg, alt

    def _repr_svg_(self):
        return self.svg, {"alt": self.alt}

    def __repr__(self) -> str:
        return f"<chart: {self.alt}>"


@lru_cache(maxsize=1)
def _fragments():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False)
    return env.get_template("fragments.html.j2").module


def _country_name(code: str, lang: str) -> str:
    try:
        import pycountry

        country = pycountry.countries.get(alpha_2=code)
        if country is None:
            return code
        name = country.name
        if lang != "en":
            import gettext

            name = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang],
                                       fallback=True).gettext(name)
        return f"{name} ({code})"
    except Exception:  # an unknown or odd code is shown as given
        return code


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


class ReportView:
    """One engagement's report content: loads the inputs, runs the analysis, renders fragments.

    Every method returns something for display(): a Fragment (escaped HTML built from
    fragments.html.j2 with autoescape), a Chart, or IPython Markdown. No figure is computed
    here: everything shown comes from the AuditResult and the interpretation.
    """

    def __init__(self, params: ReportParameters):
        t0 = time.perf_counter()
        from auditlib.audit import analyse
        from auditlib.benchmark import load_benchmark
        from auditlib.catalogue import load_catalogue
        from auditlib.intake import load_client

        self.params = params
        self.lang = params.lang
        self.w = words(params.lang)
        s = params.settings
        self.catalogue = load_catalogue(s.catalogue_dir)
        self.benchmark = load_benchmark(s.benchmark_path, self.catalogue)
        folder = load_client(params.client_dir, self.catalogue)
        self.folder = self._choose_earlier(folder)
        self.result = analyse(self.folder, catalogue=self.catalogue, benchmark=self.benchmark,
                              groups=list(params.groups) or None, anonymity_floor=params.anonymity_floor)
        self.interpretation = _interpret(self.result, self.lang)
        self.timings: dict[str, float] = {"analysis": time.perf_counter() - t0}
        self._chart_seconds = 0.0

    # -- inputs ---------------------------------------------------------------------------
    def _choose_earlier(self, folder):
        from dataclasses import replace

        choice = self.params.earlier_audit
        if choice == "":
            return folder
        if choice == "none":
            return replace(folder, earlier=())
        if re.fullmatch(r"\d{4}", choice):
            year = int(choice)
            kept = tuple(e for e in folder.earlier if e.benchmark_year <= year)
            if not kept or kept[-1].benchmark_year != year:
                raise ParameterError(f"earlier_audit: no valid earlier audit of {year} for {folder.client_id}")
            return replace(folder, earlier=kept)
        from auditlib.intake import read_questionnaire

        earlier = read_questionnaire(Path(choice), self.catalogue, folder.client_id)
        if earlier.benchmark_year >= folder.profile.benchmark_year:
            raise ParameterError(f"earlier_audit: {choice} describes {earlier.benchmark_year}, not a year "
                                 f"before {folder.profile.benchmark_year}")
        return replace(folder, earlier=(earlier,))

    # -- helpers --------------------------------------------------------------------------
    def _ind(self, iid: str):
        return self.catalogue.indicator(iid)

    def _name(self, iid: str) -> str:
        return self._ind(iid).name[self.lang]

    def _pct(self, x) -> str:
        return fmt_number(x, self.lang, 0)

    def _status(self, status: str) -> str:
        return self.w["status"].get(status, status).format(floor=self.result.anonymity_floor)

    def _group(self, requested: str | None = None):
        return self.result.group(requested or self.result.primary_group)

    def _group_short(self, requested: str) -> str:
        short = {"en": {"all": "All", "field": "Field", "country": "Country", "eu": "EU",
                        "age_band": "Age band", "gold": "Gold"},
                 "nl": {"all": "Alle", "field": "Veld", "country": "Land", "eu": "EU",
                        "age_band": "Leeftijd", "gold": "Goud"}}[self.lang]
        return short.get(requested, requested)

    def _label_name(self, label: str) -> str:
        return getattr(self.catalogue.labels, label).name[self.lang]

    def heading(self, key: str, anchor: str | None = None, **fmt) -> Fragment:
        text = self.w[key].format(**fmt)
        return Fragment(_fragments().heading(text, anchor or key, 2, "section"), text)

    def intro(self, key: str, **fmt) -> Fragment:
        text = self.w[key].format(**fmt)
        return Fragment(_fragments().intro(text), text)

    def chart(self, fig, alt: str = "") -> Chart | Fragment:
        """Render a Figure to a byte-stable SVG and let it go (charts never use pyplot)."""
        if fig is None:
            return Fragment("", "")
        from auditlib.charts import to_svg

        t0 = time.perf_counter()
        svg = to_svg(fig)
        alt = alt or fig.get_label()
        fig.clear()
        self._chart_seconds += time.perf_counter() - t0
        return Chart(svg, alt)

    # -- sections -------------------------------------------------------------------------
    def cover(self) -> Fragment:
        w, c, r = self.w, self.result.client, self.result
        wc = w["cover"]
        field = self.catalogue.fields.get(c.field)
        facts = [
            (wc["country"], _country_name(c.country, self.lang)),
            (wc["field"], field.name[self.lang] if field else c.field),
            (wc["founded"], f"{c.founding_year} ({w['years'].format(n=c.age)})"),
            (wc["benchmark_year"], str(c.benchmark_year)),
            (wc["region"], c.region),
            (wc["contact"], c.contact),
        ]
        engagement = self.params.engagement_id or str(c.benchmark_year)
        facts.append((wc["engagement"], engagement))
        if self.params.engagement_date:
            facts.append((wc["engagement_date"], self.params.engagement_date))
        if r.evolution is not None:
            facts.append((wc["earlier_audit"], str(r.evolution.earlier_year)))
        facts.append((wc["catalogue"], f"{self.catalogue.name} {self.catalogue.version}"))
        facts.append((wc["benchmark"], r.benchmark_version))
        data = {"title": w["report_title"], "name": c.name, "subtitle": w["report_subtitle"], "facts": facts,
                "confidential": w["confidential"].format(name=c.name)}
        text = f"{w['report_title']}: {c.name}"
        return Fragment(_fragments().cover(data), text)

    def summary(self) -> Fragment:
        w, r = self.w, self.result
        g = self._group()
        prof = r.profile_in().set_index("dimension")
        dims = [(d.name[self.lang], self._pct(prof.loc[d.id, "score"]), self._pct(prof.loc[d.id, "peer_median"]))
                for d in self.catalogue.dimensions if d.id in prof.index]
        labels = []
        for key, v in r.labels.verdicts.items():
            detail = w["criteria_of"].format(passed=v.passed, total=v.total)
            if v.total_score is not None:
                detail += "; " + w["total_score_short"].format(score=fmt_number(v.total_score, self.lang, 0))
            labels.append((self._label_name(key), w["ready_yes"] if v.ready else w["ready_no"], v.ready, detail))
        evolution = ""
        if r.evolution is not None:
            evolution = w["summary_evolution"].format(year=r.evolution.earlier_year,
                                                      improved=len(r.evolution.improved),
                                                      declined=len(r.evolution.declined))
        data = {
            "title": w["summary"], "intro": w["summary_intro"].format(group=g.name(self.lang), n=g.n),
            "dimensions_title": w["summary_dimensions"], "dimension": w["dimension"], "score": w["score"],
            "peer_median": w["peer_median"], "dimensions": dims,
            "strengths_title": w["summary_strengths"], "weaknesses_title": w["summary_weaknesses"],
            "strengths": [(self._name(x.indicator), self._pct(x.percentile)) for x in r.strengths.itertuples()],
            "weaknesses": [(self._name(x.indicator), self._pct(x.percentile)) for x in r.weaknesses.itertuples()],
            "none": w["none"], "labels_title": w["summary_labels"], "labels": labels, "evolution": evolution,
        }
        return Fragment(_fragments().summary(data), self.label_text())

    def profile(self) -> Fragment:
        """The questionnaire's answers by dimension, as given (context indicators included)."""
        w, c = self.w, self.result.client
        f = _fragments()
        head = [(w["indicator"], ""), (w["value"], "num"), ("", "unit")]
        rows = []
        for d in self.catalogue.dimensions:
            rows.append({"cells": [(d.name[self.lang], "")], "cls": "group-row", "span": 3})
            for ind in self.catalogue.in_dimension(d.id):
                value = c.answers.get(ind.id)
                name = ind.name[self.lang] + ("" if ind.scored else " *")
                unit = "" if ind.kind in ("yes_no", "share") else ind.unit[self.lang]
                rows.append({"cells": [(name, ""), (fmt_value(ind, value, self.lang) if value is not None
                                                    else w["status"]["not_answered"],
                                                    "num" if value is not None else "num muted"),
                                       (unit, "unit")]})
        n = len(c.answers)
        notes = [w["answered"].format(answered=n - len(c.missing), total=n), f"* {w['status']['context']}"]
        html = _fragments().heading(w["profile"], "profile") + f.block("", "", w["profile_intro"], head, rows, notes,
                                                                       cls="data dense")
        return Fragment(html, w["profile"])

    def dimension_table(self) -> Fragment:
        w, r = self.w, self.result
        matrix = r.dimension_matrix()
        groups = [g.requested for g in r.peer_groups]
        prof = r.profile_in().set_index("dimension")
        head = [(w["dimension"], "")] + [(self._group_short(g), "num") for g in groups] + \
               [(w["peer_median"], "num"), (w["coverage"], "num")]
        rows = []
        for d in self.catalogue.dimensions:
            if d.id not in matrix.index:
                continue
            cells = [(d.name[self.lang], "")]
            cells += [(self._pct(matrix.loc[d.id, g]), "num strong" if g == r.primary_group else "num")
                      for g in groups]
            p = prof.loc[d.id]
            cells += [(self._pct(p["peer_median"]), "num"), (f"{int(p['answered'])}/{int(p['scored'])}", "num")]
            rows.append({"cells": cells})
        notes = [self._groups_legend()]
        html = _fragments().block("", "", "", head, rows, notes)
        return Fragment(html, matrix.to_string())

    def _groups_legend(self) -> str:
        parts = []
        for g in self.result.peer_groups:
            text = f"{self._group_short(g.requested)}: {g.name(self.lang)}, n = {g.n}"
            if not g.available:
                text = f"{self._group_short(g.requested)}: {self.w['no_statistics']}"
            parts.append(text)
        primary = self._group_short(self.result.primary_group)
        return "; ".join(parts) + f". {self.w['peer_median']}: {primary}."

    def positions_intro(self) -> Fragment:
        text = self.w["positions_intro"].format(group=self._group().name(self.lang))
        return Fragment(_fragments().intro(text), text)

    def dimension_heading(self, dimension: str) -> Fragment:
        d = self.catalogue.dimension(dimension)
        return Fragment(_fragments().heading(d.name[self.lang], f"dim-{d.id}", 3, "sub dimension"),
                        d.name[self.lang])

    def positions_table(self, dimension: str) -> Fragment:
        w, r = self.w, self.result
        pos = r.positions_in().set_index("indicator")
        bands = {b.id: b.name[self.lang] for b in self.catalogue.peers.bands}
        head = [(w["indicator"], ""), (w["value"], "num"), (w["median"], "num"), (w["middle_half"], "num"),
                (w["percentile"], "num"), (w["band"], "")]
        rows = []
        for ind in self.catalogue.in_dimension(dimension):
            p = pos.loc[ind.id]
            value = fmt_value(ind, p["value"], self.lang)
            if p["median"] == p["median"] and ind.kind != "yes_no":
                median = fmt_value(ind, p["median"], self.lang)
                middle = f"{fmt_value(ind, p['p25'], self.lang)} – {fmt_value(ind, p['p75'], self.lang)}"
            else:
                median = middle = "–"
            if p["status"] == "ok":
                pct, band = self._pct(p["percentile"]), bands.get(p["band"], "")
                cells = [(ind.name[self.lang], ""), (value, "num"), (median, "num"), (middle, "num"),
                         (pct, "num strong"), (band, "")]
            else:
                cells = [(ind.name[self.lang], ""), (value, "num"), (median, "num"), (middle, "num"),
                         ("–", "num"), (self._status(p["status"]), "muted")]
            rows.append({"cells": cells})
        return Fragment(_fragments().block("", "", "", head, rows), f"positions {dimension}")

    def peer_comparison(self) -> Fragment:
        w, r = self.w, self.result
        groups = list(r.peer_groups)
        head = [(w["indicator"], "")] + [(self._group_short(g.requested) + ("*" if g.fallback_from else ""), "num")
                                         for g in groups]
        table = r.positions.pivot(index="indicator", columns="group", values="percentile")
        rows = []
        for d in self.catalogue.dimensions:
            inds = [i for i in self.catalogue.in_dimension(d.id) if i.scored]
            if not inds:
                continue
            rows.append({"cells": [(d.name[self.lang], "")], "cls": "group-row", "span": len(groups) + 1})
            for ind in inds:
                cells = [(ind.name[self.lang], "")]
                for g in groups:
                    x = table.loc[ind.id, g.requested]
                    cells.append((self._pct(x), "num strong" if g.requested == r.primary_group else "num"))
                rows.append({"cells": cells})
        notes = [self._groups_legend()]
        fallbacks = [g for g in groups if g.fallback_from]
        if fallbacks:
            notes.append("* " + "; ".join(self._fallback_text(g) for g in fallbacks))
        html = (_fragments().heading(w["peers"], "peers")
                + _fragments().block("", "", w["peers_intro"].format(floor=r.anonymity_floor), head, rows, notes,
                                     cls="data dense"))
        return Fragment(html, w["peers"])

    def _fallback_text(self, g) -> str:
        from auditlib.peers import built_in_spec

        names = []
        for key in g.fallback_from:
            try:
                spec = built_in_spec(key, self.result.client, self.catalogue)
                names.append(spec.name_nl if self.lang == "nl" else spec.name_en)
            except ParameterError:
                names.append(key)
        if not g.available and not names:
            names = [g.name(self.lang)]
        floor = self.result.anonymity_floor
        if g.available:
            return self.w["fallback_used"].format(names=", ".join(names), floor=floor, used=g.name(self.lang))
        return self.w["fallback_none"].format(names=", ".join(names), floor=floor)

    def label_text(self) -> str:
        """Label readiness as plain text (the nbval-checked contract of the label cell)."""
        lines = []
        for key, v in self.result.labels.verdicts.items():
            score = f", total score {v.total_score:.0f}%" if v.total_score is not None else ""
            lines.append(f"{key}: {'ready' if v.ready else 'not yet'} ({v.passed}/{v.total} criteria{score})")
        return "\n".join(lines)

    def label_summary(self) -> Fragment:
        w, r = self.w, self.result
        gold_min = self.catalogue.labels.gold.total_score_min
        head = [(w["label"], ""), (w["ready"], ""), (w["criteria_passed"], "num"), (w["total_score"], "num")]
        rows = []
        for key, v in r.labels.verdicts.items():
            rows.append({"cells": [(self._label_name(key), "strong"),
                                   (w["ready_yes"] if v.ready else w["ready_no"], "ok" if v.ready else "open"),
                                   (f"{v.passed} / {v.total}", "num"),
                                   (f"{fmt_number(v.total_score, self.lang, 0)}%" if v.total_score is not None
                                    else "", "num")]})
        html = (_fragments().heading(w["labels"], "labels")
                + _fragments().block("", "", w["labels_intro"].format(gold_min=gold_min), head, rows))
        return Fragment(html, self.label_text())

    def label_criteria(self) -> Fragment:
        w, r = self.w, self.result
        crit = r.labels.criteria
        open_ = crit[~crit["passed"]]
        if open_.empty:
            return Fragment(_fragments().message(w["all_criteria_met"], "ok"), w["all_criteria_met"])
        merged: dict[str, dict] = {}
        for row in open_.itertuples():
            item = merged.setdefault(row.criterion, {"labels": [], "row": row})
            name = self._label_name(row.label)
            if name not in item["labels"]:
                item["labels"].append(name)
        head = [(w["label"], ""), (w["criterion"], ""), (w["requirement"], "num"), (w["value"], "num"),
                (w["distance"], "num")]
        rows = []
        for cid, item in merged.items():
            row = item["row"]
            if isinstance(row.indicator, str) and row.indicator in self.catalogue.by_id:
                ind = self._ind(row.indicator)
                op = "≥" if row.op == ">=" else "≤"
                requirement = f"{op} {fmt_value(ind, row.threshold, self.lang)}"
                value = fmt_value(ind, row.value, self.lang) if row.value is not None else \
                    w["status"]["not_answered"]
                distance = fmt_value(ind, row.distance, self.lang) if row.distance is not None and \
                    ind.kind not in ("yes_no",) else ""
                name = ind.name[self.lang]
            else:
                name = w.get(cid, cid)
                requirement = self._silver_requirement(row)
                value = fmt_number(row.value, self.lang) if row.value is not None else "–"
                distance = fmt_number(row.distance, self.lang) if row.distance is not None and \
                    row.distance == row.distance else ""
            rows.append({"cells": [(", ".join(item["labels"]), ""), (name, ""), (requirement, "num"),
                                   (value, "num"), (distance, "num")]})
        html = _fragments().block(w["open_criteria"], "open-criteria", "", head, rows)
        return Fragment(html, f"{len(rows)} open criteria")

    def _silver_requirement(self, row) -> str:
        if row.op == "in":
            return f"{fmt_number(row.threshold, self.lang)}–{fmt_number(row.target, self.lang)}"
        return f"≥ {fmt_number(row.threshold, self.lang)}"

    def evolution_heading(self) -> Fragment | None:
        evo = self.result.evolution
        if evo is None:
            return None
        w = self.w
        text = w["evolution"].format(year=evo.earlier_year)
        intro = w["evolution_intro"].format(then=evo.earlier_year, now=evo.current_year,
                                            group=self.result.group(evo.group).name(self.lang),
                                            noise=evo.noise_band)
        return Fragment(_fragments().heading(text, "evolution") + _fragments().intro(intro), text)

    def evolution_table(self) -> Fragment | None:
        evo = self.result.evolution
        if evo is None:
            return None
        w = self.w
        moved = evo.changes[evo.changes["trend"].isin(["improved", "declined"])]
        if moved.empty:
            return Fragment(_fragments().message(w["evolution_none"]), w["evolution_none"])
        head = [(w["indicator"], ""), (str(evo.earlier_year), "num"), (str(evo.current_year), "num"),
                (f"P {evo.earlier_year}", "num"), (f"P {evo.current_year}", "num"), (w["trend"], "")]
        rows = []
        for row in moved.itertuples():
            ind = self._ind(row.indicator)
            rows.append({"cells": [(ind.name[self.lang], ""), (fmt_value(ind, row.value_then, self.lang), "num"),
                                   (fmt_value(ind, row.value_now, self.lang), "num"),
                                   (self._pct(row.percentile_then), "num"), (self._pct(row.percentile_now), "num"),
                                   (w["trends"][row.trend], row.trend)]})
        html = _fragments().block("", "", "", head, rows)
        side = evo.labels_side_by_side(self.result.labels)
        head2 = [(w["label"], ""), (str(evo.earlier_year), ""), (str(evo.current_year), ""),
                 (w["criteria_passed"], "num")]
        rows2 = []
        for row in side.itertuples(index=False):
            d = row._asdict()
            then, now = d[f"ready_{evo.earlier_year}"], d[f"ready_{evo.current_year}"]
            rows2.append({"cells": [(self._label_name(row.label), "strong"),
                                    (w["ready_yes"] if then else w["ready_no"], "ok" if then else "open"),
                                    (w["ready_yes"] if now else w["ready_no"], "ok" if now else "open"),
                                    (f"{d[f'passed_{evo.earlier_year}']} → {d[f'passed_{evo.current_year}']} "
                                     f"/ {d['total']}", "num")]})
        html += _fragments().block(w["labels_then_now"], "labels-then-now", "", head2, rows2)
        return Fragment(html, f"{len(rows)} indicators moved")

    def interpretation_heading(self) -> Fragment:
        return self.heading("interpretation")

    def interpretation_markdown(self):
        """The interpretation as Markdown (its text is escaped by auditlib.interpret)."""
        from IPython.display import Markdown

        if self.interpretation is None:
            return Fragment(_fragments().message(self.w["interpretation_missing"]), self.w["interpretation_missing"])
        try:  # the handles and the auditor's notes have sections of their own in this report
            text = self.interpretation.to_markdown(handles=False, notes=False)
        except TypeError:
            text = self.interpretation.to_markdown()
        return Markdown(_demote_headings(_drop_title(text)))

    def notes(self) -> Fragment:
        w, notes = self.w, self.result.notes
        groups: list[tuple[str, list[list[str]]]] = []
        order = ["overall"] + [f"dimension:{d.id}" for d in self.catalogue.dimensions] + \
                [f"indicator:{i}" for i in self.catalogue.ids]
        for anchor in order:
            found = notes.for_anchor(anchor)
            if not found:
                continue
            kind, _, target = anchor.partition(":")
            title = w["notes_overall"] if kind == "overall" else \
                self.catalogue.dimension(target).name[self.lang] if kind == "dimension" else self._name(target)
            groups.append((title, [_paragraphs(n.text) for n in found]))
        data = {"title": w["notes"], "none": w["notes_none"], "groups": groups,
                "cls": "section" if groups else "section keep"}
        return Fragment(_fragments().notes(data), f"{sum(len(t) for _, t in groups)} notes")

    def handles(self) -> Fragment:
        w = self.w
        html = _fragments().heading(w["handles"], "handles")
        frame = getattr(self.interpretation, "handles", None)
        if frame is None or len(frame) == 0:
            return Fragment(html + _fragments().message(w["handles_none"]), w["handles_none"])
        head = [("#", "num"), (w["indicator"], ""), (w["value"], "num"), (w["percentile"], "num"),
                (w["target"], "num"), (w["action"], "")]
        shown = len(getattr(self.interpretation, "handle_items", None) or []) or HANDLES_SHOWN
        silver = set(getattr(self.interpretation, "silver_areas", None) or [])
        rows = []
        for k, row in enumerate(frame.head(shown).to_dict("records"), start=1):
            iid = row.get("indicator")
            ind = self._ind(iid) if iid in self.catalogue.by_id else None
            name = ind.name[self.lang] if ind else str(iid)
            value = fmt_value(ind, row.get("value"), self.lang) if ind else str(row.get("value", ""))
            target = fmt_value(ind, row.get("target"), self.lang) if ind and row.get("target") is not None else ""
            action = str(row.get("action") or "")
            rows.append({"cells": [(str(row.get("priority", k)), "num"),
                                   (name + (" ★" if iid in silver else ""), "strong"), (value, "num"),
                                   (self._pct(row.get("percentile")), "num"), (target, "num strong"),
                                   (action, "action")]})
        notes = [w["handles_silver"]] if silver else []
        if len(frame) > len(rows):
            key = "handles_more" if self.params.excel else "handles_more_hidden"
            notes.append(w[key].format(n=len(frame) - len(rows)))
        html += _fragments().block("", "", w["handles_intro"], head, rows, notes)
        return Fragment(html, f"{len(rows)} handles")

    def appendix(self) -> Fragment:
        w = self.w
        text = w["method"].format(floor=self.result.anonymity_floor)
        html = _fragments().heading(w["appendix"], "appendix") + \
            _fragments().heading(w["method_title"], "method", 3, "sub") + _fragments().paragraphs([text])
        return Fragment(html, w["appendix"])

    def peer_groups(self) -> Fragment:
        """The groups compared with, their n and fallbacks (the nbval-checked contract)."""
        w, r = self.w, self.result
        head = [(w["group"], ""), (w["used"], ""), (w["n"], "num"), (w["statistics"], ""), (w["fallback"], "")]
        rows, lines = [], []
        for g in r.peer_groups:
            rows.append({"cells": [(self._group_short(g.requested), "strong"), (g.name(self.lang), ""),
                                   (str(g.n) if g.available else f"< {self.result.anonymity_floor}", "num"), (w["yes"] if g.available else w["no"], ""),
                                   (self._fallback_text(g) if g.fallback_from or not g.available else "", "muted")]})
            lines.append(f"{g.requested}: used {g.key}, n={g.public_n}, statistics {'yes' if g.available else 'no'}"
                         + (f", fallback from {', '.join(g.fallback_from)}" if g.fallback_from else ""))
        html = _fragments().block(w["groups_title"], "groups", "", head, rows)
        return Fragment(html, "\n".join(lines))

    def provenance(self) -> Fragment:
        w, r = self.w, self.result
        from auditlib import __version__

        head = [(w["item"], ""), (w["version"], ""), (w["checksum"], "hash")]
        rows = [{"cells": [(w["cover"]["catalogue"], "strong"), (f"{self.catalogue.name} {self.catalogue.version}", ""),
                           ("", "hash")]}]
        for name, sha in sorted(self.catalogue.hashes.items()):
            rows.append({"cells": [(w["catalogue_file"].format(name=name), ""), ("", ""), (sha, "hash")]})
        rows.append({"cells": [(w["benchmark_file"], "strong"), (r.benchmark_version, ""),
                               (r.benchmark_sha256, "hash")]})
        rows.append({"cells": [(w["workbench"], "strong"), (__version__, ""), ("", "hash")]})
        html = _fragments().block(w["provenance_title"], "provenance", "", head, rows)
        return Fragment(html, "provenance")

    # -- side outputs ---------------------------------------------------------------------
    def export(self) -> dict:
        """Write scores.xlsx (if asked) and run-info.json into export_dir; return the run info."""
        info = self.run_info()
        out = self.params.export_dir
        if out is None:
            return info
        if self.params.excel:
            from auditlib.export import write_excel

            t0 = time.perf_counter()
            write_excel(self.result, out / OUTPUT_FILES["xlsx"], interpretation=self.interpretation, lang=self.lang)
            info["timings"]["xlsx"] = round(time.perf_counter() - t0, 3)
        (out / RUN_INFO).write_text(json.dumps(info, indent=1, sort_keys=True, default=str), encoding="utf-8")
        return info

    def _key_figures(self) -> dict:
        """The portfolio's figures for this client, from this very result (the batch index reads them)."""
        from auditlib.portfolio import key_figures

        handles = self.interpretation.handles if self.interpretation is not None else None
        return key_figures(self.result, lang=self.lang, handles=handles)

    def run_info(self) -> dict:
        r, c = self.result, self.result.client
        return {
            "client": {"id": c.client_id, "name": c.name, "benchmark_year": c.benchmark_year,
                       "source": str(c.source)},
            "earlier": [{"year": e.benchmark_year, "source": str(e.source)} for e in self.folder.earlier],
            "compared_with": r.evolution.earlier_year if r.evolution is not None else None,
            "notes": str(self.folder.notes_path) if self.folder.notes_path else None,
            "catalogue": {"name": self.catalogue.name, "version": self.catalogue.version,
                          "directory": str(self.catalogue.directory), "files": dict(self.catalogue.hashes)},
            "benchmark": {"version": r.benchmark_version, "sha256": r.benchmark_sha256,
                          "path": str(self.benchmark.path)},
            "anonymity_floor": r.anonymity_floor,
            "primary_group": r.primary_group,
            "peer_groups": [{"group": g.requested, "used": g.key, "n": g.public_n, "statistics": g.available}
                            for g in r.peer_groups],
            "labels": {k: {"ready": v.ready, "passed": v.passed, "total": v.total, "total_score": v.total_score}
                       for k, v in r.labels.verdicts.items()},
            "interpretation": self.interpretation is not None,
            "key_figures": self._key_figures(),
            "timings": {"analysis": round(self.timings.get("analysis", 0.0), 3),
                        "charts": round(self._chart_seconds, 3)},
        }


def _interpret(result, lang: str):
    """The interpretation, or None while auditlib.interpret is not there yet (a clear fallback)."""
    try:
        from auditlib.interpret import interpret
    except ImportError:
        return None
    try:
        return interpret(result, lang)
    except NotImplementedError:
        return None


def _drop_title(markdown: str) -> str:
    """Drop a leading top-level '# title' line: the report's own section heading replaces it."""
    lines = markdown.lstrip("\n").splitlines()
    if lines and re.match(r"^#\s", lines[0]):
        lines = lines[1:]
    return "\n".join(lines).strip() + "\n"


def _demote_headings(markdown: str) -> str:
    """Put the interpretation's headings below the report's section heading (# -> ###)."""
    out, fenced = [], False
    top = min((len(m.group(1)) for m in re.finditer(r"^(#{1,6})\s", markdown, re.M)), default=3)
    shift = max(0, 3 - top)
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and shift and re.match(r"^#{1,6}\s", line):
            line = "#" * shift + line
        out.append(line)
    return "\n".join(out)


# --- hashing ----------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> Iterable[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith((".", "~$", "__pycache__")) for part in p.relative_to(folder).parts))


def input_hashes(client_dir: str | Path, settings: Settings | None = None) -> dict[str, str]:
    """SHA-256 of every input of one client's report, keyed by a stable name.

    client/<file>      every file of the client folder (questionnaire, profile, earlier audits, notes)
    catalogue/<file>   every file of the catalogue folder
    benchmark/<file>   the benchmark file and its .meta.yaml sidecar
    notebook/<file>    the report notebook
    template/<file>    the report and commentary templates (auditlib/templates/report, .../commentary)
    Two runs with equal input hashes (and the same auditlib version) give the same report.
    """
    settings = settings or Settings.from_env()
    client_dir = Path(client_dir)
    out: dict[str, str] = {}
    for p in _files(client_dir):
        out[f"client/{p.relative_to(client_dir).as_posix()}"] = sha256_file(p)
    for p in _files(settings.catalogue_dir):
        out[f"catalogue/{p.relative_to(settings.catalogue_dir).as_posix()}"] = sha256_file(p)
    bench = Path(settings.benchmark_path)
    for p in (bench, bench.with_name(bench.stem + ".meta.yaml")):
        if p.is_file():
            out[f"benchmark/{p.name}"] = sha256_file(p)
    if NOTEBOOK.is_file():
        out[f"notebook/{NOTEBOOK.name}"] = sha256_file(NOTEBOOK)
    for folder in REPORT_TEMPLATE_DIRS:
        for p in _files(TEMPLATES / folder):
            out[f"template/{p.relative_to(TEMPLATES).as_posix()}"] = sha256_file(p)
    return out


# --- HTML and PDF -------------------------------------------------------------------------------

_FORBIDDEN_TAGS = frozenset({"script", "iframe", "frame", "object", "embed", "link", "base", "applet", "form",
                             "svg", "math", "audio", "video", "source", "track"})
_URL_ATTRS = frozenset({"src", "href", "srcset", "data", "action", "formaction", "poster", "background",
                        "xlink:href", "cite", "longdesc", "ping"})
_CSS_URL = re.compile(r"url\(\s*['\"]?(?!data:)|@import|expression\(", re.I)


def check_html(html: str) -> list[str]:
    """Problems that make a report unfit to send: scripts, event handlers, external resources.

    The page is parsed (not searched as text), so an escaped '<script>' in a cluster's name is
    text and passes, while any real script tag, on* attribute, or URL that is not a data: URI
    or an in-page '#anchor' is a problem. The exporter refuses a report with any problem.
    """
    from html.parser import HTMLParser

    problems: list[str] = []

    class Checker(HTMLParser):
        in_style = False

        def handle_starttag(self, tag, attrs):
            if tag in _FORBIDDEN_TAGS or (tag == "meta" and any(k == "http-equiv" for k, _ in attrs)):
                problems.append(f"<{tag}> element")
            self.in_style = tag == "style"
            for key, value in attrs:
                value = (value or "").strip()
                if key.startswith("on"):
                    problems.append(f"event handler attribute {key!r} on <{tag}>")
                elif key in _URL_ATTRS and value and not value.startswith(("data:", "#")):
                    problems.append(f"external resource {value[:60]!r} in <{tag} {key}>")
                elif key == "style" and _CSS_URL.search(value):
                    problems.append(f"external resource in the style of <{tag}>")

        def handle_startendtag(self, tag, attrs):
            self.handle_starttag(tag, attrs)
            self.in_style = False

        def handle_endtag(self, tag):
            self.in_style = False

        def handle_data(self, data):
            if self.in_style and _CSS_URL.search(data):
                problems.append("external resource in a stylesheet (url() or @import)")

    checker = Checker(convert_charrefs=True)
    checker.feed(html)
    checker.close()
    return problems


@lru_cache(maxsize=1)
def _html_exporter():
    """One configured exporter per process: building it (templates, preprocessors) is the slow part."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    config.TagRemovePreprocessor.remove_input_tags = set(REMOVE_INPUT_TAGS)
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove_output"}
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    exporter = HTMLExporter(config=config, template_name="report",
                            extra_template_basedirs=[str(TEMPLATES)])
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    return exporter


def export_html(nb, *, lang: str, title: str) -> str:
    """The executed notebook as one self-contained HTML page (code hidden by cell tags)."""
    exporter = _html_exporter()
    css = (TEMPLATE_DIR / "report.css").read_text(encoding="utf-8")
    page_word = words(lang)["page"]
    resources = {"audit": {"lang": lang, "title": title, "css": css.replace("PAGE_WORD", page_word)}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    problems = check_html(body)
    if problems:
        raise AuditError("the HTML report is not self-contained and safe: " + "; ".join(problems[:5]))
    return body


def export_pdf(html: str, out: Path, base_dir: Path) -> None:
    """Render the report's HTML to PDF with WeasyPrint (print CSS: A4, breaks, page numbers)."""
    import logging
    import warnings

    with warnings.catch_warnings():   # "HarfBuzz-Subset will be required": fontTools subsets meanwhile
        warnings.filterwarnings("ignore", message=".*HarfBuzz-Subset.*")
        import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    try:  # WeasyPrint >= 70: a fetcher object; only data: URIs may be read, anything else stops
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols=["data"], fail_on_errors=True)
    except ImportError:  # older WeasyPrint: a fetcher function
        def fetcher(url: str, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError(f"the report may not load external resources: {url[:60]}")
            return weasyprint.default_url_fetcher(url, *args, **kwargs)

    weasyprint.HTML(string=html, base_url=str(base_dir), url_fetcher=fetcher).write_pdf(str(out))


# --- the run ------------------------------------------------------------------------------------

def _client_id(client: Any, settings: Settings) -> tuple[str, Path]:
    """The client id and its clients folder; refuse anything that could escape outputs/."""
    if isinstance(client, Path):
        folder = client
        cid = folder.name
        clients_dir = folder.parent
        if not folder.is_dir():
            raise ParameterError(f"client folder {folder} does not exist")
    else:
        cid = str(client)
        clients_dir = settings.clients_dir
    if not CLIENT_ID.fullmatch(cid) or cid in (".", ".."):
        raise ParameterError(f"refused client id {str(client)!r}: a client id is a folder name of letters, "
                             f"digits, '.', '_' and '-', starting with a letter or digit")
    return cid, Path(clients_dir).resolve()


def _formats(formats: Iterable[str] | str | None) -> tuple[str, ...]:
    if formats is None:
        return FORMATS
    if isinstance(formats, str):
        formats = [f for f in re.split(r"[,\s]+", formats) if f]
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats))
    bad = [f for f in chosen if f not in FORMATS]
    if bad:
        raise ParameterError(f"unknown output format(s) {', '.join(bad)}; expected a subset of "
                             f"{', '.join(FORMATS)} (report.ipynb is always written)")
    return chosen


def _engagement_for(client_dir: Path, settings: Settings, client_out: Path) -> str:
    """The engagement name when none is given: the benchmark year of the current questionnaire.

    A client whose questionnaire cannot be read gets the latest engagement already in outputs/
    (its failed notebook then sits next to the report it did not replace), else 'unknown'.
    """
    from auditlib.catalogue import load_catalogue
    from auditlib.intake import load_client

    try:
        return str(load_client(client_dir, load_catalogue(settings.catalogue_dir)).profile.benchmark_year)
    except Exception:  # the notebook will report what is wrong; only the folder name is needed here
        pass
    existing = sorted(p.name for p in client_out.iterdir() if p.is_dir() and CLIENT_ID.fullmatch(p.name)
                      and not p.name.endswith(".failed")) if client_out.is_dir() else []
    return existing[-1] if existing else "unknown"


def _cell_name(source: str) -> str:
    """A cell's name: its first comment up to ':' or '(' (the notebook's convention), else its first line."""
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("#") and not line.startswith("# NBVAL"):
            return re.split(r"[:(]", line.lstrip("# "), maxsplit=1)[0].strip()
    first = source.strip().splitlines()[0] if source.strip() else ""
    return first[:50]


def _one_line(text: str, limit: int = 400) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _error_text(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return f"cell {exc.exec_count} ({_cell_name(exc.source)}): {exc.ename}: {_one_line(exc.evalue)}"
    return f"{type(exc).__name__}: {_one_line(exc)}"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _replace_dir(new: Path, target: Path) -> None:
    """Put `new` at `target`: the old one renamed aside first, deleted only after the swap."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{new.name.strip('.')}.old")
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _keep_failed(build: Path, failed: Path) -> Path:
    """Keep only the failed notebook of a build, at outputs/<client>/<engagement>.failed/."""
    for p in build.iterdir():
        if p.name != OUTPUT_FILES["ipynb"]:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    _replace_dir(build, failed)
    return failed / OUTPUT_FILES["ipynb"]


def temp_paths(outputs_dir: str | Path) -> list[Path]:
    """What an interrupted run of ours may leave under outputs/: build folders (.<engagement>.<x>.tmp),
    old reports renamed aside (.<engagement>.<x>.old) and half-written files (.<name>.<x>.tmp)."""
    outputs_dir = Path(outputs_dir)
    if not outputs_dir.is_dir():
        return []
    found = []
    for client_out in sorted(p for p in outputs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for p in sorted(client_out.iterdir()):
            if p.name.startswith(".") and p.name.endswith((".tmp", ".old")):
                found.append(p)
        for report in (p for p in client_out.iterdir() if p.is_dir() and not p.name.startswith(".")):
            found += sorted(f for f in report.glob(".*.tmp") if f.is_file())
    return found


def keep_failed_notebook(client_dir: str | Path, *, outputs_dir: str | Path, reason: str | None = None) -> Path | None:
    """After a run was killed: keep the notebook of its newest build folder as a failed one.

    The notebook goes to outputs/<client>/<engagement>.failed/report.ipynb, with the reason in a
    first Markdown cell; the good report, if any, is not touched. None if there is no notebook.
    """
    import nbformat

    client_out = Path(outputs_dir) / Path(client_dir).name
    if not client_out.is_dir():
        return None
    builds = [p for p in client_out.glob(".*.tmp") if p.is_dir() and (p / OUTPUT_FILES["ipynb"]).is_file()]
    if not builds:
        return None
    build = max(builds, key=lambda p: p.stat().st_mtime_ns)
    engagement = build.name[1:-len(".tmp")].rsplit(".", 1)[0]
    if not CLIENT_ID.fullmatch(engagement):
        return None
    if reason:
        path = build / OUTPUT_FILES["ipynb"]
        nb = nbformat.read(str(path), as_version=4)
        cell = nbformat.v4.new_markdown_cell(f"**This run was stopped:** {_html.escape(_one_line(reason))}")
        cell.metadata["tags"] = ["run-stopped"]
        nb.cells.insert(0, cell)
        nbformat.write(nb, str(path))
    return _keep_failed(build, client_out / f"{engagement}.failed")


def _cell_timings(nb) -> tuple[float | None, float, dict[str, float]]:
    """(first cell start as epoch seconds, total cell seconds, seconds per named cell)."""
    first, total, cells = None, 0.0, {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("papermill", {})
        if cell.get("cell_type") != "code" or not meta.get("start_time"):
            continue
        start = _dt.datetime.fromisoformat(meta["start_time"]).timestamp()
        first = start if first is None else min(first, start)
        seconds = float(meta.get("duration") or 0.0)
        total += seconds
        name = _cell_name(cell.source) or f"cell {cell.get('execution_count')}"
        cells[name] = round(cells.get(name, 0.0) + seconds, 3)
    return first, total, cells


def run_engagement(client: str | Path, *, settings: Settings | None = None, engagement: str | None = None,
                   lang: str = "en", groups: Sequence[str] | str | None = None,
                   formats: Sequence[str] | str | None = ("html", "pdf", "xlsx"),
                   outputs_dir: str | Path | None = None, cell_timeout: int = 600,
                   extra_parameters: Mapping[str, Any] | None = None) -> RunOutcome:
    """Run one engagement's report into outputs/<client>/<engagement>/ (see the module docstring).

    client: a client id (a folder name in settings.clients_dir) or a Path to a client folder.
    engagement: the output folder's name (default: the engagement_id parameter, else the
    benchmark year). groups: peer groups (list or comma-separated; None = the catalogue's).
    formats: a subset of html, pdf, xlsx; report.ipynb and manifest.json are always written.
    extra_parameters: further notebook parameters (earlier_audit, engagement_date, ...).

    Raises ParameterError, before any kernel starts, for the caller's mistakes: a refused or
    unknown client id, a bad language, format, peer group or parameter. Every failure of the
    client's own inputs or of the run gives RunOutcome(status="failed", ...) instead.
    """
    t_start = time.perf_counter()
    timings: dict[str, Any] = {}
    settings = settings or Settings.from_env()
    client_id, clients_dir = _client_id(client, settings)
    formats = _formats(formats)
    extra = dict(extra_parameters or {})
    reserved = {"client_id", "lang", "peer_groups", "clients_dir", "export_dir", "excel"} & set(extra)
    if reserved:
        raise ParameterError(f"pass {', '.join(sorted(reserved))} as run_engagement arguments, "
                             f"not as extra parameters")
    params: dict[str, Any] = {
        "client_id": client_id, "lang": lang,
        "peer_groups": split_groups(groups) if groups is not None else "",
        "data_dir": str(Path(settings.data_dir).resolve()),
        "catalogue_dir": str(Path(settings.catalogue_dir).resolve()),
        "clients_dir": str(clients_dir),
        "benchmark": str(Path(settings.benchmark_path).resolve()),
        **extra,
    }
    if engagement and not params.get("engagement_id"):
        params["engagement_id"] = str(engagement)
    checked = validate_parameters(params)          # ParameterError: the caller's mistake
    settings_used = checked.settings
    outputs = Path(outputs_dir or settings.outputs_dir).resolve()
    client_out = outputs / client_id
    engagement = str(engagement or checked.engagement_id or
                     _engagement_for(checked.client_dir, settings_used, client_out))
    if not CLIENT_ID.fullmatch(engagement):
        raise ParameterError(f"refused engagement name {engagement!r} (letters, digits, '.', '_', '-')")
    target = client_out / engagement
    failed_dir = client_out / f"{engagement}.failed"
    client_out.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{engagement}.", suffix=".tmp", dir=client_out))
    os.chmod(build, 0o777 & ~_umask())          # mkdtemp makes it private; the report folder is not
    params["export_dir"] = str(build)
    params["excel"] = "xlsx" in formats
    timings["prepare"] = round(time.perf_counter() - t_start, 3)

    def failed(error: str) -> RunOutcome:
        nb_path = build / OUTPUT_FILES["ipynb"]
        kept = _keep_failed(build, failed_dir) if nb_path.is_file() else None
        shutil.rmtree(build, ignore_errors=True)
        return RunOutcome(client_id, engagement, "failed", None, kept, error,
                          round(time.perf_counter() - t_start, 3), {"timings": timings})

    step = "execute"
    try:
        import papermill

        t0 = time.perf_counter()
        wall0 = time.time()
        try:
            nb = papermill.execute_notebook(
                str(NOTEBOOK), str(build / OUTPUT_FILES["ipynb"]), parameters=params, kernel_name="python3",
                cwd=str(build), execution_timeout=cell_timeout, progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, extra_arguments=KERNEL_ARGUMENTS)
        except Exception as exc:  # a failing cell, a timeout, a dead kernel: the client's run fails
            if not (build / OUTPUT_FILES["ipynb"]).is_file():
                _write_input_copy(build, params)
            return failed(_error_text(exc))
        elapsed = time.perf_counter() - t0
        first, cell_seconds, per_cell = _cell_timings(nb)
        timings["kernel_start"] = round(max(0.0, (first - wall0)) if first else 0.0, 3)
        timings["execute"] = round(cell_seconds, 3)
        timings["papermill_total"] = round(elapsed, 3)
        timings["cells"] = per_cell

        info_path = build / RUN_INFO
        info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
        info_path.unlink(missing_ok=True)
        timings.update({f"kernel_{k}": v for k, v in info.get("timings", {}).items()})
        if "xlsx" in formats and not (build / OUTPUT_FILES["xlsx"]).is_file():
            return failed("xlsx export: the notebook wrote no scores.xlsx")
        if not info:
            return failed("execute: the notebook wrote no run-info.json (its export cell did not run)")

        title = f"{words(lang)['report_title']}: {info.get('client', {}).get('name', client_id)}"
        if "html" in formats or "pdf" in formats:
            step = "html export"
            t0 = time.perf_counter()
            html = export_html(nb, lang=lang, title=title)
            timings["html"] = round(time.perf_counter() - t0, 3)
            if "html" in formats:
                (build / OUTPUT_FILES["html"]).write_text(html, encoding="utf-8")
            if "pdf" in formats:
                step = "pdf export"
                t0 = time.perf_counter()
                export_pdf(html, build / OUTPUT_FILES["pdf"], build)
                timings["pdf"] = round(time.perf_counter() - t0, 3)

        step = "manifest"
        t0 = time.perf_counter()
        manifest = _manifest(client_id, engagement, params, formats, checked, info, build, timings)
        manifest["timings"]["manifest"] = round(time.perf_counter() - t0, 3)   # hashing inputs and outputs
        manifest["timings"]["total"] = round(time.perf_counter() - t_start, 3)  # up to the swap
        from auditlib.export import write_json

        write_json(build / "manifest.json", manifest)
        step = "swap into place"
        _replace_dir(build, target)
        if failed_dir.exists():
            shutil.rmtree(failed_dir, ignore_errors=True)
        return RunOutcome(client_id, engagement, "ok", target, None, None,
                          round(time.perf_counter() - t_start, 3), manifest)
    except Exception as exc:  # export, manifest or swap: keep the notebook, report one line
        return failed(f"{step}: {type(exc).__name__}: {_one_line(exc)}")
    finally:
        if build.exists() and build.parent == client_out:
            shutil.rmtree(build, ignore_errors=True)


def _write_input_copy(build: Path, params: Mapping[str, Any]) -> None:
    """When papermill wrote nothing (e.g. the kernel never started), keep the parameterised notebook."""
    try:
        import papermill

        papermill.execute_notebook(str(NOTEBOOK), str(build / OUTPUT_FILES["ipynb"]), parameters=dict(params),
                                   prepare_only=True, kernel_name="python3", progress_bar=False)
    except Exception:
        pass


def _manifest(client_id: str, engagement: str, params: Mapping[str, Any], formats: Sequence[str],
              checked: ReportParameters, info: Mapping[str, Any], build: Path, timings: Mapping) -> dict:
    from auditlib import __version__
    from auditlib.export import package_versions

    inputs = input_hashes(checked.client_dir, checked.settings)
    earlier = checked.earlier_audit
    if earlier not in ("", "none") and not re.fullmatch(r"\d{4}", earlier) and Path(earlier).is_file():
        inputs[f"earlier/{Path(earlier).name}"] = sha256_file(Path(earlier))   # an earlier audit given as a file
    outputs = {p.name: sha256_file(p) for p in sorted(build.iterdir()) if p.is_file() and p.name != "manifest.json"}
    shown = {k: v for k, v in params.items() if k not in ("export_dir", "excel")}
    return {
        "manifest_version": 1,
        "client_id": client_id,
        "engagement": engagement,
        "status": "ok",
        "generated_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "parameters": shown,
        "formats": ["ipynb", *formats],
        "catalogue": info.get("catalogue", {}),
        "benchmark": info.get("benchmark", {}),
        "result": {k: info.get(k) for k in ("anonymity_floor", "primary_group", "peer_groups", "labels",
                                            "compared_with", "interpretation", "key_figures")},
        "inputs": inputs,
        "outputs": outputs,
        "versions": {"auditlib": __version__, **package_versions()},
        "timings": dict(timings),
    }

"""The audit firm's portfolio: one row per client, rendered as `outputs/index.html`.

The portfolio is for the audit firm, not for a client, but it still shows only each
client's *own* figures (its dimension scores in its primary peer group, its label readiness,
the number of improvement handles): no peer statistics, no other organisation of the
benchmark database.

A row is plain JSON data (`PortfolioRow.to_dict`), kept in `outputs/portfolio.json` next to the
index so that a batch over a few clients (or one with `--changed-only`) keeps the rows of the
others. Both files are written atomically (temporary file, then `os.replace`).

The index is rendered with Jinja2 with autoescape ON (a client name may contain `<script>`),
is self-contained (inline CSS, no external URL, no script) and links every report with a
path relative to the outputs folder, so the folder can be moved or zipped as a whole.

The same key figures feed the firm's overview notebook (`notebooks/portfolio_overview.ipynb`)
through `portfolio_frame()`; they come from `key_figures(AuditResult)`, so no figure is
computed twice.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence
from urllib.parse import quote

from auditlib import present
from auditlib.files import atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

    from auditlib.audit import AuditResult
    from auditlib.benchmark import BenchmarkDB
    from auditlib.catalogue import Catalogue

PORTFOLIO_FILE = "portfolio.json"
INDEX_FILE = "index.html"
TEMPLATE = "portfolio/index.html.j2"
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATUSES = ("ok", "skipped", "failed")
LABELS = ("bronze", "silver", "gold")
REPORT_FILES = {"html": "report.html", "pdf": "report.pdf", "xlsx": "scores.xlsx", "ipynb": "report.ipynb"}


# --- the key figures of one client ------------------------------------------------------------

def _num(x: Any) -> float | None:
    """A raw figure for portfolio.json: never rounded here (rounding is the reader's: present)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def key_figures(result: "AuditResult", lang: str = "en", handles: "pd.DataFrame | None" = None) -> dict:
    """The client's own figures the portfolio shows, from one AuditResult.

    Dimension scores (0-100, the mean percentile of the dimension's indicators) are read in
    the primary peer group; `None` where the group has no statistics.
    """
    if handles is None:
        from auditlib.handles import improvement_handles

        handles = improvement_handles(result, lang=lang)
    profile = result.profile_in()
    group = result.group(result.primary_group)
    gold = result.labels.verdicts.get("gold")
    return {
        "name": result.client.name,
        "country": result.client.country,
        "field": result.client.field,
        "benchmark_year": int(result.client.benchmark_year),
        "primary_group": result.primary_group,
        "primary_group_used": group.key,
        "dimensions": {str(r["dimension"]): _num(r["score"]) for _, r in profile.iterrows()},
        "highest_ready": result.labels.highest_ready,
        "next_label": result.labels.next_label,
        "gold_total_score": _num(gold.total_score) if gold is not None else None,
        "ladder": [{"label": s.label, "ready": s.ready, "blockers": list(s.blockers)}
                   for s in result.labels.ladder(result.catalogue.labels.gold.total_score_min)],
        "handles": int(len(handles)),
        # the label history's inputs: the index rebuilds the journey as of its own date
        "journey": journey_data(result.journey) if result.journey is not None else None,
    }


def journey_data(j) -> dict:
    from auditlib.journey import to_data

    return to_data(j)


def due_rows(rows: Sequence[PortfolioRow], catalogue: "Catalogue", as_of: _dt.date,
             within_months: int = 6) -> list:
    """The journey of every row with figures, as of `as_of`, sorted by due date (journey.due_list)."""
    from auditlib.journey import JourneyRules, due_list, due_row, from_data

    rules = JourneyRules.from_catalogue(catalogue)
    out = []
    for r in rows:
        data = (r.figures or {}).get("journey")
        if data is not None:
            out.append(due_row(r.client_id, (r.figures or {}).get("name") or r.client_id,
                               from_data(data, rules, as_of, within_months)))
    return due_list(out)


# --- rows --------------------------------------------------------------------------------------

@dataclass
class PortfolioRow:
    """One client in the portfolio. Paths are relative to the outputs folder (POSIX form)."""

    client_id: str
    status: str                                   # ok | skipped (unchanged) | failed
    engagement: str | None = None
    seconds: float | None = None
    reason: str | None = None                     # failed: why (one line)
    figures: dict | None = None                   # key_figures() of the report shown
    reports: dict[str, str] = field(default_factory=dict)   # format -> relative path
    failed_notebook: str | None = None            # failed: the kept notebook
    last_good: dict[str, str] = field(default_factory=dict)  # failed: the last good report's files
    updated: str | None = None                    # when this row's report (or failure) was made
    review: str | None = None                     # draft | reviewed | needs_review (the report's manifest, issue 14)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown portfolio status {self.status!r}; expected one of {STATUSES}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PortfolioRow":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def relative_link(path: str | Path, outputs_dir: str | Path) -> str:
    """`path` relative to the outputs folder, POSIX form (raises ValueError if outside)."""
    return Path(os.path.relpath(Path(path).resolve(), Path(outputs_dir).resolve())).as_posix()


def report_links(out_dir: str | Path | None, outputs_dir: str | Path) -> dict[str, str]:
    """The report files present in a report folder, as links relative to the outputs folder."""
    if out_dir is None:
        return {}
    out_dir = Path(out_dir)
    return {fmt: relative_link(out_dir / name, outputs_dir)
            for fmt, name in REPORT_FILES.items() if (out_dir / name).is_file()}


def load_rows(outputs_dir: str | Path) -> list[PortfolioRow]:
    """The rows of the last portfolio written to `outputs_dir` (none if there is none or it is unreadable)."""
    path = Path(outputs_dir) / PORTFOLIO_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [PortfolioRow.from_dict(r) for r in data.get("clients", [])]
    except (OSError, ValueError, TypeError, AttributeError):
        return []


def merge_rows(previous: Iterable[PortfolioRow], current: Iterable[PortfolioRow],
               outputs_dir: str | Path) -> list[PortfolioRow]:
    """This run's rows, plus the earlier rows of other clients whose files are all still there."""
    outputs_dir = Path(outputs_dir)
    merged = {r.client_id: r for r in previous if _links_exist(r, outputs_dir)}
    merged.update({r.client_id: r for r in current})
    return [merged[k] for k in sorted(merged)]


def _links_exist(row: PortfolioRow, outputs_dir: Path) -> bool:
    paths = [*row.reports.values(), *row.last_good.values()] + ([row.failed_notebook] if row.failed_notebook else [])
    return bool(paths) and all((outputs_dir / p).is_file() for p in paths)


# --- rendering ---------------------------------------------------------------------------------

def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def _score_style(score: float | None) -> str:
    """A background from red (0) through white (50) to blue (100); inline, no external CSS."""
    if score is None:
        return ""
    t = max(0.0, min(1.0, score / 100.0))
    if t < 0.5:
        k = (0.5 - t) * 2      # 0..1 towards red
        rgb = (255, round(255 - 90 * k), round(255 - 90 * k))
    else:
        k = (t - 0.5) * 2      # 0..1 towards blue
        rgb = (round(255 - 110 * k), round(255 - 70 * k), 255)
    return "background-color: #%02x%02x%02x" % rgb


WORDS = {
    "en": {"title": "Audit portfolio", "client": "Client", "country": "Country", "field": "Field",
           "status": "Status", "labels": "Labels", "handles": "Improvement handles",
           "reports": "Reports", "engagement": "Engagement", "seconds": "Seconds", "none": "none", "needs": "needs",
           "ok": "ok", "skipped": "unchanged", "failed": "failed", "failed_nb": "failed notebook",
           "last_good": "last good report", "generated": "Generated", "clients": "clients",
           "confidential": "Confidential: for the audit firm. Each row shows only that client's own figures "
                           "(dimension scores are the client's mean percentile in its primary peer group).",
           "scores_in": "Dimension scores (0-100) in the primary peer group", "no_stats": "no statistics",
           "review": {"draft": "draft", "reviewed": "reviewed",
                      "needs_review": "draft: reviewed edits need another look"}},
    "nl": {"title": "Auditportefeuille", "client": "Klant", "country": "Land", "field": "Technologieveld",
           "status": "Status", "labels": "Labels",
           "handles": "Verbeterhandvatten", "reports": "Rapporten", "engagement": "Opdracht",
           "seconds": "Seconden", "none": "geen", "needs": "nodig", "ok": "ok", "skipped": "ongewijzigd",
           "failed": "mislukt",
           "failed_nb": "notebook van de mislukte run", "last_good": "laatste goede rapport", "generated": "Gemaakt",
           "clients": "klanten",
           "confidential": "Vertrouwelijk: voor het auditbureau. Elke rij toont alleen de eigen cijfers van die "
                           "klant (dimensiescores zijn het gemiddelde percentiel in de primaire vergelijkingsgroep).",
           "scores_in": "Dimensiescores (0-100) in de primaire vergelijkingsgroep", "no_stats": "geen statistieken",
           "review": {"draft": "concept", "reviewed": "nagekeken",
                      "needs_review": "concept: nagekeken bewerkingen opnieuw bekijken"}},
}
FORMAT_NAMES = {"html": "HTML", "pdf": "PDF", "xlsx": "Excel", "ipynb": "notebook"}


def _ladder_text(fig: Mapping[str, Any], catalogue: "Catalogue", lang: str) -> list[tuple[str, str, bool, str]]:
    """(label, ready or not, ready, what blocks it) per label, from the row's raw figures."""
    w = present.words(lang)
    out = []
    for step in fig.get("ladder") or []:
        blockers, quality = [], 0
        for cid in step.get("blockers", []):
            if cid == "gold_total_score":
                blockers.append(w["blocker_total"].format(
                    score=present.gold_total(fig.get("gold_total_score"), lang),
                    min=present.number(catalogue.labels.gold.total_score_min, lang)))
            elif any(c.id == cid for c in catalogue.labels.gold.quality):
                quality += 1
            else:
                ind = next((c.indicator for c in [*catalogue.labels.bronze.minimums, *catalogue.labels.gold.minimums]
                            if c.id == cid), None)
                blockers.append(present.criterion_name(cid, catalogue, lang, ind))
        if quality:
            blockers.append(present.plural(quality, w["blocker_quality_one"], w["blocker_quality"]).format(n=quality))
        name = getattr(catalogue.labels, step["label"]).name[lang]
        out.append((name, w["ready_yes"] if step["ready"] else w["ready_no"], bool(step["ready"]), "; ".join(blockers)))
    return out


def ladder_line(fig: Mapping[str, Any], catalogue: "Catalogue", lang: str) -> str:
    """The label ladder of one row on one line: 'Bronze: ready · Silver: not yet (needs: ...) · ...'."""
    needs = WORDS[lang]["needs"]
    return " · ".join(f"{name}: {state}" + (f" ({needs}: {blockers})" if blockers else "")
                      for name, state, _ready, blockers in _ladder_text(fig, catalogue, lang))


def render_index(rows: Sequence[PortfolioRow], catalogue: "Catalogue", lang: str = "en",
                 generated: str | None = None, as_of: _dt.date | None = None, within_months: int = 6) -> str:
    """The portfolio index as one self-contained HTML page (autoescaped).

    `as_of`: the date of the label journey table (current label, expiry, next step and its
    window, due/overdue/expired; sorted by due date); without it, no journey table.
    """
    if lang not in WORDS:
        raise ValueError(f"unknown language {lang!r}; expected one of {sorted(WORDS)}")
    dims = [(d.id, d.name[lang]) for d in catalogue.dimensions]
    fields = {k: f.name[lang] for k, f in catalogue.fields.items()}
    view = []
    for r in rows:
        fig = r.figures or {}
        scores = fig.get("dimensions") or {}
        view.append({
            "row": r,
            "name": fig.get("name") or r.client_id,
            "country": fig.get("country") or "",
            "field": fields.get(fig.get("field") or "", fig.get("field") or ""),
            "scores": [(present.dimension_score(scores.get(d), lang) if scores.get(d) is not None else None,
                        _score_style(scores.get(d))) for d, _ in dims] if fig else None,
            "ladder": _ladder_text(fig, catalogue, lang) if fig else [],
            "handles": fig.get("handles"),
            "links": [(FORMAT_NAMES.get(k, k), quote(v)) for k, v in r.reports.items() if k != "ipynb"]
                     + ([("notebook", quote(r.reports["ipynb"]))] if "ipynb" in r.reports else []),
            "failed_nb": quote(r.failed_notebook) if r.failed_notebook else None,
            "last_good": [(FORMAT_NAMES.get(k, k), quote(v)) for k, v in r.last_good.items() if k != "ipynb"],
            "seconds": present.number(r.seconds, lang, 1) if r.seconds is not None else "",
        })
    counts = {s: sum(1 for r in rows if r.status == s) for s in STATUSES}
    generated = generated or _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    due, due_title, due_w = [], "", {}
    if as_of is not None:
        from auditlib.journey import due_cells, due_words
        from auditlib.journey import due_title as journey_title

        due_w = due_words(lang)
        due = [{**due_cells(d, catalogue, lang), "status_id": d.status} for d in due_rows(rows, catalogue, as_of,
                                                                                           within_months)]
        due_title = journey_title(as_of, within_months, lang)
    return _env().get_template(TEMPLATE).render(
        rows=view, dims=dims, w=WORDS[lang], lang=lang, counts=counts, generated=generated,
        catalogue_version=catalogue.version, due=due, due_title=due_title, due_w=due_w)


def review_state(outputs_dir: Path, row: PortfolioRow) -> str | None:
    """Draft, reviewed or needs_review, as the report's manifest says now (`auditlib finalise` changes it)."""
    link = row.reports.get("ipynb") or row.reports.get("html")
    if not link:
        return None
    try:
        manifest = json.loads((outputs_dir / link).parent.joinpath("manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (manifest.get("review") or {}).get("status") or None


def write_portfolio(outputs_dir: str | Path, rows: Sequence[PortfolioRow], catalogue: "Catalogue",
                    lang: str = "en", as_of: _dt.date | None = None) -> Path:
    """Write `portfolio.json` and `index.html` into `outputs_dir`, each atomically; return the index.

    `as_of`: the label journey's date; by default the day the index is generated (the one clock
    reading of the index, the same as its "generated" stamp).
    """
    outputs_dir = Path(outputs_dir)
    now = _dt.datetime.now().astimezone()
    as_of = as_of or now.date()
    rows = [replace(r, review=review_state(outputs_dir, r)) for r in rows]
    data = {"format": 1, "generated": now.isoformat(timespec="seconds"),
            "catalogue_version": catalogue.version, "clients": [r.to_dict() for r in rows]}
    atomic_write_text(outputs_dir / PORTFOLIO_FILE, json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n")
    index = outputs_dir / INDEX_FILE
    atomic_write_text(index, render_index(rows, catalogue, lang, as_of=as_of))
    return index


# --- the overview notebook's tables and figures --------------------------------------------------

def portfolio_frame(clients: Sequence[str | Path] | str | Path, *, catalogue: "Catalogue",
                    benchmark: "BenchmarkDB | str | Path",
                    lang: str = "en") -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """Analyse every client (a folder of client folders, or a list of them).

    Returns (figures, problems): one row per client that could be analysed (client_id, name,
    country, field, one column per dimension, highest_ready, next_label, handles), and one row
    per client that could not (client_id, problem). The catalogue and the benchmark (or its
    path) come from the caller's settings.
    """
    import pandas as pd

    from auditlib.audit import analyse
    from auditlib.benchmark import load_benchmark
    from auditlib.errors import AuditError

    if isinstance(clients, (str, Path)):
        folder = Path(clients)
        clients = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not hasattr(benchmark, "frame"):
        benchmark = load_benchmark(benchmark, catalogue)
    dims = [d.id for d in catalogue.dimensions]
    rows, problems = [], []
    for path in map(Path, clients):
        try:
            fig = key_figures(analyse(path, catalogue=catalogue, benchmark=benchmark), lang=lang)
        except AuditError as exc:
            problems.append({"client_id": path.name, "problem": str(exc).splitlines()[0]})
            continue
        rows.append({"client_id": path.name, "name": fig["name"], "country": fig["country"],
                     "field": fig["field"], **{d: fig["dimensions"].get(d) for d in dims},
                     "highest_ready": fig["highest_ready"] or "none", "next_label": fig["next_label"] or "-",
                     "labels": ladder_line(fig, catalogue, lang), "handles": fig["handles"]})
    columns = ["client_id", "name", "country", "field", *dims, "highest_ready", "next_label", "labels", "handles"]
    frame = pd.DataFrame(rows, columns=columns)
    frame[dims] = frame[dims].astype(float)
    return frame, pd.DataFrame(problems, columns=["client_id", "problem"])


def journey_frame(clients: Sequence[str | Path] | str | Path, *, catalogue: "Catalogue", as_of: _dt.date,
                  within_months: int = 6, lang: str = "en") -> "pd.DataFrame":
    """Per client, as of `as_of` (given by the notebook or the CLI): the label now and its expiry,
    the next step and its window, and whether it is due, overdue or expired; sorted by due
    date (the same list as `auditlib due`). Months are 'YYYY-MM' text, so the frame sorts."""
    import pandas as pd

    from auditlib.journey import due_cells, due_for_clients

    if isinstance(clients, (str, Path)):
        folder = Path(clients)
        clients = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    rows, _problems = due_for_clients(list(map(Path, clients)), catalogue, as_of, within_months)
    columns = ["client_id", "name", "label", "expires", "next_step", "window", "status", "due_by"]
    return pd.DataFrame([{**{k: v for k, v in due_cells(r, catalogue, lang).items() if k not in ("client", "step")},
                          "client_id": r.client_id, "next_step": due_cells(r, catalogue, lang)["step"],
                          "due_by": str(r.closes) if r.closes else ""} for r in rows], columns=columns)


def readiness_counts(frame: "pd.DataFrame") -> "pd.Series":
    """How many clients are ready for each label at most (none, bronze, silver, gold)."""
    import pandas as pd

    order = ["none", *LABELS]
    return frame["highest_ready"].value_counts().reindex(order, fill_value=0).rename("clients").astype(int) \
        if len(frame) else pd.Series(0, index=order, name="clients")


def heatmap_figure(frame: "pd.DataFrame", catalogue: "Catalogue", lang: str = "en"):
    """The clients' dimension scores side by side (rows: clients, columns: dimensions)."""
    import numpy as np
    from matplotlib.figure import Figure

    dims = [d.id for d in catalogue.dimensions]
    names = [d.name[lang] for d in catalogue.dimensions]
    values = frame[dims].to_numpy(dtype=float) if len(frame) else np.full((0, len(dims)), np.nan)
    fig = Figure(figsize=(1.4 * len(dims) + 3, 0.45 * max(len(frame), 1) + 2.2), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values) if values.size else np.zeros((1, len(dims))),
                      cmap="RdBu", vmin=0, vmax=100, aspect="auto")
    import textwrap

    ax.set_xticks(range(len(dims)), [textwrap.fill(n, 16) for n in names], fontsize=8)
    ax.set_yticks(range(len(frame)), list(frame["client_id"]), fontsize=8)
    for (i, j), v in np.ndenumerate(values):
        dark = not np.isnan(v) and (v < 15 or v > 85)
        ax.text(j, i, present.dimension_score(v, lang), ha="center", va="center", fontsize=8,
                color="white" if dark else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="score (0-100)")
    ax.set_title("Dimension scores in each client's primary peer group" if lang == "en"
                 else "Dimensiescores in de primaire vergelijkingsgroep van elke klant", fontsize=10)
    return fig


def readiness_figure(frame: "pd.DataFrame", catalogue: "Catalogue", lang: str = "en"):
    """The distribution of label readiness across the portfolio (highest label ready)."""
    from matplotlib.figure import Figure

    counts = readiness_counts(frame)
    none = "none" if lang == "en" else "geen"
    names = [none if k == "none" else getattr(catalogue.labels, k).name[lang] for k in counts.index]
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.add_subplot()
    bars = ax.bar(names, counts.to_numpy(), color=["#9aa5b1", "#b08d57", "#a8a9ad", "#d4af37"])
    ax.bar_label(bars)
    ax.set_ylabel("clients" if lang == "en" else "klanten")
    ax.set_title("Highest label ready for" if lang == "en" else "Hoogste haalbare label", fontsize=10)
    ax.set_ylim(0, max(int(counts.max()), 1) * 1.2)
    return fig


def status_frame(outputs_dir: str | Path) -> "pd.DataFrame":
    """The last batch's status per client (from outputs/portfolio.json): empty if there was none."""
    import pandas as pd

    rows = [{"client_id": r.client_id, "status": r.status, "engagement": r.engagement or "",
             "reports": ", ".join(k for k in r.reports), "reason": r.reason or "", "updated": r.updated or ""}
            for r in load_rows(outputs_dir)]
    return pd.DataFrame(rows, columns=["client_id", "status", "engagement", "reports", "reason", "updated"])


def to_png(fig, dpi: int = 110) -> bytes:
    """A Figure as PNG bytes (Agg canvas; no pyplot, no backend choice)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


@dataclass(frozen=True)
class OverviewParameters:
    clients_dir: Path
    outputs_dir: Path
    lang: str
    settings: Any


OVERVIEW_PARAMETERS = {"clients_dir": "", "outputs_dir": "", "lang": "en"}
_NOT_PARAMETERS = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})


def overview_parameters(namespace: Mapping[str, Any]) -> OverviewParameters:
    """Check the overview notebook's parameters (papermill only warns on unknown ones); all problems at once."""
    import types

    from auditlib.config import Settings
    from auditlib.errors import ParameterError

    values = dict(OVERVIEW_PARAMETERS)
    problems = []
    for name, value in namespace.items():
        if name.startswith("_") or name in _NOT_PARAMETERS or isinstance(value, (types.ModuleType, type)) \
                or callable(value):
            continue
        if name not in OVERVIEW_PARAMETERS:
            problems.append(f"unknown parameter '{name}' (known: {', '.join(OVERVIEW_PARAMETERS)})")
        elif not isinstance(value, str):
            problems.append(f"{name}: expected str, got {type(value).__name__} {value!r}")
        else:
            values[name] = value
    if values["lang"] not in WORDS:
        problems.append(f"lang: '{values['lang']}' is not a language (expected one of {', '.join(WORDS)})")
    settings = Settings.from_env(clients_dir=values["clients_dir"] or None, outputs_dir=values["outputs_dir"] or None)
    if not Path(settings.clients_dir).is_dir():
        problems.append(f"clients_dir: no such folder '{settings.clients_dir}'")
    if problems:
        raise ParameterError(f"{len(problems)} invalid parameter(s): " + "; ".join(problems))
    return OverviewParameters(Path(settings.clients_dir), Path(settings.outputs_dir), values["lang"], settings)

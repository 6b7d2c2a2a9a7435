"""After a batch: the portfolio index (outputs/index.html, portfolio.json) and the summary table."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Iterable, Sequence

from auditlib.batch.model import ClientResult
from auditlib.batch.selection import figures_from_manifest, last_good_report, read_manifest
from auditlib.errors import AuditError

_log = logging.getLogger(__name__)


def whole_notebook(path: str | Path) -> bool:
    """True for a notebook file that reads completely (a full disk can leave one cut short)."""
    try:
        import nbformat

        nb = nbformat.read(str(path), as_version=4)
        return bool(nb.cells)
    except Exception:
        _log.debug("index: ignored", exc_info=True)
        return False


def write_portfolio_index(results: Iterable[ClientResult], *, settings, outputs_dir: Path,
                          lang: str = "en") -> Path | None:
    """Update outputs/portfolio.json and outputs/index.html with this run's results."""
    from auditlib.catalogue import load_catalogue
    from auditlib.portfolio import PortfolioRow, load_rows, merge_rows, relative_link, report_links, write_portfolio

    try:
        catalogue = load_catalogue(settings.catalogue_dir)
    except AuditError:
        return None
    previous = {r.client_id: r for r in load_rows(outputs_dir)}
    rows = []
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for res in results:
        if res.status == "interrupted":
            continue   # keep whatever the index said before
        old = previous.get(res.client_id)
        if res.status in ("ok", "skipped"):
            figures = res.figures
            if figures is None and old is not None and old.status != "failed" and old.engagement == res.engagement:
                figures = old.figures
            if figures is None and res.out_dir is not None:
                figures = figures_from_manifest(read_manifest(res.out_dir))
            if figures is None:
                figures = _figures_now(res, settings, catalogue, lang)
            updated = now if res.status == "ok" else (old.updated if old else None)
            rows.append(PortfolioRow(res.client_id, res.status, res.engagement, round(res.seconds, 1), None,
                                     figures, report_links(res.out_dir, outputs_dir), None, {}, updated))
        else:
            last = last_good_report(outputs_dir, res.client_id, lang)
            failed_nb = None
            if res.failed_notebook is not None and whole_notebook(res.failed_notebook):
                failed_nb = relative_link(res.failed_notebook, outputs_dir)
            rows.append(PortfolioRow(res.client_id, "failed", res.engagement, round(res.seconds, 1),
                                     res.reason or "failed", None, {}, failed_nb,
                                     report_links(last, outputs_dir) if last else {}, now))
    rows = merge_rows(previous.values(), rows, outputs_dir)
    return write_portfolio(outputs_dir, rows, catalogue, lang=lang)


def _figures_now(res: ClientResult, settings, catalogue, lang: str) -> dict | None:
    """Key figures of an unchanged client (same inputs as its report, so the same figures)."""
    try:
        from auditlib.audit import analyse
        from auditlib.benchmark import load_benchmark
        from auditlib.portfolio import key_figures

        benchmark = load_benchmark(settings.benchmark_path, catalogue)
        return key_figures(analyse(res.client_dir, catalogue=catalogue, benchmark=benchmark), lang=lang)
    except Exception:
        _log.debug("index: ignored", exc_info=True)
        return None


def summary_table(results: Sequence[ClientResult], width: int = 100) -> str:
    """The end-of-batch table: client, status, seconds, reason."""
    rows = [("client", "status", "seconds", "reason")]
    review = 0
    for r in results:
        reason = (r.reason or "").replace("\n", " ")
        flagged = _flagged(r)
        if flagged:            # issue 14: carried-over edits whose generated text changed
            review += 1
            reason = (reason + "; " if reason else "") + f"reviewed edits need another look: {', '.join(flagged)}"
        rows.append((r.client_id, r.status, f"{r.seconds:.1f}", reason))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    room = max(20, width - w0 - w1 - w2 - 6)
    lines = []
    for i, (a, b, c, d) in enumerate(rows):
        d = d if len(d) <= room else d[: room - 3] + "..."
        lines.append(f"{a:<{w0}}  {b:<{w1}}  {c:>{w2}}  {d}".rstrip())
        if i == 0:
            lines.append("-" * min(width, w0 + w1 + w2 + 6 + max(len(x[3]) for x in rows)))
    counts = {s: sum(1 for r in results if r.status == s) for s in ("ok", "skipped", "failed", "interrupted")}
    lines.append("")
    lines.append(", ".join(f"{v} {k}" for k, v in counts.items() if v or k in ("ok", "failed"))
                 + (f"; {review} with reviewed edits to look at again (auditlib finalise)" if review else ""))
    return "\n".join(lines)


def _flagged(res: ClientResult) -> list[str]:
    """The anchors of the carried-over edits flagged in this client's new draft (its manifest)."""
    if res.status != "ok" or res.out_dir is None:
        return []
    record = (read_manifest(res.out_dir) or {}).get("review") or {}
    return [str(a) for a in record.get("flagged", [])] if record.get("status") == "needs_review" else []

"""What a killed run leaves under outputs/: temporary build folders removed, a report set aside
mid-swap put back, and a killed worker's notebook kept as a failure."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

from auditlib.batch.model import ClientResult
from auditlib.batch.selection import read_manifest
from auditlib.files import trim_outputs

_log = logging.getLogger(__name__)


def temp_leftovers(outputs_dir: str | Path, client_ids: Iterable[str] | None = None) -> list[Path]:
    """What a killed run can leave under outputs/: report.py's build folders
    (`<client>/.<engagement>.<random>.tmp`), folders it set aside during a swap
    (`<client>/.<name>.<build>.old`), and the index's temporary files (`.index.html.*.tmp`).

    `client_ids` limits the search to those clients' folders (another run may be busy with others).
    """
    outputs_dir = Path(outputs_dir)
    if not outputs_dir.is_dir():
        return []
    found = [p for p in outputs_dir.glob(".*.tmp") if p.name.startswith((".index.html.", ".portfolio.json."))]
    if client_ids is None:
        folders = [p for p in outputs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    else:
        folders = [outputs_dir / c for c in client_ids if (outputs_dir / c).is_dir()]
    for folder in folders:
        found += [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith((".tmp", ".old"))]
    return sorted(found)


def remove_temp_leftovers(outputs_dir: str | Path, client_ids: Iterable[str] | None = None) -> list[Path]:
    """Remove the leftovers of killed runs; a report set aside mid-swap goes back where it was."""
    removed = []
    for p in temp_leftovers(outputs_dir, client_ids):
        try:
            if p.name.endswith(".old") and p.is_dir():
                kept = read_manifest(p)        # "folder": the engagement's folder in its language (2026.nl)
                engagement = str(kept.get("folder") or kept.get("engagement") or "")
                target = p.parent / engagement
                if engagement and "/" not in engagement and not engagement.startswith(".") and not target.exists():
                    os.replace(p, target)     # the good report whose replacement never arrived
                    continue
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
    for folder in {p.parent for p in removed} - {Path(outputs_dir)}:
        try:
            folder.rmdir()       # a client folder the interrupted run had just created, now empty
        except OSError:
            pass
    return removed


def _salvage_failed(res: ClientResult, outputs_dir: Path) -> Path | None:
    """After a killed worker: keep its (partly executed) notebook as report.py keeps a failure,
    at outputs/<client>/<engagement>.failed/report.ipynb, with the reason on top."""
    client_out = outputs_dir / res.client_id
    builds = sorted((p for p in client_out.glob(".*.tmp") if (p / "report.ipynb").is_file()),
                    key=lambda p: p.stat().st_mtime_ns) if client_out.is_dir() else []
    if not builds:
        return None
    build = builds[-1]
    engagement = build.name[1:-len(".tmp")].rsplit(".", 1)[0]
    try:
        import nbformat

        nb = nbformat.read(build / "report.ipynb", as_version=4)
        trim_outputs(nb)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            f"**auditlib batch stopped this run:** {res.reason}"))
        keep = Path(tempfile.mkdtemp(prefix=f".{engagement}.failed.", suffix=".tmp", dir=client_out))
        nbformat.write(nb, keep / "report.ipynb")
        failed = client_out / f"{engagement}.failed"
        if failed.exists():
            shutil.rmtree(failed)
        os.replace(keep, failed)
        from auditlib.report.paths import report_dir_language

        res.engagement = res.engagement or report_dir_language(engagement)[0]   # '2026.nl' -> '2026'
        return failed / "report.ipynb"
    except Exception:
        _log.debug("leftovers: ignored", exc_info=True)
        return None

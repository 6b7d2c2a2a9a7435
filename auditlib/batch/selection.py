"""Which clients a batch runs, and which of them changed since their last good report
(`--changed-only`, read from the reports' manifests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from auditlib.errors import AuditError
from auditlib.files import reserved_name_problem


def client_folders(names: Sequence[str] = (), *, folder: str | Path | None = None,
                   clients_dir: str | Path | None = None) -> list[Path]:
    """The client folders to run: `names` (client ids, or paths to client folders) looked up in
    `folder` if given, else in `clients_dir`; no names: every client folder there.

    Raises AuditError for a missing folder or a client id given twice (before any work starts).
    """
    base = Path(folder) if folder else Path(clients_dir) if clients_dir else None
    if base is None or not base.is_dir():
        if folder or not names:
            raise AuditError(f"no clients folder at {base}")
    if not names:
        assert base is not None     # no names and no folder was refused above
        found = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    else:
        found = []
        for name in names:
            p = Path(name)
            if not (p.is_absolute() or "/" in name or p.is_dir()) and base is not None:
                p = base / name
            if not p.is_dir():
                raise AuditError(f"no client folder {p}")
            found.append(p)
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    reserved = [problem for p in unique.values() if (problem := reserved_name_problem(p.name))]
    if reserved:
        raise AuditError("; ".join(reserved))
    ids = [p.name for p in unique.values()]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise AuditError(f"two client folders share the id {', '.join(twice)}; a client id must be unique")
    return list(unique.values())


def _is_report_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".") and not path.name.endswith(".failed") \
        and (path / "manifest.json").is_file()


def read_manifest(report_dir: str | Path) -> dict:
    try:
        return json.loads((Path(report_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def manifest_hashes(manifest: dict) -> dict | None:
    """The input hashes a manifest recorded (`report.input_hashes()` when the report was made)."""
    value = manifest.get("inputs")
    return value if isinstance(value, dict) and value else None


def last_good_report(outputs_dir: str | Path, client_id: str, lang: str | None = None) -> Path | None:
    """The client's most recent complete report folder under outputs/<client>/ (None if none).

    With `lang`, only that language's reports count (outputs/<client>/<engagement>[.<lang>]/):
    an English report is never taken for the Dutch one, nor the other way round.
    """
    from auditlib.report.paths import report_dir_language

    base = Path(outputs_dir) / client_id
    if not base.is_dir():
        return None
    reports = [p for p in base.iterdir() if _is_report_dir(p)
               and (lang is None or report_dir_language(p.name)[1] == lang)]
    if not reports:
        return None
    return max(reports, key=lambda p: ((p / "manifest.json").stat().st_mtime_ns, p.name))


# Report parameters a batch may set for every client: a report made with other values is not current.
_COMPARED = {"anonymity_floor": 0, "engagement_id": "", "engagement_date": "", "exclude_id": ""}


def unchanged_report(client_dir: Path, settings, outputs_dir: Path, *, lang: str, formats: Sequence[str],
                     groups: Sequence[str] | None = None, extra_parameters: dict | None = None) -> Path | None:
    """The last good report if it is still current, else None.

    Current: the same input hashes (client folder, catalogue, benchmark, notebook, templates:
    `report.input_hashes`), the same language, peer groups, floor, engagement, date and excluded
    record, and every requested format present.
    """
    from auditlib.portfolio import REPORT_FILES
    from auditlib.report import input_hashes, split_groups

    last = last_good_report(outputs_dir, client_dir.name, lang)
    if last is None:
        return None
    manifest = read_manifest(last)
    recorded = manifest_hashes(manifest)
    if recorded is None:
        return None
    try:
        current = input_hashes(client_dir, settings)
    except (AuditError, OSError):
        return None
    if recorded != current:
        return None
    params = manifest.get("parameters") or {}
    if params.get("lang", "en") != lang:
        return None
    if split_groups(params.get("peer_groups") or "") != split_groups(list(groups) if groups else ""):
        return None
    asked = extra_parameters or {}
    if any((params.get(k) or default) != (asked.get(k) or default) for k, default in _COMPARED.items()):
        return None           # another floor, engagement, date or excluded record: not this report
    made = set(manifest.get("formats") or [])
    for f in formats:
        if (made and f not in made) or not (last / REPORT_FILES.get(f, f)).is_file():
            return None
    return last


def figures_from_manifest(manifest: dict) -> dict | None:
    """The key figures a report recorded in its manifest (result.key_figures), if it did."""
    figures = (manifest.get("result") or {}).get("key_figures")
    return figures if isinstance(figures, dict) and "dimensions" in figures else None

"""What a report was made from: SHA-256 of every input and output, and the manifest.

`input_hashes` is also what `auditlib batch --changed-only` compares.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from auditlib.config import Settings
from auditlib.report.parameters import ReportParameters
from auditlib.report.paths import REPORT_TEMPLATE_DIRS, TEMPLATES, report_dir_name


def _notebook() -> Path:
    """The report notebook: read from the package at call time, so a test may point it elsewhere."""
    import auditlib.report

    return auditlib.report.NOTEBOOK


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


def input_hashes(client_dir: str | Path, settings: Settings) -> dict[str, str]:
    """SHA-256 of every input of one client's report, keyed by a stable name.

    client/<file>      every file of the client folder (questionnaire, profile, earlier audits, notes)
    catalogue/<file>   every file of the catalogue folder
    benchmark/<file>   the benchmark file and its .meta.yaml sidecar
    notebook/<file>    the report notebook
    template/<file>    the report and commentary templates (auditlib/templates/report, .../commentary)
    code/auditlib      one hash over the library's own source and data files, and its version:
                       `--changed-only` rebuilds after an upgrade or a change to the report code
    Two runs with equal input hashes give the same report. `settings`: the run's (catalogue
    and benchmark paths), resolved by the entry point.
    """
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
    notebook = _notebook()
    if notebook.is_file():
        out[f"notebook/{notebook.name}"] = sha256_file(notebook)
    for folder in REPORT_TEMPLATE_DIRS:
        for p in _files(TEMPLATES / folder):
            out[f"template/{p.relative_to(TEMPLATES).as_posix()}"] = sha256_file(p)
    out["code/auditlib"] = code_hash()
    return out


_CODE_HASH: dict[tuple, str] = {}
_RUNNING_CODE: dict[str, str] = {}


def use_code_hash(value: str) -> None:
    """This process runs the code `value` was computed from (code_hash returns it from now on).

    Why: a batch's report children are forked from a warm parent and run the modules it imported;
    the parent's hash, taken when it imported them, is the one of the code a report ran, and each
    child listing and statting the package's ~200 files again took ~0.01 s of CPU per report. Set only
    in a forked report child (batch.local._child_main)."""
    _RUNNING_CODE["hash"] = value


def code_hash() -> str:
    """SHA-256 over the auditlib package's files (sources, templates, word lists) and its version,
    kept per process while no file's size or modification time changes (or as use_code_hash set it)."""
    from auditlib import __version__

    if "hash" in _RUNNING_CODE:
        return _RUNNING_CODE["hash"]

    root = Path(__file__).resolve().parents[1]
    files = [p for p in _files(root) if p.suffix not in (".pyc", ".pyo")]
    key = (__version__, tuple((p.as_posix(), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    if key not in _CODE_HASH:
        h = hashlib.sha256(f"auditlib {__version__}\n".encode())
        for p in files:
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + bytes.fromhex(sha256_file(p)))
        _CODE_HASH.clear()
        _CODE_HASH[key] = h.hexdigest()
    return _CODE_HASH[key]


def manifest(client_id: str, engagement: str, params: Mapping[str, Any], formats: Sequence[str],
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
        "lang": str(params.get("lang", "en")),
        "folder": report_dir_name(engagement, str(params.get("lang", "en"))),   # outputs/<client>/<folder>/
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

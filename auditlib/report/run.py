"""The engagement run: execute the report notebook and write every output safely.

API (`auditlib run`, the batch, the meeting and `make demo` call it):

    RunOutcome                 frozen dataclass below
    run_engagement(client, *, settings=None, engagement=None, lang="en", groups=None,
                   formats=("html", "pdf", "xlsx"), outputs_dir=None, cell_timeout=600,
                   extra_parameters=None) -> RunOutcome
        Never raises for a failing client: the outcome says "failed", with the reason and the
        kept failed notebook. Raises ParameterError only for a refused client id (e.g. one that
        would escape outputs/).

How a run works:

    1. check the arguments (client id, language, formats, peer groups, extra parameters) in
       this process, before any kernel starts: the caller's mistakes raise ParameterError;
    2. execute notebooks/audit_report.ipynb in-process with papermill's API, in a build
       folder next to the target (outputs/<client>/.<engagement>.<random>.tmp/); the kernel
       writes scores.xlsx and a small run-info.json from the very AuditResult the report shows;
    3. export report.html (auditlib.report.finalise: code hidden by cell tags, images as data:
       URIs, no script, no external URL) and print report.pdf from that HTML with the engine of
       settings.pdf_engine (auditlib.report.pdf: a warm headless Chromium, or WeasyPrint);
    4. write manifest.json last (auditlib.report.manifest), then swap the build folder into
       outputs/<client>/<engagement>/ (old one renamed aside, new one renamed in, old one
       deleted), so a good report is never replaced by a partial one. A report in another
       language than English goes to outputs/<client>/<engagement>.<lang>/ (paths.report_dir_name),
       so the languages never overwrite each other.

A failing run keeps its notebook, with papermill's error cell, in
outputs/<client>/<engagement>.failed/report.ipynb (replaced by the next failure, removed by
the next success) and returns RunOutcome(status="failed", error="cell N (...): Name: message").
"""

from __future__ import annotations

import logging
import datetime as _dt
import html as _html
import json
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from auditlib.config import Settings
from auditlib.errors import ParameterError
from auditlib.kinds import RunStatus
from auditlib.files import atomic_write, replace_dir, reserved_name_problem, trim_outputs, writable_dir
from auditlib.present import words
from auditlib.report.finalise import export_html, export_pdf
from auditlib.review import prepare_draft
from auditlib.report.manifest import _notebook, manifest as _manifest
from auditlib.report.parameters import split_groups, validate_parameters
from auditlib.report.paths import (CLIENT_ID, FORMATS, KERNEL_ARGUMENTS, OUTPUT_FILES, RUN_INFO,
                                   language_suffix_problem, report_dir_language, report_dir_name)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    client_id: str
    engagement: str
    status: RunStatus
    out_dir: Path | None = None      # outputs/<client>/<engagement>[.<lang>]/ when ok (paths.report_dir_name)
    failed_notebook: Path | None = None
    error: str | None = None         # one line: which cell failed and why, or what was refused
    seconds: float = 0.0
    manifest: dict = field(default_factory=dict)





def input_paths(settings: Settings, clients_dir: Path) -> dict[str, str]:
    """The notebook parameters that name a run's inputs, as its notebook and manifest record them
    (the Dask executor writes the submitting machine's into a worker's manifest with this too)."""
    return {"data_dir": str(Path(settings.data_dir).resolve()),
            "catalogue_dir": str(Path(settings.catalogue_dir).resolve()),
            "clients_dir": str(Path(clients_dir).resolve()),
            "benchmark": str(Path(settings.benchmark_path).resolve())}


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
    reserved = reserved_name_problem(cid)      # index.html, portfolio.json, *.failed ...
    if reserved:
        raise ParameterError(reserved)
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
        _log.debug("_engagement_for: exception ignored", exc_info=True)
        pass
    existing = sorted(report_dir_language(p.name)[0] for p in client_out.iterdir()   # '2026.nl' is engagement 2026
                      if p.is_dir() and CLIENT_ID.fullmatch(p.name) and not p.name.endswith(".failed")) \
        if client_out.is_dir() else []
    return existing[-1] if existing else "unknown"


def _cell_name(source: str) -> str:
    """A cell's name: its first comment up to ':' or '(' (the notebook's convention), else its first line."""
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("#") and not line.startswith("# NBVAL"):
            return re.split(r"[:(]", line.lstrip("# "), maxsplit=1)[0].strip()
    first = source.strip().splitlines()[0] if source.strip() else ""
    return first[:50]


def _one_line(text: object, limit: int = 400) -> str:
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


def _whole_notebook(path: Path) -> bool:
    """A notebook file that reads completely (a write on a full disk can leave it cut short)."""
    try:
        import nbformat

        return bool(nbformat.read(str(path), as_version=4).cells)
    except Exception:
        _log.debug("_whole_notebook: exception ignored", exc_info=True)
        return False


def _trim_failed(path: Path) -> None:
    """A failed notebook of sensible size: long outputs cut to head and tail (files.trim_outputs)."""
    try:
        import nbformat

        nb = nbformat.read(str(path), as_version=4)
        if trim_outputs(nb):
            atomic_write(path, lambda tmp: nbformat.write(nb, str(tmp)))
    except Exception:   # the untrimmed notebook is still a whole one
        _log.debug("_trim_failed: exception ignored", exc_info=True)
        pass


def _keep_failed(build: Path, failed: Path) -> Path:
    """Keep only the failed notebook of a build, at outputs/<client>/<engagement>.failed/."""
    for p in build.iterdir():
        if p.name != OUTPUT_FILES["ipynb"]:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    replace_dir(build, failed)
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
        try:        # never cut the notebook short in place (a full disk): the reason is optional
            atomic_write(path, lambda tmp: nbformat.write(nb, str(tmp)))
        except OSError:
            pass
    if not _whole_notebook(build / OUTPUT_FILES["ipynb"]):
        return None
    return _keep_failed(build, client_out / f"{engagement}.failed")


def _cell_timings(nb) -> tuple[float | None, float, dict[str, float]]:
    """(first cell start as epoch seconds, total cell seconds, seconds per named cell)."""
    first: float | None = None
    total = 0.0
    cells: dict[str, float] = {}
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
                   outputs_dir: str | Path | None = None, cell_timeout: float = 600,
                   extra_parameters: Mapping[str, Any] | None = None) -> RunOutcome:
    """Run one engagement's report into outputs/<client>/<engagement>/ (see the module docstring).

    Parameters
    ----------
    client
        A client id (a folder name in settings.clients_dir) or a Path to a client folder.
    settings
        The run's folders (default: ``Settings.from_env()``, read here as an entry point).
    engagement
        The output folder's name (default: the engagement_id parameter, else the benchmark year).
    lang
        "en" or "nl".
    groups
        Peer groups (list or comma-separated; None = the catalogue's).
    formats
        A subset of html, pdf, xlsx; report.ipynb and manifest.json are always written.
    outputs_dir
        Where outputs/ is (default: settings.outputs_dir).
    cell_timeout
        Seconds one notebook cell may take (a float: 30.5 is accepted).
    extra_parameters
        Further notebook parameters (earlier_audit, engagement_date, ...).

    Returns
    -------
    RunOutcome
        status "ok" with the output folder, or "failed" with the reason and the kept notebook.

    Raises
    ------
    ParameterError
        Before any kernel starts, for the caller's mistakes: a refused or unknown client id, a
        bad language, format, peer group or parameter. Every failure of the client's own inputs
        or of the run gives RunOutcome(status="failed", ...) instead.
    """
    t_start = time.perf_counter()
    timings: dict[str, Any] = {}
    settings = settings or Settings.from_env()
    try:
        cell_timeout = float(cell_timeout)
    except (TypeError, ValueError):
        raise ParameterError(f"the per-cell timeout must be a number of seconds (got {cell_timeout!r})") from None
    if not (math.isfinite(cell_timeout) and cell_timeout > 0):
        raise ParameterError(f"the per-cell timeout must be a positive number of seconds (got {cell_timeout:g})")
    client_id, clients_dir = _client_id(client, settings)
    formats = _formats(formats)
    if "pdf" in formats:            # an unknown engine, or chromium asked for and missing: before any kernel
        from auditlib.report.pdf import resolve_engine

        resolve_engine(settings.pdf_engine, settings.chromium)
    extra = dict(extra_parameters or {})
    reserved = {"client_id", "lang", "peer_groups", "clients_dir", "export_dir", "excel"} & set(extra)
    if reserved:
        raise ParameterError(f"pass {', '.join(sorted(reserved))} as run_engagement arguments, "
                             f"not as extra parameters")
    params: dict[str, Any] = {
        "client_id": client_id, "lang": lang,
        "peer_groups": split_groups(groups) if groups is not None else "",
        **input_paths(settings, clients_dir),
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
    if engagement.lower().endswith((".failed", ".tmp", ".old", ".lock")):
        # outputs/<client>/<x>.failed holds x's failed run: a good run of x would delete this report
        raise ParameterError(f"refused engagement name {engagement!r}: it ends like a working folder of the "
                             "outputs (.failed, .tmp, .old, .lock)")
    suffix_problem = language_suffix_problem(engagement)
    if suffix_problem:
        raise ParameterError(suffix_problem)
    folder = report_dir_name(engagement, lang)      # languages apart: 2026/ (en), 2026.nl/ (nl)
    target = client_out / folder
    failed_dir = client_out / f"{folder}.failed"
    writable_dir(outputs)
    writable_dir(client_out, "client's outputs folder")
    build = Path(tempfile.mkdtemp(prefix=f".{folder}.", suffix=".tmp", dir=client_out))
    os.chmod(build, 0o777 & ~_umask())          # mkdtemp makes it private; the report folder is not
    params["export_dir"] = str(build)
    params["excel"] = "xlsx" in formats
    timings["prepare"] = round(time.perf_counter() - t_start, 3)

    def failed(error: str) -> RunOutcome:
        nb_path = build / OUTPUT_FILES["ipynb"]
        kept = None
        if nb_path.is_file() and _whole_notebook(nb_path):
            _trim_failed(nb_path)
            kept = _keep_failed(build, failed_dir)
        elif nb_path.is_file():    # cut short (a full disk): never kept, never linked from the index
            error += "; the failed notebook could not be saved whole (is the disk full?) and was not kept"
        shutil.rmtree(build, ignore_errors=True)
        return RunOutcome(client_id, engagement, "failed", None, kept, error,
                          round(time.perf_counter() - t_start, 3), {"timings": timings})

    step = "execute"
    pdf_engine = None
    try:
        import papermill

        t0 = time.perf_counter()
        wall0 = time.time()
        try:
            nb = _execute(papermill, params, build, cell_timeout)
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

        client_name = str(info.get("client", {}).get("name", client_id))
        title = f"{words(lang)['report_title']}: {client_name}"
        step = "commentary cells"        # issue 14: the interpretation as Markdown cells, edits carried over
        review = prepare_draft(nb, info.pop("review", None), client_dir=checked.client_dir, lang=lang,
                               out_dir=build, title=title)
        if review:
            import nbformat

            atomic_write(build / OUTPUT_FILES["ipynb"], lambda tmp: nbformat.write(nb, str(tmp)))
        if "html" in formats or "pdf" in formats:
            step = "html export"
            t0 = time.perf_counter()
            html = export_html(nb, lang=lang, title=title, client=client_name)
            timings["html"] = round(time.perf_counter() - t0, 3)
            if "html" in formats:
                (build / OUTPUT_FILES["html"]).write_text(html, encoding="utf-8")
            if "pdf" in formats:
                step = "pdf export"
                t0 = time.perf_counter()
                pdf_engine = export_pdf(html, build / OUTPUT_FILES["pdf"], build, engine=settings.pdf_engine,
                                        chromium=settings.chromium)
                timings["pdf"] = round(time.perf_counter() - t0, 3)

        step = "manifest"
        t0 = time.perf_counter()
        manifest = _manifest(client_id, engagement, params, formats, checked, info, build, timings)
        manifest["timings"]["manifest"] = round(time.perf_counter() - t0, 3)   # hashing inputs and outputs
        if pdf_engine:
            manifest["pdf_engine"] = pdf_engine     # chromium | weasyprint (auditlib.report.pdf)
        if review:
            manifest["review"] = review   # generated passages, code-cell hashes, carried edits (auditlib.review)
        manifest["timings"]["total"] = round(time.perf_counter() - t_start, 3)  # up to the swap
        from auditlib.export import write_json

        write_json(build / "manifest.json", manifest)
        step = "swap into place"
        replace_dir(build, target)
        if failed_dir.exists():
            shutil.rmtree(failed_dir, ignore_errors=True)
        return RunOutcome(client_id, engagement, "ok", target, None, None,
                          round(time.perf_counter() - t_start, 3), manifest)
    except Exception as exc:  # export, manifest or swap: keep the notebook, report one line
        return failed(f"{step}: {type(exc).__name__}: {_one_line(exc)}")
    finally:
        if build.exists() and build.parent == client_out:
            shutil.rmtree(build, ignore_errors=True)


KERNEL_START_FAILED = "Kernel died before replying to kernel_info"


def _execute(papermill, params: dict, build: Path, cell_timeout: float):
    """The notebook run by papermill; a kernel process that died before its first reply is started once more.

    Why: jupyter_client picks the kernel's five TCP ports and the kernel binds them a moment later;
    another process binding an ephemeral port in between makes the kernel die at start ("Address
    already in use"). No cell has run then, so a second start is the same run. (`auditlib run` and
    the batch use the in-process kernel, which has no ports.)
    """
    for attempt in (1, 2):
        try:
            return papermill.execute_notebook(
                str(_notebook()), str(build / OUTPUT_FILES["ipynb"]), parameters=params, kernel_name="python3",
                cwd=str(build), execution_timeout=math.ceil(cell_timeout), progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, extra_arguments=KERNEL_ARGUMENTS)
        except RuntimeError as exc:
            if attempt == 2 or KERNEL_START_FAILED not in str(exc):
                raise
    raise AssertionError("unreachable")


def _write_input_copy(build: Path, params: Mapping[str, Any]) -> None:
    """When papermill wrote nothing (e.g. the kernel never started), keep the parameterised notebook."""
    try:
        import papermill

        papermill.execute_notebook(str(_notebook()), str(build / OUTPUT_FILES["ipynb"]), parameters=dict(params),
                                   prepare_only=True, kernel_name="python3", progress_bar=False)
    except Exception:
        _log.debug("_write_input_copy: exception ignored", exc_info=True)
        pass



"""The auditor's workspace: a client's report notebook to explore in JupyterLab, as a copy.

`auditlib open CLIENT` writes the report template with the client's parameters injected (as
papermill does for a run) to outputs/<client>/<engagement>[.<lang>].workspace.ipynb, next to
the report folder (whose content `run` replaces whole), and opens it in JupyterLab. The
tracked template notebooks/audit_report.ipynb is never opened for editing, so saving in
JupyterLab cannot change it, break the tests or mark every client as changed. An existing
workspace is kept (the auditor's own cells and edits stay) unless a fresh one is asked for.
The copy carries absolute paths, so it runs from wherever JupyterLab was started; it exports
nothing (export_dir is empty): the report itself is made by `auditlib run`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from auditlib.config import Settings
from auditlib.errors import AuditError
from auditlib.report.paths import CLIENT_ID, language_suffix_problem, report_dir_name

SUFFIX = ".workspace.ipynb"


@dataclass(frozen=True)
class Workspace:
    """Where the copy is, and whether this call wrote it (False: an existing one was kept)."""

    notebook: Path
    written: bool
    parameters: dict


def workspace_path(outputs_dir: Path, client_id: str, engagement: str, lang: str) -> Path:
    """outputs/<client>/<engagement>[.<lang>].workspace.ipynb: beside the report folder, never inside it."""
    return Path(outputs_dir) / client_id / f"{report_dir_name(engagement, lang)}{SUFFIX}"


def open_workspace(client_dir: Path, *, settings: Settings, lang: str = "en", engagement: str | None = None,
                   outputs_dir: Path | None = None, fresh: bool = False) -> Workspace:
    """Write the parameterised copy of the report notebook for one client (or keep the existing one).

    Parameters
    ----------
    client_dir
        The client's folder.
    settings
        The resolved settings (catalogue, benchmark, data folder; outputs unless given).
    lang
        The report language of the copy.
    engagement
        The engagement id (default: the questionnaire's benchmark year).
    outputs_dir
        The outputs folder (default: settings.outputs_dir).
    fresh
        Replace an existing workspace notebook (the auditor's edits in it are lost).

    Returns
    -------
    Workspace
        The copy's path and whether it was written now.

    Raises
    ------
    AuditError
        A client id or engagement name that cannot be a folder name, a questionnaire that cannot
        be read (with every problem), or an unwritable outputs folder.
    """
    import nbformat
    import papermill

    from auditlib.catalogue import load_catalogue
    from auditlib.files import atomic_write
    from auditlib.intake import load_client
    from auditlib.report import validate_parameters
    from auditlib.report.manifest import _notebook

    client_dir = Path(client_dir).resolve()
    if not client_dir.is_dir():
        raise AuditError(f"no client folder {client_dir}")
    client_id = client_dir.name
    if not CLIENT_ID.fullmatch(client_id):
        raise AuditError(f"refused client id {client_id!r} (letters, digits, '.', '_', '-')")
    if engagement is None:
        engagement = str(load_client(client_dir, load_catalogue(settings.catalogue_dir)).profile.benchmark_year)
    if not CLIENT_ID.fullmatch(engagement) or engagement.lower().endswith((".failed", ".tmp", ".old")):
        raise AuditError(f"refused engagement name {engagement!r} (letters, digits, '.', '_', '-')")
    problem = language_suffix_problem(engagement)
    if problem:
        raise AuditError(problem)
    params = {"client_id": client_id, "lang": lang, "engagement_id": engagement,
              "data_dir": str(Path(settings.data_dir).resolve()),
              "catalogue_dir": str(Path(settings.catalogue_dir).resolve()),
              "clients_dir": str(client_dir.parent),
              "benchmark": str(Path(settings.benchmark_path).resolve())}
    validate_parameters(params)                       # the caller's mistakes, before anything is written
    target = workspace_path(Path(outputs_dir or settings.outputs_dir).resolve(), client_id, engagement, lang)
    if target.exists() and not fresh:
        return Workspace(target, False, params)
    target.parent.mkdir(parents=True, exist_ok=True)
    nb = papermill.execute_notebook(str(_notebook()), None, parameters=params, prepare_only=True,
                                    kernel_name="python3", progress_bar=False, log_output=False)
    note = nbformat.v4.new_markdown_cell(
        f"**Workspace for {client_id}, engagement {engagement} ({lang})**: your own copy of the report "
        "notebook with the client's parameters below. Explore and add cells freely: the template "
        "`notebooks/audit_report.ipynb` is not touched, and `auditlib open` keeps this file. The report "
        f"itself is written by `auditlib run {client_id}` (this copy exports nothing).")
    note.metadata["tags"] = ["workspace-note"]
    nb.cells.insert(0, note)
    atomic_write(target, lambda tmp: nbformat.write(nb, str(tmp)))
    return Workspace(target, True, params)


def lab_command(notebook: Path, *, browser: bool = True) -> list[str]:
    """The JupyterLab command that serves the workspace's folder and opens the notebook."""
    cmd = [sys.executable, "-m", "jupyter", "lab", notebook.name, f"--ServerApp.root_dir={notebook.parent}"]
    return cmd + ([] if browser else ["--no-browser"])

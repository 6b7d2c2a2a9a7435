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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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

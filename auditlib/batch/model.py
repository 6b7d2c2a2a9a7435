"""What goes into a batch and what comes out: one client's Job (picklable, for spawned
children), its ClientResult, and the BatchResult with the exit status."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_FORMATS = ("html", "pdf", "xlsx")


@dataclass(frozen=True)
class Job:
    """What a child needs to make one client's report (picklable for spawned children)."""

    client_dir: Path
    settings: Any
    lang: str
    formats: tuple[str, ...]
    outputs_dir: Path
    cell_timeout: float
    groups: tuple[str, ...] | None = None
    extra_parameters: dict | None = None
    warm: bool = True
    log_path: Path | None = None


@dataclass
class ClientResult:
    client_id: str
    client_dir: Path
    status: str                      # ok | skipped | failed | interrupted
    seconds: float = 0.0
    reason: str | None = None
    engagement: str | None = None
    out_dir: Path | None = None
    failed_notebook: Path | None = None
    figures: dict | None = None


@dataclass
class BatchResult:
    results: list[ClientResult]
    index: Path | None
    interrupted: bool = False
    wall_seconds: float = 0.0

    @property
    def failed(self) -> list[ClientResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else (1 if self.failed else 0)

"""Executors: HOW a batch's reports are made, apart from WHICH ones and what follows (orchestrate.py).

An executor gets the jobs the orchestration chose and a `Sink`, makes each report in its own
process, and hands every `ClientResult` to the sink as it arrives (the sink keeps the results,
the progress bar and the counts). It owns its workers, its per-cell backstop and its reaction to
Ctrl-C; it returns True when it was interrupted. The orchestration owns the checks, the outputs
lock, `--changed-only`, the summary and the portfolio index, the same for every executor.

Executors are found by name, like papermill's engines: a small registry of factories. The built-in
ones are imported only when chosen (a batch on one machine never imports dask):

    local   the warm fork executor on this machine (auditlib/batch/local.py), the default
    dask    a dask.distributed cluster: `--scheduler ADDRESS`, or `--scheduler local` for a
            LocalCluster on this machine (auditlib/batch/dask_executor.py)

A third-party executor registers itself with `register_executor("name", Factory)`, or through the
entry point group `auditlib.executors`; adding one touches one module.
"""

from __future__ import annotations

import logging
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from auditlib.batch.model import ClientResult, Job
from auditlib.errors import AuditError

_log = logging.getLogger(__name__)

# name -> "module:attribute" of a factory; imported on first use.
BUILTIN_EXECUTORS = {
    "local": "auditlib.batch.local:LocalExecutor",
    "dask": "auditlib.batch.dask_executor:DaskExecutor",
}
ENTRY_POINT_GROUP = "auditlib.executors"
_REGISTERED: dict[str, Callable[..., "Executor"]] = {}


@dataclass
class BatchContext:
    """What every executor is told about the batch (the same for every job)."""

    settings: Any
    outputs_dir: Path
    cell_timeout: float
    lang: str
    formats: tuple[str, ...]
    workers: int
    kill_grace: float
    runner: Callable[[Job], Any] | None = None     # tests: replaces the report maker in the children
    warm: bool | None = None
    options: dict = field(default_factory=dict)    # executor options (e.g. the Dask scheduler's address)


class Sink(Protocol):
    """Where an executor reports: a status line while it prepares, and each client's result."""

    def status(self, text: str) -> None: ...

    def note(self, text: str) -> None: ...

    def done(self, result: ClientResult) -> None: ...


class Executor(Protocol):
    def run(self, jobs: Sequence[Job], ctx: BatchContext, sink: Sink) -> bool:
        """Make every job's report; hand each result to `sink.done`; True when stopped by Ctrl-C.

        A job without a result when it returns counts as interrupted (not started)."""
        ...


def register_executor(name: str, factory: Callable[..., Executor]) -> None:
    """Make `factory(**options)` the executor called `name` (replaces one of the same name)."""
    _REGISTERED[name] = factory


def executor_names() -> list[str]:
    return sorted(set(BUILTIN_EXECUTORS) | set(_REGISTERED) | set(_entry_points()))


def _entry_points() -> dict[str, Any]:
    try:
        from importlib.metadata import entry_points

        return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    except Exception:   # broken metadata never stops a batch that uses a built-in executor
        _log.debug("executors: ignored", exc_info=True)
        return {}


def get_executor(name: str, **options: Any) -> Executor:
    """The executor called `name`, made with `options`; AuditError naming the known ones otherwise."""
    factory = _REGISTERED.get(name)
    if factory is None and name in BUILTIN_EXECUTORS:
        module, attr = BUILTIN_EXECUTORS[name].split(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            raise AuditError(f"the {name!r} batch executor needs a package that is not installed "
                             f"({exc.name or exc}); install it with pip (see the README)") from None
    if factory is None and name in (eps := _entry_points()):
        factory = eps[name].load()
    if factory is None:
        raise AuditError(f"unknown batch executor {name!r}; expected one of {', '.join(executor_names())}")
    return factory(**options)


def executor_for(scheduler: str | None) -> tuple[str, dict]:
    """The executor and its options for the command line's `--scheduler` (None: the local one)."""
    if scheduler is None:
        return "local", {}
    scheduler = scheduler.strip()
    if not scheduler:
        raise AuditError("--scheduler needs an address (tcp://host:8786) or 'local'")
    return "dask", {"scheduler": scheduler}


def unfinished(jobs: Sequence[Job], done: set[str], reason: str = "not started (Ctrl-C)") -> list[ClientResult]:
    """Interrupted results for the jobs an executor gave no result for."""
    return [ClientResult(j.client_dir.name, j.client_dir, "interrupted", reason=reason)
            for j in jobs if j.client_dir.name not in done]

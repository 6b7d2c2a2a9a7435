"""The batch executor registry: executors by name, apart from the orchestration (auditlib/batch/executors.py)."""

from __future__ import annotations

import pytest

from auditlib.batch import executors, run_batch
from auditlib.batch.model import ClientResult
from auditlib.errors import AuditError


def test_builtin_executors_are_known_by_name():
    assert {"local", "dask"} <= set(executors.executor_names())
    assert type(executors.get_executor("local")).__name__ == "LocalExecutor"
    assert executors.get_executor("dask", scheduler="local").scheduler == "local"


def test_an_unknown_executor_or_option_is_refused_with_the_known_names():
    with pytest.raises(AuditError, match="unknown batch executor 'slurmish'; expected one of .*dask.*local"):
        executors.get_executor("slurmish")
    with pytest.raises(AuditError, match="takes no options"):
        executors.get_executor("local", scheduler="x")


def test_scheduler_option_chooses_the_executor():
    assert executors.executor_for(None) == ("local", {})
    assert executors.executor_for("local") == ("dask", {"scheduler": "local"})
    assert executors.executor_for("tcp://h:8786") == ("dask", {"scheduler": "tcp://h:8786"})
    with pytest.raises(AuditError, match="needs an address"):
        executors.executor_for(" ")


class _Recording:
    """An executor registered from outside: the orchestration hands it the jobs and keeps what it reports."""

    seen: list = []

    def __init__(self, flavour: str = "plain"):
        self.flavour = flavour

    def run(self, jobs, ctx, sink):
        _Recording.seen = [(j.client_dir.name, ctx.lang, ctx.formats, self.flavour) for j in jobs]
        sink.status("working")
        first, *rest = jobs
        sink.done(ClientResult(first.client_dir.name, first.client_dir, "failed", 1.0, "made up by the test"))
        return False          # the rest got no result: the orchestration counts them interrupted


def test_a_registered_executor_runs_a_batch_through_the_same_orchestration(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "clients" / name).mkdir(parents=True)
    executors.register_executor("recording", _Recording)
    try:
        result = run_batch([tmp_path / "clients" / "a", tmp_path / "clients" / "b"], outputs_dir=tmp_path / "out",
                           formats=("html",), lang="nl", progress=False, write_index=True,
                           executor="recording", executor_options={"flavour": "custom"})
    finally:
        executors._REGISTERED.pop("recording", None)
    assert _Recording.seen == [("a", "nl", ("html",), "custom"), ("b", "nl", ("html",), "custom")]
    statuses = {r.client_id: (r.status, r.reason) for r in result.results}
    assert statuses["a"] == ("failed", "made up by the test")
    assert statuses["b"][0] == "interrupted"
    assert result.exit_code == 1 and result.index is not None and result.index.is_file()

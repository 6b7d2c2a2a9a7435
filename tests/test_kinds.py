"""The Literal aliases of auditlib/kinds.py agree with what the code produces and accepts."""

from __future__ import annotations

from auditlib import kinds
from auditlib.audit import analyse
from auditlib.testing import make_profile


def test_languages_and_labels_agree_with_the_runtime_tuples():
    from auditlib import benchmark, journey, present

    assert kinds.LANGS == present.LANGUAGES
    assert kinds.HELD_LABELS == benchmark.LABELS
    assert kinds.LABELS == journey.LABELS


def test_results_use_only_the_named_values(catalogue, synthetic_db):
    from auditlib.interpret import interpret

    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db)
    assert set(result.positions["status"]) <= set(kinds.POSITION_STATUSES)
    assert set(result.labels.verdicts) == set(kinds.LABELS)
    assert {st.source for st in interpret(result, "en").statements()} <= {"generated", "auditor"}

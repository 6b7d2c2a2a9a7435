"""The enum-like strings that pass between modules, as Literal types for mypy.

The values stay plain strings (they are written to YAML, JSON, manifests and DataFrames);
these aliases name the allowed ones in one place, and tests/test_kinds.py checks they agree
with the runtime tuples the code validates against.
"""

from __future__ import annotations

from typing import Literal, get_args

Lang = Literal["en", "nl"]                                   # a client-facing language
Label = Literal["bronze", "silver", "gold"]                  # a label one can be ready for
HeldLabel = Literal["none", "bronze", "silver", "gold"]      # the label an organisation holds
Trend = Literal["improved", "declined", "stable", "not_comparable", "context", "not_ranked"]
PositionStatus = Literal["ok", "context", "group_below_floor", "too_few_answers", "not_answered",
                         "suppressed_differencing"]     # withheld by the disclosure rules
StatementSource = Literal["generated", "auditor"]            # who wrote a sentence of the commentary
RunStatus = Literal["ok", "failed", "skipped"]               # one engagement's report run (skipped: unchanged)

LANGS: tuple[str, ...] = get_args(Lang)
LABELS: tuple[str, ...] = get_args(Label)
HELD_LABELS: tuple[str, ...] = get_args(HeldLabel)
TRENDS: tuple[str, ...] = get_args(Trend)
POSITION_STATUSES: tuple[str, ...] = get_args(PositionStatus)

"""Peer groups in a meeting: the live n of a custom group, and the refusals.

Why its own module: the differencing rule holds across the whole meeting, not one result.
Every group the screen has shown (built-in or custom, also one switched away from later) stays
in the meeting's ledger (auditlib.disclosure.DisclosureLedger, the rule a report applies within
one result), and a new group, or a new result after a switch of the chosen group, is refused
when it would break the differencing rule against anything shown earlier in the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from auditlib.disclosure import SHOWN_COLUMNS, Admission, DisclosureLedger
from auditlib.errors import ParameterError
from auditlib.peers import GroupSpec, PeerGroup, Reference, parse_custom, resolve


@dataclass(frozen=True)
class Refusal:
    """Why a group may not be shown: 'syntax', 'name', 'floor' or 'disclosure'."""

    kind: str
    reason: str = ""                  # syntax: the parser's message; name: the name
    other: str = ""                   # disclosure: the earlier group
    admission: Admission | None = field(default=None, compare=False)   # disclosure: the ledger's verdict

    def message(self, lang: str, floor: int) -> str:
        return self.admission.message(lang, floor) if self.admission is not None else self.reason


def meeting_ledger(ref: Reference, floor: int) -> DisclosureLedger:
    """One ledger per meeting session (auditlib.disclosure's, the same rule as a report's)."""
    return DisclosureLedger(ref, floor)


def shown_indicators(result, group: PeerGroup) -> np.ndarray:
    """Per catalogue indicator: does the result show a statistic of this group?"""
    pos = result.positions_in(group.requested)
    return pos[list(SHOWN_COLUMNS)].notna().any(axis=1).to_numpy()


def admit_result(ledger: DisclosureLedger, result) -> Refusal | None:
    """Check every shown group of a new result against the meeting so far; record it if all pass.

    Within one result analyse() already applied the rule; this adds what earlier results of the
    same meeting showed (a group switched away from still counts).
    """
    checks = []
    for g in result.peer_groups:
        if not g.available or g.mask is None:
            continue
        shown = shown_indicators(result, g)
        verdict = ledger.check(g.requested, g.mask, shown)
        if not verdict.allowed or (shown & ~verdict.indicators).any():
            return Refusal("disclosure", other=verdict.refusals[0].other if verdict.refusals else "",
                           admission=verdict)
        checks.append((g, shown))
    for g, shown in checks:
        ledger.record(g.requested, g.mask, shown)
    return None


@dataclass(frozen=True)
class Candidate:
    """A custom group as typed, checked: its spec, resolved group, and refusal if any."""

    text: str
    spec: GroupSpec | None
    group: PeerGroup | None
    refusal: Refusal | None

    @property
    def public_n(self) -> int | None:
        return self.group.public_n if self.group is not None and self.refusal is None else None


def refusal(candidate: GroupSpec, group: PeerGroup, ledger: DisclosureLedger,
            used_names: list[str]) -> Refusal | None:
    """The one decision whether the meeting may show a new group (before it is analysed)."""
    if candidate.key in used_names:
        return Refusal("name", reason=candidate.key)
    if not group.available or group.mask is None or group.key != candidate.key:
        return Refusal("floor")                          # a custom group never silently falls back here
    verdict = ledger.check(candidate.key, group.mask)
    if not verdict.allowed:
        return Refusal("disclosure", other=verdict.refusals[0].other, admission=verdict)
    return None


def check_custom(name: str, filters: str, client, ref: Reference, catalogue, *, floor: int,
                 exclude: np.ndarray, ledger: DisclosureLedger, used_names: list[str]) -> Candidate:
    """Parse 'name' + 'column:value,...', resolve it against the database, and decide."""
    text = f"{name.strip()}={filters.strip()}"
    try:
        spec = parse_custom(text)
    except (ParameterError, ValueError, IndexError) as exc:   # a message, never a traceback
        return Candidate(text, None, None, Refusal("syntax", reason=str(exc)))
    if not spec.custom:
        return Candidate(text, spec, None, Refusal("name", reason=spec.key))
    group = resolve(spec, client, ref, catalogue, floor=floor, exclude=exclude)
    return Candidate(text, spec, group, refusal(spec, group, ledger, used_names))

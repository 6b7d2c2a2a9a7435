"""The interpretation meeting: a live screen for the auditor and the cluster manager.

    texts.py        the screen's words in English and Dutch
    groups.py       custom groups, their live n, and the meeting-wide differencing ledger
    whatif.py       answers checked like the intake, the what-if confidentiality rule, flipped criteria
    session.py      MeetingSession: the meeting's state and every rule, without widgets
    notes_store.py  notes edited on screen, merged back into notes.yaml without losing a word
    scenarios.py    scenarios.yaml in the client folder, and the report's scenario appendix
    summary.py      the meeting summary (Markdown or HTML)
    render.py       the screen's HTML panes, every figure through auditlib.present
    widgets.py      MeetingApp: ipywidgets wired to a session
    serve.py        Voilà on localhost (`auditlib meeting CLIENT`)

`notebooks/interpretation_meeting.ipynb` is thin: its parameters (the report's names) and one
call, `meeting_from_parameters(globals())`.
"""

from __future__ import annotations

from typing import Any, Mapping

MEETING_ONLY = {"outputs_dir": ((str,), "", "where the report button writes; '' = outputs/ next to the data "
                                            "folder, or $AUDITLIB_OUTPUTS")}


def meeting_from_parameters(namespace: Mapping[str, Any]):
    """The meeting screen from the notebook's parameters (checked like the report's)."""
    from dataclasses import replace
    from pathlib import Path

    from auditlib.meeting.session import MeetingSession
    from auditlib.meeting.widgets import MeetingApp
    from auditlib.report import PARAMETERS, validate_parameters

    shared = {k: v for k, v in namespace.items() if k in PARAMETERS}
    params = validate_parameters(shared)
    settings = params.settings
    outputs = namespace.get("outputs_dir") or ""
    if outputs:
        settings = replace(settings, outputs_dir=Path(outputs))
    session = MeetingSession(params.client_dir, lang=params.lang, groups=list(params.groups) or None,
                             earlier_audit=params.earlier_audit, anonymity_floor=params.anonymity_floor,
                             settings=settings)
    return MeetingApp(session)


__all__ = ["meeting_from_parameters"]

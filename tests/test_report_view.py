"""ReportView (auditlib/report/view*.py): every fragment that shows client- or auditor-supplied
text escapes it, whatever the field it comes from."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest

from auditlib.audit import analyse
from auditlib.notes import AuditorNotes, Note
from auditlib.report.fragments import Fragment
from auditlib.report.view import ReportView
from auditlib.testing import make_profile

# Markup in every field a client or an auditor writes: the name, a custom group's name, notes.
CLIENT_NAME = "<b>Evil</b> & Co"
GROUP_NAME = "<i>mine</i>"
NOTE = "<script>alert('x')</script> & more"
SUPPLIED = (CLIENT_NAME, GROUP_NAME, "<script>alert('x')</script>")


def _escaped(text: str) -> tuple[str, ...]:
    """The forms an escaped text takes (quotes escaped or not)."""
    import html

    import markupsafe

    return (str(markupsafe.escape(text)), html.escape(text), html.escape(text, quote=False))


def fragments(view: ReportView) -> dict[str, Fragment]:
    """Every fragment the view makes: each method without required arguments, and the
    per-dimension ones for every dimension."""
    out: dict[str, Fragment] = {}
    for name, method in inspect.getmembers(view, inspect.ismethod):
        if name.startswith("_") or name in ("chart", "heading", "intro", "export", "run_info"):
            continue
        params = [p for p in inspect.signature(method).parameters.values()
                  if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD]
        if not params:
            got = method()
            if isinstance(got, Fragment):
                out[name] = got
        elif [p.name for p in params] == ["dimension"]:
            for dim in view.catalogue.dimensions:
                out[f"{name}({dim.id})"] = method(dim.id)
    return out


@pytest.fixture(scope="module", params=["en", "nl"])
def view(request, catalogue, synthetic_db):
    notes = AuditorNotes((Note("overall", NOTE), Note("dimension:services", NOTE)), ())
    profile = dataclasses.replace(make_profile(catalogue), name=CLIENT_NAME)
    result = analyse(profile, catalogue=catalogue, benchmark=synthetic_db, notes=notes,
                     groups=[f"{GROUP_NAME}=field:ict", "all", "country"])
    return ReportView.from_result(result, request.param, benchmark=synthetic_db)


def test_every_fragment_escapes_supplied_text(view):
    made = fragments(view)
    assert len(made) >= 10, sorted(made)
    shown = {s: [] for s in SUPPLIED}
    for name, frag in made.items():
        for raw in SUPPLIED:
            assert raw not in frag.html, f"{name} shows {raw!r} unescaped"
            tag = re.escape(raw.split(">")[0] + ">")
            assert not re.search(tag, frag.html), f"{name} lets markup from {raw!r} through"
            if any(form in frag.html for form in _escaped(raw)):
                shown[raw].append(name)
    # not vacuous: each supplied text is shown (escaped) somewhere, the group in the peer-group list
    assert all(shown.values()), shown
    assert "peer_groups" in shown[GROUP_NAME] or "peer_comparison" in shown[GROUP_NAME], shown[GROUP_NAME]

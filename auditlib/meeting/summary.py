"""The meeting summary: what was agreed, as one Markdown or HTML file that outlives the screen.

Written to outputs/<client>/meeting-<date>.md (or .html), atomically. It holds the agreed
improvement areas, the notes by anchor, the scenarios chosen for the report with their changed
answers, and the peer groups used; every figure through `auditlib.present`.
"""

from __future__ import annotations

import datetime as _dt
import html
from pathlib import Path

from auditlib import present
from auditlib.files import atomic_write_text
from auditlib.meeting.texts import rw, t


def anchor_name(anchor: str, catalogue, lang: str) -> str:
    """'overall', a dimension's or an indicator's name in the reader's language."""
    if anchor == "overall":
        return t(lang, "overall")
    kind, _, target = anchor.partition(":")
    if kind == "dimension":
        return f"{rw(lang, 'dimension')}: {catalogue.dimension(target).name[lang]}"
    return f"{rw(lang, 'indicator')}: {catalogue.indicator(target).name[lang]}"


def summary_markdown(session, today: _dt.date) -> str:
    lang, cat, result = session.lang, session.catalogue, session.result
    out = [f"# {t(lang, 'summary_title', name=result.client.name)}", "",
           t(lang, "summary_date", date=present.date(today, lang)), ""]
    out += [f"## {t(lang, 'summary_areas')}", ""]
    out += [f"- {cat.indicator(a).name[lang]}" for a in session.notes.areas] or [f"- {rw(lang, 'none')}"]
    out += ["", f"## {t(lang, 'label_readiness')}", ""]
    for lab, v in result.labels.verdicts.items():
        out.append(f"- {getattr(cat.labels, lab).name[lang]}: "
                   f"{rw(lang, 'ready_yes') if v.ready else rw(lang, 'ready_no')}")
    out += ["", f"## {t(lang, 'summary_notes')}", ""]
    if not session.notes.notes:
        out.append(rw(lang, "notes_none"))
    for n in session.notes.notes:
        out += [f"**{anchor_name(n.anchor, cat, lang)}**", "", n.text, ""]
    out += ["", f"## {t(lang, 'summary_scenarios')}", ""]
    chosen = [s for s in session.scenarios if s.in_report] or list(session.scenarios)
    if not chosen:
        out.append(t(lang, "scenarios_none"))
    for s in chosen:
        out.append(f"**{s.name}**" + (f" ({t(lang, 'scenario_in_report').lower()})" if s.in_report else ""))
        out.append("")
        for iid, v in s.answers.items():
            ind = cat.indicator(iid)
            out.append(f"- {ind.name[lang]}: " + t(lang, "from_to",
                       before=present.value_with_unit(ind, result.client.answers.get(iid), lang),
                       after=present.value_with_unit(ind, v, lang)))
        out.append("")
    out += [f"## {t(lang, 'summary_groups')}", ""]
    for g in result.peer_groups:
        out.append(f"- {g.name(lang)}: {present.group_size(g.public_n, result.anonymity_floor, lang)}")
    return "\n".join(out).rstrip() + "\n"


def _markdown_to_html(text: str, title: str) -> str:
    """The summary's small Markdown subset as a self-contained page (everything escaped)."""
    body, in_list = [], False
    for line in text.splitlines():
        if line.startswith("- "):
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{html.escape(line[2:])}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        if line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("**") and line.endswith("**"):
            body.append(f"<p><strong>{html.escape(line[2:-2])}</strong></p>")
        elif line.startswith("**"):
            head, _, rest = line[2:].partition("**")
            body.append(f"<p><strong>{html.escape(head)}</strong>{html.escape(rest)}</p>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    if in_list:
        body.append("</ul>")
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + html.escape(title) +
            "</title><style>body{font-family:sans-serif;max-width:50em;margin:2em auto}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def write_summary(session, fmt: str, today: _dt.date) -> Path:
    if fmt not in ("md", "html"):
        raise ValueError(f"summary format '{fmt}': expected md or html")
    text = summary_markdown(session, today)
    if fmt == "html":
        text = _markdown_to_html(text, t(session.lang, "summary_title", name=session.result.client.name))
    from auditlib.report.paths import report_dir_name

    name = report_dir_name(f"meeting-{today.isoformat()}", session.lang)   # languages apart: meeting-<date>.nl.md
    out = Path(session.outputs_dir) / session.result.client.client_id / f"{name}.{fmt}"
    return atomic_write_text(out, text)

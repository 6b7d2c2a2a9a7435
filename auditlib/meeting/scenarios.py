"""Saved what-if scenarios: `scenarios.yaml` in the client folder, and the report's appendix.

Why a file of its own (not notes.yaml, not the questionnaire): a scenario is hypothetical and
must never be read as the client's answers. Only the changed answers are stored, by indicator
id, checked against the catalogue like the intake checks a questionnaire:

    # What-if scenarios from the interpretation meeting: NOT the client's answers.
    scenarios:
      - name: 20 paying members
        in_report: true
        answers: {paying_members: 20}

The report shows a chosen scenario as a clearly marked appendix (`scenario_appendix`).
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import yaml

from auditlib.catalogue import Catalogue
from auditlib.errors import InputError, Problem
from auditlib.files import atomic_write_text
from auditlib.meeting.whatif import AnswerError, Scenario, check_answer

FILE_NAME = "scenarios.yaml"
NAME = re.compile(r"^[\w][\w .()+\-]{0,59}$")
HEADER = "# What-if scenarios from the interpretation meeting: NOT the client's answers.\n"


class ScenarioError(InputError):
    """scenarios.yaml cannot be used."""


def _load_yaml(text: str, source: str):
    try:
        from auditlib import yamlsafe           # bounded alias expansion where the project has it
        return yamlsafe.load(text, source)
    except ImportError:                          # pragma: no cover - older trees
        return yaml.safe_load(text)


def valid_name(name: str) -> bool:
    return bool(NAME.fullmatch(name.strip())) if isinstance(name, str) else False


def load_scenarios(client_dir: str | Path, catalogue: Catalogue) -> list[Scenario]:
    """Every saved scenario of a client (none when there is no file); all problems at once."""
    path = Path(client_dir) / FILE_NAME
    if not path.is_file():
        return []
    try:
        data = _load_yaml(path.read_text(encoding="utf-8"), str(path)) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError([Problem(str(path), "file", f"cannot be read: {exc}",
                                     expected="a UTF-8 YAML file")]) from None
    problems: list[Problem] = []
    items = data.get("scenarios") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ScenarioError([Problem(str(path), "key scenarios", "missing or not a list",
                                     expected="scenarios: [{name, answers}, ...]")])
    out: list[Scenario] = []
    for k, item in enumerate(items):
        place = f"key scenarios.{k}"
        if not isinstance(item, dict) or not valid_name(str(item.get("name", ""))) \
                or not isinstance(item.get("answers"), dict):
            problems.append(Problem(str(path), place, "a scenario needs a name and answers", value=item,
                                    expected="{name: ..., answers: {indicator_id: value}}"))
            continue
        answers = {}
        for iid, raw in item["answers"].items():
            if iid not in catalogue.by_id:
                problems.append(Problem(str(path), f"{place}.answers.{iid}", "unknown indicator",
                                        expected="an indicator id of the catalogue", indicator=str(iid)))
                continue
            try:
                answers[iid] = check_answer(catalogue.indicator(iid), raw)
            except AnswerError as exc:
                problems.append(Problem(str(path), f"{place}.answers.{iid}", exc.message, value=raw,
                                        expected=exc.expected, indicator=iid))
        out.append(Scenario(str(item["name"]).strip(), answers, bool(item.get("in_report", False))))
    names = [s.name for s in out]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(str(path), "key scenarios", "two scenarios share a name", value=name,
                                expected="unique names"))
    if problems:
        raise ScenarioError(problems)
    return out


def save_scenarios(client_dir: str | Path, scenarios: Sequence[Scenario]) -> Path:
    """Write every scenario atomically (a failure leaves the earlier file as it was)."""
    data = {"scenarios": [{"name": s.name, "in_report": bool(s.in_report),
                           "answers": {k: (None if v is None else (int(v) if float(v).is_integer() else float(v)))
                                       for k, v in s.answers.items()}}
                          for s in scenarios]}
    text = HEADER + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return atomic_write_text(Path(client_dir) / FILE_NAME, text)


def upsert(scenarios: Sequence[Scenario], scenario: Scenario) -> list[Scenario]:
    """The list with `scenario` added, or replacing the one of the same name (keeping its place)."""
    out = list(scenarios)
    for k, s in enumerate(out):
        if s.name == scenario.name:
            out[k] = replace(scenario, in_report=scenario.in_report or s.in_report)
            return out
    return out + [scenario]


def scenario_appendix(result, scenarios: Sequence[Scenario], lang: str):
    """The report's marked appendix for the chosen scenarios: what changed, and what it would do.

    `result` is the real AuditResult; each scenario is analysed apart and confined by the
    meeting's what-if rule, so the appendix shows no figure the meeting screen would not.
    Returns (html, text).
    """
    from auditlib.meeting.session import scenario_result
    from auditlib.meeting.texts import rw, t
    from auditlib import present

    cat = result.catalogue
    parts = [f'<section class="scenario-appendix"><h2>{html.escape(t(lang, "appendix_title"))}</h2>',
             f"<p><strong>{html.escape(t(lang, 'appendix_intro'))}</strong></p>"]
    lines = [t(lang, "appendix_title"), t(lang, "appendix_intro")]
    for s in scenarios:
        sr = scenario_result(result, s.answers)
        parts.append(f"<h3>{html.escape(t(lang, 'whatif_scenario'))}: {html.escape(s.name)}</h3><ul>")
        lines.append(f"{t(lang, 'whatif_scenario')}: {s.name}")
        for iid, v in s.answers.items():
            ind = cat.indicator(iid)
            real = result.client.answers.get(iid)
            before = result.positions_in().set_index("indicator").loc[iid, "percentile"]
            after = sr.positions_in().set_index("indicator").loc[iid, "percentile"]
            item = (f"{ind.name[lang]}: {present.value(ind, real, lang)} → {present.value(ind, v, lang)} "
                    f"({present.percentile(before, lang)} → {present.percentile(after, lang)})")
            parts.append(f"<li>{html.escape(item)}</li>")
            lines.append("- " + item)
        parts.append("</ul><ul>")
        for lab, verdict in sr.labels.verdicts.items():
            real_ready = result.labels.verdicts[lab].ready
            item = (f"{getattr(cat.labels, lab).name[lang]}: "
                    f"{rw(lang, 'ready_yes') if real_ready else rw(lang, 'ready_no')} → "
                    f"{rw(lang, 'ready_yes') if verdict.ready else rw(lang, 'ready_no')}")
            parts.append(f"<li>{html.escape(item)}</li>")
            lines.append("- " + item)
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts), "\n".join(lines)

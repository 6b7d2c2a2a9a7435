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

from auditlib import yamlsafe
from auditlib.catalogue import Catalogue
from auditlib.errors import InputError, Problem, ProblemCode, code_for_exception
from auditlib.files import atomic_write_text
from auditlib.meeting.whatif import AnswerError, Scenario, check_answer

FILE_NAME = "scenarios.yaml"
NAME = re.compile(r"^[\w][\w .()+\-]{0,59}$")
HEADER = "# What-if scenarios from the interpretation meeting: NOT the client's answers.\n"


class ScenarioError(InputError):
    """scenarios.yaml cannot be used."""


def _load_yaml(text: str, source: str):
    return yamlsafe.load(text, source)           # bounded alias expansion, like every user file


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
                                     expected="a UTF-8 YAML file", code=code_for_exception(exc))]) from None
    problems: list[Problem] = []
    items = data.get("scenarios") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ScenarioError([Problem(str(path), "key scenarios", "missing or not a list",
                                     expected="scenarios: [{name, answers}, ...]",
                                     code=ProblemCode.STRUCTURE)])
    out: list[Scenario] = []
    for k, item in enumerate(items):
        place = f"key scenarios.{k}"
        if not isinstance(item, dict) or not valid_name(str(item.get("name", ""))) \
                or not isinstance(item.get("answers"), dict):
            problems.append(Problem(str(path), place, "a scenario needs a name and answers", value=item,
                                    expected="{name: ..., answers: {indicator_id: value}}",
                                    code=ProblemCode.STRUCTURE))
            continue
        answers = {}
        for iid, raw in item["answers"].items():
            if iid not in catalogue.by_id:
                problems.append(Problem(str(path), f"{place}.answers.{iid}", "unknown indicator",
                                        expected="an indicator id of the catalogue", indicator=str(iid),
                                        code=ProblemCode.UNKNOWN_ID))
                continue
            try:
                answers[iid] = check_answer(catalogue.indicator(iid), raw)
            except AnswerError as exc:
                problems.append(Problem(str(path), f"{place}.answers.{iid}", exc.message, value=raw,
                                        expected=exc.expected, indicator=iid, code=exc.code))
        out.append(Scenario(str(item["name"]).strip(), answers, bool(item.get("in_report", False))))
    names = [s.name for s in out]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(str(path), "key scenarios", "two scenarios share a name", value=name,
                                expected="unique names", code=ProblemCode.DUPLICATE))
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


def scenario_appendix(result, names: Sequence[str], lang: str, client_dir: str | Path | None = None):
    """The report's marked appendix for the chosen scenarios: what changed, and what it would do.

    `result` is the real AuditResult; each scenario is analysed apart and confined by the
    meeting's what-if rule, so the appendix shows no figure the meeting screen would not.
    Scenarios are read from the client folder (default: the questionnaire's folder). Returns a
    report Fragment (HTML and plain text); an unknown name is a ParameterError naming the file.
    """
    from auditlib import present
    from auditlib.errors import ParameterError
    from auditlib.meeting.session import scenario_result
    from auditlib.meeting.texts import rw, t
    from auditlib.report import Fragment

    cat = result.catalogue
    folder = Path(client_dir) if client_dir is not None else Path(result.client.source).parent
    saved = {s.name: s for s in load_scenarios(folder, cat)}
    unknown = [n for n in names if n not in saved]
    if unknown:
        raise ParameterError(f"scenarios: no scenario {', '.join(repr(n) for n in unknown)} in "
                             f"{folder / FILE_NAME} (saved: {', '.join(saved) or 'none'})")
    if not names:
        return Fragment("", "")
    e = html.escape
    parts = [f'<section class="scenario-appendix" style="border:2px dashed #e0a000;padding:0 1em">'
             f'<h2 id="scenarios">{e(t(lang, "appendix_title"))}</h2>',
             f"<p><strong>{e(t(lang, 'appendix_intro'))}</strong></p>"]
    lines = [t(lang, "appendix_title"), t(lang, "appendix_intro")]
    real_pos = result.positions_in().set_index("indicator")
    for name in names:
        s = saved[name]
        sr = scenario_result(result, s.answers)
        pos = sr.positions_in().set_index("indicator")
        parts.append(f"<h3>{e(t(lang, 'whatif_scenario'))}: {e(s.name)}</h3><ul>")
        lines.append(f"{t(lang, 'whatif_scenario')}: {s.name}")
        for iid, v in s.answers.items():
            ind = cat.indicator(iid)
            item = (f"{ind.name[lang]}: " + t(lang, "from_to",
                    before=present.value_with_unit(ind, result.client.answers.get(iid), lang),
                    after=present.value_with_unit(ind, v, lang))
                    + " (" + t(lang, "from_to", before=present.percentile(real_pos.at[iid, "percentile"], lang),
                               after=present.percentile(pos.at[iid, "percentile"], lang)) + ")")
            parts.append(f"<li>{e(item)}</li>")
            lines.append("- " + item)
        parts.append("</ul><ul>")
        for lab, verdict in sr.labels.verdicts.items():
            ready = result.labels.verdicts[lab].ready
            item = (f"{getattr(cat.labels, lab).name[lang]}: " + t(lang, "from_to",
                    before=rw(lang, "ready_yes") if ready else rw(lang, "ready_no"),
                    after=rw(lang, "ready_yes") if verdict.ready else rw(lang, "ready_no")))
            parts.append(f"<li>{e(item)}</li>")
            lines.append("- " + item)
        parts.append("</ul>")
    parts.append("</section>")
    return Fragment("".join(parts), "\n".join(lines))

"""Read a YAML questionnaire (`profile:` and `answers:` sections) into raw entries.

Places name the line; duplicate keys (which YAML itself silently drops) are reported; numbers
are taken as written, not as YAML 1.1 reads them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditlib import yamlsafe
from auditlib.errors import Problem, ProblemCode
from auditlib.intake.raw import _add_answer, _add_profile, _Entry, _Raw, _read_text

if TYPE_CHECKING:
    from auditlib.catalogue import Catalogue


def _read_yaml(path: Path, catalogue: Catalogue, problems: list[Problem]) -> _Raw | None:
    import yaml

    file = str(path)
    text = _read_text(path, problems)
    if text is None:
        return None
    try:
        loader, node = yamlsafe.compose(text, file)
        if node is None:
            loader.dispose()
            problems.append(Problem(file, "file", "the file is empty (no YAML content)",
                                    expected="sections 'profile' and 'answers'", code=ProblemCode.FILE_EMPTY))
            return None
        lines = _yaml_key_lines(node)
        number_texts = _yaml_number_texts(node)
        data = yamlsafe.construct(loader, node)
    except yamlsafe.AliasBombError as exc:
        problems.append(Problem(file, "file", exc.problem, expected="the values written out",
                                code=ProblemCode.TOO_LARGE))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        problems.append(Problem(file, place, f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                                expected="well-formed YAML (check indentation, colons and quotes)",
                                code=ProblemCode.PARSE_ERROR))
        return None
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        for key, text_value in number_texts.items():   # "1.250" as written, not YAML's 1.25
            if key in data["answers"] and not isinstance(data["answers"][key], bool):
                data["answers"][key] = text_value
    if not isinstance(data, dict):
        problems.append(Problem(file, "file", "the top level is not a mapping",
                                value=type(data).__name__,
                                expected="sections 'profile:' and 'answers:'", code=ProblemCode.STRUCTURE))
        return None
    raw = _Raw(profile_file=file, answers_file=file)
    raw.have_profile = isinstance(data.get("profile"), (dict, type(None))) and "profile" in data
    raw.have_answers = isinstance(data.get("answers"), (dict, type(None))) and "answers" in data
    for key in data:
        if key not in ("profile", "answers"):
            problems.append(Problem(file, f"key {key}", "unknown section", value=key,
                                    expected="only the sections 'profile' and 'answers'",
                                    code=ProblemCode.UNKNOWN_KEY))
    for section in ("profile", "answers"):
        if section not in data:
            problems.append(Problem(file, f"key {section}", f"missing section '{section}'",
                                    expected=f"a mapping under '{section}:'", code=ProblemCode.MISSING_KEY))
            continue
        body = data[section]
        if body is None:
            body = {}
        if not isinstance(body, dict):
            problems.append(Problem(file, f"key {section}", f"section '{section}' is not a mapping",
                                    value=type(body).__name__, expected="key: value lines",
                                    code=ProblemCode.STRUCTURE))
            continue
        for key, value in body.items():
            line = lines.get((section, str(key)), [])
            where = f"key {section}.{key}" + (f" (line {line[0]})" if line else "")
            if isinstance(value, (dict, list)):
                problems.append(Problem(file, where, "a nested value", value=type(value).__name__,
                                        indicator=key if section == "answers" else None,
                                        expected="a single value", code=ProblemCode.STRUCTURE))
                continue
            entry = _Entry(file, where, value)
            if section == "profile":
                _add_profile(raw, key, entry, problems)
            else:
                _add_answer(raw, key, entry, catalogue, problems)
        # YAML itself keeps only the last of two equal keys: report the duplicates here
        for (sec, key), found in lines.items():
            if sec == section and len(found) > 1:
                indicator = key if section == "answers" else None
                problems.append(Problem(file, f"key {section}.{key} (line {found[1]})",
                                        f"duplicate key (first at line {found[0]})",
                                        indicator=indicator, expected="each key once",
                                        code=ProblemCode.DUPLICATE))
    return raw


def _yaml_key_lines(node: Any) -> dict[tuple[str, str], list[int]]:
    """Line numbers of the keys under profile/answers, to name places and find duplicates."""
    import yaml

    lines: dict[tuple[str, str], list[int]] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key_node, value_node in node.value:
        if (isinstance(key_node, yaml.ScalarNode) and key_node.value in ("profile", "answers")
                and isinstance(value_node, yaml.MappingNode)):
            for k, _ in value_node.value:
                if isinstance(k, yaml.ScalarNode):
                    lines.setdefault((key_node.value, k.value), []).append(k.start_mark.line + 1)
    return lines


_YAML_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
# Numbers YAML reads as written: no leading zero, no three-decimal "1.250", no sexagesimal "1:30".
_PLAIN_DECIMAL = re.compile(r"[-+]?(?:0|[1-9]\d*)(?:\.\d{1,2}|\.\d{4,})?|[-+]?0\.\d+")


def _yaml_number_texts(node: Any) -> dict[Any, str]:
    """The answers YAML reads as numbers, as written: YAML 1.1 reads "1.250" as 1.25, "1:30" as 90
    and "010" as 8, so the intake reads the text itself (`localnum`)."""
    import yaml

    out: dict[Any, str] = {}
    if not isinstance(node, yaml.MappingNode):
        return out
    for key_node, value_node in node.value:
        if (isinstance(key_node, yaml.ScalarNode) and key_node.value == "answers"
                and isinstance(value_node, yaml.MappingNode)):
            for k, v in value_node.value:
                if (isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode) and v.style is None
                        and v.tag in _YAML_NUMBER_TAGS and not _PLAIN_DECIMAL.fullmatch(v.value)):
                    out[k.value] = v.value
    return out

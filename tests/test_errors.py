"""Problems and errors: codes, ParameterError's list of problems, pickling, every Problem coded."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest

from auditlib.errors import (
    InputError, ParameterError, Problem, ProblemCode, QuestionnaireError, code_for_exception, code_for_pydantic,
)

AUDITLIB = Path(__file__).resolve().parents[1] / "auditlib"


def test_every_problem_in_the_library_names_its_code():
    """A Problem made anywhere in auditlib/ says which kind of mistake it is."""
    missing = []
    for path in sorted(AUDITLIB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem":
                if not any(k.arg == "code" for k in node.keywords):
                    missing.append(f"{path.relative_to(AUDITLIB.parent)}:{node.lineno}")
    assert not missing, "Problem(...) without code=ProblemCode.X: " + ", ".join(missing)


def test_parameter_error_from_one_message_keeps_the_message_and_its_code():
    err = ParameterError("unknown peer group 'x'", code=ProblemCode.UNKNOWN_ID, place="peer_groups")
    assert str(err) == "unknown peer group 'x'"
    assert err.code is ProblemCode.UNKNOWN_ID and err.codes == [ProblemCode.UNKNOWN_ID]
    assert err.problems[0].place == "peer_groups"
    assert ParameterError("plain").code is ProblemCode.INVALID_PARAMETER


def test_parameter_error_carries_every_problem():
    problems = [Problem("", "lang", "'xx' is not a report language", code=ProblemCode.UNKNOWN_VALUE),
                Problem("", "engagement_date", "'soon' is not a date", code=ProblemCode.WRONG_TYPE)]
    err = ParameterError(problems, summary="2 invalid report parameters")
    assert err.problems == problems
    assert err.codes == [ProblemCode.UNKNOWN_VALUE, ProblemCode.WRONG_TYPE]
    assert str(err) == ("2 invalid report parameters: lang: 'xx' is not a report language; "
                        "engagement_date: 'soon' is not a date")


@pytest.mark.parametrize("err", [
    ParameterError("bad floor", code=ProblemCode.OUT_OF_RANGE),
    QuestionnaireError([Problem("q.yaml", "key answers.x", "a share above 100%", code=ProblemCode.OUT_OF_RANGE)],
                       summary="1 problem"),
])
def test_errors_keep_their_problems_across_processes(err):
    """The batch sends a child's error to the parent by pickle: problems and codes survive."""
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err)
    assert back.problems == err.problems and back.codes == [ProblemCode.OUT_OF_RANGE]


def test_to_frame_has_the_code_as_text():
    err = InputError([Problem("f", "p", "m", code=ProblemCode.FORMULA)])
    frame = err.to_frame()
    assert frame["code"].tolist() == ["formula"]


def test_codes_read_the_same_everywhere():
    assert str(ProblemCode.MISSING_VALUE) == "missing_value"
    assert ProblemCode("out_of_range") is ProblemCode.OUT_OF_RANGE
    assert all(c.value == c.name.lower() for c in ProblemCode)


@pytest.mark.parametrize("exc, code", [
    (FileNotFoundError("x"), ProblemCode.FILE_MISSING),
    (PermissionError("x"), ProblemCode.FILE_UNREADABLE),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), ProblemCode.ENCODING),
    (ValueError("x"), ProblemCode.PARSE_ERROR),
])
def test_code_for_a_read_failure(exc, code):
    assert code_for_exception(exc) is code


@pytest.mark.parametrize("kind, code", [
    ("missing", ProblemCode.MISSING_KEY), ("extra_forbidden", ProblemCode.UNKNOWN_KEY),
    ("greater_than_equal", ProblemCode.OUT_OF_RANGE), ("int_parsing", ProblemCode.WRONG_TYPE),
    ("string_type", ProblemCode.WRONG_TYPE), ("value_error", ProblemCode.STRUCTURE),
])
def test_code_for_a_pydantic_error(kind, code):
    assert code_for_pydantic(kind) is code


def test_problem_text_names_file_place_indicator_value_and_expectation():
    p = Problem("q.yaml", "key answers.sme_share", "a share above 100%", expected="a percentage from 0 to 100",
                value=120, indicator="sme_share", code=ProblemCode.OUT_OF_RANGE)
    assert str(p) == ("q.yaml: key answers.sme_share: indicator 'sme_share': a share above 100% "
                      "(got 120; expected a percentage from 0 to 100)")
    assert str(Problem("", "", "just this")) == "just this"


def test_tests_import_helpers_one_way():
    """Test helpers come from auditlib.testing; conftest.py is pytest's and never imported (a
    module imported as both `conftest` and `tests.conftest` loads twice)."""
    tests = Path(__file__).resolve().parent
    offenders = [p.name for p in sorted(tests.glob("*.py"))
                 if re.search(r"^\s*(from|import)\s+(tests\.)?conftest\b", p.read_text(encoding="utf-8"), re.M)]
    assert not offenders, offenders


def _silent_handlers(source: str) -> list[int]:
    """Lines of `except Exception` / `except BaseException` / bare `except` handlers that neither
    re-raise, nor use the exception they caught, nor log or warn: errors swallowed silently."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ExceptHandler):
            continue
        names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)} if node.type is not None else set()
        if node.type is not None and not names & {"Exception", "BaseException"}:
            continue
        body = [n for stmt in node.body for n in ast.walk(stmt)]
        reraises = any(isinstance(n, ast.Raise) for n in body)
        uses = node.name is not None and any(isinstance(n, ast.Name) and n.id == node.name for n in body)
        logs = any(isinstance(n, ast.Attribute) and n.attr in ("debug", "info", "warning", "error", "exception",
                                                                "warn", "critical") for n in body)
        if not (reraises or uses or logs):
            found.append(node.lineno)
    return found


def test_no_exception_is_swallowed_silently():
    """`except Exception` logs, re-raises with context, or uses what it caught (to report it)."""
    silent = []
    for path in sorted(AUDITLIB.rglob("*.py")):
        lines = _silent_handlers(path.read_text(encoding="utf-8"))
        silent += [f"{path.relative_to(AUDITLIB.parent)}:{n}" for n in lines]
    assert not silent, "silent except Exception: " + ", ".join(silent)


def test_the_silent_handler_check_sees_a_swallowed_error():
    sample = ("try:\n    f()\nexcept Exception:\n    pass\n"
              "try:\n    f()\nexcept Exception as exc:\n    report(exc)\n"
              "try:\n    f()\nexcept Exception:\n    log.debug('x', exc_info=True)\n"
              "try:\n    f()\nexcept BaseException:\n    cleanup()\n    raise\n"
              "try:\n    f()\nexcept ValueError:\n    pass\n")
    assert _silent_handlers(sample) == [3]

"""One value at a time: an answer parsed for its indicator (`parse_answer`), years, countries
and profile texts; each refusal says what was expected (`_Bad`)."""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import TYPE_CHECKING, Any

from auditlib import localnum
from auditlib.intake.model import EXPECTED_COUNTRY, NO, NON_ISO_CODES, NOT_ANSWERED, YES
from auditlib.errors import ProblemCode
from auditlib.intake.raw import FORMULA_EXPECTED, Formula, _Bad

if TYPE_CHECKING:
    from auditlib.catalogue import Indicator


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def expected_text(ind: Indicator) -> str:
    """What an answer to this indicator must look like, for messages and the template."""
    if ind.kind == "yes_no":
        return "yes or no (also ja/nee, true/false, 1/0)"
    if ind.kind == "ordinal":
        levels = ", ".join(f"{k} - {v.en}" for k, v in sorted((ind.levels or {}).items()))
        return f"a level {_fmt(ind.min)}-{_fmt(ind.max)} ({levels})"
    if ind.kind == "share":
        return f"a percentage from {_fmt(ind.min)} to {_fmt(ind.max)}"
    what = "a whole number" if ind.kind == "count" else "a number"
    return f"{what} from {_fmt(ind.min)} to {_fmt(ind.max)} ({ind.unit.en})"


def _is_not_answered(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().casefold() in NOT_ANSWERED)


def _to_number(value: Any, ind: Indicator, convention: localnum.Convention | None = None) -> float:
    expected = expected_text(ind)
    if isinstance(value, bool):
        raise _Bad("a yes/no value in a number field", expected)
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if ind.kind == "share" and text.endswith("%"):
            text = text[:-1].rstrip()
        try:
            number = localnum.read(text, whole=ind.kind == "count", convention=convention)
        except localnum.NumberTextError as exc:
            raise _Bad(exc.message, expected + (f"; {exc.hint}" if exc.hint else ""),
                       ProblemCode.AMBIGUOUS_NUMBER if exc.readings else ProblemCode.WRONG_TYPE) from None
    elif isinstance(value, (_dt.date, _dt.time)):
        raise _Bad("a date in a number field (Excel may have converted the entry)", expected)
    else:
        raise _Bad(f"not a number ({type(value).__name__})", expected)
    if not math.isfinite(number):
        raise _Bad("not a finite number", expected, ProblemCode.OUT_OF_RANGE)
    return number


def _check_range(number: float, ind: Indicator) -> float:
    expected = expected_text(ind)
    if ind.kind in ("count", "ordinal") and not number.is_integer():
        raise _Bad("not a whole number", expected, ProblemCode.NOT_INTEGER)
    if number < ind.min:
        if ind.kind == "share":
            raise _Bad("a share below 0%" if ind.min == 0 else "a share below the minimum", expected,
                       ProblemCode.OUT_OF_RANGE)
        raise _Bad("a negative value" if ind.min == 0 else f"below the minimum of {_fmt(ind.min)}", expected,
                   ProblemCode.OUT_OF_RANGE)
    if number > ind.max:
        if ind.kind == "share" and ind.max == 100:
            raise _Bad("a share above 100%", expected, ProblemCode.OUT_OF_RANGE)
        raise _Bad(f"above the maximum of {_fmt(ind.max)}", expected, ProblemCode.OUT_OF_RANGE)
    return number


_LEVEL_LABEL = re.compile(r"^\s*(\d+)\s*[-\u2013\u2014:.)]\s*\D")


def parse_answer(value: Any, ind: Indicator, convention: localnum.Convention | None = None) -> float | None:
    """One answer as a float (None = not answered); raises _Bad with what was expected.

    `convention`: the file's number style (`localnum.convention_of`), which settles "1.250"."""
    if isinstance(value, Formula):
        raise _Bad(f"cell {value.cell}: a formula without a saved result (the answer cannot be read)",
                   FORMULA_EXPECTED, ProblemCode.FORMULA)
    if _is_not_answered(value):
        return None
    if ind.kind == "yes_no":
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, (int, float)) and value in (0, 1):
            return float(value)
        text = str(value).strip().casefold()
        if text in YES:
            return 1.0
        if text in NO:
            return 0.0
        raise _Bad("yes/no answer not recognised", expected_text(ind), ProblemCode.UNKNOWN_VALUE)
    if ind.kind == "ordinal" and isinstance(value, str):
        match = _LEVEL_LABEL.match(value)   # "3 - co-deciding in a board" from the dropdown
        if match:
            value = match.group(1)
        try:
            number = _to_number(value, ind, convention)
        except _Bad:
            raise _Bad("not a level", expected_text(ind), ProblemCode.UNKNOWN_VALUE) from None
        return _check_range(number, ind)
    return _check_range(_to_number(value, ind, convention), ind)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain_text(text: str) -> str:
    """A profile text (name, region, contact) as text every output can hold.

    A surrogate pair written as two escapes ("\\ud83c\\udf45" in YAML or JSON) is the character it
    encodes and is read as such; a lone surrogate is no character, and control characters
    (terminal escape sequences, bells) belong in no name: both are refused, naming the position."""
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        lone = _SURROGATE.search(text)
        if lone:
            raise _Bad(f"a lone surrogate escape (\\u{ord(lone.group()):04x}) at character {lone.start() + 1}, "
                       "which is no character", "plain text (an emoji written as itself)",
                       ProblemCode.INVALID_TEXT)
    control = _CONTROL_CHARACTERS.search(text)
    if control:
        raise _Bad(f"a control character (\\x{ord(control.group()):02x}) at character {control.start() + 1}",
                   "plain text, without terminal escape sequences or other control characters",
                   ProblemCode.INVALID_TEXT)
    return text


def _year(value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad("not a year", "a year such as 2012")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    text = _text(value)
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    raise _Bad("not a year", "a four-digit year such as 2012")


def _country(value: Any) -> str:
    import pycountry

    if isinstance(value, bool):   # YAML 1.1 reads an unquoted NO (Norway) as false
        raise _Bad("unknown country (an unquoted NO in YAML reads as 'false')",
                   'the code in quotes, e.g. country: "NO"', ProblemCode.UNKNOWN_VALUE)
    code = _text(value).upper()
    if len(code) == 2 and code.isalpha() and pycountry.countries.get(alpha_2=code) is not None:
        return code
    hint = ""
    if code in NON_ISO_CODES:
        hint = f" (did you mean {NON_ISO_CODES[code]}?)"
    elif code:
        try:
            hint = f" (did you mean {pycountry.countries.lookup(_text(value)).alpha_2}?)"
        except LookupError:
            pass
    raise _Bad("unknown country", EXPECTED_COUNTRY + hint, ProblemCode.UNKNOWN_VALUE)

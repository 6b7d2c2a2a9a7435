"""Numbers written as text in Dutch or English style, read right or refused, never guessed.

Why: questionnaires come from both conventions. "1.250,5" (Dutch) and "1,250.5" (English)
are the same number; "1.250" alone is 1250 in Dutch and 1.25 in English, a factor 1,000
apart, and reading it one way without evidence silently changes a client's answer.

Rules (`read`):
* A separator followed by other than exactly three digits, or after a leading 0, is a
  decimal separator ("3,5", "0.250", "12.5").
* With both '.' and ',' the last one is the decimal separator and the other must group
  thousands properly ("1.250,5", "1,250.5"); several of one kind are thousands ("1.250.000").
  Spaces (also non-breaking and thin ones) may group thousands ("1 250", "1 250,5").
* One separator followed by exactly three digits ("1.250", "12,500") is ambiguous. It is read
  with the file's convention when the file gives one (`Convention`), else for a count (which
  cannot be fractional) as thousands, else refused with both readings.

A file's convention (`convention_of`): a semicolon-separated CSV is Dutch style; otherwise the
numbers written as text in the same file that only one convention writes decide ("3,5" or
"1.250,5" Dutch, "1,250.5" English; "3.5" is no evidence, see `style_of`). A file that shows
both conventions has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

NL, EN = "nl", "en"
_SPACES = re.compile(r"[ \u00a0\u202f\u2009\u2007]")
_GROUPS = {".": re.compile(r"\d{1,3}(?:\.\d{3})+"), ",": re.compile(r"\d{1,3}(?:,\d{3})+"),
           " ": re.compile(r"\d{1,3}(?: \d{3})+")}
_DECIMAL = {NL: ",", EN: "."}
_STYLE = {NL: "Dutch style", EN: "English style"}


class NumberTextError(ValueError):
    """Text that is no number, or a number whose reading is ambiguous (message says which)."""

    def __init__(self, message: str, hint: str = "", readings: tuple[float, float] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.readings = readings


@dataclass(frozen=True)
class Convention:
    """The number convention a file shows: NL, EN or None, and why (for messages)."""

    style: str | None
    why: str = ""


def _fmt(x: float) -> str:
    return f"{x:,.10g}".replace(",", " ") if abs(x) >= 1e15 else (
        str(int(x)) if float(x).is_integer() else repr(x))


def _normalise_spaces(text: str) -> str:
    return _SPACES.sub(" ", text.strip())


def style_of(text: str) -> str | None:
    """NL or EN when this text is a number that only one convention writes this way, else None.

    A decimal point alone ("3.5") is no evidence: every program writes numbers that way, so it
    says nothing about what a person meant by "1.250". A decimal comma ("3,5") is only written
    by the Dutch (continental) convention, and "1,250.5" only by the English one."""
    try:
        t = _normalise_spaces(text).lstrip("+-").rstrip("%").strip().replace(" ", "")
    except AttributeError:
        return None
    if "." in t and "," in t:
        dec = "." if t.rfind(".") > t.rfind(",") else ","
        return EN if dec == "." else NL
    if t.count(",") == 1 and "." not in t:
        whole, frac = t.split(",")
        if whole.isdigit() and frac.isdigit() and (len(frac) != 3 or whole.startswith("0")):
            return NL
    return None


def convention_of(texts: Iterable[object], declared: str | None = None, why: str = "") -> Convention:
    """The convention the text answers of one file show (`declared`: e.g. NL for a ';' CSV)."""
    seen: dict[str, str] = {}
    if declared:
        seen[declared] = why
    for value in texts:
        if isinstance(value, str):
            style = style_of(value)
            if style and style not in seen:
                seen[style] = f"'{value.strip()}' elsewhere in the file"
    if len(seen) == 1:
        style, reason = next(iter(seen.items()))
        return Convention(style, reason)
    if len(seen) == 2:
        return Convention(None, "the file mixes Dutch and English number styles ("
                          + "; ".join(f"{_STYLE[s]}: {w}" for s, w in sorted(seen.items())) + ")")
    return Convention(None, "")


def read(text: str, *, whole: bool = False, convention: Convention | None = None) -> float:
    """A number written as text (see the module docstring); raises NumberTextError.

    `whole`: the answer must be a whole number (a count), which settles "1.250" as 1250.
    """
    t = _normalise_spaces(text)
    sign = ""
    if t[:1] in ("+", "-"):
        sign, t = t[0], t[1:].strip()
    if " " in t:
        spaced = re.fullmatch(r"(\d{1,3}(?: \d{3})+)([.,]\d+)?", t)
        if spaced is None:
            raise NumberTextError("text in a number field")
        t = spaced.group(1).replace(" ", "") + (spaced.group(2) or "").replace(",", ".")
    if not t:
        raise NumberTextError("text in a number field")
    has_dot, has_comma = "." in t, "," in t
    if has_dot and has_comma:
        dec = "." if t.rfind(".") > t.rfind(",") else ","
        thousands = "," if dec == "." else "."
        whole_part, frac = t.rsplit(dec, 1)
        if not frac.isdigit() or not (_GROUPS[thousands].fullmatch(whole_part) or
                                      (whole_part.isdigit() and len(whole_part) <= 3)):
            raise NumberTextError("a number with misplaced separators",
                                  "one decimal separator, and thousands grouped by three")
        return float(sign + whole_part.replace(thousands, "") + "." + frac)
    sep = "." if has_dot else "," if has_comma else None
    if sep is None:
        return _plain(sign + t)
    if t.count(sep) > 1:
        if _GROUPS[sep].fullmatch(t):
            return float(sign + t.replace(sep, ""))
        if sep == ".":
            return _plain(sign + t)   # e.g. "1.2.3": refused below
        raise NumberTextError("a number with misplaced separators",
                              "one decimal separator, and thousands grouped by three")
    whole_part, frac = t.split(sep)
    if not (whole_part.isdigit() or whole_part == "") or not frac.isdigit():
        return _plain(sign + t.replace(",", ".") if sep == "," else sign + t)   # "1.5e3", "nan", text
    as_decimal = float(sign + (whole_part or "0") + "." + frac)
    if len(frac) != 3 or not re.fullmatch(r"[1-9]\d{0,2}", whole_part):
        return as_decimal
    as_thousands = float(sign + whole_part + frac)
    style = convention.style if convention else None
    if style is not None:
        return as_decimal if _DECIMAL[style] == sep else as_thousands
    if whole and not as_decimal.is_integer():
        return as_thousands
    why = f"; {convention.why}" if convention and convention.why else ""
    raise NumberTextError(
        f"ambiguous number: {_fmt(as_thousands)} if '{sep}' groups thousands ("
        f"{_STYLE[NL] if sep == '.' else _STYLE[EN]}) or {_fmt(as_decimal)} if '{sep}' is the decimal "
        f"separator ({_STYLE[EN] if sep == '.' else _STYLE[NL]}){why}",
        f"{_fmt(as_thousands)} (no thousands separator) or {_decimal_forms(as_decimal)} "
        "(no trailing zeros), whichever is meant",
        readings=(as_thousands, as_decimal))


def _decimal_forms(x: float) -> str:
    text = _fmt(x)
    return text if "." not in text else f"{text} / {text.replace('.', ',')}"


def _plain(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise NumberTextError("text in a number field") from None

"""Numbers written as text: Dutch and English conventions, ambiguity refused with both readings."""

from __future__ import annotations

import pytest

from auditlib import localnum
from auditlib.localnum import EN, NL, Convention, NumberTextError, convention_of, read


@pytest.mark.parametrize("text, expected", [
    ("1.250,5", 1250.5), ("1,250.5", 1250.5), ("1 250", 1250), ("1\u202f250,75", 1250.75),
    ("1.250.000", 1_250_000), ("1,250,000", 1_250_000), ("3,5", 3.5), ("3.5", 3.5), ("0.250", 0.25),
    ("0,250", 0.25), ("1250.500", 1250.5), ("-12,5", -12.5), ("+7", 7), ("1e3", 1000),
])
def test_unambiguous_numbers(text, expected):
    assert read(text) == expected


@pytest.mark.parametrize("text, thousands, decimal", [("1.250", 1250, 1.25), ("1,250", 1250, 1.25),
                                                      ("12.500", 12500, 12.5), ("999,001", 999001, 999.001)])
def test_ambiguous_numbers_are_refused_with_both_readings(text, thousands, decimal):
    with pytest.raises(NumberTextError) as err:
        read(text)
    assert err.value.readings == (thousands, decimal)
    assert "ambiguous number" in err.value.message
    assert str(thousands) in err.value.message and repr(decimal) in err.value.message


@pytest.mark.parametrize("text, style, expected", [
    ("1.250", NL, 1250), ("1.250", EN, 1.25), ("1,250", NL, 1.25), ("1,250", EN, 1250),
])
def test_a_file_convention_settles_the_reading(text, style, expected):
    assert read(text, convention=Convention(style, "test")) == expected


def test_a_count_takes_the_thousands_reading_only_when_the_other_is_fractional():
    assert read("1.250", whole=True) == 1250
    with pytest.raises(NumberTextError):
        read("1.000", whole=True)      # 1 or 1000: both whole


@pytest.mark.parametrize("text", ["1 25", "1.2.3", "1,25,0", "12.50.0", "abc", "1.250,5,5", ""])
def test_malformed_numbers(text):
    with pytest.raises(NumberTextError):
        read(text)


def test_conventions_of_a_file():
    assert convention_of(["3,5", "12"]).style == NL
    assert convention_of(["1,250.5"]).style == EN
    assert convention_of(["3.5", "1.250"]).style is None       # a decimal point is no evidence
    mixed = convention_of(["3,5", "1,250.5"])
    assert mixed.style is None and "mixes" in mixed.why
    assert convention_of([], NL, "semicolon").style == NL
    assert convention_of(["1,250.5"], NL, "semicolon").style is None
    assert localnum.style_of(3.5) is None

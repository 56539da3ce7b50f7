"""Number words and shares as the extraction rules read them (agents.extraction_rules.numbers)."""
from __future__ import annotations

import pytest

from agents.extraction_rules.numbers import normalise, percent_value, words_to_number


@pytest.mark.parametrize(
    ("words", "value"),
    [("twelve", 12), ("twenty-six", 26), ("forty five", 45), ("one hundred and fifty", 150),
     ("a hundred", 100), ("sixth", 6), ("twenty-first", 21)],
)
def test_words_to_number(words: str, value: int) -> None:
    assert words_to_number(words) == value


def test_normalise_spells_numbers_as_digits() -> None:
    normalised = normalise("Twenty-six weeks, the first of April, forty-five percent")
    assert normalised == "26 weeks, the 1st of april, 45 percent"
    assert normalise("hold back a third") == "hold back a third"


@pytest.mark.parametrize(
    ("phrase", "value"),
    [("45%", 0.45), ("45 percent", 0.45), ("0.45", 0.45), ("45", 0.45), ("0", 0.0), ("a quarter", 0.25),
     ("half", 0.5), ("a third", 0.3333), ("12.5%", 0.125)],
)
def test_percent_value(phrase: str, value: float) -> None:
    assert percent_value(phrase) == value

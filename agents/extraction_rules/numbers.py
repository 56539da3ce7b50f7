"""Numbers in a planner's words: number words as digits ("twenty-six" -> 26, "sixth" -> "6th") and
shares ("45%", "45 percent", "0.45", "a quarter")."""
from __future__ import annotations

import re
from collections.abc import Mapping

_UNITS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {word: 10 * (i + 2) for i, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_ORDINALS = {
    word: value
    for value, word in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
        "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split(),
        start=1,
    )
}
_ORDINALS.update({"twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50})


def _alternatives(words: Mapping[str, int] | list[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_UNIT = _alternatives(_UNITS)
_UNIT_1_9 = _alternatives([w for w, v in _UNITS.items() if 1 <= v <= 9])
_TEN = _alternatives(_TENS)
_ORD_1_9 = _alternatives([w for w, v in _ORDINALS.items() if 1 <= v <= 9])
_BELOW_100 = rf"(?:(?:{_TEN})(?:[\s-]+(?:{_UNIT_1_9}))?|(?:{_UNIT}))"
_CARDINAL_WORDS = re.compile(
    rf"\b(?:(?:a|{_UNIT})[\s-]+hundred(?:[\s-]+(?:and[\s-]+)?{_BELOW_100})?|{_BELOW_100})\b"
)
_ORDINAL_WORDS = re.compile(rf"\b(?:(?:{_TEN})[\s-]+(?:{_ORD_1_9})|{_alternatives(_ORDINALS)})\b")
_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def words_to_number(words: str) -> int:
    """Value of a spelled-out number: "twenty-six" -> 26, "one hundred and fifty" -> 150, "sixth" -> 6."""
    total = 0
    for word in re.split(r"[\s-]+", words.strip().lower()):
        if word == "hundred":
            total = max(total, 1) * 100
        elif word in _UNITS or word in _TENS or word in _ORDINALS:
            total += _UNITS.get(word, 0) + _TENS.get(word, 0) + _ORDINALS.get(word, 0)
        elif word not in ("a", "and"):
            raise ValueError(f"not a number word: {word!r}")
    return total


def _ordinal_to_digits(match: re.Match[str]) -> str:
    before = match.string[max(0, match.start() - 4) : match.start()]
    if match.group() in ("third", "fourth") and re.search(r"(?:\ba|\bone)[\s-]$", before):
        return match.group()  # "a third" is a fraction, not an ordinal
    value = words_to_number(match.group())
    suffix = "th" if 10 <= value % 100 <= 20 else _SUFFIXES.get(value % 10, "th")
    return f"{value}{suffix}"


def normalise(text: str) -> str:
    """Lower case, plain dashes/quotes, single spaces, number words as digits ("twelve" -> "12")."""
    text = text.lower()
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    text = re.sub(r"[\u2018\u2019`]", "'", text)
    text = re.sub(r"[ \t\r\f\v\u00a0]+", " ", text)
    text = re.sub(r"\s*\n\s*", "\n", text).strip()
    text = re.sub(r"\ba\s+dozen\b", "12", text)
    text = _ORDINAL_WORDS.sub(_ordinal_to_digits, text)
    text = re.sub(r"\b(?:a|1)[\s-]+fourth\b", "a quarter", text)
    return _CARDINAL_WORDS.sub(lambda m: str(words_to_number(m.group())), text)


# Shares: a percentage, a fraction below 1 or a fraction word

_NUMBER = r"(?<![\d.])(?:\d+(?:\.\d+)?|\.\d+)"
_NOT_A_PERCENT_AFTER = (
    r"(?![\d.]*(?:,\d{3}|\s*-?\s*(?:weeks?|wks?|months?|days?|years?|quarters?|units?\b|st\b|nd\b|rd\b|th\b|/)))"
)
_FRACTIONS = {
    r"(?:a|1)[\s-]+quarter\b": 0.25,
    r"3[\s-]+quarters\b": 0.75,
    r"(?:a|1)[\s-]+third\b": 1 / 3,
    r"2[\s-]+thirds\b": 2 / 3,
    r"(?:a|1)[\s-]+half\b|\bhalf\b(?![\s-]*(?:way|a\s+year|year))": 0.5,
}
PERCENT = (
    rf"(?P<pct>{_NUMBER}(?:\s*(?:%|percent\b|per\s*cent\b|pct\b))?{_NOT_A_PERCENT_AFTER}"
    rf"|{'|'.join(_FRACTIONS)})"
)


def percent_value(phrase: str) -> float:
    """A share as a fraction: "45%" / "45 percent" / "45" -> 0.45, "0.45" -> 0.45, "a quarter" -> 0.25."""
    for pattern, value in _FRACTIONS.items():
        if re.fullmatch(pattern, phrase.strip()):
            return round(value, 4)
    number = float(re.match(r"[\d.]+", phrase.strip()).group())  # type: ignore[union-attr]
    is_percent = bool(re.search(r"%|percent|per\s*cent|pct", phrase)) or number > 1
    return round(number / 100 if is_percent else number, 4)

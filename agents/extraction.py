"""Rule-based extraction of SeasonParameters from a planner's free text (SPEC §3).

The text is normalised (lower case, number words -> digits, ordinals -> "1st"), then small rules
read one field each. A rule that uses a phrase masks it, so later rules cannot reuse the same
words: "every 2 weeks" is a cadence, not a horizon; "60% sell-through" is a threshold, not a
holdback. Rules run from the most specific (dates, cadence, markdown) to the most general
(horizon). Conventions, chosen for what a planner expects:

- A date without a year is its next occurrence on or after the reference date (an end date or a
  markdown date: on or after the season start). "3/10/2025" is US month/day; "24/11/2025" (first
  number > 12, with a year) is read day/month.
- "next Monday" is the first Monday strictly after the reference date; "Monday" or "this Monday"
  is the first on or after it; "next week" is the default start (first Monday strictly after);
  "in 2 weeks" / "2 weeks from now" is reference + 14 days; "next month" its first day. "March" or
  "early March" is March 1, "mid-March" the 15th, "end of March" the 31st.
- A date range gives weeks = ceil((end - start).days / 7): the end may be the last day of the
  season or the day after it, so "March 1 to May 23" and "March 1 to May 24" are both 12 weeks.
  An explicit week count wins over a range; the disagreement is noted in the reasoning.
- Months: weeks = round-half-up(months * 52 / 12) (3 -> 13, 2 -> 9, 6 -> 26); a quarter = 13
  weeks, a year = 52.
- Percentages: "45%", "45 percent", "0.45", "a quarter" (0.25), "half", "a third". A bare number
  above 1 is a percentage ("holdback 45" -> 0.45). "Send 70% to stores" is a 30% holdback.
- "Ship everything up front" means no replenishment and, unless a holdback is stated, 0% holdback.
- Markdown: "week 6", "6th week", "after 6 weeks", "6 weeks in" -> 6; "halfway"/"midseason" ->
  horizon // 2; "4 weeks before the end" / "last 4 weeks" -> horizon - 4; a markdown date -> the
  season week containing it; "no markdowns" -> null.
- Explicit out-of-range values raise ParameterError naming the field; nothing is clamped.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_right
from calendar import monthrange
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from agents.parameters import (
    DEFAULT_HORIZON_WEEKS,
    PLANNER_FIELDS,
    ParameterError,
    SeasonParameters,
    default_start_date,
    parse_parameters,
)

Confidence = Literal["high", "medium", "low"]
Extractor = Literal["rules", "llm"]

MAX_INPUT_CHARS = 1000
CORE_FIELDS = ("forecast_horizon_weeks", "season_start_date", "replenishment_strategy", "dc_holdback_percentage")


# ---------------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenUsage:
    """Tokens of one LLM call."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class ExtractionResult:
    """Extracted parameters with how sure we are and why."""

    parameters: SeasonParameters
    confidence: Confidence
    reasoning: str
    extractor: Extractor
    missing: list[str]
    stated: frozenset[str]
    usage: TokenUsage | None = None

    def to_dict(self) -> dict[str, Any]:
        """The response body of POST /api/parameters/extract."""
        return {
            "parameters": self.parameters.model_dump(mode="json"),
            "confidence": self.confidence,
            "reasoning": self.reasoning,
            "extractor": self.extractor,
            "missing": list(self.missing),
        }

    def with_note(self, note: str) -> ExtractionResult:
        """A copy with one more line of reasoning."""
        return replace(self, reasoning=f"{self.reasoning}\n{note}")


def check_user_input(text: str) -> str:
    """The planner's text, or ParameterError("user_input") when empty or over-long."""
    if not isinstance(text, str) or not text.strip():
        raise ParameterError("user_input", "describe the season in a few words")
    if len(text) > MAX_INPUT_CHARS:
        raise ParameterError("user_input", f"at most {MAX_INPUT_CHARS} characters (got {len(text)})")
    return text


def confidence_for(stated: frozenset[str] | set[str]) -> Confidence:
    """high: horizon, start, replenishment and holdback all stated; medium: 1-2 defaulted; else low."""
    defaulted = sum(1 for name in CORE_FIELDS if name not in stated)
    if defaulted == 0:
        return "high"
    return "medium" if defaulted <= 2 else "low"


def assemble_result(
    values: Mapping[str, Any],
    sources: Mapping[str, str],
    reference_date: date,
    *,
    extractor: Extractor,
    notes: tuple[str, ...] | list[str] = (),
    usage: TokenUsage | None = None,
) -> ExtractionResult:
    """Fill defaults for the fields not in `values` (the stated ones), validate, and explain."""
    values = dict(values)
    sources = dict(sources)
    if values.get("markdown_checkpoint_week", 0) is None and "markdown_threshold" not in values:
        values["markdown_threshold"] = None
        sources["markdown_threshold"] = "not needed without a markdown checkpoint"
    stated = frozenset(name for name in values if name in PLANNER_FIELDS)
    data = {"season_start_date": default_start_date(reference_date), **values}
    parameters = parse_parameters(data)
    missing = [name for name in PLANNER_FIELDS if name not in stated]
    lines = [_explain(name, parameters, sources.get(name)) for name in PLANNER_FIELDS]
    lines.insert(
        2,
        f"Season end: {parameters.season_end_date.isoformat()} (derived: start + "
        f"{parameters.forecast_horizon_weeks} weeks - 1 day).",
    )
    return ExtractionResult(
        parameters=parameters,
        confidence=confidence_for(stated),
        reasoning="\n".join([*lines, *notes]),
        extractor=extractor,
        missing=missing,
        stated=stated,
        usage=usage,
    )


_LABELS = {
    "forecast_horizon_weeks": "Forecast horizon",
    "season_start_date": "Season start",
    "replenishment_strategy": "Replenishment",
    "dc_holdback_percentage": "DC holdback",
    "markdown_checkpoint_week": "Markdown checkpoint",
    "markdown_threshold": "Markdown threshold",
}


def _explain(name: str, parameters: SeasonParameters, source: str | None) -> str:
    value = getattr(parameters, name)
    if value is None:
        shown = "none"
    elif name == "forecast_horizon_weeks":
        shown = f"{value} weeks"
    elif name == "season_start_date":
        shown = f"{value.isoformat()} ({value:%A})"
    elif name == "markdown_checkpoint_week":
        shown = f"week {value}"
    elif name in ("dc_holdback_percentage", "markdown_threshold"):
        shown = f"{value:.0%}" if round(value * 100, 6).is_integer() else f"{value:.2%}"
    else:
        shown = str(value)
    if source is not None:
        why = f"stated: {source}"
    elif name == "season_start_date":
        why = "default: the first Monday after the reference date"
    elif name == "markdown_threshold" and value is not None:
        why = "default target when a markdown checkpoint is set"
    else:
        why = "default, not stated"
    return f"{_LABELS[name]}: {shown} ({why})."


# ---------------------------------------------------------------------------------------------
# Normalising text: number words -> digits
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# The text being read, with clauses for context and masking of used phrases
# ---------------------------------------------------------------------------------------------

_MASK = "\u00a6"
_CLAUSE_END = re.compile(r"\.(?!\d)|[;!?\n]|,(?!\s*\d{4}\b)")
_MARKDOWN_CONTEXT = re.compile(
    r"mark[\s-]?downs?|\bmd\b|\bst\b|price\s+(?:cuts?|reductions?|drops?|reviews?|checks?)|discount|clearance|"
    r"checkpoint|"
    r"sell[\s-]*(?:through|thru)|sellthrough|re-?pric"
)
_REPLENISHMENT_CONTEXT = re.compile(
    r"replen|re-?stock|refill|re-?suppl|top[\s-]?ups?|ship|deliver|transfer|\bsen[dt]\b|\bdc\b|warehouse|"
    r"distribution|\bstock"
)
_OTHER_CADENCE_CONTEXT = re.compile(
    _MARKDOWN_CONTEXT.pattern + r"|forecast|review|report|\bsales\b|actuals?|upload|meeting|check[\s-]?ins?|update"
)


class _PlannerText:
    """Normalised text; `masked` hides phrases that a rule has already used."""

    def __init__(self, text: str) -> None:
        self.text = normalise(text)
        self.masked = self.text
        self._clause_starts = [0, *(m.end() for m in _CLAUSE_END.finditer(self.text)), len(self.text)]

    def clause(self, position: int) -> str:
        """The clause (sentence or comma-separated part) around `position`."""
        i = bisect_right(self._clause_starts, position) - 1
        return self.text[self._clause_starts[i] : self._clause_starts[min(i + 1, len(self._clause_starts) - 1)]]

    def clause_before(self, position: int) -> str:
        """The clause up to `position`."""
        i = bisect_right(self._clause_starts, position) - 1
        return self.text[self._clause_starts[i] : position]

    def find(self, pattern: re.Pattern[str], context: re.Pattern[str] | None = None) -> Iterator[re.Match[str]]:
        """Matches of `pattern` in unused text, optionally only in clauses that match `context`."""
        for match in pattern.finditer(self.masked):
            if context is None or context.search(self.clause(match.start())):
                yield match

    def first(self, patterns: list[re.Pattern[str]], context: re.Pattern[str] | None = None) -> re.Match[str] | None:
        """The first match of the first pattern that matches, masked as used."""
        for pattern in patterns:
            for match in self.find(pattern, context):
                self.use(match)
                return match
        return None

    def use(self, match: re.Match[str]) -> None:
        """Mask a matched phrase so that later rules cannot read it again."""
        start, end = match.span()
        self.masked = self.masked[:start] + _MASK * (end - start) + self.masked[end:]

    def wording(self, match: re.Match[str]) -> str:
        """The planner's (normalised) words behind a match, quoted for the reasoning."""
        return f'"{self.text[match.start() : match.end()].strip()}"'


@dataclass
class _Findings:
    """What the rules read: stated values, the phrase behind each, and notes for the reasoning."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checkpoint: Callable[[int, date], int] | None = None  # (horizon, start) -> markdown week
    zero_holdback_implied_by: str | None = None

    def state(self, name: str, value: Any, source: str) -> None:
        self.values[name] = value
        self.sources[name] = source


# ---------------------------------------------------------------------------------------------
# Numbers and percentages
# ---------------------------------------------------------------------------------------------

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


def _compile(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in patterns]


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# "May" the month, not "may" the verb ("week 6 may be late").
_NOT_MAY_THE_VERB = (
    r"(?<!\bmay)|(?!\s+(?:be|not|need|want|have|help|require|change|happen|also|make|go|come|work|slip|shift|"
    r"get|take)\b)"
)
_DAY_NOT_A_COUNT = r"(?![\s-]*(?:weeks?|wks?|months?|days?|years?|%|percent)\b)"
_START_WORDS = r"start\w*|begin\w*|launch\w*|kick\w*\s+off|commenc\w*|go(?:es|ing)?\s+live|open\w*|from|week\s+of"
_END_WORDS = (
    r"end(?:s|ing|ed)?(?:\s+date)?|through|thru|until|till|to|finish\w*|wrap\w*\s+up|clos\w*|last\s+day|runs?\s+to"
)
_START_BEFORE = re.compile(rf"\b(?:{_START_WORDS})\b")
_END_BEFORE = re.compile(rf"\b(?:{_END_WORDS})\s*(?:is\s+|on\s+|of\s+|:\s*|=\s*)?(?:the\s+)?$")
_RANGE_BETWEEN = re.compile(r"^\s*(?:-|to|through|thru|till|until|->|and)\s*(?:on\s+)?(?:the\s+)?$")

DateResolver = Callable[[date], date]


@dataclass
class _DateMention:
    """A date phrase; `resolve(anchor)` gives the date (a missing year -> on or after the anchor)."""

    start: int
    end: int
    phrase: str  # quoted, for the reasoning
    resolve: DateResolver
    role: str = "start"


def _day_of(year: int, month: int, day: int) -> date:
    """date(year, month, day); day 0 is the month's last day."""
    if not 1 <= month <= 12:
        raise ValueError(f"there is no month {month}")
    return date(year, month, day or monthrange(year, month)[1])


def _calendar_date(year: str | None, month: int, day: int) -> DateResolver:
    """A calendar date; without a year, its next occurrence on or after the anchor (day 0: month end)."""
    if year is not None:
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        return lambda anchor: _day_of(full_year, month, day)

    def resolve(anchor: date) -> date:
        for year_ in range(anchor.year, anchor.year + 9):  # far enough to reach the next 29 February
            try:
                candidate = _day_of(year_, month, day)
            except ValueError:
                if (month, day) != (2, 29):
                    raise
                continue
            if candidate >= anchor:
                return candidate
        raise AssertionError("unreachable: every valid month/day recurs within 8 years")

    return resolve


def _fixed(day: date) -> DateResolver:
    return lambda anchor: day


def _month_number(name: str) -> int:
    return _MONTHS[name.rstrip(".")[:3]]


def _iso(m: re.Match[str], reference: date) -> DateResolver:
    return _calendar_date(m["y"], int(m["m"]), int(m["d"]))


def _numeric(m: re.Match[str], reference: date) -> DateResolver | None:
    """US month/day[/year]; "24/11/2025" (with a year) is read day/month; "24/7" is not a date."""
    first, second = int(m["a"]), int(m["b"])
    if first > 12 and m["y"]:
        first, second = second, first  # day/month, only when unambiguous and with a year
    if first > 12:
        return None
    return _calendar_date(m["y"], first, second)


def _month_day(m: re.Match[str], reference: date) -> DateResolver:
    return _calendar_date(m["y"], _month_number(m["month"]), int(m["d"]))


def _month_part(m: re.Match[str], reference: date) -> DateResolver:
    """"March" / "early March" -> the 1st, "mid-March" -> the 15th, "end of March" -> its last day."""
    part = m["part"]
    day = 15 if part.startswith("mid") else 0 if part.startswith(("end", "late")) else 1
    return _calendar_date(m.groupdict().get("y"), _month_number(m["month"]), day)


def _weekday(m: re.Match[str], reference: date) -> DateResolver:
    """"Monday"/"this Monday": on or after the reference; "next Monday": strictly after; "... after next": +7."""
    days_ahead = (_WEEKDAYS.index(m["weekday"]) - reference.weekday()) % 7
    which = m["which"] or ""
    strictly_after = m["after_next"] or which in ("next", "coming", "this coming", "the following", "following")
    if days_ahead == 0 and strictly_after:
        days_ahead = 7
    if m["after_next"]:
        days_ahead += 7
    return _fixed(reference + timedelta(days=days_ahead))


def _nth_weekday_of_month(m: re.Match[str], reference: date) -> DateResolver:
    """"The first Monday in March": its next occurrence on or after the anchor."""
    month, weekday, nth = _month_number(m["month"]), _WEEKDAYS.index(m["weekday"]), m["nth"]

    def in_year(year: int) -> date:
        first = date(year, month, 1)
        day = first + timedelta(days=(weekday - first.weekday()) % 7)
        weeks_on = int(nth[0]) - 1 if nth != "last" else (monthrange(year, month)[1] - day.day) // 7
        return day + timedelta(days=7 * weeks_on)

    def resolve(anchor: date) -> date:
        this_year = in_year(anchor.year)
        return this_year if this_year >= anchor else in_year(anchor.year + 1)

    return resolve


def _relative_days(m: re.Match[str], reference: date) -> DateResolver:
    count = 1 if m["n"] in ("a", "an") else int(m["n"])
    days = count * (7 if m["unit"].startswith("week") else 1)
    return _fixed(reference + timedelta(days=days))


def _next_month(m: re.Match[str], reference: date) -> DateResolver:
    year, month = (reference.year + 1, 1) if reference.month == 12 else (reference.year, reference.month + 1)
    return _fixed(date(year, month, 1))


_DATE_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str], date], DateResolver | None]]] = [
    (re.compile(r"\b(?P<y>\d{4})([-/.])(?P<m>\d{1,2})\2(?P<d>\d{1,2})\b"), _iso),
    (re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\d/])"), _numeric),
    (
        re.compile(
            rf"\b(?:the\s+)?(?P<nth>1st|2nd|3rd|4th|last)\s+(?P<weekday>{'|'.join(_WEEKDAYS)})\s+(?:in|of)\s+{_MONTH}"
        ),
        _nth_weekday_of_month,
    ),
    (
        re.compile(
            rf"\b{_MONTH}\s*(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b{_DAY_NOT_A_COUNT}(?:,?\s+(?P<y>\d{{4}})\b)?"
        ),
        _month_day,
    ),
    (
        re.compile(
            rf"\b(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:{_NOT_MAY_THE_VERB})"
            rf"(?:,?\s+(?P<y>\d{{4}})\b)?"
        ),
        _month_day,
    ),
    (re.compile(rf"\b(?P<part>)(?:the\s+)?{_MONTH}\s+(?P<y>\d{{4}})\b"), _month_part),
    (
        re.compile(
            rf"\b(?P<part>early|beginning\s+of|start\s+of|mid|middle\s+of|end\s+of|late)[\s-]*"
            rf"(?:the\s+month\s+of\s+)?{_MONTH}"
            rf"(?:{_NOT_MAY_THE_VERB})(?:,?\s+(?P<y>\d{{4}})\b)?"
        ),
        _month_part,
    ),
    (
        re.compile(
            rf"\b(?:in|from|starting|starts?|launching|launch|begins?|beginning)\s+(?P<part>){_MONTH}"
            rf"(?:{_NOT_MAY_THE_VERB})"
        ),
        _month_part,
    ),
    (
        re.compile(rf"(?:\ban?\s+|\b(?!may\b))(?P<part>){_MONTH}\s+(?:start|launch|season|drop|kick-?off)\b"),
        _month_part,
    ),
    (re.compile(r"\b(?:today|tonight)\b"), lambda m, ref: _fixed(ref)),
    (
        re.compile(rf"\b(?:{_START_WORDS})\s+(?:right\s+)?(?:now|immediately|asap|right\s+away)\b"),
        lambda m, ref: _fixed(ref),
    ),
    (re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b"), lambda m, ref: _fixed(ref + timedelta(days=2))),
    (re.compile(r"\btomorrow\b"), lambda m, ref: _fixed(ref + timedelta(days=1))),
    (
        re.compile(  # a weekday right before an explicit (already masked) date only names that date's day
            rf"\b(?:on\s+)?(?:the\s+)?(?P<which>next|this\s+coming|this|coming|the\s+following|following)?\s*"
            rf"(?P<weekday>{'|'.join(_WEEKDAYS)})\b(?P<after_next>\s+after\s+next\b)?(?![\s,]*{_MASK})"
        ),
        _weekday,
    ),
    (re.compile(r"\bthe\s+week\s+after\s+next\b"), lambda m, ref: _fixed(default_start_date(ref) + timedelta(days=7))),
    (re.compile(r"\bnext\s+week\b"), lambda m, ref: _fixed(default_start_date(ref))),
    (re.compile(r"\b(?:(?:the\s+)?(?:start|beginning|1st)\s+of\s+|early\s+)?next\s+month\b"), _next_month),
    (
        re.compile(rf"\b(?:{_START_WORDS})\s+in\s+(?P<n>\d+|an?)\s+(?P<unit>days?|weeks?)(?:'?s?\s+time)?\b"),
        _relative_days,
    ),
    (re.compile(r"\b(?P<n>\d+|an?)\s+(?P<unit>days?|weeks?)\s+from\s+(?:now|today)\b"), _relative_days),
]


def _find_dates(text: _PlannerText, reference: date) -> list[_DateMention]:
    """Every date phrase, in text order, with its role: start, end or markdown."""
    mentions: list[_DateMention] = []
    for pattern, reader in _DATE_RULES:
        for match in list(text.find(pattern)):
            resolver = reader(match, reference)
            if resolver is not None:
                text.use(match)
                mentions.append(_DateMention(match.start(), match.end(), text.wording(match), resolver))
    mentions.sort(key=lambda mention: mention.start)
    for mention in mentions:
        before = text.clause_before(mention.start)
        last_markdown = max((m.end() for m in _MARKDOWN_CONTEXT.finditer(before)), default=-1)
        last_start = max((m.end() for m in _START_BEFORE.finditer(before)), default=-1)
        if last_markdown > last_start:
            mention.role = "markdown"
        elif _END_BEFORE.search(before):
            mention.role = "end"
    for first, second in zip(mentions, mentions[1:]):
        between = text.text[first.end : second.start]
        is_range = _RANGE_BETWEEN.match(between) and (
            not between.strip().startswith("and") or text.clause_before(first.start).rstrip().endswith("between")
        )
        if is_range and first.role != "markdown":
            first.role, second.role = "start", "end"
    return mentions


def _resolve(mention: _DateMention, anchor: date, field_name: str) -> date:
    try:
        return mention.resolve(anchor)
    except ValueError as exc:
        raise ParameterError(field_name, f"{mention.phrase} is not a valid date ({exc})") from None


# ---------------------------------------------------------------------------------------------
# Field rules
# ---------------------------------------------------------------------------------------------

_NO_REPLENISHMENT = _compile(
    r"\b(?:no|zero|without(?:\s+any)?|not|never|don'?t|do\s+not|won'?t|will\s+not|skip(?:ping)?)\s+"
    r"(?:[a-z-]+\s+){0,2}?(?:replen\w*|re-?stock\w*|refill\w*|re-?suppl\w*|top[\s-]?ups?)",
    r"\b(?:replen\w*|re-?stock\w*)\s*(?::|=|-|is|of|set\s+to)?\s*(?:none|off|no|disabled|n/a)\b",
)
_EVERYTHING_UP_FRONT = _compile(
    r"\b(?:everything|all(?:\s+of)?(?:\s+(?:it|the\s+\w+|units|inventory|stock))?|it\s+all|"
    r"the\s+(?:whole|entire)\s+(?:buy|order|quantity))\s+(?:[a-z-]+\s+){0,2}?"
    r"(?:up[\s-]?front|at\s+(?:the\s+)?(?:start|launch|once|season\s+start)|on\s+day\s+1|(?:at|in)\s+week\s+0|"
    r"in\s+1\s+(?:go|shot|drop))",
    r"\b(?:single|1)[\s-](?:drop|shipment|allocation|delivery)\b",
)
_BI_WEEKLY = _compile(
    r"\bbi[\s-]?weekly\b|\bfortnight(?:ly)?\b|\bevery\s+(?:2|2nd|other|alternate)\s+weeks?\b|"
    r"\b(?:twice|2\s*x)\s+(?:a|per|each|every)\s+month\b|\btwice[\s-]monthly\b|\bsemi[\s-]?monthly\b|"
    r"\balternat(?:e|ing)\s+weeks\b|\bevery\s+14\s+days\b|\b2[\s-]weekly\b|"
    r"\b2[\s-]?weeks?\s+(?:replen\w*|re-?stock\w*|cycles?|cadence)\b"
)
_WEEKLY = _compile(
    r"\bweekly\b|\bevery\s+week\b|\beach\s+week\b|\b(?:once|1\s*x)\s+(?:a|per|every)\s+week\b|\bevery\s+7\s+days\b|"
    r"\bweek[\s-]by[\s-]week\b"
)


def _read_replenishment(text: _PlannerText, found: _Findings) -> None:
    if up_front := text.first(_EVERYTHING_UP_FRONT):
        found.zero_holdback_implied_by = text.wording(up_front)
    if match := text.first(_NO_REPLENISHMENT) or up_front:
        found.state("replenishment_strategy", "none", text.wording(match))
    else:
        for strategy, patterns in (("bi-weekly", _BI_WEEKLY), ("weekly", _WEEKLY)):
            for pattern in patterns:
                for match in text.find(pattern):
                    clause = text.clause(match.start())
                    if _REPLENISHMENT_CONTEXT.search(clause) or not _OTHER_CADENCE_CONTEXT.search(clause):
                        text.use(match)
                        found.state("replenishment_strategy", strategy, text.wording(match))
                        return


_WEEKS = r"(?:weeks?|wks?)\b"
_NO_MARKDOWN = _compile(
    r"\b(?:no|zero|without(?:\s+any)?|skip(?:ping)?(?:\s+the)?|no\s+need\s+for(?:\s+any)?|"
    r"(?:don'?t|won'?t|do\s+not|will\s+not)\s+(?:need|want|plan|do|have)(?:\s+any|\s+a)?)\s+"
    r"(?:planned\s+|in-season\s+)?(?:mark[\s-]?downs?|price\s+cuts?|discount(?:s|ing)?|clearance)\b"
    r"(?:\s+checkpoint)?",
    r"\bmark[\s-]?downs?\s*(?::|=|-|are|is)?\s*(?:none|off|no|disabled|n/a)\b",
    r"\bfull[\s-]price\s+(?:all|for\s+the\s+(?:whole|entire))\s+season\b",
)
_MARKDOWN_WEEK = _compile(
    r"\b(?:week|wk)\s*#?\s*(?P<n>\d+)\b",
    r"\b(?P<n>\d+)(?:st|nd|rd|th)\s+week\b",
    r"\bw(?P<n>\d+)\b",
    rf"\b(?:after|at|following|by)\s+(?:the\s+)?(?:1st\s+)?(?P<n>\d+)\s*-?\s*{_WEEKS}",
    rf"\b(?P<n>\d+)\s*{_WEEKS}\s+in(?:to)?\b",
)
_MARKDOWN_FROM_END = _compile(
    rf"\b(?P<n>\d+)\s*{_WEEKS}\s+(?:before|from|prior\s+to|ahead\s+of)\s+(?:the\s+)?(?:season(?:'s)?\s+)?"
    r"(?:end|close|finish)",
    rf"\bwith\s+(?P<n>\d+)\s*{_WEEKS}\s+(?:left|to\s+go|remaining)",
    rf"\b(?:last|final)\s+(?P<n>\d+)\s*{_WEEKS}",
)
_MARKDOWN_HALFWAY = _compile(
    r"\bhalf[\s-]?way\b|\bmid[\s-]?(?:season|point|way)\b|\bmiddle\s+of\s+the\s+(?:season|run)\b|\bat\s+the\s+half\b"
)


def _read_markdown_checkpoint(text: _PlannerText, found: _Findings) -> None:
    if match := text.first(_NO_MARKDOWN):
        found.state("markdown_checkpoint_week", None, text.wording(match))
    elif match := text.first(_MARKDOWN_WEEK, _MARKDOWN_CONTEXT):
        week = int(match["n"])
        found.checkpoint = lambda horizon, start: week
        found.sources["markdown_checkpoint_week"] = text.wording(match)
    elif match := text.first(_MARKDOWN_FROM_END, _MARKDOWN_CONTEXT):
        weeks_left = int(match["n"])
        found.checkpoint = lambda horizon, start: horizon - weeks_left
        found.sources["markdown_checkpoint_week"] = f"{text.wording(match)} = horizon - {weeks_left}"
    elif match := text.first(_MARKDOWN_HALFWAY, _MARKDOWN_CONTEXT):
        found.checkpoint = lambda horizon, start: horizon // 2
        found.sources["markdown_checkpoint_week"] = f"{text.wording(match)} = horizon // 2"


_THRESHOLD = _compile(
    rf"(?<!variance\s)(?<!reforecast\s)(?<!re-forecast\s)\bthreshold\s*(?:[^\s\d%.,;]+\s*){{0,3}}?{PERCENT}",
    rf"{PERCENT}\s*(?:of\s+(?:the\s+)?(?:units\s+|stock\s+|buy\s+|inventory\s+)?)?(?:target\s+)?"
    r"(?:sell[\s-]*through|sell[\s-]*thru|sellthrough|sold\b|st\b)",
    rf"(?:sell[\s-]*through|sell[\s-]*thru|sellthrough|\bst\b)\s*(?:[^\s\d%.,;]+\s*){{0,5}}?{PERCENT}",
)
_THRESHOLD_IN_MARKDOWN_CLAUSE = _compile(
    rf"\b(?:target|trigger|goal)\s*(?:[^\s\d%.,;]+\s*){{0,3}}?{PERCENT}",
    rf"{PERCENT}\s+(?:threshold|target|trigger|goal)\b",
    rf"\b(?:below|under|less\s+than|lower\s+than|<|short\s+of|miss(?:es)?)\s*{PERCENT}",
)


def _read_markdown_threshold(text: _PlannerText, found: _Findings) -> None:
    match = text.first(_THRESHOLD) or text.first(_THRESHOLD_IN_MARKDOWN_CLAUSE, _MARKDOWN_CONTEXT)
    if match:
        found.state("markdown_threshold", percent_value(match["pct"]), text.wording(match))


_DC = r"(?:dc|warehouse|distribution\s+cent(?:er|re)|back\s*room)"
_INITIAL_SHARE = _compile(
    rf"{PERCENT}\s+(?:of\s+(?:the\s+)?(?:[a-z]+\s+)?)?(?:(?:goes|going|shipped|sent|allocated|pushed)\s+)?"
    r"(?:to\s+(?:the\s+)?stores|up[\s-]?front|initially|at\s+launch|(?:at|in)\s+week\s+0)",
    rf"\binitial(?:ly)?\s+(?:allocation|ship(?:ment)?|push|drop)?\s*(?:of|:|=|at|is)?\s*{PERCENT}",
)
_NO_HOLDBACK = _compile(
    rf"\b(?:no|zero|without(?:\s+(?:a|any))?)\s+(?:{_DC}\s+)?(?:hold[\s-]?backs?|reserve|holding\s+back)\b",
    rf"\bnothing\s+(?:is\s+)?(?:held|kept|stays?|in\s+reserve|(?:at|in)\s+the\s+{_DC})",
    r"\b(?:hold|keep|leave)\s+nothing\s+(?:back|at|in)\b|\b(?:hold(?:ing)?|keep(?:ing)?)\s+back\s+nothing\b",
    r"\b(?:do\s+not|don'?t|won'?t)\s+(?:hold|keep)\s+(?:anything|any\s+stock|any\s+units|any)\s+(?:back|at|in)\b",
)
_HOLDBACK = _compile(
    rf"{PERCENT}\s*(?:(?:of\s+)?(?:the\s+)?(?:buy|units|stock|inventory|order|quantity|product)\s+)?"
    r"(?:(?:is|are|gets?|stays?|goes|go|kept|held|sits?|parked|remains?|left|reserved)\s+)?(?:as\s+)?"
    rf"(?:{_DC}\s+)?(?:hold[\s-]?backs?|held\s+back|back\b|reserved?\b|in\s+reserve|"
    rf"(?:at|in|to|for|with)\s+(?:the\s+)?{_DC}|{_DC}\b|for\s+(?:in-season\s+)?replen\w*)",
    rf"\b(?:hold(?:ing)?[\s-]?back|holdback|held\s+back|hold|reserve|retain|{_DC})\b\s*[:=]?\s*"
    rf"(?:[a-z'-]+\s+){{0,3}}?{PERCENT}",
)


def _read_holdback(text: _PlannerText, found: _Findings) -> None:
    if match := text.first(_INITIAL_SHARE):
        holdback = round(1 - percent_value(match["pct"]), 4)
        found.state("dc_holdback_percentage", holdback, f"{text.wording(match)}, holdback = 1 - initial share")
    elif match := text.first(_NO_HOLDBACK):
        found.state("dc_holdback_percentage", 0.0, text.wording(match))
    elif match := text.first(_HOLDBACK):
        found.state("dc_holdback_percentage", percent_value(match["pct"]), text.wording(match))
    elif found.zero_holdback_implied_by:
        found.state("dc_holdback_percentage", 0.0, f"implied by {found.zero_holdback_implied_by}")


_NOT_A_SEASON_LENGTH_BEFORE = (
    r"(?<!every\s)(?<!each\s)(?<!other\s)(?<!after\s)(?<!\bin\s)(?<!within\s)(?<!\bby\s)(?<!\bper\s)"
)
_NOT_A_SEASON_LENGTH_AFTER = (
    r"(?!\s+(?:in\b|into\b|before\b|later\b|ago\b|left\b|to\s+go\b|remaining\b|prior\b|from\s+(?:now|today)\b|"
    r"of\s+(?:\w+\s+)?(?:history|data|sales|actuals)\b))"
)
_SEASON_WORDS = re.compile(r"^\W*(?:season|plan|horizon|forecast|run|selling|window|long|duration|lasting)\b")
_HORIZON_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], int]]] = [
    (
        re.compile(rf"{_NOT_A_SEASON_LENGTH_BEFORE}(?<![\d.])(?P<n>\d+)\s*-?\s*{_WEEKS}{_NOT_A_SEASON_LENGTH_AFTER}"),
        lambda m: int(m["n"]),
    ),
    (
        re.compile(
            rf"{_NOT_A_SEASON_LENGTH_BEFORE}(?:(?<![\d.])(?P<n>\d+(?:\.\d+)?)|\ban?)\s*-?\s*(?:months?|mos?)\b"
            + _NOT_A_SEASON_LENGTH_AFTER
        ),
        lambda m: math.floor(float(m["n"] or 1) * 52 / 12 + 0.5),
    ),
    (
        re.compile(
            r"\b(?:(?P<n>\d+)|an?|the|full|whole)\s*-?\s*quarters?\b(?!\s+of\b)" + _NOT_A_SEASON_LENGTH_AFTER
        ),
        lambda m: 13 * int(m["n"] or 1),
    ),
    (re.compile(r"\bquarter(?=[\s-]*(?:long|season|horizon|plan)\b)"), lambda m: 13),
    (re.compile(r"\b(?:half\s+a|a\s+half)\s+year\b|\bhalf[\s-]year\b"), lambda m: 26),
    (
        re.compile(r"\b(?:(?P<n>\d+)|an?|full|whole)[\s-]*years?\b(?!\s+(?:of|ago)\b)" + _NOT_A_SEASON_LENGTH_AFTER),
        lambda m: 52 * int(m["n"] or 1),
    ),
    (
        re.compile(
            r"\b(?:horizon|length|duration)\s*(?:of|:|=|is)?\s*(?P<n>\d+)\b(?!\s*-?\s*(?:months?|quarters?|years?|%))"
        ),
        lambda m: int(m["n"]),
    ),
]


def _read_horizon(text: _PlannerText, found: _Findings) -> None:
    """The season length; prefers a length followed by a season word ("12-week season"), then the first."""
    candidates = [match for pattern, _ in _HORIZON_RULES for match in text.find(pattern)]
    if not candidates:
        return
    match = min(candidates, key=lambda m: (not _SEASON_WORDS.match(text.text[m.end() :]), m.start()))
    weeks_of = next(weeks_of for pattern, weeks_of in _HORIZON_RULES if pattern is match.re)
    text.use(match)
    found.state("forecast_horizon_weeks", weeks_of(match), text.wording(match))


def _read_season_dates(mentions: list[_DateMention], reference: date, found: _Findings) -> list[_DateMention]:
    """Start and end of the season from the date phrases; returns the markdown-date mentions."""
    starts = [m for m in mentions if m.role == "start"]
    ends = [m for m in mentions if m.role == "end"]
    start = end = None
    if starts:
        start = _resolve(starts[0], reference, "season_start_date")
        found.state("season_start_date", start, starts[0].phrase)
    if ends:
        end = _resolve(ends[0], start or reference, "season_end_date")
    if start and end:
        if end <= start:
            raise ParameterError("season_end_date", f"{end.isoformat()} is not after the start {start.isoformat()}")
        days = (end - start).days
        weeks = math.ceil(days / 7)
        span = f"{starts[0].phrase} to {ends[0].phrase}"
        stated = found.values.get("forecast_horizon_weeks")
        if stated is None:
            found.state("forecast_horizon_weeks", weeks, f"{span}: {days} days, rounded up to whole weeks")
        elif stated != weeks:
            found.notes.append(f"Note: {span} is {days} days ({weeks} weeks); kept the stated {stated} weeks.")
    elif end and "forecast_horizon_weeks" in found.values:
        weeks = found.values["forecast_horizon_weeks"]
        start = end - timedelta(days=7 * weeks - 1)
        found.state("season_start_date", start, f"{weeks} weeks ending {ends[0].phrase}")
    elif end:
        found.notes.append(f"Note: ignored the end date {ends[0].phrase} (no start date or horizon stated).")
    return [m for m in mentions if m.role == "markdown"]


def _resolve_checkpoint(markdown_dates: list[_DateMention], reference: date, found: _Findings) -> None:
    horizon = found.values.get("forecast_horizon_weeks", DEFAULT_HORIZON_WEEKS)
    start = found.values.get("season_start_date", default_start_date(reference))
    if found.checkpoint is None and markdown_dates and "markdown_checkpoint_week" not in found.values:
        mention = markdown_dates[0]
        day = _resolve(mention, start, "markdown_checkpoint_week")
        found.checkpoint = lambda horizon, season_start: (day - season_start).days // 7 + 1
        found.sources["markdown_checkpoint_week"] = f"{mention.phrase}, the season week containing {day.isoformat()}"
    if found.checkpoint is not None:
        week = found.checkpoint(horizon, start)
        if week < 1:
            raise ParameterError(
                "markdown_checkpoint_week",
                f"{found.sources['markdown_checkpoint_week']} gives week {week}, before the season starts",
            )
        found.values["markdown_checkpoint_week"] = week


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def extract_parameters(text: str, reference_date: date) -> ExtractionResult:
    """Read SeasonParameters from a planner's text; raises ParameterError for explicit bad values."""
    planner_text = _PlannerText(check_user_input(text))
    found = _Findings()
    mentions = _find_dates(planner_text, reference_date)
    _read_replenishment(planner_text, found)
    _read_markdown_checkpoint(planner_text, found)
    _read_markdown_threshold(planner_text, found)
    _read_holdback(planner_text, found)
    _read_horizon(planner_text, found)
    markdown_dates = _read_season_dates(mentions, reference_date, found)
    _resolve_checkpoint(markdown_dates, reference_date, found)
    return assemble_result(found.values, found.sources, reference_date, extractor="rules", notes=found.notes)

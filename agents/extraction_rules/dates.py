"""Date phrases: where each one is, the date it names (relative to an anchor when it has no year)
and its role: season start, season end or markdown date."""
from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from agents.extraction_rules.text import MARKDOWN_CONTEXT, MASK, PlannerText
from agents.parameters import ParameterError, default_start_date

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
class DateMention:
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
            rf"(?P<weekday>{'|'.join(_WEEKDAYS)})\b(?P<after_next>\s+after\s+next\b)?(?![\s,]*{MASK})"
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


def find_dates(text: PlannerText, reference: date) -> list[DateMention]:
    """Every date phrase, in text order, with its role: start, end or markdown."""
    mentions: list[DateMention] = []
    for pattern, reader in _DATE_RULES:
        for match in list(text.find(pattern)):
            resolver = reader(match, reference)
            if resolver is not None:
                text.use(match)
                mentions.append(DateMention(match.start(), match.end(), text.wording(match), resolver))
    mentions.sort(key=lambda mention: mention.start)
    for mention in mentions:
        before = text.clause_before(mention.start)
        last_markdown = max((m.end() for m in MARKDOWN_CONTEXT.finditer(before)), default=-1)
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


def resolve_date(mention: DateMention, anchor: date, field_name: str) -> date:
    try:
        return mention.resolve(anchor)
    except ValueError as exc:
        raise ParameterError(field_name, f"{mention.phrase} is not a valid date ({exc})") from None

"""One rule per SeasonParameters field; each states what it reads on a :class:`Findings`.

The rules take the text in the order ``agents.extraction.extract_parameters`` calls them, each
masking what it used. The season dates and the markdown date come from the date mentions of
``dates``, resolved once the horizon and start are known.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from agents.extraction_rules.dates import DateMention, resolve_date
from agents.extraction_rules.numbers import PERCENT, percent_value
from agents.extraction_rules.text import MARKDOWN_CONTEXT, PlannerText
from agents.parameters import DEFAULT_HORIZON_WEEKS, ParameterError, default_start_date

_REPLENISHMENT_CONTEXT = re.compile(
    r"replen|re-?stock|refill|re-?suppl|top[\s-]?ups?|ship|deliver|transfer|\bsen[dt]\b|\bdc\b|warehouse|"
    r"distribution|\bstock"
)
_OTHER_CADENCE_CONTEXT = re.compile(
    MARKDOWN_CONTEXT.pattern + r"|forecast|review|report|\bsales\b|actuals?|upload|meeting|check[\s-]?ins?|update"
)


@dataclass
class Findings:
    """What the rules read: stated values, the phrase behind each, and notes for the reasoning."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checkpoint: Callable[[int, date], int] | None = None  # (horizon, start) -> markdown week
    zero_holdback_implied_by: str | None = None

    def state(self, name: str, value: Any, source: str) -> None:
        self.values[name] = value
        self.sources[name] = source


def _compile(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in patterns]


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


def read_replenishment(text: PlannerText, found: Findings) -> None:
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


def read_markdown_checkpoint(text: PlannerText, found: Findings) -> None:
    if match := text.first(_NO_MARKDOWN):
        found.state("markdown_checkpoint_week", None, text.wording(match))
    elif match := text.first(_MARKDOWN_WEEK, MARKDOWN_CONTEXT):
        week = int(match["n"])
        found.checkpoint = lambda horizon, start: week
        found.sources["markdown_checkpoint_week"] = text.wording(match)
    elif match := text.first(_MARKDOWN_FROM_END, MARKDOWN_CONTEXT):
        weeks_left = int(match["n"])
        found.checkpoint = lambda horizon, start: horizon - weeks_left
        found.sources["markdown_checkpoint_week"] = f"{text.wording(match)} = horizon - {weeks_left}"
    elif match := text.first(_MARKDOWN_HALFWAY, MARKDOWN_CONTEXT):
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


def read_markdown_threshold(text: PlannerText, found: Findings) -> None:
    match = text.first(_THRESHOLD) or text.first(_THRESHOLD_IN_MARKDOWN_CLAUSE, MARKDOWN_CONTEXT)
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


def read_holdback(text: PlannerText, found: Findings) -> None:
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


def read_horizon(text: PlannerText, found: Findings) -> None:
    """The season length; prefers a length followed by a season word ("12-week season"), then the first."""
    candidates = [match for pattern, _ in _HORIZON_RULES for match in text.find(pattern)]
    if not candidates:
        return
    match = min(candidates, key=lambda m: (not _SEASON_WORDS.match(text.text[m.end() :]), m.start()))
    weeks_of = next(weeks_of for pattern, weeks_of in _HORIZON_RULES if pattern is match.re)
    text.use(match)
    found.state("forecast_horizon_weeks", weeks_of(match), text.wording(match))


def read_season_dates(mentions: list[DateMention], reference: date, found: Findings) -> list[DateMention]:
    """Start and end of the season from the date phrases; returns the markdown-date mentions."""
    starts = [m for m in mentions if m.role == "start"]
    ends = [m for m in mentions if m.role == "end"]
    start = end = None
    if starts:
        start = resolve_date(starts[0], reference, "season_start_date")
        found.state("season_start_date", start, starts[0].phrase)
    if ends:
        end = resolve_date(ends[0], start or reference, "season_end_date")
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


def resolve_checkpoint(markdown_dates: list[DateMention], reference: date, found: Findings) -> None:
    horizon = found.values.get("forecast_horizon_weeks", DEFAULT_HORIZON_WEEKS)
    start = found.values.get("season_start_date", default_start_date(reference))
    if found.checkpoint is None and markdown_dates and "markdown_checkpoint_week" not in found.values:
        mention = markdown_dates[0]
        day = resolve_date(mention, start, "markdown_checkpoint_week")
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

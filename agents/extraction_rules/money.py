"""The season's money in a planner's words (SPEC §13): unit price, unit cost and salvage value.

An amount is read only next to a money word or verb ("retail", "unit cost", "salvage", "sells at",
"costs us") or, before a money word, with a currency ("$49 retail"), so the brief's other numbers
(units, shares, weeks, dates, "10,000 units") are never taken for money. These rules run first and
mask what they read, so no later rule takes "$49" for a share or a week.

- "$49 retail, $21 cost", "retail price 49.99", "sells at $35, costs us $15", "unit cost $12.50",
  "salvage $5 a unit", "clearance value of 8 dollars", "€40 retail", "49 USD retail".
- Currencies: $, €, £, and usd, eur, gbp, dollars, euros, pounds, bucks. The number is stored; the
  currency is only named in the reasoning (a season's money is in one currency, whichever the
  planner uses). A brief stating money in two currencies is refused, naming the field: nothing
  converts between them.
- Amounts: "49", "49.99", "1,200" (thousands), "49,99" (a decimal comma: exactly two digits).
- Salvage is read first ("clearance price 8" is a salvage value, not the price), then cost
  ("wholesale price" is a cost), then price. Each tries its word before the amount ("cost $21"),
  then its verb ("costs us $15"), then an amount with a currency before its word ("$21 cost").
- A currency amount left with no role ("$10,000 budget") is ignored, with a note in the reasoning.
"""
from __future__ import annotations

import re

from agents.extraction_rules.fields import Findings
from agents.extraction_rules.text import PlannerText
from agents.parameters import ParameterError

_BEFORE = r"(?:(?P<pre>us\$|\$|€|£|usd|eur|gbp)\s?)?"
_AMOUNT = r"(?P<amount>\d+,\d{2}(?![\d,])|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_AFTER = r"(?:\s?(?P<post>(?:usd|eur|gbp|dollars?|euros?|pounds?|bucks)\b|€|\$))?"
# Not money: a share, a count, a length, an ordinal, thousands ("10k"), or the start of a longer number or a date.
_NOT_MONEY_AFTER = (
    r"(?![\d]|[.,/-]\d|\s*(?:%|percent\b|per\s*cent\b|pct\b|x\b|weeks?\b|wks?\b|months?\b|days?\b|years?\b|"
    r"units?\b|pieces\b|pcs\b|items\b|stores?\b|k\b|m\b|mn\b|million\b|thousand\b|st\b|nd\b|rd\b|th\b))"
)
_MONEY = rf"(?<![\w.,/:$€£-]){_BEFORE}{_AMOUNT}{_AFTER}{_NOT_MONEY_AFTER}"
_PER_UNIT = r"(?:\s*(?:a|per|each|/)\s*(?:unit|piece|pc|item|pair)\b|\s+each\b|\s+apiece\b)?"
_CONNECT = (
    r"(?:\s*(?:of|is|was|at|=|:|~|around|about|roughly|approximately|approx\.?|will\s+be|should\s+be|"
    r"set\s+(?:at|to)|per\s+unit|a\s+unit|each)(?![a-z])){0,3}\s*"
)

_WORDS = {
    "salvage_value": (
        r"salvage(?:\s+(?:value|price))?|clearance(?:\s+(?:value|price))?|residual(?:\s+value)?|"
        r"liquidation\s+(?:value|price)|scrap\s+value|outlet\s+price|"
        r"(?:end[\s-]of[\s-]season|leftover|left[\s-]over)\s+(?:value|price)|"
        r"value\s+of\s+(?:a\s+|each\s+)?(?:leftover|left[\s-]over|unsold)(?:\s+units?)?"
    ),
    "unit_cost": (
        r"(?<!markdown\s)(?<!shipping\s)(?<!freight\s)(?<!holding\s)"
        r"(?:(?:unit|landed|product|purchase|buying|wholesale|manufacturing|production|item|factory|fob)\s+)?"
        r"cost(?:\s+(?:price|per\s+unit))?|cogs|wholesale(?:\s+price)?|(?:buy|buying|purchase)\s+price|first\s+cost"
    ),
    "unit_price": (
        r"(?<!markdown\s)(?<!mark-down\s)(?<!discount\s)(?<!discounted\s)(?<!reduced\s)"
        r"(?:(?:unit|selling|sales?|ticket|full|list|shelf|regular|sticker|retail|average|avg)\s+)?price(?:\s+point)?|"
        r"retail(?:\s+value)?|msrp|rrp|srp"
    ),
}
_VERBS = {
    "salvage_value": (
        r"(?:leftovers?|left[\s-]?overs?|unsold\s+(?:units|stock)|remaining\s+(?:units|stock))\s+"
        r"(?:sell|go|clear|are\s+worth|worth|fetch|get)(?:\s+(?:at|for))?|"
        r"(?:sell|clear|liquidate|dump)\s+(?:the\s+)?(?:leftovers?|left[\s-]?overs?|rest|remainder|unsold(?:\s+units)?)"
        r"\s+(?:at|for)"
    ),
    "unit_cost": (
        r"costs\s+(?:us\s+|me\s+)?|cost\s+(?:us|me)\s+|costing\s+(?:us\s+)?|we\s+pay|"
        r"(?:bought|buy(?:ing)?|made|make|sourced?)\s+(?:it\s+|them\s+)?(?:at|for)"
    ),
    "unit_price": (
        r"(?:sells?|selling|sold|retails?|retailing|priced|ticketed)\s+(?:at|for)|priced\s+at"
    ),
}
ROLES = ("salvage_value", "unit_cost", "unit_price")  # the order they are read in
_PATTERNS = {
    role: [
        (re.compile(rf"\b(?:{_WORDS[role]})\b{_PER_UNIT}{_CONNECT}{_MONEY}{_PER_UNIT}"), False),
        (re.compile(rf"\b(?:{_VERBS[role]}){_CONNECT}{_MONEY}{_PER_UNIT}"), False),
        (re.compile(rf"{_MONEY}{_PER_UNIT}\s*(?:(?:at|in|as|for|of)\s+)?(?:the\s+)?\b(?:{_WORDS[role]})\b"), True),
    ]
    for role in ROLES
}
_ANY_MONEY = re.compile(_MONEY)
_CURRENCIES = {
    "$": "$", "us$": "$", "usd": "$", "dollar": "$", "dollars": "$", "bucks": "$",
    "€": "€", "eur": "€", "euro": "€", "euros": "€",
    "£": "£", "gbp": "£", "pound": "£", "pounds": "£",
}
_CURRENCY_NAMES = {"$": "dollars", "€": "euros", "£": "pounds"}


def amount_value(amount: str) -> float:
    """ "49" -> 49.0, "49.99" -> 49.99, "1,200" -> 1200.0, "49,99" -> 49.99."""
    if re.fullmatch(r"\d+,\d{2}", amount):
        return float(amount.replace(",", "."))
    return float(amount.replace(",", ""))


def currency_of(match: re.Match[str]) -> str | None:
    """The currency a money match names ($, € or £), or None for a bare number."""
    marker = match["pre"] or match["post"]
    return _CURRENCIES.get(marker) if marker else None


def read_economics(text: PlannerText, found: Findings) -> None:
    """Unit price, unit cost and salvage value (``found.state``), each from its first phrase.

    Raises ParameterError when the money is stated in two currencies."""
    currencies: dict[str, tuple[int, str]] = {}  # role -> (position, currency)
    for role in ROLES:
        match = _first_money(text, role)
        if match is None:
            continue
        currency = currency_of(match)
        found.state(role, amount_value(match["amount"]),
                    text.wording(match) + (f" (in {_CURRENCY_NAMES[currency]}; the number is kept)" if currency else ""))
        if currency:
            currencies[role] = (match.start(), currency)
    _check_one_currency(currencies)
    for match in text.find(_ANY_MONEY):
        if currency_of(match):
            found.notes.append(f"Note: ignored {text.wording(match)}: say whether it is the retail price, "
                               "the unit cost or the salvage value.")


def _first_money(text: PlannerText, role: str) -> re.Match[str] | None:
    for pattern, needs_currency in _PATTERNS[role]:
        for match in text.find(pattern):
            if needs_currency and not currency_of(match):
                continue
            text.use(match)
            return match
    return None


def _check_one_currency(currencies: dict[str, tuple[int, str]]) -> None:
    stated = sorted(currencies.items(), key=lambda item: item[1][0])
    if not stated:
        return
    first_role, (_, first) = stated[0]
    for role, (_, currency) in stated[1:]:
        if currency != first:
            raise ParameterError(role, f"stated in {_CURRENCY_NAMES[currency]} while {first_role} is in "
                                       f"{_CURRENCY_NAMES[first]}: state the season's money in one currency")

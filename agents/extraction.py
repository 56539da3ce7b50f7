"""Rule-based extraction of SeasonParameters from a planner's free text (SPEC §3).

The text is normalised (lower case, number words -> digits, ordinals -> "1st"), then small rules
read one field each. A rule that uses a phrase masks it, so later rules cannot reuse the same
words: "every 2 weeks" is a cadence, not a horizon; "60% sell-through" is a threshold, not a
holdback. Rules run from the most specific (dates, cadence, markdown) to the most general
(horizon). The rules live in ``agents.extraction_rules`` (numbers, text, dates, fields); this
module runs them in that order and builds the result, which the LLM extractor shares.
Conventions, chosen for what a planner expects:

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
- Money (SPEC §13, optional): unit price, unit cost and salvage value, read next to a money word
  or verb, or with a currency before one ("$49 retail, $21 cost", "sells at $35", "salvage $5 a
  unit"); the number is kept, whatever the currency (``agents.extraction_rules.money``). Not
  stated -> the defaults, chosen with the category (planning.selectors.economics). They never
  count in ``missing`` or in the confidence, which are about the seven planning fields.
- Explicit out-of-range values raise ParameterError naming the field; nothing is clamped.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from agents.extraction_rules import fields
from agents.extraction_rules.dates import find_dates
from agents.extraction_rules.money import read_economics
from agents.extraction_rules.text import PlannerText
from agents.parameters import (
    ECONOMICS_FIELDS,
    PLANNER_FIELDS,
    ParameterError,
    SeasonParameters,
    default_start_date,
    parse_parameters,
)
from mlpipeline.economics import COST_SHARE, SALVAGE_SHARE

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

    @property
    def economics_stated(self) -> list[str]:
        """The economics fields the text stated (the others take their defaults)."""
        return [name for name in ECONOMICS_FIELDS if name in self.stated]

    def to_dict(self) -> dict[str, Any]:
        """The response body of POST /api/parameters/extract (``parameters`` holds the economics
        only when stated)."""
        return {
            "parameters": self.parameters.model_dump(mode="json"),
            "confidence": self.confidence,
            "reasoning": self.reasoning,
            "extractor": self.extractor,
            "missing": list(self.missing),
            "economics_stated": self.economics_stated,
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
    stated = frozenset(name for name in values if name in (*PLANNER_FIELDS, *ECONOMICS_FIELDS))
    data = {"season_start_date": default_start_date(reference_date), **values}
    parameters = parse_parameters(data)
    missing = [name for name in PLANNER_FIELDS if name not in stated]
    lines = [_explain(name, parameters, sources.get(name)) for name in PLANNER_FIELDS]
    lines += [_explain_money(name, parameters, sources.get(name)) for name in ECONOMICS_FIELDS]
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
    "unit_price": "Unit price",
    "unit_cost": "Unit cost",
    "salvage_value": "Salvage value",
}
_MONEY_DEFAULTS = {
    "unit_price": "the category's revenue / units over the last 52 weeks of history",
    "unit_cost": f"{COST_SHARE:g} x the unit price",
    "salvage_value": f"{SALVAGE_SHARE:g} x the unit price, per unit left at the season's end",
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


def _explain_money(name: str, parameters: SeasonParameters, source: str | None) -> str:
    value = getattr(parameters, name)
    if value is None:
        return f"{_LABELS[name]}: default ({_MONEY_DEFAULTS[name]})."
    return f"{_LABELS[name]}: {value:,.2f} (stated: {source or 'given'})."


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def extract_parameters(text: str, reference_date: date) -> ExtractionResult:
    """Read SeasonParameters from a planner's text; raises ParameterError for explicit bad values."""
    planner_text = PlannerText(check_user_input(text))
    found = fields.Findings()
    read_economics(planner_text, found)
    mentions = find_dates(planner_text, reference_date)
    fields.read_replenishment(planner_text, found)
    fields.read_markdown_checkpoint(planner_text, found)
    fields.read_markdown_threshold(planner_text, found)
    fields.read_holdback(planner_text, found)
    fields.read_horizon(planner_text, found)
    markdown_dates = fields.read_season_dates(mentions, reference_date, found)
    fields.resolve_checkpoint(markdown_dates, reference_date, found)
    return assemble_result(found.values, found.sources, reference_date, extractor="rules", notes=found.notes)

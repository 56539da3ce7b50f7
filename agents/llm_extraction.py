"""LLM extraction of SeasonParameters through any OpenAI-compatible chat completions endpoint (SPEC §3).

`extract` is the single entry point: without an API key it uses the rule-based extractor; with one it
asks the model for structured output (JSON schema, temperature 0, bounded timeout and retries) and
falls back to the rules on any failure, saying why in `reasoning`. The rule extractor always reads
the text too, so explicitly out-of-range values raise ParameterError whatever the model answers.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date
from typing import Any

import openai

from agents.extraction import ExtractionResult, TokenUsage, assemble_result, extract_parameters
from agents.parameters import ECONOMICS_FIELDS, PLANNER_FIELDS, REPLENISHMENT_STRATEGIES

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_SECONDS = 20.0
NULLABLE_FIELDS = ("markdown_checkpoint_week", "markdown_threshold")
ANSWER_FIELDS = (*PLANNER_FIELDS, *ECONOMICS_FIELDS)

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "forecast_horizon_weeks": {"type": ["integer", "null"], "description": "Season length in weeks."},
        "season_start_date": {"type": ["string", "null"], "description": "First day of the season, YYYY-MM-DD."},
        "replenishment_strategy": {"type": ["string", "null"], "enum": [*REPLENISHMENT_STRATEGIES, None]},
        "dc_holdback_percentage": {"type": ["number", "null"], "description": "Share kept at the DC, 0..1."},
        "markdown_checkpoint_week": {"type": ["integer", "null"], "description": "Season week of the markdown check."},
        "markdown_threshold": {"type": ["number", "null"], "description": "Target sell-through, 0..1."},
        "unit_price": {"type": ["number", "null"], "description": "Retail price per unit, the number only."},
        "unit_cost": {"type": ["number", "null"], "description": "What a unit costs the retailer, the number only."},
        "salvage_value": {"type": ["number", "null"],
                          "description": "What a unit left at the season's end still brings, the number only."},
        "stated_fields": {
            "type": "array",
            "items": {"type": "string", "enum": list(ANSWER_FIELDS)},
            "description": "The fields the planner's text determines (including an explicit 'no markdowns').",
        },
        "reasoning": {"type": "string", "description": "One short sentence per stated field: which words gave it."},
    },
    "required": [*ANSWER_FIELDS, "stated_fields", "reasoning"],
    "additionalProperties": False,
}
RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "season_parameters", "strict": True, "schema": ANSWER_SCHEMA},
}

INSTRUCTIONS = """\
You read a retail planner's description of a selling season and return its parameters as JSON.
Only report what the text states or clearly implies; use null and leave the field out of
stated_fields otherwise (the application applies its own defaults). Never clamp or correct a value:
report it as stated, even if it looks out of range.
Conventions:
- forecast_horizon_weeks: whole weeks. Months -> round(months * 52 / 12) (3 months = 13, 2 = 9);
  a quarter = 13; a year = 52. A date range -> ceil((end - start) in days / 7), so
  "March 1 to May 24" = 12.
- season_start_date: YYYY-MM-DD. A date without a year is its next occurrence on or after the
  reference date. "next Monday" = the first Monday strictly after the reference date; "next week" =
  the same; "today"/"tomorrow" relative to the reference date; "3/10/2025" is month/day/year.
- replenishment_strategy: "none" (no replenishment, ship everything up front), "weekly", or
  "bi-weekly" (every two weeks, fortnightly, twice a month, every other week).
- dc_holdback_percentage: the share kept back at the DC / distribution center / warehouse / reserve,
  as a fraction: 45% -> 0.45, "a quarter" -> 0.25. "Send 70% to stores" -> 0.3. "0% holdback",
  "no holdback" and "ship everything up front" -> 0.0.
- markdown_checkpoint_week: the season week of the markdown check; "halfway"/"midseason" ->
  horizon // 2; "4 weeks before the end" -> horizon - 4; "no markdowns" -> null, and list
  markdown_checkpoint_week in stated_fields.
- markdown_threshold: the target sell-through as a fraction (60% -> 0.6).
- unit_price, unit_cost, salvage_value: money per unit, the number only, whatever the currency
  ("$49 retail" -> unit_price 49; "costs us $15" / "unit cost 15" -> unit_cost 15; "salvage $5",
  "clearance value of 5" -> salvage_value 5). Only amounts the text names as price, cost or salvage;
  never a count of units, a percentage or a budget.
"""


class LLMExtractionError(RuntimeError):
    """The model call or its answer failed; `fallback` is the rule-based result to use instead."""

    def __init__(self, reason: str, fallback: ExtractionResult) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fallback = fallback


def extract(
    text: str,
    reference_date: date,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    model: str = DEFAULT_MODEL,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> ExtractionResult:
    """Parameters from the planner's text: the LLM when a key is configured, else (or on failure) the rules."""
    if not api_key:
        return extract_parameters(text, reference_date)
    try:
        return extract_with_llm(
            text, reference_date, api_key=api_key, base_url=base_url, model=model, timeout=timeout
        )
    except LLMExtractionError as failure:
        logger.warning("LLM parameter extraction fell back to rules: %s", failure.reason)
        return failure.fallback


def extract_with_llm(
    text: str,
    reference_date: date,
    *,
    client: openai.OpenAI | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    model: str = DEFAULT_MODEL,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_retries: int = 1,
) -> ExtractionResult:
    """Ask the model (`client`, or a new one from api_key/base_url) for the parameters.

    Raises ParameterError for bad input or explicit out-of-range values (checked by the rules),
    and LLMExtractionError, carrying the rule-based fallback, when the call or its answer fails.
    """
    rules = extract_parameters(text, reference_date)  # validates input and explicit ranges first
    if client is not None:
        return _ask(client.with_options(timeout=timeout, max_retries=max_retries), text, reference_date, model, rules)
    with openai.OpenAI(api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=max_retries) as own:
        return _ask(own, text, reference_date, model, rules)


def _ask(
    client: openai.OpenAI, text: str, reference_date: date, model: str, rules: ExtractionResult
) -> ExtractionResult:
    def failed(reason: str, usage: TokenUsage | None = None) -> LLMExtractionError:
        """The failure, carrying the rule-based result with the reason appended."""
        note = f"LLM extraction failed ({reason}); used the rule-based extractor."
        return LLMExtractionError(reason, replace(rules.with_note(note), usage=usage))

    try:
        response = client.chat.completions.create(
            model=model,
            messages=[
                {"role": "system", "content": INSTRUCTIONS},
                {
                    "role": "user",
                    "content": f"Reference date: {reference_date.isoformat()} ({reference_date:%A}).\n"
                    f"Planner's text:\n{text}",
                },
            ],
            response_format=RESPONSE_FORMAT,  # type: ignore[arg-type]
            temperature=0,
        )
    except openai.APITimeoutError:
        raise failed(f"no answer within {client.timeout} s") from None
    except openai.APIStatusError as exc:
        raise failed(f"HTTP {exc.status_code} from the model endpoint") from None
    except openai.OpenAIError as exc:
        raise failed(f"{type(exc).__name__}: {exc}") from None

    usage = _token_usage(response)
    try:
        answer = _read_answer(response)
        values = _stated_values(answer)
        sources = {name: "read by the model" for name in values}
        notes = [f"Model: {answer['reasoning']}"] if answer["reasoning"] else []
        return assemble_result(values, sources, reference_date, extractor="llm", notes=notes, usage=usage)
    except (ValueError, TypeError, LookupError, AttributeError) as exc:  # ParameterError is a ValueError
        raise failed(f"invalid answer: {exc}", usage) from None


def _token_usage(response: Any) -> TokenUsage | None:
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    return TokenUsage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


def _read_answer(response: Any) -> dict[str, Any]:
    message = response.choices[0].message
    if message.refusal:
        raise ValueError(f"the model refused: {message.refusal}")
    answer = json.loads(message.content or "")
    if not isinstance(answer, dict):
        raise ValueError("the answer is not a JSON object")
    unknown = set(answer.get("stated_fields", [])) - set(ANSWER_FIELDS)
    if unknown:
        raise ValueError(f"unknown stated_fields {sorted(unknown)}")
    return answer


def _stated_values(answer: dict[str, Any]) -> dict[str, Any]:
    """The values of the fields the model says were stated; null only counts for the markdown fields
    (an answer without the economics keys is read as not stating them)."""
    values: dict[str, Any] = {}
    for name in answer["stated_fields"]:
        value = answer.get(name) if name in ECONOMICS_FIELDS else answer[name]
        if value is None and name not in NULLABLE_FIELDS:
            continue
        values[name] = date.fromisoformat(value) if name == "season_start_date" else value
    return values

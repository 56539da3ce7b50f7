"""A scripted model for driving the season agents in tests, without a network.

The SDK ships a deterministic ``Model`` for exactly this (``agents.testing.ScriptedModel``: one
scripted response per model call, and a record of every call). This module builds its turns in
the planner's terms: hand the step to an agent, call season tools with JSON arguments, answer,
stall, fail; each turn reports the same token usage so tests can check what a run spent.
"""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from typing import Any

from agents import Agent, Handoff, Usage
from agents.orchestration import DEMAND, INVENTORY, MARKDOWN, PRICING, REFORECAST
from agents.season_agents import DEMAND_AGENT, INVENTORY_AGENT, PRICING_AGENT
from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call

TURN_INPUT_TOKENS = 400
TURN_OUTPUT_TOKENS = 50

_call_ids = itertools.count(1)


def turn_usage() -> Usage:
    """The usage every scripted turn reports: one request, fixed token counts."""
    return Usage(requests=1, input_tokens=TURN_INPUT_TOKENS, output_tokens=TURN_OUTPUT_TOKENS,
                 total_tokens=TURN_INPUT_TOKENS + TURN_OUTPUT_TOKENS)


def usage_of(turns: int) -> dict[str, int]:
    """What ``turns`` scripted turns add up to, as a StepOutcome.usage dict."""
    return {"requests": turns, "input_tokens": turns * TURN_INPUT_TOKENS,
            "output_tokens": turns * TURN_OUTPUT_TOKENS,
            "total_tokens": turns * (TURN_INPUT_TOKENS + TURN_OUTPUT_TOKENS)}


def handoff_to(agent: Agent[Any]) -> ModelStep:
    """A turn in which the model hands the conversation to ``agent``."""
    return call_tools((Handoff.default_tool_name(agent), {}))


def call_tools(*calls: str | tuple[str, Mapping[str, Any]]) -> ModelStep:
    """A turn calling one or more tools at once: a name, or (name, arguments)."""
    items = []
    for call in calls:
        name, arguments = (call, {}) if isinstance(call, str) else call
        items.append(function_call(name, dict(arguments), call_id=f"call_{next(_call_ids)}"))
    return ModelStep(output=items, usage=turn_usage())


def answer(text: str) -> ModelStep:
    """The final turn: the agent's explanation for the planner."""
    return ModelStep(output=[assistant_message(text)], usage=turn_usage())


def stall(seconds: float) -> ModelStep:
    """A turn in which the model does not answer for ``seconds`` (then answers, if still asked)."""

    async def slow(call: Any) -> ModelStep:
        await asyncio.sleep(seconds)
        return answer("late")

    return ModelStep.respond(slow)


def fail(error: Exception) -> ModelStep:
    """A turn in which the model call raises ``error`` (a provider outage, say)."""
    return ModelStep.raise_error(error)


def well_behaved(step: str, *, safety_stock_pct: float | None = None, elasticity: float = 2.0) -> ScriptedModel:
    """The turns a well-behaved model takes for ``step``: hand over, call the step's tools in
    order (independent ones together), explain."""
    tools = {
        DEMAND: [handoff_to(DEMAND_AGENT), call_tools("forecast_season_demand", "group_stores"),
                 call_tools("split_forecast_to_clusters")],
        INVENTORY: [handoff_to(INVENTORY_AGENT),
                    call_tools(("size_manufacturing_order", {"safety_stock_pct": safety_stock_pct})),
                    call_tools("allocate_to_stores"), call_tools("price_the_buy")],
        PRICING: [handoff_to(PRICING_AGENT), call_tools("schedule_markdown_checkpoint"),
                  call_tools("price_the_markdown_rule")],
        REFORECAST: [handoff_to(DEMAND_AGENT), call_tools("refit_forecast_on_actuals"),
                     call_tools("update_remaining_forecast")],
        MARKDOWN: [handoff_to(PRICING_AGENT), call_tools(("recommend_markdown", {"elasticity": elasticity}))],
    }[step]
    return ScriptedModel([*tools, answer(f"The {step} step is done; every number above comes from the tools.")])

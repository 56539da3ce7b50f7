"""What makes a season plan impossible, not merely unusual (SPEC §8), as plain checks.

The tools refuse such a result (``ToolError``); the LLM agents' guardrails (``agents.season_agents``)
re-check every recorded output with :func:`plan_violations`. Demand bounds are relative to the
category's own history, because a 2,000-store chain sells far more than the demo: a week above
HISTORY_CEILING_FACTOR x the largest weekly total of the history is impossible.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlpipeline.limits import MAX_MARKDOWN

HISTORY_CEILING_FACTOR = 10


def weekly_ceiling(weekly_history: Sequence[Mapping[str, Any]]) -> float | None:
    """The largest weekly units a forecast may hold: 10 x the largest weekly total of the
    category's history (None without history)."""
    largest = max((float(row["units"]) for row in weekly_history), default=None)
    return None if largest is None else HISTORY_CEILING_FACTOR * largest


def demand_violations(weekly_units: Sequence[float], ceiling: float | None, *, allow_zero: bool = False) -> list[str]:
    """Why a weekly curve is impossible (SPEC §8), empty when it can be real: a week at or below
    zero (below zero for a re-forecast, whose remaining weeks may have stopped selling), or above
    ``ceiling`` (10 x the history's largest week). Only the first offending week is named."""
    for week, units in enumerate(weekly_units, start=1):
        if units < 0 or (units == 0 and not allow_zero):
            return [f"week {week} forecasts {units:,.0f} units; weekly demand must be positive"]
        if ceiling is not None and units > ceiling:
            return [f"week {week} forecasts {units:,.0f} units, above {HISTORY_CEILING_FACTOR} x the largest "
                    f"week of the category's history ({ceiling / HISTORY_CEILING_FACTOR:,.0f})"]
    return []


def plan_violations(outputs: Mapping[str, Any]) -> list[str]:
    """The impossible numbers among recorded outputs; empty when the plan can be real."""
    problems: list[str] = []
    for key in ("forecast", "refit"):
        forecast = outputs.get(key)
        if not forecast:
            continue
        if forecast["total"] <= 0:
            problems.append(f"{key} total {forecast['total']:,.0f} is not positive")
        weeks = [week["units"] for week in forecast["weekly"]]
        problems += [f"{key}: {problem}" for problem in demand_violations(weeks, forecast.get("weekly_ceiling"))]
    reforecast = outputs.get("reforecast")
    if reforecast:
        ceiling = next((outputs[key].get("weekly_ceiling") for key in ("refit", "forecast") if outputs.get(key)), None)
        problems += [f"re-forecast: {problem}" for problem in
                     demand_violations(reforecast["updated_remaining"], ceiling, allow_zero=True)]
    for key in ("order", "allocation"):
        split = outputs.get(key)
        if split and split["initial_qty"] + split["holdback_qty"] != split["manufacturing_qty"]:
            problems.append(f"{key}: initial {split['initial_qty']:,} + holdback {split['holdback_qty']:,} "
                            f"!= manufacturing {split['manufacturing_qty']:,}")
    allocation = outputs.get("allocation")
    if allocation:
        for column in ("initial_qty", "holdback_qty"):
            rows = sum(store[column] for store in allocation["stores"])
            if rows != allocation[column]:
                problems.append(f"allocation: store {column} rows add up to {rows:,}, not {allocation[column]:,}")
    markdown = outputs.get("markdown")
    if markdown and markdown["markdown_pct"] > MAX_MARKDOWN:
        problems.append(f"markdown {markdown['markdown_pct']:.0%} exceeds {MAX_MARKDOWN:.0%}")
    return problems

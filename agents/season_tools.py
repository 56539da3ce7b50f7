"""The season tools: every number of a season plan comes from one of these functions or from the
demand step's tools in ``agents.demand_tools`` (forecast, store clusters, cluster split).

They wrap ``mlpipeline`` (forecast, clustering, allocation math) behind plain, typed, JSON-safe
inputs and outputs, so the deterministic runner, the LLM agents (as function tools) and the debug
endpoints call exactly the same code. Nothing here imports Django. Each docstring says how its
parameters change the plan; the LLM runner uses the docstrings as tool descriptions. What makes a
plan impossible is in ``agents.guardrails``.

Conventions: dates are ISO strings ("2025-03-01"); weeks count from 1 (week N starts at
``season_start + 7*(N-1)``); fractions are 0..1 (0.20 = 20%); units are category units.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

import pandas as pd

from mlpipeline.allocation import (
    allocate,
    default_safety_stock,
    explicit_buy,
    manufacturing_quantity,
    markdown_recommendation,
    plan_replenishment,
    replenishment_need,
    split_initial_holdback,
    variance_check,
)
from mlpipeline.inseason import history_noise, inseason_reforecast
from mlpipeline.limits import MAX_MARKDOWN
from mlpipeline.stock import StockPosition, alert_message, stock_position


class ToolError(ValueError):
    """A tool input that cannot produce a plan (the message says which and why)."""


class Cache(Protocol):
    """Where a tool keeps a fit for the same data and parameters (``agents.orchestration.FitCache``)."""
    def get(self, key: str) -> dict | None: ...

    def set(self, key: str, value: dict) -> None: ...


def as_date(value: date | str) -> date:
    """A date from a date or its ISO string."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def whole_units(value: float) -> int:
    """Units rounded half up: the demand a planner sees and checks the order against."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rounded(value: float | None, digits: int = 2) -> float | None:
    """A JSON-safe float rounded for the outputs (None stays None)."""
    return None if value is None else round(float(value), digits)


# --- inventory ------------------------------------------------------------------------------


def size_manufacturing_order(
    demand: float,
    replenishment_strategy: str,
    holdback_pct: float,
    safety_stock_pct: float | None = None,
    manufacturing_qty: int | None = None,
) -> dict:
    """How many units to make and where they go at week 0.

    Demand is taken in whole units (rounded half up, as the planner sees it), then manufacturing
    quantity = demand * (1 + safety stock). Safety stock defaults to 20%, or 25%
    when ``replenishment_strategy`` is "none" (no top-ups from the DC, so stores need a bigger
    cushion); the planner may set ``safety_stock_pct`` anywhere in 0.10..0.30, or a
    ``manufacturing_qty`` of their own within 0.5x..2x demand (a buy chosen in money terms).
    8,000 -> 9,600 at 20%, 10,000 at 25%. ``holdback_pct`` is the share kept at the DC for
    replenishment: initial = round(mfg * (1 - holdback)), holdback = mfg - initial (9,600 at
    0.45 -> 5,280 / 4,320; holdback 0 ships everything at week 0)."""
    try:
        default = default_safety_stock(replenishment_strategy)
        units = whole_units(demand)
        if manufacturing_qty is not None:
            chosen, mfg = explicit_buy(units, manufacturing_qty), int(manufacturing_qty)
        else:
            chosen = default if safety_stock_pct is None else float(safety_stock_pct)
            mfg = manufacturing_quantity(units, chosen)
        split = split_initial_holdback(mfg, holdback_pct)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    if split.initial + split.holdback != mfg:  # guardrail (SPEC §8)
        raise ToolError("initial + holdback does not equal the manufacturing quantity")
    if manufacturing_qty is not None:
        source = "quantity"
        why = f"Manufacturing quantity {mfg:,} as set by the planner ({chosen:+.1%} on demand)"
        formula = f"{why}; "
    else:
        source = "default" if safety_stock_pct is None else "planner"
        if safety_stock_pct is None:
            why = (f"Safety stock {chosen:.0%} because replenishment is {replenishment_strategy}"
                   + (" (no DC top-ups, so a bigger cushion)" if replenishment_strategy == "none" else ""))
        else:
            why = f"Safety stock {chosen:.0%} as set by the planner (default {default:.0%})"
        formula = f"{why}: {units:,} x {1 + chosen:.2f} = {mfg:,} units; "
    return {
        "demand": rounded(demand),
        "safety_stock_pct": chosen,
        "default_safety_stock_pct": default,
        "safety_stock_source": source,
        "manufacturing_qty": mfg,
        "holdback_pct": float(holdback_pct),
        "initial_qty": split.initial,
        "holdback_qty": split.holdback,
        "demand_units": units,
        "reasoning": (f"{formula}holdback {float(holdback_pct):.0%} keeps {split.holdback:,} at the DC and "
                      f"ships {split.initial:,} at week 0."),
    }


def allocate_to_stores(
    forecast_total: float,
    weekly_forecast: Sequence[float],
    stores: Sequence[Mapping[str, Any]],
    safety_stock_pct: float,
    holdback_pct: float,
    manufacturing_qty: int | None = None,
) -> dict:
    """Allocate the order to stores: forecast -> clusters -> stores.

    ``stores`` rows carry store_id, cluster, historical_units (the store's units of this category
    in the last 52 weeks), store_size_sqft and median_income. Cluster shares come from the
    historical units; within a cluster each store's factor = 0.7 * its share of the cluster's
    sales + 0.3 * its attribute share (size and income vs the cluster mean), renormalised, so
    history dominates but a store with thin history is not starved. ``safety_stock_pct`` scales
    the order (mfg = demand * (1 + ss)); ``holdback_pct`` decides how much of each store's
    quantity stays at the DC. Store rows add up exactly to their cluster and to the totals
    (largest-remainder rounding). The forecast is taken in whole units, as in
    size_manufacturing_order, so both tools give the same order; a planner's own
    ``manufacturing_qty`` replaces demand * (1 + ss) in both."""


    try:
        plan = allocate(whole_units(forecast_total), list(weekly_forecast), pd.DataFrame(list(stores)),
                        safety_stock_pct, holdback_pct, manufacturing_qty)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    if plan.initial_total + plan.holdback_total != plan.manufacturing_qty:
        raise ToolError("initial + holdback does not equal the manufacturing quantity")
    return {
        "forecast_total": rounded(forecast_total),
        "demand_units": plan.demand_units,
        "safety_stock_pct": plan.safety_stock_pct,
        "holdback_pct": plan.holdback_pct,
        "manufacturing_qty": plan.manufacturing_qty,
        "initial_qty": plan.initial_total,
        "holdback_qty": plan.holdback_total,
        "clusters": [
            {"cluster_id": c.cluster, "share": round(c.share, 6), "store_count": c.store_count,
             "units": c.planned_units, "initial_qty": c.initial_units, "holdback_qty": c.holdback_units}
            for c in plan.clusters
        ],
        "stores": [
            {"store_id": s.store_id, "cluster_id": s.cluster, "factor": round(s.factor, 6),
             "share": round(s.share, 6), "planned_units": s.planned_units,
             "initial_qty": s.initial_units, "holdback_qty": s.holdback_units}
            for s in plan.stores
        ],
    }


# --- pricing --------------------------------------------------------------------------------


def schedule_markdown_checkpoint(parameters: Mapping[str, Any]) -> dict:
    """When to check sell-through for a markdown. ``markdown_checkpoint_week`` N means: after week
    N's actuals, compare sell-through with ``markdown_threshold`` (default 0.60) and recommend a
    markdown if it is behind. A null checkpoint means no markdown step and no markdown record."""
    week = parameters.get("markdown_checkpoint_week")
    if week in (None, ""):
        return {"scheduled": False, "checkpoint_week": None, "target_sell_through": None,
                "reasoning": "No markdown checkpoint was set, so the season runs without a markdown."}
    week = int(week)
    horizon = int(parameters.get("forecast_horizon_weeks", 12))
    if not 1 <= week <= horizon:
        raise ToolError(f"markdown_checkpoint_week {week} is outside the {horizon}-week season")
    start = as_date(parameters["season_start_date"])
    target = float(parameters.get("markdown_threshold") or 0.60)
    review = start + timedelta(weeks=week) - timedelta(days=1)
    return {
        "scheduled": True,
        "checkpoint_week": week,
        "week_start": (start + timedelta(weeks=week - 1)).isoformat(),
        "review_after": review.isoformat(),
        "target_sell_through": target,
        "reasoning": (f"Markdown checkpoint after week {week} (ends {review.isoformat()}): if "
                      f"sell-through is below {target:.0%}, a markdown is recommended for approval."),
    }


def recommend_markdown(
    units_sold: float,
    manufacturing_qty: int,
    target_sell_through: float = 0.60,
    elasticity: float = 2.0,
) -> dict:
    """Recommend a markdown at the checkpoint. sell-through = units sold / manufacturing quantity;
    gap = target - sell-through. On track (gap <= 0) -> 0%. Otherwise markdown = min(gap *
    elasticity, 40%) rounded half up to the nearest 5%: a higher ``elasticity`` (1.0..3.0, default
    2.0) assumes shoppers respond less, so it marks down deeper for the same gap. Expected demand
    lift = 1.5 * markdown. 55% sold vs a 60% target at elasticity 2.0 -> 10% off, +15% demand."""
    try:
        result = markdown_recommendation(units_sold, manufacturing_qty, target_sell_through, elasticity)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    if result.markdown_pct > MAX_MARKDOWN:  # guardrail (SPEC §8)
        raise ToolError(f"markdown {result.markdown_pct:.0%} exceeds {MAX_MARKDOWN:.0%}")
    return {
        "units_sold": int(round(float(units_sold))),
        "manufacturing_qty": int(manufacturing_qty),
        "sell_through": round(result.sell_through, 6),
        "target": result.target,
        "gap": round(result.gap, 6),
        "elasticity": result.elasticity,
        "raw_markdown": round(result.raw_markdown, 6),
        "markdown_pct": result.markdown_pct,
        "expected_lift": result.expected_lift,
        "on_track": result.on_track,
        "formula": result.formula,
    }


# --- in season ------------------------------------------------------------------------------


def check_variance(actual_cum: float, forecast_cum: float, threshold: float = 0.20) -> dict:
    """Cumulative variance through week N = |actual - forecast| / forecast, against the current
    baseline (the latest re-forecast). Above ``threshold`` (strictly) the remaining weeks are
    re-forecast automatically; more than 0.30 above plan flags a possible emergency order
    (``emergency``), more than 0.30 below plan an over-stock review (``overstock``). Bands: green
    "on track" below threshold/2, amber "elevated" up to the threshold, red above it."""
    result = variance_check(actual_cum, forecast_cum, threshold)
    return {
        "actual_cum": rounded(result.actual_cum),
        "forecast_cum": rounded(result.forecast_cum),
        "variance": round(result.variance, 6),
        "signed_variance": round(result.signed_variance, 6),
        "direction": result.direction,
        "band": result.band,
        "label": result.label,
        "threshold": result.threshold,
        "exceeded": result.exceeded,
        "emergency": result.emergency,
        "overstock": result.overstock,
    }



def reforecast_remaining_weeks(
    baseline_weekly: Sequence[float],
    actual_weekly_to_date: Sequence[float],
    *,
    original_weekly: Sequence[float],
    original_lower: Sequence[float] | None = None,
    original_upper: Sequence[float] | None = None,
    history_weekly: Sequence[float] | None = None,
    model_remaining: Sequence[float] | None = None,
) -> dict:
    """Re-estimate weeks N+1..H after N weeks of actuals: the season's level (actual / plan) is
    learnt week by week on the ORIGINAL pre-season plan (``original_weekly`` with its 80% bounds),
    weighing each week by how noisy the category's weeks are (``history_weekly``), so one odd week
    moves it little and a lasting shift or a collapse moves it within two or three weeks
    (mlpipeline.inseason). ``model_remaining``, a refit of the models on history plus actuals for
    weeks N+1..H, lends the remaining weeks its shape, never its level. ``baseline_weekly`` is the
    plan in force (the latest re-forecast): the change and the run-rate are stated against it.
    Returns the updated weeks, totals with their 80% band, and the change."""
    baseline = [float(v) for v in baseline_weekly]
    observed = len(actual_weekly_to_date)
    if len(baseline) != len(original_weekly):
        raise ToolError(f"the baseline has {len(baseline)} weeks, the original plan {len(original_weekly)}")
    result = _inseason(original_weekly, actual_weekly_to_date, original_lower, original_upper, history_weekly,
                       model_remaining)
    plan_to_date = sum(baseline[:observed])
    original_total = sum(baseline)
    return {
        "weeks_observed": result.weeks_observed,
        "horizon_weeks": result.horizon_weeks,
        "original_total": rounded(original_total),
        "plan_to_date": rounded(plan_to_date),
        "actual_to_date": rounded(result.actual_to_date),
        "run_rate_ratio": round(result.actual_to_date / plan_to_date if plan_to_date > 0 else 1.0, 6),
        "level": round(result.level, 4),
        "level_lower": round(result.level_lower, 4),
        "level_upper": round(result.level_upper, 4),
        "model_remaining_total": None if model_remaining is None else rounded(sum(map(float, model_remaining))),
        "original_remaining_total": rounded(sum(baseline[observed:])),
        "updated_remaining": [rounded(v) for v in result.remaining_weekly],
        "updated_remaining_total": rounded(result.remaining_total),
        "updated_remaining_lower": rounded(result.remaining_total_lower),
        "updated_remaining_upper": rounded(result.remaining_total_upper),
        "updated_remaining_weekly_lower": [rounded(v) for v in result.remaining_lower],
        "updated_remaining_weekly_upper": [rounded(v) for v in result.remaining_upper],
        "updated_total": rounded(result.updated_total),
        "change": rounded(result.updated_total - original_total),
        "baseline_weekly": [rounded(v) for v in result.baseline_weekly],
        "method": result.method,
    }


def rest_of_season(
    plan_weekly: Sequence[float],
    actual_weekly_to_date: Sequence[float],
    plan_lower: Sequence[float] | None = None,
    plan_upper: Sequence[float] | None = None,
    history_weekly: Sequence[float] | None = None,
) -> dict:
    """What the rest of the season (weeks N+1..H) is expected to sell after N weeks, with its 80%
    band. ``plan_weekly`` / ``plan_lower`` / ``plan_upper`` are the ORIGINAL pre-season forecast
    and its bounds; ``history_weekly`` the category's weekly history (its week-to-week noise).
    The same model as ``reforecast_remaining_weeks``, stated every week whether or not the plan
    is changed (the variance threshold decides that)."""
    result = _inseason(plan_weekly, actual_weekly_to_date, plan_lower, plan_upper, history_weekly)
    return {
        "weeks_observed": result.weeks_observed,
        "expected": rounded(result.remaining_total),
        "lower": rounded(result.remaining_total_lower),
        "upper": rounded(result.remaining_total_upper),
        "season_total": rounded(result.updated_total),
        "level": round(result.level, 4),
        "level_lower": round(result.level_lower, 4),
        "level_upper": round(result.level_upper, 4),
        "run_rate_ratio": round(result.run_rate_ratio, 4),
        "method": result.method,
    }


def _inseason(plan, actual, lower, upper, history, refit=None):
    """mlpipeline.inseason on the original plan, its bounds and the history's weekly noise."""
    try:
        noise = history_noise([float(v) for v in history]) if history is not None and len(history) >= 8 else None
        return inseason_reforecast([float(v) for v in plan], [float(v) for v in actual],
                                   plan_lower=None if lower is None else [float(v) for v in lower],
                                   plan_upper=None if upper is None else [float(v) for v in upper], noise=noise,
                                   refit_remaining=None if refit is None else [float(v) for v in refit])
    except ValueError as exc:
        raise ToolError(str(exc)) from exc


def season_stock_position(
    updated_season_total: float,
    sold_to_date: float,
    dc_available: int,
    store_on_hand: int = 0,
    signed_variance: float = 0.0,
) -> dict:
    """Units still needed for the rest of the season vs all the stock the season still holds
    (DC available + units on hand in stores). ``signed_variance`` = (actual - plan) / plan to
    date. Only a season selling above plan can be short: re-forecast 10,000 with 3,200 sold,
    4,320 at the DC and no store stock -> 6,800 needed -> shortage 2,480 (400 with 2,080 units in
    stores). More than 30% above plan with a shortage -> alert "emergency_order"; more than 30%
    below plan -> alert "overstock_review" with the units at risk of being left over, never an
    order."""
    try:
        result = stock_position(updated_season_total, sold_to_date, dc_available, store_on_hand, signed_variance)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    return dataclasses.asdict(result)


def stock_alert_message(position: Mapping[str, Any], week: int, signed_variance: float) -> str | None:
    """The sentence an alert of ``season_stock_position`` shows the planner (None without one)."""
    return alert_message(StockPosition(**position), week, signed_variance)


def plan_replenishment_shipments(
    stores: Sequence[Mapping[str, Any]],
    remaining_weeks: int,
    dc_available: int,
) -> dict:
    """Ship from the DC to stores after a week's actuals. ``stores`` rows carry store_id,
    remaining_planned (the store's planned units not yet shipped) and on_hand (units at the store
    now). need = ceil(max(0, remaining_planned / remaining_weeks - on_hand)): one week of the
    remaining plan less current stock (105 planned - 58 shipped = 47 over 10 weeks - 2 on hand ->
    3). The DC ships min(need, what is left) in order of need, so the DC is never overdrawn; a
    store shipped less than its need is flagged partial."""
    needs = {
        str(row["store_id"]): replenishment_need(float(row["remaining_planned"]), int(remaining_weeks),
                                                 max(0.0, float(row["on_hand"])))
        for row in stores
    }
    plan = plan_replenishment(needs, int(dc_available))
    shipped = {s.store_id for s in plan.shipments}
    return {
        "remaining_weeks": int(remaining_weeks),
        "dc_available": int(dc_available),
        "shipments": [{"store_id": s.store_id, "need": s.need, "quantity": s.quantity, "partial": s.partial}
                      for s in plan.shipments],
        "unmet": [{"store_id": store, "need": needs[store], "quantity": 0, "partial": True}
                  for store in sorted(plan.unmet) if store not in shipped],
        "stores_in_need": sum(1 for need in needs.values() if need > 0),
        "total_need": sum(needs.values()),
        "shipped_total": plan.shipped_total,
        "dc_remaining": plan.dc_remaining,
    }


def cache_key(*parts: Any) -> str:
    """A stable key for the fit cache from JSON-able parts."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

"""The season tools: every number of a season plan comes from one of these functions.

They wrap ``mlpipeline`` (forecast, clustering, allocation math) behind plain, typed, JSON-safe
inputs and outputs, so the deterministic runner, the LLM agents (as function tools) and the debug
endpoints call exactly the same code. Nothing here imports Django. Each docstring says how its
parameters change the plan; the LLM runner uses the docstrings as tool descriptions.

Conventions: dates are ISO strings ("2025-03-01"); weeks count from 1 (week N starts at
``season_start + 7*(N-1)``); fractions are 0..1 (0.20 = 20%); units are category units.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from mlpipeline.limits import MAX_HORIZON_WEEKS, MAX_MARKDOWN, MIN_HORIZON_WEEKS

# Guardrail bounds (SPEC §8): a plan outside them is impossible, not merely unusual. Demand bounds
# are relative to the category's own history (a 2,000-store chain sells far more than the demo):
# a week above HISTORY_CEILING_FACTOR x the largest weekly total of the history is impossible.
HISTORY_CEILING_FACTOR = 10


class ToolError(ValueError):
    """A tool input that cannot produce a plan (the message says which and why)."""


class Cache(Protocol):
    def get(self, key: str) -> dict | None: ...

    def set(self, key: str, value: dict) -> None: ...


def _iso(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else date.fromisoformat(str(value)).isoformat()


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def whole_units(value: float) -> int:
    """Units rounded half up: the demand a planner sees and checks the order against."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


# --- demand ---------------------------------------------------------------------------------


def forecast_category_demand(
    weekly_history: Sequence[Mapping[str, Any]],
    season_start: str,
    horizon_weeks: int,
    weighting: str = "equal",
    cache: Cache | None = None,
    cache_key: str | None = None,
) -> dict:
    """Forecast the category's weekly units for the season (weeks 1..horizon_weeks).

    ``weekly_history`` is the category's past sales as ``[{"week_start": "2024-03-02", "units":
    812}, ...]``: the sum over all stores in 7-day weeks aligned to the season start weekday,
    full weeks only, oldest first. The models (Prophet with yearly seasonality, seasonal ARIMA and
    a seasonal-naive baseline) forecast exactly the season's weeks starting at ``season_start``.
    ``horizon_weeks`` sets how many weeks are forecast (and so the season total).
    ``weighting`` "equal" averages Prophet and ARIMA 50/50; "backtest" weights them by the inverse
    of their rolling-origin backtest error, so the model that forecast past seasons better counts
    more. Fewer than 52 weeks of history still forecasts, with a warning; under 8 weeks fails.
    With ``cache`` and ``cache_key`` a fit is reused for the same data and parameters.

    Returns total, weekly rows (week, week_start, units, lower, upper: an 80% interval),
    model_totals, weights, method, backtest_error, warnings and whether the cache answered.
    """
    ceiling = weekly_ceiling(weekly_history)
    if cache is not None and cache_key:
        hit = cache.get(cache_key)
        if hit is not None:  # checked when it was fitted; the agents' guardrail re-checks it
            return {**hit, "weekly_ceiling": ceiling, "cached": True}
    import pandas as pd

    from mlpipeline.forecasting import InsufficientHistory, forecast_demand

    if not MIN_HORIZON_WEEKS <= int(horizon_weeks) <= MAX_HORIZON_WEEKS:
        raise ToolError(f"horizon_weeks must be within {MIN_HORIZON_WEEKS}..{MAX_HORIZON_WEEKS}, got {horizon_weeks}")
    start = _as_date(season_start)
    if not weekly_history:
        raise ToolError("insufficient history: no sales recorded for this category")
    index = pd.DatetimeIndex([pd.Timestamp(row["week_start"]) for row in weekly_history], name="week_start")
    history = pd.Series([float(row["units"]) for row in weekly_history], index=index, name="units")
    started = time.perf_counter()
    try:
        result = forecast_demand(history, int(horizon_weeks), season_start=start, weighting=weighting)
    except InsufficientHistory as exc:
        raise ToolError(f"insufficient history: {exc}") from exc
    weekly = [
        {
            "week": n,
            "week_start": (start + timedelta(weeks=n - 1)).isoformat(),
            "units": _r(units),
            "lower": _r(low),
            "upper": _r(high),
        }
        for n, (units, low, high) in enumerate(zip(result.weekly, result.lower, result.upper), start=1)
    ]
    output = {
        "season_start": start.isoformat(),
        "horizon_weeks": int(horizon_weeks),
        "history_weeks": len(history),
        "history_start": index[0].date().isoformat(),
        "history_end": (index[-1] + pd.Timedelta(days=6)).date().isoformat(),
        "total": _r(sum(w["units"] for w in weekly)),
        "weekly": weekly,
        "components": {name: [_r(v) for v in values] for name, values in (result.components or {}).items()},
        "model_totals": {name: _r(v) for name, v in (getattr(result, "model_totals", None) or {}).items()},
        "weights": {name: _r(v, 4) for name, v in (getattr(result, "weights", None) or {}).items()},
        "method": str(result.method),
        "weighting": weighting,
        "backtest_error": _json_safe(getattr(result, "backtest_error", None)),
        "warnings": [str(w) for w in (getattr(result, "warnings", None) or [])],
        "fit_seconds": _r(getattr(result, "fit_seconds", None) or (time.perf_counter() - started), 3),
        "weekly_ceiling": ceiling,
    }
    _check_demand(output)
    if cache is not None and cache_key:
        cache.set(cache_key, output)
    return {**output, "cached": False}


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


def _check_demand(forecast: Mapping[str, Any]) -> None:
    """Guardrail: a positive total, and every week positive and within the history's ceiling."""
    if forecast["total"] <= 0:
        raise ToolError("forecast total is not positive; check the category's history")
    problems = demand_violations([w["units"] for w in forecast["weekly"]], forecast.get("weekly_ceiling"))
    if problems:
        raise ToolError(problems[0])


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return _r(value, 4)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):
        return _json_safe(value.item())
    return str(value)


def stored_clusters(stores: Sequence[Mapping[str, Any]], silhouette: float | None = None) -> dict | None:
    """The clusters the stores carry from the store import, in ``cluster_stores``' shape; None
    unless every store has one (then the stores are clustered now)."""
    if not stores or not all(store.get("cluster") for store in stores):
        return None
    counts: dict[str, int] = {}
    for store in stores:
        counts[store["cluster"]] = counts.get(store["cluster"], 0) + 1
    return {
        "source": "stores",
        "assignments": {store["store_id"]: store["cluster"] for store in stores},
        "clusters": [{"cluster_id": cluster, "store_count": n} for cluster, n in counts.items()],
        "silhouette": silhouette,
    }


def sales_per_cluster(stores: Sequence[Mapping[str, Any]], assignments: Mapping[str, str]) -> dict[str, float]:
    """Each cluster's units sold in the last 52 weeks (the stores' ``historical_units``)."""
    sales: dict[str, float] = {}
    for store in stores:
        cluster = assignments[store["store_id"]]
        sales[cluster] = sales.get(cluster, 0.0) + float(store["historical_units"])
    return sales


def cluster_stores(stores: Sequence[Mapping[str, Any]]) -> dict:
    """Group stores that sell alike: k-means (k=3, k-means++, n_init=10, random_state=42) on
    standardised avg_weekly_sales_12mo, store_size_sqft, median_income, location_tier,
    fashion_tier, store_format and region. Clusters are named by mean fashion tier:
    fashion_forward, mainstream, value_conscious. Used when the stores carry no cluster yet;
    the cluster split and the store factors then use these groups.
    Returns assignments {store_id: cluster_id}, per-cluster store counts and the silhouette score
    (near 1 = well separated groups, near 0 = overlapping)."""
    import pandas as pd

    from mlpipeline.clustering import cluster_stores as kmeans

    try:
        result = kmeans(pd.DataFrame(list(stores)))
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    return {
        "source": "computed",
        "assignments": result.assignments,
        "clusters": [
            {"cluster_id": c.cluster_id, "name": c.name, "store_count": c.store_count,
             "mean_fashion_tier": _r(c.mean_fashion_tier, 3)}
            for c in result.clusters
        ],
        "silhouette": _r(result.silhouette, 4),
    }


def split_to_clusters(
    forecast_total: float,
    weekly_forecast: Sequence[float],
    cluster_sales: Mapping[str, float],
) -> dict:
    """Split the category forecast to store clusters in proportion to what each cluster sold in
    the last 52 weeks: share_c = sales_c / all sales; units_c = the forecast total split by
    largest remainder so the clusters add up exactly (40/35/25% of 8,000 -> 3,200 / 2,800 /
    2,000). A cluster that sold more gets more; the forecast total sets the scale. Each cluster's
    weekly curve is its share of every forecast week."""
    from mlpipeline.allocation import cluster_shares, split_by_shares

    if not cluster_sales:
        raise ToolError("no clusters to split to; import stores first")
    try:
        shares = cluster_shares(dict(cluster_sales))
        demand_units = whole_units(forecast_total)
        units = split_by_shares(demand_units, shares)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    return {
        "forecast_total": _r(forecast_total),
        "demand_units": demand_units,
        "clusters": [
            {
                "cluster_id": cluster,
                "share": round(shares[cluster], 6),
                "historical_units": _r(cluster_sales[cluster]),
                "units": units[cluster],
                "weekly": [_r(shares[cluster] * float(w)) for w in weekly_forecast],
            }
            for cluster in shares
        ],
    }


# --- inventory ------------------------------------------------------------------------------


def size_manufacturing_order(
    demand: float,
    replenishment_strategy: str,
    holdback_pct: float,
    safety_stock_pct: float | None = None,
) -> dict:
    """How many units to make and where they go at week 0.

    Demand is taken in whole units (rounded half up, as the planner sees it), then manufacturing
    quantity = demand * (1 + safety stock). Safety stock defaults to 20%, or 25%
    when ``replenishment_strategy`` is "none" (no top-ups from the DC, so stores need a bigger
    cushion); the planner may set ``safety_stock_pct`` anywhere in 0.10..0.30. 8,000 -> 9,600 at
    20%, 10,000 at 25%. ``holdback_pct`` is the share kept at the DC for replenishment:
    initial = round(mfg * (1 - holdback)), holdback = mfg - initial (9,600 at 0.45 -> 5,280 /
    4,320; holdback 0 ships everything at week 0)."""
    from mlpipeline.allocation import default_safety_stock, manufacturing_quantity, split_initial_holdback

    try:
        default = default_safety_stock(replenishment_strategy)
        chosen = default if safety_stock_pct is None else float(safety_stock_pct)
        units = whole_units(demand)
        mfg = manufacturing_quantity(units, chosen)
        split = split_initial_holdback(mfg, holdback_pct)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    if split.initial + split.holdback != mfg:  # guardrail (SPEC §8)
        raise ToolError("initial + holdback does not equal the manufacturing quantity")
    if safety_stock_pct is None:
        why = (f"Safety stock {chosen:.0%} because replenishment is {replenishment_strategy}"
               + (" (no DC top-ups, so a bigger cushion)" if replenishment_strategy == "none" else ""))
    else:
        why = f"Safety stock {chosen:.0%} as set by the planner (default {default:.0%})"
    return {
        "demand": _r(demand),
        "safety_stock_pct": chosen,
        "default_safety_stock_pct": default,
        "safety_stock_source": "default" if safety_stock_pct is None else "planner",
        "manufacturing_qty": mfg,
        "holdback_pct": float(holdback_pct),
        "initial_qty": split.initial,
        "holdback_qty": split.holdback,
        "demand_units": units,
        "reasoning": (f"{why}: {units:,} x {1 + chosen:.2f} = {mfg:,} units; "
                      f"holdback {float(holdback_pct):.0%} keeps {split.holdback:,} at the DC and "
                      f"ships {split.initial:,} at week 0."),
    }


def allocate_to_stores(
    forecast_total: float,
    weekly_forecast: Sequence[float],
    stores: Sequence[Mapping[str, Any]],
    safety_stock_pct: float,
    holdback_pct: float,
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
    size_manufacturing_order, so both tools give the same order."""
    import pandas as pd

    from mlpipeline.allocation import allocate

    try:
        plan = allocate(whole_units(forecast_total), list(weekly_forecast), pd.DataFrame(list(stores)),
                        safety_stock_pct, holdback_pct)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    if plan.initial_total + plan.holdback_total != plan.manufacturing_qty:
        raise ToolError("initial + holdback does not equal the manufacturing quantity")
    return {
        "forecast_total": _r(forecast_total),
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
    start = _as_date(parameters["season_start_date"])
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
    from mlpipeline.allocation import markdown_recommendation

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
    from mlpipeline.allocation import variance_check

    result = variance_check(actual_cum, forecast_cum, threshold)
    return {
        "actual_cum": _r(result.actual_cum),
        "forecast_cum": _r(result.forecast_cum),
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


def refit_on_actuals(
    inputs: Mapping[str, Any], *, cache: Cache | None = None, say: Callable[[str], None] = lambda message: None
) -> tuple[dict | None, str | None]:
    """The models refitted on the history plus the season's actuals (``refit_history``, from
    ``refit_start``) for the weeks still to come: (refit, None); (None, why) when the refit is not
    possible, and the update then uses the run-rate against the current plan alone; (None, None)
    with no weeks left."""
    observed, horizon = len(inputs["actual_weekly"]), len(inputs["plan_weekly"])
    if horizon <= observed:
        return None, None
    say(f"Refitting the models on history plus {observed} week(s) of actuals for weeks {observed + 1}..{horizon}")
    try:
        refit = forecast_category_demand(
            inputs["refit_history"], inputs["refit_start"], horizon - observed,
            weighting=inputs.get("weighting", "equal"), cache=cache, cache_key=inputs.get("cache_key"))
    except ToolError as exc:
        say(f"Refit failed ({exc}); using the run-rate against the current plan")
        return None, str(exc)
    return refit, None


def reforecast_remaining_weeks(
    plan_weekly: Sequence[float],
    actual_weekly_to_date: Sequence[float],
    model_remaining: Sequence[float] | None = None,
) -> dict:
    """Re-estimate weeks N+1..H after N weeks of actuals. ``plan_weekly`` is the current baseline
    for every week 1..H, ``actual_weekly_to_date`` the category actuals of weeks 1..N and
    ``model_remaining`` a refit of the models on history plus actuals for weeks N+1..H (optional).
    The update blends the run-rate (actual / plan to date applied to the remaining plan) with the
    model, weighting the run-rate by N / (N + 4): one odd week moves the forecast a little, a
    sustained trend moves it a lot. Returns the updated weeks, totals and change."""
    from mlpipeline.allocation import reforecast_remaining

    try:
        result = reforecast_remaining(list(plan_weekly), list(actual_weekly_to_date),
                                      None if model_remaining is None else list(model_remaining))
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    return {
        "weeks_observed": result.weeks_observed,
        "horizon_weeks": result.horizon_weeks,
        "original_total": _r(result.original_total),
        "plan_to_date": _r(result.plan_to_date),
        "actual_to_date": _r(result.actual_to_date),
        "run_rate_ratio": round(result.run_rate_ratio, 6),
        "run_rate_weight": round(result.run_rate_weight, 6),
        "model_remaining_total": None if model_remaining is None else _r(sum(map(float, model_remaining))),
        "original_remaining_total": _r(result.original_remaining_total),
        "updated_remaining": [_r(v) for v in result.updated_remaining],
        "updated_remaining_total": _r(result.updated_remaining_total),
        "updated_total": _r(result.updated_total),
        "change": _r(result.change),
        "baseline_weekly": [_r(v) for v in result.baseline_weekly],
    }


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
    from mlpipeline.stock import stock_position

    try:
        result = stock_position(updated_season_total, sold_to_date, dc_available, store_on_hand, signed_variance)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    return dataclasses.asdict(result)


def stock_alert_message(position: Mapping[str, Any], week: int, signed_variance: float) -> str | None:
    """The sentence an alert of ``season_stock_position`` shows the planner (None without one)."""
    from mlpipeline.stock import StockPosition, alert_message

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
    from mlpipeline.allocation import plan_replenishment, replenishment_need

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


# The tools an agent step may call, by step (the LLM runner exposes these as function tools).
STEP_TOOLS = {
    "demand": (forecast_category_demand, cluster_stores, split_to_clusters),
    "inventory": (size_manufacturing_order, allocate_to_stores),
    "pricing": (schedule_markdown_checkpoint,),
    "reforecast": (forecast_category_demand, reforecast_remaining_weeks, season_stock_position),
    "markdown": (recommend_markdown,),
}

"""The demand step's tools: the category forecast (and its refit on the season's actuals), the
store clusters and the split of the forecast to them.

Conventions as in ``agents.season_tools``, whose ToolError, Cache and rounding these share; the
other steps' tools (order, allocation, markdown, the in-season checks) are there.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import pandas as pd

from agents import season_tools
from agents.guardrails import demand_violations, weekly_ceiling
from agents.season_tools import Cache, ToolError, as_date, rounded, whole_units
from mlpipeline.allocation import cluster_shares, split_by_shares
from mlpipeline.clustering import cluster_stores as kmeans
from mlpipeline.limits import MAX_HORIZON_WEEKS, MIN_HORIZON_WEEKS


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
    # Imported here, not for an import cycle: Prophet and pmdarima take about a second to load,
    # and a cached forecast (above) never needs them.
    from mlpipeline.forecasting import InsufficientHistory, forecast_demand

    if not MIN_HORIZON_WEEKS <= int(horizon_weeks) <= MAX_HORIZON_WEEKS:
        raise ToolError(f"horizon_weeks must be within {MIN_HORIZON_WEEKS}..{MAX_HORIZON_WEEKS}, got {horizon_weeks}")
    start = as_date(season_start)
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
            "units": rounded(units),
            "lower": rounded(low),
            "upper": rounded(high),
        }
        for n, (units, low, high) in enumerate(zip(result.weekly, result.lower, result.upper), start=1)
    ]
    output = {
        "season_start": start.isoformat(),
        "horizon_weeks": int(horizon_weeks),
        "history_weeks": len(history),
        "history_start": index[0].date().isoformat(),
        "history_end": (index[-1] + pd.Timedelta(days=6)).date().isoformat(),
        "total": rounded(sum(w["units"] for w in weekly)),
        "weekly": weekly,
        "components": {name: [rounded(v) for v in values] for name, values in (result.components or {}).items()},
        "model_totals": {name: rounded(v) for name, v in (getattr(result, "model_totals", None) or {}).items()},
        "weights": {name: rounded(v, 4) for name, v in (getattr(result, "weights", None) or {}).items()},
        "method": str(result.method),
        "weighting": weighting,
        "backtest_error": _json_safe(getattr(result, "backtest_error", None)),
        "warnings": [str(w) for w in (getattr(result, "warnings", None) or [])],
        "fit_seconds": rounded(getattr(result, "fit_seconds", None) or (time.perf_counter() - started), 3),
        "weekly_ceiling": ceiling,
    }
    _check_demand(output)
    if cache is not None and cache_key:
        cache.set(cache_key, output)
    return {**output, "cached": False}


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
        return rounded(value, 4)
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
    try:
        result = kmeans(pd.DataFrame(list(stores)))
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    return {
        "source": "computed",
        "assignments": result.assignments,
        "clusters": [
            {"cluster_id": c.cluster_id, "name": c.name, "store_count": c.store_count,
             "mean_fashion_tier": rounded(c.mean_fashion_tier, 3)}
            for c in result.clusters
        ],
        "silhouette": rounded(result.silhouette, 4),
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
    if not cluster_sales:
        raise ToolError("no clusters to split to; import stores first")
    try:
        shares = cluster_shares(dict(cluster_sales))
        demand_units = whole_units(forecast_total)
        units = split_by_shares(demand_units, shares)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    return {
        "forecast_total": rounded(forecast_total),
        "demand_units": demand_units,
        "clusters": [
            {
                "cluster_id": cluster,
                "share": round(shares[cluster], 6),
                "historical_units": rounded(cluster_sales[cluster]),
                "units": units[cluster],
                "weekly": [rounded(shares[cluster] * float(w)) for w in weekly_forecast],
            }
            for cluster in shares
        ],
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


def reforecast_from_inputs(inputs: Mapping[str, Any], refit: Mapping[str, Any] | None) -> dict:
    """The REFORECAST step's update (season_tools.reforecast_remaining_weeks) from its inputs: the
    original plan and bounds, the baseline in force, the actuals and the history's weeks."""
    return season_tools.reforecast_remaining_weeks(
        inputs["plan_weekly"], inputs["actual_weekly"], original_weekly=inputs["original_weekly"],
        original_lower=inputs.get("original_lower"), original_upper=inputs.get("original_upper"),
        history_weekly=inputs.get("history_weekly"),
        model_remaining=[w["units"] for w in refit["weekly"]] if refit else None)


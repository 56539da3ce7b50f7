"""A season's money (SPEC §13), read from what is stored: its economics (price, cost, salvage: the
planner's, else the defaults from the category history), its season demand as a distribution,
the plan the simulator varies around, and what a buy of the season is worth.

Reads only. The manufacturing approval's money view, the scenario comparison and the agents'
explanations all start here, so a number shown in one is the number in the others.
"""
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db.models import Sum

from mlpipeline.economics import (
    Economics,
    LogNormalDemand,
    buy_outcomes,
    default_economics,
    newsvendor_buy,
    season_demand_distribution,
    season_total_errors,
)
from mlpipeline.simulator import ClusterSplit, SeasonPlan
from planning.models import Allocation, HistoricalSale
from planning.services import forecasting

ECONOMICS_FIELDS = ("unit_price", "unit_cost", "salvage_value")
PRICE_WINDOW_DAYS = 52 * 7
BUY_RANGE = (0.5, 2.0)  # an explicit manufacturing_qty: 0.5x..2x forecast demand (SPEC §13)


@dataclass(frozen=True)
class SeasonEconomics:
    economics: Economics
    defaults: tuple[str, ...]  # the fields not set by the planner (shown as defaults)

    def as_dict(self) -> dict:
        e = self.economics
        return {"unit_price": round(e.price, 2), "unit_cost": round(e.cost, 2),
                "salvage_value": round(e.salvage, 2), "service_level": round(e.critical_ratio, 4),
                "economics_defaults": list(self.defaults)}


def history_unit_price(category_id, season_start) -> float | None:
    """The category's revenue / units over the last 52 weeks of history before the season (only
    rows that carry a revenue), or None without such rows."""
    start = season_start if isinstance(season_start, date) else date.fromisoformat(str(season_start))
    rows = HistoricalSale.objects.filter(category_id=category_id, date__lt=start, revenue__isnull=False)
    last = rows.order_by("-date").values_list("date", flat=True).first()
    if last is None:
        return None
    totals = rows.filter(date__gt=last - timedelta(days=PRICE_WINDOW_DAYS)).aggregate(
        units=Sum("units"), revenue=Sum("revenue"))
    if not totals["units"] or not totals["revenue"] or totals["revenue"] <= 0:
        return None
    return float(totals["revenue"]) / float(totals["units"])


def season_economics(season) -> SeasonEconomics | None:
    """The season's economics: the planner's ``unit_price``, ``unit_cost`` and ``salvage_value``
    where set, else SPEC §13's defaults (the history's price, 0.45 x price, 0.20 x price). None
    when no price is set and the history has no revenue to take it from."""
    params = season.parameters or {}
    price = params.get("unit_price") or history_unit_price(season.category_id, params["season_start_date"])
    if not price:
        return None
    economics = default_economics(float(price), params.get("unit_cost"), params.get("salvage_value"))
    return SeasonEconomics(economics, tuple(f for f in ECONOMICS_FIELDS if params.get(f) in (None, "")))


def season_demand(season, forecast_total: float) -> LogNormalDemand:
    """Season demand as a distribution around ``forecast_total``: log-normal, its width from the
    errors of 12-week totals forecast at rolling origins inside the category history
    (mlpipeline.economics: pooled with a prior, floored), never an assumed width alone."""
    params = season.parameters
    history = forecasting.history_weekly(season.category_id, params["season_start_date"])
    errors = season_total_errors(history, horizon=int(params["forecast_horizon_weeks"])) if len(history) else ()
    return season_demand_distribution(float(forecast_total), errors)


def simulator_plan(allocation: Allocation, weekly_forecast) -> SeasonPlan:
    """The plan the simulator varies around: the allocation's clusters and store factors (its
    rounding), stores in store-id order, and the weekly forecast curve. Shares and factors are
    stored to 6 decimals, so on a near-tie a unit may go to another store than the engine's."""
    rows = list(allocation.stores.order_by("store_id").values_list("store_id", "cluster_id", "factor"))
    positions: dict[str, list[int]] = {}
    for i, (_, cluster, _) in enumerate(rows):
        positions.setdefault(cluster, []).append(i)
    clusters = tuple(
        ClusterSplit(share=float(c["share"]), stores=tuple(positions.get(c["cluster_id"], ())),
                     factors=tuple(float(rows[i][2]) for i in positions.get(c["cluster_id"], ())))
        for c in allocation.cluster_totals if positions.get(c["cluster_id"]))
    shares = np.zeros(len(rows))
    for cluster in clusters:
        for i, factor in zip(cluster.stores, cluster.factors):
            shares[i] = cluster.share * factor
    return SeasonPlan(weekly_forecast=np.asarray(weekly_forecast, float), store_shares=shares,
                      store_ids=tuple(r[0] for r in rows), clusters=clusters)


def buy_view(money: SeasonEconomics, demand: LogNormalDemand, manufacturing_qty: int) -> dict:
    """What a buy is worth against season demand (closed form): SPEC §13's approval fields."""
    outcome = buy_outcomes(manufacturing_qty, demand, money.economics)
    return {
        **money.as_dict(),
        "newsvendor_buy_quantity": newsvendor_buy(demand, money.economics),
        "manufacturing_qty": int(manufacturing_qty),
        "stockout_probability": round(outcome.stockout_probability, 4),
        "expected_units_sold": round(outcome.expected_units_sold, 1),
        "expected_leftover_units": round(outcome.expected_leftover_units, 1),
        "expected_gross_margin": round(outcome.expected_gross_margin, 2),
        "demand_p10": round(demand.ppf(0.1), 1),
        "demand_median": round(demand.ppf(0.5), 1),
        "demand_p90": round(demand.ppf(0.9), 1),
        "demand_sigma": round(demand.sigma, 4),
        "demand_errors_used": demand.errors_used,
    }

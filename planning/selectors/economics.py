"""A season's money (SPEC §13), read from what is stored: its economics (price, cost, salvage: the
planner's, else the defaults from the category history), the errors that give season demand its
width, season demand as a distribution, and the plan the simulator varies around.

Reads only. The manufacturing approval, the scenario comparison and the agents' money tools
(agents.money_tools) all take their inputs from here, so a number shown in one is the number in
the others.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Sum

from agents.money_tools import simulator_plan_of
from agents.parameters import ECONOMICS_FIELDS
from mlpipeline.economics import (
    Economics,
    LogNormalDemand,
    default_economics,
    season_demand_distribution,
    season_total_errors,
)
from mlpipeline.simulator import SeasonPlan
from planning.models import Allocation, CategoryDaySales
from planning.services import forecasting

PRICE_WINDOW_DAYS = 52 * 7


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
    rows that carry a revenue), or None without such rows. Read from the day totals
    (``CategoryDaySales``: the units and revenue of each day's priced rows)."""
    start = season_start if isinstance(season_start, date) else date.fromisoformat(str(season_start))
    days = CategoryDaySales.objects.filter(category_id=category_id, date__lt=start, priced_rows__gt=0)
    last = days.order_by("-date").values_list("date", flat=True).first()
    if last is None:
        return None
    totals = days.filter(date__gt=last - timedelta(days=PRICE_WINDOW_DAYS)).aggregate(
        units=Sum("priced_units"), revenue=Sum("revenue"))
    if not totals["units"] or not totals["revenue"] or totals["revenue"] <= 0:
        return None
    return float(totals["revenue"]) / float(totals["units"])


def season_economics(season) -> SeasonEconomics | None:
    """The season's economics (``economics_for`` its category and parameters)."""
    return economics_for(season.category_id, season.parameters)


def economics_for(category_id, params) -> SeasonEconomics | None:
    """The planner's ``unit_price``, ``unit_cost`` and ``salvage_value`` where set in ``params``,
    else SPEC §13's defaults (the history's price, 0.45 x price, 0.20 x price). None when no
    price is set and the history has no revenue to take it from."""
    price = params.get("unit_price") or history_unit_price(category_id, params["season_start_date"])
    if not price:
        return None
    try:
        economics = default_economics(float(price), params.get("unit_cost"), params.get("salvage_value"))
    except ValueError:  # a stated cost or salvage at or above a default price that a later import lowered
        return None
    return SeasonEconomics(economics, tuple(f for f in ECONOMICS_FIELDS if params.get(f) in (None, "")))


def demand_errors(category_id, params) -> list[float]:
    """Relative errors of the season-length totals forecast at rolling origins inside the
    category history (mlpipeline.economics.season_total_errors): the width of season demand."""
    history = forecasting.history_weekly(category_id, params["season_start_date"])
    if not len(history):
        return []
    return [float(e) for e in season_total_errors(history, horizon=int(params["forecast_horizon_weeks"]))]


def season_demand(season, forecast_total: float) -> LogNormalDemand:
    """Season demand as a distribution around ``forecast_total``: log-normal, its width from
    ``demand_errors`` pooled with a prior and floored (mlpipeline.economics), never an assumed
    width alone."""
    return season_demand_distribution(float(forecast_total), demand_errors(season.category_id, season.parameters))


def simulator_plan(allocation: Allocation, weekly_forecast) -> SeasonPlan:
    """The plan the simulator varies around (agents.money_tools.simulator_plan_of): the stored
    allocation's clusters and store factors, stores in store-id order, and the weekly forecast
    curve. Shares and factors are stored to 6 decimals, so on a near-tie a unit may go to
    another store than the engine's."""
    stores = [{"store_id": store_id, "cluster_id": cluster_id, "factor": factor} for store_id, cluster_id, factor
              in allocation.stores.order_by("store_id").values_list("store_id", "cluster_id", "factor")]
    return simulator_plan_of({"stores": stores, "clusters": allocation.cluster_totals}, weekly_forecast)

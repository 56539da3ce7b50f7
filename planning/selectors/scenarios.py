"""Reads of the scenario comparison (SPEC §13): what the simulator starts from at each approval,
and the saved comparisons in the API's field names.

- At the manufacturing approval: the proposed allocation's plan (its clusters, store factors and
  rounding) on the forecast's weekly curve, season demand around the forecast total
  (``selectors.economics.season_demand``) and the season's economics.
- At the markdown approval: the rest of the season after the checkpoint week. The plan is the
  baseline in force for the next week (its weeks W+1..H), the start state the stored stock (each
  store's on hand after week W's sales plus week W's shipments, shipped so far, allocated, the
  DC), units sold to date at the full price, and the replenishment plan scale (baseline total /
  original total). Demand for the remaining weeks is centred on the week's in-season estimate
  with the width of its 80% band (``VarianceCheck.expected_remaining*``), or, without one, on the
  baseline's remaining weeks with the history's season-total width.

Reads only; ``planning.services.scenarios`` runs and saves the comparison.
"""
import math
from dataclasses import dataclass

import numpy as np
from django.db.models import Sum
from scipy.stats import norm

from mlpipeline.economics import SIGMA_FLOOR, LogNormalDemand
from mlpipeline.simulator import SeasonPlan, SeasonState
from planning.errors import Conflict, Invalid, NotFound
from planning.models import (
    Allocation,
    Forecast,
    MarkdownDecision,
    Replenishment,
    Run,
    ScenarioComparison,
    Season,
    VarianceCheck,
    WeeklyActual,
)
from planning.selectors.economics import SeasonEconomics, season_demand, season_economics, simulator_plan
from planning.selectors.seasons import iso, store_stock
from planning.services import allocation as plans

MANUFACTURING = ScenarioComparison.Kind.MANUFACTURING
MARKDOWN = ScenarioComparison.Kind.MARKDOWN
BAND_Z = float(norm.ppf(0.9))  # an 80% band is median x exp(+-z sigma)


@dataclass(frozen=True)
class SimulationInputs:
    """What a comparison runs on, and the state it was computed at."""

    kind: str
    season: Season
    allocation: Allocation
    forecast: Forecast  # the forecast version the plan comes from
    plan: SeasonPlan
    demand: LogNormalDemand
    money: SeasonEconomics
    week: int = 0  # weeks of actuals behind it
    start: SeasonState | None = None  # the markdown approval's state
    decision: MarkdownDecision | None = None
    demand_source: str = "history"  # where the demand's width comes from

    def demand_dict(self) -> dict:
        d = self.demand
        return {"median": round(d.median, 2), "sigma": round(d.sigma, 4), "errors_used": d.errors_used,
                "mean": round(d.mean, 2), "p10": round(d.ppf(0.1), 2), "p90": round(d.ppf(0.9), 2),
                "source": self.demand_source}


def _money(season) -> SeasonEconomics:
    money = season_economics(season)
    if money is None:
        raise Invalid("set unit_price: the history has no revenue to take the price from.",
                      errors=[{"field": "unit_price", "message": "required: the history has no revenue"}])
    return money


def comparison_kind(season: Season) -> str:
    """The comparison the season's state allows: manufacturing or markdown (409 otherwise)."""
    waiting = season.status == Run.Status.AWAITING_APPROVAL
    if waiting and season.pending_approval == Season.PendingApproval.MANUFACTURING:
        return MANUFACTURING
    if waiting and season.pending_approval == Season.PendingApproval.MARKDOWN:
        return MARKDOWN
    raise Conflict(f"The season is {season.status}"
                   + (f" ({season.pending_approval})" if season.pending_approval else "")
                   + "; scenarios compare at the manufacturing or the markdown approval.")


def simulation_inputs(season: Season) -> SimulationInputs:
    """The simulator's inputs for the approval the season waits for (409 at any other time)."""
    kind = comparison_kind(season)
    return manufacturing_inputs(season) if kind == MANUFACTURING else markdown_inputs(season)


def manufacturing_inputs(season: Season) -> SimulationInputs:
    allocation = Allocation.objects.select_related("forecast").filter(season=season).first()
    if allocation is None or allocation.status != Allocation.Status.PROPOSED:
        raise Conflict("The season has no proposed manufacturing order to compare buys for.")
    forecast = allocation.forecast
    money = _money(season)
    plan = simulator_plan(allocation, forecast.weekly_units())
    return SimulationInputs(MANUFACTURING, season, allocation, forecast, plan,
                            season_demand(season, forecast.total_units), money)


def markdown_inputs(season: Season) -> SimulationInputs:
    decision = season.markdowns.first()
    allocation = Allocation.objects.filter(season=season).first()
    if decision is None or allocation is None:
        raise Conflict("The season has no markdown recommendation to compare.")
    week, horizon = decision.week, season.horizon_weeks
    if week >= horizon:
        raise Conflict(f"The markdown checkpoint is the last week ({week}); no weeks are left to mark down.")
    money = _money(season)
    baseline = plans.current_forecast(season)  # in force for week W+1 (a markdown version comes on accept)
    original = plans.original_forecast(season)
    rest_weekly = baseline.weekly_units()[week:]
    full = simulator_plan(allocation, baseline.weekly_units())
    plan = SeasonPlan(weekly_forecast=np.asarray(rest_weekly, float), store_shares=full.store_shares,
                      store_ids=full.store_ids, clusters=full.clusters)
    start = season_state(season, allocation, week, money.economics.price, full.store_ids,
                         original.total_units, baseline.total_units)
    demand, source = _remaining_demand(season, week, sum(rest_weekly))
    return SimulationInputs(MARKDOWN, season, allocation, baseline, plan, demand, money, week=week, start=start,
                            decision=decision, demand_source=source)


def season_state(season, allocation, week, price, store_ids, original_total, baseline_total) -> SeasonState:
    """The stock after week ``week`` with that week's shipments on the shelf, in ``store_ids`` order."""
    stock = store_stock(season, allocation, week)
    arriving = dict(Replenishment.objects.filter(season=season, week=week).values_list("store_id", "quantity"))
    sold = float(WeeklyActual.objects.filter(season=season, week__lte=week).aggregate(u=Sum("units"))["u"] or 0)
    allocation.refresh_from_db(fields=["dc_available"])
    rows = [stock[store_id] for store_id in store_ids]
    extra = [arriving.get(store_id, 0) for store_id in store_ids]
    return SeasonState(
        week=week, manufacturing_qty=allocation.manufacturing_qty,
        on_hand=np.array([r["on_hand"] + e for r, e in zip(rows, extra)], float),
        shipped=np.array([r["shipped"] + e for r, e in zip(rows, extra)], float),
        allocated=np.array([r["allocated"] for r in rows], float),
        dc_available=int(allocation.dc_available), sold_to_date=sold, revenue_to_date=price * sold,
        original_plan_total=float(original_total), plan_scale=float(baseline_total) / float(original_total))


def _remaining_demand(season, week, baseline_remaining) -> tuple[LogNormalDemand, str]:
    check = VarianceCheck.objects.filter(season=season, week=week).first()
    if check is not None and check.expected_remaining and check.expected_remaining_lower \
            and check.expected_remaining_upper and check.expected_remaining_upper > check.expected_remaining_lower > 0:
        sigma = math.log(check.expected_remaining_upper / check.expected_remaining_lower) / (2 * BAND_Z)
        return (LogNormalDemand(median=float(check.expected_remaining), sigma=max(sigma, SIGMA_FLOOR),
                                errors_used=week), "in-season band")
    return season_demand(season, baseline_remaining), "history"


# --- saved comparisons ----------------------------------------------------------------------------


def comparison(comparison_id) -> ScenarioComparison:
    found = ScenarioComparison.objects.select_related("created_by").filter(pk=comparison_id).first()
    if found is None:
        raise NotFound(f"Unknown scenario comparison {comparison_id}.")
    return found


def chosen_scenario(season: Season, comparison_id, name, kind: str) -> dict:
    """A scenario of a saved comparison of ``kind`` of ``season``, computed on the plan in force
    (the forecast version, and the week for a markdown): its settings and SPEC fields, for an
    approval to accept (422 not this season's or no such name, 404 unknown, 409 made on an
    older plan)."""
    row = comparison(comparison_id)
    if row.season_id != season.pk or row.kind != kind:
        raise Invalid(f"Comparison {comparison_id} is not a {kind} comparison of this season.",
                      errors=[{"field": "comparison_id", "message": f"not this season's {kind} comparison"}])
    if row.forecast_version != plans.current_forecast(season).version or row.week != season.current_week:
        raise Conflict(f"Comparison {comparison_id} was made on an older plan (forecast v{row.forecast_version}, "
                       f"week {row.week}); compare again.")
    found = next((r for r in row.results if r["name"] == name), None)
    if found is None:
        raise Invalid(f"Comparison {comparison_id} has no scenario named {name!r}.",
                      errors=[{"field": "scenario", "message": "not in the comparison"}])
    return {"comparison_id": row.pk, **{k: v for k, v in found.items()
                                        if k not in ("margin_histogram", "margin_quantiles")}}


def season_comparisons(season: Season, kind: str | None = None):
    """The season's comparisons, newest first (optionally of one kind)."""
    rows = ScenarioComparison.objects.filter(season=season).select_related("created_by")
    return rows.filter(kind=kind) if kind else rows


def latest_comparison(season: Season, kind: str | None = None) -> ScenarioComparison | None:
    return season_comparisons(season, kind).first()


def comparison_dict(row: ScenarioComparison) -> dict:
    """POST /api/scenarios/compare and GET /api/scenarios/{comparison_id}."""
    return {
        "comparison_id": row.pk, "workflow_id": str(row.season_id), "kind": row.kind, "paths": row.paths,
        "seed": row.seed, "week": row.week, "forecast_id": row.forecast_id, "forecast_version": row.forecast_version,
        "economics": row.economics, "demand": row.demand, "scenarios": row.results,
        "recommended": row.recommended, "margin_bin_edges": row.margin_bin_edges, "request": row.scenarios,
        "created_by": row.created_by.get_username() if row.created_by_id else None,
        "created_at": iso(row.created_at),
    }


class ComparisonDicts:
    """A queryset of comparisons read as ``comparison_dict``s, sliced before it is read (the API's
    limit/offset pagination counts it and takes one page)."""

    def __init__(self, queryset):
        self.queryset = queryset

    def __len__(self):
        return self.queryset.count()

    def __getitem__(self, page):
        return [comparison_dict(row) for row in self.queryset[page]]

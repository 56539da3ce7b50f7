"""The pre-season plan behind the manufacturing approval: the inputs of the Demand and Inventory
steps, the order and store allocation for a safety stock, and what the approval shows."""
from dataclasses import dataclass

from agents.money_tools import price_the_buy
from agents.orchestration import DEMAND
from agents.season_tools import ToolError, allocate_to_stores, size_manufacturing_order
from mlpipeline import limits
from planning.errors import Conflict, Invalid
from planning.models import Allocation, Run, ScenarioComparison, StoreCluster
from planning.selectors import scenarios as scenario_reads
from planning.selectors.economics import demand_errors, economics_for
from planning.services import allocation as plans
from planning.services import forecasting

MANUFACTURING_OPTIONS = ["modify", "accept"]
MONEY_FIELDS = ("unit_price", "unit_cost", "salvage_value", "service_level", "economics_defaults",
                "newsvendor_buy_quantity", "stockout_probability", "expected_units_sold", "expected_leftover_units",
                "expected_gross_margin", "demand_p10", "demand_median", "demand_p90")


def demand_inputs(category, params):
    """The DEMAND step's inputs (see agents.deterministic) for a category and season parameters."""
    history = forecasting.history_weekly(category.pk, params["season_start_date"])
    silhouette = (StoreCluster.objects.exclude(silhouette_score__isnull=True)
                  .values_list("silhouette_score", flat=True).first())
    weighting = params.get("weighting", "equal")
    return {
        "weekly_history": forecasting.series_rows(history),
        "stores": forecasting.store_rows(category.pk, params["season_start_date"]),
        "silhouette": silhouette,
        "weighting": weighting,
        "cache_key": forecasting.forecast_cache_key(category, params["season_start_date"],
                                                    params["forecast_horizon_weeks"], weighting),
    }


def inventory_inputs(category, params, safety_stock_pct=None):
    """The INVENTORY step's inputs: the stores with their attributes, a safety stock if set, and
    the money inputs (economics, past season-total errors)."""
    return {"stores": forecasting.store_rows(category.pk, params["season_start_date"]),
            "safety_stock_pct": safety_stock_pct, **money_inputs(category, params)}


def pricing_inputs(season):
    """The PRICING step's inputs: the money inputs and the committed order (its store rows and the
    forecast it was made for), so the markdown rule can be priced on what was bought."""
    allocation = Allocation.objects.select_related("forecast").filter(
        season=season, status=Allocation.Status.ACCEPTED).first()
    if allocation is None:
        return {}
    return {**money_inputs(season.category, season.parameters),
            "allocation": {"stores": plans.store_allocation_rows(allocation.pk), "clusters": allocation.cluster_totals},
            "manufacturing_qty": allocation.manufacturing_qty, "weekly_forecast": allocation.forecast.weekly_units()}


def money_inputs(category, params):
    """What the money tools need beside the plan: the season's economics (None without a price)
    and the past season-total errors (the width of season demand)."""
    money = economics_for(category.pk, params)
    return {"economics": money.as_dict() if money else None, "demand_errors": demand_errors(category.pk, params)}


def money_view(money, forecast_total, manufacturing_qty):
    """What the buy is worth (SPEC §13; agents.money_tools.price_the_buy) for ``money_inputs``:
    every field None when the season has no price (none set and no revenue in the history),
    with ``money_note`` saying so."""
    if money["economics"] is None:
        return {**dict.fromkeys(MONEY_FIELDS),
                "money_note": "No unit price: set unit_price (the history has no revenue)."}
    view = price_the_buy(manufacturing_qty, forecast_total, money["demand_errors"], money["economics"])
    return {**{key: view[key] for key in MONEY_FIELDS}, "money_note": None}


def manufacturing_approval_data(season, inventory_outputs):
    """The data of the manufacturing approval (human_input_required, the status endpoint)."""
    order, plan = inventory_outputs["order"], inventory_outputs["allocation"]
    money = money_view(money_inputs(season.category, season.parameters), order["demand"], order["manufacturing_qty"])
    return {
        **{key: money.get(key) for key in (*MONEY_FIELDS, "money_note")},
        "forecast_total": order["demand"],
        "demand_units": plan["demand_units"],
        "replenishment_strategy": season.parameters["replenishment_strategy"],
        "safety_stock_pct": order["safety_stock_pct"],
        "default_safety_stock_pct": order["default_safety_stock_pct"],
        "safety_stock_range": list(limits.SAFETY_STOCK_RANGE),
        "manufacturing_qty": order["manufacturing_qty"],
        "holdback_pct": order["holdback_pct"],
        "initial_allocation": order["initial_qty"],
        "holdback": order["holdback_qty"],
        "clusters": plans.cluster_allocations(plan["clusters"]),
        "reasoning": order["reasoning"],
    }


@dataclass(frozen=True)
class Buy:
    """What the planner decides the order by: a safety stock, a manufacturing quantity of their
    own (0.5x..2x forecast demand), or a scenario of a saved comparison (its buy and plan)."""

    safety_stock_pct: float | None = None
    manufacturing_qty: int | None = None
    comparison_id: int | None = None
    scenario: str | None = None

    @property
    def given(self):
        return any(v is not None for v in (self.safety_stock_pct, self.manufacturing_qty, self.comparison_id))


@dataclass(frozen=True)
class OrderProposal:
    order: dict  # size_manufacturing_order's
    plan: dict  # allocate_to_stores'
    money: dict  # money_view's
    parameters: dict  # the season parameters it was made with (a scenario may change the plan's)
    scenario: dict | None = None  # {comparison_id, name, settings, the SPEC fields} when from a comparison


SCENARIO_PARAMETERS = ("dc_holdback_percentage", "replenishment_strategy", "markdown_checkpoint_week",
                       "markdown_threshold")


def order_proposal(season, buy: Buy):
    """The approval's proposal for ``buy``: the order, its store plan, what it is worth."""
    params, scenario = dict(season.parameters), None
    qty, safety = buy.manufacturing_qty, buy.safety_stock_pct
    if buy.comparison_id is not None:
        if qty is not None or safety is not None:
            raise Invalid("Give a scenario, a safety stock or a manufacturing quantity, not two.",
                          errors=[{"field": "scenario", "message": "alone"}])
        scenario = scenario_reads.chosen_scenario(season, buy.comparison_id, buy.scenario,
                                                  ScenarioComparison.Kind.MANUFACTURING)
        params.update({name: scenario["settings"][name] for name in SCENARIO_PARAMETERS})
        qty = scenario["settings"]["manufacturing_qty"]
    elif qty is not None and safety is not None:
        raise Invalid("Give safety_stock_pct or manufacturing_qty, not both.",
                      errors=[{"field": "manufacturing_qty", "message": "not with safety_stock_pct"}])
    order, plan = order_plan(season, params, safety, qty)
    money = money_view(money_inputs(season.category, params), order["demand"], order["manufacturing_qty"])
    return OrderProposal(order, plan, money, params, scenario)


def order_plan(season, params, safety_stock_pct=None, manufacturing_qty=None):
    """The order and store allocation for a safety stock or a quantity, from the pre-season run's
    demand outputs and ``params`` (the season's, or a scenario's)."""
    outputs = Run.objects.filter(season=season, kind=Run.Kind.PRE_SEASON).values_list("outputs", flat=True).first()
    demand = (outputs or {}).get(DEMAND)
    if not demand:
        raise Conflict("The demand step has not finished; there is no order to approve yet.")
    forecast = demand["forecast"]
    try:
        order = size_manufacturing_order(forecast["total"], params["replenishment_strategy"],
                                         params["dc_holdback_percentage"], safety_stock_pct, manufacturing_qty)
        stores = forecasting.store_rows(season.category_id, params["season_start_date"])
        assignments = demand["clustering"]["assignments"]
        stores = [{**s, "cluster": s["cluster"] or assignments.get(s["store_id"])} for s in stores]
        plan = allocate_to_stores(forecast["total"], [w["units"] for w in forecast["weekly"]], stores,
                                  order["safety_stock_pct"], params["dc_holdback_percentage"], manufacturing_qty)
    except ToolError as exc:
        field = "manufacturing_qty" if manufacturing_qty is not None else "safety_stock_pct"
        raise Invalid(str(exc), errors=[{"field": field, "message": str(exc)}]) from exc
    return order, plan


def accepted_body(season, allocation, *, replayed):
    """The response to an accepted (or replayed) manufacturing approval."""
    return {
        "workflow_id": str(season.pk), "action": "accept", "committed": True, "replayed": replayed,
        "status": Run.objects.values_list("status", flat=True).get(pk=season.current_run_id),
        "order": plans.order_view({
            "demand": round(allocation.forecast.total_units, 2), "demand_units": allocation.demand_units,
            "safety_stock_pct": allocation.safety_stock_pct, "manufacturing_qty": allocation.manufacturing_qty,
            "buy_basis": allocation.buy_basis, "holdback_pct": allocation.holdback_pct,
            "initial_qty": allocation.initial_qty, "holdback_qty": allocation.holdback_qty}),
        "clusters": plans.cluster_allocations(allocation.cluster_totals),
        "dc_available": allocation.dc_available,
        "accepted_at": allocation.accepted_at,
    }

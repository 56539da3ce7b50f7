"""The pre-season plan behind the manufacturing approval: the inputs of the Demand and Inventory
steps, the order and store allocation for a safety stock, and what the approval shows."""
from agents.money_tools import price_the_buy
from agents.orchestration import DEMAND
from agents.season_tools import ToolError, allocate_to_stores, size_manufacturing_order
from mlpipeline import limits
from planning.errors import Conflict, Invalid
from planning.models import Run, StoreCluster
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


def order_plan(season, safety_stock_pct):
    """The order and store allocation for a safety stock, from the pre-season run's demand outputs."""
    params = season.parameters
    outputs = Run.objects.filter(season=season, kind=Run.Kind.PRE_SEASON).values_list("outputs", flat=True).first()
    demand = (outputs or {}).get(DEMAND)
    if not demand:
        raise Conflict("The demand step has not finished; there is no order to approve yet.")
    forecast = demand["forecast"]
    try:
        order = size_manufacturing_order(forecast["total"], params["replenishment_strategy"],
                                         params["dc_holdback_percentage"], safety_stock_pct)
        stores = forecasting.store_rows(season.category_id, params["season_start_date"])
        assignments = demand["clustering"]["assignments"]
        stores = [{**s, "cluster": s["cluster"] or assignments.get(s["store_id"])} for s in stores]
        plan = allocate_to_stores(forecast["total"], [w["units"] for w in forecast["weekly"]], stores,
                                  order["safety_stock_pct"], params["dc_holdback_percentage"])
    except ToolError as exc:
        raise Invalid(str(exc)) from exc
    return order, plan


def order_proposal(season, safety_stock_pct):
    """The approval's proposal at a safety stock: (order, store plan, what the buy is worth)."""
    order, plan = order_plan(season, safety_stock_pct)
    money = money_view(money_inputs(season.category, season.parameters), order["demand"], order["manufacturing_qty"])
    return order, plan, money


def accepted_body(season, allocation, *, replayed):
    """The response to an accepted (or replayed) manufacturing approval."""
    return {
        "workflow_id": str(season.pk), "action": "accept", "committed": True, "replayed": replayed,
        "status": Run.objects.values_list("status", flat=True).get(pk=season.current_run_id),
        "order": plans.order_view({
            "demand": round(allocation.forecast.total_units, 2), "demand_units": allocation.demand_units,
            "safety_stock_pct": allocation.safety_stock_pct, "manufacturing_qty": allocation.manufacturing_qty,
            "holdback_pct": allocation.holdback_pct, "initial_qty": allocation.initial_qty,
            "holdback_qty": allocation.holdback_qty}),
        "clusters": plans.cluster_allocations(allocation.cluster_totals),
        "dc_available": allocation.dc_available,
        "accepted_at": allocation.accepted_at,
    }

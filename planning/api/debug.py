"""Debug endpoints (staff only): run one agent step's tools directly, outside any workflow.
Nothing is persisted except fitted forecasts in the fit cache."""
from ninja import Router

from agents import deterministic
from agents.orchestration import DEMAND, INVENTORY, MARKDOWN, StepContext
from agents.season_tools import ToolError, schedule_markdown_checkpoint
from planning.api.auth import require_role
from planning.api.schemas import errors
from planning.api.workflow_schemas import DebugDemandIn, DebugInventoryIn, DebugPricingIn, StepOut
from planning.errors import Invalid, NotFound
from planning.models import Allocation, Category
from planning.roles import STAFF
from planning.selectors import seasons as season_reads
from planning.services import forecasting, manufacturing, season_start

router = Router(tags=["debug"])

DEBUG_RESPONSES = {200: StepOut, **errors(403, 404)}


def _category(category_id):
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise NotFound(f"Unknown category {category_id!r}.")
    return category


def _run(ctx):
    try:
        outcome = deterministic.run_step(ctx)
    except ToolError as exc:
        raise Invalid(str(exc)) from exc
    return {"step": ctx.step, "runner": outcome.runner, "summary": outcome.summary,
            "fallback_reason": outcome.fallback_reason, "usage": outcome.usage, "progress": outcome.progress,
            "outputs": outcome.outputs}


def _demand(category, params):
    ctx = StepContext(step=DEMAND, parameters=params, inputs=manufacturing.demand_inputs(category, params),
                      cache=forecasting.DbFitCache(category.pk))
    return _run(ctx)


@router.post("/agents/demand/forecast", response=DEBUG_RESPONSES)
def demand_forecast(request, payload: DebugDemandIn):
    """The demand step's tools: forecast (cached fits), clusters, cluster split."""
    require_role(request, STAFF)
    category = _category(payload.category_id)
    return _demand(category, season_start.season_parameters(_given(payload.parameters)))


@router.post("/agents/inventory/allocate", response=DEBUG_RESPONSES)
def inventory_allocate(request, payload: DebugInventoryIn):
    """The demand step, then the inventory step's tools: order size, initial/holdback, store rows."""
    require_role(request, STAFF)
    category = _category(payload.category_id)
    params = season_start.season_parameters(_given(payload.parameters))
    demand = _demand(category, params)
    ctx = StepContext(step=INVENTORY, parameters=params,
                      inputs=manufacturing.inventory_inputs(category, params, payload.safety_stock_pct),
                      previous={DEMAND: demand["outputs"]})
    return _run(ctx)


@router.post("/agents/pricing/analyze", response=DEBUG_RESPONSES)
def pricing_analyze(request, payload: DebugPricingIn):
    """The markdown tool on given numbers, or on a season's sales to date and accepted order."""
    require_role(request, STAFF)
    units, mfg, target = payload.units_sold, payload.manufacturing_qty, payload.target_sell_through
    params = _given(payload.parameters) if payload.parameters else None
    if payload.workflow_id is not None:
        season = season_reads.season_of(payload.workflow_id)
        allocation = Allocation.objects.filter(season=season).first()
        if allocation is None:
            raise Invalid("The season has no manufacturing order yet.")
        units = sum(season_reads.weekly_actuals(season)) if units is None else units
        mfg = mfg or allocation.manufacturing_qty
        target = season.parameters.get("markdown_threshold") or target
        params = params or season.parameters
    if units is None or mfg is None:
        raise Invalid("Give workflow_id, or units_sold and manufacturing_qty.",
                      errors=[{"field": "units_sold", "message": "required without workflow_id"}])
    ctx = StepContext(step=MARKDOWN, parameters=params or {}, inputs={
        "units_sold": units, "manufacturing_qty": mfg, "target": target,
        "elasticity": payload.elasticity_coefficient})
    result = _run(ctx)
    if params and params.get("season_start_date"):
        try:
            result["outputs"]["checkpoint"] = schedule_markdown_checkpoint(season_start.season_parameters(params))
        except ToolError as exc:
            raise Invalid(str(exc)) from exc
    return result


def _given(parameters):
    """The parameters as the client sent them (the service fills the defaults)."""
    return parameters.model_dump(mode="json", exclude_unset=True)

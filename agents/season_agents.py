"""The Season Planner agents on the OpenAI Agents SDK (SPEC §8).

The Orchestrator hands each workflow step to the agent that owns it: Demand (forecast, store
clusters, cluster split; the in-season re-forecast), Inventory (manufacturing order, store
allocation) and Pricing (markdown checkpoint; the markdown recommendation). The engine runs one
step per SDK run, in the order Demand -> Inventory -> (manufacturing approval) -> Pricing, so each
step can pause for the planner, time out or fall back on its own; the handoff gates let the
Orchestrator reach only the owner of the step at hand.

Agents decide and explain; tools compute. The function tools wrap ``agents.season_tools``: the
small choices (safety stock, elasticity) are typed arguments the model fills in, the large data
(weekly history, stores, earlier outputs) comes from the run context. Every tool result is
recorded in the context and the runner takes the step's outputs from there, never from the
model's text, so the outputs match what the deterministic runner computes from the same inputs.

Guardrails: tool input guardrails bound the model's arguments; a tool output guardrail and the
agents' output guardrails reject impossible plans (a week at or below 0 or above 10x the history's largest week, initial +
holdback != manufacturing quantity, markdown > 40%) and steps whose tools did not all run. A trip
fails the run, and the deterministic runner completes the step. The rules themselves are in
``agents.guardrails``; the agents' instructions are in ``agents.instructions``.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agents import (
    Agent,
    GuardrailFunctionOutput,
    RunContextWrapper,
    ToolGuardrailFunctionOutput,
    ToolInputGuardrail,
    ToolInputGuardrailData,
    ToolOutputGuardrailData,
    Usage,
    demand_tools,
    function_tool,
    handoff,
    money_tools,
    output_guardrail,
    season_tools,
    tool_output_guardrail,
)
from agents.guardrails import plan_violations
from agents.instructions import (
    DEMAND_INSTRUCTIONS,
    INVENTORY_INSTRUCTIONS,
    ORCHESTRATOR_INSTRUCTIONS,
    PRICING_INSTRUCTIONS,
)
from agents.orchestration import DEMAND, INVENTORY, MARKDOWN, PRICING, REFORECAST, STEP_AGENT, FitCache, StepContext
from mlpipeline import limits

Work = Callable[..., Awaitable[Any]]


@dataclass
class SeasonRunContext:
    """What the agents and their tools share during one step: its data and what the tools returned.

    ``work(fn, *args)`` runs a blocking tool computation where the caller wants it (the runner
    uses the worker thread, away from the event loop); ``say`` reports progress to the planner.
    """

    step: str
    parameters: dict
    inputs: dict
    previous: dict
    cache: FitCache | None
    work: Work
    say: Callable[[str], None]
    outputs: dict[str, Any] = field(default_factory=dict)  # the step's outputs, as the tools returned them
    usage: Usage = field(default_factory=Usage)  # the run's token counter, kept by the runner's hooks

    @classmethod
    def for_step(cls, ctx: StepContext, *, work: Work, say: Callable[[str], None]) -> SeasonRunContext:
        return cls(step=ctx.step, parameters=ctx.parameters, inputs=ctx.inputs, previous=ctx.previous,
                   cache=ctx.cache, work=work, say=say)


# --- guardrails: the plan rules of agents.guardrails as SDK guardrails ----------------------------


@tool_output_guardrail(name="plan_is_possible")
def _tool_result_is_possible(data: ToolOutputGuardrailData) -> ToolGuardrailFunctionOutput:
    """Re-check the numbers as each tool returns them, so a bad result (or a stale cache hit)
    stops the run before the model builds on it."""
    problems = plan_violations(data.context.context.outputs)
    if problems:
        return ToolGuardrailFunctionOutput.raise_exception(output_info="; ".join(problems))
    return ToolGuardrailFunctionOutput.allow()


def _argument_in_range(argument: str, low: float, high: float) -> ToolInputGuardrail[Any]:
    """A tool input guardrail failing the run when the model asks for a value outside the range
    a planner may choose (null means the default and is allowed)."""

    def check(data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
        try:
            value = json.loads(data.context.tool_arguments or "{}").get(argument)
            allowed = value is None or low <= float(value) <= high
        except (TypeError, ValueError, AttributeError):
            value, allowed = data.context.tool_arguments, False
        if allowed:
            return ToolGuardrailFunctionOutput.allow()
        return ToolGuardrailFunctionOutput.raise_exception(
            output_info=f"{argument} {value} is outside {low:g}..{high:g}")

    return ToolInputGuardrail(guardrail_function=check, name=f"{argument}_in_range")


SAFETY_STOCK_IN_RANGE = _argument_in_range("safety_stock_pct", *limits.SAFETY_STOCK_RANGE)
ELASTICITY_IN_RANGE = _argument_in_range("elasticity", *limits.ELASTICITY_RANGE)


# --- tools ----------------------------------------------------------------------------------------


def _in_step(*steps: str) -> Callable[[RunContextWrapper[SeasonRunContext], Any], bool]:
    """Show a tool (or handoff) to the model only in the steps that use it."""
    return lambda wrapper, agent: wrapper.context.step in steps


def _digest(**fields: Any) -> str:
    """What the model sees of a tool result: the numbers it explains, not the full store table."""
    return json.dumps(fields, separators=(",", ":"), default=str)


def _first_call(ctx: SeasonRunContext, *keys: str) -> str | None:
    """Which tool must run before this one, as a message for the model, or None."""
    missing = [TOOL_FOR_OUTPUT[key] for key in keys if key not in ctx.outputs]
    return f"Call {' and '.join(dict.fromkeys(missing))} first." if missing else None


def _season_tool(*steps: str, **options: Any):
    """function_tool for a season tool: shown only in its steps; an error fails the run (the
    deterministic runner then completes the step) instead of letting the model guess around it."""
    return function_tool(failure_error_function=None, is_enabled=_in_step(*steps),
                         tool_output_guardrails=[_tool_result_is_possible], **options)


@_season_tool(DEMAND)
async def forecast_season_demand(wrapper: RunContextWrapper[SeasonRunContext]) -> str:
    """Forecast the category's weekly units for every season week (weeks 1..forecast_horizon_weeks
    from season_start_date) from the category's weekly sales history: an ensemble of Prophet and
    seasonal ARIMA, with a seasonal-naive fallback. A longer horizon forecasts more weeks and so a
    larger season total. Returns the total, the weekly units, the model totals and any warnings."""
    ctx = wrapper.context
    params, inputs = ctx.parameters, ctx.inputs
    horizon = int(params["forecast_horizon_weeks"])
    ctx.say(f"Forecasting {horizon} weeks from {params['season_start_date']} on "
            f"{len(inputs['weekly_history'])} weeks of history")
    forecast = await ctx.work(
        demand_tools.forecast_category_demand, inputs["weekly_history"], params["season_start_date"], horizon,
        weighting=inputs.get("weighting", "equal"), cache=ctx.cache, cache_key=inputs.get("cache_key"))
    ctx.outputs["forecast"] = forecast
    ctx.say(f"Forecast {forecast['total']:,.0f} units ({forecast['method']})")
    return _digest(total=forecast["total"], method=forecast["method"], model_totals=forecast["model_totals"],
                   weights=forecast["weights"], weekly_units=[w["units"] for w in forecast["weekly"]],
                   history_weeks=forecast["history_weeks"], warnings=forecast["warnings"])


@_season_tool(DEMAND)
async def group_stores(wrapper: RunContextWrapper[SeasonRunContext]) -> str:
    """Group the stores into the three clusters that sell alike (fashion_forward, mainstream,
    value_conscious): the clusters from the store import when every store has one, otherwise
    k-means on the store attributes. Returns the clusters with their store counts and the
    silhouette score (near 1 = well separated)."""
    ctx = wrapper.context
    stores = ctx.inputs["stores"]
    clustering = demand_tools.stored_clusters(stores, ctx.inputs.get("silhouette"))
    if clustering:
        ctx.say(f"Using the {len(clustering['clusters'])} store clusters from the store import")
    else:
        ctx.say("Clustering stores (k-means, k=3)")
        clustering = await ctx.work(demand_tools.cluster_stores, stores)
    ctx.outputs["clustering"] = clustering
    return _digest(source=clustering["source"], clusters=clustering["clusters"],
                   silhouette=clustering["silhouette"])


@_season_tool(DEMAND)
async def split_forecast_to_clusters(wrapper: RunContextWrapper[SeasonRunContext]) -> str:
    """Split the season forecast to the store clusters in proportion to each cluster's sales of
    the last 52 weeks (40/35/25% of 8,000 -> 3,200 / 2,800 / 2,000). Needs the forecast and the
    store groups first. Returns each cluster's share and units."""
    ctx = wrapper.context
    if message := _first_call(ctx, "forecast", "clustering"):
        return message
    forecast, assignments = ctx.outputs["forecast"], ctx.outputs["clustering"]["assignments"]
    cluster_sales = demand_tools.sales_per_cluster(ctx.inputs["stores"], assignments)
    split = await ctx.work(demand_tools.split_to_clusters, forecast["total"],
                          [w["units"] for w in forecast["weekly"]], cluster_sales)
    ctx.outputs["cluster_split"] = split
    ctx.say("Split to clusters: " + ", ".join(f"{c['cluster_id']} {c['units']:,}" for c in split["clusters"]))
    return _digest(demand_units=split["demand_units"],
                   clusters=[{k: c[k] for k in ("cluster_id", "share", "units")} for c in split["clusters"]])


@_season_tool(INVENTORY, tool_input_guardrails=[SAFETY_STOCK_IN_RANGE])
async def size_manufacturing_order(wrapper: RunContextWrapper[SeasonRunContext],
                                   safety_stock_pct: float | None) -> str:
    """Size the manufacturing order for the demand forecast and split it into the initial
    shipment (week 0) and the DC holdback: mfg = demand x (1 + safety stock); initial =
    round(mfg x (1 - dc_holdback_percentage)); holdback = the rest. Holdback 0 ships everything
    at week 0.

    Args:
        safety_stock_pct: The planner's safety stock as a fraction within 0.10..0.30 when the
            brief gives one; null for the default of the replenishment strategy (20%, or 25%
            when replenishment is none because the DC will not top stores up).
    """
    ctx = wrapper.context
    params = ctx.parameters
    ctx.say("Sizing the manufacturing order")
    order = await ctx.work(season_tools.size_manufacturing_order, ctx.previous[DEMAND]["forecast"]["total"],
                           params["replenishment_strategy"], float(params["dc_holdback_percentage"]),
                           safety_stock_pct)
    ctx.outputs["order"] = order
    ctx.say(f"Manufacturing {order['manufacturing_qty']:,} units: {order['initial_qty']:,} ship at week 0, "
            f"{order['holdback_qty']:,} held at the DC")
    return _digest(**order)


@_season_tool(INVENTORY)
async def allocate_to_stores(wrapper: RunContextWrapper[SeasonRunContext]) -> str:
    """Allocate the sized order to every store: cluster units x store factor (70% the store's
    share of its cluster's sales, 30% its size and income vs the cluster), each store's quantity
    split into initial and holdback by dc_holdback_percentage; rows add up exactly to the
    totals. Needs the manufacturing order first. Returns cluster totals and the largest store."""
    ctx = wrapper.context
    if message := _first_call(ctx, "order"):
        return message
    forecast, order = ctx.previous[DEMAND]["forecast"], ctx.outputs["order"]
    assignments = ctx.previous[DEMAND].get("clustering", {}).get("assignments") or {}
    stores = [{**store, "cluster": store.get("cluster") or assignments.get(store["store_id"])}
              for store in ctx.inputs["stores"]]
    allocation = await ctx.work(season_tools.allocate_to_stores, forecast["total"],
                                [w["units"] for w in forecast["weekly"]], stores,
                                order["safety_stock_pct"], float(ctx.parameters["dc_holdback_percentage"]))
    ctx.outputs["allocation"] = allocation
    ctx.say(f"Allocated to {len(allocation['stores'])} stores")
    largest = max(allocation["stores"], key=lambda store: store["initial_qty"], default=None)
    return _digest(manufacturing_qty=allocation["manufacturing_qty"], initial_qty=allocation["initial_qty"],
                   holdback_qty=allocation["holdback_qty"], clusters=allocation["clusters"],
                   store_count=len(allocation["stores"]), largest_initial_store=largest)


@_season_tool(INVENTORY)
async def price_the_buy(wrapper: RunContextWrapper[SeasonRunContext]) -> str:
    """What the sized order is worth (no-op without a unit price): season demand is log-normal
    around the forecast with the width of past season-total errors; the newsvendor buy is its
    quantile at the service level (price - cost) / (price - salvage); for the proposed buy the
    stock-out probability, expected leftover and expected gross margin; then the proposed and
    the newsvendor buys simulated through the stores (2,000 seeded seasons: stock-outs,
    markdown, salvage), margins with their P10-P90. Needs the allocation first."""
    ctx = wrapper.context
    if message := _first_call(ctx, "allocation"):
        return message
    if ctx.inputs.get("economics"):
        ctx.say("Pricing the buy")
    forecast = ctx.previous[DEMAND]["forecast"]
    money = await ctx.work(money_tools.money_of_the_buy, ctx.inputs, ctx.parameters, ctx.outputs["order"],
                           ctx.outputs["allocation"], [w["units"] for w in forecast["weekly"]])
    ctx.outputs["money"] = money
    if money is None:
        return _digest(money=None, reason="no unit price: the season has none and the history has no revenue")
    return _digest(buy=money["buy"], simulation=money["simulation"])


@_season_tool(PRICING)
async def schedule_markdown_checkpoint(wrapper: RunContextWrapper[SeasonRunContext]) -> str:
    """Schedule the markdown checkpoint from the season parameters: after week
    markdown_checkpoint_week's actuals, sell-through is compared with markdown_threshold. A null
    checkpoint means no markdown this season."""
    ctx = wrapper.context
    ctx.say("Scheduling the markdown checkpoint")
    checkpoint = await ctx.work(season_tools.schedule_markdown_checkpoint, ctx.parameters)
    ctx.outputs["checkpoint"] = checkpoint
    return _digest(**checkpoint)


@_season_tool(PRICING)
async def price_the_markdown_rule(wrapper: RunContextWrapper[SeasonRunContext]) -> str:
    """What the season's markdown rule is worth (no-op without a unit price or a checkpoint): the
    accepted order simulated through the stores (2,000 seeded seasons) with the markdown at the
    checkpoint and without any markdown: each margin with its P10-P90, leftover, how often the
    rule marks down and how deep on average."""
    ctx = wrapper.context
    if ctx.inputs.get("economics") and ctx.parameters.get("markdown_checkpoint_week"):
        ctx.say("Pricing the markdown rule")
    worth = await ctx.work(money_tools.price_the_markdown_rule, ctx.inputs, ctx.parameters)
    ctx.outputs["markdown_worth"] = worth
    return _digest(markdown_worth=worth)


@_season_tool(REFORECAST)
async def refit_forecast_on_actuals(wrapper: RunContextWrapper[SeasonRunContext]) -> str:
    """Refit the forecast models on the history plus the season's actuals to date, for the weeks
    still to come. If the refit is not possible, the update uses the run-rate against the current
    plan alone. Returns the refit total or why it failed."""
    ctx = wrapper.context
    refit, refit_error = await ctx.work(demand_tools.refit_on_actuals, ctx.inputs, cache=ctx.cache, say=ctx.say)
    ctx.outputs.update(refit=refit, refit_error=refit_error)
    if refit is None:
        return _digest(refit=None, reason=refit_error or "no weeks left to forecast")
    return _digest(refit_total=refit["total"], method=refit["method"],
                   weekly_units=[w["units"] for w in refit["weekly"]])


@_season_tool(REFORECAST)
async def update_remaining_forecast(wrapper: RunContextWrapper[SeasonRunContext]) -> str:
    """Update the remaining weeks: the season's level (actual / pre-season plan) learnt from its
    weeks, weighing each by how noisy the category's weeks are (one odd week moves it little, a
    lasting shift moves it fast), times the plan's shape blended with the refit's; with the 80%
    band of the remaining units. Then compare the units still needed with all the stock the
    season holds (DC + stores). Only a season selling above plan can be short (an emergency
    order); far below plan the surplus is an over-stock review, never an order. Needs the refit
    first."""
    ctx = wrapper.context
    if message := _first_call(ctx, "refit"):
        return message
    inputs = ctx.inputs
    actual = [float(v) for v in inputs["actual_weekly"]]
    reforecast = await ctx.work(demand_tools.reforecast_from_inputs, inputs, ctx.outputs["refit"])
    coverage = await ctx.work(season_tools.season_stock_position, reforecast["updated_total"],
                              inputs.get("sold_to_date", sum(actual)), int(inputs.get("dc_available", 0)),
                              int(inputs.get("store_on_hand", 0)), reforecast["run_rate_ratio"] - 1)
    ctx.outputs.update(reforecast=reforecast, coverage=coverage)
    ctx.say(f"Updated season total {reforecast['updated_total']:,.0f} units ({reforecast['change']:+,.0f})")
    return _digest(coverage=coverage, **{key: reforecast[key] for key in (
        "weeks_observed", "horizon_weeks", "original_total", "plan_to_date", "actual_to_date", "run_rate_ratio",
        "level", "level_lower", "level_upper", "updated_remaining_total", "updated_remaining_lower",
        "updated_remaining_upper", "updated_total", "change")})


@_season_tool(MARKDOWN, tool_input_guardrails=[ELASTICITY_IN_RANGE])
async def recommend_markdown(wrapper: RunContextWrapper[SeasonRunContext], elasticity: float) -> str:
    """Recommend the markdown at the checkpoint: sell-through = units sold / manufacturing
    quantity; gap = target - sell-through; on track (gap <= 0) -> no markdown; otherwise
    min(gap x elasticity, 40%) rounded half up to 5%, expected demand lift 1.5 x markdown.

    Args:
        elasticity: The planner's elasticity from the brief, within 1.0..3.0 (default 2.0). A
            higher value marks down deeper for the same sell-through gap.
    """
    ctx = wrapper.context
    inputs = ctx.inputs
    ctx.say("Checking sell-through against the target")
    markdown = await ctx.work(season_tools.recommend_markdown, inputs["units_sold"], inputs["manufacturing_qty"],
                              inputs["target"], elasticity)
    ctx.outputs["markdown"] = markdown
    return _digest(**markdown)


# Which tool records each output, and the outputs each step must produce (the deterministic
# runner's outputs for the same step).
TOOL_FOR_OUTPUT = {
    "forecast": forecast_season_demand.name,
    "clustering": group_stores.name,
    "cluster_split": split_forecast_to_clusters.name,
    "order": size_manufacturing_order.name,
    "allocation": allocate_to_stores.name,
    "money": price_the_buy.name,
    "checkpoint": schedule_markdown_checkpoint.name,
    "markdown_worth": price_the_markdown_rule.name,
    "refit": refit_forecast_on_actuals.name,
    "refit_error": refit_forecast_on_actuals.name,
    "reforecast": update_remaining_forecast.name,
    "coverage": update_remaining_forecast.name,
    "markdown": recommend_markdown.name,
}
STEP_OUTPUTS = {
    DEMAND: ("forecast", "clustering", "cluster_split"),
    INVENTORY: ("order", "allocation", "money"),
    PRICING: ("checkpoint", "markdown_worth"),
    REFORECAST: ("refit", "refit_error", "reforecast", "coverage"),
    MARKDOWN: ("markdown",),
}


@output_guardrail(name="step_is_complete")
def _step_is_complete(wrapper: RunContextWrapper[SeasonRunContext], agent: Agent[Any],
                      output: Any) -> GuardrailFunctionOutput:
    """The step's numbers must all come from tools, and the planner must get an explanation."""
    ctx = wrapper.context
    missing = dict.fromkeys(TOOL_FOR_OUTPUT[key] for key in STEP_OUTPUTS[ctx.step] if key not in ctx.outputs)
    problems = [f"required tools not called: {', '.join(missing)}"] if missing else []
    if not str(output or "").strip():
        problems.append("no explanation for the planner")
    return GuardrailFunctionOutput(output_info="; ".join(problems), tripwire_triggered=bool(problems))


@output_guardrail(name="plan_is_possible")
def _plan_is_possible(wrapper: RunContextWrapper[SeasonRunContext], agent: Agent[Any],
                      output: Any) -> GuardrailFunctionOutput:
    """The final check of every number the step produced (SPEC §8)."""
    problems = plan_violations(wrapper.context.outputs)
    return GuardrailFunctionOutput(output_info="; ".join(problems), tripwire_triggered=bool(problems))


# --- agents ---------------------------------------------------------------------------------------

DEMAND_AGENT = Agent[SeasonRunContext](
    name="Demand",
    handoff_description="Forecasts category demand, groups stores and splits the forecast to clusters; "
                        "re-forecasts the remaining weeks in season.",
    instructions=DEMAND_INSTRUCTIONS,
    tools=[forecast_season_demand, group_stores, split_forecast_to_clusters,
           refit_forecast_on_actuals, update_remaining_forecast],
    output_guardrails=[_step_is_complete, _plan_is_possible],
)

INVENTORY_AGENT = Agent[SeasonRunContext](
    name="Inventory",
    handoff_description="Sizes the manufacturing order, splits initial shipment and DC holdback, "
                        "allocates to stores.",
    instructions=INVENTORY_INSTRUCTIONS,
    tools=[size_manufacturing_order, allocate_to_stores, price_the_buy],
    output_guardrails=[_step_is_complete, _plan_is_possible],
)

PRICING_AGENT = Agent[SeasonRunContext](
    name="Pricing",
    handoff_description="Schedules the markdown checkpoint; recommends the markdown at the checkpoint.",
    instructions=PRICING_INSTRUCTIONS,
    tools=[schedule_markdown_checkpoint, price_the_markdown_rule, recommend_markdown],
    output_guardrails=[_step_is_complete, _plan_is_possible],
)

SPECIALISTS = {"demand": DEMAND_AGENT, "inventory": INVENTORY_AGENT, "pricing": PRICING_AGENT}

ORCHESTRATOR = Agent[SeasonRunContext](
    name="Orchestrator",
    instructions=ORCHESTRATOR_INSTRUCTIONS,
    handoffs=[
        handoff(agent, is_enabled=_in_step(*(step for step, owner in STEP_AGENT.items() if owner == name)))
        for name, agent in SPECIALISTS.items()
    ],
    output_guardrails=[_step_is_complete, _plan_is_possible],
)


def step_brief(ctx: SeasonRunContext) -> str:
    """The run's input message: the step, its owner, the parameters and what the data holds."""
    params, inputs = ctx.parameters, ctx.inputs
    owner = SPECIALISTS[STEP_AGENT[ctx.step]].name
    lines = [f"Workflow step: {ctx.step} (owner: the {owner} agent).",
             f"Season parameters: {json.dumps(params, default=str)}."]
    if ctx.step == DEMAND:
        history = inputs["weekly_history"]
        clustered = bool(inputs["stores"]) and all(store.get("cluster") for store in inputs["stores"])
        lines.append(f"Data: {len(history)} weeks of category sales"
                     + (f" ({history[0]['week_start']} to {history[-1]['week_start']})" if history else "")
                     + f"; {len(inputs['stores'])} stores, "
                     + ("clustered at import." if clustered else "not yet clustered."))
    elif ctx.step == INVENTORY:
        forecast = ctx.previous[DEMAND]["forecast"]
        chosen = inputs.get("safety_stock_pct")
        lines.append(f"Demand forecast: {forecast['total']:,.0f} units over {len(forecast['weekly'])} weeks "
                     f"({forecast['method']}); {len(inputs['stores'])} stores.")
        lines.append(f"Planner's safety stock: {chosen}." if chosen is not None
                     else "Planner's safety stock: not set (pass null for the strategy default).")
    elif ctx.step == REFORECAST:
        lines.append(f"Reason: {inputs.get('reason') or 'variance above the threshold'}. "
                     f"{len(inputs['actual_weekly'])} of {len(inputs['plan_weekly'])} weeks observed; "
                     f"{int(inputs.get('dc_available', 0)):,} units at the DC.")
    elif ctx.step == MARKDOWN:
        lines.append(f"Units sold to date: {inputs['units_sold']:,}; manufacturing quantity: "
                     f"{inputs['manufacturing_qty']:,}; sell-through target: {inputs['target']}; "
                     f"planner's elasticity: {inputs.get('elasticity', 2.0)}.")
    return "\n".join(lines)

"""The deterministic runner: each step calls its tools in a fixed order and explains the numbers
with template reasoning. It is the default without an API key and the fallback of the LLM runner,
so it must produce the same outcome shape for every step (see agents.orchestration).

What the engine passes in ``StepContext.inputs`` (and ``previous``), per step:

- ``demand``: ``weekly_history`` [{"week_start", "units"}] (category weeks aligned to the season
  start, full weeks, before the season), ``stores`` [{store_id, cluster (or None),
  historical_units (category units of the last 52 weeks), store_size_sqft, median_income,
  avg_weekly_sales_12mo, location_tier, fashion_tier, store_format, region}], ``silhouette``
  (of the stored clustering, or None), ``weighting`` ("equal" | "backtest"), ``cache_key``.
  Outputs: ``forecast``, ``clustering``, ``cluster_split``.
- ``inventory``: ``stores`` as above, ``safety_stock_pct`` (None = the default for the
  strategy), ``economics`` (``{unit_price, unit_cost, salvage_value, economics_defaults}`` or
  None without a price) and ``demand_errors`` (past season-total relative errors);
  ``previous["demand"]`` is the demand outputs. Outputs: ``order``, ``allocation``, ``money``
  (None without economics).
- ``pricing``: ``economics`` and ``demand_errors`` as for inventory, the committed order
  (``allocation`` {stores, clusters}, ``manufacturing_qty``) and the ``weekly_forecast``.
  Outputs: ``checkpoint``, ``markdown_worth`` (None without economics or checkpoint).
- ``reforecast``: ``plan_weekly`` (current baseline, weeks 1..H), ``original_weekly`` /
  ``original_lower`` / ``original_upper`` (the pre-season plan and its 80% bounds, weeks 1..H),
  ``history_weekly`` (the category's weekly units before the season: its noise),
  ``actual_weekly`` (category actuals of weeks 1..N), ``refit_history`` [{"week_start", "units"}]
  (history plus the actuals, regular weeks), ``refit_start`` (ISO start of week N+1),
  ``cache_key``, ``sold_to_date``, ``dc_available``, ``reason``. Outputs: ``refit`` (or None),
  ``refit_error``, ``reforecast``, ``coverage``.
- ``markdown``: ``units_sold`` (to date), ``manufacturing_qty``, ``target`` (sell-through
  target), ``elasticity``. Outputs: ``markdown``.
"""
from __future__ import annotations

from agents import demand_tools, money_tools
from agents import season_tools as tools
from agents.orchestration import (
    DEMAND,
    INVENTORY,
    MARKDOWN,
    PRICING,
    REFORECAST,
    ProgressCallback,
    StepContext,
    StepOutcome,
)


def run_step(ctx: StepContext, *, on_progress: ProgressCallback | None = None) -> StepOutcome:
    notify = on_progress or (lambda message: None)
    try:
        step = _STEPS[ctx.step]
    except KeyError:
        raise ValueError(f"unknown step {ctx.step!r}") from None
    progress: list[str] = []

    def say(message: str) -> None:
        progress.append(message)
        notify(message)

    outputs, summary = step(ctx, say)
    return StepOutcome(outputs=outputs, summary=summary, runner="deterministic", progress=progress)


def _demand(ctx: StepContext, say) -> tuple[dict, str]:
    params, inputs = ctx.parameters, ctx.inputs
    horizon = int(params["forecast_horizon_weeks"])
    history = inputs["weekly_history"]
    say(f"Forecasting {horizon} weeks from {params['season_start_date']} on {len(history)} weeks of history")
    forecast = demand_tools.forecast_category_demand(
        history, params["season_start_date"], horizon,
        weighting=inputs.get("weighting", "equal"), cache=ctx.cache, cache_key=inputs.get("cache_key"),
    )
    say(f"Forecast {forecast['total']:,.0f} units ({forecast['method']}"
        + (", from cache" if forecast.get("cached") else "") + ")")

    stores = inputs["stores"]
    clustering = demand_tools.stored_clusters(stores, inputs.get("silhouette"))
    if clustering:
        say(f"Using the {len(clustering['clusters'])} store clusters from the store import")
    else:
        say("Clustering stores (k-means, k=3)")
        clustering = demand_tools.cluster_stores(stores)
    cluster_sales = demand_tools.sales_per_cluster(stores, clustering["assignments"])
    split = demand_tools.split_to_clusters(forecast["total"], [w["units"] for w in forecast["weekly"]], cluster_sales)
    say("Split to clusters: " + ", ".join(f"{c['cluster_id']} {c['units']:,}" for c in split["clusters"]))

    models = forecast.get("model_totals") or {}
    weights = {name: w for name, w in (forecast.get("weights") or {}).items() if w}
    used = " and ".join(f"{name} {models[name]:,.0f}" for name in weights if models.get(name) is not None)
    baselines = [f"{name.replace('_', '-')} baseline {total:,.0f}" for name, total in models.items()
                 if name not in weights and total is not None]
    how = f"{forecast['method']}" + (f" of {used}" if used else "")
    if len(weights) > 1:
        how += " (weights " + " / ".join(f"{w:.0%}" for w in weights.values()) + ")"
    lines = [
        f"Forecast {forecast['total']:,.0f} units over {horizon} weeks from {params['season_start_date']}: {how}"
        + (f"; {', '.join(baselines)}" if baselines else "") + ".",
        f"Fitted on {forecast['history_weeks']} weeks of history ({forecast['history_start']} to "
        f"{forecast['history_end']}), weeks aligned to the season start weekday.",
    ]
    lines += [f"Warning: {w}" for w in forecast.get("warnings", [])]
    silhouette = clustering.get("silhouette")
    lines.append(
        f"{len(split['clusters'])} store clusters ({'from the store import' if clustering['source'] == 'stores' else 'computed now'}"
        + (f", silhouette {silhouette:.2f}" if silhouette is not None else "") + "); each gets its share of "
        "the last 52 weeks' sales: "
        + ", ".join(f"{c['cluster_id']} {c['share']:.1%} -> {c['units']:,}" for c in split["clusters"]) + "."
    )
    return {"forecast": forecast, "clustering": clustering, "cluster_split": split}, " ".join(lines)


def _stores_with_clusters(ctx: StepContext) -> list[dict]:
    assignments = (ctx.previous.get(DEMAND) or {}).get("clustering", {}).get("assignments") or {}
    return [{**s, "cluster": s.get("cluster") or assignments.get(s["store_id"])} for s in ctx.inputs["stores"]]


def _inventory(ctx: StepContext, say) -> tuple[dict, str]:
    params, inputs = ctx.parameters, ctx.inputs
    forecast = ctx.previous[DEMAND]["forecast"]
    holdback = float(params["dc_holdback_percentage"])
    say("Sizing the manufacturing order")
    order = tools.size_manufacturing_order(
        forecast["total"], params["replenishment_strategy"], holdback, inputs.get("safety_stock_pct"))
    say(f"Manufacturing {order['manufacturing_qty']:,} units: {order['initial_qty']:,} ship at week 0, "
        f"{order['holdback_qty']:,} held at the DC")
    allocation = tools.allocate_to_stores(
        forecast["total"], [w["units"] for w in forecast["weekly"]], _stores_with_clusters(ctx),
        order["safety_stock_pct"], holdback)
    say(f"Allocated to {len(allocation['stores'])} stores")
    biggest = max(allocation["stores"], key=lambda s: s["initial_qty"]) if allocation["stores"] else None
    summary = order["reasoning"] + (
        " Store quantities = cluster units x store factor (70% the store's share of cluster sales, "
        "30% its size and income vs the cluster), rounded so every store row adds up to its cluster: "
        + ", ".join(f"{c['cluster_id']} {c['initial_qty']:,} initial / {c['holdback_qty']:,} holdback"
                    for c in allocation["clusters"]) + "."
    )
    if biggest:
        summary += f" Largest initial shipment: {biggest['store_id']} {biggest['initial_qty']:,} units."
    if params["replenishment_strategy"] == "none" and holdback > 0:
        summary += " Note: replenishment is none, so held-back units will not ship unless the plan changes."
    if inputs.get("economics"):
        say("Pricing the buy")
    money = money_tools.money_of_the_buy(inputs, params, order, allocation, [w["units"] for w in forecast["weekly"]])
    if money:
        summary += " " + money_summary(money)
    return {"order": order, "allocation": allocation, "money": money}, summary


def money_summary(money: dict) -> str:
    """The buy in money terms (SPEC §13), from ``money_tools.money_of_the_buy``."""
    buy, runs = money["buy"], {s["name"]: s for s in money["simulation"]["scenarios"]}
    defaults = buy["economics_defaults"]
    text = (f"Money: price {buy['unit_price']:,.2f}, cost {buy['unit_cost']:,.2f}, salvage {buy['salvage_value']:,.2f}"
            + (f" ({', '.join(d.replace('_', ' ') for d in defaults)} by default)" if defaults else "")
            + f", so each unit short costs {buy['unit_price'] - buy['unit_cost']:,.2f} and each left over "
            f"{buy['unit_cost'] - buy['salvage_value']:,.2f}: the service level is {buy['service_level']:.0%} and "
            f"the newsvendor buy {buy['newsvendor_buy_quantity']:,} units (season demand 80% range "
            f"{buy['demand_p10']:,.0f}-{buy['demand_p90']:,.0f}). Against season demand at full price, the proposed "
            f"{buy['manufacturing_qty']:,}: stock-out risk {buy['stockout_probability']:.0%}, expected leftover "
            f"{buy['expected_leftover_units']:,.0f}, expected gross margin {buy['expected_gross_margin']:,.0f}.")
    proposed = runs["proposed"]
    text += (f" Simulated {money['simulation']['paths']:,} seasons store by store (stock-outs at empty stores, "
             "DC replenishment, the markdown rule, salvage): margin "
             f"{proposed['expected_gross_margin']:,.0f} (P10 {proposed['gross_margin_p10']:,.0f}, "
             f"P90 {proposed['gross_margin_p90']:,.0f}), {proposed['expected_leftover_units']:,.0f} left over")
    if "newsvendor" in runs:
        other = runs["newsvendor"]
        text += (f"; the newsvendor buy {other['manufacturing_qty']:,}: margin {other['expected_gross_margin']:,.0f} "
                 f"(P10 {other['gross_margin_p10']:,.0f}, P90 {other['gross_margin_p90']:,.0f}), "
                 f"{other['expected_leftover_units']:,.0f} left over; higher expected margin: "
                 f"{money['simulation']['recommended']}")
    return text + "."


def _pricing(ctx: StepContext, say) -> tuple[dict, str]:
    say("Scheduling the markdown checkpoint")
    checkpoint = tools.schedule_markdown_checkpoint(ctx.parameters)
    if ctx.inputs.get("economics") and checkpoint["scheduled"]:
        say("Pricing the markdown rule")
    worth = money_tools.price_the_markdown_rule(ctx.inputs, ctx.parameters)
    summary = checkpoint["reasoning"]
    if worth:
        rule, none = worth["with_rule"], worth["without"]
        summary += (f" In money, over {worth['paths']:,} simulated seasons of the accepted order: with the rule the "
                    f"season margin is {rule['expected_gross_margin']:,.0f} (P10 {rule['gross_margin_p10']:,.0f}, "
                    f"P90 {rule['gross_margin_p90']:,.0f}); it marks down in {rule['markdown_probability']:.0%} of "
                    f"them, {rule['expected_markdown_pct']:.1%} deep on average, leaving "
                    f"{rule['expected_leftover_units']:,.0f} units; without a markdown the margin is "
                    f"{none['expected_gross_margin']:,.0f} with {none['expected_leftover_units']:,.0f} left over "
                    f"({worth['margin_difference']:+,.0f} for the rule).")
    return {"checkpoint": checkpoint, "markdown_worth": worth}, summary


def _reforecast(ctx: StepContext, say) -> tuple[dict, str]:
    inputs = ctx.inputs
    actual = [float(v) for v in inputs["actual_weekly"]]
    observed, horizon = len(actual), len(inputs["plan_weekly"])
    refit, refit_error = demand_tools.refit_on_actuals(inputs, cache=ctx.cache, say=say)
    result = demand_tools.reforecast_from_inputs(inputs, refit)
    coverage = tools.season_stock_position(
        result["updated_total"], inputs.get("sold_to_date", sum(actual)), int(inputs.get("dc_available", 0)),
        int(inputs.get("store_on_hand", 0)), result["run_rate_ratio"] - 1)
    say(f"Updated season total {result['updated_total']:,.0f} units ({result['change']:+,.0f})")
    direction = "above" if result["run_rate_ratio"] > 1 else "below"
    summary = (
        f"{inputs.get('reason') or 'Re-forecast'}: {observed} week(s) sold {result['actual_to_date']:,.0f} units vs "
        f"{result['plan_to_date']:,.0f} planned ({result['run_rate_ratio']:.0%} of plan, {direction}). "
    )
    if observed < horizon:
        summary += (
            f"Learnt from the season's weeks, the level is {result['level']:.0%} of the pre-season plan "
            f"(80%: {result['level_lower']:.0%}-{result['level_upper']:.0%}); weeks {observed + 1}..{horizon} "
            f"follow the plan's shape" + (f" blended with the refit's ({refit['method']})" if refit else "")
            + f": {result['updated_remaining_total']:,.0f} units "
            f"(80%: {result['updated_remaining_lower']:,.0f}-{result['updated_remaining_upper']:,.0f}). "
        )
    summary += (
        f"Season total {result['original_total']:,.0f} -> {result['updated_total']:,.0f} "
        f"({result['change']:+,.0f}). " + stock_summary(coverage)
    )
    return {"refit": refit, "refit_error": refit_error, "reforecast": result, "coverage": coverage}, summary


def stock_summary(coverage: dict) -> str:
    """Still needed vs the stock held, and the shortage (selling above plan) or the units at risk."""
    text = (f"Still needed {coverage['needed']:,} vs {coverage['stock_held']:,} held "
            f"(DC {coverage['dc_available']:,} + stores {coverage['store_on_hand']:,})")
    if coverage["shortage"]:
        return text + f": shortage {coverage['shortage']:,}."
    if coverage["at_risk"] and not coverage["selling_above_plan"]:
        return text + f": {coverage['at_risk']:,} units at risk of being left over."
    return text + "."


def _markdown(ctx: StepContext, say) -> tuple[dict, str]:
    inputs = ctx.inputs
    say("Checking sell-through against the target")
    markdown = tools.recommend_markdown(
        inputs["units_sold"], inputs["manufacturing_qty"], inputs["target"], inputs.get("elasticity", 2.0))
    if markdown["on_track"]:
        summary = f"{markdown['formula']}."
    else:
        summary = (f"Recommend {markdown['markdown_pct']:.0%} off: {markdown['formula']}. "
                   "A higher elasticity marks down deeper for the same gap.")
    return {"markdown": markdown}, summary


_STEPS = {DEMAND: _demand, INVENTORY: _inventory, PRICING: _pricing, REFORECAST: _reforecast, MARKDOWN: _markdown}

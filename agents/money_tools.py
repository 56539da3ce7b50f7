"""The money tools (SPEC §13): what a buy is worth against season demand, and simulated seasons of
the plan. Like ``agents.season_tools`` they wrap ``mlpipeline`` behind JSON-safe inputs and
outputs, so the deterministic runner, the LLM agents and the approval call the same code.

``economics`` is ``{"unit_price", "unit_cost", "salvage_value", "economics_defaults"}`` (the
planner's or the defaults: planning.selectors.economics); ``past_errors`` are relative errors of
past season totals (actual / forecast - 1), the width of season demand.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agents.season_tools import ToolError, rounded
from mlpipeline.allocation import MARKDOWN_TARGET
from mlpipeline.economics import Economics, LogNormalDemand, buy_outcomes, newsvendor_buy, season_demand_distribution
from mlpipeline.simulator import ClusterSplit, Noise, Scenario, ScenarioResult, SeasonPlan, compare_scenarios

SIMULATED_SEASONS = 2000
MIN_SIMULATED_SEASONS = 200
STORE_SEASON_BUDGET = 4_000_000  # store x season x scenario cells of an automatic simulation (~0.2 s)
SIMULATION_SEED = 0


def simulated_seasons(stores: int, scenarios: int) -> int:
    """How many seasons an automatic simulation (one the planner did not ask for) runs: 2,000 for
    the demo's 50 stores, fewer for a national chain, so it stays well under a second; the
    scenario comparison is where a planner asks for more."""
    cells = max(1, stores * scenarios)
    return int(min(SIMULATED_SEASONS, max(MIN_SIMULATED_SEASONS, STORE_SEASON_BUDGET // cells)))


def _economics(economics: Mapping[str, Any]) -> Economics:
    try:
        return Economics(price=float(economics["unit_price"]), cost=float(economics["unit_cost"]),
                         salvage=float(economics["salvage_value"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ToolError(f"invalid economics: {exc}") from exc


def _demand(forecast_total: float, past_errors: Sequence[float]) -> LogNormalDemand:
    try:
        return season_demand_distribution(float(forecast_total), [float(e) for e in past_errors])
    except ValueError as exc:
        raise ToolError(str(exc)) from exc


def price_the_buy(manufacturing_qty: int, forecast_total: float, past_errors: Sequence[float],
                  economics: Mapping[str, Any]) -> dict:
    """What buying ``manufacturing_qty`` units is worth: season demand is log-normal around the
    forecast with the width of past season-total errors; the newsvendor buy is its quantile at
    the critical ratio (price - cost) / (price - salvage), the buy that maximises expected
    margin; for the proposed buy the stock-out probability P(demand > buy), the expected units
    sold and left over, and the expected gross margin (revenue + salvage - cost)."""
    econ, demand = _economics(economics), _demand(forecast_total, past_errors)
    if manufacturing_qty < 0:
        raise ToolError(f"manufacturing_qty must be >= 0, got {manufacturing_qty}")
    outcome = buy_outcomes(int(manufacturing_qty), demand, econ)
    return {
        "unit_price": rounded(econ.price), "unit_cost": rounded(econ.cost), "salvage_value": rounded(econ.salvage),
        "service_level": round(econ.critical_ratio, 4),
        "economics_defaults": list(economics.get("economics_defaults") or []),
        "newsvendor_buy_quantity": newsvendor_buy(demand, econ),
        "manufacturing_qty": int(manufacturing_qty),
        "stockout_probability": round(outcome.stockout_probability, 4),
        "expected_units_sold": round(outcome.expected_units_sold, 1),
        "expected_leftover_units": round(outcome.expected_leftover_units, 1),
        "expected_gross_margin": rounded(outcome.expected_gross_margin),
        "demand_p10": round(demand.ppf(0.1), 1),
        "demand_median": round(demand.ppf(0.5), 1),
        "demand_p90": round(demand.ppf(0.9), 1),
        "demand_sigma": round(demand.sigma, 4),
        "demand_errors_used": demand.errors_used,
    }


def simulator_plan_of(allocation: Mapping[str, Any], weekly_forecast: Sequence[float]) -> SeasonPlan:
    """The simulator's plan from an allocation plan (``season_tools.allocate_to_stores``'s shape,
    or as stored): its clusters and store factors, stores in the plan's order."""
    stores = list(allocation["stores"])
    positions: dict[str, list[int]] = {}
    for i, store in enumerate(stores):
        positions.setdefault(store["cluster_id"], []).append(i)
    clusters = tuple(
        ClusterSplit(share=float(c["share"]), stores=tuple(positions[c["cluster_id"]]),
                     factors=tuple(float(stores[i]["factor"]) for i in positions[c["cluster_id"]]))
        for c in allocation["clusters"] if positions.get(c["cluster_id"]))
    shares = [0.0] * len(stores)
    for cluster in clusters:
        for i, factor in zip(cluster.stores, cluster.factors):
            shares[i] = cluster.share * factor
    try:
        return SeasonPlan(weekly_forecast=[float(w) for w in weekly_forecast], store_shares=shares,
                          store_ids=tuple(s["store_id"] for s in stores), clusters=clusters)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc


def simulate_buys(allocation: Mapping[str, Any], weekly_forecast: Sequence[float], past_errors: Sequence[float],
                  economics: Mapping[str, Any], buys: Sequence[Mapping[str, Any]], *, holdback_pct: float,
                  replenishment_strategy: str, markdown_checkpoint_week: int | None = None,
                  markdown_threshold: float | None = None, paths: int = SIMULATED_SEASONS,
                  seed: int = SIMULATION_SEED) -> dict:
    """Simulate ``paths`` seasons of the plan for each buy in ``buys`` ([{name,
    manufacturing_qty}], at most 8) on the same simulated demand: stock moved as the engine moves
    it (initial allocation, DC holdback, replenishment, lost sales at empty stores, the markdown
    at the checkpoint, salvage). Returns each buy's expected units sold, stock-outs, leftover,
    markdown cost, revenue and gross margin with its P10-P90, and the buy with the highest
    expected margin. Seeded: the same inputs give the same numbers."""
    plan = simulator_plan_of(allocation, weekly_forecast)
    demand = _demand(sum(float(w) for w in weekly_forecast), past_errors)
    try:
        scenarios = [Scenario(name=str(b["name"]), manufacturing_qty=int(b["manufacturing_qty"]),
                              holdback_pct=float(holdback_pct), replenishment_strategy=replenishment_strategy,
                              markdown_checkpoint_week=markdown_checkpoint_week,
                              markdown_threshold=float(markdown_threshold or MARKDOWN_TARGET))
                     for b in buys]
        comparison = compare_scenarios(plan, demand, _economics(economics), scenarios, paths=paths, seed=seed,
                                       noise=Noise())
    except (KeyError, TypeError, ValueError) as exc:
        raise ToolError(f"cannot simulate these buys: {exc}") from exc
    return {
        "paths": comparison.paths, "seed": comparison.seed, "recommended": comparison.recommended,
        "scenarios": [{key: (round(value, 4) if isinstance(value, float) else value)
                       for key, value in result.summary().items()} for result in comparison.scenarios],
    }


def money_of_the_buy(inputs: Mapping[str, Any], parameters: Mapping[str, Any], order: Mapping[str, Any],
                     allocation: Mapping[str, Any], weekly_forecast: Sequence[float]) -> dict | None:
    """The INVENTORY step's money (None without economics): the proposed buy priced
    (``price_the_buy``), and the proposed and the newsvendor buys simulated through the stores
    (``simulate_buys``)."""
    economics = inputs.get("economics")
    if not economics:
        return None
    errors = inputs.get("demand_errors") or []
    buy = price_the_buy(order["manufacturing_qty"], order["demand"], errors, economics)
    buys = [{"name": "proposed", "manufacturing_qty": order["manufacturing_qty"]}]
    if buy["newsvendor_buy_quantity"] != order["manufacturing_qty"]:
        buys.append({"name": "newsvendor", "manufacturing_qty": buy["newsvendor_buy_quantity"]})
    paths = simulated_seasons(len(allocation["stores"]), len(buys))
    simulation = simulate_buys(
        allocation, weekly_forecast, errors, economics, buys, holdback_pct=float(parameters["dc_holdback_percentage"]),
        replenishment_strategy=parameters["replenishment_strategy"],
        markdown_checkpoint_week=parameters.get("markdown_checkpoint_week"),
        markdown_threshold=parameters.get("markdown_threshold"), paths=paths)
    return {"buy": buy, "simulation": simulation}


def price_the_markdown_rule(inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict | None:
    """The PRICING step's money (None without economics, a committed order or a checkpoint): the
    committed buy simulated through the stores with the season's markdown rule (the §4 markdown
    at ``markdown_checkpoint_week`` when sell-through is under ``markdown_threshold``) and without
    it, on the same simulated seasons: each one's margin P10-P90, how often the rule marks down
    and how deep on average."""
    economics, allocation = inputs.get("economics"), inputs.get("allocation")
    checkpoint = parameters.get("markdown_checkpoint_week")
    if not economics or not allocation or not checkpoint:
        return None
    plan = simulator_plan_of(allocation, inputs["weekly_forecast"])
    demand = _demand(plan.forecast_total, inputs.get("demand_errors") or [])
    common = dict(manufacturing_qty=int(inputs["manufacturing_qty"]),
                  holdback_pct=float(parameters["dc_holdback_percentage"]),
                  replenishment_strategy=parameters["replenishment_strategy"])
    threshold = parameters.get("markdown_threshold") or MARKDOWN_TARGET
    scenarios = [Scenario(name="with the markdown rule", markdown_checkpoint_week=int(checkpoint),
                          markdown_threshold=float(threshold), **common),
                 Scenario(name="without a markdown", markdown_checkpoint_week=None, **common)]
    paths = simulated_seasons(plan.store_count, len(scenarios))
    try:
        comparison = compare_scenarios(plan, demand, _economics(economics), scenarios, paths=paths,
                                       seed=SIMULATION_SEED, noise=Noise())
    except ValueError as exc:
        raise ToolError(f"cannot simulate the markdown rule: {exc}") from exc
    rule, none = (_outcome(result) for result in comparison.scenarios)
    return {"paths": comparison.paths, "checkpoint_week": int(checkpoint), "threshold": float(threshold),
            "with_rule": rule, "without": none, "margin_difference": rounded(rule["expected_gross_margin"]
                                                                            - none["expected_gross_margin"])}


def _outcome(result: ScenarioResult) -> dict:
    summary = {key: (round(value, 4) if isinstance(value, float) else value) for key, value in result.summary().items()}
    return {**summary, "markdown_probability": round(result.markdown_probability, 4),
            "expected_markdown_pct": round(result.expected_markdown_pct, 4)}

"""Scenario comparison (SPEC §13): what-ifs of a season on the same simulated seasons, saved.

``compare(season_id, scenarios, paths, seed, user)`` runs at the approval the season waits for:

- the manufacturing approval varies the pre-season decisions: the buy (``safety_stock_pct`` ->
  the engine's rule demand x (1 + safety stock), or an explicit ``manufacturing_qty`` within
  0.5x..2x forecast demand; neither: the proposed order's safety stock), and optionally
  ``dc_holdback_percentage``, ``replenishment_strategy``, ``markdown_checkpoint_week``,
  ``markdown_threshold`` and ``markdown_pct`` (null: the §4 formula), each defaulting to the
  season's parameters (``mlpipeline.simulator.compare_scenarios``);
- the markdown approval varies the markdown depth for the rest of the season (``markdown_pct``,
  0 = none; default the recommended one), from the stored stock after the checkpoint week
  (``mlpipeline.simulator.compare_rest_of_season``).

Any other state -> 409; an unknown season -> 404; an invalid value -> 422 naming the field
(``scenarios.2.manufacturing_qty``). Same seed, same numbers. The comparison is saved with each
scenario's SPEC fields, the settings it ran with, its rank by expected margin, and a compact
margin distribution (21 quantiles and a histogram on bins shared by the scenarios) for the chart;
``recommended`` is the highest expected margin. The inputs are read by
``planning.selectors.scenarios``.
"""
import math

import numpy as np

from agents.season_tools import whole_units
from mlpipeline import limits
from mlpipeline.allocation import REPLENISHMENT_STRATEGIES, manufacturing_quantity
from mlpipeline.limits import BUY_RANGE
from mlpipeline.simulator import MAX_SCENARIOS, Scenario, compare_rest_of_season, compare_scenarios
from planning.errors import Invalid
from planning.models import ScenarioComparison
from planning.selectors.scenarios import MANUFACTURING, SimulationInputs, simulation_inputs
from planning.selectors.seasons import season_of

PATHS_RANGE = (100, 20_000)
DEFAULT_PATHS = 2_000
MAX_SEED = 2**63 - 1
NAME_MAX = 64
QUANTILES = tuple(range(0, 101, 5))  # the margin's percentiles kept for the chart
HISTOGRAM_BINS = 30
MANUFACTURING_FIELDS = ("name", "safety_stock_pct", "manufacturing_qty", "dc_holdback_percentage",
                        "replenishment_strategy", "markdown_checkpoint_week", "markdown_threshold", "markdown_pct")
MARKDOWN_FIELDS = ("name", "markdown_pct")
NULLABLE = ("markdown_checkpoint_week", "markdown_pct")  # null: no checkpoint / the §4 formula (the recommended one)
# Rounding of the saved numbers: units to 0.1, shares to 1e-4, money to cents.
SHARES = ("expected_sell_through", "stockout_probability", "demand_exceeds_buy_probability",
          "markdown_probability", "expected_markdown_pct")
MONEY = ("expected_markdown_cost", "expected_revenue", "expected_gross_margin", "gross_margin_p10",
         "gross_margin_p90", "expected_salvage_value")
UNITS = ("expected_units_sold", "expected_lost_sales", "expected_leftover_units", "expected_demand")


def compare(season_id, scenarios, paths=DEFAULT_PATHS, seed=0, user=None) -> ScenarioComparison:
    """Run and save a comparison of ``scenarios`` (a list of dicts, the API's field names) for
    the season ``season_id`` (a season or one of its runs) at the approval it waits for."""
    season = season_of(season_id)
    paths, seed = _whole("paths", paths, *PATHS_RANGE), _whole("seed", seed, 0, MAX_SEED)
    _check_list(scenarios)
    inputs = simulation_inputs(season)
    resolved = [_resolve(inputs, i, dict(raw)) for i, raw in enumerate(scenarios)]
    runs = [scenario for scenario, _ in resolved]
    if inputs.kind == MANUFACTURING:
        result = compare_scenarios(inputs.plan, inputs.demand, inputs.money.economics, runs, paths=paths, seed=seed)
    else:
        result = compare_rest_of_season(inputs.plan, inputs.demand, inputs.money.economics, inputs.start, runs,
                                        paths=paths, seed=seed)
    results, edges = _results(result.scenarios, [settings for _, settings in resolved])
    return ScenarioComparison.objects.create(
        season=season, kind=inputs.kind, paths=paths, seed=seed, scenarios=[dict(raw) for raw in scenarios],
        results=results, margin_bin_edges=edges, recommended=result.recommended, forecast=inputs.forecast,
        forecast_version=inputs.forecast.version, week=inputs.week, economics=inputs.money.as_dict(),
        demand=inputs.demand_dict(), created_by=user if getattr(user, "pk", None) else None)


# --- checking and resolving the scenarios -------------------------------------------------------


def _invalid(field, message):
    return Invalid(f"Invalid value for {field}: {message}", errors=[{"field": field, "message": message}])


def _whole(field, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(field, "must be a whole number")
    if not low <= value <= high:
        raise _invalid(field, f"must be within {low:,}..{high:,}")
    return value


def _number(field, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _invalid(field, "must be a finite number")
    if not low <= value <= high:
        raise _invalid(field, f"must be within {low:g}..{high:g}")
    return float(value)


def _check_list(scenarios):
    if not isinstance(scenarios, (list, tuple)) or not 1 <= len(scenarios) <= MAX_SCENARIOS:
        raise _invalid("scenarios", f"compare 1..{MAX_SCENARIOS} scenarios")
    seen = set()
    for i, raw in enumerate(scenarios):
        if not isinstance(raw, dict):
            raise _invalid(f"scenarios.{i}", "must be an object")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
            raise _invalid(f"scenarios.{i}.name", f"a name of 1..{NAME_MAX} characters is required")
        if name in seen:
            raise _invalid(f"scenarios.{i}.name", f"the name {name!r} is used twice; names must be unique")
        seen.add(name)


def _resolve(inputs: SimulationInputs, i: int, raw: dict) -> tuple[Scenario, dict]:
    """The simulator's scenario and the settings it ran with (the planner's values, else the defaults)."""
    allowed = MANUFACTURING_FIELDS if inputs.kind == MANUFACTURING else MARKDOWN_FIELDS
    for key in raw:
        if key not in allowed:
            why = ("not a scenario field" if key not in MANUFACTURING_FIELDS
                   else "only markdown_pct varies at the markdown approval (the buy and the plan are made)")
            raise _invalid(f"scenarios.{i}.{key}", why)
    values = {k: v for k, v in raw.items() if v is not None or k in NULLABLE}
    return (_manufacturing if inputs.kind == MANUFACTURING else _markdown)(inputs, f"scenarios.{i}", raw["name"],
                                                                            values)


def _manufacturing(inputs, at, name, values):
    params, allocation = inputs.season.parameters, inputs.allocation
    total = float(inputs.forecast.total_units)
    if "safety_stock_pct" in values and "manufacturing_qty" in values:
        raise _invalid(f"{at}.manufacturing_qty", "give safety_stock_pct or manufacturing_qty, not both")
    safety = None
    if "manufacturing_qty" in values:
        units = whole_units(total)  # the range of allocation.explicit_buy, which the accept checks
        qty = _whole(f"{at}.manufacturing_qty", values["manufacturing_qty"], math.ceil(BUY_RANGE[0] * units),
                     math.floor(BUY_RANGE[1] * units))
    else:
        safety = _number(f"{at}.safety_stock_pct", values.get("safety_stock_pct", allocation.safety_stock_pct),
                         *limits.SAFETY_STOCK_RANGE)
        qty = manufacturing_quantity(whole_units(total), safety)
    holdback = _number(f"{at}.dc_holdback_percentage",
                       values.get("dc_holdback_percentage", params["dc_holdback_percentage"]), 0, 1)
    strategy = values.get("replenishment_strategy", params["replenishment_strategy"])
    if strategy not in REPLENISHMENT_STRATEGIES:
        raise _invalid(f"{at}.replenishment_strategy", "one of " + ", ".join(REPLENISHMENT_STRATEGIES))
    checkpoint = values.get("markdown_checkpoint_week", params.get("markdown_checkpoint_week"))
    if checkpoint is not None:
        checkpoint = _whole(f"{at}.markdown_checkpoint_week", checkpoint, 1, inputs.season.horizon_weeks)
    threshold = _number(f"{at}.markdown_threshold",
                        values.get("markdown_threshold", params.get("markdown_threshold") or 0.60), 0, 1)
    depth = values.get("markdown_pct")
    if depth is not None:
        depth = _number(f"{at}.markdown_pct", depth, 0, limits.MAX_MARKDOWN)
    scenario = Scenario(name=name, manufacturing_qty=qty, holdback_pct=holdback, replenishment_strategy=strategy,
                        markdown_checkpoint_week=checkpoint, markdown_threshold=threshold, markdown_pct=depth)
    return scenario, {"safety_stock_pct": safety, "manufacturing_qty": qty, "dc_holdback_percentage": holdback,
                      "replenishment_strategy": strategy, "markdown_checkpoint_week": checkpoint,
                      "markdown_threshold": threshold, "markdown_pct": depth}


def _markdown(inputs, at, name, values):
    depth = values.get("markdown_pct")
    depth = inputs.decision.markdown_pct if depth is None else _number(f"{at}.markdown_pct", depth, 0,
                                                                       limits.MAX_MARKDOWN)
    params = inputs.season.parameters
    scenario = Scenario(name=name, manufacturing_qty=inputs.start.manufacturing_qty,
                        replenishment_strategy=params["replenishment_strategy"], markdown_pct=depth)
    return scenario, {"safety_stock_pct": inputs.allocation.safety_stock_pct,
                      "manufacturing_qty": inputs.start.manufacturing_qty,
                      "dc_holdback_percentage": inputs.allocation.holdback_pct,
                      "replenishment_strategy": params["replenishment_strategy"],
                      "markdown_checkpoint_week": inputs.week, "markdown_threshold": inputs.decision.target,
                      "markdown_pct": depth}


# --- what is saved ---------------------------------------------------------------------------------


def _rounded(name, value):
    if name in SHARES:
        return round(float(value), 4)
    if name in MONEY:
        return round(float(value), 2)
    if name in UNITS:
        return round(float(value), 1)
    return value


def _results(results, settings):
    """Each scenario's saved numbers, and the histogram bins shared by all of them."""
    margins = [r.margin for r in results]
    everything = np.concatenate(margins)
    low, high = np.percentile(everything, [0.5, 99.5])
    if not high > low:
        low, high = low - 1.0, high + 1.0
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    order = sorted(range(len(results)), key=lambda k: -results[k].expected_gross_margin)
    rank = {k: position + 1 for position, k in enumerate(order)}
    saved = []
    for k, (result, setting) in enumerate(zip(results, settings)):
        counts, _ = np.histogram(np.clip(result.margin, low, high), bins=edges)
        numbers = {**result.summary(), **{name: getattr(result, name) for name in (
            "expected_demand", "demand_exceeds_buy_probability", "markdown_probability", "expected_markdown_pct",
            "expected_salvage_value")}}
        saved.append({
            **{name: _rounded(name, value) for name, value in numbers.items()},
            "rank": rank[k], "settings": setting,
            "margin_quantiles": [round(float(q), 2) for q in np.percentile(result.margin, QUANTILES)],
            "margin_histogram": [int(c) for c in counts],
        })
    return saved, [round(float(e), 2) for e in edges]

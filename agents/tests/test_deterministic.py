"""The season tools on SPEC vectors and the deterministic runner's steps (no Django)."""
from datetime import date, timedelta

import numpy as np
import pytest

from agents import demand_tools, deterministic
from agents import season_tools as tools
from agents.orchestration import DEMAND, INVENTORY, MARKDOWN, PRICING, REFORECAST, StepContext
from agents.runner import run_step

PARAMS = {
    "forecast_horizon_weeks": 12,
    "season_start_date": "2025-03-01",
    "replenishment_strategy": "weekly",
    "dc_holdback_percentage": 0.45,
    "markdown_checkpoint_week": 6,
    "markdown_threshold": 0.60,
}


class MemoryCache:
    def __init__(self):
        self.data, self.gets, self.sets = {}, 0, 0

    def get(self, key):
        self.gets += 1
        return self.data.get(key)

    def set(self, key, value):
        self.sets += 1
        self.data[key] = value


def weekly_history(weeks=156, start=date(2022, 3, 5)):
    """A seasonal weekly series with a spring peak, ending before 2025-03-01 on its weekday grid."""
    rng = np.random.default_rng(7)
    rows = []
    for k in range(weeks):
        day = start + timedelta(weeks=k)
        season = 1 + 0.5 * np.sin(2 * np.pi * (day.timetuple().tm_yday - 30) / 365.25)
        rows.append({"week_start": day.isoformat(), "units": float(round(8000 * season + rng.normal(0, 150)))})
    return rows


def stores():
    rows = []
    for i in range(1, 13):
        cluster = ("fashion_forward", "mainstream", "value_conscious")[(i - 1) % 3]
        rows.append({"store_id": f"S{i:03d}", "cluster": cluster, "historical_units": 1000 + 50 * i,
                     "store_size_sqft": 8000 + 100 * i, "median_income": 60000 + 1000 * i})
    return rows


# --- tools on SPEC vectors -------------------------------------------------------------------------


@pytest.mark.parametrize("strategy, ss, mfg", [("weekly", 0.20, 9600), ("bi-weekly", 0.20, 9600), ("none", 0.25, 10000)])
def test_manufacturing_order_default_safety_stock(strategy, ss, mfg):
    order = tools.size_manufacturing_order(8000, strategy, 0.45)
    assert order["safety_stock_pct"] == ss and order["manufacturing_qty"] == mfg
    assert order["initial_qty"] + order["holdback_qty"] == mfg
    assert f"Safety stock {ss:.0%} because replenishment is {strategy}" in order["reasoning"]


def test_manufacturing_split_vectors():
    assert tools.size_manufacturing_order(8000, "weekly", 0.45)[("initial_qty")] == 5280
    assert tools.size_manufacturing_order(8000, "weekly", 0.45)["holdback_qty"] == 4320
    order = tools.size_manufacturing_order(8000, "none", 0.0)
    assert (order["initial_qty"], order["holdback_qty"]) == (10000, 0)
    planner = tools.size_manufacturing_order(8000, "weekly", 0.45, safety_stock_pct=0.25)
    assert planner["manufacturing_qty"] == 10000 and planner["safety_stock_source"] == "planner"


def test_manufacturing_rejects_out_of_range_safety_stock():
    with pytest.raises(tools.ToolError, match="safety_stock_pct"):
        tools.size_manufacturing_order(8000, "weekly", 0.45, safety_stock_pct=0.35)


def test_split_to_clusters_vector():
    split = demand_tools.split_to_clusters(8000, [8000 / 12] * 12,
                                           {"fashion_forward": 40, "mainstream": 35, "value_conscious": 25})
    assert [c["units"] for c in split["clusters"]] == [3200, 2800, 2000]
    assert sum(split["clusters"][0]["weekly"]) == pytest.approx(3200, abs=0.1)


@pytest.mark.parametrize("sell, expected", [(0.63, 0.0), (0.58, 0.05), (0.55, 0.10), (0.52, 0.15), (0.50, 0.20),
                                            (0.40, 0.40), (0.35, 0.40)])
def test_markdown_vectors(sell, expected):
    result = tools.recommend_markdown(sell * 10000, 10000, 0.60, 2.0)
    assert result["markdown_pct"] == pytest.approx(expected)
    assert result["expected_lift"] == pytest.approx(1.5 * expected)


def test_markdown_elasticity_vector():
    assert tools.recommend_markdown(5500, 10000, 0.60, 2.5)["markdown_pct"] == pytest.approx(0.15)


def test_variance_and_coverage_vectors():
    check = tools.check_variance(3200, 2550, 0.20)
    assert check["variance"] == pytest.approx(0.2549, abs=1e-4) and check["exceeded"] and check["band"] == "red"
    assert not tools.check_variance(1200, 1000, 0.20)["exceeded"]  # exactly 0.20 does not trigger
    assert tools.season_stock_position(10000, 3200, 4320, 0, 0.35) == {
        "needed": 6800, "dc_available": 4320, "store_on_hand": 0, "stock_held": 4320, "shortage": 2480,
        "at_risk": 0, "selling_above_plan": True, "alert": "emergency_order"}
    assert tools.season_stock_position(10000, 3200, 4320, 2080, 0.35)["shortage"] == 400
    below = tools.season_stock_position(5000, 3200, 4320, 2080, -0.75)
    assert (below["shortage"], below["at_risk"], below["alert"]) == (0, 4600, "overstock_review")


def test_replenishment_vector():
    plan = tools.plan_replenishment_shipments([{"store_id": "S001", "remaining_planned": 47, "on_hand": 2}], 10, 100)
    assert plan["shipments"] == [{"store_id": "S001", "need": 3, "quantity": 3, "partial": False}]
    short = tools.plan_replenishment_shipments(
        [{"store_id": "S001", "remaining_planned": 100, "on_hand": 0},
         {"store_id": "S002", "remaining_planned": 50, "on_hand": 0}], 10, 12)
    assert short["shipments"] == [{"store_id": "S001", "need": 10, "quantity": 10, "partial": False},
                                  {"store_id": "S002", "need": 5, "quantity": 2, "partial": True}]
    assert short["dc_remaining"] == 0


def test_schedule_markdown_checkpoint():
    scheduled = tools.schedule_markdown_checkpoint(PARAMS)
    assert scheduled["scheduled"] and scheduled["checkpoint_week"] == 6
    assert scheduled["review_after"] == "2025-04-11"  # end of week 6 of a season from 2025-03-01
    assert not tools.schedule_markdown_checkpoint({**PARAMS, "markdown_checkpoint_week": None})["scheduled"]


def test_reforecast_tool_learns_the_level_on_the_original_plan():
    original = [1000.0] * 12
    baseline = [1000.0] * 2 + [900.0] * 10  # a re-forecast already in force
    result = tools.reforecast_remaining_weeks(baseline, [600] * 4, original_weekly=original)
    # Four weeks at 60% of the original plan: the level is learnt close to 0.6 (a sustained fall),
    # and the band of the remaining weeks holds the run-rate.
    assert 0.55 < result["level"] < 0.65 and result["level_lower"] < 0.6 < result["level_upper"]
    assert result["updated_remaining_lower"] < 8 * 600 < result["updated_remaining_upper"]
    assert result["updated_total"] == pytest.approx(2400 + result["updated_remaining_total"], abs=0.01)
    # Stated against the baseline in force, not the original plan.
    assert result["plan_to_date"] == 3800 and result["original_total"] == 11000
    assert result["run_rate_ratio"] == pytest.approx(2400 / 3800, abs=1e-6)
    assert result["change"] == pytest.approx(result["updated_total"] - 11000, abs=0.01)
    assert len(result["updated_remaining_weekly_lower"]) == 8 and result["method"] == "bayesian_level"


def test_reforecast_tool_refuses_a_baseline_of_another_length():
    with pytest.raises(tools.ToolError, match="baseline has 10 weeks, the original plan 12"):
        tools.reforecast_remaining_weeks([1000.0] * 10, [600], original_weekly=[1000.0] * 12)


def test_allocate_to_stores_sums_exactly():
    plan = tools.allocate_to_stores(8000, [8000 / 12] * 12, stores(), 0.20, 0.45)
    assert plan["manufacturing_qty"] == 9600
    assert sum(s["initial_qty"] for s in plan["stores"]) == plan["initial_qty"] == 5280
    assert sum(s["holdback_qty"] for s in plan["stores"]) == 4320
    for cluster in plan["clusters"]:
        rows = [s for s in plan["stores"] if s["cluster_id"] == cluster["cluster_id"]]
        assert sum(s["initial_qty"] for s in rows) == cluster["initial_qty"]


# --- the deterministic runner ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demand_outcome():
    cache = MemoryCache()
    ctx = StepContext(step=DEMAND, parameters=PARAMS, cache=cache, inputs={
        "weekly_history": weekly_history(), "stores": stores(), "silhouette": 0.41, "cache_key": "k1"})
    return run_step(ctx), cache, ctx


def test_demand_step_forecasts_and_splits(demand_outcome):
    outcome, cache, _ = demand_outcome
    forecast = outcome.outputs["forecast"]
    assert outcome.runner == "deterministic" and outcome.fallback_reason is None
    assert len(forecast["weekly"]) == 12 and forecast["weekly"][0]["week_start"] == "2025-03-01"
    assert forecast["total"] == pytest.approx(sum(w["units"] for w in forecast["weekly"]), abs=0.1)
    assert all(w["lower"] <= w["units"] <= w["upper"] for w in forecast["weekly"])
    split = outcome.outputs["cluster_split"]
    assert sum(c["units"] for c in split["clusters"]) == split["demand_units"]
    assert outcome.outputs["clustering"]["source"] == "stores"
    assert "silhouette 0.41" in outcome.summary and "Forecast" in outcome.summary
    assert cache.sets == 1 and len(outcome.progress) >= 3


def test_demand_step_uses_the_cache(demand_outcome):
    _, cache, ctx = demand_outcome
    again = deterministic.run_step(ctx)
    assert again.outputs["forecast"]["cached"] is True and cache.sets == 1


def test_demand_step_clusters_unclustered_stores(demand_outcome):
    _, cache, ctx = demand_outcome
    bare = [{**s, "cluster": None, "avg_weekly_sales_12mo": s["historical_units"] / 52,
             "location_tier": "ABC"[i % 3], "fashion_tier": ("PREMIUM", "MAINSTREAM", "VALUE")[i % 3],
             "store_format": "MALL", "region": "WEST"} for i, s in enumerate(stores())]
    outcome = deterministic.run_step(StepContext(step=DEMAND, parameters=PARAMS, cache=cache,
                                                 inputs={**ctx.inputs, "stores": bare}))
    assert outcome.outputs["clustering"]["source"] == "computed"
    assert set(outcome.outputs["clustering"]["assignments"]) == {s["store_id"] for s in bare}


def test_demand_step_refuses_short_history():
    ctx = StepContext(step=DEMAND, parameters=PARAMS, inputs={
        "weekly_history": weekly_history(weeks=5, start=date(2025, 1, 25)), "stores": stores()})
    with pytest.raises(tools.ToolError, match="insufficient history"):
        deterministic.run_step(ctx)


def test_inventory_step_explains_safety_stock(demand_outcome):
    outcome, _, _ = demand_outcome
    params = {**PARAMS, "replenishment_strategy": "none", "dc_holdback_percentage": 0.0}
    inv = deterministic.run_step(StepContext(step=INVENTORY, parameters=params,
                                             inputs={"stores": stores(), "safety_stock_pct": None},
                                             previous={DEMAND: outcome.outputs}))
    order = inv.outputs["order"]
    assert order["safety_stock_pct"] == 0.25 and order["holdback_qty"] == 0
    assert "Safety stock 25% because replenishment is none" in inv.summary
    assert inv.outputs["allocation"]["initial_qty"] == order["manufacturing_qty"]


def test_pricing_step_without_checkpoint():
    outcome = deterministic.run_step(StepContext(step=PRICING, parameters={**PARAMS, "markdown_checkpoint_week": None},
                                                 inputs={}))
    assert outcome.outputs["checkpoint"]["scheduled"] is False
    assert "without a markdown" in outcome.summary


def test_reforecast_step_learns_the_level_and_takes_the_refit_shape(demand_outcome):
    _, cache, _ = demand_outcome
    history = weekly_history()
    actual = [5000.0, 5200.0, 5100.0]
    refit_history = history + [{"week_start": (date(2025, 3, 1) + timedelta(weeks=k)).isoformat(), "units": a}
                               for k, a in enumerate(actual)]
    outcome = deterministic.run_step(StepContext(step=REFORECAST, parameters=PARAMS, cache=cache, inputs={
        "plan_weekly": [9000.0] * 12, "original_weekly": [9000.0] * 12, "original_lower": [8000.0] * 12,
        "original_upper": [10000.0] * 12, "history_weekly": [w["units"] for w in history],
        "actual_weekly": actual, "refit_history": refit_history,
        "refit_start": "2025-03-22", "cache_key": "refit-1", "sold_to_date": sum(actual), "dc_available": 4000,
        "reason": "Test"}))
    result = outcome.outputs["reforecast"]
    assert outcome.outputs["refit"] is not None and len(result["updated_remaining"]) == 9
    assert result["baseline_weekly"][:3] == actual
    assert result["updated_total"] < 9000 * 12 and result["level"] < 0.65  # three weeks at ~57%
    assert "level is 5" in outcome.summary and "blended with the refit's" in outcome.summary


def test_markdown_step():
    outcome = deterministic.run_step(StepContext(step=MARKDOWN, parameters=PARAMS, inputs={
        "units_sold": 5500, "manufacturing_qty": 10000, "target": 0.60, "elasticity": 2.0}))
    assert outcome.outputs["markdown"]["markdown_pct"] == pytest.approx(0.10)
    assert outcome.summary.startswith("Recommend 10% off")


def test_unknown_step():
    with pytest.raises(ValueError):
        deterministic.run_step(StepContext(step="nope", parameters=PARAMS, inputs={}))

"""The money tools (agents.money_tools): a buy priced against season demand, simulated seasons of
the plan, and the inventory step's money in both runners."""
import pytest

from agents import deterministic, llm_runner, money_tools
from agents import season_tools as tools
from agents.orchestration import INVENTORY, PRICING
from agents.tests.scripted_model import well_behaved
from agents.tests.test_llm_runner import CONFIG, plan, step_context
from mlpipeline.economics import newsvendor_quantity

ECONOMICS = {"unit_price": 10.0, "unit_cost": 4.0, "salvage_value": 1.0, "economics_defaults": ["salvage_value"]}
WEEKLY = [1000.0] * 8


def allocation(stores=6):
    return tools.allocate_to_stores(
        8000, WEEKLY, [{"store_id": f"S{i:03d}", "cluster": "AB"[i % 2], "historical_units": 100 + 10 * i,
                        "store_size_sqft": 8000 + 100 * i, "median_income": 50000 + 1000 * i}
                       for i in range(stores)], 0.20, 0.45)


def test_the_newsvendor_buy_is_the_critical_ratio_quantile_and_prices_the_proposed_buy():
    worth = money_tools.price_the_buy(9600, 8000, [0.05, -0.04, 0.02], ECONOMICS)
    assert worth["service_level"] == pytest.approx(6 / 9, abs=1e-4)
    assert worth["demand_median"] == pytest.approx(8000)
    assert worth["demand_p10"] < worth["demand_median"] < worth["newsvendor_buy_quantity"]
    at_newsvendor = money_tools.price_the_buy(worth["newsvendor_buy_quantity"], 8000, [0.05, -0.04, 0.02], ECONOMICS)
    assert at_newsvendor["stockout_probability"] == pytest.approx(1 - 6 / 9, abs=0.01)
    assert at_newsvendor["expected_gross_margin"] >= worth["expected_gross_margin"]
    assert worth["economics_defaults"] == ["salvage_value"]
    # SPEC's normal vector, for comparison with the log-normal season demand used here
    assert newsvendor_quantity(1000, 200, 10, 4, 1) == 1086


def test_bad_economics_and_buys_are_tool_errors():
    with pytest.raises(tools.ToolError, match="economics"):
        money_tools.price_the_buy(100, 100, [], {"unit_price": 5, "unit_cost": 6, "salvage_value": 1})
    with pytest.raises(tools.ToolError, match=">= 0"):
        money_tools.price_the_buy(-1, 100, [], ECONOMICS)
    with pytest.raises(tools.ToolError, match="cannot simulate"):
        money_tools.simulate_buys(allocation(), WEEKLY, [], ECONOMICS, [{"name": "a"}], holdback_pct=0.45,
                                  replenishment_strategy="weekly")


def test_simulated_buys_share_their_seasons_and_rank_by_margin():
    plan_ = allocation()
    buys = [{"name": "lean", "manufacturing_qty": 8000}, {"name": "deep", "manufacturing_qty": 12000}]
    first = money_tools.simulate_buys(plan_, WEEKLY, [0.05], ECONOMICS, buys, holdback_pct=0.45,
                                      replenishment_strategy="weekly", paths=300)
    again = money_tools.simulate_buys(plan_, WEEKLY, [0.05], ECONOMICS, buys, holdback_pct=0.45,
                                      replenishment_strategy="weekly", paths=300)
    assert first == again
    lean, deep = first["scenarios"]
    assert deep["expected_leftover_units"] > lean["expected_leftover_units"]
    assert lean["stockout_probability"] >= deep["stockout_probability"]
    best = max(first["scenarios"], key=lambda s: s["expected_gross_margin"])["name"]
    assert first["recommended"] == best and lean["gross_margin_p10"] <= lean["gross_margin_p90"]


def test_the_inventory_step_explains_the_buy_in_money():
    ctx = step_context(INVENTORY, economics=ECONOMICS | {"unit_price": 40.0, "unit_cost": 18.0, "salvage_value": 8.0},
                       demand_errors=[0.03, -0.02, 0.05])
    outcome = deterministic.run_step(ctx)
    money = outcome.outputs["money"]
    assert money["buy"]["manufacturing_qty"] == outcome.outputs["order"]["manufacturing_qty"]
    assert {s["name"] for s in money["simulation"]["scenarios"]} == {"proposed", "newsvendor"}
    assert "the service level is 69%" in outcome.summary and "expected gross margin" in outcome.summary
    assert "(salvage value by default)" in outcome.summary and "P10" in outcome.summary


def test_without_economics_the_inventory_step_has_no_money():
    outcome = deterministic.run_step(step_context(INVENTORY))
    assert outcome.outputs["money"] is None and "Money:" not in outcome.summary


def test_the_llm_inventory_step_prices_the_buy_with_the_same_numbers(monkeypatch):
    ctx = step_context(INVENTORY, economics=ECONOMICS, demand_errors=[0.03])
    monkeypatch.setattr(llm_runner, "model_factory", lambda config, client: well_behaved(INVENTORY))
    outcome = llm_runner.run_step(ctx, config=CONFIG, on_progress=lambda message: None)
    assert outcome.outputs["money"] == deterministic.run_step(ctx).outputs["money"]
    assert plan(outcome.outputs) == plan(deterministic.run_step(ctx).outputs)


def test_the_pricing_step_prices_the_markdown_rule():
    plan_ = allocation()
    inputs = {"economics": ECONOMICS, "demand_errors": [0.05], "allocation": plan_,
              "manufacturing_qty": plan_["manufacturing_qty"], "weekly_forecast": WEEKLY}
    ctx = step_context(PRICING, **inputs)
    outcome = deterministic.run_step(ctx)
    worth = outcome.outputs["markdown_worth"]
    assert worth["checkpoint_week"] == ctx.parameters["markdown_checkpoint_week"]
    rule, none = worth["with_rule"], worth["without"]
    assert none["markdown_probability"] == 0 and none["expected_markdown_cost"] == 0
    assert rule["expected_leftover_units"] <= none["expected_leftover_units"]
    assert worth["margin_difference"] == pytest.approx(rule["expected_gross_margin"] - none["expected_gross_margin"],
                                                       abs=0.01)
    assert "In money" in outcome.summary and "without a markdown" in outcome.summary
    assert money_tools.price_the_markdown_rule(inputs, {**ctx.parameters, "markdown_checkpoint_week": None}) is None
    assert deterministic.run_step(step_context(PRICING)).outputs["markdown_worth"] is None

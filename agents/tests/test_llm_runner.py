"""The LLM path of the agents (SPEC §8), driven by scripted models: no network.

The season tools really run (mlpipeline math on small synthetic data built here), and every
step's outputs must equal the deterministic runner's for the same inputs. Failures (guardrail
trips, timeout, model error, max turns) must hand the step to the deterministic runner through
``runner.run_step`` with the reason and the tokens already spent.
"""
from __future__ import annotations

import asyncio
import copy
import math
import threading
import time
from datetime import date, timedelta

import pytest

from agents import demand_tools, deterministic, llm_runner, orchestration, runner
from agents.orchestration import DEMAND, INVENTORY, MARKDOWN, PRICING, REFORECAST, LLMConfig, StepContext
from agents.season_agents import INVENTORY_AGENT, PRICING_AGENT
from agents.testing import ModelStep, ScriptedModel
from agents.tests.fake_chat_server import ChatTurn, fake_chat_server  # noqa: F401 (fixture)
from agents.tests.scripted_model import answer, call_tools, fail, handoff_to, stall, usage_of, well_behaved

START = date(2025, 3, 1)
PARAMETERS = {
    "forecast_horizon_weeks": 12,
    "season_start_date": START.isoformat(),
    "season_end_date": "2025-05-23",
    "replenishment_strategy": "weekly",
    "dc_holdback_percentage": 0.45,
    "markdown_checkpoint_week": 6,
    "markdown_threshold": 0.60,
}
CLUSTERS = ("fashion_forward", "mainstream", "value_conscious")
PLAN_WEEKLY = [600.0] * 4 + [700.0] * 8  # 8,000 units: the SPEC's manufacturing vectors
CONFIG = LLMConfig(api_key="test-key", model="fake-model", step_timeout_s=10.0)


def weekly_history(weeks: int, end: date = START) -> list[dict]:
    """Category weeks before ``end``: a yearly wave around 800 units with a little texture."""
    return [{"week_start": (end - timedelta(weeks=n)).isoformat(),
             "units": round(800 + 200 * math.sin(2 * math.pi * n / 52) + (n % 5) * 7, 1)}
            for n in range(weeks, 0, -1)]


def stores(*, clustered: bool = True) -> list[dict]:
    return [{
        "store_id": f"S{i + 1:03d}",
        "cluster": CLUSTERS[i % 3] if clustered else None,
        "historical_units": 2_000 - 150 * (i % 3) + 37 * i,
        "store_size_sqft": 8_000 + 500 * i,
        "median_income": 52_000 + 3_000 * (i % 4),
        "avg_weekly_sales_12mo": 40 - 9 * (i % 3) + i,
        "location_tier": "ABC"[i % 3],
        "fashion_tier": ("PREMIUM", "MAINSTREAM", "VALUE")[i % 3],
        "store_format": ("MALL", "STANDALONE", "SHOPPING_CENTER", "OUTLET")[i % 4],
        "region": ("NORTHEAST", "SOUTHEAST", "MIDWEST", "WEST")[i % 4],
    } for i in range(9)]


def demand_outputs() -> dict:
    """The demand step's outputs as the inventory step reads them (8,000 units, stored clusters)."""
    weekly = [{"week": n, "week_start": (START + timedelta(weeks=n - 1)).isoformat(), "units": units}
              for n, units in enumerate(PLAN_WEEKLY, start=1)]
    return {"forecast": {"total": sum(PLAN_WEEKLY), "weekly": weekly, "method": "ensemble"},
            "clustering": {"source": "stores", "assignments": {s["store_id"]: s["cluster"] for s in stores()}}}


def step_context(step: str, **changes) -> StepContext:
    inputs = {
        DEMAND: lambda: {"weekly_history": weekly_history(60), "stores": stores(), "silhouette": 0.41,
                         "weighting": "equal"},
        INVENTORY: lambda: {"stores": stores(), "safety_stock_pct": None},
        PRICING: lambda: {},
        REFORECAST: lambda: {
            "plan_weekly": PLAN_WEEKLY, "original_weekly": PLAN_WEEKLY, "actual_weekly": [780.0, 800.0, 760.0, 860.0],
            "history_weekly": [w["units"] for w in weekly_history(60, START)],
            "refit_history": weekly_history(60, START) + [
                {"week_start": (START + timedelta(weeks=n)).isoformat(), "units": units}
                for n, units in enumerate([780.0, 800.0, 760.0, 860.0])],
            "refit_start": (START + timedelta(weeks=4)).isoformat(), "sold_to_date": 3_200,
            "dc_available": 4_320, "store_on_hand": 2_080, "reason": "Variance 0.33 above 0.20 after week 4"},
        MARKDOWN: lambda: {"units_sold": 5_280, "manufacturing_qty": 9_600, "target": 0.60, "elasticity": 2.0},
    }[step]()
    inputs.update(changes)
    previous = {DEMAND: demand_outputs()} if step == INVENTORY else {}
    return StepContext(step=step, parameters=dict(PARAMETERS), inputs=inputs, previous=previous)


@pytest.fixture
def use_model(monkeypatch):
    """Make the LLM runner use the given scripted model instead of an OpenAI client."""

    def install(model: ScriptedModel) -> ScriptedModel:
        monkeypatch.setattr(llm_runner, "model_factory", lambda config, client: model)
        return model

    return install


class DictCache(dict):
    """A FitCache in memory."""

    def set(self, key: str, value: dict) -> None:
        self[key] = value


def rule_based(ctx: StepContext) -> orchestration.StepOutcome:
    return deterministic.run_step(copy.deepcopy(ctx))


def plan(outputs: dict) -> dict:
    """A step's outputs without how long the fits took (the only part that varies between runs)."""
    return {key: {k: v for k, v in value.items() if k != "fit_seconds"} if key in ("forecast", "refit") and value
            else value for key, value in outputs.items()}


def run_with_fallback(ctx: StepContext, config: LLMConfig = CONFIG, on_progress=None) -> orchestration.StepOutcome:
    return runner.run_step(ctx, llm=config, on_progress=on_progress)


# --- (a) the steps run through the SDK and equal the deterministic runner ---------------------------

FAST_STEPS = [INVENTORY, PRICING, MARKDOWN]
FITTING_STEPS = [pytest.param(DEMAND, marks=pytest.mark.slow), pytest.param(REFORECAST, marks=pytest.mark.slow)]


@pytest.mark.parametrize("step", FAST_STEPS + FITTING_STEPS)
def test_step_runs_through_the_agents_with_the_rule_based_numbers(step, use_model):
    ctx = step_context(step)
    model = use_model(well_behaved(step))
    messages = []

    outcome = llm_runner.run_step(ctx, config=CONFIG, on_progress=messages.append)

    assert outcome.runner == "llm" and outcome.fallback_reason is None
    assert plan(outcome.outputs) == plan(rule_based(ctx).outputs)
    turns = len(model.calls)
    assert model.remaining_steps == 0
    assert outcome.usage == usage_of(turns)
    assert outcome.summary == f"The {step} step is done; every number above comes from the tools."
    assert messages == outcome.progress and len(messages) >= 2
    if step == REFORECAST:  # the stock position counts the DC and the stores, in both runners
        assert outcome.outputs["coverage"]["stock_held"] == 4_320 + 2_080


def test_inventory_vectors_and_the_tools_each_agent_sees(use_model):
    model = use_model(well_behaved(INVENTORY, safety_stock_pct=0.25))

    outcome = llm_runner.run_step(step_context(INVENTORY, safety_stock_pct=0.25), config=CONFIG,
                                  on_progress=lambda message: None)

    order = outcome.outputs["order"]
    assert (order["manufacturing_qty"], order["initial_qty"], order["holdback_qty"]) == (10_000, 5_500, 4_500)
    assert order["safety_stock_source"] == "planner"
    orchestrator_call, *inventory_calls = model.calls
    assert [h.tool_name for h in orchestrator_call.handoffs] == ["transfer_to_inventory"]
    assert not orchestrator_call.tools
    for call in inventory_calls:
        assert sorted(tool.name for tool in call.tools) == ["allocate_to_stores", "price_the_buy",
                                                             "size_manufacturing_order"]


@pytest.mark.slow
def test_demand_step_clusters_stores_that_have_none(use_model):
    ctx = step_context(DEMAND, stores=stores(clustered=False))
    use_model(well_behaved(DEMAND))

    outcome = llm_runner.run_step(ctx, config=CONFIG, on_progress=lambda message: None)

    assert outcome.outputs["clustering"]["source"] == "computed"
    assert plan(outcome.outputs) == plan(rule_based(ctx).outputs)


def test_a_tool_called_too_early_tells_the_model_what_comes_first(use_model):
    model = use_model(ScriptedModel([
        handoff_to(INVENTORY_AGENT),
        call_tools("allocate_to_stores"),
        call_tools(("size_manufacturing_order", {"safety_stock_pct": None})),
        call_tools("allocate_to_stores"),
        call_tools("price_the_buy"),
        answer("Ordered and allocated."),
    ]))
    ctx = step_context(INVENTORY)

    outcome = llm_runner.run_step(ctx, config=CONFIG, on_progress=lambda message: None)

    told = [item for item in model.calls[2].input if item.get("type") == "function_call_output"]
    assert told[-1]["output"] == "Call size_manufacturing_order first."
    assert plan(outcome.outputs) == plan(rule_based(ctx).outputs)


def test_tools_and_progress_run_on_the_calling_thread_even_inside_an_event_loop(use_model):
    """Django (fit cache, event persistence) must not run inside the SDK's event loop."""
    threads = set()

    class RecordingCache:
        def get(self, key):
            threads.add(threading.get_ident())
            return None

        def set(self, key, value):
            threads.add(threading.get_ident())

    def on_progress(message):
        threads.add(threading.get_ident())

    ctx = step_context(DEMAND, weekly_history=[{"week_start": w["week_start"], "units": 800.0}
                                               for w in weekly_history(12)], cache_key="k")
    ctx.cache = RecordingCache()
    use_model(well_behaved(DEMAND))

    async def caller_inside_a_loop():
        return llm_runner.run_step(ctx, config=CONFIG, on_progress=on_progress)

    # The caller gets a thread of its own, so a loop another test left on the main thread
    # (Playwright's sync API keeps one) cannot get in the way of asyncio.run here.
    caller = {}

    def call():
        caller["thread"] = threading.get_ident()
        caller["outcome"] = asyncio.run(caller_inside_a_loop())

    thread = threading.Thread(target=call)
    thread.start()
    thread.join(timeout=60)

    outcome = caller["outcome"]
    assert outcome.runner == "llm" and outcome.outputs["forecast"]["method"] == "level"
    assert threads == {caller["thread"]}


# --- (b) guardrails -----------------------------------------------------------------------------------


def test_absurd_safety_stock_trips_the_guardrail_and_falls_back(use_model):
    use_model(ScriptedModel([handoff_to(INVENTORY_AGENT),
                             call_tools(("size_manufacturing_order", {"safety_stock_pct": 5.0})),
                             answer("Made 48,000 units.")]))
    ctx = step_context(INVENTORY)
    messages = []

    outcome = run_with_fallback(ctx, on_progress=messages.append)

    assert outcome.runner == "deterministic"
    assert outcome.fallback_reason == "GuardrailTripped: safety_stock_pct_in_range: safety_stock_pct 5.0 is outside 0.1..0.3"
    assert plan(outcome.outputs) == plan(rule_based(ctx).outputs)
    assert outcome.outputs["order"]["manufacturing_qty"] == 9_600
    assert outcome.usage == usage_of(2)
    assert any(message.endswith("rule-based fallback") for message in messages)


def test_elasticity_outside_the_planners_range_trips_the_guardrail(use_model):
    use_model(ScriptedModel([handoff_to(PRICING_AGENT), call_tools(("recommend_markdown", {"elasticity": 9}))]))

    outcome = run_with_fallback(step_context(MARKDOWN))

    assert outcome.fallback_reason == "GuardrailTripped: elasticity_in_range: elasticity 9 is outside 1..3"
    assert outcome.outputs["markdown"]["markdown_pct"] == 0.10


def test_impossible_tool_result_trips_the_guardrail(use_model):
    """A cache hit is not re-checked by the tool; the guardrail catches an impossible forecast."""
    flat = [{"week_start": w["week_start"], "units": 800.0} for w in weekly_history(12)]
    stale = demand_tools.forecast_category_demand(flat, START.isoformat(), 12)
    stale["weekly"] = [{**week, "units": 250_000.0} for week in stale["weekly"]]
    ctx = step_context(DEMAND, weekly_history=flat, cache_key="stale")
    ctx.cache = DictCache(stale=stale)
    use_model(well_behaved(DEMAND))

    outcome = run_with_fallback(ctx)

    assert outcome.runner == "deterministic"
    assert outcome.fallback_reason == ("GuardrailTripped: plan_is_possible: forecast: week 1 forecasts 250,000 "
                                       "units, above 10 x the largest week of the category's history (800)")
    assert outcome.usage == usage_of(2)


def test_answer_without_the_tools_trips_the_guardrail(use_model):
    use_model(ScriptedModel([handoff_to(INVENTORY_AGENT), answer("Make 9,600 units, ship 5,280 now.")]))

    outcome = run_with_fallback(step_context(INVENTORY))

    assert outcome.fallback_reason == ("GuardrailTripped: step_is_complete: required tools not called: "
                                       "size_manufacturing_order, allocate_to_stores, price_the_buy")
    assert outcome.usage == usage_of(2)


def test_orchestrator_that_answers_itself_trips_the_guardrail(use_model):
    use_model(ScriptedModel([answer("The checkpoint is week 6.")]))

    outcome = run_with_fallback(step_context(PRICING))

    assert outcome.fallback_reason == ("GuardrailTripped: step_is_complete: required tools not called: "
                                       "schedule_markdown_checkpoint, price_the_markdown_rule")
    assert outcome.outputs["checkpoint"]["checkpoint_week"] == 6


# --- (c) timeout, (d) model error, (e) max turns ------------------------------------------------------


def test_a_model_that_stalls_times_out_and_falls_back(use_model):
    use_model(ScriptedModel([handoff_to(PRICING_AGENT), stall(30)]))
    started = time.monotonic()

    outcome = run_with_fallback(step_context(PRICING), LLMConfig(api_key="test-key", step_timeout_s=0.3))

    assert time.monotonic() - started < 3
    assert outcome.runner == "deterministic"
    assert outcome.fallback_reason == "StepTimedOut: no answer within 0.3s"
    assert outcome.usage == usage_of(1)
    assert plan(outcome.outputs) == plan(rule_based(step_context(PRICING)).outputs)


def test_a_loop_that_stops_answering_does_not_hold_the_worker(use_model, monkeypatch):
    """A model blocking the event loop defeats asyncio.wait_for; the calling thread still leaves."""
    monkeypatch.setattr(llm_runner, "DEADLINE_GRACE_S", 0.2)
    use_model(ScriptedModel([ModelStep.respond(lambda call: time.sleep(2) or answer("late"))]))
    started = time.monotonic()

    outcome = run_with_fallback(step_context(PRICING), LLMConfig(api_key="test-key", step_timeout_s=0.2))

    assert time.monotonic() - started < 1.5
    assert outcome.fallback_reason == "StepTimedOut: the run did not end within 0.4s"


def test_model_error_falls_back_with_the_reason(use_model):
    use_model(ScriptedModel([fail(ConnectionError("provider unreachable"))]))

    outcome = run_with_fallback(step_context(MARKDOWN))

    assert outcome.runner == "deterministic"
    assert outcome.fallback_reason == "ConnectionError: provider unreachable"
    assert outcome.usage == {}  # nothing was spent
    assert outcome.outputs["markdown"]["markdown_pct"] == 0.10


def test_model_error_after_some_turns_still_reports_their_tokens(use_model):
    use_model(ScriptedModel([handoff_to(PRICING_AGENT), fail(RuntimeError("overloaded"))]))

    outcome = run_with_fallback(step_context(MARKDOWN))

    assert outcome.fallback_reason == "RuntimeError: overloaded"
    assert outcome.usage == usage_of(1)


def test_max_turns_exceeded_falls_back(use_model):
    model = use_model(ScriptedModel([handoff_to(INVENTORY_AGENT)] + [
        call_tools(("size_manufacturing_order", {"safety_stock_pct": None})) for _ in range(5)]))

    outcome = run_with_fallback(step_context(INVENTORY), LLMConfig(api_key="test-key", max_turns=3))

    assert outcome.fallback_reason == "MaxTurnsExceeded: Max turns (3) exceeded"
    assert len(model.calls) == 3
    assert outcome.usage == usage_of(3)
    assert plan(outcome.outputs) == plan(rule_based(step_context(INVENTORY)).outputs)


# --- (f) the real OpenAI client against a local OpenAI-compatible server ------------------------------


def test_openai_client_against_a_local_compatible_server(fake_chat_server):  # noqa: F811 (fixture)
    fake_chat_server.script(
        ChatTurn.calling("transfer_to_inventory"),
        ChatTurn.calling(("size_manufacturing_order", {"safety_stock_pct": None})),
        ChatTurn.calling("allocate_to_stores"),
        ChatTurn.calling("price_the_buy"),
        ChatTurn.answering("Safety stock 20% for weekly replenishment: 9,600 units, 5,280 ship at week 0."),
    )
    ctx = step_context(INVENTORY)
    config = LLMConfig(api_key="test-key", model="fake-model", base_url=fake_chat_server.base_url)

    outcome = run_with_fallback(ctx, config)

    assert outcome.runner == "llm", outcome.fallback_reason
    assert plan(outcome.outputs) == plan(rule_based(ctx).outputs)
    assert outcome.summary.startswith("Safety stock 20% for weekly replenishment")
    assert outcome.usage == {"requests": 5, "input_tokens": 1_500, "output_tokens": 100, "total_tokens": 1_600}
    first = fake_chat_server.requests[0]
    assert first["model"] == "fake-model"
    assert [tool["function"]["name"] for tool in first["tools"]] == ["transfer_to_inventory"]
    assert set(fake_chat_server.authorizations) == {"Bearer test-key"}
    tool_results = [m for m in fake_chat_server.requests[2]["messages"] if m["role"] == "tool"]
    assert '"manufacturing_qty":9600' in tool_results[-1]["content"]

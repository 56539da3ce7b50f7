"""Our ``agents`` package shares its import name with the OpenAI Agents SDK (see agents/__init__.py)."""
from __future__ import annotations

import inspect
from pathlib import Path

import agents
from agents.orchestration import PRICING, LLMConfig, StepContext

OURS = Path(agents.__file__).resolve().parent


def test_our_module_names_do_not_collide_with_the_sdk():
    sdk = Path(agents.SDK_FOLDER)
    sdk_names = {path.stem for path in sdk.iterdir() if path.suffix == ".py" or (path / "__init__.py").is_file()}
    our_names = {path.stem for path in OURS.iterdir() if path.suffix == ".py" or (path / "__init__.py").is_file()}

    assert our_names & sdk_names == {"__init__"}


def test_sdk_names_resolve_to_the_sdk_and_ours_to_ours():
    from agents import Agent, Runner, function_tool
    from agents.llm_runner import run_step

    sdk = Path(agents.SDK_FOLDER).resolve()
    for sdk_object in (Agent, Runner, function_tool):
        assert Path(inspect.getfile(sdk_object)).resolve().is_relative_to(sdk)
    assert Path(inspect.getfile(run_step)).resolve().is_relative_to(OURS)


def test_tracing_is_off_unless_the_operator_enables_it(monkeypatch):
    """The SDK uploads traces to OpenAI by default; the runner must not, out of the box."""
    from agents import ModelTracing, llm_runner
    from agents.tests.scripted_model import well_behaved

    model = well_behaved(PRICING)
    monkeypatch.setattr(llm_runner, "model_factory", lambda config, client: model)
    params = {"forecast_horizon_weeks": 12, "season_start_date": "2025-03-01", "replenishment_strategy": "weekly",
              "dc_holdback_percentage": 0.45, "markdown_checkpoint_week": None, "markdown_threshold": None}

    outcome = llm_runner.run_step(StepContext(step=PRICING, parameters=params, inputs={}),
                                  config=LLMConfig(api_key="test-key"), on_progress=lambda message: None)

    assert outcome.runner == "llm" and outcome.outputs["checkpoint"]["scheduled"] is False
    assert LLMConfig(api_key="k").tracing is False
    assert {call.tracing for call in model.calls} == {ModelTracing.DISABLED}

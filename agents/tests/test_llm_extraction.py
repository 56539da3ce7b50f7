"""LLM extraction with the real `openai` client against a local fake server: success, fallbacks, ranges."""
from __future__ import annotations

import time
from datetime import date
from typing import Any

import openai
import pytest

from agents.extraction import TokenUsage, extract_parameters
from agents.llm_extraction import LLMExtractionError, extract, extract_with_llm
from agents.parameters import ECONOMICS_FIELDS, PLANNER_FIELDS, ParameterError
from agents.tests.fake_openai import FakeOpenAIServer, FakeReply, fake_openai_server  # noqa: F401 (fixture)

REFERENCE = date(2025, 1, 15)
SPEC_TEXT = (
    "12-week season starting March 1st. No replenishment, 0% holdback. "
    "Markdown at week 6 if below 60% sell-through."
)
SPEC_ANSWER: dict[str, Any] = {
    "forecast_horizon_weeks": 12,
    "season_start_date": "2025-03-01",
    "replenishment_strategy": "none",
    "dc_holdback_percentage": 0.0,
    "markdown_checkpoint_week": 6,
    "markdown_threshold": 0.6,
    "stated_fields": list(PLANNER_FIELDS),
    "reasoning": "All six fields are stated.",
}


def _extract(server: FakeOpenAIServer, text: str = SPEC_TEXT, timeout: float = 5.0):
    return extract(text, REFERENCE, api_key="test-key", base_url=server.base_url, model="fake-model", timeout=timeout)


def test_valid_answer_gives_an_llm_result_with_usage(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.answer(SPEC_ANSWER))
    result = _extract(fake_openai_server)
    assert result.extractor == "llm"
    assert result.usage == TokenUsage(prompt_tokens=120, completion_tokens=40, total_tokens=160)
    assert result.parameters.model_dump(mode="json") == {
        "forecast_horizon_weeks": 12,
        "season_start_date": "2025-03-01",
        "season_end_date": "2025-05-23",
        "replenishment_strategy": "none",
        "dc_holdback_percentage": 0.0,
        "markdown_checkpoint_week": 6,
        "markdown_threshold": 0.6,
    }
    assert result.confidence == "high"
    assert result.missing == []
    assert "Model: All six fields are stated." in result.reasoning


def test_request_asks_for_strict_structured_output_at_temperature_zero(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.answer(SPEC_ANSWER))
    _extract(fake_openai_server)
    (request,) = fake_openai_server.requests
    assert request["model"] == "fake-model"
    assert request["temperature"] == 0
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["strict"] is True
    schema = request["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == {*PLANNER_FIELDS, *ECONOMICS_FIELDS, "stated_fields", "reasoning"}
    assert set(schema["properties"]["stated_fields"]["items"]["enum"]) == {*PLANNER_FIELDS, *ECONOMICS_FIELDS}
    user_message = request["messages"][-1]["content"]
    assert "2025-01-15 (Wednesday)" in user_message
    assert SPEC_TEXT in user_message


def test_stated_fields_drive_defaults_confidence_and_missing(fake_openai_server: FakeOpenAIServer) -> None:
    answer = {
        **SPEC_ANSWER,
        "replenishment_strategy": None,
        "dc_holdback_percentage": None,
        "markdown_checkpoint_week": None,
        "markdown_threshold": None,
        "stated_fields": ["forecast_horizon_weeks", "season_start_date", "markdown_checkpoint_week"],
        "reasoning": "12 weeks from March 1; no markdowns.",
    }
    fake_openai_server.script(FakeReply.answer(answer))
    result = _extract(fake_openai_server, "12 weeks from March 1, no markdowns")
    assert result.extractor == "llm"
    assert result.confidence == "medium"
    assert result.missing == ["replenishment_strategy", "dc_holdback_percentage"]
    assert result.parameters.replenishment_strategy == "weekly"
    assert result.parameters.dc_holdback_percentage == 0.45
    assert result.parameters.markdown_checkpoint_week is None


def test_the_model_reads_the_economics(fake_openai_server: FakeOpenAIServer) -> None:
    answer = {**SPEC_ANSWER, "unit_price": 49.0, "unit_cost": 21.0, "salvage_value": None,
              "stated_fields": [*PLANNER_FIELDS, "unit_price", "unit_cost"]}
    fake_openai_server.script(FakeReply.answer(answer))
    result = _extract(fake_openai_server, SPEC_TEXT + " $49 retail, $21 cost.")
    assert result.extractor == "llm"
    assert (result.parameters.unit_price, result.parameters.unit_cost, result.parameters.salvage_value) == (
        49.0, 21.0, None)
    assert result.economics_stated == ["unit_price", "unit_cost"]
    assert result.missing == [] and result.confidence == "high"  # the economics are not counted there


def test_an_answer_without_the_economics_keys_states_none(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.answer(SPEC_ANSWER))  # an answer in the schema before #15
    result = _extract(fake_openai_server)
    assert result.extractor == "llm" and result.economics_stated == []


def test_impossible_economics_from_the_model_fall_back_to_rules(fake_openai_server: FakeOpenAIServer) -> None:
    answer = {**SPEC_ANSWER, "unit_price": 20.0, "unit_cost": 30.0, "salvage_value": None,
              "stated_fields": [*PLANNER_FIELDS, "unit_price", "unit_cost"]}
    fake_openai_server.script(FakeReply.answer(answer))
    result = _extract(fake_openai_server)
    assert result.extractor == "rules"
    assert "unit_cost" in result.reasoning.splitlines()[-1]


def test_invalid_json_falls_back_to_rules(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.invalid_json())
    result = _extract(fake_openai_server)
    assert result.extractor == "rules"
    assert result.parameters == extract_parameters(SPEC_TEXT, REFERENCE).parameters
    assert "LLM extraction failed (invalid answer" in result.reasoning
    assert result.usage == TokenUsage(120, 40, 160)  # the call still cost tokens


def test_schema_violation_falls_back_to_rules(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.answer({**SPEC_ANSWER, "markdown_checkpoint_week": 20}))
    result = _extract(fake_openai_server)
    assert result.extractor == "rules"
    assert "markdown_checkpoint_week" in result.reasoning.splitlines()[-1]


def test_missing_keys_fall_back_to_rules(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.answer({"forecast_horizon_weeks": 12}))
    result = _extract(fake_openai_server)
    assert result.extractor == "rules"
    assert "invalid answer" in result.reasoning


def test_http_500_falls_back_after_one_retry(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.error(500))
    result = _extract(fake_openai_server)
    assert result.extractor == "rules"
    assert "LLM extraction failed (HTTP 500 from the model endpoint)" in result.reasoning
    assert result.usage is None
    assert len(fake_openai_server.requests) == 2  # max_retries=1


def test_a_retry_that_succeeds_gives_the_llm_result(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.error(503), FakeReply.answer(SPEC_ANSWER))
    assert _extract(fake_openai_server).extractor == "llm"


def test_timeout_falls_back_within_the_bound(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.slow(3.0, SPEC_ANSWER))
    started = time.monotonic()
    result = _extract(fake_openai_server, timeout=0.3)
    assert time.monotonic() - started < 2.5  # two attempts of 0.3 s plus one short back-off
    assert result.extractor == "rules"
    assert "no answer within 0.3 s" in result.reasoning


def test_out_of_range_text_raises_even_if_the_model_would_clamp(fake_openai_server: FakeOpenAIServer) -> None:
    fake_openai_server.script(FakeReply.answer({**SPEC_ANSWER, "dc_holdback_percentage": 1.0}))
    with pytest.raises(ParameterError) as error:
        _extract(fake_openai_server, "12 weeks from March 1, 150% holdback")
    assert error.value.field == "dc_holdback_percentage"
    assert fake_openai_server.requests == []  # rejected before spending tokens


def test_empty_input_raises_before_calling_the_model(fake_openai_server: FakeOpenAIServer) -> None:
    with pytest.raises(ParameterError) as error:
        _extract(fake_openai_server, "   ")
    assert error.value.field == "user_input"
    assert fake_openai_server.requests == []


def test_without_a_key_the_rules_answer(fake_openai_server: FakeOpenAIServer) -> None:
    result = extract(SPEC_TEXT, REFERENCE, base_url=fake_openai_server.base_url)
    assert result.extractor == "rules"
    assert result.parameters.markdown_checkpoint_week == 6
    assert fake_openai_server.requests == []


def test_extract_with_llm_uses_a_given_client_and_raises_with_a_fallback(fake_openai_server: FakeOpenAIServer) -> None:
    client = openai.OpenAI(api_key="test-key", base_url=fake_openai_server.base_url)
    fake_openai_server.script(FakeReply.answer(SPEC_ANSWER))
    assert extract_with_llm(SPEC_TEXT, REFERENCE, client=client, model="fake-model").extractor == "llm"

    fake_openai_server.script(FakeReply.error(400))
    with pytest.raises(LLMExtractionError) as failure:
        extract_with_llm(SPEC_TEXT, REFERENCE, client=client, model="fake-model", max_retries=0)
    assert failure.value.reason == "HTTP 400 from the model endpoint"
    assert failure.value.fallback.extractor == "rules"
    assert len(fake_openai_server.requests) == 2  # 400 is not retried

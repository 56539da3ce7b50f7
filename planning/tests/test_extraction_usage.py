"""Token usage is recorded by the server alone (issue: a client sent extraction_usage with
"abc" -> 500 and a half-created season; -5,000,000 tokens -> in the cost report). The extraction
records its own usage under an extraction id; a season names that id; a rejected request writes
nothing."""
import uuid
from datetime import date

import pytest
from django.test import Client

from agents.extraction import TokenUsage
from agents.extraction import extract_parameters as rules
from agents.parameters import ECONOMICS_FIELDS
from planning.models import Extraction, Season, SeasonEvent
from planning.services import extraction as extractions
from planning.services import report as reports
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import PARAMS

URL = "/api/workflows/forecast"
PARAMS_REFERENCE = date(2025, 1, 15)
TEXT = "12-week season starting March 1st. Weekly replenishment, 45% holdback. Markdown at week 6."


def start(api, parameters=None, **body):
    return api.post(URL, json={"category_id": "womens_dresses", "parameters": parameters or PARAMS, **body})


def nothing_written():
    return not Season.objects.exists() and not SeasonEvent.objects.exists()


@pytest.mark.parametrize("usage", [{"input_tokens": "abc"}, {"input_tokens": -5_000_000}, {"total_tokens": 15}])
def test_client_token_usage_is_refused_and_writes_nothing(seeded, planner_api, inline_jobs, usage):
    response = start(planner_api, {**PARAMS, "extraction_usage": usage})
    assert response.status_code == 422, response.content
    assert "parameters.extraction_usage" in response.json()["detail"]
    assert [e["field"] for e in response.json()["errors"]] == ["parameters.extraction_usage"]
    assert nothing_written()


@pytest.mark.parametrize(("key", "value", "message"), [
    ("colour", "red", "unknown parameter"),
    ("confidence", 5, "expected a string"),
    ("confidence", "certain", "one of high, medium, low"),
    ("extractor", "gpt", "one of rules, llm"),
    ("user_input", {"text": "x"}, "expected a string"),
    ("user_input", "x" * 1001, "at most 1000 characters"),
    ("missing", "forecast_horizon_weeks", "a list of parameter names"),
    ("missing", ["colour"], "a list of parameter names"),
])
def test_bad_parameter_keys_and_metadata_are_422_naming_them(seeded, planner_api, inline_jobs, key, value, message):
    response = start(planner_api, {**PARAMS, key: value})
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"].startswith(f"parameters.{key}")
    assert nothing_written()
    # The service checks the same (the pages call it without the API's schema), in its own words.
    from planning.errors import Invalid
    from planning.services.season_start import season_parameters

    with pytest.raises(Invalid) as refused:
        season_parameters({**PARAMS, key: value})
    error = refused.value.errors[0]
    assert error["field"] == f"parameters.{key}" and error["message"].startswith(message)


def test_unknown_top_level_key_is_422(seeded, planner_api, inline_jobs):
    response = start(planner_api, token_usage={"total_tokens": 1})
    assert response.status_code == 422 and nothing_written()


def test_extraction_returns_an_id_and_records_its_usage(planner_api, planner):
    response = planner_api.post("/api/parameters/extract", json={"user_input": TEXT, "reference_date": "2025-01-15"})
    assert response.status_code == 200
    body = response.json()
    extraction = Extraction.objects.get(pk=body["extraction_id"])
    assert extraction.owner == planner and extraction.extractor == "rules" and extraction.user_input == TEXT
    answered = {k: v for k, v in body["parameters"].items() if v is not None or k not in ECONOMICS_FIELDS}
    assert extraction.parameters == answered and extraction.token_usage == {} and body["usage"] is None
    assert body["economics_stated"] == []  # the economics not stated are null in the answer, absent in the record


def test_llm_extraction_usage_is_recorded_by_the_server(planner_api, settings, monkeypatch):
    from dataclasses import replace

    from agents import llm_extraction

    def fake(text, reference_date, **kwargs):
        return replace(rules(text, reference_date), extractor="llm", usage=TokenUsage(120, 30, 150))

    settings.OPENAI_API_KEY = "sk-test"
    monkeypatch.setattr(llm_extraction, "extract", fake)
    body = planner_api.post("/api/parameters/extract", json={"user_input": TEXT}).json()
    assert body["usage"] == {"requests": 1, "input_tokens": 120, "output_tokens": 30, "total_tokens": 150}
    assert Extraction.objects.get(pk=body["extraction_id"]).token_usage == body["usage"]


def llm_extraction_of(user, tokens=(120, 30, 150)):
    """An extraction as the server records it after an LLM call."""
    result = rules(TEXT, PARAMS_REFERENCE)
    return Extraction.objects.create(
        owner=user, user_input=TEXT, reference_date=PARAMS_REFERENCE, extractor="llm", confidence=result.confidence,
        reasoning=result.reasoning, missing=list(result.missing), parameters=result.parameters.model_dump(mode="json"),
        token_usage=dict(zip(extractions.USAGE_KEYS, (1, *tokens))))


def test_a_season_started_from_an_extraction_is_billed_its_tokens_once(seeded, planner, planner_api, inline_jobs,
                                                                         fit_memo):
    extraction = llm_extraction_of(planner)
    response = start(planner_api, {**PARAMS, "confidence": "low", "user_input": "forged"},
                     extraction_id=str(extraction.pk))
    assert response.status_code == 201, response.json()
    season = Season.objects.get(pk=response.json()["workflow_id"])
    extraction.refresh_from_db()
    assert extraction.season == season
    assert season.current_run.token_usage["by_step"]["extraction"] == {"requests": 1, "input_tokens": 120, "output_tokens": 30,
                                                           "total_tokens": 150}
    # The record, not the client, describes where the parameters came from.
    assert season.parameters["user_input"] == TEXT and season.parameters["extractor"] == "llm"
    assert season.parameters["confidence"] == extraction.confidence
    # The same extraction cannot bill a second season.
    again = start(planner_api, extraction_id=str(extraction.pk))
    assert again.status_code == 409 and Season.objects.count() == 1


def test_season_report_counts_the_extraction_tokens(seeded, planner, planner_api, inline_jobs, fit_memo):
    extraction = llm_extraction_of(planner, tokens=(1_000, 200, 1_200))
    season = Season.objects.get(pk=start(planner_api, extraction_id=str(extraction.pk)).json()["workflow_id"])
    llm = reports.season_report(season)["llm"]
    assert (llm["input_tokens"], llm["output_tokens"], llm["total_tokens"]) == (1_000, 200, 1_200)


@pytest.mark.parametrize(("make_id", "status"), [
    (lambda planner, other: str(uuid.uuid4()), 404),
    (lambda planner, other: "not-a-uuid", 422),
    (lambda planner, other: str(llm_extraction_of(other).pk), 404),  # another planner's extraction
])
def test_bad_extraction_ids_write_nothing(seeded, planner, planner_api, django_user_model, inline_jobs, make_id,
                                          status):
    other = django_user_model.objects.create_user("other-planner")
    response = start(planner_api, extraction_id=make_id(planner, other))
    assert response.status_code == status, response.content
    assert nothing_written() and not Extraction.objects.exclude(season=None).exists()


def test_a_rejected_season_leaves_the_extraction_unused(seeded, planner, planner_api, inline_jobs):
    extraction = llm_extraction_of(planner)
    response = start(planner_api, {**PARAMS, "forecast_horizon_weeks": 99}, extraction_id=str(extraction.pk))
    assert response.status_code == 422 and nothing_written()
    extraction.refresh_from_db()
    assert extraction.season is None


def test_the_new_season_page_links_the_season_to_its_extraction(seeded, planner, inline_jobs, fit_memo):
    client = Client()
    client.force_login(planner)
    card = client.post("/seasons/new/extract", {"user_input": TEXT, "reference_date": "2025-01-15"})
    assert card.status_code == 200
    extraction = Extraction.objects.get()
    assert f'name="extraction_id" value="{extraction.pk}"' in card.content.decode()
    form = {**{k: v for k, v in extraction.parameters.items() if v is not None}, "dc_holdback_percentage": "45",
            "markdown_threshold": "60", "category_id": "womens_dresses", "extraction_id": str(extraction.pk)}
    response = client.post("/seasons/new/confirm", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    extraction.refresh_from_db()
    assert extraction.season is not None and response["Location"].endswith(f"/seasons/{extraction.season_id}/")

"""POST /api/parameters/extract (SPEC §3)."""
import pytest

URL = "/api/parameters/extract"
VECTOR = ("12-week season starting March 1st. No replenishment, 0% holdback. "
          "Markdown at week 6 if below 60% sell-through.")


def test_spec_vector(planner_api):
    response = planner_api.post(URL, json={"user_input": VECTOR, "reference_date": "2025-01-15"})
    body = response.json()
    assert response.status_code == 200, body
    assert body["parameters"] == {
        "forecast_horizon_weeks": 12, "season_start_date": "2025-03-01", "season_end_date": "2025-05-23",
        "replenishment_strategy": "none", "dc_holdback_percentage": 0.0, "markdown_checkpoint_week": 6,
        "markdown_threshold": 0.6, "unit_price": None, "unit_cost": None, "salvage_value": None,
    }
    assert body["confidence"] == "high" and body["extractor"] == "rules" and body["missing"] == []
    assert body["economics_stated"] == []
    assert body["reasoning"] and body["usage"] is None


def test_nothing_recognisable_gives_defaults_with_low_confidence(planner_api):
    body = planner_api.post(URL, json={"user_input": "Standard season please", "reference_date": "2025-01-15"}).json()
    assert body["confidence"] == "low"
    assert body["parameters"]["forecast_horizon_weeks"] == 12
    assert body["parameters"]["season_start_date"] == "2025-01-20"  # first Monday strictly after
    assert body["parameters"]["replenishment_strategy"] == "weekly"
    assert body["parameters"]["dc_holdback_percentage"] == 0.45
    assert "forecast_horizon_weeks" in body["missing"]


def test_reference_date_defaults_to_today(planner_api):
    assert planner_api.post(URL, json={"user_input": "12 weeks from next Monday"}).status_code == 200


@pytest.mark.parametrize("text, field", [("A 100-week season starting March 1", "forecast_horizon_weeks"),
                                         ("12 weeks, 150% holdback", "dc_holdback_percentage")])
def test_explicit_out_of_range_is_422_naming_the_field(planner_api, text, field):
    response = planner_api.post(URL, json={"user_input": text, "reference_date": "2025-01-15"})
    assert response.status_code == 422
    assert field in response.json()["detail"] and response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
def test_empty_or_too_long_is_422(planner_api, text):
    response = planner_api.post(URL, json={"user_input": text})
    assert response.status_code == 422 and "user_input" in response.json()["detail"]


def test_bad_reference_date_is_422(planner_api):
    assert planner_api.post(URL, json={"user_input": "12 weeks", "reference_date": "15/01/2025"}).status_code == 422


def test_needs_planner(viewer_api, client):
    assert viewer_api.post(URL, json={"user_input": VECTOR}).status_code == 403
    assert client.post(URL, data={"user_input": VECTOR}, content_type="application/json").status_code == 401


def test_llm_extractor_used_when_a_key_is_set(planner_api, settings, monkeypatch):
    from agents import llm_extraction
    from agents.extraction import extract_parameters

    seen = {}

    def fake(text, reference_date, **kwargs):
        seen.update(kwargs)
        return extract_parameters(text, reference_date)

    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_MODEL = "gpt-4o-mini"
    monkeypatch.setattr(llm_extraction, "extract", fake)
    response = planner_api.post(URL, json={"user_input": VECTOR, "reference_date": "2025-01-15"})
    assert response.status_code == 200
    assert seen["api_key"] == "sk-test" and seen["model"] == "gpt-4o-mini" and seen["timeout"] > 0

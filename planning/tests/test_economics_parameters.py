"""The season's economics as parameters (SPEC §13, issue #15): through the API (extract, start,
read back), checked against the category's default price, and on the confirmation card."""
import re

import pytest
from django.test import Client

from mlpipeline.limits import MAX_UNIT_MONEY
from planning.forms import SeasonCardForm
from planning.models import Season
from planning.selectors.economics_defaults import card_economics
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)
from planning.tests.season_fixtures import PARAMS, priced

pytestmark = pytest.mark.django_db
URL = "/api/workflows/forecast"
HTMX = {"HX-Request": "true"}
CARD = {"forecast_horizon_weeks": "12", "season_start_date": "2025-03-01", "replenishment_strategy": "weekly",
        "dc_holdback_percentage": "45", "markdown_checkpoint_week": "", "markdown_threshold": "",
        "confidence": "high", "reasoning": "stated", "extractor": "rules", "user_input": "12 weeks"}


def start(api, json_body=None, **economics):
    return api.post(URL, json=json_body or {"category_id": "womens_dresses", "parameters": {**PARAMS, **economics}})


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


# --- API -----------------------------------------------------------------------------------------


def test_extract_returns_the_stated_economics_and_which_they_are(planner_api):
    body = planner_api.post("/api/parameters/extract", json={
        "user_input": "12 weeks from March 3, weekly, 45% holdback, $49 retail, $21 cost",
        "reference_date": "2025-01-15"}).json()
    assert body["parameters"]["unit_price"] == 49.0 and body["parameters"]["unit_cost"] == 21.0
    assert body["parameters"]["salvage_value"] is None
    assert body["economics_stated"] == ["unit_price", "unit_cost"]
    assert body["missing"] == ["markdown_checkpoint_week", "markdown_threshold"]


def test_extract_refuses_impossible_money_naming_the_field(planner_api):
    response = planner_api.post("/api/parameters/extract", json={"user_input": "$21 retail, $49 cost"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "unit_cost"


def test_a_season_started_with_economics_reads_them_back(seeded, planner_api, inline_jobs, fit_memo):
    response = start(planner_api, unit_price=49, unit_cost=21.5, salvage_value=5)
    assert response.status_code == 201, response.json()
    workflow_id = response.json()["workflow_id"]
    season = Season.objects.get(pk=workflow_id)
    assert (season.parameters["unit_price"], season.parameters["unit_cost"], season.parameters["salvage_value"]) == (
        49.0, 21.5, 5.0)
    status = planner_api.get(f"/api/workflows/{workflow_id}").json()
    assert status["status"] == "awaiting_approval", status["error"]
    assert {k: status["parameters"][k] for k in ("unit_price", "unit_cost", "salvage_value")} == {
        "unit_price": 49.0, "unit_cost": 21.5, "salvage_value": 5.0}


def test_a_season_without_economics_stores_exactly_what_it_did(seeded, planner_api, inline_jobs, fit_memo):
    response = start(planner_api, unit_price=None)  # null is the default, as leaving it out
    assert response.status_code == 201, response.json()
    season = Season.objects.get(pk=response.json()["workflow_id"])
    assert not {"unit_price", "unit_cost", "salvage_value"} & set(season.parameters)
    status = planner_api.get(f"/api/workflows/{season.pk}").json()
    assert status["status"] == "awaiting_approval"
    assert status["parameters"]["unit_price"] is None and status["parameters"]["forecast_horizon_weeks"] == 12


@pytest.mark.parametrize("economics, field", [
    ({"unit_price": "49"}, "unit_price"),
    ({"unit_cost": "cheap"}, "unit_cost"),
    ({"unit_price": True}, "unit_price"),
    ({"salvage_value": False}, "salvage_value"),
    ({"unit_price": -5}, "unit_price"),
    ({"unit_price": 0}, "unit_price"),
    ({"salvage_value": -1}, "salvage_value"),
    ({"unit_price": MAX_UNIT_MONEY * 2}, "unit_price"),
    ({"unit_cost": 1e308}, "unit_cost"),
    ({"unit_price": [49]}, "unit_price"),
    ({"unit_price": {"amount": 49}}, "unit_price"),
    ({"unit_price": 49, "unit_cost": 49}, "unit_cost"),  # cost == price
    ({"unit_cost": 20, "salvage_value": 20}, "salvage_value"),  # salvage == cost
    ({"unit_price": 49, "salvage_value": 49}, "salvage_value"),
    ({"unit_price": 49, "unit_cost": 5}, "unit_cost"),  # below the default salvage value 9.80
])
def test_bad_economics_are_422_naming_the_field(seeded, planner_api, inline_jobs, economics, field):
    response = start(planner_api, **economics)
    assert response.status_code == 422, response.json()
    assert response.json()["errors"][0]["field"] == f"parameters.{field}"
    assert field in response.json()["detail"]
    assert not Season.objects.exists()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_422(seeded, planner_api, inline_jobs, literal):
    body = '{"category_id": "womens_dresses", "parameters": {"season_start_date": "2025-03-01", "unit_price": %s}}'
    response = planner_api.post(URL, data=body % literal, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parameters.unit_price"
    assert not Season.objects.exists()


def test_a_cost_above_the_default_price_is_422(seeded, planner_api, inline_jobs):
    priced("womens_dresses")
    response = start(planner_api, unit_cost=45)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "parameters.unit_cost" and "40.00" in error["message"]
    assert "state the unit price" in error["message"]
    assert not Season.objects.exists()


def test_a_cost_below_the_default_price_starts(seeded, planner_api, inline_jobs, fit_memo):
    priced("womens_dresses")
    assert start(planner_api, unit_cost=15).status_code == 201


# --- the card ------------------------------------------------------------------------------------


def test_the_card_form_reads_the_economics_and_passes_only_the_set_ones():
    form = SeasonCardForm({**CARD, "unit_price": "49.90", "unit_cost": " ", "salvage_value": ""})
    assert form.is_valid(), form.errors
    parameters = form.parameters()
    assert parameters["unit_price"] == 49.9 and "unit_cost" not in parameters and "salvage_value" not in parameters
    blank = SeasonCardForm(CARD).parameters()
    assert not {"unit_price", "unit_cost", "salvage_value"} & set(blank)


@pytest.mark.parametrize("given, field, message", [
    ({"unit_price": "forty"}, "unit_price", "Enter an amount"),
    ({"unit_price": "nan"}, "unit_price", "Enter an amount"),
    ({"unit_price": "0"}, "unit_price", "must be more than 0"),
    ({"unit_price": "-3"}, "unit_price", "must be more than 0"),
    ({"unit_price": "30", "unit_cost": "30"}, "unit_cost", "must be below the unit price 30.00"),
    ({"unit_cost": "10", "salvage_value": "10"}, "salvage_value", "must be below the unit cost 10.00"),
    ({"salvage_value": "2000000"}, "salvage_value", "at most"),
])
def test_the_card_shows_a_bad_amount_next_to_its_field(given, field, message):
    form = SeasonCardForm({**CARD, **given})
    errors = form.field_errors()
    assert list(errors) == [field] and message in errors[field]
    assert form.card()[field] == given[field]  # shown again as typed


def test_card_defaults_come_from_the_history_and_its_shares(seeded):
    priced("womens_dresses")
    price, cost, salvage = card_economics("womens_dresses", "2025-03-01", {})
    assert price.default == pytest.approx(40.0) and not price.stated
    assert cost.default == pytest.approx(18.0) and salvage.default == pytest.approx(8.0)
    assert "revenue / units over the last 52 weeks" in price.default_text
    _, cost, _ = card_economics("womens_dresses", "2025-03-01", {"unit_price": 50.0})
    assert cost.default == pytest.approx(22.5)  # the shares follow the planner's price
    price, cost, _ = card_economics("", "2025-03-01", {})
    assert price.default is None and "choose the category" in price.default_text and cost.default is None


def test_a_category_without_revenue_says_the_price_is_not_known(seeded):
    price, cost, _ = card_economics("womens_dresses", "2025-03-01", {})
    assert price.default is None and price.default_text == "not known (no revenue in the category's history): set it"
    assert cost.default_text == "0.45 x the unit price"


def test_the_card_shows_the_economics_marked_default_with_their_values(seeded, planner):
    priced("womens_dresses")
    response = signed_in(planner).post("/seasons/new/check", {**CARD, "category_id": "womens_dresses",
                                                              "unit_cost": "15"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'class="param defaulted">\s*<label for="unit_price">Unit price<span class="tag">default',
                     html)
    assert "Default: 40.00 (the category&#x27;s revenue / units over the last 52 weeks of history)." in html
    assert re.search(r'id="unit_cost"[^>]*value="15"', html, re.S)
    assert not re.search(r'defaulted">\s*<label for="unit_cost"', html)  # set by the planner
    assert "Default: 8.00 (0.2 x the unit price)." in html  # salvage


def test_checking_the_card_tests_the_cost_against_the_default_price(seeded, planner):
    priced("womens_dresses")
    response = signed_in(planner).post("/seasons/new/check", {**CARD, "category_id": "womens_dresses",
                                                              "unit_cost": "45"}, headers=HTMX)
    assert response.status_code == 422
    assert re.search(r'id="unit_cost-error">must be below the unit price 40.00', response.content.decode())


def test_confirm_and_run_with_economics(seeded, planner, inline_jobs, fit_memo):
    response = signed_in(planner).post("/seasons/new/confirm", {
        **CARD, "category_id": "womens_dresses", "unit_price": "49", "unit_cost": "21", "salvage_value": ""})
    season = Season.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert season.parameters["unit_price"] == 49.0 and season.parameters["unit_cost"] == 21.0
    assert "salvage_value" not in season.parameters

"""Seasons list and the new-season flow: extract -> confirmation card -> confirm & run."""
import re

import pytest
from django.test import Client

from planning.models import Season
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
VECTOR = ("12-week season starting March 1st. No replenishment, 0% holdback. "
          "Markdown at week 6 if below 60% sell-through.")


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def card_values(**overrides):
    values = {
        "forecast_horizon_weeks": "12", "season_start_date": "2025-03-01", "replenishment_strategy": "none",
        "dc_holdback_percentage": "0", "markdown_checkpoint_week": "6", "markdown_threshold": "60",
        "confidence": "high", "reasoning": "stated", "extractor": "rules", "user_input": VECTOR,
    }
    return {**values, **overrides}


def test_planner_sees_the_seasons_and_the_new_season_button(planner):
    page = signed_in(planner).get("/")
    assert page.status_code == 200
    assert b'href="/seasons/new/"' in page.content


def test_viewer_sees_the_seasons_without_the_new_season_button(viewer):
    page = signed_in(viewer).get("/")
    assert page.status_code == 200
    assert b"New season" not in page.content


def test_new_season_page_has_the_text_box_and_extract(planner, demo_stores):
    page = signed_in(planner).get("/seasons/new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-post="/seasons/new/extract"' in html and 'name="user_input"' in html
    assert "csrfmiddlewaretoken" in html


def test_extract_answers_with_the_confirmation_card(planner, demo_stores):
    response = signed_in(planner).post(
        "/seasons/new/extract", {"user_input": VECTOR, "reference_date": "2025-01-15"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment
    assert "Confidence: high" in html
    assert re.search(r'id="forecast_horizon_weeks"[^>]*value="12"', html, re.S)
    assert re.search(r'id="season_start_date"[^>]*value="2025-03-01"', html, re.S)
    assert re.search(r'<option value="none" selected>', html)
    assert re.search(r'id="dc_holdback_percentage"[^>]*value="0"', html, re.S)
    assert re.search(r'id="markdown_checkpoint_week"[^>]*value="6"', html, re.S)
    assert re.search(r'id="markdown_threshold"[^>]*value="60"', html, re.S)
    assert "2025-05-23" in html  # derived end date
    assert html.count('class="param defaulted"') == 3  # only the economics, which the text did not state
    assert not re.search(r'defaulted">\s*<label for="(?!unit_price|unit_cost|salvage_value)', html)
    assert "Women&#x27;s Dresses" in html  # category picker


def test_extract_highlights_the_defaulted_fields(planner, demo_stores):
    response = signed_in(planner).post(
        "/seasons/new/extract", {"user_input": "Standard season please", "reference_date": "2025-01-15"},
        headers=HTMX)
    html = response.content.decode()
    assert "Confidence: low" in html
    assert html.count('class="param defaulted"') == 6 + 3  # every field a planner states, and the economics
    assert html.count('name="missing"') == 6
    assert "Defaults used" in html


def test_extract_names_an_out_of_range_field(planner, demo_stores):
    response = signed_in(planner).post(
        "/seasons/new/extract", {"user_input": "A 100-week season", "reference_date": "2025-01-15"},
        headers=HTMX)
    assert response.status_code == 422
    assert "Forecast horizon (weeks)" in response.content.decode()


def test_empty_text_is_refused(planner, demo_stores):
    response = signed_in(planner).post("/seasons/new/extract", {"user_input": " "}, headers=HTMX)
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()


def test_checking_the_card_derives_the_end_date(planner, demo_stores):
    response = signed_in(planner).post(
        "/seasons/new/check", card_values(forecast_horizon_weeks="10"), headers=HTMX)
    assert response.status_code == 200
    assert "2025-05-09" in response.content.decode()


def test_checking_the_card_shows_a_bad_value_next_to_its_field(planner, demo_stores):
    response = signed_in(planner).post(
        "/seasons/new/check", card_values(forecast_horizon_weeks="60"), headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="forecast_horizon_weeks-error"' in html and "at most 52" in html
    assert re.search(r'id="forecast_horizon_weeks"[^>]*aria-invalid="true"', html, re.S)


def test_confirm_and_run_starts_the_season(seeded, planner, inline_jobs, fit_memo):
    response = signed_in(planner).post(
        "/seasons/new/confirm",
        {**card_values(replenishment_strategy="weekly", dc_holdback_percentage="45", markdown_threshold=""),
         "category_id": "womens_dresses", "missing": ["markdown_threshold"]})
    season = Season.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/seasons/{season.pk}/"
    assert season.owner == planner
    assert season.status == "awaiting_approval"
    assert season.parameters["dc_holdback_percentage"] == 0.45
    assert season.parameters["markdown_threshold"] == 0.60
    assert season.parameters["confidence"] == "high"
    assert season.parameters["missing"] == ["markdown_threshold"]


def test_confirm_without_a_category_asks_for_one(planner, demo_stores):
    response = signed_in(planner).post("/seasons/new/confirm", card_values())
    assert response.status_code == 422
    assert "Choose the category to plan." in response.content.decode()
    assert not Season.objects.exists()


def test_extract_refuses_a_reference_date_that_is_not_a_date(planner, demo_stores):
    response = signed_in(planner).post(
        "/seasons/new/extract", {"user_input": VECTOR, "reference_date": "15/01/2025"}, headers=HTMX)
    assert response.status_code == 422
    assert "Use a date like 2025-01-15." in response.content.decode()


def test_checking_the_card_asks_for_the_required_fields(planner, demo_stores):
    response = signed_in(planner).post(
        "/seasons/new/check", card_values(dc_holdback_percentage=" ", forecast_horizon_weeks="twelve"), headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r'id="dc_holdback_percentage-error">Required\.<', html)
    assert re.search(r'id="forecast_horizon_weeks-error">Enter a number\.<', html)
    assert re.search(r'id="forecast_horizon_weeks"[^>]*value="twelve"', html, re.S)  # shown as typed


def test_confirm_with_a_broken_extraction_id_says_so_at_the_top(planner, demo_stores):
    response = signed_in(planner).post(
        "/seasons/new/confirm", {**card_values(), "category_id": "womens_dresses", "extraction_id": "x"})
    assert response.status_code == 422
    assert "extraction_id: expected the id the extraction returned" in response.content.decode()
    assert not Season.objects.exists()


def test_viewers_cannot_use_the_new_season_flow(viewer, demo_stores):
    client = signed_in(viewer)
    assert client.get("/seasons/new/").status_code == 403
    for path in ("/seasons/new/extract", "/seasons/new/check", "/seasons/new/confirm"):
        response = client.post(path, card_values(category_id="womens_dresses"), headers=HTMX)
        assert response.status_code == 403
        assert b"Only planners" in response.content and b"<html" not in response.content
    assert not Season.objects.exists()


def test_forms_need_the_csrf_token(planner, demo_stores):
    client = Client(enforce_csrf_checks=True)
    client.force_login(planner)
    response = client.post("/seasons/new/extract", {"user_input": VECTOR}, headers=HTMX)
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(demo_stores):
    response = Client().get("/seasons/new/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")

"""The business limits are defined once (mlpipeline.limits) and every layer uses them: the math,
the API's schemas, the agents' guardrails and the pages' inputs."""
import pytest
from django.test import Client

from mlpipeline import limits
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import start_season


def test_the_api_documents_the_limits(client, db):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    manufacturing = schemas["ManufacturingApprovalIn"]["properties"]["safety_stock_pct"]["anyOf"][0]
    markdown = schemas["MarkdownApprovalIn"]["properties"]["elasticity_coefficient"]["anyOf"][0]
    horizon = schemas["SeasonParametersIn"]["properties"]["forecast_horizon_weeks"]
    assert (manufacturing["minimum"], manufacturing["maximum"]) == limits.SAFETY_STOCK_RANGE
    assert (markdown["minimum"], markdown["maximum"]) == limits.ELASTICITY_RANGE
    assert (horizon["minimum"], horizon["maximum"]) == (limits.MIN_HORIZON_WEEKS, limits.MAX_HORIZON_WEEKS)


@pytest.mark.django_db
def test_the_pages_inputs_use_the_limits(seeded, planner, inline_jobs, fit_memo):
    season = start_season(planner)
    client = Client()
    client.force_login(planner)
    page = client.get(f"/seasons/{season.pk}/").content.decode()
    low, high = (round(bound * 100) for bound in limits.SAFETY_STOCK_RANGE)
    assert f'id="safety_stock_pct" name="safety_stock_pct" type="number" min="{low}" max="{high}"' in page
    card = client.post("/seasons/new/extract", {"user_input": "12 weeks from March 1", "reference_date": "2025-01-15"})
    assert f'max="{limits.MAX_HORIZON_WEEKS}"' in card.content.decode()

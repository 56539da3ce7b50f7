"""The stock position on the season page, the report page and the variance export: a season
selling far below plan shows an over-stock review, one selling far above plan with too little
stock shows the emergency order (SPEC §2)."""
import pytest
from django.test import Client

from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)
from planning.tests.test_season_loop import scaled_week

pytestmark = pytest.mark.django_db


def pages(season, user):
    client = Client()
    client.force_login(user)
    season_page = client.get(f"/seasons/{season.pk}/").content.decode()
    report = client.get(f"/seasons/{season.pk}/report/").content.decode()
    forecast_id = season.forecasts.order_by("version").first().pk
    export = client.get(f"/api/exports/variance/{forecast_id}.csv").content.decode()
    return season_page, report, export


def test_a_collapse_shows_an_overstock_review_and_no_order(planned_season, planner):
    result = upload_week(planned_season, 1, scaled_week(planned_season, 1, 0.25), user=planner)
    at_risk = result["overstock_review"]["at_risk"]
    season_page, report, export = pages(planned_season, planner)
    assert "Over-stock review:" in season_page and f"{at_risk:,} units of the stock" in season_page
    assert "Emergency order" not in season_page
    assert f"Over-stock review: {at_risk:,} at risk" in report and "Emergency order" not in report
    header, row = export.splitlines()[:2]
    assert "stock_alert,units_at_risk" in header and f",overstock_review,{at_risk}," in row


def test_selling_far_above_plan_shows_the_emergency_order(planned_season, planner):
    """Two weeks at 3x plan (one such week may be an odd one; two make a lasting rise)."""
    upload_week(planned_season, 1, scaled_week(planned_season, 1, 3.0), user=planner)
    result = upload_week(planned_season, 2, scaled_week(planned_season, 2, 3.0), user=planner)
    shortage = result["emergency_order"]["shortage"]
    season_page, report, export = pages(planned_season, planner)
    assert "Emergency order alert:" in season_page and f"{shortage:,} units more than all the stock" in season_page
    assert f"Emergency order: shortage {shortage:,}" in report and "Over-stock review" not in report
    assert f",yes,{shortage},emergency_order,," in export.splitlines()[2]

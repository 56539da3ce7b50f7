"""The manufacturing approval in money (SPEC §13): what the proposed buy is worth, the newsvendor
buy beside it, the same for a previewed safety stock, and what the accept recorded."""
import pytest
from django.test import Client

from planning.models import Approval
from planning.services import approvals
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)
from planning.tests.season_fixtures import start_season

pytestmark = pytest.mark.django_db
MONEY = ("unit_price", "unit_cost", "salvage_value", "service_level", "newsvendor_buy_quantity",
         "stockout_probability", "expected_leftover_units", "expected_gross_margin")


def test_the_approval_data_carries_the_money_of_the_proposed_buy(at_order, planner_api):
    data = planner_api.get(f"/api/workflows/{at_order.pk}").json()["pending_approval"]["data"]
    assert all(data[key] is not None for key in MONEY)
    assert data["unit_price"] == pytest.approx(40.0) and data["unit_cost"] == pytest.approx(18.0)
    assert data["economics_defaults"] == ["unit_price", "unit_cost", "salvage_value"]
    assert data["service_level"] == pytest.approx(22 / 32, abs=1e-4)
    assert 0 < data["stockout_probability"] < 0.5  # 20% safety stock over the forecast
    assert data["demand_p10"] < data["forecast_total"] < data["demand_p90"]
    # The newsvendor buy is the critical-ratio quantile: above the median at a service level > 1/2.
    assert data["newsvendor_buy_quantity"] > data["demand_median"]


def test_a_preview_states_the_money_at_its_safety_stock_and_the_accept_records_it(at_order, planner):
    low = approvals.approve_manufacturing(at_order.pk, "modify", 0.10, user=planner)["money"]
    high = approvals.approve_manufacturing(at_order.pk, "modify", 0.30, user=planner)["money"]
    assert high["stockout_probability"] < low["stockout_probability"]
    assert high["expected_leftover_units"] > low["expected_leftover_units"]
    assert high["newsvendor_buy_quantity"] == low["newsvendor_buy_quantity"]  # the buy changed, not demand
    approvals.approve_manufacturing(at_order.pk, "accept", 0.30, user=planner)
    accepted = Approval.objects.get(season=at_order, action="accept")
    assert accepted.values["money"]["expected_gross_margin"] == high["expected_gross_margin"]
    message = at_order.events.filter(payload__message__startswith="Manufacturing order accepted").get()
    assert "expected gross margin" in message.payload["message"]


def test_the_panel_shows_the_money_view(at_order, planner):
    client = Client()
    client.force_login(planner)
    page = client.get(f"/seasons/{at_order.pk}/").content.decode()
    assert "Expected gross margin" in page and "Newsvendor buy" in page and "(default: history)" in page


def test_without_a_price_the_money_fields_are_empty_and_say_why(seeded, planner, inline_jobs, fit_memo, planner_api):
    season = start_season(planner)
    data = planner_api.get(f"/api/workflows/{season.pk}").json()["pending_approval"]["data"]
    assert all(data[key] is None for key in MONEY) and "unit_price" in data["money_note"]
    client = Client()
    client.force_login(planner)
    assert "No unit price" in client.get(f"/seasons/{season.pk}/").content.decode()


def test_after_the_accept_the_pricing_step_prices_the_markdown_rule_on_the_order(at_order, planner):
    approvals.approve_manufacturing(at_order.pk, "accept", 0.25, user=planner)
    at_order.refresh_from_db()
    worth = at_order.current_run.outputs["pricing"]["markdown_worth"]
    assert worth["with_rule"]["manufacturing_qty"] == at_order.allocation.manufacturing_qty
    assert worth["checkpoint_week"] == at_order.parameters["markdown_checkpoint_week"]
    completed = at_order.events.filter(type="agent_completed", payload__step="pricing").get().payload
    assert "In money" in completed["result"]["summary"]

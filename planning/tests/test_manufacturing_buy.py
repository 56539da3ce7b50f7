"""The manufacturing approval by an explicit quantity or by a saved scenario (SPEC §13): the buy
within 0.5x..2x forecast demand, the allocation as the engine makes it for that quantity, and the
accepted scenario's plan and record."""
import pytest

from planning.models import Allocation, Approval
from planning.services import approvals, scenarios
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)
from planning.tests.test_scenarios_api import at_markdown  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def demand_of(season):
    return Allocation.objects.get(season=season).demand_units


def test_an_explicit_quantity_is_previewed_and_accepted_as_the_buy(at_order, planner, planner_api):
    qty = round(demand_of(at_order) * 1.07)
    preview = planner_api.post("/api/approvals/manufacturing", {
        "workflow_id": str(at_order.pk), "action": "modify", "manufacturing_qty": qty}, content_type="application/json")
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["order"]["manufacturing_qty"] == qty and body["order"]["buy_basis"] == "quantity"
    assert body["order"]["initial_allocation"] + body["order"]["holdback"] == qty
    assert body["money"]["expected_gross_margin"] is not None
    accepted = planner_api.post("/api/approvals/manufacturing", {
        "workflow_id": str(at_order.pk), "action": "accept", "manufacturing_qty": qty}, content_type="application/json")
    assert accepted.status_code == 200, accepted.content
    allocation = Allocation.objects.get(season=at_order)
    assert (allocation.manufacturing_qty, allocation.buy_basis) == (qty, "quantity")
    assert allocation.safety_stock_pct == pytest.approx(qty / allocation.demand_units - 1)
    assert sum(allocation.stores.values_list("initial_qty", flat=True)) == allocation.initial_qty
    replay = planner_api.post("/api/approvals/manufacturing", {
        "workflow_id": str(at_order.pk), "action": "accept", "manufacturing_qty": qty}, content_type="application/json")
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    other = planner_api.post("/api/approvals/manufacturing", {
        "workflow_id": str(at_order.pk), "action": "accept", "manufacturing_qty": qty + 1},
        content_type="application/json")
    assert other.status_code == 409


@pytest.mark.parametrize("factor", [0.49, 2.01])
def test_a_quantity_outside_half_to_twice_demand_is_a_422_naming_it(at_order, planner_api, factor):
    qty = int(demand_of(at_order) * factor)
    answer = planner_api.post("/api/approvals/manufacturing", {
        "workflow_id": str(at_order.pk), "action": "modify", "manufacturing_qty": qty}, content_type="application/json")
    assert answer.status_code == 422 and "manufacturing_qty" in answer.content.decode()
    assert Allocation.objects.get(season=at_order).buy_basis == "safety_stock"


@pytest.mark.parametrize("body", [
    {"manufacturing_qty": 9000, "safety_stock_pct": 0.2},
    {"manufacturing_qty": "9000"},
    {"manufacturing_qty": 9000.5},
    {"manufacturing_qty": True},
    {"comparison_id": 1},
    {"scenario": "lean"},
])
def test_malformed_buys_are_422(at_order, planner_api, body):
    answer = planner_api.post("/api/approvals/manufacturing", {
        "workflow_id": str(at_order.pk), "action": "modify", **body}, content_type="application/json")
    assert answer.status_code == 422, answer.content


def test_accepting_a_scenario_makes_its_buy_and_plan_the_seasons_and_records_it(at_order, planner):
    demand = demand_of(at_order)
    comparison = scenarios.compare(at_order.pk, [
        {"name": "proposed"},
        {"name": "lean", "manufacturing_qty": round(demand * 1.05), "dc_holdback_percentage": 0.30,
         "replenishment_strategy": "bi-weekly"},
    ], paths=200, seed=3, user=planner)
    approvals.approve_manufacturing(at_order.pk, "accept", comparison_id=comparison.pk, scenario="lean", user=planner)
    at_order.refresh_from_db()
    allocation = Allocation.objects.get(season=at_order)
    assert allocation.manufacturing_qty == round(demand * 1.05) and allocation.holdback_pct == 0.30
    assert at_order.parameters["dc_holdback_percentage"] == 0.30
    assert at_order.parameters["replenishment_strategy"] == "bi-weekly"
    record = Approval.objects.get(season=at_order, action="accept").values
    assert record["scenario"]["comparison_id"] == comparison.pk and record["scenario"]["name"] == "lean"
    assert record["scenario"]["expected_gross_margin"] is not None
    event = at_order.events.get(payload__message__startswith="Manufacturing order accepted").payload["message"]
    assert "scenario 'lean'" in event


def test_a_scenario_of_another_season_or_name_is_refused(at_order, planner):
    comparison = scenarios.compare(at_order.pk, [{"name": "proposed"}], paths=100, user=planner)
    with pytest.raises(Exception) as missing:
        approvals.approve_manufacturing(at_order.pk, "modify", comparison_id=comparison.pk, scenario="nope",
                                        user=planner)
    assert missing.value.status == 422
    with pytest.raises(Exception) as unknown:
        approvals.approve_manufacturing(at_order.pk, "modify", comparison_id=comparison.pk + 99, scenario="proposed",
                                        user=planner)
    assert unknown.value.status == 404


def test_accepting_a_markdown_scenario_applies_its_depth_and_records_it(at_markdown, planner, planner_api):
    comparison = scenarios.compare(at_markdown.pk, [{"name": "none", "markdown_pct": 0.0},
                                                    {"name": "deep", "markdown_pct": 0.30}], paths=200, user=planner)
    preview = planner_api.post("/api/approvals/markdown", {
        "workflow_id": str(at_markdown.pk), "action": "modify", "comparison_id": comparison.pk, "scenario": "deep"},
        content_type="application/json")
    assert preview.status_code == 200, preview.content
    assert preview.json()["markdown"]["recommended_markdown_pct"] == 0.30
    assert preview.json()["markdown"]["expected_lift"] == pytest.approx(0.45)
    both = planner_api.post("/api/approvals/markdown", {
        "workflow_id": str(at_markdown.pk), "action": "modify", "comparison_id": comparison.pk, "scenario": "deep",
        "elasticity_coefficient": 2.0}, content_type="application/json")
    assert both.status_code == 422
    approvals.approve_markdown(at_markdown.pk, "accept", comparison_id=comparison.pk, scenario="deep", user=planner)
    decision = at_markdown.markdowns.get()
    assert (decision.status, decision.markdown_pct, decision.expected_lift) == ("accepted", 0.30, pytest.approx(0.45))
    record = Approval.objects.get(season=at_markdown, kind="markdown", action="accept").values
    assert record["scenario"]["name"] == "deep" and record["scenario"]["comparison_id"] == comparison.pk
    replay = approvals.approve_markdown(at_markdown.pk, "accept", comparison_id=comparison.pk, scenario="deep",
                                        user=planner)
    assert replay["replayed"] is True


def test_the_panel_form_accepts_a_quantity_or_a_scenario(at_order, planner):
    from django.test import Client

    client = Client()
    client.force_login(planner)
    url = f"/seasons/{at_order.pk}/manufacturing"
    qty = round(demand_of(at_order) * 1.1)
    preview = client.post(url, {"action": "modify", "manufacturing_qty": str(qty)}, HTTP_HX_REQUEST="true")
    assert preview.status_code == 200 and f"{qty:,}" in preview.content.decode()
    assert "your quantity" in preview.content.decode()
    half = client.post(url, {"action": "modify", "scenario": "lean"}, HTTP_HX_REQUEST="true")
    assert half.status_code == 422 and "a scenario needs its comparison" in half.content.decode()
    comparison = scenarios.compare(at_order.pk, [{"name": "lean", "manufacturing_qty": qty}], paths=100, user=planner)
    accepted = client.post(url, {"action": "accept", "comparison_id": str(comparison.pk), "scenario": "lean"},
                           HTTP_HX_REQUEST="true")
    assert accepted.status_code == 200, accepted.content.decode()[:500]
    assert Allocation.objects.get(season=at_order).manufacturing_qty == qty


def test_the_markdown_approval_compares_depths_in_money(at_markdown):
    comparison = at_markdown.scenario_comparisons.get(kind="markdown")
    decision = at_markdown.markdowns.get()
    depths = sorted(r["settings"]["markdown_pct"] for r in comparison.results)
    assert 0.0 in depths and decision.markdown_pct in depths and len(depths) >= 3
    assert comparison.week == decision.week and comparison.recommended in {r["name"] for r in comparison.results}
    event = at_markdown.events.get(payload__message__startswith="Markdown in money").payload
    assert event["comparison_id"] == comparison.pk and "Highest expected margin" in event["message"]


def test_the_markdown_panel_names_the_accepted_scenario(at_markdown, planner):
    from django.test import Client

    comparison = at_markdown.scenario_comparisons.get(kind="markdown")
    name = next(r["name"] for r in comparison.results if r["settings"]["markdown_pct"] == 0.0)
    client = Client()
    client.force_login(planner)
    url = f"/seasons/{at_markdown.pk}/markdown"
    preview = client.post(url, {"action": "modify", "comparison_id": str(comparison.pk), "scenario": name},
                          HTTP_HX_REQUEST="true").content.decode()
    assert f"scenario “{name}”" in preview
    approvals.approve_markdown(at_markdown.pk, "accept", comparison_id=comparison.pk, scenario=name, user=planner)
    page = client.get(f"/seasons/{at_markdown.pk}/").content.decode()
    assert f"markdown = scenario “{name}” of comparison {comparison.pk} = 0%" in page
    assert "sell-through met the target" not in page and "Accepted</strong>" in page


def test_a_preview_without_a_buy_names_every_way_to_give_one(at_order, planner_api):
    answer = planner_api.post("/api/approvals/manufacturing", {"workflow_id": str(at_order.pk), "action": "modify"},
                              content_type="application/json")
    assert answer.status_code == 422
    assert "A safety_stock_pct, a manufacturing_qty or a scenario" in answer.json()["detail"]

"""The workflow REST endpoints: start, status, results, events, re-forecast, permissions, debug."""
import uuid

import pytest

from agents.season_tools import whole_units
from mlpipeline.allocation import manufacturing_quantity
from planning.models import Forecast, Run, Season
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import PARAMS

URL = "/api/workflows/forecast"


def start(api, **overrides):
    body = {"category_id": "womens_dresses", "parameters": {**PARAMS, **overrides}}
    return api.post(URL, json=body)


def test_start_forecast_returns_201_and_runs(seeded, planner_api, inline_jobs, fit_memo):
    response = start(planner_api)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["websocket_url"] == f"ws://testserver/api/workflows/{body['workflow_id']}/stream"
    status = planner_api.get(f"/api/workflows/{body['workflow_id']}").json()
    assert status["status"] == "awaiting_approval" and status["type"] == "forecast"
    assert status["current_agent"] == "inventory" and status["progress_pct"] == 70
    pending = status["pending_approval"]
    assert pending["action"] == "approve_manufacturing_order" and pending["options"] == ["modify", "accept"]
    assert pending["data"]["manufacturing_qty"] > 0 and pending["data"]["safety_stock_pct"] == 0.2
    assert status["parameters"]["season_end_date"] == "2025-05-23" and status["started_at"]


def test_start_forecast_keeps_extraction_metadata(seeded, planner_api, inline_jobs, fit_memo):
    response = start(planner_api, confidence="high", reasoning="stated", user_input="12-week season")
    workflow = Season.objects.get(pk=response.json()["workflow_id"])
    assert workflow.parameters["confidence"] == "high" and workflow.parameters["user_input"] == "12-week season"
    assert "extraction" not in (workflow.current_run.token_usage.get("by_step") or {})  # the client cannot bill tokens


def test_start_forecast_unknown_category_is_404(seeded, planner_api, inline_jobs):
    response = planner_api.post(URL, json={"category_id": "nope", "parameters": PARAMS})
    assert response.status_code == 404 and "nope" in response.json()["detail"]


@pytest.mark.parametrize("field, value", [
    ("forecast_horizon_weeks", 100), ("dc_holdback_percentage", 1.5), ("replenishment_strategy", "daily"),
    ("markdown_checkpoint_week", 20), ("season_end_date", "2025-06-01"), ("weighting", "vibes"),
])
def test_start_forecast_invalid_parameter_is_422_naming_it(seeded, planner_api, inline_jobs, field, value):
    response = start(planner_api, **{field: value})
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == f"parameters.{field}"
    assert not Season.objects.exists()


def test_start_forecast_needs_a_start_date(seeded, planner_api, inline_jobs):
    response = planner_api.post(URL, json={"category_id": "womens_dresses", "parameters": {"forecast_horizon_weeks": 12}})
    assert response.status_code == 422 and "season_start_date" in response.json()["detail"]


def test_insufficient_history_is_422(demo_stores, planner_api, inline_jobs):
    from planning.tests.season_fixtures import seed_history

    seed_history(weeks=6)
    response = start(planner_api, season_start_date="2025-01-04")
    assert response.status_code == 422 and "Insufficient history" in response.json()["detail"]


def test_viewer_reads_but_cannot_run(seeded, planner_api, viewer_api, inline_jobs, fit_memo):
    assert start(viewer_api).status_code == 403
    workflow_id = start(planner_api).json()["workflow_id"]
    assert viewer_api.get(f"/api/workflows/{workflow_id}").status_code == 200
    assert viewer_api.get(f"/api/workflows/{workflow_id}/events").status_code == 200
    approve = viewer_api.post("/api/approvals/manufacturing", json={"workflow_id": workflow_id, "action": "accept"})
    assert approve.status_code == 403


def test_anonymous_is_401(client):
    assert client.get(f"/api/workflows/{uuid.uuid4()}").status_code == 401


def test_unknown_workflow_is_404(planner_api):
    response = planner_api.get(f"/api/workflows/{uuid.uuid4()}")
    assert response.status_code == 404 and response.json()["detail"].startswith("Unknown workflow")


def test_results_409_until_completed_then_the_plan(seeded, planner_api, inline_jobs, fit_memo):
    workflow_id = start(planner_api).json()["workflow_id"]
    early = planner_api.get(f"/api/workflows/{workflow_id}/results")
    assert early.status_code == 409 and "awaiting_approval" in early.json()["detail"]
    planner_api.post("/api/approvals/manufacturing", json={"workflow_id": workflow_id, "action": "accept"})
    results = planner_api.get(f"/api/workflows/{workflow_id}/results").json()
    assert results["status"] == "completed" and results["phase"] == "in_season"
    assert len(results["forecast"]["weekly_demand_curve"]) == 12 and results["forecast"]["forecasting_method"]
    assert set(results["forecast"]["model_totals"]) >= {"prophet", "arima", "seasonal_naive"}
    assert [c["cluster_id"] for c in results["clusters"]["distribution"]] == ["fashion_forward", "mainstream",
                                                                              "value_conscious"]
    allocation = results["allocation"]
    assert allocation["status"] == "accepted" and len(allocation["store_allocations"]) == 50
    assert sum(s["initial_allocation"] for s in allocation["store_allocations"]) == allocation["initial_allocation_total"]
    assert allocation["dc_available"] == allocation["holdback_total"]
    assert results["markdown_schedule"]["checkpoint_week"] == 6 and results["markdown"] is None
    assert "Safety stock 20% because replenishment is weekly" in results["summaries"]["inventory"]


def test_events_endpoint_pages_with_after(seeded, planner_api, inline_jobs, fit_memo):
    workflow_id = start(planner_api).json()["workflow_id"]
    everything = planner_api.get(f"/api/workflows/{workflow_id}/events").json()
    seqs = [e["seq"] for e in everything["events"]]
    assert seqs == list(range(1, everything["last_seq"] + 1))
    assert everything["events"][0] == {**everything["events"][0], "type": "agent_started", "agent": "demand",
                                       "workflow_id": workflow_id}
    later = planner_api.get(f"/api/workflows/{workflow_id}/events?after=5").json()["events"]
    assert [e["seq"] for e in later] == seqs[5:]
    # Each type's own fields come through the typed schema (messages, results, approval data).
    by_type = {e["type"]: e for e in everything["events"]}
    assert by_type["agent_progress"]["message"] and "summary" in by_type["agent_completed"]["result"]
    assert by_type["human_input_required"]["data"]["initial_allocation"] > 0


def test_reforecast_needs_a_committed_plan(seeded, planner_api, inline_jobs, fit_memo):
    workflow_id = start(planner_api).json()["workflow_id"]
    response = planner_api.post("/api/workflows/reforecast", json={"workflow_id": workflow_id})
    assert response.status_code == 409 and "committed plan" in response.json()["detail"]
    assert planner_api.post("/api/workflows/reforecast", json={}).status_code == 422
    assert planner_api.post("/api/workflows/reforecast", json={"forecast_id": 999}).status_code == 404


def test_manual_reforecast_adds_a_forecast_version(planned_season, planner_api):
    from planning.tests.season_fixtures import upload_week
    from planning.tests.season_fixtures import week_units

    upload_week(planned_season, 1, week_units(1), user=None)
    forecast = Forecast.objects.get(season=planned_season, version=1)
    response = planner_api.post("/api/workflows/reforecast", json={"forecast_id": forecast.pk, "reason": "Promo"})
    assert response.status_code == 201 and response.json()["status"] == "pending"
    reforecast = Run.objects.get(pk=response.json()["workflow_id"])
    assert reforecast.kind == "reforecast" and reforecast.season_id == planned_season.pk
    assert reforecast.status == "completed", reforecast.error
    newest = planned_season.forecasts.order_by("-version").first()
    assert newest.kind == "reforecast" and newest.run == reforecast and newest.from_week == 2
    assert newest.weekly[0]["actual"] is True and newest.weekly[0]["units"] == sum(week_units(1).values())
    results = planner_api.get(f"/api/workflows/{reforecast.pk}/results").json()
    assert results["forecast"]["forecast_id"] == newest.pk and results["reforecast"]["reforecast"]["weeks_observed"] == 1
    types = list(reforecast.events.values_list("type", flat=True))
    assert types[0] == "agent_started" and types[-1] == "workflow_complete"
    assert planned_season.events.filter(payload__reforecast_workflow_id=str(reforecast.pk)).exists()


def test_report_endpoint(planned_season, planner_api):
    report = planner_api.get(f"/api/workflows/{planned_season.pk}/report").json()
    assert report["weeks_reported"] == 0 and report["manufactured"] == planned_season.allocation.manufacturing_qty
    assert report["approvals"][0]["action"] == "accept"


# --- debug endpoints -------------------------------------------------------------------------------


def test_debug_endpoints_are_staff_only(seeded, planner_api):
    response = planner_api.post("/api/agents/demand/forecast", json={"category_id": "womens_dresses",
                                                                     "parameters": PARAMS})
    assert response.status_code == 403


def test_debug_demand_and_inventory(seeded, staff_api, fit_memo):
    demand = staff_api.post("/api/agents/demand/forecast", json={"category_id": "womens_dresses",
                                                                 "parameters": PARAMS}).json()
    assert demand["step"] == "demand" and demand["outputs"]["forecast"]["total"] > 0
    inventory = staff_api.post("/api/agents/inventory/allocate", json={
        "category_id": "womens_dresses", "parameters": PARAMS, "safety_stock_pct": 0.25}).json()
    order = inventory["outputs"]["order"]
    assert order["safety_stock_pct"] == 0.25
    assert order["manufacturing_qty"] == manufacturing_quantity(whole_units(demand["outputs"]["forecast"]["total"]), 0.25)
    assert not Season.objects.exists()
    assert staff_api.post("/api/agents/inventory/allocate", json={
        "category_id": "womens_dresses", "parameters": PARAMS, "safety_stock_pct": 0.5}).status_code == 422


def test_debug_pricing(staff_api):
    response = staff_api.post("/api/agents/pricing/analyze", json={
        "units_sold": 5500, "manufacturing_qty": 10000, "elasticity_coefficient": 2.0, "parameters": PARAMS})
    body = response.json()
    assert response.status_code == 200, body
    assert body["outputs"]["markdown"]["markdown_pct"] == pytest.approx(0.10)
    assert body["outputs"]["checkpoint"]["checkpoint_week"] == 6
    assert staff_api.post("/api/agents/pricing/analyze", json={}).status_code == 422


@pytest.mark.parametrize(("url", "body"), [
    ("/api/approvals/manufacturing", {"action": "accept", "initial_qty": 1}),
    ("/api/approvals/markdown", {"action": "accept", "markdown_pct": 0.4}),
    ("/api/workflows/reforecast", {"reason": "x", "force": True}),
    ("/api/parameters/extract", {"user_input": "12 weeks", "model": "gpt-5"}),
])
def test_unknown_keys_in_a_body_are_422(seeded, planner_api, inline_jobs, fit_memo, url, body):
    """A key the endpoint does not know is refused, never silently ignored (the order stays put)."""
    workflow_id = start(planner_api).json()["workflow_id"]
    response = planner_api.post(url, json={"workflow_id": workflow_id, **body})
    assert response.status_code == 422, response.content
    assert "Extra inputs are not permitted" in response.json()["detail"]
    assert Season.objects.get(pk=workflow_id).status == "awaiting_approval"

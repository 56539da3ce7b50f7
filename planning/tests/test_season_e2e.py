"""End to end on the peer data (the issue's acceptance test): upload the peer stores and history
through the API, extract the parameters from text, run the forecast workflow, watch every event
type over a WebSocket, modify then accept the order, upload the 12 weeks of a scenario one by one,
approve the markdown, read the season report."""
import json
import uuid
from datetime import timedelta

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from planning.models import ApiToken, Forecast, Run
from planning.routing import websocket_urlpatterns
from planning.tests.season_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.slow, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
ALL_TYPES = {"agent_started", "agent_progress", "agent_completed", "human_input_required", "workflow_complete", "error"}


def sync(fn, *args, **kwargs):
    return database_sync_to_async(lambda: fn(*args, **kwargs))()


async def drain(communicator, into, quiet=0.3):
    while not await communicator.receive_nothing(timeout=quiet):
        into.append(json.loads(await communicator.receive_from(timeout=5)))
    return into


async def upload(api, url, path, **form):
    def post():
        with open(path, "rb") as handle:
            return api.post(url, data={"file": handle, **form})

    response = await sync(post)
    assert response.status_code == (202 if url.endswith("weekly-sales") else 200), response.content[:2000]
    return response.json()


async def run_season(peer_data, planner_api, planner, scenario, text):
    await upload(planner_api, "/api/data/upload-stores", peer_data / "store_attributes.csv")
    history = await upload(planner_api, "/api/data/upload-historical-sales",
                           peer_data / "historical_sales_2022_2024.csv")
    assert "womens_dresses" in json.dumps(history)

    extracted = (await sync(planner_api.post, "/api/parameters/extract",
                            json={"user_input": text, "reference_date": "2025-01-15"})).json()
    params = extracted["parameters"]
    assert params["season_start_date"] == "2025-02-17" and params["forecast_horizon_weeks"] == 12
    created = await sync(planner_api.post, "/api/workflows/forecast", json={
        "category_id": "womens_dresses",
        "parameters": {**params, "confidence": extracted["confidence"], "user_input": text}})
    assert created.status_code == 201, created.json()
    season_id = created.json()["workflow_id"]
    token = (await sync(ApiToken.issue, planner, "e2e"))[1]
    communicator = WebsocketCommunicator(APP, f"/api/workflows/{season_id}/stream?token={token}&after=0")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    messages = await drain(communicator, [])
    assert messages[0]["type"] == "connection_established"
    assert messages[-1]["type"] == "human_input_required"
    assert messages[-1]["action"] == "approve_manufacturing_order"

    url = "/api/approvals/manufacturing"
    preview = (await sync(planner_api.post, url, json={"workflow_id": season_id, "action": "modify",
                                                       "safety_stock_pct": 0.25})).json()
    assert preview["committed"] is False
    accepted = (await sync(planner_api.post, url, json={"workflow_id": season_id, "action": "accept",
                                                        "safety_stock_pct": 0.25})).json()
    assert accepted["committed"] is True and accepted["order"] == preview["order"]
    results = (await sync(planner_api.get, f"/api/workflows/{season_id}/results")).json()
    assert results["allocation"]["status"] == "accepted" and results["allocation"]["dc_available"] > 0

    weeks = []
    folder = peer_data / "scenarios" / scenario
    for week in range(1, 13):
        report = await upload(planner_api, "/api/data/upload-weekly-sales", folder / f"actuals_week_{week:02d}.csv",
                              workflow_id=season_id, week_number=week)
        run = (await sync(planner_api.get, f"/api/workflows/{report['run_id']}")).json()  # the week's run
        assert run["type"] == "week" and run["season_id"] == season_id and run["status"] != "failed", run
        result = (await sync(planner_api.get, f"/api/workflows/{report['run_id']}/results")).json()["week"]
        assert result == report["variance_check"]  # inline jobs: processed before the 202
        weeks.append(result)
        if result["pending_approval"] == "approve_markdown":
            markdown_url = "/api/approvals/markdown"
            preview = (await sync(planner_api.post, markdown_url, json={
                "workflow_id": season_id, "action": "modify", "elasticity_coefficient": 2.5})).json()
            assert preview["committed"] is False
            done = (await sync(planner_api.post, markdown_url, json={
                "workflow_id": season_id, "action": "accept"})).json()
            assert done["committed"] is True
    await drain(communicator, messages, quiet=1.0)
    await communicator.disconnect()
    report = (await sync(planner_api.get, f"/api/workflows/{season_id}/report")).json()
    return season_id, messages, weeks, report


async def error_over_websocket(planner):
    """The error event on the wire: an interrupted run that recovery gives up on."""
    from planning.services import recovery

    def make_stale():
        from planning.tests.season_fixtures import bare_season

        workflow = bare_season(status="running", recovery_attempts=2)
        Run.objects.filter(pk=workflow.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
        return workflow.pk

    workflow_id = await sync(make_stale)
    token = (await sync(ApiToken.issue, planner, "err"))[1]
    communicator = WebsocketCommunicator(APP, f"/api/workflows/{workflow_id}/stream?token={token}")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.receive_json_from(timeout=5)
    await sync(recovery.recover_interrupted_workflows, max_attempts=2)
    error = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    return error


@pytest.fixture(autouse=True)
def fast_catchup(settings):
    """In tests the consumer shares Django's one thread for sync code with the uploads (in daphne
    each request has its own), so it falls behind during an upload; catch up quickly."""
    settings.WEBSOCKET_CATCHUP_SECONDS = 0.2


async def test_severe_underperform_end_to_end(peer_data, planner_api, planner, inline_jobs):
    text = ("12-week season starting February 17, 2025. Weekly replenishment, 45% holdback. "
            "Markdown at week 6 if below 60% sell-through.")
    season_id, messages, weeks, report = await run_season(peer_data, planner_api, planner, "severe_underperform", text)
    error = await error_over_websocket(planner)
    assert error["type"] == "error" and error["agent"] == "demand" and error["error_message"]
    types = {m["type"] for m in messages} | {error["type"]}
    assert types - {"connection_established"} == ALL_TYPES

    seqs = [m["seq"] for m in messages if "seq" in m]
    assert seqs == list(range(1, len(seqs) + 1))  # every event once, in order

    # Early re-forecasts: selling ~10% of plan is red from week 1; far below plan is an over-stock
    # review with the units at risk, never an emergency order.
    assert weeks[0]["threshold_exceeded"] and weeks[0]["reforecast"] is not None and weeks[0]["overstock_review"]
    assert not any(w["emergency"] or w["emergency_order"] for w in weeks)
    assert not [m for m in messages if "Emergency" in (m.get("message") or "")]
    assert report["variance"][0]["stock_alert"] == "overstock_review" and report["variance"][0]["units_at_risk"] > 0
    reforecasts = [w for w in weeks if w["reforecast"]]
    assert len(reforecasts) >= 2
    versions = await sync(lambda: list(Forecast.objects.filter(season_id=season_id).values_list("kind", flat=True)))
    assert "reforecast" in versions and "markdown" in versions
    # Replenishment ran every week but the stores, full of unsold stock, needed nothing.
    replenishment_runs = [m for m in messages if m["type"] == "agent_started" and m.get("step") == "replenishment"]
    assert len(replenishment_runs) == 11
    assert all(w["replenishment"]["shipped_total"] == 0 for w in weeks[:11])
    # Markdown at the checkpoint week: far behind the 60% target -> the 40% cap, then approved.
    week6 = weeks[5]
    assert week6["markdown"]["week_number"] == 6 and week6["markdown"]["recommended_markdown_pct"] == 0.40
    approvals = [m for m in messages if m["type"] == "human_input_required"]
    assert [a["action"] for a in approvals] == ["approve_manufacturing_order", "approve_markdown"]

    assert report["phase"] == "season_complete" and report["weeks_reported"] == 12
    assert report["units_sold"] == 21_629  # the scenario's season total (peer README)
    assert report["accuracy"]["bias"] > 5  # the original forecast was ~10x the actuals
    assert report["markdown"]["markdown_pct"] == 0.40 and report["leftover_units"] > 0
    assert [(a["kind"], a["action"]) for a in report["approvals"]] == [
        ("manufacturing", "modify"), ("manufacturing", "accept"), ("markdown", "modify"), ("markdown", "accept")]
    assert messages[-1]["type"] == "workflow_complete", [(m["type"], m.get("message")) for m in messages[-6:]]
    assert messages[-1]["result"]["phase"] == "season_complete"


async def test_normal_season_end_to_end(peer_data, planner_api, planner, inline_jobs):
    text = ("12-week season starting February 17, 2025. Weekly replenishment, 45% holdback. "
            "Markdown at week 10 if below 60% sell-through.")
    season_id, messages, weeks, report = await run_season(peer_data, planner_api, planner, "normal_season", text)
    reforecasts = [w["week_number"] for w in weeks if w["reforecast"]]
    assert len(reforecasts) <= 2, [(w["week_number"], w["variance_pct"]) for w in weeks]  # no re-forecast storm
    assert not any(w["emergency"] or w["emergency_order"] for w in weeks)
    assert sum(w["replenishment"]["shipped_total"] for w in weeks[:11]) > 0  # stock runs down, the DC tops up
    # Selling ~15% under the forecast with 25% safety stock: a mild markdown at week 10, at most 10%.
    assert weeks[9]["markdown"]["week_number"] == 10 and weeks[9]["markdown"]["recommended_markdown_pct"] <= 0.10
    assert report["phase"] == "season_complete" and report["units_sold"] == 243_893
    assert report["accuracy"]["wape"] < 0.25
    assert messages[-1]["type"] == "workflow_complete"
    uuid.UUID(season_id)

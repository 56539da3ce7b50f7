"""The migrations of stored data, run for real: rows written before the API rename (issue #12,
0006) and before the split of Workflow into Season and Run (issue #13, 0007-0009) read back in the
new names and the new tables.

The test migrates the planning app back to 0005, writes rows with that state's historical models
(forecast and re-forecast workflows, their events, forecasts, the plan, actuals, approvals), migrates
forward to the latest migration and checks the seasons, runs, events and foreign keys it finds, what
the status endpoint shows, and that a season migrated while paused at its markdown applies it when
accepted. It always leaves the database at the latest migration."""
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

OLD = ("planning", "0005_extraction")
pytestmark = pytest.mark.django_db(transaction=True)

SEASON_START = date(2025, 3, 1)
PARAMETERS = {"forecast_horizon_weeks": 12, "season_start_date": SEASON_START.isoformat(),
              "replenishment_strategy": "weekly", "dc_holdback_percentage": 0.45, "markdown_checkpoint_week": 6}
# What the manufacturing approval showed before issue #12: initial_qty/holdback_qty, in the clusters too.
OLD_ORDER = {
    "forecast_total": 8000.0, "demand_units": 8000, "replenishment_strategy": "weekly", "safety_stock_pct": 0.2,
    "default_safety_stock_pct": 0.2, "safety_stock_range": [0.1, 0.3], "manufacturing_qty": 9600,
    "holdback_pct": 0.45, "initial_qty": 5280, "holdback_qty": 4320, "reasoning": "8000 x 1.2 = 9600",
    "clusters": [{"cluster_id": "mainstream", "share": 0.6, "store_count": 1, "units": 4800,
                  "initial_qty": 3168, "holdback_qty": 2592},
                 {"cluster_id": "value_conscious", "share": 0.4, "store_count": 0, "units": 3200,
                  "initial_qty": 2112, "holdback_qty": 1728}],
}
# What the markdown approval showed before issue #12.
OLD_MARKDOWN = {
    "id": 3, "week": 6, "status": "recommended", "units_sold": 5500, "manufacturing_qty": 10000,
    "sell_through": 0.55, "target": 0.6, "gap": 0.05, "elasticity": 2.0, "markdown_pct": 0.1,
    "expected_lift": 0.15, "decided_by": None, "decided_at": None, "forecast_id": 1, "formula": "gap x e",
    "elasticity_range": [1.0, 3.0],
}


def _migrate(target):
    """Migrate the planning app to ``target`` (a list of nodes); returns the executor after it."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    executor.loader.build_graph()  # what is applied now
    return executor


def _latest():
    return [node for node in MigrationExecutor(connection).loader.graph.leaf_nodes() if node[0] == "planning"]


def _weekly(weeks=12, units=800.0):
    return [{"week": n, "week_start": (SEASON_START + timedelta(weeks=n - 1)).isoformat(), "units": units,
             "lower": units - 100, "upper": units + 100} for n in range(1, weeks + 1)]


def _old_rows(apps):
    """The rows a database held before 0006, written with the 0005 models."""
    get = lambda name: apps.get_model("planning", name)
    Workflow, Event, Forecast = get("Workflow"), get("WorkflowEvent"), get("Forecast")
    user = apps.get_model("auth", "User").objects.create(username="old-planner", password="!")
    category = get("Category").objects.create(id="old_dresses", name="Old dresses")
    cluster = get("StoreCluster").objects.create(id="mainstream", name="Mainstream", fashion_tier=2)
    store = get("Store").objects.create(
        store_id="S001", name="Store 1", cluster=cluster, store_size_sqft=1000, location_tier="A",
        fashion_tier="MAINSTREAM", store_format="MALL", region="WEST", median_income=50_000,
        avg_weekly_sales_12mo=100.0)
    t0 = timezone.now() - timedelta(days=10)
    order_outputs = {"demand": {"total_units": 8000.0}, "inventory": {"manufacturing_qty": 9600},
                     "pending_approval": OLD_ORDER}
    season = Workflow.objects.create(
        type="forecast", category=category, parameters=PARAMETERS, status="awaiting_approval",
        phase="pre_season", step="pricing", current_agent="inventory", progress_pct=66,
        pending_approval="approve_manufacturing_order", current_week=2, runner="llm",
        token_usage={"requests": 3, "input_tokens": 300, "output_tokens": 30, "total_tokens": 330},
        last_seq=3, owner=user, started_at=t0, heartbeat_at=t0 + timedelta(minutes=1), recovery_attempts=1,
        step_outputs=order_outputs)
    reforecast = Workflow.objects.create(
        type="reforecast", season=season, category=category,
        parameters={**PARAMETERS, "reason": "Selling above plan"}, status="completed", phase="pre_season",
        step="done", progress_pct=100, runner="deterministic", last_seq=2, owner=user, started_at=t0,
        completed_at=t0 + timedelta(hours=2), step_outputs={"reforecast": {"from_week": 3}})
    # In season, paused at the week-6 markdown: the old engine re-opened the finished forecast
    # workflow (completed -> awaiting_approval, step still "done"); the accept resumed it at apply_markdown.
    markdown_outputs = {"demand": {"total_units": 9000.0}, "manufacturing_approval": OLD_ORDER,
                        "markdown": {"markdown": {"week": 6, "markdown_pct": 0.1}}, "pending_approval": OLD_MARKDOWN}
    other = Workflow.objects.create(
        type="forecast", category=category, parameters=PARAMETERS, status="awaiting_approval",
        phase="in_season", step="done", current_agent="pricing", progress_pct=50,
        pending_approval="approve_markdown", current_week=6, last_seq=1, owner=user, started_at=t0,
        completed_at=t0 + timedelta(minutes=40), step_outputs=markdown_outputs)
    Workflow.objects.filter(pk=season.pk).update(created_at=t0)
    Workflow.objects.filter(pk=reforecast.pk).update(created_at=t0 + timedelta(hours=1))
    Workflow.objects.filter(pk=other.pk).update(created_at=t0 + timedelta(minutes=30))
    # Events: the season's 1..3, then the re-forecast's own 1..2 (later), and the other season's 1.
    for seq in (1, 2, 3):
        Event.objects.create(workflow=season, seq=seq, type="agent_progress", payload={"n": f"season {seq}"},
                             created_at=t0 + timedelta(minutes=seq))
    Event.objects.create(workflow=other, seq=1, type="agent_progress", payload={"n": "other 1"},
                         created_at=t0 + timedelta(minutes=31))
    for seq in (1, 2):
        Event.objects.create(workflow=reforecast, seq=seq, type="agent_progress",
                             payload={"n": f"reforecast {seq}"}, created_at=t0 + timedelta(hours=1, minutes=seq))
    common = {"category": category, "season_start_date": SEASON_START, "horizon_weeks": 12,
              "total_units": 9600.0, "method": "ensemble"}
    first = Forecast.objects.create(season=season, workflow=season, version=1, weekly=_weekly(), **common)
    second = Forecast.objects.create(season=season, workflow=reforecast, version=2, kind="reforecast",
                                     from_week=3, weekly=_weekly(units=850.0), **common)
    other_forecast = Forecast.objects.create(season=other, workflow=other, version=1, weekly=_weekly(), **common)
    get("Allocation").objects.create(
        season=season, forecast=first, demand_units=8000, safety_stock_pct=0.2, manufacturing_qty=9600,
        holdback_pct=0.45, initial_qty=5280, holdback_qty=4320, dc_available=4320, cluster_totals=[])
    for week in (1, 2):
        get("WeeklyActual").objects.create(workflow=season, week=week, store=store, units=700 + week)
    get("VarianceCheck").objects.create(
        season=season, week=2, forecast=first, forecast_cum=1600.0, actual_cum=1403, variance=0.12,
        signed_variance=-0.12, band="amber", threshold=0.2, exceeded=False)
    get("Replenishment").objects.create(season=season, week=2, store=store, need_units=10, quantity=10)
    get("MarkdownDecision").objects.create(
        season=other, forecast=other_forecast, week=6, units_sold=5500, manufacturing_qty=10000,
        sell_through=0.55, target=0.6, gap=0.05, elasticity=2.0, markdown_pct=0.1, expected_lift=0.15)
    get("Extraction").objects.create(
        owner=user, user_input="12 weeks from March", reference_date=SEASON_START, extractor="rules",
        confidence="high", parameters=PARAMETERS, season=season)
    Approval = get("Approval")
    Approval.objects.create(workflow=season, kind="manufacturing", action="modify", user=user, values={
        "demand": 8000.0, "demand_units": 8000, "safety_stock_pct": 0.25, "manufacturing_qty": 10000,
        "holdback_pct": 0.45, "initial_qty": 5500, "holdback_qty": 4500})
    Approval.objects.create(workflow=other, kind="markdown", action="modify", user=user, values={
        "week": 6, "markdown_pct": 0.15, "elasticity": 2.5, "formula": "gap x e"})
    return {"user": user.pk, "season": season.pk, "reforecast": reforecast.pk, "other": other.pk,
            "forecasts": (first.pk, second.pk), "t0": t0}


def _check_new_rows(old):
    """The same rows, read with the latest models."""
    from planning.models import (
        Allocation,
        Approval,
        Extraction,
        Forecast,
        MarkdownDecision,
        Replenishment,
        Run,
        Season,
        SeasonEvent,
        VarianceCheck,
        WeeklyActual,
    )

    season = Season.objects.get(pk=old["season"])
    assert (season.category_id, season.parameters, season.phase) == ("old_dresses", PARAMETERS, "pre_season")
    assert (season.pending_approval, season.current_week, season.owner_id) == (
        "approve_manufacturing_order", 2, old["user"])
    assert season.created_at == old["t0"]
    data = season.approval_data
    assert (data["initial_allocation"], data["holdback"], data["manufacturing_qty"]) == (5280, 4320, 9600)
    assert "initial_qty" not in data and "holdback_qty" not in data
    assert [(c["initial_allocation"], c["holdback_allocation"]) for c in data["clusters"]] == [
        (3168, 2592), (2112, 1728)]
    assert not any("initial_qty" in c or "holdback_qty" in c for c in data["clusters"])

    # The pre-season run shares the season's id and keeps the workflow's run fields.
    run = Run.objects.get(pk=old["season"])
    assert season.current_run_id == run.pk and season.status == "awaiting_approval"
    assert (run.season_id, run.kind, run.week, run.reason) == (season.pk, "pre_season", None, "")
    assert (run.status, run.step, run.current_agent, run.progress_pct) == (
        "awaiting_approval", "pricing", "inventory", 66)
    assert (run.runner, run.owner_id, run.recovery_attempts) == ("llm", old["user"], 1)
    assert run.token_usage == {"requests": 3, "input_tokens": 300, "output_tokens": 30, "total_tokens": 330}
    assert run.outputs == {"demand": {"total_units": 8000.0}, "inventory": {"manufacturing_qty": 9600}}
    assert run.started_at == old["t0"] and run.heartbeat_at == old["t0"] + timedelta(minutes=1)
    assert run.created_at == old["t0"]

    reforecast = Run.objects.get(pk=old["reforecast"])
    assert (reforecast.season_id, reforecast.kind, reforecast.reason) == (season.pk, "reforecast", "Selling above plan")
    assert (reforecast.status, reforecast.step, reforecast.progress_pct) == ("completed", "done", 100)
    assert reforecast.outputs == {"reforecast": {"from_week": 3}}
    assert reforecast.completed_at == old["t0"] + timedelta(hours=2)
    assert set(season.runs.values_list("pk", flat=True)) == {run.pk, reforecast.pk}
    assert not Season.objects.filter(pk=old["reforecast"]).exists()

    # One sequence per season, in the order the events happened, each naming its run.
    events = list(SeasonEvent.objects.filter(season=season).order_by("seq"))
    assert [(e.seq, e.run_id, e.payload["n"]) for e in events] == [
        (1, run.pk, "season 1"), (2, run.pk, "season 2"), (3, run.pk, "season 3"),
        (4, reforecast.pk, "reforecast 1"), (5, reforecast.pk, "reforecast 2")]
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert season.last_seq == 5

    other = Season.objects.get(pk=old["other"])
    assert (other.phase, other.pending_approval, other.current_week, other.last_seq) == (
        "in_season", "approve_markdown", 6, 1)
    assert [(e.seq, e.run_id) for e in other.events.all()] == [(1, other.pk)]
    # Its pre-season run is over; the markdown waits on a week-6 run (the new engine's place for it).
    other_run = Run.objects.get(pk=old["other"])
    assert (other_run.kind, other_run.status, other_run.step, other_run.progress_pct) == (
        "pre_season", "completed", "done", 100)
    assert other_run.completed_at == old["t0"] + timedelta(minutes=40)
    assert set(other_run.outputs) == {"demand", "manufacturing_approval"}
    approved = other_run.outputs["manufacturing_approval"]
    assert (approved["initial_allocation"], approved["holdback"]) == (5280, 4320)
    assert "initial_allocation" in approved["clusters"][0] and "initial_qty" not in approved["clusters"][0]
    week_run = other.current_run
    assert week_run.pk != other_run.pk and other.status == "awaiting_approval"
    assert (week_run.kind, week_run.week, week_run.status, week_run.step) == ("week", 6, "awaiting_approval",
                                                                               "apply_markdown")
    assert (week_run.current_agent, week_run.progress_pct, week_run.owner_id) == ("pricing", 50, old["user"])
    assert week_run.outputs == {"markdown": {"markdown": {"week": 6, "markdown_pct": 0.1}}}
    assert set(other.runs.values_list("pk", flat=True)) == {other_run.pk, week_run.pk}
    markdown = other.approval_data
    assert (markdown["week_number"], markdown["recommended_markdown_pct"], markdown["elasticity_coefficient"]) == (
        6, 0.1, 2.0)
    assert (markdown["sell_through_pct"], markdown["target_sell_through"]) == (0.55, 0.6)
    assert (markdown["reasoning"], markdown["markdown_id"], markdown["season_id"]) == ("gap x e", 3, str(other.pk))
    assert not {"week", "markdown_pct", "elasticity", "formula", "id"} & set(markdown)

    # The foreign keys now point at the season (same ids) and forecasts at the run that made them.
    first, second = (Forecast.objects.get(pk=pk) for pk in old["forecasts"])
    assert (first.season_id, first.run_id, first.version) == (season.pk, run.pk, 1)
    assert (second.season_id, second.run_id, second.version) == (season.pk, reforecast.pk, 2)
    assert Allocation.objects.get().season_id == season.pk
    assert list(WeeklyActual.objects.values_list("season_id", "week", "units")) == [
        (season.pk, 1, 701), (season.pk, 2, 702)]
    assert VarianceCheck.objects.get().season_id == season.pk
    assert Replenishment.objects.get().season_id == season.pk
    assert MarkdownDecision.objects.get().season_id == other.pk
    assert Extraction.objects.get().season_id == season.pk

    manufacturing = Approval.objects.get(kind="manufacturing")
    assert manufacturing.season_id == season.pk
    assert (manufacturing.values["initial_allocation"], manufacturing.values["holdback"]) == (5500, 4500)
    assert not {"initial_qty", "holdback_qty"} & set(manufacturing.values)
    marked = Approval.objects.get(kind="markdown")
    assert marked.season_id == other.pk
    assert marked.values == {"week_number": 6, "recommended_markdown_pct": 0.15, "elasticity_coefficient": 2.5,
                             "reasoning": "gap x e"}


def _check_status_endpoint(old):
    """GET /api/workflows/{season_id} shows the pending approval in the new names."""
    from django.contrib.auth import get_user_model

    from planning.models import ApiToken
    from planning.roles import PLANNER, add_to_role

    user = get_user_model().objects.get(pk=old["user"])
    add_to_role(user, PLANNER)
    _, raw = ApiToken.issue(user, "migration test")
    client = Client(headers={"Authorization": f"Bearer {raw}"})

    response = client.get(f"/api/workflows/{old['season']}")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert (body["workflow_id"], body["status"], body["last_seq"]) == (str(old["season"]), "awaiting_approval", 5)
    pending = body["pending_approval"]
    assert pending["action"] == "approve_manufacturing_order"
    data = pending["data"]
    assert data["initial_allocation"] + data["holdback"] == data["manufacturing_qty"] == 9600
    assert "initial_allocation" in data["clusters"][0] and "initial_qty" not in data["clusters"][0]

    response = client.get(f"/api/workflows/{old['other']}")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert (body["status"], body["step"], body["phase"]) == ("awaiting_approval", "apply_markdown", "in_season")
    assert body["pending_approval"]["action"] == "approve_markdown"
    data = body["pending_approval"]["data"]
    assert (data["week_number"], data["recommended_markdown_pct"], data["elasticity_coefficient"]) == (6, 0.1, 2.0)
    assert data["reasoning"] == "gap x e" and data["season_id"] == str(old["other"]) and data["markdown_id"] == 3

    response = client.get(f"/api/workflows/{old['reforecast']}")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert (body["type"], body["season_id"], body["status"]) == ("reforecast", str(old["season"]), "completed")
    assert body["parameters"]["reason"] == "Selling above plan"

    events = client.get(f"/api/workflows/{old['season']}/events?after=0").json()
    assert [e["seq"] for e in events["events"]] == [1, 2, 3, 4, 5]
    assert [e["run_id"] for e in events["events"]] == [str(old["season"])] * 3 + [str(old["reforecast"])] * 2


def _check_markdown_accept(old, monkeypatch):
    """The markdown a migrated season waited for is applied when accepted: the week run resumes at
    apply_markdown (a markdown forecast version) and ends; the season's pre-season run is untouched."""
    from planning import jobs
    from planning.models import Forecast, Run, Season
    from planning.services import approvals

    monkeypatch.setattr(jobs, "submit", lambda task, *args: task(*args))  # the job runs here and now
    season = Season.objects.get(pk=old["other"])
    week_run = season.current_run
    approvals.approve_markdown(season.pk, "accept")
    week_run.refresh_from_db()
    assert (week_run.status, week_run.step, week_run.error) == ("completed", "done", "")
    assert Forecast.objects.filter(season=season, kind="markdown", run=week_run).count() == 1
    assert Run.objects.get(pk=season.pk).completed_at == old["t0"] + timedelta(minutes=40)
    assert not season.events.filter(type="workflow_complete").exists()  # the pre-season run did not end again


def test_workflows_migrate_to_seasons_and_runs_in_the_new_names(monkeypatch):
    latest = _latest()
    try:
        executor = _migrate([OLD])
        old = _old_rows(executor.loader.project_state([OLD]).apps)
        _migrate(latest)
        _check_new_rows(old)
        _check_status_endpoint(old)
        _check_markdown_accept(old, monkeypatch)
    finally:
        _migrate(latest)  # later tests need the latest schema, whatever happened here

"""The workflow state machine: steps, pause/resume, events in order, failures, recovery, jobs."""
import os
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.season_tools import whole_units
from mlpipeline.allocation import manufacturing_quantity
from planning import jobs
from planning.models import Allocation, FitCache, Forecast, Run, Season
from planning.services import events, recovery
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import accept_order, bare_season, event_types, seed_history, start_season

PRE_APPROVAL = ["agent_started"] + ["agent_progress"] * 4 + ["agent_completed"] + \
               ["agent_started"] + ["agent_progress"] * 3 + ["agent_completed", "human_input_required"]


def test_forecast_workflow_pauses_for_manufacturing_approval(seeded, planner, inline_jobs, fit_memo):
    workflow = start_season(planner)
    workflow.refresh_from_db()
    assert workflow.status == "awaiting_approval" and workflow.current_run.step == "pricing"
    assert workflow.pending_approval == "approve_manufacturing_order"
    assert event_types(workflow) == PRE_APPROVAL
    seqs = list(workflow.events.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)) and workflow.last_seq == len(seqs)
    forecast = Forecast.objects.get(season=workflow, version=1)
    allocation = Allocation.objects.get(season=workflow)
    assert allocation.status == "proposed" and allocation.forecast == forecast
    assert allocation.safety_stock_pct == 0.20 and allocation.manufacturing_qty == manufacturing_quantity(whole_units(forecast.total_units), 0.2)
    assert allocation.stores.count() == 50
    human = workflow.events.get(type="human_input_required").as_message()
    assert human["action"] == "approve_manufacturing_order" and human["options"] == ["modify", "accept"]
    assert human["data"]["manufacturing_qty"] == allocation.manufacturing_qty
    completed = workflow.events.filter(type="agent_completed").first().payload
    assert completed["runner"] == "deterministic" and completed["fallback"] is False
    assert completed["duration_seconds"] >= 0 and "summary" in completed["result"]
    progress = [e.payload["progress_pct"] for e in workflow.events.filter(type="agent_progress")]
    assert progress == sorted(progress) and all(0 <= p <= 100 for p in progress)


def test_accept_resumes_to_completion(seeded, planner, inline_jobs, fit_memo):
    workflow = start_season(planner)
    accept_order(workflow, planner)
    workflow.refresh_from_db()
    run = workflow.current_run
    assert workflow.status == "completed" and workflow.phase == "in_season" and run.progress_pct == 100
    assert run.completed_at is not None and run.step == "done" and run.pk == workflow.pk  # the pre-season run
    types = event_types(workflow)
    assert types[len(PRE_APPROVAL):] == ["agent_progress", "agent_started", "agent_progress", "agent_completed",
                                         "workflow_complete"]
    done = workflow.events.get(type="workflow_complete").payload
    assert done["result"]["manufacturing_qty"] == workflow.allocation.manufacturing_qty
    assert done["result"]["markdown_checkpoint"]["checkpoint_week"] == 6
    assert done["duration_seconds"] >= 0


def test_pricing_skipped_without_checkpoint(seeded, planner, inline_jobs, fit_memo):
    workflow = start_season(planner, {"markdown_checkpoint_week": None, "markdown_threshold": None})
    accept_order(workflow, planner)
    workflow.refresh_from_db()
    pricing = workflow.events.filter(type="agent_completed", payload__step="pricing").get().payload
    assert pricing["result"]["scheduled"] is False


def test_second_run_uses_the_fit_cache(seeded, planner, inline_jobs, fit_memo):
    first = start_season(planner)
    second = start_season(planner)
    assert FitCache.objects.count() >= 1
    result = second.events.filter(type="agent_completed", payload__step="demand").get().payload["result"]
    assert result["cached"] is True
    assert first.forecasts.get().total_units == second.forecasts.get().total_units


def test_new_data_version_refits(seeded, planner, inline_jobs, fit_memo):
    start_season(planner)
    keys = set(FitCache.objects.values_list("key", flat=True))
    seed_history()  # a re-import bumps data_version
    start_season(planner)
    assert set(FitCache.objects.values_list("key", flat=True)) - keys


def test_step_failure_emits_error(seeded, planner, inline_jobs, fit_memo, monkeypatch):
    from agents import deterministic

    def broken(ctx, on_progress=None):
        raise RuntimeError("the model server is on fire")

    monkeypatch.setattr(deterministic, "run_step", broken)
    workflow = start_season(planner)
    workflow.refresh_from_db()
    assert workflow.status == "failed" and "on fire" in workflow.current_run.error
    last = workflow.events.order_by("seq").last().as_message()
    assert last["type"] == "error" and last["agent"] == "demand" and "on fire" in last["error_message"]


def test_llm_usage_and_fallback_reach_events(seeded, planner, inline_jobs, fit_memo, monkeypatch, settings):
    """With a key configured, an LLM failure hands the step to the rule-based runner; the event says
    so and carries the tokens the failed attempt used."""
    from agents import llm_runner

    class Boom(RuntimeError):
        usage = {"requests": 1, "input_tokens": 120, "output_tokens": 30, "total_tokens": 150}

    def failing(ctx, *, config, on_progress):
        raise Boom("timed out")

    settings.OPENAI_API_KEY = "sk-test"
    monkeypatch.setattr(llm_runner, "run_step", failing)
    workflow = start_season(planner)
    workflow.refresh_from_db()
    demand = workflow.events.filter(type="agent_completed", payload__step="demand").get().payload
    assert demand["fallback"] is True and demand["fallback_reason"].startswith("rule-based fallback")
    assert demand["usage"]["total_tokens"] == 150
    run = workflow.current_run
    assert run.token_usage["total_tokens"] == 300  # demand + inventory
    assert run.token_usage["by_step"]["demand"]["input_tokens"] == 120
    assert run.runner == "llm" and workflow.status == "awaiting_approval"


def test_emit_allocates_consecutive_seq(seeded, planner, inline_jobs, fit_memo):
    workflow = start_season(planner)
    before = workflow.events.count()
    for i in range(5):
        events.emit(workflow.pk, "agent_progress", agent="demand", message=str(i), progress_pct=1)
    seqs = list(workflow.events.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, before + 6))
    message = workflow.events.order_by("seq").last().as_message()
    assert message["timestamp"].endswith("Z") and message["workflow_id"] == str(workflow.pk)
    with pytest.raises(ValueError):
        events.emit(workflow.pk, "made_up", agent="x")


# --- recovery ------------------------------------------------------------------------------------


def _stale(workflow, **fields):
    old = timezone.now() - timedelta(minutes=10)
    Run.objects.filter(pk=workflow.current_run_id).update(heartbeat_at=old, **fields)


def test_recovery_resumes_a_stale_running_workflow(seeded, planner, inline_jobs, fit_memo):
    workflow = bare_season(planner, status="running")
    _stale(workflow)
    fresh = bare_season(status="running", heartbeat_at=timezone.now())
    actions = recovery.recover_interrupted_workflows()
    assert [a["action"] for a in actions] == ["resumed"]
    workflow.refresh_from_db()
    assert workflow.status == "awaiting_approval" and workflow.current_run.recovery_attempts == 1
    first = workflow.events.order_by("seq").first().payload
    assert "Resuming step demand" in first["message"]
    fresh.refresh_from_db()
    assert fresh.status == "running" and fresh.current_run.recovery_attempts == 0  # a live job is left alone


def test_recovery_reruns_an_interrupted_step_idempotently(seeded, planner, inline_jobs, fit_memo):
    workflow = start_season(planner)
    # The process died after the inventory step wrote its allocation, before the pause.
    _stale(workflow, status="running", step="inventory")
    Season.objects.filter(pk=workflow.pk).update(pending_approval="", approval_data={})
    recovery.recover_interrupted_workflows()
    workflow.refresh_from_db()
    assert workflow.status == "awaiting_approval"
    assert Allocation.objects.filter(season=workflow).count() == 1 and workflow.allocation.stores.count() == 50


def test_recovery_fails_after_max_attempts(seeded, planner, inline_jobs, fit_memo):
    workflow = bare_season(status="running", recovery_attempts=2)
    _stale(workflow)
    actions = recovery.recover_interrupted_workflows(max_attempts=2)
    assert actions == [{"workflow_id": str(workflow.pk), "season_id": str(workflow.pk), "action": "failed",
                        "step": "demand"}]
    workflow.refresh_from_db()
    assert workflow.status == "failed" and "recovery" in workflow.current_run.error
    last = workflow.events.order_by("seq").last().as_message()
    assert last["type"] == "error" and last["agent"] == "demand"


def test_recover_workflows_command(seeded, planner, inline_jobs, fit_memo):
    from io import StringIO

    from django.core.management import call_command

    workflow = bare_season(status="pending")
    Run.objects.filter(pk=workflow.pk).update(updated_at=timezone.now() - timedelta(minutes=10))
    out = StringIO()
    call_command("recover_workflows", stdout=out)
    assert "resumed" in out.getvalue()
    workflow.refresh_from_db()
    assert workflow.status == "awaiting_approval"


def test_recover_on_startup_never_raises(settings, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(recovery, "recover_interrupted_workflows", boom)
    thread = recovery.recover_on_startup()
    thread.join(timeout=5)
    assert not thread.is_alive()
    settings.WORKFLOW_RECOVER_ON_START = False
    assert recovery.recover_on_startup() is None


# --- the job runner ------------------------------------------------------------------------------


def test_default_job_runner_uses_a_background_thread():
    seen = {}
    done = threading.Event()

    def where_am_i():
        seen["thread"] = threading.current_thread().name
        done.set()

    jobs.submit(where_am_i).result(timeout=10)
    assert done.is_set()
    assert seen["thread"].startswith("season-job") and seen["thread"] != threading.current_thread().name


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """Run planning/tests/threaded_probe.py: real threads on a real SQLite file (see its docstring)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("threaded_probe.py")
    db = tmp_path_factory.mktemp("probe") / "probe.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "OPENAI_API_KEY")}
    env["VAR_DIR"] = str(db.parent)
    done = subprocess.run([sys.executable, str(script), str(db)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_post_returns_before_the_background_run_finishes(probe):
    assert probe["post_status"] == 201 and probe["post_body_status"] == "pending"
    assert probe["post_seconds"] < 1.0
    assert probe["status"] == "awaiting_approval"


def test_concurrent_accepts_exactly_one_wins(probe):
    outcomes = sorted(r[0] for r in probe["accepts"])
    assert outcomes == ["conflict", "ok"], probe["accepts"]
    assert probe["accept_rows"] == 1
    assert probe["final_status"] == "completed"


def test_concurrent_emits_never_share_a_seq(probe):
    assert probe["emit_errors"] == []
    assert probe["emit_seqs"] == list(range(1, 31)) and probe["emit_last_seq"] == 30


def test_forecast_warnings_become_warning_events(demo_stores, planner, inline_jobs):
    """Less than a year of history still forecasts, with a warning event."""
    seed_history(weeks=30)
    workflow = start_season(planner)
    workflow.refresh_from_db()
    assert workflow.status == "awaiting_approval", workflow.error
    warnings = workflow.events.filter(type="agent_progress", payload__warning=True)
    assert warnings.exists() and "weeks of history" in warnings.first().payload["message"]

"""The season's pipeline: the steps each kind of run goes through, declared once, and the loop that
runs them.

    pre-season run:   demand -> inventory -> [approve_manufacturing_order] -> pricing -> done
    week N run:       process_week: variance -> re-forecast (past the threshold) -> stock alert ->
                      replenishment -> markdown checkpoint -> [approve_markdown] -> apply_markdown
                      -> done (planning.services.weeks and planning.services.markdown)
    re-forecast run:  reforecast -> done

``Run.step`` is the next step to run, so a job that starts (or restarts) a run resumes there. Each
step is idempotent (it replaces what an earlier attempt of the same step wrote), so re-running a
step after a crash is safe. Runs execute as jobs (planning.tasks); request handlers only create
runs, record approvals and submit. Status changes go through planning.services.states.
"""
from django.db import transaction
from django.utils import timezone

from agents.orchestration import DEMAND, INVENTORY, PRICING, REFORECAST, StepContext
from planning.models import Allocation, Run, Season
from planning.services import allocation as plans
from planning.services import events, forecasting, states
from planning.services.manufacturing import (
    MANUFACTURING_OPTIONS,
    demand_inputs,
    inventory_inputs,
    manufacturing_approval_data,
    pricing_inputs,
)
from planning.services.markdown import apply_markdown_step
from planning.services.runs import add_outputs, agent_seconds, fail_run, heartbeat, result_summary, run_agent_step
from planning.services.weeks import process_week, reforecast_inputs, save_reforecast

Status = Run.Status
DONE = states.DONE
PRE_SEASON_STEPS = (DEMAND, INVENTORY, PRICING)
FIRST_STEP = {Run.Kind.PRE_SEASON: DEMAND, Run.Kind.WEEK: states.PROCESS_WEEK, Run.Kind.REFORECAST: REFORECAST}


def run_workflow(run_id):
    """Run a run from its current step until it pauses, completes or fails.

    Only a pending run is picked up, and the pending -> running update is the claim: a job
    submitted twice (a redelivered Celery task, a recovery racing a slow queue) runs it once.
    """
    now = timezone.now()
    if not states.move(run_id, Status.RUNNING, source=(Status.PENDING,), heartbeat_at=now):
        return None
    Run.objects.filter(pk=run_id, started_at__isnull=True).update(started_at=now)
    while True:
        run = Run.objects.select_related("season", "season__category").get(pk=run_id)
        if run.status != Status.RUNNING:
            return run.status
        step = run.step
        if step == DONE:
            _complete(run)
            return Status.COMPLETED
        try:
            with heartbeat(run.pk):
                _execute(run, step)
        except Exception as exc:  # noqa: BLE001  (any failure ends the run with an error event)
            fail_run(run, step, exc)
            return Status.FAILED


def _execute(run, step):
    if step == states.PROCESS_WEEK:
        process_week(run)
    elif step == states.APPLY_MARKDOWN:
        apply_markdown_step(run)
    elif step in _AFTER_STEP:
        outcome = run_agent_step(run, step, _context(run, step))
        _AFTER_STEP[step](run, outcome)
    else:
        raise ValueError(f"unknown step {step!r}")


def _context(run, step):
    """What an agent step reads: the parameters, its inputs and the earlier steps' outputs."""
    season = run.season
    params = season.parameters
    cache = forecasting.DbFitCache(season.category_id)
    if step == DEMAND:
        return StepContext(step=step, parameters=params, inputs=demand_inputs(season.category, params), cache=cache)
    if step == INVENTORY:
        return StepContext(step=step, parameters=params, inputs=inventory_inputs(season.category, params),
                           previous=run.outputs, cache=cache)
    if step == PRICING:
        return StepContext(step=step, parameters=params, inputs=pricing_inputs(season), previous=run.outputs,
                           cache=cache)
    inputs = reforecast_inputs(season, reason=run.reason or "Manual re-forecast")
    return StepContext(step=step, parameters=params, inputs=inputs, cache=cache)


def _save_outputs(run_id, finished_step, outputs, **fields):
    """Store a finished step's outputs and apply ``fields`` (e.g. the next ``step``)."""
    with transaction.atomic():
        add_outputs(run_id, **{finished_step: outputs})
        Run.objects.filter(pk=run_id).update(**fields)


def _after_demand(run, outcome):
    plans.save_original_forecast(run.season, run, outcome.outputs["forecast"], outcome.outputs["cluster_split"])
    _save_outputs(run.pk, DEMAND, outcome.outputs, step=INVENTORY)


def _after_inventory(run, outcome):
    season = run.season
    plans.save_proposed_allocation(season, plans.original_forecast(season), outcome.outputs["order"],
                                   outcome.outputs["allocation"])
    data = manufacturing_approval_data(season, outcome.outputs)
    with transaction.atomic():
        _save_outputs(run.pk, INVENTORY, outcome.outputs, step=PRICING)
        states.await_approval(run, Season.PendingApproval.MANUFACTURING, data, current_agent="inventory")
    events.emit(season.pk, events.HUMAN_INPUT_REQUIRED, run=run.pk, agent="inventory",
                action=Season.PendingApproval.MANUFACTURING.value, data=data, options=MANUFACTURING_OPTIONS)


def _after_pricing(run, outcome):
    _save_outputs(run.pk, PRICING, outcome.outputs, step=DONE)


def _after_reforecast(run, outcome):
    save_reforecast(run.season, run, outcome.outputs, reason=run.reason or "Manual re-forecast")
    _save_outputs(run.pk, REFORECAST, outcome.outputs, step=DONE)


# What each agent step's outputs write, and the step that follows (see the module doc).
_AFTER_STEP = {DEMAND: _after_demand, INVENTORY: _after_inventory, PRICING: _after_pricing,
               REFORECAST: _after_reforecast}


def _complete(run):
    """The run is done. The pre-season run opens the season (in_season) and, like a manual
    re-forecast, ends with workflow_complete; a week run's end is the week's own events (the
    season's end has its own workflow_complete, planning.services.report.complete_season)."""
    now = timezone.now()
    with transaction.atomic():
        states.move(run.pk, Status.COMPLETED, source=(Status.RUNNING,), completed_at=now, progress_pct=100,
                    current_agent="", heartbeat_at=now)
        if run.kind == Run.Kind.PRE_SEASON:
            states.change_phase(run.season_id, Season.Phase.IN_SEASON)
    run.refresh_from_db()
    if run.kind == Run.Kind.WEEK:
        return
    if run.kind == Run.Kind.REFORECAST:
        result = run.outputs.get(REFORECAST, {}).get("reforecast", {})
        events.emit(run.season_id, events.AGENT_PROGRESS, run=run.pk, agent="demand", progress_pct=100,
                    message=(f"Manual re-forecast {run.pk}: season total {result.get('original_total', 0):,.0f} "
                             f"-> {result.get('updated_total', 0):,.0f}"),
                    reforecast_workflow_id=str(run.pk))
    duration = (now - (run.started_at or run.created_at)).total_seconds()
    events.emit(run.season_id, events.WORKFLOW_COMPLETE, run=run.pk, run_kind=run.kind,
                duration_seconds=round(duration, 3), result=completion_result(run))


def completion_result(run):
    """The headline of a finished run, on its workflow_complete event."""
    outputs = run.outputs or {}
    if run.kind == Run.Kind.REFORECAST:
        r = outputs.get(REFORECAST, {})
        return {"reforecast": result_summary(REFORECAST, r) if r else None, "agent_seconds": agent_seconds(run)}
    allocation = Allocation.objects.filter(season_id=run.season_id).first()
    forecast = plans.original_forecast(run.season)
    return {
        "forecast_total": forecast.total_units if forecast else None,
        "manufacturing_qty": allocation.manufacturing_qty if allocation else None,
        "initial_qty": allocation.initial_qty if allocation else None,
        "holdback_qty": allocation.holdback_qty if allocation else None,
        "safety_stock_pct": allocation.safety_stock_pct if allocation else None,
        "markdown_checkpoint": (outputs.get(PRICING) or {}).get("checkpoint"),
        "agent_seconds": agent_seconds(run),
    }

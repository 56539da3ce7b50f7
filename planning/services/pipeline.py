"""The season's pipeline: the steps a run goes through, declared once, and the loop that runs them.

    forecast run (the season):  demand -> inventory -> [approve_manufacturing_order] -> pricing -> done
    manual re-forecast run:     reforecast -> done
    after an accepted markdown: apply_markdown -> done (planning.services.markdown)
    each season week:           variance -> re-forecast (past the threshold) -> stock alert ->
                                replenishment -> markdown checkpoint -> [approve_markdown]
                                (planning.services.weeks.process_week, in that order)

``Workflow.step`` is the next step to run, so a job that starts (or restarts) a workflow resumes
there. Each step is idempotent (it replaces what an earlier attempt of the same step wrote), so
re-running a step after a crash is safe. Steps run as jobs (planning.tasks); request handlers only
create workflows, record approvals and submit. Status changes go through planning.services.states.
"""
from django.db import transaction
from django.utils import timezone

from agents.orchestration import DEMAND, INVENTORY, PRICING, REFORECAST, StepContext
from planning.models import Allocation, Workflow
from planning.services import allocation as plans
from planning.services import events, forecasting, states
from planning.services.manufacturing import (
    MANUFACTURING_OPTIONS,
    demand_inputs,
    inventory_inputs,
    manufacturing_approval_data,
)
from planning.services.markdown import apply_markdown_step
from planning.services.runs import agent_seconds, fail_run, heartbeat, result_summary, run_agent_step
from planning.services.weeks import reforecast_inputs, save_reforecast

Status = Workflow.Status
DONE, APPLY_MARKDOWN = states.DONE, states.APPLY_MARKDOWN
PRE_SEASON_STEPS = (DEMAND, INVENTORY, PRICING)


def run_workflow(workflow_id):
    """Run a workflow from its current step until it pauses, completes or fails.

    Only a pending workflow is picked up, and the pending -> running update is the claim: a job
    submitted twice (a redelivered Celery task, a recovery racing a slow queue) runs it once.
    """
    now = timezone.now()
    if not states.move(workflow_id, Status.RUNNING, source=(Status.PENDING,), heartbeat_at=now):
        return None
    Workflow.objects.filter(pk=workflow_id, started_at__isnull=True).update(started_at=now)
    while True:
        workflow = Workflow.objects.select_related("category", "season").get(pk=workflow_id)
        if workflow.status != Status.RUNNING:
            return workflow.status
        step = workflow.step
        if step == DONE:
            _complete(workflow)
            return Status.COMPLETED
        try:
            with heartbeat(workflow.pk):
                _execute(workflow, step)
        except Exception as exc:  # noqa: BLE001  (any failure ends the run with an error event)
            fail_run(workflow, step, exc)
            return Status.FAILED


def _execute(workflow, step):
    if step == APPLY_MARKDOWN:
        apply_markdown_step(workflow)
        return
    if step not in _AFTER_STEP:
        raise ValueError(f"unknown step {step!r}")
    outcome = run_agent_step(workflow, step, _context(workflow, step))
    _AFTER_STEP[step](workflow, outcome)


def _context(workflow, step):
    """What an agent step reads: the parameters, its inputs and the earlier steps' outputs."""
    params = workflow.parameters
    cache = forecasting.DbFitCache(workflow.category_id)
    if step == DEMAND:
        return StepContext(step=step, parameters=params, inputs=demand_inputs(workflow.category, params), cache=cache)
    if step == INVENTORY:
        return StepContext(step=step, parameters=params, inputs=inventory_inputs(workflow.category, params),
                           previous=workflow.step_outputs, cache=cache)
    if step == PRICING:
        return StepContext(step=step, parameters=params, inputs={}, previous=workflow.step_outputs, cache=cache)
    if step == REFORECAST:
        season = workflow.season_root
        inputs = reforecast_inputs(season, reason=params.get("reason") or "Manual re-forecast")
        return StepContext(step=step, parameters=season.parameters, inputs=inputs, cache=cache)
    raise ValueError(f"no context for step {step!r}")


def _save_outputs(workflow_id, finished_step, outputs, **fields):
    """Store a finished step's outputs and apply ``fields`` (e.g. the next ``step``) in one update."""
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=workflow_id)
        stored = dict(workflow.step_outputs or {})
        stored[finished_step] = outputs
        if "pending" in fields:
            pending = fields.pop("pending")
            if pending is None:
                stored.pop("pending_approval", None)
            else:
                stored["pending_approval"] = pending
        Workflow.objects.filter(pk=workflow_id).update(step_outputs=stored, **fields)


def _after_demand(workflow, outcome):
    plans.save_original_forecast(workflow, outcome.outputs["forecast"], outcome.outputs["cluster_split"])
    _save_outputs(workflow.pk, DEMAND, outcome.outputs, step=INVENTORY)


def _after_inventory(workflow, outcome):
    forecast = plans.original_forecast(workflow)
    plans.save_proposed_allocation(workflow, forecast, outcome.outputs["order"], outcome.outputs["allocation"])
    data = manufacturing_approval_data(workflow, outcome.outputs)
    with transaction.atomic():
        _save_outputs(workflow.pk, INVENTORY, outcome.outputs, step=PRICING, pending=data)
        states.move(workflow.pk, Status.AWAITING_APPROVAL, source=(Status.RUNNING,),
                    pending_approval=Workflow.PendingApproval.MANUFACTURING, current_agent="inventory")
    events.emit(workflow.pk, events.HUMAN_INPUT_REQUIRED, agent="inventory",
                action=Workflow.PendingApproval.MANUFACTURING.value, data=data, options=MANUFACTURING_OPTIONS)


def _after_pricing(workflow, outcome):
    _save_outputs(workflow.pk, PRICING, outcome.outputs, step=DONE)


def _after_reforecast(workflow, outcome):
    save_reforecast(workflow.season_root, workflow, outcome.outputs,
                    reason=workflow.parameters.get("reason") or "Manual re-forecast")
    _save_outputs(workflow.pk, REFORECAST, outcome.outputs, step=DONE)


# What each agent step's outputs write, and the step that follows (see the module doc).
_AFTER_STEP = {DEMAND: _after_demand, INVENTORY: _after_inventory, PRICING: _after_pricing,
               REFORECAST: _after_reforecast}


def _complete(workflow):
    now = timezone.now()
    with transaction.atomic():
        states.move(workflow.pk, Status.COMPLETED, source=(Status.RUNNING,), completed_at=now, progress_pct=100,
                    current_agent="", pending_approval="", heartbeat_at=now)
        if workflow.type == Workflow.Type.FORECAST:
            states.change_phase(workflow.pk, Workflow.Phase.IN_SEASON)
    workflow.refresh_from_db()
    duration = (now - (workflow.started_at or workflow.created_at)).total_seconds()
    events.emit(workflow.pk, events.WORKFLOW_COMPLETE, duration_seconds=round(duration, 3),
                result=completion_result(workflow))
    if workflow.type == Workflow.Type.REFORECAST:
        result = workflow.step_outputs.get(REFORECAST, {}).get("reforecast", {})
        events.emit(workflow.season_id, events.AGENT_PROGRESS, agent="demand", progress_pct=100,
                    message=(f"Manual re-forecast {workflow.pk}: season total {result.get('original_total', 0):,.0f} "
                             f"-> {result.get('updated_total', 0):,.0f}"),
                    reforecast_workflow_id=str(workflow.pk))


def completion_result(workflow):
    """The headline of a finished run, on its workflow_complete event."""
    outputs = workflow.step_outputs or {}
    if workflow.type == Workflow.Type.REFORECAST:
        r = outputs.get(REFORECAST, {})
        return {"reforecast": result_summary(REFORECAST, r) if r else None,
                "agent_seconds": agent_seconds(workflow)}
    allocation = Allocation.objects.filter(season=workflow).first()
    forecast = plans.original_forecast(workflow)
    return {
        "forecast_total": forecast.total_units if forecast else None,
        "manufacturing_qty": allocation.manufacturing_qty if allocation else None,
        "initial_qty": allocation.initial_qty if allocation else None,
        "holdback_qty": allocation.holdback_qty if allocation else None,
        "safety_stock_pct": allocation.safety_stock_pct if allocation else None,
        "markdown_checkpoint": (outputs.get(PRICING) or {}).get("checkpoint"),
        "agent_seconds": agent_seconds(workflow),
    }

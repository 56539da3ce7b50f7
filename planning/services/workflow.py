"""The workflow engine: the season's state machine, its steps, approvals and recovery (SPEC §2, §7).

States: pending -> running -> awaiting_approval -> running -> ... -> completed | failed. An accepted
approval puts the workflow back to pending (queued) until a worker picks it up; only the job that
moves it from pending to running runs it. ``Workflow.step`` is the next step to run, so a job that
starts (or restarts) a workflow simply resumes there:

    forecast workflow:   demand -> inventory -> [approve_manufacturing_order] -> pricing -> done
    reforecast workflow: reforecast -> done
    season, in season:   apply_markdown (after a markdown is accepted; see planning.services.season)

Each step is idempotent (it replaces what an earlier attempt of the same step wrote), so re-running
a step after a crash is safe. Steps run in jobs (``planning.jobs``: a worker thread, or Celery when
CELERY_BROKER_URL is set); request handlers only create workflows, record approvals and submit.

Every transition is an event (planning.services.events) on the workflow's stream: agent_started,
agent_progress, agent_completed (with the runner, the rule-based fallback reason and the LLM token
usage), human_input_required, workflow_complete, error.

Recovery: a job refreshes ``heartbeat_at`` while it runs (every HEARTBEAT_SECONDS). A workflow
still pending or running whose heartbeat is older than WORKFLOW_STALE_SECONDS was left by a
process that died; ``recover_interrupted_workflows()`` re-runs its current step (up to
WORKFLOW_MAX_RECOVERIES times) or, past that, marks it failed with an ``error`` event. It runs at
ASGI start-up (forecast_site.asgi calls ``recover_on_startup()``, which does the work in a
background thread) and from ``manage.py recover_workflows`` (e.g. from cron or after a Celery
worker restart).
"""
import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from agents import orchestration
from agents.orchestration import DEMAND, INVENTORY, PRICING, REFORECAST, STEP_AGENT, StepContext
from agents.parameters import PLANNER_FIELDS, ParameterError, parse_parameters
from agents.season_tools import ToolError, allocate_to_stores, size_manufacturing_order
from planning import jobs
from mlpipeline import limits
from planning.errors import Conflict, Invalid, NotFound
from planning.models import Allocation, Approval, Category, Forecast, Store, StoreCluster, Workflow
from planning.services import allocation as plans
from planning.services import events
from planning.services import extraction as extractions
from planning.services import forecasting

logger = logging.getLogger(__name__)

DONE = "done"
APPLY_MARKDOWN = "apply_markdown"
PRE_SEASON_STEPS = (DEMAND, INVENTORY, PRICING)
STEP_PROGRESS = {DEMAND: (0, 40), INVENTORY: (40, 70), PRICING: (70, 100), REFORECAST: (0, 100)}
MANUFACTURING_OPTIONS = ["modify", "accept"]
WEIGHTINGS = ("equal", "backtest")
# Optional descriptive fields a client may store with the parameters, and what each may hold. A
# season started from an extraction (extraction_id) takes them from the extraction's record
# instead. Token usage is never among them: the server records it (planning.services.extraction).
METADATA_FIELDS = ("confidence", "reasoning", "extractor", "user_input", "missing", "weighting")
_METADATA_TEXT_LIMITS = {"reasoning": 10_000, "user_input": 1000}
_METADATA_CHOICES = {"confidence": ("high", "medium", "low"), "extractor": ("rules", "llm"), "weighting": WEIGHTINGS}

Status = Workflow.Status


def heartbeat_seconds():
    return settings.WORKFLOW_HEARTBEAT_SECONDS


def stale_seconds():
    return settings.WORKFLOW_STALE_SECONDS


def max_recoveries():
    return settings.WORKFLOW_MAX_RECOVERIES


# --- starting workflows -------------------------------------------------------------------------


def season_parameters(data):
    """Validate the request's parameters: the 7 SeasonParameters fields (season_end_date is derived;
    a given one must agree) plus optional metadata (METADATA_FIELDS). Any other key, or metadata
    of the wrong type, is refused. Returns the JSON-safe dict stored on the workflow; an invalid
    value raises Invalid naming the field."""
    if not isinstance(data, dict):
        raise Invalid("parameters must be an object", errors=[{"field": "parameters", "message": "expected an object"}])
    known = (*PLANNER_FIELDS, "season_end_date", *METADATA_FIELDS)
    unknown = sorted(str(name) for name in data if name not in known)
    if unknown:
        raise Invalid(f"Unknown parameter(s): {', '.join(unknown)}. Allowed: {', '.join(known)}.",
                      errors=[{"field": f"parameters.{name}", "message": "unknown parameter"} for name in unknown])
    fields = {name: data[name] for name in (*PLANNER_FIELDS, "season_end_date") if name in data}
    if "season_start_date" not in fields:
        raise Invalid("Invalid value for parameters.season_start_date: required",
                      errors=[{"field": "parameters.season_start_date", "message": "required"}])
    try:
        parsed = parse_parameters(fields)
    except ParameterError as exc:
        raise Invalid(f"Invalid value for parameters.{exc.field}: {exc.message}",
                      errors=[{"field": f"parameters.{exc.field}", "message": exc.message}]) from None
    params = parsed.model_dump(mode="json")
    for name in METADATA_FIELDS:
        if data.get(name) not in (None, ""):
            params[name] = _metadata_value(name, data[name])
    params["weighting"] = params.get("weighting") or "equal"
    return params


def _metadata_value(name, value):
    """A metadata field's value, or Invalid naming it."""
    def invalid(message):
        return Invalid(f"Invalid value for parameters.{name}: {message}",
                       errors=[{"field": f"parameters.{name}", "message": message}])

    if name == "missing":
        allowed = (*PLANNER_FIELDS, "season_end_date")
        if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
            raise invalid(f"a list of parameter names ({', '.join(allowed)})")
        return list(dict.fromkeys(value))
    if not isinstance(value, str):
        raise invalid("expected a string")
    if name in _METADATA_CHOICES and value not in _METADATA_CHOICES[name]:
        raise invalid(f"one of {', '.join(_METADATA_CHOICES[name])}")
    limit = _METADATA_TEXT_LIMITS.get(name, 1000)
    if len(value) > limit:
        raise invalid(f"at most {limit} characters")
    return value


def _run(workflow_id, background):
    """Run (or resume) a workflow: as a job (never blocking a request) or here and now."""
    if background:
        jobs.submit("workflow.run", str(workflow_id))
    else:
        run_workflow(str(workflow_id))


def start_forecast(category_id, parameters, user=None, *, extraction_id=None, background=True):
    """Create a forecast workflow (a season) and start it (in the background unless told not to).
    Everything is checked before anything is written; the season, its link to the extraction it
    was started from and that extraction's token usage are written in one transaction."""
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise NotFound(f"Unknown category {category_id!r}.")
    params = season_parameters(parameters)
    extraction = extractions.extraction_for_season(extraction_id, user) if extraction_id else None
    if not Store.objects.exists():
        raise Invalid("No stores yet: upload the store attributes first.")
    weeks = len(forecasting.history_weekly(category.pk, params["season_start_date"]))
    if weeks < forecasting.MIN_HISTORY_WEEKS:
        raise Invalid(f"Insufficient history: {category.name} has {weeks} full weeks of sales before "
                      f"{params['season_start_date']}; at least {forecasting.MIN_HISTORY_WEEKS} are needed.")
    with transaction.atomic():
        workflow = Workflow.objects.create(
            type=Workflow.Type.FORECAST, category=category, parameters=params, owner=user, step=DEMAND,
            runner="llm" if orchestration.llm_config_from(settings) else "deterministic",
        )
        if extraction is not None:
            workflow.parameters = {**params, **extractions.claim_for_season(extraction, workflow)}
            workflow.save(update_fields=["parameters"])
            record_usage(workflow.pk, "extraction", extraction.token_usage)
    _run(workflow.pk, background)
    return workflow


def start_reforecast(*, workflow_id=None, forecast_id=None, reason="", user=None):
    """A manual re-forecast of a season's remaining weeks (needs a committed plan)."""
    season = None
    if forecast_id is not None:
        forecast = Forecast.objects.select_related("season").filter(pk=forecast_id).first()
        if forecast is None:
            raise NotFound(f"Unknown forecast {forecast_id}.")
        season = forecast.season
    elif workflow_id is not None:
        found = Workflow.objects.filter(pk=workflow_id).first()
        if found is None:
            raise NotFound(f"Unknown workflow {workflow_id}.")
        season = found.season_root
    else:
        raise Invalid("Give workflow_id or forecast_id.", errors=[{"field": "workflow_id", "message": "required"}])
    allocation = Allocation.objects.filter(season=season).first()
    if allocation is None or allocation.status != Allocation.Status.ACCEPTED:
        raise Conflict("This season has no committed plan yet: accept the manufacturing order first.")
    if season.reforecasts.filter(status__in=Workflow.ACTIVE_STATUSES).exists():
        raise Conflict("A re-forecast of this season is already running.")
    workflow = Workflow.objects.create(
        type=Workflow.Type.REFORECAST, season=season, category_id=season.category_id,
        parameters={**season.parameters, "reason": (reason or "Manual re-forecast")[:255]},
        owner=user, step=REFORECAST, runner=season.runner,
    )
    jobs.submit("workflow.run", str(workflow.pk))
    return workflow


# --- running -------------------------------------------------------------------------------------


@jobs.task("workflow.run")
def run_workflow(workflow_id):
    """Run a workflow from its current step until it pauses, completes or fails.

    Only a pending workflow is picked up, and the pending -> running update is the claim: a job
    submitted twice (a redelivered Celery task, a recovery racing a slow queue) runs it once.
    """
    now = timezone.now()
    claimed = Workflow.objects.filter(pk=workflow_id, status=Status.PENDING).update(
        status=Status.RUNNING, heartbeat_at=now)
    if not claimed:
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
            with _heartbeat(workflow.pk):
                _execute(workflow, step)
        except Exception as exc:  # noqa: BLE001  (any failure ends the run with an error event)
            _fail(workflow, step, exc)
            return Status.FAILED


def _execute(workflow, step):
    if step == APPLY_MARKDOWN:
        from planning.services import season as season_service

        season_service.apply_markdown_step(workflow)
        return
    if step not in STEP_PROGRESS:
        raise ValueError(f"unknown step {step!r}")
    ctx = _context(workflow, step)
    outcome = run_agent_step(workflow, step, ctx)
    _AFTER_STEP[step](workflow, outcome)


def run_agent_step(workflow, step, ctx, *, progress_range=None, extra=None):
    """Run one agent step with events around it and return its StepOutcome.

    Emits agent_started, an agent_progress per tool message and agent_completed (duration, result
    summary, runner, fallback reason, token usage); records token usage on the workflow.
    ``extra`` fields go on every event (e.g. the season week).
    """
    agent = STEP_AGENT[step]
    low, high = progress_range or STEP_PROGRESS.get(step, (workflow.progress_pct, workflow.progress_pct))
    extra = extra or {}
    Workflow.objects.filter(pk=workflow.pk).update(current_agent=agent, progress_pct=low,
                                                  heartbeat_at=timezone.now())
    events.emit(workflow.pk, events.AGENT_STARTED, agent=agent, step=step, **extra)
    started = time.perf_counter()
    messages = []

    def on_progress(message):
        messages.append(message)
        pct = min(high, low + round((high - low) * min(0.9, 0.25 * len(messages))))
        Workflow.objects.filter(pk=workflow.pk).update(progress_pct=pct, heartbeat_at=timezone.now())
        events.emit(workflow.pk, events.AGENT_PROGRESS, agent=agent, message=message, progress_pct=pct, **extra)

    outcome = orchestration.run_step(ctx, llm=orchestration.llm_config_from(settings), on_progress=on_progress)
    duration = round(time.perf_counter() - started, 3)
    for warning in _forecast_warnings(step, outcome.outputs):
        events.emit(workflow.pk, events.AGENT_PROGRESS, agent=agent, message=f"Warning: {warning}",
                    progress_pct=high, warning=True, **extra)
    record_usage(workflow.pk, step, outcome.usage)
    result = {"summary": outcome.summary, **_result_summary(step, outcome.outputs)}
    events.emit(
        workflow.pk, events.AGENT_COMPLETED, agent=agent, step=step, duration_seconds=duration, result=result,
        runner=outcome.runner, fallback=outcome.fallback_reason is not None,
        fallback_reason=(f"rule-based fallback: {outcome.fallback_reason}" if outcome.fallback_reason else None),
        usage=outcome.usage or {}, **extra,
    )
    Workflow.objects.filter(pk=workflow.pk).update(progress_pct=high)
    return outcome


def _forecast_warnings(step, outputs):
    """Warnings of the forecast behind a step (short history, a model that failed, the
    seasonal-naive fallback): each becomes a warning event."""
    fit = outputs.get("forecast") if step == DEMAND else outputs.get("refit") if step == REFORECAST else None
    return list((fit or {}).get("warnings") or [])


def _result_summary(step, outputs):
    """The headline numbers of a step for the agent_completed event (the full outputs are stored)."""
    if step == DEMAND:
        f, split = outputs["forecast"], outputs["cluster_split"]
        return {"forecast_total": f["total"], "method": f["method"], "model_totals": f.get("model_totals"),
                "cached": f.get("cached", False), "warnings": f.get("warnings", []),
                "silhouette": outputs["clustering"].get("silhouette"),
                "clusters": [{k: c[k] for k in ("cluster_id", "share", "units")} for c in split["clusters"]]}
    if step == INVENTORY:
        order, plan = outputs["order"], outputs["allocation"]
        return {k: order[k] for k in ("demand", "safety_stock_pct", "manufacturing_qty", "initial_qty",
                                      "holdback_qty", "holdback_pct")} | {"stores": len(plan["stores"])}
    if step == PRICING:
        return dict(outputs["checkpoint"])
    if step == REFORECAST:
        r = outputs["reforecast"]
        return {k: r[k] for k in ("weeks_observed", "original_total", "actual_to_date", "updated_total",
                                  "change", "run_rate_ratio")} | {"coverage": outputs["coverage"],
                                                                  "refit_error": outputs.get("refit_error")}
    return {k: v for k, v in outputs.items() if not isinstance(v, list)}


def record_usage(workflow_id, step, usage):
    """Add an LLM step's token usage to the workflow (per step and in total)."""
    if not usage:
        return
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=workflow_id)
        totals = dict(workflow.token_usage or {})
        by_step = dict(totals.get("by_step") or {})
        for key in ("requests", "input_tokens", "output_tokens", "total_tokens"):
            value = int(usage.get(key) or 0)
            totals[key] = int(totals.get(key) or 0) + value
            by_step.setdefault(step, {})
            by_step[step][key] = int(by_step[step].get(key) or 0) + value
        totals["by_step"] = by_step
        Workflow.objects.filter(pk=workflow_id).update(token_usage=totals)


def demand_inputs(category, params):
    """The DEMAND step's inputs (see agents.deterministic) for a category and season parameters."""
    history = forecasting.history_weekly(category.pk, params["season_start_date"])
    silhouette = (StoreCluster.objects.exclude(silhouette_score__isnull=True)
                  .values_list("silhouette_score", flat=True).first())
    weighting = params.get("weighting", "equal")
    return {
        "weekly_history": forecasting.series_rows(history),
        "stores": forecasting.store_rows(category.pk, params["season_start_date"]),
        "silhouette": silhouette,
        "weighting": weighting,
        "cache_key": forecasting.forecast_cache_key(category, params["season_start_date"],
                                                    params["forecast_horizon_weeks"], weighting),
    }


def inventory_inputs(category, params, safety_stock_pct=None):
    return {"stores": forecasting.store_rows(category.pk, params["season_start_date"]),
            "safety_stock_pct": safety_stock_pct}


def _context(workflow, step):
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
        from planning.services import season as season_service

        season = workflow.season_root
        inputs = season_service.reforecast_inputs(season, reason=params.get("reason") or "Manual re-forecast")
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
    _save_outputs(workflow.pk, INVENTORY, outcome.outputs, step=PRICING, pending=data,
                  status=Status.AWAITING_APPROVAL, pending_approval=Workflow.PendingApproval.MANUFACTURING,
                  current_agent="inventory")
    events.emit(workflow.pk, events.HUMAN_INPUT_REQUIRED, agent="inventory",
                action=Workflow.PendingApproval.MANUFACTURING.value, data=data, options=MANUFACTURING_OPTIONS)


def manufacturing_approval_data(workflow, inventory_outputs):
    order, plan = inventory_outputs["order"], inventory_outputs["allocation"]
    return {
        "forecast_total": order["demand"],
        "demand_units": plan["demand_units"],
        "replenishment_strategy": workflow.parameters["replenishment_strategy"],
        "safety_stock_pct": order["safety_stock_pct"],
        "default_safety_stock_pct": order["default_safety_stock_pct"],
        "safety_stock_range": list(limits.SAFETY_STOCK_RANGE),
        "manufacturing_qty": order["manufacturing_qty"],
        "holdback_pct": order["holdback_pct"],
        "initial_allocation": order["initial_qty"],
        "holdback": order["holdback_qty"],
        "clusters": plans.cluster_allocations(plan["clusters"]),
        "reasoning": order["reasoning"],
    }


def _after_pricing(workflow, outcome):
    _save_outputs(workflow.pk, PRICING, outcome.outputs, step=DONE)


def _after_reforecast(workflow, outcome):
    from planning.services import season as season_service

    season_service.save_reforecast(workflow.season_root, workflow, outcome.outputs,
                                   reason=workflow.parameters.get("reason") or "Manual re-forecast")
    _save_outputs(workflow.pk, REFORECAST, outcome.outputs, step=DONE)


_AFTER_STEP = {DEMAND: _after_demand, INVENTORY: _after_inventory, PRICING: _after_pricing,
               REFORECAST: _after_reforecast}


def _complete(workflow):
    now = timezone.now()
    fields = dict(status=Status.COMPLETED, completed_at=now, progress_pct=100, current_agent="",
                  pending_approval="", heartbeat_at=now)
    if workflow.type == Workflow.Type.FORECAST and workflow.phase == Workflow.Phase.PRE_SEASON:
        fields["phase"] = Workflow.Phase.IN_SEASON
    Workflow.objects.filter(pk=workflow.pk).update(**fields)
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
    outputs = workflow.step_outputs or {}
    if workflow.type == Workflow.Type.REFORECAST:
        r = outputs.get(REFORECAST, {})
        return {"reforecast": _result_summary(REFORECAST, r) if r else None,
                "agent_seconds": _agent_seconds(workflow)}
    allocation = Allocation.objects.filter(season=workflow).first()
    forecast = plans.original_forecast(workflow)
    return {
        "forecast_total": forecast.total_units if forecast else None,
        "manufacturing_qty": allocation.manufacturing_qty if allocation else None,
        "initial_qty": allocation.initial_qty if allocation else None,
        "holdback_qty": allocation.holdback_qty if allocation else None,
        "safety_stock_pct": allocation.safety_stock_pct if allocation else None,
        "markdown_checkpoint": (outputs.get(PRICING) or {}).get("checkpoint"),
        "agent_seconds": _agent_seconds(workflow),
    }


def _agent_seconds(workflow):
    durations = workflow.events.filter(type=events.AGENT_COMPLETED).values_list("payload", flat=True)
    return round(sum(float(p.get("duration_seconds") or 0) for p in durations), 3)


def _fail(workflow, step, exc):
    if isinstance(exc, (ToolError, ValueError, ParameterError)):
        message = str(exc)
    else:
        logger.exception("Workflow %s failed in step %s", workflow.pk, step)
        message = f"{type(exc).__name__}: {exc}"
    message = message[:1000]
    agent = STEP_AGENT.get(step)
    Workflow.objects.filter(pk=workflow.pk).update(status=Status.FAILED, error=message, current_agent=agent or "",
                                                  heartbeat_at=timezone.now())
    events.emit(workflow.pk, events.ERROR, agent=agent, error_message=message, step=step)


@contextmanager
def _heartbeat(workflow_id):
    """Refresh heartbeat_at every HEARTBEAT_SECONDS while a step runs (long fits included)."""
    stop = threading.Event()
    interval = heartbeat_seconds()

    def beat():
        try:
            while not stop.wait(interval):
                Workflow.objects.filter(pk=workflow_id, status=Status.RUNNING).update(heartbeat_at=timezone.now())
        except Exception:  # noqa: BLE001  (a missed heartbeat only risks an early recovery)
            logger.exception("Heartbeat of workflow %s failed", workflow_id)
        finally:
            connections.close_all()  # the thread ends here; its connection must not outlive it

    thread = threading.Thread(target=beat, name=f"heartbeat-{workflow_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


# --- approvals ------------------------------------------------------------------------------------


def _forecast_workflow(workflow_id):
    workflow = Workflow.objects.select_related("category").filter(pk=workflow_id).first()
    if workflow is None:
        raise NotFound(f"Unknown workflow {workflow_id}.")
    if workflow.type != Workflow.Type.FORECAST:
        raise Conflict("Approvals belong to the season (forecast) workflow, not a re-forecast.")
    return workflow


def _order_plan(workflow, safety_stock_pct):
    """The order and store allocation for a safety stock, from the stored demand outputs."""
    params = workflow.parameters
    demand = (workflow.step_outputs or {}).get(DEMAND)
    if not demand:
        raise Conflict("The demand step has not finished; there is no order to approve yet.")
    forecast = demand["forecast"]
    try:
        order = size_manufacturing_order(forecast["total"], params["replenishment_strategy"],
                                         params["dc_holdback_percentage"], safety_stock_pct)
        stores = forecasting.store_rows(workflow.category_id, params["season_start_date"])
        assignments = demand["clustering"]["assignments"]
        stores = [{**s, "cluster": s["cluster"] or assignments.get(s["store_id"])} for s in stores]
        plan = allocate_to_stores(forecast["total"], [w["units"] for w in forecast["weekly"]], stores,
                                  order["safety_stock_pct"], params["dc_holdback_percentage"])
    except ToolError as exc:
        raise Invalid(str(exc)) from exc
    return order, plan


def _awaiting_manufacturing(workflow):
    return (workflow.status == Status.AWAITING_APPROVAL
            and workflow.pending_approval == Workflow.PendingApproval.MANUFACTURING)


def approve_manufacturing(workflow_id, action, safety_stock_pct=None, note="", user=None, *, background=True):
    """The manufacturing approval (SPEC §6).

    - ``modify`` (repeatable): the order recomputed for ``safety_stock_pct`` is returned and an
      Approval row records what the planner looked at; nothing is committed.
    - ``accept``: commits the plan at ``safety_stock_pct`` (default: the proposed one): the
      Allocation becomes accepted with its store rows, dc_available = the holdback, an Approval row
      is written and the workflow resumes (pricing step) in the background.
    - Idempotency: the same planner repeating an identical accept after it succeeded (a retried
      request) gets the committed result again with ``replayed: true``; nothing is written twice.
      Any other accept after the commit (another user, or another safety stock) is a 409, and so
      is any action while the workflow is not waiting for this approval. Two concurrent accepts
      are serialised on the workflow row (select_for_update plus a compare-and-set on the status):
      exactly one commits; the other sees the commit and gets 409 (or the replay, if it was the
      same planner with the same values).
    """
    workflow = _forecast_workflow(workflow_id)
    if action == "modify":
        if not _awaiting_manufacturing(workflow):
            raise Conflict(f"The workflow is {workflow.status}, not waiting for the manufacturing approval.")
        if safety_stock_pct is None:
            raise Invalid("safety_stock_pct is required to modify the order.",
                          errors=[{"field": "safety_stock_pct", "message": "required for modify"}])
        order, plan = _order_plan(workflow, safety_stock_pct)
        Approval.objects.create(workflow=workflow, kind=Approval.Kind.MANUFACTURING, action=Approval.Action.MODIFY,
                                values=plans.order_view(order), note=note or "", user=user)
        events.emit(workflow.pk, events.AGENT_PROGRESS, agent="inventory", progress_pct=workflow.progress_pct,
                    message=(f"Preview: safety stock {order['safety_stock_pct']:.0%} -> manufacturing "
                             f"{order['manufacturing_qty']:,} units ({order['initial_qty']:,} initial / "
                             f"{order['holdback_qty']:,} holdback); not committed"))
        return {"workflow_id": str(workflow.pk), "action": "modify", "committed": False, "replayed": False,
                "status": workflow.status, "order": plans.order_view(order),
                "clusters": plans.cluster_allocations(plan["clusters"])}
    if action != "accept":
        raise Invalid("action must be modify or accept", errors=[{"field": "action", "message": "modify or accept"}])

    requested = safety_stock_pct
    plan = order = None
    if _awaiting_manufacturing(workflow):
        proposed = Allocation.objects.filter(season=workflow).values_list("safety_stock_pct", flat=True).first()
        order, plan = _order_plan(workflow, requested if requested is not None else proposed)
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        allocation = Allocation.objects.select_for_update().filter(season=locked).first()
        if allocation is not None and allocation.status == Allocation.Status.ACCEPTED:
            last = locked.approvals.filter(kind=Approval.Kind.MANUFACTURING, action=Approval.Action.ACCEPT).last()
            same_value = requested is None or round(float(requested), 4) == round(allocation.safety_stock_pct, 4)
            if last is not None and user is not None and last.user_id == user.pk and same_value:
                return _accepted_body(locked, allocation, replayed=True)
            who = last.user.get_username() if last is not None and last.user_id else "someone"
            when = f" at {allocation.accepted_at:%Y-%m-%d %H:%M} UTC" if allocation.accepted_at else ""
            raise Conflict(f"The manufacturing order was already accepted by {who}{when}.")
        if not _awaiting_manufacturing(locked) or plan is None:
            raise Conflict(f"The workflow is {locked.status}, not waiting for the manufacturing approval.")
        now = timezone.now()
        claimed = Workflow.objects.filter(
            pk=locked.pk, status=Status.AWAITING_APPROVAL, pending_approval=Workflow.PendingApproval.MANUFACTURING,
        ).update(status=Status.PENDING, pending_approval="", heartbeat_at=now)
        if not claimed:
            raise Conflict("The manufacturing order was accepted by another request.")
        plans.commit_allocation(allocation, order, plan, user, now)
        Approval.objects.create(workflow=locked, kind=Approval.Kind.MANUFACTURING, action=Approval.Action.ACCEPT,
                                values=plans.order_view(order), note=note or "", user=user)
        stored = dict(locked.step_outputs or {})
        stored.pop("pending_approval", None)
        stored["manufacturing_approval"] = plans.order_view(order)
        Workflow.objects.filter(pk=locked.pk).update(step_outputs=stored)
        events.emit(locked.pk, events.AGENT_PROGRESS, agent="inventory", progress_pct=locked.progress_pct,
                    message=(f"Manufacturing order accepted by {user.get_username() if user else 'system'}: "
                             f"{order['manufacturing_qty']:,} units at {order['safety_stock_pct']:.0%} safety stock; "
                             f"{order['initial_qty']:,} ship at week 0, {order['holdback_qty']:,} stay at the DC"))
        allocation.refresh_from_db()
        body = _accepted_body(locked, allocation, replayed=False)
    _run(workflow.pk, background)
    return body


def _accepted_body(workflow, allocation, *, replayed):
    return {
        "workflow_id": str(workflow.pk), "action": "accept", "committed": True, "replayed": replayed,
        "status": Workflow.objects.values_list("status", flat=True).get(pk=workflow.pk),
        "order": plans.order_view({
            "demand": round(allocation.forecast.total_units, 2), "demand_units": allocation.demand_units,
            "safety_stock_pct": allocation.safety_stock_pct, "manufacturing_qty": allocation.manufacturing_qty,
            "holdback_pct": allocation.holdback_pct, "initial_qty": allocation.initial_qty,
            "holdback_qty": allocation.holdback_qty}),
        "clusters": plans.cluster_allocations(allocation.cluster_totals),
        "dc_available": allocation.dc_available,
        "accepted_at": allocation.accepted_at,
    }


# --- reading ----------------------------------------------------------------------------------------


def get_workflow(workflow_id):
    workflow = Workflow.objects.select_related("category", "season", "owner").filter(pk=workflow_id).first()
    if workflow is None:
        raise NotFound(f"Unknown workflow {workflow_id}.")
    return workflow


def status_dict(workflow):
    pending = None
    if workflow.status == Status.AWAITING_APPROVAL and workflow.pending_approval:
        agent = "inventory" if workflow.pending_approval == Workflow.PendingApproval.MANUFACTURING else "pricing"
        pending = {"action": workflow.pending_approval, "agent": agent,
                   "data": (workflow.step_outputs or {}).get("pending_approval") or {},
                   "options": MANUFACTURING_OPTIONS}
    return {
        "workflow_id": str(workflow.pk),
        "type": workflow.type,
        "season_id": str(workflow.season_id) if workflow.season_id else None,
        "category_id": workflow.category_id,
        "status": workflow.status,
        "phase": workflow.phase,
        "step": workflow.step,
        "current_agent": workflow.current_agent or None,
        "progress_pct": workflow.progress_pct,
        "current_week": workflow.current_week,
        "parameters": workflow.parameters,
        "runner": workflow.runner,
        "token_usage": workflow.token_usage or {},
        "last_seq": workflow.last_seq,
        "error": workflow.error or None,
        "pending_approval": pending,
        "owner": workflow.owner.get_username() if workflow.owner_id else None,
        "created_at": workflow.created_at,
        "started_at": workflow.started_at,
        "updated_at": workflow.updated_at,
        "completed_at": workflow.completed_at,
        "heartbeat_at": workflow.heartbeat_at,
    }


def results_dict(workflow):
    """The plan of a completed run; 409 until the (pre-season) run has completed."""
    if workflow.completed_at is None:
        raise Conflict(f"The workflow is {workflow.status}; results are available once it has completed.")
    outputs = workflow.step_outputs or {}
    if workflow.type == Workflow.Type.REFORECAST:
        forecast = workflow.produced_forecasts.order_by("-version").first()
        return {"workflow_id": str(workflow.pk), "type": workflow.type, "season_id": str(workflow.season_id),
                "status": workflow.status, "forecast": plans.forecast_dict(forecast),
                "reforecast": outputs.get(REFORECAST)}
    from planning.services import season as season_service

    demand = outputs.get(DEMAND) or {}
    allocation = Allocation.objects.filter(season=workflow).prefetch_related("stores").first()
    return {
        "workflow_id": str(workflow.pk),
        "type": workflow.type,
        "status": workflow.status,
        "phase": workflow.phase,
        "parameters": workflow.parameters,
        "forecast": plans.forecast_dict(plans.original_forecast(workflow)),
        "current_forecast": plans.forecast_dict(plans.current_forecast(workflow)),
        "clusters": {
            "source": (demand.get("clustering") or {}).get("source"),
            "silhouette": (demand.get("clustering") or {}).get("silhouette"),
            "distribution": (demand.get("cluster_split") or {}).get("clusters", []),
        },
        "allocation": plans.allocation_dict(allocation),
        "markdown_schedule": (outputs.get(PRICING) or {}).get("checkpoint"),
        "markdown": season_service.markdown_dict(workflow.markdowns.first()),
        "summaries": {step: workflow.events.filter(type=events.AGENT_COMPLETED, payload__step=step)
                      .values_list("payload__result__summary", flat=True).last()
                      for step in PRE_SEASON_STEPS},
    }


# --- recovery ---------------------------------------------------------------------------------------


def recover_interrupted_workflows(*, stale_after=None, max_attempts=None, now=None):
    """Resume or fail the workflows a dead process left pending or running.

    A workflow counts as interrupted when it is pending or running and its heartbeat (or, for one
    that never started, its last update) is older than ``stale_after`` seconds (default
    WORKFLOW_STALE_SECONDS). It is resumed at its current step (steps are idempotent) and its
    ``recovery_attempts`` counted; after ``max_attempts`` (default WORKFLOW_MAX_RECOVERIES) it is
    marked failed with an ``error`` event instead. Seasons whose latest uploaded week was never
    processed (the process died during an upload) are processed again. Returns what was done.
    """
    now = now or timezone.now()
    threshold = now - timedelta(seconds=stale_seconds() if stale_after is None else stale_after)
    limit = max_recoveries() if max_attempts is None else max_attempts
    done = []
    stale = Workflow.objects.filter(status__in=Workflow.ACTIVE_STATUSES).filter(
        Q(heartbeat_at__lt=threshold) | Q(heartbeat_at__isnull=True, updated_at__lt=threshold))
    for workflow in stale:
        # Compare-and-set on the heartbeat we saw, so two recovering processes never both act.
        claim = Workflow.objects.filter(pk=workflow.pk, status=workflow.status, heartbeat_at=workflow.heartbeat_at)
        agent = STEP_AGENT.get(workflow.step)
        if workflow.recovery_attempts >= limit:
            message = (f"Interrupted in step {workflow.step} and not resumed after {workflow.recovery_attempts} "
                       "recovery attempt(s); start a new run.")
            if claim.update(status=Status.FAILED, error=message, heartbeat_at=now):
                events.emit(workflow.pk, events.ERROR, agent=agent, error_message=message, step=workflow.step)
                done.append({"workflow_id": str(workflow.pk), "action": "failed", "step": workflow.step})
            continue
        attempt = workflow.recovery_attempts + 1
        if claim.update(status=Status.PENDING, heartbeat_at=now, recovery_attempts=attempt):
            events.emit(workflow.pk, events.AGENT_PROGRESS, agent=agent or "", progress_pct=workflow.progress_pct,
                        message=(f"Resuming step {workflow.step} after the process running it stopped "
                                 f"(recovery attempt {attempt} of {limit})"))
            jobs.submit("workflow.run", str(workflow.pk))
            done.append({"workflow_id": str(workflow.pk), "action": "resumed", "step": workflow.step})
    from planning.services import season as season_service

    done.extend(season_service.recover_unprocessed_weeks())
    return done


def recover_on_startup():
    """Called at ASGI start-up: recovery in a background thread, so a slow or unavailable database
    never delays serving. Set WORKFLOW_RECOVER_ON_START=False to skip it."""
    if not settings.WORKFLOW_RECOVER_ON_START:
        return None

    def work():
        try:
            actions = recover_interrupted_workflows()
            if actions:
                logger.info("Workflow recovery at start-up: %s", actions)
        except Exception:  # noqa: BLE001  (start-up must not fail because of recovery)
            logger.warning("Workflow recovery at start-up did not run", exc_info=True)
        finally:
            connections.close_all()  # the thread ends here; its connection must not outlive it

    thread = threading.Thread(target=work, name="workflow-recovery", daemon=True)
    thread.start()
    return thread


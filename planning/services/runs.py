"""Running one agent step of a season: the events around it (agent_started, agent_progress,
agent_completed with runner, fallback reason and token usage), its progress, the heartbeat that
tells recovery the job is alive, token usage, and how a failed step ends the run."""
import logging
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from agents import orchestration, runner
from agents.orchestration import DEMAND, INVENTORY, PRICING, REFORECAST, STEP_AGENT
from agents.parameters import ParameterError
from agents.season_tools import ToolError
from planning.models import Run
from planning.services import events, states

logger = logging.getLogger(__name__)

Status = Run.Status

STEP_PROGRESS = {DEMAND: (0, 40), INVENTORY: (40, 70), PRICING: (70, 100), REFORECAST: (0, 100)}


def week_progress_pct(season, week):
    """The season's progress once ``week`` is processed."""
    return min(100, round(100 * week / season.horizon_weeks))


def run_agent_step(run, step, ctx, *, progress_range=None, extra=None):
    """Run one agent step with events around it and return its StepOutcome.

    Emits agent_started, an agent_progress per tool message and agent_completed (duration, result
    summary, runner, fallback reason, token usage); records token usage on the run.
    ``extra`` fields go on every event (e.g. the season week).
    """
    agent = STEP_AGENT[step]
    low, high = progress_range or STEP_PROGRESS.get(step, (run.progress_pct, run.progress_pct))
    extra = extra or {}
    Run.objects.filter(pk=run.pk).update(current_agent=agent, progress_pct=low, heartbeat_at=timezone.now())
    events.emit(run.season_id, events.AGENT_STARTED, run=run.pk, agent=agent, step=step, **extra)
    started = time.perf_counter()
    messages = []

    def on_progress(message):
        messages.append(message)
        pct = min(high, low + round((high - low) * min(0.9, 0.25 * len(messages))))
        Run.objects.filter(pk=run.pk).update(progress_pct=pct, heartbeat_at=timezone.now())
        events.emit(run.season_id, events.AGENT_PROGRESS, run=run.pk, agent=agent, message=message, progress_pct=pct,
                    **extra)

    outcome = runner.run_step(ctx, llm=orchestration.llm_config_from(settings), on_progress=on_progress)
    duration = round(time.perf_counter() - started, 3)
    for warning in _forecast_warnings(step, outcome.outputs):
        events.emit(run.season_id, events.AGENT_PROGRESS, run=run.pk, agent=agent, message=f"Warning: {warning}",
                    progress_pct=high, warning=True, **extra)
    record_usage(run.pk, step, outcome.usage)
    result = {"summary": outcome.summary, **result_summary(step, outcome.outputs)}
    events.emit(
        run.season_id, events.AGENT_COMPLETED, run=run.pk, agent=agent, step=step, duration_seconds=duration, result=result,
        runner=outcome.runner, fallback=outcome.fallback_reason is not None,
        fallback_reason=(f"rule-based fallback: {outcome.fallback_reason}" if outcome.fallback_reason else None),
        usage=outcome.usage or {}, **extra,
    )
    Run.objects.filter(pk=run.pk).update(progress_pct=high)
    return outcome


def _forecast_warnings(step, outputs):
    """Warnings of the forecast behind a step (short history, a model that failed, the
    seasonal-naive fallback): each becomes a warning event."""
    fit = outputs.get("forecast") if step == DEMAND else outputs.get("refit") if step == REFORECAST else None
    return list((fit or {}).get("warnings") or [])


def result_summary(step, outputs):
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


def record_usage(run_id, step, usage):
    """Add an LLM step's token usage to the run (per step and in total)."""
    if not usage:
        return
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        totals = dict(run.token_usage or {})
        by_step = dict(totals.get("by_step") or {})
        for key in ("requests", "input_tokens", "output_tokens", "total_tokens"):
            value = int(usage.get(key) or 0)
            totals[key] = int(totals.get(key) or 0) + value
            by_step.setdefault(step, {})
            by_step[step][key] = int(by_step[step].get(key) or 0) + value
        totals["by_step"] = by_step
        Run.objects.filter(pk=run_id).update(token_usage=totals)


def add_outputs(run_id, **outputs):
    """Merge ``outputs`` into the run's stored outputs (under a row lock, so writers never lose
    each other's keys)."""
    with transaction.atomic():
        stored = Run.objects.select_for_update().values_list("outputs", flat=True).get(pk=run_id)
        Run.objects.filter(pk=run_id).update(outputs={**(stored or {}), **outputs})


def agent_seconds(run):
    """Seconds the run's agent steps took, from their agent_completed events."""
    durations = run.events.filter(type=events.AGENT_COMPLETED).values_list("payload", flat=True)
    return round(sum(float(p.get("duration_seconds") or 0) for p in durations), 3)


def fail_run(run, step, exc):
    """End the run as failed with an ``error`` event: a tool's or a parameter's own message, or
    the exception (logged with its traceback) for anything unexpected."""
    if isinstance(exc, (ToolError, ValueError, ParameterError)):
        message = str(exc)
    else:
        logger.exception("Run %s failed in step %s", run.pk, step)
        message = f"{type(exc).__name__}: {exc}"
    message = message[:1000]
    agent = STEP_AGENT.get(step)
    states.move(run.pk, Status.FAILED, error=message, current_agent=agent or "", heartbeat_at=timezone.now())
    events.emit(run.season_id, events.ERROR, run=run.pk, agent=agent, error_message=message, step=step)


@contextmanager
def heartbeat(run_id):
    """Refresh heartbeat_at every HEARTBEAT_SECONDS while a step runs (long fits included)."""
    stop = threading.Event()
    interval = settings.WORKFLOW_HEARTBEAT_SECONDS

    def beat():
        try:
            while not stop.wait(interval):
                Run.objects.filter(pk=run_id, status=Status.RUNNING).update(heartbeat_at=timezone.now())
        except Exception:  # noqa: BLE001  (a missed heartbeat only risks an early recovery)
            logger.exception("Heartbeat of run %s failed", run_id)
        finally:
            connections.close_all()  # the thread ends here; its connection must not outlive it

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)

"""Recovery: a job refreshes ``heartbeat_at`` while it runs (every WORKFLOW_HEARTBEAT_SECONDS). A
workflow still pending or running whose heartbeat is older than WORKFLOW_STALE_SECONDS was left by
a process that died; ``recover_interrupted_workflows()`` re-runs its current step (up to
WORKFLOW_MAX_RECOVERIES times) or, past that, marks it failed with an ``error`` event. It runs at
ASGI start-up (forecast_site.asgi calls ``recover_on_startup()``, which does the work in a
background thread) and from ``manage.py recover_workflows`` (e.g. from cron or after a Celery
worker restart).
"""
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from agents.orchestration import STEP_AGENT
from planning import jobs, tasks
from planning.models import VarianceCheck, WeeklyActual, Workflow
from planning.services import events, states
from planning.services.weeks import process_week, undo_week

logger = logging.getLogger(__name__)

Status = Workflow.Status



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
    threshold = now - timedelta(seconds=settings.WORKFLOW_STALE_SECONDS if stale_after is None else stale_after)
    limit = settings.WORKFLOW_MAX_RECOVERIES if max_attempts is None else max_attempts
    done = []
    stale = Workflow.objects.filter(status__in=Workflow.ACTIVE_STATUSES).filter(
        Q(heartbeat_at__lt=threshold) | Q(heartbeat_at__isnull=True, updated_at__lt=threshold))
    for workflow in stale:
        # Compare-and-set on the status and heartbeat we saw, so two recovering processes never both act.
        seen = {"source": (workflow.status,), "where": {"heartbeat_at": workflow.heartbeat_at}}
        agent = STEP_AGENT.get(workflow.step)
        if workflow.recovery_attempts >= limit:
            message = (f"Interrupted in step {workflow.step} and not resumed after {workflow.recovery_attempts} "
                       "recovery attempt(s); start a new run.")
            if states.move(workflow.pk, Status.FAILED, **seen, error=message, heartbeat_at=now):
                events.emit(workflow.pk, events.ERROR, agent=agent, error_message=message, step=workflow.step)
                done.append({"workflow_id": str(workflow.pk), "action": "failed", "step": workflow.step})
            continue
        attempt = workflow.recovery_attempts + 1
        if states.move(workflow.pk, Status.PENDING, **seen, heartbeat_at=now, recovery_attempts=attempt):
            events.emit(workflow.pk, events.AGENT_PROGRESS, agent=agent or "", progress_pct=workflow.progress_pct,
                        message=(f"Resuming step {workflow.step} after the process running it stopped "
                                 f"(recovery attempt {attempt} of {limit})"))
            jobs.submit(tasks.run_workflow, workflow.pk)
            done.append({"workflow_id": str(workflow.pk), "action": "resumed", "step": workflow.step})
    done.extend(recover_unprocessed_weeks())
    return done


def recover_unprocessed_weeks():
    """Process again the latest week of seasons whose processing was cut short (no VarianceCheck),
    once its upload is older than the stale threshold (so a live upload is never processed twice)."""
    threshold = timezone.now() - timedelta(seconds=settings.WORKFLOW_STALE_SECONDS)
    done = []
    processed = VarianceCheck.objects.filter(season=OuterRef("pk"), week=OuterRef("current_week"))
    seasons = (Workflow.objects.filter(type=Workflow.Type.FORECAST, current_week__gt=0)
               .exclude(pending_approval=Workflow.PendingApproval.MARKDOWN)
               .exclude(Exists(processed)))
    for season in seasons:
        week = season.current_week
        if WeeklyActual.objects.filter(workflow=season, week=week, created_at__gte=threshold).exists():
            continue
        with transaction.atomic():
            locked = Workflow.objects.select_for_update().get(pk=season.pk)
            undo_week(locked, week)
        process_week(season.pk, week)
        done.append({"workflow_id": str(season.pk), "action": "week_reprocessed", "week": week})
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

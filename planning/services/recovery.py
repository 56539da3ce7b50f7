"""Recovery: a job refreshes ``heartbeat_at`` while it runs (every WORKFLOW_HEARTBEAT_SECONDS). A
run still pending or running whose heartbeat is older than WORKFLOW_STALE_SECONDS was left by
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
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from agents.orchestration import STEP_AGENT
from planning import tasks
from planning.models import Run
from planning.services import events, states

logger = logging.getLogger(__name__)

Status = Run.Status



def recover_interrupted_workflows(*, stale_after=None, max_attempts=None, now=None):
    """Resume or fail the runs a dead process left pending or running.

    A run counts as interrupted when it is pending or running and its heartbeat (or, for one that
    never started, its last update) is older than ``stale_after`` seconds (default
    WORKFLOW_STALE_SECONDS). It is resumed at its current step (steps are idempotent; a week is
    processed again from its start) and its ``recovery_attempts`` counted; after ``max_attempts``
    (default WORKFLOW_MAX_RECOVERIES) it is marked failed with an ``error`` event instead. Returns
    what was done.
    """
    now = now or timezone.now()
    threshold = now - timedelta(seconds=settings.WORKFLOW_STALE_SECONDS if stale_after is None else stale_after)
    limit = settings.WORKFLOW_MAX_RECOVERIES if max_attempts is None else max_attempts
    done = []
    stale = Run.objects.filter(status__in=Run.ACTIVE_STATUSES).filter(
        Q(heartbeat_at__lt=threshold) | Q(heartbeat_at__isnull=True, updated_at__lt=threshold))
    for run in stale:
        # Compare-and-set on the status and heartbeat we saw, so two recovering processes never both act.
        seen = {"source": (run.status,), "where": {"heartbeat_at": run.heartbeat_at}}
        agent = STEP_AGENT.get(run.step)
        what = {"workflow_id": str(run.pk), "season_id": str(run.season_id), "step": run.step,
                **({"week": run.week} if run.week else {})}
        if run.recovery_attempts >= limit:
            message = (f"Interrupted in step {run.step} and not resumed after {run.recovery_attempts} "
                       "recovery attempt(s); start a new run.")
            if states.move(run.pk, Status.FAILED, **seen, error=message, heartbeat_at=now):
                events.emit(run.season_id, events.ERROR, run=run.pk, agent=agent, error_message=message,
                            step=run.step)
                done.append({**what, "action": "failed"})
            continue
        attempt = run.recovery_attempts + 1
        if states.move(run.pk, Status.PENDING, **seen, heartbeat_at=now, recovery_attempts=attempt):
            events.emit(run.season_id, events.AGENT_PROGRESS, run=run.pk, agent=agent or "",
                        progress_pct=run.progress_pct,
                        message=(f"Resuming step {run.step} after the process running it stopped "
                                 f"(recovery attempt {attempt} of {limit})"))
            tasks.start_workflow(run.pk)
            done.append({**what, "action": "resumed"})
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

"""The one place that moves a run between statuses and a season between phases or approvals, with
the allowed moves written down once. Every move is a compare-and-set (``UPDATE ... WHERE status IN
(...)``): the caller names the state it expects to leave, and when another request or job got there
first nothing changes and the call returns False, so exactly one of two racers wins.

A run's status:

    pending -> running              a job claims the queued run
    running -> awaiting_approval    a step asks for the planner's decision (order, markdown)
    running -> completed | failed   the run ends
    awaiting_approval -> pending    the planner accepted: queued to resume
    awaiting_approval -> completed  a replaced week withdraws the markdown it recommended
    pending | running -> pending | failed  recovery re-queues (or gives up on) a run left by a dead process

A season's phase: pre_season -> in_season -> season_complete, and back to in_season when the last
week is replaced. A season waits for at most one approval (``pending_approval``), and then its
current run is awaiting_approval: ``await_approval`` and ``release_approval`` move both at once.
"""
from django.db import transaction

from planning.models import Run, Season

Status = Run.Status
Phase = Season.Phase
# Steps that are not agent steps: the end of a run, one week's processing, and resuming after an
# accepted markdown.
DONE = "done"
PROCESS_WEEK = "process_week"
APPLY_MARKDOWN = "apply_markdown"

TRANSITIONS = {
    Status.PENDING: {Status.RUNNING, Status.PENDING, Status.FAILED},
    Status.RUNNING: {Status.AWAITING_APPROVAL, Status.COMPLETED, Status.FAILED, Status.PENDING},
    Status.AWAITING_APPROVAL: {Status.PENDING, Status.COMPLETED},
    Status.COMPLETED: set(),
    Status.FAILED: set(),
}
PHASES = {
    Phase.PRE_SEASON: {Phase.IN_SEASON},
    Phase.IN_SEASON: {Phase.SEASON_COMPLETE},
    Phase.SEASON_COMPLETE: {Phase.IN_SEASON},
}


class IllegalTransition(ValueError):
    """A programming error: code asked for a move the table does not allow."""


def sources(to):
    """The statuses a run may move to ``to`` from."""
    return tuple(status for status, targets in TRANSITIONS.items() if to in targets)


def move(run_id, to, *, source=None, where=None, **fields):
    """Move the run to status ``to`` if it is in one of ``source`` (default: every status allowed
    to move there) and matches ``where`` (extra filters, e.g. the heartbeat seen); ``fields`` are
    written in the same UPDATE. Returns True when this call made the move."""
    allowed = sources(to)
    source = tuple(source) if source is not None else allowed
    illegal = [s for s in source if s not in allowed]
    if illegal:
        raise IllegalTransition(f"{', '.join(illegal)} -> {to} is not an allowed move")
    return bool(Run.objects.filter(pk=run_id, status__in=source, **(where or {})).update(status=to, **fields))


def change_phase(season_id, to):
    """Move the season to phase ``to`` from the phase that may precede it; True when moved."""
    source = tuple(phase for phase, targets in PHASES.items() if to in targets)
    return bool(Season.objects.filter(pk=season_id, phase__in=source).update(phase=to))


def await_approval(run, approval, data, **fields):
    """The running ``run`` pauses for ``approval`` (a Season.PendingApproval) with the data the
    planner is shown; ``fields`` go on the run."""
    with transaction.atomic():
        if not move(run.pk, Status.AWAITING_APPROVAL, source=(Status.RUNNING,), **fields):
            raise IllegalTransition(f"run {run.pk} is not running; it cannot wait for {approval}")
        Season.objects.filter(pk=run.season_id).update(pending_approval=approval, approval_data=data)


def release_approval(season_id, approval, **fields):
    """The planner accepted ``approval``: the season's waiting run is queued to resume (``fields``,
    e.g. the step to resume at, go on the run). False when the season was not waiting for it, or
    another request released it first. Call inside the caller's transaction."""
    season = Season.objects.filter(pk=season_id, pending_approval=approval).first()
    if season is None or not move(season.current_run_id, Status.PENDING, source=(Status.AWAITING_APPROVAL,), **fields):
        return False
    Season.objects.filter(pk=season_id).update(pending_approval="", approval_data={})
    return True


def withdraw_approval(season_id):
    """A replaced week takes back the markdown it recommended: its run ends (completed) and the
    season no longer waits."""
    season = Season.objects.get(pk=season_id)
    move(season.current_run_id, Status.COMPLETED, source=(Status.AWAITING_APPROVAL,))
    Season.objects.filter(pk=season_id).update(pending_approval="", approval_data={})

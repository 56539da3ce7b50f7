"""The one place that moves a season's workflow between states, with the allowed moves written
down once. Every status or phase change is a compare-and-set (``UPDATE ... WHERE status IN
(...)``): the caller names the state it expects to leave, and when another request or job got
there first nothing changes and ``move`` returns False, so exactly one of two racers wins.

Status, one run of the workflow:

    pending -> running            a job claims the queued run
    running -> awaiting_approval  a step asks for the planner's decision (order, markdown)
    running -> completed | failed the run ends
    awaiting_approval -> pending  the planner accepted: queued to resume
    completed -> awaiting_approval  in season, a week's markdown checkpoint pauses the season
    awaiting_approval -> completed  an overwritten week withdraws the markdown it recommended
    pending | running -> pending | failed  recovery re-queues (or gives up on) a run left by a dead process

Phase, the season's life: pre_season -> in_season -> season_complete, and back to in_season when
the last week is replaced.
"""
from planning.models import Workflow

Status = Workflow.Status
Phase = Workflow.Phase
# Steps that are not agent steps: the end of a run, and resuming after an accepted markdown.
DONE = "done"
APPLY_MARKDOWN = "apply_markdown"

TRANSITIONS = {
    Status.PENDING: {Status.RUNNING, Status.PENDING, Status.FAILED},
    Status.RUNNING: {Status.AWAITING_APPROVAL, Status.COMPLETED, Status.FAILED, Status.PENDING},
    Status.AWAITING_APPROVAL: {Status.PENDING, Status.COMPLETED},
    Status.COMPLETED: {Status.AWAITING_APPROVAL},
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
    """The statuses a workflow may move to ``to`` from."""
    return tuple(status for status, targets in TRANSITIONS.items() if to in targets)


def move(workflow_id, to, *, source=None, where=None, **fields):
    """Move the workflow to status ``to`` if it is in one of ``source`` (default: every status
    allowed to move there) and matches ``where`` (extra filters, e.g. the pending approval);
    ``fields`` are written in the same UPDATE. Returns True when this call made the move."""
    allowed = sources(to)
    source = tuple(source) if source is not None else allowed
    illegal = [s for s in source if s not in allowed]
    if illegal:
        raise IllegalTransition(f"{', '.join(illegal)} -> {to} is not an allowed move")
    return bool(Workflow.objects.filter(pk=workflow_id, status__in=source, **(where or {}))
                .update(status=to, **fields))


def change_phase(workflow_id, to, **fields):
    """Move the season to phase ``to`` from the phase that may precede it; True when moved."""
    source = tuple(phase for phase, targets in PHASES.items() if to in targets)
    return bool(Workflow.objects.filter(pk=workflow_id, phase__in=source).update(phase=to, **fields))

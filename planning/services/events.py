"""Workflow events: persisted in order (for replay) and broadcast to the workflow's Channels group.

``emit`` allocates the next sequence number with an ``UPDATE ... SET last_seq = last_seq + 1`` on
the workflow row inside a transaction: the update takes the row lock (PostgreSQL) or the write
lock (SQLite) until commit, so two writers can never get the same seq. The broadcast happens after
the commit, so a subscriber never receives an event that a rollback later erases; a subscriber
that misses a broadcast (or gets one early) fills the gap from the database (planning.consumers).
"""
import asyncio
import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import F

from planning.models import Workflow, WorkflowEvent

logger = logging.getLogger(__name__)

AGENT_STARTED = "agent_started"
AGENT_PROGRESS = "agent_progress"
AGENT_COMPLETED = "agent_completed"
HUMAN_INPUT_REQUIRED = "human_input_required"
WORKFLOW_COMPLETE = "workflow_complete"
ERROR = "error"
TYPES = (AGENT_STARTED, AGENT_PROGRESS, AGENT_COMPLETED, HUMAN_INPUT_REQUIRED, WORKFLOW_COMPLETE, ERROR)

# The event loop that serves WebSocket consumers in this process (set by the consumer). The
# in-memory channel layer keeps asyncio queues bound to that loop, so sends from job threads are
# handed to it; Redis layers work from any loop.
_server_loop = None
_loop_lock = threading.Lock()


def group_name(workflow_id):
    return f"workflow.{workflow_id}"


def register_server_loop(loop):
    global _server_loop
    with _loop_lock:
        _server_loop = loop


def emit(workflow_id, type, **payload):
    """Persist the next event of a workflow and broadcast it after commit. Returns the event."""
    if type not in TYPES:
        raise ValueError(f"unknown event type {type!r}")
    with transaction.atomic():
        updated = Workflow.objects.filter(pk=workflow_id).update(last_seq=F("last_seq") + 1)
        if not updated:
            raise Workflow.DoesNotExist(f"workflow {workflow_id} not found")
        seq = Workflow.objects.filter(pk=workflow_id).values_list("last_seq", flat=True).get()
        event = WorkflowEvent.objects.create(workflow_id=workflow_id, seq=seq, type=type, payload=payload)
        message = event.as_message()
        transaction.on_commit(lambda: broadcast(workflow_id, message), robust=True)
    return event


def events_after(workflow_id, after=0, limit=None):
    """Persisted events with seq > after, in order, as WebSocket messages."""
    qs = WorkflowEvent.objects.filter(workflow_id=workflow_id, seq__gt=after or 0).order_by("seq")
    if limit:
        qs = qs[:limit]
    return [event.as_message() for event in qs]


def broadcast(workflow_id, message):
    """Send one event message to every subscriber of the workflow; never raises."""
    layer = get_channel_layer()
    if layer is None:
        return
    payload = {"type": "workflow.event", "event": message}
    try:
        _group_send(layer, group_name(workflow_id), payload)
    except Exception:  # noqa: BLE001  (the event is persisted; subscribers can replay it)
        logger.exception("Broadcast of event %s of workflow %s failed", message.get("seq"), workflow_id)


def broadcast_timeout():
    """Seconds one broadcast may take (BROADCAST_TIMEOUT_SECONDS, default 2). A Redis that accepts
    connections but never answers would otherwise hold each event for the client's own 5 s."""
    return settings.BROADCAST_TIMEOUT_SECONDS


async def _bounded_group_send(layer, group, payload, timeout):
    await asyncio.wait_for(layer.group_send(group, payload), timeout)


def _group_send(layer, group, payload):
    timeout = broadcast_timeout()
    loop = _server_loop if isinstance(layer, InMemoryChannelLayer) else None
    if loop is not None and loop.is_running() and not loop.is_closed():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(layer.group_send(group, payload))
            return
        asyncio.run_coroutine_threadsafe(layer.group_send(group, payload), loop).result(timeout=timeout)
        return
    async_to_sync(_bounded_group_send)(layer, group, payload, timeout)

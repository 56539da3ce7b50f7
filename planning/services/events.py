"""Season events: persisted in order (for replay) and broadcast to the season's Channels group.
Events belong to the season (one stream, one sequence, whatever run emits them) and name the run
they came from.

``emit`` allocates the next sequence number with an ``UPDATE ... SET last_seq = last_seq + 1`` on
the season row inside a transaction: the update takes the row lock (PostgreSQL) or the write
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

from planning.models import Season, SeasonEvent

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


def group_name(season_id):
    return f"workflow.{season_id}"


def register_server_loop(loop):
    global _server_loop
    with _loop_lock:
        _server_loop = loop


def emit(season_id, type, *, run=None, **payload):
    """Persist the next event of a season (from ``run``, a Run or its id) and broadcast it after
    commit. Returns the event."""
    if type not in TYPES:
        raise ValueError(f"unknown event type {type!r}")
    with transaction.atomic():
        updated = Season.objects.filter(pk=season_id).update(last_seq=F("last_seq") + 1)
        if not updated:
            raise Season.DoesNotExist(f"season {season_id} not found")
        seq = Season.objects.filter(pk=season_id).values_list("last_seq", flat=True).get()
        event = SeasonEvent.objects.create(season_id=season_id, run_id=getattr(run, "pk", run), seq=seq, type=type,
                                           payload=payload)
        message = event.as_message()
        transaction.on_commit(lambda: broadcast(season_id, message), robust=True)
    return event


def events_after(season_id, after=0, limit=None, *, run_id=None):
    """Persisted events with seq > after, in order, as WebSocket messages (only ``run_id``'s when
    given)."""
    qs = SeasonEvent.objects.filter(season_id=season_id, seq__gt=after or 0).order_by("seq")
    if run_id is not None:
        qs = qs.filter(run_id=run_id)
    if limit:
        qs = qs[:limit]
    return [event.as_message() for event in qs]


def broadcast(season_id, message):
    """Send one event message to every subscriber of the season; never raises."""
    layer = get_channel_layer()
    if layer is None:
        return
    payload = {"type": "workflow.event", "event": message}
    try:
        _group_send(layer, group_name(season_id), payload)
    except Exception:  # noqa: BLE001  (the event is persisted; subscribers can replay it)
        logger.exception("Broadcast of event %s of season %s failed", message.get("seq"), season_id)


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

"""The live workflow stream: ``ws://host/api/workflows/<id>/stream[?token=...&after=<seq>]`` (SPEC §7).

- The stream is the season's: a run's id (a week, a manual re-forecast) streams its season's
  events, each naming its ``run_id``.
- Authentication: the session user (AuthMiddlewareStack) or ``?token=`` (an API token). Anonymous
  users and unknown or revoked tokens are refused with close code 4401; an unknown workflow with
  4404. Any signed-in role may watch (viewers read).
- On connect: ``{type: "connection_established", workflow_id, last_seq}``, then the persisted
  events with seq > ``after`` (if given), then live events.
- Order without duplicates: the consumer joins the workflow's group *before* reading the replay, so
  no event falls between the two; live events that arrive meanwhile wait (a consumer handles one
  message at a time) and any with seq <= the last one sent are dropped. If a live event skips a
  seq (its broadcast was lost, or arrived before an earlier one), the gap is read from the
  database first, so every client sees every event once, in seq order.
- Catch-up: a channel layer drops messages for a consumer that falls behind (the in-memory layer
  keeps at most 100 per client) and a lost broadcast at the end of a burst has no later event to
  reveal the gap, so every WEBSOCKET_CATCHUP_SECONDS (default 5) the consumer compares the
  workflow's last_seq with the last event it sent and reads anything missing from the database.
- Heartbeat ``{type: "ping"}`` every WEBSOCKET_HEARTBEAT_SECONDS (default 30). Client messages
  are ignored (``{type: "pong"}`` included; anything else, even invalid JSON, too).
"""
import asyncio
import json
import logging
import uuid
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from planning.api.auth import user_for_token
from planning.models import Run, Season
from planning.services import events

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


def heartbeat_interval():
    return settings.WEBSOCKET_HEARTBEAT_SECONDS


def catchup_interval():
    return settings.WEBSOCKET_CATCHUP_SECONDS


@database_sync_to_async
def _token_user(raw):
    return user_for_token(raw)


@database_sync_to_async
def _season_of(workflow_id):
    """The season a stream id names: a season's own id, or one of its runs' (a run's stream is its
    season's: events belong to the season and name their run)."""
    if Season.objects.filter(pk=workflow_id).exists():
        return workflow_id
    season_id = Run.objects.filter(pk=workflow_id).values_list("season_id", flat=True).first()
    return str(season_id) if season_id else None


@database_sync_to_async
def _workflow_last_seq(season_id):
    return Season.objects.filter(pk=season_id).values_list("last_seq", flat=True).first()


@database_sync_to_async
def _events_between(workflow_id, after, upto=None):
    messages = events.events_after(workflow_id, after)
    return [m for m in messages if upto is None or m["seq"] <= upto]


class WorkflowConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = None
        self.heartbeat = None
        self.last_sent = 0
        self.delivering = asyncio.Lock()  # live events and the catch-up task take turns
        events.register_server_loop(asyncio.get_running_loop())
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        # Accept first, so the refusal can carry a close code the browser sees.
        await self.accept()
        user = await self._user(query)
        if user is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        try:
            self.workflow_id = str(uuid.UUID(str(self.scope["url_route"]["kwargs"]["workflow_id"])))
        except (KeyError, ValueError):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        season_id = await _season_of(self.workflow_id)
        if season_id is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        requested, self.workflow_id = self.workflow_id, season_id
        try:
            after = max(0, int((query.get("after") or ["0"])[0]))
        except ValueError:
            after = 0
        self.group = events.group_name(self.workflow_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Read last_seq after joining the group: every later event then arrives live.
        last_seq = await _workflow_last_seq(self.workflow_id)
        hello = {"type": "connection_established", "workflow_id": self.workflow_id, "last_seq": last_seq}
        if requested != season_id:
            hello["run_id"] = requested  # the run whose id was asked for; the stream is its season's
        await self._send(hello)
        self.last_sent = after
        if "after" in query:
            for message in await _events_between(self.workflow_id, after):
                await self._deliver(message)
        else:
            # Without ?after= only new events follow (the client has the current state by HTTP).
            self.last_sent = max(self.last_sent, last_seq)
        self.heartbeat = asyncio.create_task(self._background())

    async def _user(self, query):
        token = (query.get("token") or [""])[0]
        if token:
            return await _token_user(token)
        user = self.scope.get("user")
        if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
            return user
        return None

    async def _send(self, message):
        await self.send(text_data=json.dumps(message, default=str))

    async def _deliver(self, message):
        async with self.delivering:
            seq = message["seq"]
            if seq <= self.last_sent:
                return
            if seq > self.last_sent + 1:
                await self._fill(seq - 1)
            await self._send(message)
            self.last_sent = seq

    async def _fill(self, upto=None):
        """Send the persisted events after the last one sent (up to ``upto``), in order."""
        for missing in await _events_between(self.workflow_id, self.last_sent, upto):
            if missing["seq"] > self.last_sent:
                await self._send(missing)
                self.last_sent = missing["seq"]

    async def workflow_event(self, content):
        """A live event from the group (see planning.services.events.broadcast)."""
        await self._deliver(content["event"])

    async def _background(self):
        """Heartbeat pings, and the catch-up of events the channel layer did not deliver."""
        loop = asyncio.get_running_loop()
        heartbeat, catchup = heartbeat_interval(), catchup_interval()
        next_ping = loop.time() + heartbeat
        try:
            while True:
                await asyncio.sleep(max(0.0, min(catchup, next_ping - loop.time())))
                if loop.time() >= next_ping:
                    await self._send({"type": "ping"})
                    next_ping = loop.time() + heartbeat
                last_seq = await _workflow_last_seq(self.workflow_id)
                if last_seq is not None and last_seq > self.last_sent:
                    async with self.delivering:
                        await self._fill()
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001  (a closed socket ends the heartbeat)
            logger.debug("Heartbeat stopped for %s", getattr(self, "workflow_id", "?"), exc_info=True)

    async def receive(self, text_data=None, bytes_data=None):
        """Client messages are ignored (a pong only proves the client is alive)."""
        return

    async def disconnect(self, code):
        if self.heartbeat is not None:
            self.heartbeat.cancel()
            self.heartbeat = None
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None

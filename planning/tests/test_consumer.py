"""The workflow WebSocket: authentication, connection_established, replay, live events, heartbeat."""
import asyncio
import json
import uuid

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from planning.models import ApiToken
from planning.routing import websocket_urlpatterns
from planning.services import events
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import accept_order, start_season

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


@pytest.fixture
def token(planner):
    return ApiToken.issue(planner, "ws")[1]


def path(workflow_id, token=None, after=None):
    query = "&".join(part for part in (f"token={token}" if token else "", f"after={after}" if after is not None else "")
                     if part)
    return f"/api/workflows/{workflow_id}/stream" + (f"?{query}" if query else "")


async def connect(url, headers=None):
    communicator = WebsocketCommunicator(APP, url, headers=headers or [])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def receive_until(communicator, stop_type, timeout=30):
    messages = []
    while True:
        message = json.loads(await communicator.receive_from(timeout=timeout))
        messages.append(message)
        if message["type"] == stop_type:
            return messages


async def closed_with(communicator):
    return (await communicator.receive_output(timeout=5))


@pytest.fixture
def season(seeded, planner, inline_jobs, fit_memo):
    return start_season(planner)


async def test_anonymous_and_bad_tokens_are_refused_with_4401(season, planner):
    for url in (path(season.pk), path(season.pk, token="sp_not-a-token")):
        communicator = await connect(url)
        assert await closed_with(communicator) == {"type": "websocket.close", "code": 4401}
    revoked, raw = await database_sync_to_async(ApiToken.issue)(planner, "old")
    revoked.revoked_at = revoked.created_at
    await database_sync_to_async(revoked.save)()
    communicator = await connect(path(season.pk, token=raw))
    assert (await closed_with(communicator))["code"] == 4401


async def test_unknown_workflow_is_4404(token):
    for workflow_id in (uuid.uuid4(), "not-a-uuid"):
        communicator = await connect(path(workflow_id, token=token))
        assert await closed_with(communicator) == {"type": "websocket.close", "code": 4404}


async def test_connection_established_then_replay_after(season, token):
    last_seq = await database_sync_to_async(season.events.count)()
    communicator = await connect(path(season.pk, token=token, after=3))
    hello = await communicator.receive_json_from(timeout=5)
    assert hello == {"type": "connection_established", "workflow_id": str(season.pk), "last_seq": last_seq}
    replayed = [await communicator.receive_json_from(timeout=5) for _ in range(last_seq - 3)]
    assert [m["seq"] for m in replayed] == list(range(4, last_seq + 1))
    assert replayed[-1]["type"] == "human_input_required" and replayed[-1]["workflow_id"] == str(season.pk)
    assert all(m["timestamp"].endswith("Z") for m in replayed)
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_session_user_can_subscribe(season, planner):
    from django.test import Client

    client = Client()
    await database_sync_to_async(client.force_login)(planner)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = await connect(path(season.pk), headers=[(b"cookie", cookie)])
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "connection_established"
    await communicator.disconnect()


async def test_live_events_reach_every_client_in_order(season, token, planner):
    clients = [await connect(path(season.pk, token=token)) for _ in range(2)]
    for communicator in clients:
        assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_established"
    await database_sync_to_async(accept_order)(season, planner)
    received = [await receive_until(communicator, "workflow_complete") for communicator in clients]
    assert received[0] == received[1]
    seqs = [m["seq"] for m in received[0]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert [m["type"] for m in received[0]][-1] == "workflow_complete"
    assert {"agent_started", "agent_progress", "agent_completed"} <= {m["type"] for m in received[0]}
    for communicator in clients:
        await communicator.disconnect()


async def test_no_duplicates_between_replay_and_live(season, token):
    communicator = await connect(path(season.pk, token=token, after=0))
    hello = await communicator.receive_json_from(timeout=5)
    # An event broadcast again (e.g. a retried send) and a gap (a lost broadcast) are both handled.
    replay = [await communicator.receive_json_from(timeout=5) for _ in range(hello["last_seq"])]
    event_a = await database_sync_to_async(events.emit)(season.pk, "agent_progress", agent="inventory",
                                                        message="a", progress_pct=70)
    event_b = await database_sync_to_async(events.emit)(season.pk, "agent_progress", agent="inventory",
                                                        message="b", progress_pct=70)
    live = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
    assert [m["seq"] for m in live] == [event_a.seq, event_b.seq]
    await database_sync_to_async(events.broadcast)(season.pk, replay[0])  # stale duplicate
    await database_sync_to_async(events.broadcast)(season.pk, event_b.as_message())
    assert await communicator.receive_nothing(timeout=0.3)
    # A lost broadcast: seq n+1 persisted but never sent; n+2 arrives live -> n+1 is read first.
    lost = await database_sync_to_async(_emit_without_broadcast)(season.pk)
    after = await database_sync_to_async(events.emit)(season.pk, "agent_progress", agent="inventory",
                                                      message="after", progress_pct=70)
    filled = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
    assert [m["seq"] for m in filled] == [lost, after.seq]
    await communicator.disconnect()


def _emit_without_broadcast(workflow_id):
    from unittest import mock

    with mock.patch.object(events, "broadcast"):
        return events.emit(workflow_id, "agent_progress", agent="inventory", message="lost", progress_pct=70).seq


async def test_heartbeat_and_client_messages_ignored(season, token, settings):
    settings.WEBSOCKET_HEARTBEAT_SECONDS = 0.1
    communicator = await connect(path(season.pk, token=token))
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_established"
    await communicator.send_json_to({"type": "pong"})
    await communicator.send_to(text_data="not json at all")
    await communicator.send_json_to({"type": "subscribe", "workflow_id": "other"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "ping"}
    await communicator.disconnect()


async def test_disconnect_leaves_the_group(season, token):
    from channels.layers import get_channel_layer

    communicator = await connect(path(season.pk, token=token))
    await communicator.receive_json_from(timeout=5)
    layer = get_channel_layer()
    group = events.group_name(season.pk)
    assert len(layer.groups.get(group, {})) == 1
    await communicator.disconnect()
    await asyncio.sleep(0)
    assert len(layer.groups.get(group, {})) == 0


async def test_catch_up_delivers_a_lost_last_event(season, token, settings):
    """A lost broadcast with no later event to reveal the gap is read from the database."""
    settings.WEBSOCKET_CATCHUP_SECONDS = 0.1
    communicator = await connect(path(season.pk, token=token))
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_established"
    lost = await database_sync_to_async(_emit_without_broadcast)(season.pk)
    message = await communicator.receive_json_from(timeout=5)
    assert message["seq"] == lost and message["message"] == "lost"
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


@pytest.fixture
def redis_layer(settings):
    """A throwaway redis-server on a free local port as the channel layer (skipped without one)."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}/0"]}}}
    yield
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.services
async def test_live_events_over_redis_from_a_job_thread(season, token, redis_layer):
    """With channels-redis, an event emitted from a worker thread (as a job does) reaches clients."""
    import threading

    clients = [await connect(path(season.pk, token=token)) for _ in range(2)]
    for communicator in clients:
        assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_established"
    seqs = []

    def job():
        from django.db import connection

        for i in range(3):
            seqs.append(events.emit(season.pk, "agent_progress", agent="demand", message=f"r{i}", progress_pct=1).seq)
        connection.close()

    thread = threading.Thread(target=job)
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    for communicator in clients:
        received = [await communicator.receive_json_from(timeout=5) for _ in range(3)]
        assert [m["seq"] for m in received] == seqs and received[0]["message"] == "r0"
        await communicator.disconnect()

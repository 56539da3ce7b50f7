"""forecast_site.handler: each HTTP request's middleware and view run in one pooled worker thread."""
import asyncio
import json
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import signals
from django.db import connections
from django.http import HttpResponse, StreamingHttpResponse

from forecast_site.handler import ThreadedASGIHandler
from planning.models import ApiToken


def call(app, path="/api/health", headers=()):
    """One GET through ``app``; returns (status, headers, body)."""

    async def run():
        sent, delivered = [], asyncio.Event()

        async def receive():
            if not delivered.is_set():
                delivered.set()
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.sleep(3600)

        async def send(message):
            sent.append(message)

        route, _, query = path.partition("?")
        scope = {"type": "http", "method": "GET", "path": route, "raw_path": route.encode(),
                 "query_string": query.encode(), "headers": [(b"host", b"testserver"), *headers],
                 "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
                 "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "root_path": ""}
        await asyncio.wait_for(app(scope, receive, send), timeout=10)
        return sent

    sent = asyncio.run(run())
    start = sent[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def handler():
    made = ThreadedASGIHandler(worker_threads=2)
    yield made
    made.shutdown()


def test_the_asgi_application_serves_http_with_the_pooled_handler():
    from forecast_site.asgi import django_asgi_app

    assert isinstance(django_asgi_app, ThreadedASGIHandler)


@pytest.mark.django_db(transaction=True)
def test_api_requests_through_the_handler(handler, viewer, demo_stores):
    _, token = ApiToken.issue(viewer, "handler test")
    status, headers, body = call(handler, "/api/stores?limit=2",
                                 [(b"authorization", f"Bearer {token}".encode())])
    assert status == 200 and headers[b"Content-Type"] == b"application/json; charset=utf-8"
    assert [store["store_id"] for store in json.loads(body)["items"]] == ["S001", "S002"]
    assert call(handler, "/api/stores")[0] == 401


@pytest.mark.django_db(transaction=True)
def test_shutdown_closes_the_connection_of_every_worker():
    handler = ThreadedASGIHandler(worker_threads=3)
    barrier = threading.Barrier(3)

    def connect():
        barrier.wait(timeout=10)
        connections["default"].ensure_connection()
        return connections["default"]

    held = [f.result() for f in [handler.executor.submit(connect) for _ in range(3)]]
    assert len({id(wrapper) for wrapper in held}) == 3
    assert all(wrapper.connection is not None for wrapper in held)
    handler.shutdown()
    # (Django keeps an in-memory SQLite test database open whatever is asked: PostgreSQL run only.)
    assert all(wrapper.connection is None or wrapper.is_in_memory_db() for wrapper in held)


@pytest.mark.django_db(transaction=True)
def test_request_started_view_and_request_finished_share_one_worker_thread(handler, monkeypatch):
    """Django's connection housekeeping (request_started/finished) must run on the thread whose
    connection the view used."""
    seen = []

    def note(name):
        return lambda **kwargs: seen.append((name, threading.current_thread().name))

    started, finished = note("started"), note("finished")
    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    monkeypatch.setattr(handler, "get_response",
                        lambda request: seen.append(("view", threading.current_thread().name))
                        or HttpResponse("ok"))
    try:
        assert call(handler, "/anything") == (200, {b"Content-Type": b"text/html; charset=utf-8"},
                                              b"ok")
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert [name for name, _ in seen] == ["started", "view", "finished"]
    assert len({thread for _, thread in seen}) == 1
    assert seen[0][1].startswith("http-worker")


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_a_streaming_response_is_sent_and_closed(handler, monkeypatch):
    closed = []
    response = StreamingHttpResponse(iter([b"week,units\r\n", b"1,812\r\n"]))
    response._resource_closers.append(lambda: closed.append(True))
    monkeypatch.setattr(handler, "get_response", lambda request: response)
    status, _, body = call(handler, "/export.csv")
    assert (status, body, closed) == (200, b"week,units\r\n1,812\r\n", [True])


def test_a_view_broadcasting_with_async_to_sync_reaches_the_server_loop(handler, monkeypatch):
    """Views broadcast workflow events with async_to_sync(channel_layer.group_send); from a pooled
    worker that must run on the server's event loop (the in-memory layer's queues live there)."""
    layer = get_channel_layer()

    def view(request):
        async_to_sync(layer.group_send)("handler-test", {"type": "event", "n": 1})
        return HttpResponse("sent")

    monkeypatch.setattr(handler, "get_response", view)

    async def run():
        channel = await layer.new_channel()
        await layer.group_add("handler-test", channel)
        sent = []

        async def receive():
            if not sent:
                sent.append(True)
                return {"type": "http.request", "body": b""}
            await asyncio.sleep(3600)

        async def send(message):
            pass

        scope = {"type": "http", "method": "POST", "path": "/x", "query_string": b"",
                 "headers": [(b"host", b"testserver")], "asgi": {"version": "3.0"},
                 "http_version": "1.1", "scheme": "http", "server": ("testserver", 80),
                 "client": ("127.0.0.1", 5000), "root_path": ""}
        await asyncio.wait_for(handler(scope, receive, send), timeout=10)
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    assert asyncio.run(run()) == {"type": "event", "n": 1}

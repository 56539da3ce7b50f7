"""A tiny local OpenAI-compatible server for tests: POST /v1/chat/completions with scripted replies.

Usage in any test module::

    from agents.tests.fake_openai import FakeReply, fake_openai_server  # noqa: F401 (fixture)

    def test_something(fake_openai_server):
        fake_openai_server.script(FakeReply.answer({...}))
        client = openai.OpenAI(api_key="test", base_url=fake_openai_server.base_url)

Replies are served in order and the last one repeats. Every request body is recorded in `requests`.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class FakeReply:
    """One scripted reply: the assistant message content, or an HTTP error, optionally after a delay."""

    content: str = "{}"
    status: int = 200
    delay_seconds: float = 0.0
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160}
    )

    @classmethod
    def answer(cls, payload: dict[str, Any], **options: Any) -> FakeReply:
        """A well-formed answer whose message content is `payload` as JSON."""
        return cls(content=json.dumps(payload), **options)

    @classmethod
    def invalid_json(cls) -> FakeReply:
        return cls(content="Sure! Here are your parameters: {horizon: twelve")

    @classmethod
    def error(cls, status: int = 500) -> FakeReply:
        return cls(status=status)

    @classmethod
    def slow(cls, seconds: float, payload: dict[str, Any] | None = None) -> FakeReply:
        return cls(content=json.dumps(payload or {}), delay_seconds=seconds)


class FakeOpenAIServer:
    """Serves chat completions on 127.0.0.1 (random port) from a background thread."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._replies: list[FakeReply] = [FakeReply()]
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        self._http.block_on_close = False
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: FakeReply) -> None:
        """Serve these replies in order; the last one repeats."""
        with self._lock:
            self._replies = list(replies)

    def next_reply(self, body: dict[str, Any]) -> FakeReply:
        with self._lock:
            self.requests.append(body)
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            reply = server.next_reply(body)
            time.sleep(reply.delay_seconds)
            if reply.status != 200:
                self._send(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
                return
            self._send(200, _completion(body.get("model", "fake-model"), reply))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("retry-after-ms", "10")  # keep client retries fast
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout); nothing to answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
            """Keep test output quiet."""

    return Handler


def _completion(model: str, reply: FakeReply) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": reply.usage,
    }


@pytest.fixture
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    """A running FakeOpenAIServer; import this fixture into a test module to use it."""
    with FakeOpenAIServer() as server:
        yield server

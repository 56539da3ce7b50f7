"""A local OpenAI-compatible chat-completions server that answers with scripted tool calls.

``agents.tests.fake_openai`` serves message content only; the agents need tool calls (and
handoffs, which are tool calls too). Serves POST /v1/chat/completions on 127.0.0.1 (random port)
from a background thread, one scripted turn per request, and records every request body and its
Authorization header. A request after the script ran out gets a 500, so an over-long run shows.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class ChatTurn:
    """One scripted assistant turn: tool calls, or a final message."""

    tool_calls: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    content: str | None = None
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 300, "completion_tokens": 20, "total_tokens": 320})

    @classmethod
    def calling(cls, *calls: str | tuple[str, Mapping[str, Any]]) -> ChatTurn:
        """Call tools at once: a name, or (name, arguments)."""
        return cls(tool_calls=tuple((call, {}) if isinstance(call, str) else call for call in calls))

    @classmethod
    def answering(cls, text: str) -> ChatTurn:
        return cls(content=text)


class FakeChatServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self._turns: list[ChatTurn] = []
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-chat-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *turns: ChatTurn) -> None:
        with self._lock:
            self._turns = list(turns)

    def next_turn(self, body: dict[str, Any], authorization: str | None) -> ChatTurn | None:
        with self._lock:
            self.requests.append(body)
            self.authorizations.append(authorization)
            return self._turns.pop(0) if self._turns else None

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.shutdown()
        self._http.server_close()


def _handler_for(server: FakeChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            turn = server.next_turn(body, self.headers.get("Authorization"))
            if turn is None:
                self._send(500, {"error": {"message": "the script ran out", "type": "server_error"}})
                return
            self._send(200, _completion(body.get("model", "fake-model"), turn, len(server.requests)))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
            """Keep test output quiet."""

    return Handler


def _completion(model: str, turn: ChatTurn, number: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": turn.content, "refusal": None}
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{number}_{i}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(dict(arguments))}}
            for i, (name, arguments) in enumerate(turn.tool_calls)
        ]
    return {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": "tool_calls" if turn.tool_calls else "stop"}],
        "usage": turn.usage,
    }


@pytest.fixture
def fake_chat_server() -> Iterator[FakeChatServer]:
    """A running FakeChatServer; import this fixture into a test module to use it."""
    with FakeChatServer() as server:
        yield server

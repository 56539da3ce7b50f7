"""The WebSocket refuses cross-site browser pages but lets token clients without Origin in."""
import pytest
from channels.testing import WebsocketCommunicator

from forecast_site.asgi import application


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "headers, accepted_by_origin_check",
    [
        ([(b"origin", b"http://evil.example")], False),
        ([(b"origin", b"http://127.0.0.1:8000")], True),
        ([], True),
    ],
)
async def test_origin_check(headers, accepted_by_origin_check):
    communicator = WebsocketCommunicator(
        application, "/api/workflows/00000000-0000-0000-0000-000000000000/stream", headers=headers
    )
    connected, _ = await communicator.connect()
    # A refused origin never reaches the consumer (the handshake is denied). Past the origin check
    # the consumer accepts, then closes an anonymous client with 4401 (a code browsers can see).
    assert connected is accepted_by_origin_check
    if connected:
        closing = await communicator.receive_output()
        assert closing == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()

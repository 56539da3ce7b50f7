"""WebSocket routes (Channels): the live event stream of a workflow (planning.consumers)."""
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from planning.consumers import WorkflowConsumer

websocket_urlpatterns = [
    path("api/workflows/<str:workflow_id>/stream", WorkflowConsumer.as_asgi()),
]


class BrowserOriginValidator(OriginValidator):
    """Check the Origin of browser handshakes against ALLOWED_HOSTS, and let clients that send
    no Origin through.

    Browsers always send Origin on a WebSocket handshake, so cross-site pages are still refused.
    Scripts and servers (``?token=`` clients) usually send none; channels' stock validator would
    refuse them with 403 although the token authenticates them."""

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def browser_origin_validator(application):
    return BrowserOriginValidator(application, settings.ALLOWED_HOSTS)

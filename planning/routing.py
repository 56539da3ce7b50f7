"""WebSocket routes (Channels): the live event stream of a workflow (planning.consumers)."""
from django.urls import path

from planning.consumers import WorkflowConsumer

websocket_urlpatterns = [
    path("api/workflows/<str:workflow_id>/stream", WorkflowConsumer.as_asgi()),
]

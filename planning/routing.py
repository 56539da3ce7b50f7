"""WebSocket routes (Channels)."""
websocket_urlpatterns = []

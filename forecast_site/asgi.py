"""ASGI entry point: HTTP through Django (behind the request body size limit, each request's
middleware and view in one worker thread: see forecast_site.handler), WebSockets through Channels
(served by daphne)."""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forecast_site.settings")
django.setup(set_prefix=False)

from forecast_site.handler import ThreadedASGIHandler  # noqa: E402

django_asgi_app = ThreadedASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from forecast_site.limits import BodySizeLimit  # noqa: E402
from planning.routing import browser_origin_validator, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodySizeLimit(django_asgi_app),
        "websocket": browser_origin_validator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Resume or fail workflows a dead process left running (in a background thread; see
# planning.services.recovery.recover_on_startup; WORKFLOW_RECOVER_ON_START=False turns it off).
from planning.services.recovery import recover_on_startup  # noqa: E402

recover_on_startup()

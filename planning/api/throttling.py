"""Per-user rate limit of the costly endpoints: extraction (may call an LLM), uploads (parse
and write whole files) and scenario comparisons (simulate thousands of seasons), on the API and on the
pages' forms (planning.views.access.rate_limited).

Each user may make settings.RATE_LIMIT_PER_MINUTE requests per minute to each scope (read per
request, so tests and operators can change it). Over the limit the API answers 429
``{"detail": ...}`` with a Retry-After header. The counts live in Django's cache, which is local
to the process by default: with N ASGI processes a user gets up to N times the limit unless
CACHES points at a shared cache.
"""
import threading

from django.conf import settings
from ninja.throttling import SimpleRateThrottle


class PerUserRateThrottle(SimpleRateThrottle):
    """A sliding one-minute window per (scope, user); anonymous requests never get this far."""

    _lock = threading.Lock()  # makes read-modify-write of a window atomic within the process

    def __init__(self, scope):
        self.scope = scope
        super().__init__(rate="1/m")  # placeholder: allow_request reads the setting

    def get_cache_key(self, request):
        # The API authenticates into request.auth, the pages into request.user: one count per
        # user for both, so alternating between them does not double the limit.
        user = getattr(request, "auth", None) or getattr(request, "user", None)
        ident = getattr(user, "pk", None) or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request):
        self.num_requests, self.duration = settings.RATE_LIMIT_PER_MINUTE, 60
        with self._lock:
            return super().allow_request(request)


EXTRACTION = PerUserRateThrottle("extraction")
UPLOADS = PerUserRateThrottle("uploads")
SCENARIOS = PerUserRateThrottle("scenarios")

"""Per-user rate limit of the costly endpoints: extraction (may call an LLM), uploads (parse
and write whole files) and scenario comparisons (simulate thousands of seasons), on the API and on the
pages' forms (planning.views.access.rate_limited).

Each user may make settings.RATE_LIMIT_PER_MINUTE requests per minute to each scope (read per
request, so tests and operators can change it). Over the limit the API answers 429
``{"detail": ...}`` with a Retry-After header. The counts live in Django's cache (local to the
process by default; with REDIS_URL one Redis for every process) and only ever change by atomic
increments, so N processes sharing the cache enforce one limit, concurrent requests included.
"""

import threading
import time

from django.conf import settings
from django.core.cache import cache
from ninja.throttling import BaseThrottle

WINDOW = 60  # seconds


class PerUserRateThrottle(BaseThrottle):
    """A sliding one-minute window per (scope, user), as a sliding-window counter: the requests
    of this minute plus last minute's, weighted by the share of it still inside the window. Each
    minute's count is one cache key, raised with ``incr`` (atomic in Redis and in the local
    cache); a refused request gives its count back. Anonymous requests never get this far."""

    def __init__(self, scope):
        self.scope = scope
        self._refused = threading.local()  # the Retry-After of this thread's last refusal

    def key(self, request, window):
        # The API authenticates into request.auth, the pages into request.user: one count per
        # user for both, so alternating between them does not double the limit.
        user = getattr(request, "auth", None) or getattr(request, "user", None)
        ident = getattr(user, "pk", None) or self.get_ident(request)
        return f"throttle:{self.scope}:{ident}:{window}"

    def allow_request(self, request):
        limit, now = settings.RATE_LIMIT_PER_MINUTE, time.time()
        window, into = divmod(now, WINDOW)
        key = self.key(request, int(window))
        cache.add(key, 0, timeout=2 * WINDOW + 10)
        count = cache.incr(key)
        previous = cache.get(self.key(request, int(window) - 1), 0)
        if previous * (1 - into / WINDOW) + count <= limit:
            return True
        cache.decr(key)
        self._refused.wait = self._wait(limit, count - 1, previous, into)
        return False

    @staticmethod
    def _wait(limit, count, previous, into):
        """Seconds until one more request fits: when last minute's weight has fallen enough, or
        at the next minute if this minute alone is full."""
        if count + 1 > limit or previous <= 0:
            return WINDOW - into
        return min(WINDOW - into, max(1.0, WINDOW * (1 - (limit - count - 1) / previous) - into))

    def wait(self):
        return getattr(self._refused, "wait", WINDOW)


EXTRACTION = PerUserRateThrottle("extraction")
UPLOADS = PerUserRateThrottle("uploads")
SCENARIOS = PerUserRateThrottle("scenarios")

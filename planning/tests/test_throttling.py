"""The per-user rate limit as a sliding-window counter (planning.api.throttling), on the clock."""
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from planning.api import throttling

LIMIT = 3


@pytest.fixture
def clock(monkeypatch, settings):
    settings.RATE_LIMIT_PER_MINUTE = LIMIT
    cache.clear()
    now = {"t": 6_000_000.0}  # the start of a minute
    monkeypatch.setattr(throttling.time, "time", lambda: now["t"])
    return now


def request(pk=1):
    return SimpleNamespace(auth=SimpleNamespace(pk=pk), META={})


def test_the_limit_holds_in_a_minute_and_a_refusal_uses_no_quota(clock):
    throttle = throttling.PerUserRateThrottle("test")
    assert [throttle.allow_request(request()) for _ in range(LIMIT)] == [True] * LIMIT
    clock["t"] += 20
    assert not throttle.allow_request(request()) and throttle.wait() == pytest.approx(40)
    assert not throttle.allow_request(request())  # refused again, and the count did not grow
    assert throttle.allow_request(request(pk=2))  # another user has a quota of their own
    clock["t"] += 40  # the next minute: last minute's 3 weigh 3 x (1 - 0) = 3
    assert not throttle.allow_request(request())
    clock["t"] += 30  # half way: 3 x 0.5 = 1.5, so one more fits (2.5), a second does not (3.5)
    assert throttle.allow_request(request()) and not throttle.allow_request(request())
    assert 1 <= throttle.wait() <= 30
    clock["t"] += throttle.wait()
    assert throttle.allow_request(request())


def test_counts_are_shared_by_every_throttle_of_a_scope(clock):
    """Two processes are two throttle objects over one cache: one limit between them."""
    first, second = throttling.PerUserRateThrottle("shared"), throttling.PerUserRateThrottle("shared")
    allowed = [(first if n % 2 else second).allow_request(request()) for n in range(LIMIT + 2)]
    assert allowed == [True] * LIMIT + [False, False]

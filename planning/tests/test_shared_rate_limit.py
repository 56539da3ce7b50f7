"""With REDIS_URL set, two daphne processes enforce ONE per-user rate limit (the counts live in the
shared Redis cache), where each process alone would allow the full limit."""
import uuid

import pytest

from planning.tests import processes
from planning.tests.processes import api, free_port, reachable, stop

pytestmark = [pytest.mark.services, pytest.mark.slow]
LIMIT = 4
BRIEF = {"user_input": "Spring dresses, 12 weeks from March 1 2025, weekly replenishment, 45% held back"}


@pytest.fixture
def database(tmp_path):
    if not reachable(6379):
        pytest.skip("Redis not reachable on 127.0.0.1:6379: shared rate limit test skipped")
    return f"sqlite:///{tmp_path / 'db.sqlite3'}"


def test_two_processes_share_one_limit(database):
    env = processes.env_for(database, REDIS_URL="redis://127.0.0.1:6379/2", RATE_LIMIT_PER_MINUTE=str(LIMIT),
                            CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}")  # no counts from another run
    token = processes.seed(env)
    ports = [free_port(), free_port()]
    servers = [processes.daphne(env, port) for port in ports]
    try:
        statuses = [api(ports[n % 2], "POST", "/api/parameters/extract", token, BRIEF, timeout=60)[0]
                    for n in range(LIMIT + 2)]
        assert statuses[:LIMIT] == [200] * LIMIT, statuses
        assert statuses[LIMIT:] == [429, 429], statuses  # each process saw only LIMIT / 2 + 1
    finally:
        for server in servers:
            stop(server)

"""Plan two categories on Celery (issue #17), for real: a fresh PostgreSQL database, two Celery
workers on Redis and one daphne; POST /api/workflows/forecast-batch starts both seasons, the workers
run them (in parallel, one each when both are free) and GET /api/batches/{id} follows them to the
approval. Skipped unless PostgreSQL and Redis answer on 127.0.0.1."""
import subprocess
import sys

import pytest

from planning.tests import processes
from planning.tests.processes import REPO, api, free_port, poll, reachable, stop
from planning.tests.season_fixtures import PARAMS
from planning.tests.test_scale_out import PG, REDIS, celery_worker

pytestmark = [pytest.mark.services, pytest.mark.slow]
DATABASE = "season_planner_batch"
BROKER = f"{REDIS}/3"
SECOND_HISTORY = ("import django; django.setup(); "
                  "from planning.tests.season_fixtures import seed_history; seed_history('mens_shirts')")


@pytest.fixture
def batch_database():
    missing = [name for name, port in (("PostgreSQL", 5432), ("Redis", 6379)) if not reachable(port)]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not reachable on 127.0.0.1: Celery batch test skipped")
    import psycopg
    import redis

    def admin(sql):
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    admin(f"CREATE DATABASE {DATABASE}")
    yield f"{PG}/{DATABASE}"
    redis.Redis.from_url(BROKER).flushdb()
    admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def test_two_categories_run_on_celery_workers(batch_database):
    env = processes.env_for(batch_database, REDIS_URL=f"{REDIS}/0", CELERY_BROKER_URL=BROKER,
                            WORKFLOW_RECOVER_ON_START="0")
    token = processes.seed(env)  # stores, and the history of womens_dresses
    seeded = subprocess.run([sys.executable, "-c", SECOND_HISTORY], cwd=REPO, capture_output=True, text=True,
                            env={**env, "DJANGO_SETTINGS_MODULE": "forecast_site.settings"}, timeout=180)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    port = free_port()
    started = [celery_worker(env, "batch-a"), celery_worker(env, "batch-b"), processes.daphne(env, port)]
    try:
        health = api(port, "GET", "/api/health", token, timeout=60)[1]
        assert health["job_runner"]["backend"] == "celery", health
        status, created = api(port, "POST", "/api/workflows/forecast-batch", token,
                              {"category_ids": ["womens_dresses", "mens_shirts"], "parameters": PARAMS}, timeout=60)
        assert status == 201, created
        assert [w["category_id"] for w in created["workflows"]] == ["womens_dresses", "mens_shirts"]

        def batch():
            return api(port, "GET", f"/api/batches/{created['batch_id']}", token)[1]

        assert poll(lambda: batch()["status"] != "running", timeout=180, interval=0.5)
        final = batch()
        assert final["status"] == "ready", final
        assert final["counts"]["awaiting_approval"] == 2 and final["finished"] == 2
        for row in final["workflows"]:
            season = api(port, "GET", f"/api/workflows/{row['workflow_id']}", token)[1]
            assert season["pending_approval"]["action"] == "approve_manufacturing_order"
    finally:
        for process in reversed(started):
            stop(process)

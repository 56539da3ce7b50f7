"""The scaled-out configuration, for real: PostgreSQL, the Redis channel layer and a Celery worker
shared by two daphne processes; and a Celery worker killed mid-forecast, resumed by
``manage.py recover_workflows`` on another worker.

A forecast started through daphne A runs on the Celery worker; a WebSocket client connected to
daphne B receives the worker's events (human_input_required included); the approval goes through
A and B sees workflow_complete. B's periodic catch-up from the database is switched off, so every
live event B forwards came through Redis. Runs on a database of its own (created, migrated and
dropped here), Redis db 0 (channel layer) and db 1 (Celery broker).
"""
import json
import signal
import subprocess
import sys
import time
import uuid

import pytest

from planning.tests import processes
from planning.tests.processes import REPO, api, free_port, poll, reachable, stop
from planning.tests.season_fixtures import PARAMS

pytestmark = [pytest.mark.services, pytest.mark.slow]

PG = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"
DATABASE = "season_planner_scaleout"


@pytest.fixture
def scaleout_database():
    missing = [name for name, port in (("PostgreSQL", 5432), ("Redis", 6379)) if not reachable(port)]
    if missing:
        reason = f"{' and '.join(missing)} not reachable on 127.0.0.1: scale-out test skipped"
        print(reason)
        pytest.skip(reason)
    import psycopg

    def admin(sql):
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    admin(f"CREATE DATABASE {DATABASE}")
    yield f"{PG}/{DATABASE}"
    admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def celery_worker(env, name):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "forecast_site", "worker", "--pool=solo", "-l", "warning",
         "-n", f"{name}-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _receive_until(ws, stop_type, timeout):
    messages = []
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        messages.append(message)
        if message["type"] == stop_type:
            return messages


def test_events_from_a_celery_worker_reach_a_client_on_another_daphne(scaleout_database):
    from websockets.sync.client import connect

    env = processes.env_for(scaleout_database, REDIS_URL=f"{REDIS}/0", CELERY_BROKER_URL=f"{REDIS}/1",
                            WORKFLOW_RECOVER_ON_START="0")
    token = processes.seed(env)
    started = []
    try:
        started.append(celery_worker(env, "scaleout"))
        port_a, port_b = free_port(), free_port()
        started.append(processes.daphne(env, port_a))
        started.append(processes.daphne({**env, "WEBSOCKET_CATCHUP_SECONDS": "3600"}, port_b))
        assert api(port_b, "GET", "/api/health", token, timeout=60)[1]["channel_layer"]["backend"] == "RedisChannelLayer"
        health = api(port_a, "GET", "/api/health", token, timeout=60)[1]
        assert health["status"] == "ok" and health["job_runner"]["backend"] == "celery", health

        status, created = api(port_a, "POST", "/api/workflows/forecast", token,
                              {"category_id": "womens_dresses", "parameters": PARAMS})
        assert status == 201, created
        workflow_id = created["workflow_id"]
        url = f"ws://127.0.0.1:{port_b}/api/workflows/{workflow_id}/stream?token={token}&after=0"
        with connect(url, open_timeout=10) as ws:
            hello = json.loads(ws.recv(timeout=10))
            assert hello["type"] == "connection_established"
            before = _receive_until(ws, "human_input_required", timeout=90)
            assert before[-1]["action"] == "approve_manufacturing_order"
            assert before[-1]["data"]["manufacturing_qty"] > 0

            status, approved = api(port_a, "POST", "/api/approvals/manufacturing", token,
                                   {"workflow_id": workflow_id, "action": "accept"})
            assert status == 200 and approved["committed"], approved
            after = _receive_until(ws, "workflow_complete", timeout=60)  # live: only Redis brings it
        seqs = [m["seq"] for m in before + after]
        assert seqs == list(range(1, len(seqs) + 1))
        assert {"agent_started", "agent_completed"} <= {m["type"] for m in before}
        assert after[-1]["result"]["manufacturing_qty"] == approved["order"]["manufacturing_qty"]
        assert api(port_b, "GET", f"/api/workflows/{workflow_id}", token)[1]["status"] == "completed"
    finally:
        for process in reversed(started):
            stop(process)


def test_a_celery_worker_killed_mid_forecast_is_resumed_by_recover_workflows(scaleout_database):
    """Worker A takes the forecast and is SIGKILLed while it runs: the task is acked late, so the
    broker would only hand it out again after its visibility timeout (an hour). recover_workflows
    (cron in production) sees the stale heartbeat and resubmits it; worker B runs it to the
    approval, with the resume as an event and every event seq exactly once."""
    env = processes.env_for(scaleout_database, REDIS_URL=f"{REDIS}/0", CELERY_BROKER_URL=f"{REDIS}/2",
                            WORKFLOW_RECOVER_ON_START="0", WORKFLOW_HEARTBEAT_SECONDS="0.5",
                            WORKFLOW_STALE_SECONDS="2")
    token = processes.seed(env)
    port = free_port()
    server, first, second = processes.daphne(env, port), celery_worker(env, "doomed"), None
    try:
        status, created = api(port, "POST", "/api/workflows/forecast", token,
                              {"category_id": "womens_dresses", "parameters": PARAMS}, timeout=60)
        assert status == 201, created
        workflow_id = created["workflow_id"]

        def state():
            return api(port, "GET", f"/api/workflows/{workflow_id}", token)[1]["status"]

        assert poll(lambda: state() == "running", timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        time.sleep(3)  # the heartbeat goes stale
        assert state() == "running"  # nothing else will finish it

        second = celery_worker(env, "rescuer")
        recovered = subprocess.run([sys.executable, "manage.py", "recover_workflows"], cwd=REPO, env=env,
                                   capture_output=True, text=True, timeout=120)
        assert recovered.returncode == 0, recovered.stderr[-2000:]
        assert f"{workflow_id}: resumed at step demand" in recovered.stdout, recovered.stdout
        assert poll(lambda: state() in ("awaiting_approval", "failed"), timeout=120, interval=0.5)
        assert state() == "awaiting_approval"
        body = api(port, "GET", f"/api/workflows/{workflow_id}/events", token)[1]
    finally:
        for process in (second, first, server):
            if process is not None:
                stop(process)
        import redis

        redis.Redis.from_url(f"{REDIS}/2").flushdb()  # the dead worker's unacked task
    seqs = [event["seq"] for event in body["events"]]
    assert seqs == list(range(1, len(seqs) + 1)) and body["last_seq"] == len(seqs)
    messages = [event.get("message", "") for event in body["events"]]
    assert any(m.startswith("Resuming step demand after the process running it stopped") for m in messages)
    assert body["events"][-1]["type"] == "human_input_required"

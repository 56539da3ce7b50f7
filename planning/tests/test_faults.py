"""Faults: a worker killed mid-forecast, an LLM that fails or hangs, Redis down, a locked SQLite.

Each fault must end in a clear state with an event or a clear answer: nothing stays running, no
silent fallback, no lost event, no 500.
"""
import json
import logging
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection  # noqa: F401  (read by the skip condition)

from planning.tests import processes
from planning.tests.processes import REPO, api, free_port, poll, stop
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures; this module also runs as a script)
from planning.tests.season_fixtures import PARAMS, start_season

file_process_test = pytest.mark.skipif(
    "connection.vendor != 'sqlite'",
    reason="runs servers on a temporary SQLite file; independent of the database under test, so it runs "
           "in the SQLite pass only")


def _file_env(db_path, **extra):
    return processes.env_for(f"sqlite:///{db_path}", **extra)


def _row(db_path, sql, *params):
    with sqlite3.connect(db_path, timeout=30) as db:
        return db.execute(sql, params).fetchall()


# --- a killed worker --------------------------------------------------------------------------------


@file_process_test
def test_killed_server_resumes_the_forecast_on_restart(tmp_path):
    """daphne A runs a forecast in its job thread and is killed with SIGKILL mid-run: the workflow
    is left running. daphne B starts on the same database, its start-up recovery sees the stale
    heartbeat and resumes the step; the run reaches the approval, with the resume as an event
    and every event seq exactly once."""
    db_path = tmp_path / "kill.sqlite3"
    env = _file_env(db_path, WORKFLOW_HEARTBEAT_SECONDS="0.5", WORKFLOW_STALE_SECONDS="2")
    token = processes.seed(env)
    port = free_port()
    first = processes.daphne(env, port)
    try:
        status, body = api(port, "POST", "/api/workflows/forecast", token,
                           {"category_id": "womens_dresses", "parameters": PARAMS})
        assert status == 201, body
        workflow_id = body["workflow_id"].replace("-", "")
        assert poll(lambda: _row(db_path, "SELECT 1 FROM planning_run WHERE id = ? AND status = 'running'",
                                 workflow_id), timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    (status,), = _row(db_path, "SELECT status FROM planning_run WHERE id = ?", workflow_id)
    assert status == "running"  # killed mid-run: nothing else will finish it

    time.sleep(2.5)  # the heartbeat goes stale
    second = processes.daphne(env, port)
    try:
        done = poll(lambda: _row(db_path, "SELECT status FROM planning_run WHERE id = ? AND status IN "
                                 "('awaiting_approval', 'failed')", workflow_id), timeout=90, interval=0.2)
        assert done == [("awaiting_approval",)]
        status, body = api(port, "GET", f"/api/workflows/{body['workflow_id']}/events", token)
    finally:
        stop(second)
    seqs = [event["seq"] for event in body["events"]]
    assert seqs == list(range(1, len(seqs) + 1)) and body["last_seq"] == len(seqs)
    messages = [event.get("message", "") for event in body["events"]]
    assert any(m.startswith("Resuming step demand after the process running it stopped") for m in messages)
    assert body["events"][-1]["type"] == "human_input_required"


# --- LLM failures -------------------------------------------------------------------------------------


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers (a hung model server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    closing = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not closing.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    closing.set()
    thread.join(timeout=5)
    for conn in accepted:
        conn.close()
    server.close()


def _llm_settings(settings, port, timeout):
    settings.OPENAI_API_KEY = "sk-test-not-a-key"
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{port}/v1"
    settings.OPENAI_TIMEOUT_SECONDS = timeout


def _check_fallback(workflow, reason_fragment):
    workflow.refresh_from_db()
    assert workflow.status == "awaiting_approval" and workflow.current_run.runner == "llm", workflow.current_run.error
    steps = {e.payload["step"]: e.payload for e in workflow.events.filter(type="agent_completed")}
    for step in ("demand", "inventory"):
        assert steps[step]["runner"] == "deterministic" and steps[step]["fallback"] is True
        assert steps[step]["fallback_reason"].startswith("rule-based fallback")
        assert reason_fragment in steps[step]["fallback_reason"].lower(), steps[step]["fallback_reason"]


def test_unreachable_llm_falls_back_to_the_rules_with_an_event(seeded, planner, inline_jobs, fit_memo, settings):
    _llm_settings(settings, free_port(), timeout=5)  # nothing listens there
    started = time.perf_counter()
    workflow = start_season(planner)
    assert time.perf_counter() - started < 30
    _check_fallback(workflow, "connection")


def test_hung_llm_times_out_and_falls_back(seeded, planner, inline_jobs, fit_memo, settings, silent_server):
    _llm_settings(settings, silent_server, timeout=1)
    started = time.perf_counter()
    workflow = start_season(planner)
    assert time.perf_counter() - started < 30  # two steps, each bounded by the step timeout
    _check_fallback(workflow, "time")


def test_extraction_with_an_unreachable_llm_answers_with_the_rules(planner_api, settings):
    _llm_settings(settings, free_port(), timeout=2)
    response = planner_api.post("/api/parameters/extract", json={"user_input": "12 weeks from March 1, no markdowns",
                                                                 "reference_date": "2025-01-15"})
    body = response.json()
    assert response.status_code == 200 and body["extractor"] == "rules"
    assert body["parameters"]["forecast_horizon_weeks"] == 12 and body["parameters"]["season_start_date"] == "2025-03-01"
    assert "llm" in body["reasoning"].lower() or "model" in body["reasoning"].lower()


# --- Redis down ---------------------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    """The channel layer configured on Redis at a port where nothing listens (with a password in
    the URL, which must never be shown)."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [f"redis://:hunter2@127.0.0.1:{free_port()}/0"]}}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.mark.django_db
def test_health_reports_the_channel_layer_down(redis_down, client):
    response = client.get("/api/health")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "degraded"
    assert body["channel_layer"]["ok"] is False and "connect" in body["channel_layer"]["error"].lower()
    assert body["database"]["ok"] is True and "hunter2" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_events_are_kept_and_the_failure_logged_when_redis_is_down(redis_down, seeded, planner, inline_jobs,
                                                                   fit_memo, caplog):
    """The run goes on; every event is in the database (a client replays them); each failed
    broadcast is logged as an error."""
    from planning.models import SeasonEvent

    with caplog.at_level(logging.ERROR, logger="planning.services.events"):
        workflow = start_season(planner)
    workflow.refresh_from_db()
    assert workflow.status == "awaiting_approval"
    stored = list(SeasonEvent.objects.filter(season=workflow).order_by("seq").values_list("seq", "type"))
    assert [seq for seq, _ in stored] == list(range(1, workflow.last_seq + 1))
    assert stored[-1][1] == "human_input_required"
    failures = [r for r in caplog.records if r.getMessage().startswith("Broadcast of event")]
    assert len(failures) == len(stored) and all(r.exc_info for r in failures)
    assert not any("hunter2" in r.getMessage() for r in caplog.records)


def test_a_hung_redis_holds_each_broadcast_only_for_the_broadcast_timeout(silent_server, settings, caplog):
    """Redis accepts the connection and never answers: each broadcast gives up after
    BROADCAST_TIMEOUT_SECONDS (the client's own timeout is 5 s) and the failure is logged."""
    from channels.layers import channel_layers

    from planning.services.events import broadcast

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [f"redis://127.0.0.1:{silent_server}/0"]}}}
    settings.BROADCAST_TIMEOUT_SECONDS = 0.3
    channel_layers.backends.clear()
    try:
        with caplog.at_level(logging.ERROR, logger="planning.services.events"):
            started = time.monotonic()
            for seq in (1, 2, 3):
                broadcast("00000000-0000-0000-0000-000000000001", {"seq": seq})
            elapsed = time.monotonic() - started
    finally:
        channel_layers.backends.clear()
    failures = [r for r in caplog.records if r.getMessage().startswith("Broadcast of event")]
    assert len(failures) == 3
    assert elapsed < 5  # three broadcasts of 0.3 s each, not 3 x 5 s


# --- SQLite locked ----------------------------------------------------------------------------------------


@file_process_test
def test_writes_wait_for_a_locked_sqlite_database(tmp_path):
    """Another connection holds SQLite's write lock for 1.5 s while the API takes uploads: they
    wait (the busy timeout, 3 s here) and succeed. Held past the busy timeout: 503 with
    Retry-After, no 500."""
    db_path = tmp_path / "locked.sqlite3"
    result = subprocess.run([sys.executable, "-m", "planning.tests.test_faults", str(db_path)], cwd=REPO,
                            env=_file_env(db_path, SQLITE_BUSY_TIMEOUT="3"), capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["short_lock"] == [200] * 6, seen
    assert seen["long_lock"]["status"] == 503 and "busy" in seen["long_lock"]["detail"], seen
    assert seen["long_lock"]["retry_after"] == "5"


# --- subprocess side ---------------------------------------------------------------------------------------


def locked(db_path):
    """Uploads while another connection holds the write lock: briefly, then past the busy timeout."""
    token = processes.seed_database(history=False)  # sets Django up
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from conftest import TokenClient
    from planning.tests.test_concurrency import race

    client = TokenClient(Client(), token)

    def upload(day):
        text = f"date,category,store_id,quantity_sold\n2021-01-{day:02d},Locked,S001,{day}\n"
        return client.post("/api/data/upload-historical-sales",
                           data={"file": SimpleUploadedFile("h.csv", text.encode(), "text/csv")})

    def hold(seconds):
        db = sqlite3.connect(db_path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        time.sleep(seconds)
        db.execute("COMMIT")
        db.close()

    short = race(lambda: hold(1.5), *[lambda d=day: upload(d) for day in range(1, 7)])
    long = race(lambda: hold(5), lambda: (time.sleep(0.3), upload(9))[1])
    response = long[1]
    print(json.dumps({"short_lock": [r.status_code for r in short[1:]],
                      "long_lock": {"status": response.status_code, "detail": response.json().get("detail", ""),
                                    "retry_after": response.get("Retry-After")}}))


if __name__ == "__main__":
    locked(sys.argv[1])

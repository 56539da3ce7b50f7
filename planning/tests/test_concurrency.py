"""Races through the real API with real threads: approvals, week uploads, history uploads.

Each scenario starts its requests together (a barrier), every thread with its own Django test
client and database connection, and reports what it saw; the checks are shared by both ways of
running them:

- on PostgreSQL, in the test process (``django_db(transaction=True)``: every thread sees the
  committed rows; row locks serialise the writers);
- on SQLite, the test database of pytest is in memory with shared-cache table locks (a second
  writer fails at once instead of waiting), so the same scenarios run in a subprocess on a
  temporary database file (WAL, busy timeout, IMMEDIATE transactions, as in production):
  ``python -m planning.tests.test_concurrency <db file>`` prints what it saw as JSON.
"""
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from planning.tests.season_fixtures import *  # noqa: F403  (fixtures; no Django import at load)

REPO = Path(__file__).resolve().parents[2]
RACE_TIMEOUT = 120


def race(*calls):
    """Run the callables at the same moment, each on its own thread; returns their results."""
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001  (reported, and the checks fail on it)
            results[index] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT)
    return results


def _status(response):
    return response.status_code if hasattr(response, "status_code") else response


def _body(response):
    return response.json() if hasattr(response, "json") else {"detail": response}


def _wait_for(workflow_id, statuses, timeout=60):
    from planning.models import Season

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Season.objects.get(pk=workflow_id).status
        if status in statuses:
            return status
        time.sleep(0.05)
    return status


def _week_csv(week):
    from planning.tests.season_fixtures import week_units

    return "store_id,units_sold\n" + "".join(f"{s},{u}\n" for s, u in week_units(week).items())


def _upload_week(client, season_id, week, overwrite=False):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"workflow_id": str(season_id), "week_number": str(week), "overwrite": "true" if overwrite else "false",
            "file": SimpleUploadedFile(f"week{week}.csv", _week_csv(week).encode(), "text/csv")}
    return client.post("/api/data/upload-weekly-sales", data=data)


# --- scenarios: each returns plain data (JSON-safe) for the checks below --------------------------


def approval_race(clients, season_id):
    """Two planners accept the manufacturing order at once, at different safety stocks."""
    from planning.models import Allocation, Approval

    responses = race(*[
        (lambda c=client, ss=ss: c.post("/api/approvals/manufacturing",
                                        json={"workflow_id": str(season_id), "action": "accept", "safety_stock_pct": ss}))
        for client, ss in zip(clients, (0.20, 0.25))])
    allocation = Allocation.objects.get(season_id=season_id)
    return {
        "statuses": [_status(r) for r in responses],
        "winner_ss": [_body(r).get("order", {}).get("safety_stock_pct") for r in responses if _status(r) == 200],
        "loser_detail": [_body(r).get("detail") for r in responses if _status(r) != 200],
        "accept_rows": Approval.objects.filter(season_id=season_id, action="accept").count(),
        "allocation": [allocation.status, allocation.safety_stock_pct],
        "final_status": _wait_for(season_id, ("completed", "failed")),
    }


def _wait_for_week(season_id, week, timeout=60):
    """Until no run is processing the week (uploads answer 202; the week's run is a job)."""
    from planning.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Run.objects.filter(season_id=season_id, week=week, status__in=Run.ACTIVE_STATUSES).exists():
            return
        time.sleep(0.05)


def week_upload_race(clients, season_id):
    """Two planners upload week 1 at once, then (once it is processed) both overwrite it at once."""
    from planning.models import Replenishment, VarianceCheck, WeeklyActual

    first = race(*[lambda c=client: _upload_week(c, season_id, 1) for client in clients])
    _wait_for_week(season_id, 1)
    again = race(*[lambda c=client: _upload_week(c, season_id, 1, overwrite=True) for client in clients])
    _wait_for_week(season_id, 1)
    shipped = Replenishment.objects.filter(season_id=season_id, week=1)
    return {
        "first": [_status(r) for r in first],
        "first_detail": [_body(r).get("detail") for r in first if _status(r) != 202],
        "overwrite": [_status(r) for r in again],
        "overwrite_detail": [_body(r).get("detail") for r in again if _status(r) != 202],
        "actual_rows": WeeklyActual.objects.filter(season_id=season_id, week=1).count(),
        "stores": len(_week_csv(1).splitlines()) - 1,
        "variance_checks": VarianceCheck.objects.filter(season_id=season_id, week=1).count(),
        "shipment_rows": shipped.count(),
        "shipment_stores": shipped.values("store_id").distinct().count(),
    }


def history_upload_race(clients):
    """Three uploads of the same history file at once: every row stored once."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from planning.models import HistoricalSale

    lines = [f"2023-01-{day:02d},Race Category,S{store:03d},{day + store}\n" for day in range(1, 29) for store in range(1, 51)]
    text = "date,category,store_id,quantity_sold\n" + "".join(lines)

    def post(client):
        return client.post("/api/data/upload-historical-sales",
                           data={"file": SimpleUploadedFile("race.csv", text.encode(), "text/csv")})

    responses = race(*[lambda c=client: post(c) for client in clients])
    return {"statuses": [_status(r) for r in responses], "rows": len(lines),
            "stored": HistoricalSale.objects.filter(category_id="race_category").count()}


# --- checks ----------------------------------------------------------------------------------------


def check_approval(seen):
    assert sorted(seen["statuses"]) == [200, 409], seen
    assert "already accepted" in seen["loser_detail"][0] or "another request" in seen["loser_detail"][0]
    assert seen["accept_rows"] == 1
    assert seen["allocation"] == ["accepted", seen["winner_ss"][0]]
    assert seen["final_status"] == "completed"


def check_week_uploads(seen):
    assert sorted(seen["first"]) == [202, 409], seen
    assert "already uploaded" in seen["first_detail"][0]
    assert 202 in seen["overwrite"] and set(seen["overwrite"]) <= {202, 409}, seen
    assert seen["actual_rows"] == seen["stores"]
    assert seen["variance_checks"] == 1
    assert seen["shipment_rows"] == seen["shipment_stores"]  # one shipment row per store, no doubles


def check_history_uploads(seen):
    assert seen["statuses"] == [200, 200, 200], seen
    assert seen["stored"] == seen["rows"]


# --- in the test process (PostgreSQL) --------------------------------------------------------------


def _sqlite():
    from django.db import connection

    return connection.vendor == "sqlite"


threaded = pytest.mark.skipif(
    "_sqlite()",
    reason="in-memory SQLite test database: table locks fail instead of waiting; "
           "test_races_on_a_sqlite_file runs these scenarios on a database file")


@pytest.fixture
def two_planners(planner, django_user_model):
    from django.test import Client

    from conftest import TokenClient
    from planning.models import ApiToken
    from planning.roles import add_to_role

    other = django_user_model.objects.create_user("planner2")
    add_to_role(other, "planner")
    return [TokenClient(Client(), ApiToken.issue(user)[1]) for user in (planner, other)]


@threaded
@pytest.mark.django_db(transaction=True)
def test_two_planners_accept_at_once(seeded, planner, two_planners, inline_jobs, fit_memo):
    from planning.tests.season_fixtures import start_season

    season = start_season(planner)
    check_approval(approval_race(two_planners, season.pk))


@threaded
@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_the_same_week_at_once(planned_season, two_planners):
    check_week_uploads(week_upload_race(two_planners, planned_season.pk))


@threaded
@pytest.mark.django_db(transaction=True)
def test_same_history_file_three_times_at_once(demo_stores, two_planners, planner_api):
    check_history_uploads(history_upload_race([*two_planners, planner_api]))


# --- SQLite: the same scenarios on a database file, in a subprocess -----------------------------------


@pytest.mark.skipif("not _sqlite()", reason="the PostgreSQL run races in the test process")
def test_races_on_a_sqlite_file(tmp_path):
    result = subprocess.run([sys.executable, "-m", "planning.tests.test_concurrency", str(tmp_path / "race.sqlite3")],
                            cwd=REPO,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "LOG_LEVEL": "ERROR", "WORKFLOW_RECOVER_ON_START": "0"})
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    check_approval(seen["approval"])
    check_week_uploads(seen["week_uploads"])
    check_history_uploads(seen["history_uploads"])


def main(db_path):
    """Set up a file database with two planners and a season awaiting approval; run the races."""
    os.environ.update(DATABASE_URL=f"sqlite:///{db_path}", DJANGO_SETTINGS_MODULE="forecast_site.settings",
                      RATE_LIMIT_PER_MINUTE="100000")
    for name in ("CELERY_BROKER_URL", "OPENAI_API_KEY", "REDIS_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from conftest import TokenClient
    from planning.models import ApiToken
    from planning.roles import add_to_role
    from planning.services import season_start
    from planning.tests.season_fixtures import PARAMS, seed_history

    call_command("migrate", verbosity=0)
    call_command("loaddata", "clusters", "stores", "categories", verbosity=0)
    seed_history()
    users = [get_user_model().objects.create_user(username=name) for name in ("alice", "bob")]
    for user in users:
        add_to_role(user, "planner")
    clients = [TokenClient(Client(), ApiToken.issue(user)[1]) for user in users]
    season = season_start.start_forecast("womens_dresses", PARAMS, user=users[0], background=False)
    seen = {"approval": approval_race(clients, season.pk),
            "week_uploads": week_upload_race(clients, season.pk),
            "history_uploads": history_upload_race([*clients, clients[0]])}
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1])

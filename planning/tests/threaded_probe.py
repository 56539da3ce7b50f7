"""Real concurrency on a real SQLite file (WAL, IMMEDIATE transactions), as in production.

The test database of pytest is in-memory SQLite in shared-cache mode, where concurrent writers fail
at once with "table is locked" instead of waiting, so the tests that need real threads run this
script in a subprocess on a temporary file database: ``python threaded_probe.py <db file>``.
Prints one JSON object with what it saw.
"""
import json
import os
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main(db_path):
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "forecast_site.settings"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("OPENAI_API_KEY", None)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from planning.errors import Conflict
    from planning.models import ApiToken, Season
    from planning.roles import add_to_role
    from planning.services import approvals, events
    from planning.tests.season_fixtures import PARAMS, seed_history

    call_command("migrate", verbosity=0)
    call_command("loaddata", "clusters", "stores", "categories", verbosity=0)
    seed_history()
    users = []
    for name in ("alice", "bob"):
        user = get_user_model().objects.create_user(username=name, password="x")
        add_to_role(user, "planner")
        users.append(user)
    _, raw = ApiToken.issue(users[0])
    client = Client()
    headers = {"Authorization": f"Bearer {raw}"}
    out = {}

    # 1. POST returns at once; the run happens in a worker thread.
    client.get("/api/health")  # load the URLconf and the API first
    started = time.perf_counter()
    response = client.post("/api/workflows/forecast", data={"category_id": "womens_dresses", "parameters": PARAMS},
                           content_type="application/json", headers=headers)
    out["post_status"] = response.status_code
    out["post_seconds"] = time.perf_counter() - started
    out["post_body_status"] = response.json().get("status")
    workflow_id = response.json()["workflow_id"]
    status = None
    while time.perf_counter() - started < 60:
        status = client.get(f"/api/workflows/{workflow_id}", headers=headers).json()["status"]
        if status in ("awaiting_approval", "failed"):
            break
        time.sleep(0.05)
    out["status"] = status
    out["to_approval_seconds"] = time.perf_counter() - started

    # 2. Two planners accept at the same moment: exactly one commits.
    barrier = threading.Barrier(2)
    results = []

    def accept(user, ss):
        try:
            barrier.wait()
            body = approvals.approve_manufacturing(workflow_id, "accept", ss, user=user)
            results.append(("ok", user.username, body["committed"], body["replayed"]))
        except Conflict as exc:
            results.append(("conflict", user.username, exc.detail, None))
        except Exception as exc:  # noqa: BLE001
            results.append(("error", user.username, f"{type(exc).__name__}: {exc}", None))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(users[0], 0.20)), threading.Thread(target=accept, args=(users[1], 0.25))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["accepts"] = results
    from planning.models import Approval

    out["accept_rows"] = Approval.objects.filter(season_id=workflow_id, action="accept").count()
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        if Season.objects.get(pk=workflow_id).status in ("completed", "failed"):
            break
        time.sleep(0.05)
    out["final_status"] = Season.objects.get(pk=workflow_id).status

    # 3. Concurrent emits on one workflow never share a seq.
    probe = Season.objects.create(category_id="womens_dresses", parameters=PARAMS)
    errors = []

    def writer(n):
        try:
            for i in range(10):
                events.emit(probe.pk, "agent_progress", agent="demand", message=f"{n}-{i}", progress_pct=0)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["emit_errors"] = errors
    out["emit_seqs"] = sorted(probe.events.values_list("seq", flat=True))
    out["emit_last_seq"] = Season.objects.get(pk=probe.pk).last_seq
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])

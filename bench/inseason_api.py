"""The in-season re-forecast replayed through the API (issue #14): the five peer scenarios as a
planner would run them, against the unchanged plan and the ratio rule.

On a throwaway SQLite database: the peer stores and history are imported, and for each scenario a
12-week Women's Dresses season is started through POST /api/workflows/forecast (start 2025-02-17,
2025-03-01 for high_demand, as the issue measured them), its order accepted, then each week's
actuals uploaded with POST /api/data/upload-weekly-sales. After every week N the week's result
(GET /api/workflows/{run_id}/results) states the rest of the season with its 80% band; it is
compared with what the scenario then sold, as mlpipeline.inseason_backtest scores it offline
(the plan is the season's version-1 forecast). Also counted: re-forecasts the engine made (the
variance rule) and emergency-order alerts raised while selling under plan (SPEC §12: none).

    .venv/bin/python bench/inseason_api.py
"""
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import REPO, throwaway_django  # noqa: E402  (the shared bench setup)

PEER = REPO.parent / "shared" / "peer-data"
HORIZON = 12
STARTS = {"normal_season": date(2025, 2, 17), "high_demand": date(2025, 3, 1), "low_demand": date(2025, 2, 17),
          "underperform": date(2025, 2, 17), "severe_underperform": date(2025, 2, 17)}


def wait(client, run_id, *statuses, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/api/workflows/{run_id}").json()
        if status["status"] in statuses:
            return status
        if status["status"] == "failed" or time.monotonic() > deadline:
            raise SystemExit(f"run {run_id}: {status}")
        time.sleep(0.05)


def replay(client, name, start):
    """One scenario through the API: the rows of the table."""
    params = {"forecast_horizon_weeks": HORIZON, "season_start_date": start.isoformat(),
              "replenishment_strategy": "weekly", "dc_holdback_percentage": 0.45,
              "markdown_checkpoint_week": None, "markdown_threshold": None}
    created = client.post("/api/workflows/forecast", {"category_id": "womens_dresses", "parameters": params},
                          content_type="application/json")
    assert created.status_code == 201, created.content[:300]
    season_id = created.json()["workflow_id"]
    wait(client, season_id, "awaiting_approval")
    approved = client.post("/api/approvals/manufacturing", {"workflow_id": season_id, "action": "accept"},
                           content_type="application/json")
    assert approved.status_code == 200, approved.content[:300]
    wait(client, season_id, "completed")
    forecast = client.get(f"/api/workflows/{season_id}/results").json()["forecast"]
    plan = np.array([w["units"] for w in forecast["weekly_demand_curve"]])
    folder = PEER / "scenarios" / name
    actual, expected, lower, upper, reforecasts, under_plan_orders = [], [], [], [], 0, 0
    for week in range(1, HORIZON + 1):
        path = folder / f"actuals_week_{week:02d}.csv"
        with open(path, "rb") as handle:
            answer = client.post("/api/data/upload-weekly-sales",
                                 {"workflow_id": season_id, "week_number": str(week), "file": handle})
        assert answer.status_code == 202, answer.content[:300]
        wait(client, answer.json()["run_id"], "completed", "awaiting_approval")
        result = client.get(f"/api/workflows/{answer.json()['run_id']}/results").json()["week"]
        actual.append(result["units"])
        reforecasts += result["reforecast"] is not None
        under_plan_orders += bool(result["emergency"]) and result["signed_variance"] < 0
        if week < HORIZON:
            rest = result["rest_of_season"]
            expected.append(rest["expected"])
            lower.append(rest["lower"])
            upper.append(rest["upper"])
    actual = np.array(actual, float)
    realised = np.array([actual[n:].sum() for n in range(1, HORIZON)])
    ratio = np.array([actual[:n].sum() / plan[:n].sum() * plan[n:].sum() for n in range(1, HORIZON)])
    plan_rest = np.array([plan[n:].sum() for n in range(1, HORIZON)])
    error = lambda forecast: float(np.mean(np.abs(np.asarray(forecast) - realised) / realised))  # noqa: E731
    covered = float(np.mean((np.array(lower) <= realised) & (realised <= np.array(upper))))
    return {"name": name, "product": error(expected), "plan": error(plan_rest), "ratio": error(ratio),
            "coverage": covered, "reforecasts": reforecasts, "under_plan_orders": under_plan_orders}


def main():
    folder = throwaway_django("bench-inseason-api-")
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from mlpipeline.inseason_backtest import within_slack
    from planning.models import ApiToken
    from planning.roles import PLANNER, add_to_role
    from planning.services import store_import

    settings.RATE_LIMIT_PER_MINUTE = 100_000
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("loaddata", "clusters", "categories", verbosity=0)
    with open(PEER / "store_attributes.csv", "rb") as handle:
        store_import.import_stores(handle, filename="store_attributes.csv")
    with open(folder / "import.log", "w") as log:
        call_command("load_history", str(PEER / "historical_sales_2022_2024.csv"), verbosity=0, stdout=log)
    planner = get_user_model().objects.create_user("bench-planner")
    add_to_role(planner, PLANNER)
    client = Client(headers={"Authorization": f"Bearer {ApiToken.issue(planner, 'bench')[1]}"})
    print(f"Peer data imported in {time.perf_counter() - started:.1f} s\n")
    print(f"{'scenario':<22} {'product':>8} {'plan':>8} {'ratio':>8} {'cov80':>6} {'re-forecasts':>12} "
          f"{'orders under plan':>17} {'within':>6}")
    rows = []
    for name, start in STARTS.items():
        row = replay(client, name, start)
        rows.append(row)
        print(f"{name:<22} {row['product']:>8.3f} {row['plan']:>8.3f} {row['ratio']:>8.3f} {row['coverage']:>6.2f} "
              f"{row['reforecasts']:>12} {row['under_plan_orders']:>17} "
              f"{'ok' if within_slack(row['product'], row['plan'], row['ratio']) else 'NO':>6}")
    mean = {key: float(np.mean([row[key] for row in rows])) for key in ("product", "plan", "ratio", "coverage")}
    print(f"{'mean':<22} {mean['product']:>8.3f} {mean['plan']:>8.3f} {mean['ratio']:>8.3f} {mean['coverage']:>6.2f}")
    print(f"\n{len(rows)} scenarios through the API in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

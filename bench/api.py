"""Benchmark of the GET endpoints (SPEC §12: p95 <= 50 ms at 50 concurrent clients on SQLite).

Seeds a throwaway SQLite database (50 synthetic stores and their clusters, three years of
synthetic history for 3 categories, one 12-week season with forecast, allocation, variance
checks, shipments and a markdown), starts daphne on 127.0.0.1 on a free port against it, then
measures each endpoint with 50 client threads (one keep-alive connection each):

- paced (the target): 50 connected clients each sending one request per second, the way planners'
  browsers and integrations use the API, then the same at two requests per second each (headroom).
  Latency counts from each request's *scheduled* send time, so a server that falls behind cannot
  hide its queue (no coordinated omission).
- saturation: the same 50 clients sending back to back (closed loop). This measures capacity, not
  latency: p95 is about 50 x the service time of one process.
- floor: the same client against the same daphne serving a hello-world ASGI app, for scale: at
  saturation even that has a p95 near 30 ms on this machine, so no Django endpoint can reach 50 ms
  there; see README "API latency, read honestly".

The client threads share the machine's 2 cores with the server.

    .venv/bin/python bench/api.py [--clients 50] [--requests 1000] [--paced-seconds 8]
"""
import argparse
import http.client
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEASON_START = date(2025, 3, 1)
WEEKS = 12


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(folder: Path) -> tuple[str, int]:
    """Fill the database; returns (viewer token, forecast id)."""
    import django

    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forecast_site.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from mlpipeline.synthetic import generate_stores, write_history_csv, write_stores_csv
    from planning.models import ApiToken
    from planning.roles import VIEWER, add_to_role
    from planning.services import history_import, store_import

    call_command("migrate", verbosity=0, skip_checks=True)
    stores = generate_stores(50)
    store_import.import_stores(write_stores_csv(folder / "stores.csv", stores))
    history_import.import_historical_sales(write_history_csv(folder / "history.csv", stores=stores))
    user = get_user_model().objects.create_user("bench-viewer")
    add_to_role(user, VIEWER)
    _, token = ApiToken.issue(user, "bench")
    return token, seed_season(user)


def seed_season(user) -> int:
    """A season written directly (the benchmark measures reads, not the planning run): in season,
    with its completed pre-season run (same id as the season, as the engine makes it)."""
    from django.utils import timezone

    from planning.models import (
        Allocation,
        Forecast,
        MarkdownDecision,
        Replenishment,
        Run,
        Season,
        Store,
        StoreAllocation,
        VarianceCheck,
    )

    season = Season.objects.create(
        category_id="womens_dresses", owner=user, phase="in_season",
        parameters={"season_start_date": SEASON_START.isoformat(), "forecast_horizon_weeks": WEEKS})
    now = timezone.now()
    run = Run.objects.create(id=season.pk, season=season, kind="pre_season", status="completed", step="done",
                             progress_pct=100, owner=user, started_at=now, completed_at=now)
    season.current_run = run
    season.save(update_fields=["current_run"])
    weekly = [{"week": n, "week_start": (SEASON_START + timedelta(weeks=n - 1)).isoformat(),
               "units": 800.0 + 10 * n, "lower": 700.0 + 10 * n, "upper": 900.0 + 10 * n}
              for n in range(1, WEEKS + 1)]
    total = sum(w["units"] for w in weekly)
    forecast = Forecast.objects.create(
        season=season, run=run, category_id="womens_dresses",
        season_start_date=SEASON_START, horizon_weeks=WEEKS, weekly=weekly, total_units=total,
        model_totals={"prophet": total * 1.02, "arima": total * 0.98}, method="ensemble",
        weights={"prophet": 0.5, "arima": 0.5},
        cluster_distribution=[{"cluster_id": "fashion_forward", "share": 0.4, "units": total * 0.4},
                              {"cluster_id": "mainstream", "share": 0.35, "units": total * 0.35},
                              {"cluster_id": "value_conscious", "share": 0.25,
                               "units": total * 0.25}])
    stores = list(Store.objects.order_by("store_id"))
    per_store = int(total * 1.2) // len(stores)
    mfg = per_store * len(stores)
    initial = per_store * 55 // 100
    allocation = Allocation.objects.create(
        season=season, forecast=forecast, status="accepted", demand_units=int(total),
        safety_stock_pct=0.2, manufacturing_qty=mfg, holdback_pct=0.45,
        initial_qty=initial * len(stores), holdback_qty=mfg - initial * len(stores),
        dc_available=mfg - initial * len(stores), cluster_totals=[])
    StoreAllocation.objects.bulk_create([
        StoreAllocation(allocation=allocation, store=s, cluster_id=s.cluster_id,
                        factor=1 / len(stores), planned_units=per_store, initial_qty=initial,
                        holdback_qty=per_store - initial) for s in stores])
    for week in range(1, 7):
        VarianceCheck.objects.create(
            season=season, week=week, forecast=forecast, forecast_cum=850.0 * week,
            actual_cum=800 * week, variance=0.06, signed_variance=-0.06, band="green",
            threshold=0.2, exceeded=False, action_taken="replenishment")
        Replenishment.objects.bulk_create([
            Replenishment(season=season, week=week, store=s, need_units=5, quantity=5)
            for s in stores[:20]])
    MarkdownDecision.objects.create(
        season=season, forecast=forecast, week=6, units_sold=4800, manufacturing_qty=mfg,
        sell_through=0.45, target=0.6, gap=0.15, elasticity=2.0, markdown_pct=0.3,
        expected_lift=0.45)
    return forecast.id


async def hello_application(scope, receive, send):
    """The smallest ASGI app: what daphne and this client cost without Django (the floor row)."""
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


def start_server(port: int, env: dict, log: Path, app="forecast_site.asgi:application",
                 probe="/api/health") -> subprocess.Popen:
    """daphne on 127.0.0.1:port; its log goes to a file (a pipe nobody reads would fill up and
    stall the server once it logs enough 4xx warnings)."""
    with open(log, "ab") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--access-log",
             os.devnull, app],
            cwd=REPO, env=env,
            stdout=subprocess.DEVNULL, stderr=log_file,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"daphne exited:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", probe)
            connection.getresponse()
            return server  # it answers
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("daphne did not start within 60 s")


def load(port: int, token: str, path: str, clients: int, total: int, interval: float = 0) -> dict:
    """``total`` GETs of ``path`` from ``clients`` threads; latencies in ms. With ``interval``
    each client sends one request every ``interval`` seconds (starts spread at random over the
    first interval) and latency runs from the scheduled send time; without it they send back to
    back."""
    latencies, failures, lock = [], [], threading.Lock()
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    headers = {"Authorization": f"Bearer {token}"}
    barrier = threading.Barrier(clients)
    offsets = random.Random(7)

    def client(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad = [], 0
        barrier.wait()
        next_send = time.perf_counter() + offsets.uniform(0, interval)
        for _ in range(count):
            if interval:
                time.sleep(max(0.0, next_send - time.perf_counter()))
                started, next_send = next_send, next_send + interval
            else:
                started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            bad += response.status != 200
        connection.close()
        with lock:
            latencies.extend(mine)
            failures.append(bad)

    threads = [threading.Thread(target=client, args=(n,)) for n in per_client]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "p50": cuts[49], "p95": cuts[94], "max": max(latencies),
            "rps": len(latencies) / elapsed, "errors": sum(failures)}


FLOOR = "(floor: hello-world ASGI app, no Django)"
PACED_RATES = (1, 2)  # requests per second per client


def measure(env, log, token, paths, args, app="forecast_site.asgi:application", label=None):
    """Start daphne with ``app``; for each path: one client, paced clients, saturation."""
    port = free_port()
    server = start_server(port, env, log, app=app)
    try:
        results = []
        for path in paths:
            alone = load(port, token, path, 1, 100)  # also the warm-up
            paced = [load(port, token, path, args.clients, args.clients * args.paced_seconds * rate,
                          interval=1.0 / rate) for rate in PACED_RATES]
            saturated = load(port, token, path, args.clients, args.requests)
            results.append((label or f"`{path}`", alone, paced, saturated))
        return results
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000, help="per endpoint (saturation)")
    parser.add_argument("--paced-seconds", type=int, default=8,
                        help="seconds of paced load per endpoint and rate")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
               "VAR_DIR": str(folder), "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(32),
               "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost",
               "RATE_LIMIT_PER_MINUTE": "100000000", "LOG_LEVEL": "WARNING"}
        os.environ.update(env)
        token, forecast_id = seed(folder)
        endpoints = [
            "/api/categories",
            "/api/stores",
            "/api/stores/clusters",
            "/api/forecasts",
            f"/api/forecasts/{forecast_id}",
            f"/api/allocations/{forecast_id}",
            f"/api/markdowns/{forecast_id}",
            f"/api/variance/{forecast_id}/week/3",
            f"/api/exports/allocations/{forecast_id}.csv",
        ]
        results = measure(env, folder / "daphne.log", token, endpoints, args)
        results += measure(env, folder / "floor.log", token, ["/"], args,
                           app="bench.api:hello_application", label=FLOOR)

    total = [rate * args.clients for rate in PACED_RATES]
    print(f"daphne (1 process) on SQLite, {args.clients} concurrent clients\n")
    print(f"Paced: each client 1 request/s ({total[0]} req/s in all), then 2 requests/s "
          f"({total[1]} req/s), {args.paced_seconds} s each (target p95 <= 50 ms); saturation: "
          f"back to back, {args.requests} requests per endpoint.\n")
    print(f"| endpoint | p50 ms, 1 client | paced p50 ms | **paced p95 ms** | p95 ms at {total[1]} req/s "
          "| saturation p95 ms | saturation req/s | non-200 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for path, alone, (paced, doubled), saturated in results:
        errors = alone["errors"] + paced["errors"] + doubled["errors"] + saturated["errors"]
        print(f"| {path} | {alone['p50']:.1f} | {paced['p50']:.1f} | {paced['p95']:.1f} | "
              f"{doubled['p95']:.1f} | {saturated['p95']:.1f} | {saturated['rps']:.0f} | {errors} |")


if __name__ == "__main__":
    main()

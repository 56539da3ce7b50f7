"""Sustained mixed load: reads, extractions, weekly actuals uploads and workflow runs from 50
concurrent clients for 60 s against one daphne, on SQLite and on PostgreSQL.

For each database: a throwaway database (a temporary SQLite file; a PostgreSQL database created
and dropped here, when PostgreSQL answers on 127.0.0.1:5432) is seeded through the product's own
commands (migrate, demo stores, synthetic history, a planner and an API token), daphne starts on a
free loopback port with production settings (DEBUG=0) and the default in-process job runner, one
season is planned and approved as a warm-up (it fills the fit cache and gives the readers ids),
and then the clients run for --seconds:

- readers: GET categories, stores, clusters, forecasts, a forecast, an allocation, a workflow and
  its events;
- extractors: POST /api/parameters/extract with varied phrasings (rule-based extractor);
- uploaders: each plans its own season (forecast, approve) and uploads its weekly actuals week by
  week (variance check, replenishment, re-forecast when the variance calls for one), then starts
  the next season;
- runners: start a forecast workflow, poll it to the approval, accept, poll it to completion, again.

Every client sends one request per --interval seconds (paced, like planners' browsers and
integrations; latency counts from the scheduled send time, so a server that falls behind cannot
hide its queue). Any answer that is not 2xx, and any transport failure, is an error; there must be
none (the rate limit is set out of the way). Loopback only; bounded in time.

    .venv/bin/python bench/load.py [--seconds 60] [--clients 50] [--interval 1.0] [--databases sqlite,postgres]
"""
import argparse
import http.client
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.api import free_port, start_server  # noqa: E402

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "season_planner_load"
PARAMS = {"forecast_horizon_weeks": 12, "season_start_date": "2025-03-01", "replenishment_strategy": "weekly",
          "dc_holdback_percentage": 0.45, "markdown_checkpoint_week": None}
PHRASINGS = [
    "12-week season starting March 1st. No replenishment, 0% holdback. Markdown at week 6 if below 60% sell-through.",
    "Spring season of twelve weeks from the first of April, weekly replenishment, hold back 40% at the DC",
    "3 months starting next Monday, fortnightly replenishment, keep a quarter in the warehouse",
    "ten week season from 3/10/2025, ship everything up front, no markdowns",
    "Summer: 1 July 2025 to September 22, bi-weekly top-ups, 45% reserve, markdown at the halfway point",
]
SHARE = {"reader": 0.6, "extractor": 0.16, "uploader": 0.12, "runner": 0.12}


# --- seeding (runs in a child process per database) -----------------------------------------------


def seed_child():
    """Migrate, load stores and synthetic history, make a planner; print its token as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forecast_site.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from planning.models import ApiToken
    from planning.roles import PLANNER, add_to_role

    call_command("migrate", verbosity=0)
    call_command("loaddata", "clusters", "stores", "categories", verbosity=0)
    call_command("load_history", synthetic=True, verbosity=0, stdout=open(os.devnull, "w"))
    user = get_user_model().objects.create_user("load-planner")
    add_to_role(user, PLANNER)
    print(json.dumps({"token": ApiToken.issue(user, "load bench")[1]}))


def seed(env):
    result = subprocess.run([sys.executable, __file__, "--seed-child"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=300)
    if result.returncode:
        raise SystemExit(f"seeding failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["token"]


# --- the clients ---------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection, paced: each request waits for its scheduled slot."""

    def __init__(self, port, token, interval, deadline, record):
        self.port, self.interval, self.deadline, self.record = port, interval, deadline, record
        self.headers = {"Authorization": f"Bearer {token}"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.next_send = time.perf_counter() + random.uniform(0, interval)

    def request(self, kind, method, path, body=None, content_type="application/json"):
        """Returns (status, parsed JSON or None); raises Stop when the run is over."""
        if time.perf_counter() >= self.deadline:
            raise Stop
        time.sleep(max(0.0, self.next_send - time.perf_counter()))
        started, self.next_send = self.next_send, max(self.next_send + self.interval, time.perf_counter())
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            status, raw = f"{type(exc).__name__}", b""
        self.record(kind, (time.perf_counter() - started) * 1000, status, path)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None


class Stop(Exception):
    pass


def reader(client, ids):
    paths = ["/api/categories", "/api/stores?limit=50", "/api/stores/clusters", "/api/forecasts?limit=20",
             f"/api/forecasts/{ids['forecast_id']}", f"/api/allocations/{ids['forecast_id']}",
             f"/api/workflows/{ids['workflow_id']}", f"/api/workflows/{ids['workflow_id']}/events?after=0"]
    while True:
        client.request("read", "GET", random.choice(paths))


def extractor(client, ids):
    while True:
        body = {"user_input": random.choice(PHRASINGS), "reference_date": "2025-01-15"}
        client.request("extract", "POST", "/api/parameters/extract", json.dumps(body))


def run_season(client):
    """Plan and approve a season; returns its id once completed (None if it failed)."""
    status, body = client.request("workflow start", "POST", "/api/workflows/forecast",
                                  json.dumps({"category_id": "womens_dresses", "parameters": PARAMS}))
    if status != 201:
        return None
    workflow_id = body["workflow_id"]
    for wanted, then in (("awaiting_approval", "accept"), ("completed", None)):
        while True:
            status, body = client.request("workflow status", "GET", f"/api/workflows/{workflow_id}")
            if status != 200 or body["status"] in (wanted, "failed"):
                break
        if status != 200 or body["status"] != wanted:
            return None
        if then:
            status, _ = client.request("approve", "POST", "/api/approvals/manufacturing",
                                       json.dumps({"workflow_id": workflow_id, "action": then}))
            if status != 200:
                return None
    return workflow_id


def runner(client, ids):
    while True:
        if run_season(client):
            ids["runs"].append(1)


def uploader(client, ids):
    while True:
        season = run_season(client)
        if season is None:
            continue
        ids["runs"].append(1)
        status, plan = client.request("read", "GET", f"/api/workflows/{season}/results")
        if status != 200:
            continue
        planned = {row["store_id"]: row["planned_units"] for row in plan["allocation"]["store_allocations"]}
        for week in range(1, PARAMS["forecast_horizon_weeks"] + 1):
            rows = "".join(f"{store},{max(0, round(units / 12 * random.uniform(0.9, 1.1)))}\n"
                           for store, units in planned.items())
            body, content_type = multipart({"workflow_id": season, "week_number": str(week)},
                                           "store_id,units_sold\n" + rows)
            status, _ = client.request("upload week", "POST", "/api/data/upload-weekly-sales", body, content_type)
            if status != 200:
                break
            ids["weeks"].append(1)


def multipart(fields, csv_text):
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="week.csv"\r\n'
                 f"Content-Type: text/csv\r\n\r\n{csv_text}\r\n--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


ROLES = {"reader": reader, "extractor": extractor, "uploader": uploader, "runner": runner}


def run_load(port, token, ids, clients, seconds, interval):
    samples, lock = [], threading.Lock()
    deadline = time.perf_counter() + seconds

    def record(kind, ms, status, path):
        with lock:
            samples.append((kind, ms, status, path))

    counts = {role: max(1, round(clients * share)) for role, share in SHARE.items()}
    counts["reader"] = clients - sum(n for role, n in counts.items() if role != "reader")
    threads = []
    for role, count in counts.items():
        for _ in range(count):
            def work(role=role):
                try:
                    ROLES[role](Client(port, token, interval, deadline, record), ids)
                except Stop:
                    pass
            threads.append(threading.Thread(target=work, daemon=True))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 180)  # a request in flight at the deadline may still finish
    return samples, time.perf_counter() - started, counts


# --- one database ---------------------------------------------------------------------------------------


def warm_up(port, token):
    """One season planned and approved: fills the fit cache; its ids feed the readers."""
    record = lambda *args: None  # noqa: E731
    client = Client(port, token, 0.05, time.perf_counter() + 300, record)
    workflow_id = run_season(client)
    if workflow_id is None:
        raise SystemExit("the warm-up season did not complete")
    _, body = client.request("read", "GET", f"/api/forecasts?season={workflow_id}&limit=1")
    return {"workflow_id": workflow_id, "forecast_id": body["items"][0]["forecast_id"], "runs": [], "weeks": []}


def bench_database(name, database_url, folder, args):
    env = {**os.environ, "DATABASE_URL": database_url, "VAR_DIR": str(folder), "DEBUG": "0",
           "SECRET_KEY": secrets.token_urlsafe(48), "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "127.0.0.1",
           "RATE_LIMIT_PER_MINUTE": "100000000", "LOG_LEVEL": "ERROR", "WORKFLOW_RECOVER_ON_START": "0"}
    for variable in ("CELERY_BROKER_URL", "REDIS_URL", "OPENAI_API_KEY"):
        env.pop(variable, None)
    token = seed(env)
    port = free_port()
    server = start_server(port, env, folder / "daphne.log")
    try:
        ids = warm_up(port, token)
        samples, elapsed, counts = run_load(port, token, ids, args.clients, args.seconds, args.interval)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
    return {"database": name, "samples": samples, "elapsed": elapsed, "counts": counts,
            "runs": len(ids["runs"]), "weeks": len(ids["weeks"])}


def postgres_database():
    """Create the bench database; None when PostgreSQL does not answer."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=2) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    except Exception as exc:  # noqa: BLE001  (reported, the PostgreSQL row is skipped)
        print(f"NOTICE: PostgreSQL not available ({type(exc).__name__}); skipping it.")
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def drop_postgres_database():
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


# --- report -----------------------------------------------------------------------------------------------


def table(results, args):
    print(f"\nMixed load: {args.clients} clients, one request per {args.interval:g} s each, {args.seconds} s, "
          "one daphne process (in-process job runner), DEBUG=0, loopback.\n")
    print("| database | request | requests | req/s | p50 ms | p95 ms | max ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        by_kind = {}
        for kind, ms, status, _ in result["samples"]:
            by_kind.setdefault(kind, []).append((ms, status))
        rows = sorted(by_kind.items()) + [("all", [s for v in by_kind.values() for s in v])]
        for kind, values in rows:
            latencies = [ms for ms, _ in values]
            errors = sum(1 for _, status in values if not (isinstance(status, int) and 200 <= status < 300))
            cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 100
            label = f"**{kind}**" if kind == "all" else kind
            print(f"| {result['database']} | {label} | {len(values)} | {len(values) / result['elapsed']:.1f} | "
                  f"{cuts[49]:.0f} | {cuts[94]:.0f} | {max(latencies):.0f} | {errors} |")
    print()
    for result in results:
        roles = ", ".join(f"{n} {role}s" for role, n in result["counts"].items())
        print(f"{result['database']}: {roles}; {result['runs']} seasons planned and approved, "
              f"{result['weeks']} weeks of actuals uploaded.")
    failures = [(r["database"], kind, status, path) for r in results for kind, _, status, path in r["samples"]
                if not (isinstance(status, int) and 200 <= status < 300)]
    for failure in failures[:20]:
        print("error:", *failure)
    return not failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a client's requests")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--seed-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_child:
        return seed_child()

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        for name in args.databases.split(","):
            if name == "sqlite":
                results.append(bench_database("SQLite", f"sqlite:///{folder / 'load.sqlite3'}", folder, args))
            elif name == "postgres":
                url = postgres_database()
                if url is None:
                    continue
                try:
                    results.append(bench_database("PostgreSQL", url, folder, args))
                finally:
                    drop_postgres_database()
    if not table(results, args):
        raise SystemExit("errors under load (see above)")


if __name__ == "__main__":
    main()

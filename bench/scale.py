"""How the costs grow with the chain (SPEC §12 "Scale", issue #17): stores 50 / 500 / 2,000,
categories 3 / 20, 1-3 years of daily history.

For each size the parent process generates the chain with the seeded generator
(mlpipeline.synthetic: generate_stores in blocks of at most 999 stores, renumbered S0001...
above 999; generate_daily_sales one category at a time, appended to one history CSV, gzip with
--gzip). A child process per size and database then, on a database of its own (a throwaway SQLite
file, or with --postgres a PostgreSQL database created and dropped here when 127.0.0.1:5432
answers):

- imports the stores and the history through the real services (store_import,
  history_import.import_historical_sales): rows, seconds, rows/s and the process's peak RSS
  (ru_maxrss) after the import, Django and pandas included;
- plans every category to the approval point, one after the other: season_start.start_forecast
  with the default in-process jobs (offline agents), until awaiting_approval; seconds per category
  (the first includes the process's model imports);
- times ``GET /api/allocations/{forecast_id}`` (API token, Django test client, no network) and
  the season page (``GET /seasons/{id}/``) over --repeat requests after one warm-up: median, p95;
- the peak RSS of the whole child at the end.

Then prints one table and, per metric, the growth per 10x more stores between consecutive sizes
((b / a) ** (1 / log10(stores_b / stores_a)); 1.0 = flat, 10 = linear). A p95 over 20 requests is
about their slowest one, so one pause of the process (a full garbage collection) shows there.

    .venv/bin/python bench/scale.py                         # 50 / 500 / 2,000 x 3 categories x 3 years
    .venv/bin/python bench/scale.py --categories 20 --years 3 --postgres   # the SPEC case (long)
    .venv/bin/python bench/scale.py --stores 50,500 --years 1
"""
import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))

HISTORY_END = date(2024, 12, 31)
SEASON_START = date(2025, 3, 1)
PARAMETERS = {"forecast_horizon_weeks": 12, "season_start_date": SEASON_START.isoformat(),
              "replenishment_strategy": "weekly", "dc_holdback_percentage": 0.45, "markdown_checkpoint_week": 6}
# the synthetic generator's three profiled categories, then 17 with stable profiles derived from their names
CATEGORIES = ["womens_dresses", "mens_shirts", "accessories", "outerwear", "knitwear", "footwear", "swimwear",
              "denim", "kidswear", "lingerie", "sleepwear", "activewear", "handbags", "jewellery", "hosiery",
              "suits", "coats", "scarves", "belts", "hats"]
PG = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "season_planner_scale_bench"
TARGETS = {"api_p95_ms": 300, "page_p95_ms": 500, "peak_mb": 2048}
BLOCK = 999  # generate_stores' largest chain


# ---------------------------------------------------------------- generation (parent process)

def chain_stores(n_stores, seed=42):
    """``n_stores`` stores from generate_stores; above 999 in blocks (seeds 42, 43, ...) renumbered
    S0001... (store effects are keyed on the id, so each store keeps its own)."""
    import pandas as pd

    from mlpipeline import synthetic

    if n_stores <= BLOCK:
        return synthetic.generate_stores(n_stores, seed=seed)
    blocks = [synthetic.generate_stores(min(BLOCK, n_stores - first), seed=seed + k)
              for k, first in enumerate(range(0, n_stores, BLOCK))]
    stores = pd.concat(blocks, ignore_index=True)
    ids = [f"S{i:04d}" for i in range(1, n_stores + 1)]
    stores["store_name"] = [f"Store {sid} – {name.split(' – ', 1)[-1]}" for sid, name in zip(ids, stores["store_name"])]
    stores["store_id"] = ids
    return stores


def write_chain(folder, n_stores, categories, years, compress):
    """The stores CSV and the daily history CSV (one category at a time, so memory stays one
    category's frame); returns (stores path, history path, rows, seconds, MB on disk)."""
    from mlpipeline import synthetic

    started = time.perf_counter()
    stores = chain_stores(n_stores)
    stores_csv = synthetic.write_stores_csv(folder / f"stores_{n_stores}.csv", stores)
    start = date(HISTORY_END.year - years + 1, 1, 1)
    history = folder / (f"history_{n_stores}.csv" + (".gz" if compress else ""))
    rows = 0
    with (gzip.open(history, "wt", compresslevel=1) if compress else open(history, "w")) as out:
        for i, category in enumerate(categories):
            daily = synthetic.generate_daily_sales(stores, start=start, end=HISTORY_END, categories=[category])
            daily = daily.assign(date=daily["date"].dt.strftime("%Y-%m-%d"),
                                 category=synthetic.category_name(category))
            daily[["date", "category", "store_id", "quantity_sold", "revenue"]].to_csv(
                out, index=False, header=i == 0, float_format="%.2f")
            rows += len(daily)
            del daily
    return stores_csv, history, rows, time.perf_counter() - started, history.stat().st_size / 1e6


# ---------------------------------------------------------------- measurement (child process)

def setup_django(database_url):
    """SQLite: bench/pages.throwaway_django. PostgreSQL: the same offline setup on ``database_url``."""
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        os.environ.pop(name, None)  # the default in-process jobs and channel layer
    os.environ["WORKFLOW_RECOVER_ON_START"] = "0"
    if database_url is None:
        from pages import throwaway_django

        return throwaway_django("bench-scale-")
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-pg-"))
    os.environ.update(DATABASE_URL=database_url, VAR_DIR=str(folder), OPENAI_API_KEY="")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forecast_site.settings")
    import django

    django.setup()
    return folder


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_gets(client, path, repeat, **headers):
    response = client.get(path, headers=headers)  # warm-up (URLconf, templates, caches)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
    return {"median_ms": statistics.median(times), "p95_ms": p95, "kb": len(response.content) / 1024}


def child(stores_csv, history_csv, database_url, repeat):
    folder = setup_django(database_url)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from pages import wait_for

    from planning import jobs
    from planning.models import ApiToken, Category, Forecast
    from planning.roles import PLANNER, add_to_role
    from planning.services import history_import, season_start, store_import

    call_command("migrate", verbosity=0, skip_checks=True)
    store_import.import_stores(stores_csv)
    before_mb = peak_mb()
    started = time.perf_counter()
    report = history_import.import_historical_sales(history_csv, filename=Path(history_csv).name)
    result = {"rows": report["rows_imported"], "import_s": time.perf_counter() - started,
              "import_peak_mb": peak_mb(), "before_import_mb": before_mb, "stores": report["stores"]}

    planner = get_user_model().objects.create_user("bench-planner")
    add_to_role(planner, PLANNER)
    _, token = ApiToken.issue(planner, "bench")
    categories = [c["category_id"] for c in report["categories_detected"]]
    assert set(categories) <= set(Category.objects.values_list("pk", flat=True))
    each, season = [], None
    for category in categories:
        started = time.perf_counter()
        season = season_start.start_forecast(category, PARAMETERS, user=planner)
        wait_for(season, "awaiting_approval", timeout=600)
        each.append(time.perf_counter() - started)
    result["plan_s"] = each
    result["plan_peak_mb"] = peak_mb()

    forecast_id = Forecast.objects.filter(season=season).order_by("-pk").values_list("pk", flat=True).first()
    api = timed_gets(Client(), f"/api/allocations/{forecast_id}", repeat, authorization=f"Bearer {token}")
    browser = Client()
    browser.force_login(planner)
    page = timed_gets(browser, f"/seasons/{season.pk}/", repeat)
    result.update(api=api, page=page, end_peak_mb=peak_mb())
    jobs._pool().shutdown(wait=True)
    from django.db import connections

    connections.close_all()
    shutil.rmtree(folder, ignore_errors=True)  # the SQLite file (1 GB at 2,000 stores) and VAR_DIR
    print(json.dumps(result))


# ---------------------------------------------------------------- orchestration

def reachable(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def pg_admin(sql):
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def run_child(stores_csv, history_csv, backend, repeat, timeout):
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(32)}
    command = [sys.executable, __file__, "--child", str(stores_csv), str(history_csv), "--repeat", str(repeat)]
    if backend == "postgresql":
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {PG_DATABASE}")
        command += ["--database-url", f"{PG}/{PG_DATABASE}"]
    try:
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    finally:
        if backend == "postgresql":
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
    if done.returncode != 0:
        raise SystemExit(f"{backend} child failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def growth(a, b, stores_a, stores_b):
    """The factor per 10x more stores between two sizes."""
    if not a or not b:
        return float("nan")
    return (b / a) ** (1 / math.log10(stores_b / stores_a))


def metrics(r):
    plan = r["plan_s"]
    return {
        "import s": r["import_s"],
        "import rows/s": r["rows"] / r["import_s"],
        "import peak MB": r["import_peak_mb"],
        "plan s / category (median)": statistics.median(plan),
        "plan s, slowest": max(plan),
        "allocation API median ms": r["api"]["median_ms"],
        "allocation API p95 ms": r["api"]["p95_ms"],
        "season page median ms": r["page"]["median_ms"],
        "season page p95 ms": r["page"]["p95_ms"],
        "process peak MB": r["end_peak_mb"],
    }


def print_tables(results, years, categories):
    print("| database | stores | categories | rows | import s | rows/s | import peak RSS MB | "
          "plan s per category (median / slowest; first one cold) | allocation API median / p95 ms (KB) | "
          "season page median / p95 ms (KB) | process peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|---|---:|")
    for (backend, stores), r in results.items():
        plan = r["plan_s"]
        print(f"| {backend} | {stores:,} | {categories} | {r['rows']:,} | {r['import_s']:.1f} | "
              f"{r['rows'] / r['import_s']:,.0f} | {r['import_peak_mb']:,.0f} | "
              f"{statistics.median(plan):.2f} / {max(plan):.2f} (first {plan[0]:.2f}; all {sum(plan):.1f} s) | "
              f"{r['api']['median_ms']:.0f} / {r['api']['p95_ms']:.0f} ({r['api']['kb']:,.0f}) | "
              f"{r['page']['median_ms']:.0f} / {r['page']['p95_ms']:.0f} ({r['page']['kb']:,.0f}) | "
              f"{r['end_peak_mb']:,.0f} |")
    backends = dict.fromkeys(backend for backend, _ in results)
    for backend in backends:
        sizes = sorted(stores for b, stores in results if b == backend)
        if len(sizes) < 2:
            continue
        pairs = list(zip(sizes, sizes[1:]))
        print(f"\nGrowth per 10x more stores ({backend}; 10 = linear in stores, 1 = flat)\n")
        print("| metric | " + " | ".join(f"{a:,} -> {b:,}" for a, b in pairs) + " |")
        print("|---|" + "---:|" * len(pairs))
        for name in metrics(results[(backend, sizes[0])]):
            cells = [growth(metrics(results[(backend, a)])[name], metrics(results[(backend, b)])[name], a, b)
                     for a, b in pairs]
            print(f"| {name} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    for backend in backends:
        largest = max(stores for b, stores in results if b == backend)
        r = results[(backend, largest)]
        worst = max(r["end_peak_mb"] for (b, _), r in results.items() if b == backend)
        print(f"\nTargets at {largest:,} stores on {backend} ({years} year(s) x {categories} categories of daily "
              f"history): allocation API p95 {r['api']['p95_ms']:.0f} ms (<= {TARGETS['api_p95_ms']}), season page "
              f"p95 {r['page']['p95_ms']:.0f} ms (<= {TARGETS['page_p95_ms']}), worst process peak {worst:,.0f} MB "
              f"(<= {TARGETS['peak_mb']:,}).")

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="50,500,2000", help="comma-separated chain sizes")
    parser.add_argument("--categories", type=int, choices=(3, 20), default=3)
    parser.add_argument("--years", type=int, choices=(1, 2, 3), default=3, help="years of daily history")
    parser.add_argument("--repeat", type=int, default=20, help="requests per timed GET")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL at 127.0.0.1:5432")
    parser.add_argument("--gzip", action="store_true", help="import a gzipped history CSV")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per child process")
    parser.add_argument("--child", nargs=2, metavar=("STORES", "HISTORY"), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.database_url, args.repeat)
        return

    backends = ["sqlite"]
    if args.postgres:
        if reachable(5432):
            backends.append("postgresql")
        else:
            print("PostgreSQL not reachable on 127.0.0.1:5432: measuring SQLite only.\n")
    categories = CATEGORIES[:args.categories]
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for n_stores in (int(size) for size in args.stores.split(",")):
            stores_csv, history_csv, rows, seconds, size_mb = write_chain(
                Path(tmp), n_stores, categories, args.years, args.gzip)
            print(f"Generated {n_stores:,} stores x {len(categories)} categories x {args.years} year(s) daily "
                  f"({HISTORY_END.year - args.years + 1}-01-01 to {HISTORY_END}): {rows:,} rows, "
                  f"{size_mb:,.0f} MB{' gzipped' if args.gzip else ''}, in {seconds:.1f} s", flush=True)
            for backend in backends:
                started = time.perf_counter()
                results[(backend, n_stores)] = run_child(stores_csv, history_csv, backend, args.repeat, args.timeout)
                print(f"  {backend}: measured in {time.perf_counter() - started:.1f} s", flush=True)
            history_csv.unlink()
    print()
    print_tables(results, args.years, len(categories))


if __name__ == "__main__":
    main()

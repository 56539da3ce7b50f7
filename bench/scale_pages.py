"""The season page and its store tables at 50, 500 and 2,000 stores (SPEC §12 "Scale": season page
p95 <= 500 ms for a 2,000-store season; issue #17).

On a throwaway SQLite database (bench/pages.throwaway_django): the clusters and categories, and
for each size a 12-week season written straight to the database (planning.tests.scale_season:
new stores, an accepted allocation, eight weeks of actuals with their variance checks and the
DC's shipments each week, and the events a run of eight weeks leaves; no model fit). Then Django's
test client (no network) renders the season page, its panels (the live reload) and each store
table's endpoint (htmx), and prints median, p95 and max over the requests, and each response's
size and store rows.

    .venv/bin/python bench/scale_pages.py [--repeat 20] [--sizes 50,500,2000]
"""
import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import throwaway_django  # noqa: E402  (the shared bench setup)

TARGET_MS = 500
WEEKS = 8
PREFIXES = "ABCDEFGH"
STORE_ROW = re.compile(r"<tr><td>[A-H]\d{4} ")


def events(season, weeks):
    """The events of a pre-season run and ``weeks`` weeks (agent steps, progress, week processed)."""
    from planning.models import SeasonEvent

    rows, seq = [], 0

    def add(kind, **payload):
        nonlocal seq
        seq += 1
        rows.append(SeasonEvent(season=season, run_id=season.pk, seq=seq, type=kind, payload=payload))

    for agent in ("demand", "inventory", "pricing"):
        add("agent_started", agent=agent)
        for step in range(4):
            add("agent_progress", agent=agent, message=f"{agent} step {step + 1}", progress_pct=step * 20)
        add("agent_completed", agent=agent, duration_seconds=0.4, result={"summary": f"{agent} done"})
    for week in range(1, weeks + 1):
        add("agent_progress", agent="demand", week=week, week_processed=True, message=f"Week {week} processed")
    add("workflow_complete", duration_seconds=1.2)
    SeasonEvent.objects.bulk_create(rows)
    type(season).objects.filter(pk=season.pk).update(last_seq=seq)


def seed(sizes):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from planning.roles import PLANNER, add_to_role
    from planning.tests import scale_season

    call_command("migrate", verbosity=0)
    call_command("loaddata", "clusters", "categories", verbosity=0)
    planner = get_user_model().objects.create_user("bench-planner")
    add_to_role(planner, PLANNER)
    seasons = {}
    for size, prefix in zip(sizes, PREFIXES):
        started = time.perf_counter()
        season = scale_season.season(size, weeks_of_actuals=WEEKS, owner=planner, prefix=prefix)
        events(season, WEEKS)
        seasons[size] = season
        print(f"{size:>5} stores seeded in {time.perf_counter() - started:.1f} s")
    return planner, seasons


def requests_of(season):
    htmx = {"HX-Request": "true"}
    base = f"/seasons/{season.pk}"
    return [
        ("season page", f"{base}/", {}),
        ("season page, stores page 3 by planned", f"{base}/?stores_page=3&stores_sort=-planned", {}),
        ("panels (live reload)", f"{base}/panels", htmx),
        ("stores table, last page by holdback", f"{base}/stores?stores_page=1000&stores_sort=-holdback", htmx),
        ("stores table, text + cluster filter", f"{base}/stores?stores_q=1&stores_cluster=mainstream", htmx),
        ("shipments table, page 2", f"{base}/shipments?shipments_page=2", htmx),
        ("store variance week 8 (largest first)", f"{base}/variance/{WEEKS}/stores", htmx),
        ("store variance, by sold to date, page 10", f"{base}/variance/{WEEKS}/stores?variance_sort=-sold"
                                                     f"&variance_page=10", htmx),
    ]


def measure(client, path, headers, repeat):
    response = client.get(path, headers=headers)  # warm-up (template compilation, caches)
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    html = response.content.decode()
    return times, len(html), len(STORE_ROW.findall(html))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sizes", default="50,500,2000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    throwaway_django("bench-scale-pages-")
    from django.test import Client

    planner, seasons = seed(sizes)
    client = Client()
    client.force_login(planner)

    print(f"\n{'stores':>6}  {'request':<42} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'KB':>6} "
          f"{'rows':>5}  target")
    worst = {}
    for size, season in seasons.items():
        for label, path, headers in requests_of(season):
            times, size_bytes, rows = measure(client, path, headers, args.repeat)
            p95 = statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]
            worst[size] = max(worst.get(size, 0.0), p95)
            print(f"{size:>6}  {label:<42} {statistics.median(times):>10.1f} {p95:>8.1f} {max(times):>8.1f} "
                  f"{size_bytes / 1024:>6.0f} {rows:>5}  {'ok' if p95 <= TARGET_MS else 'OVER'}")
    print()
    for size, p95 in worst.items():
        print(f"{size:>5} stores: worst p95 {p95:.1f} ms (target {TARGET_MS} ms): {'met' if p95 <= TARGET_MS else 'NOT met'}")
    return 0 if all(p95 <= TARGET_MS for p95 in worst.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

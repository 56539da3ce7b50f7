"""Server time of each planner page on the demo data (SPEC §9; target: no page over 300 ms).

Seeds a throwaway SQLite database the way a planner would fill it: the demo stores, clusters and
categories, the synthetic history (3 categories x 50 stores x 3 years, daily), and one 12-week
Women's Dresses season run through the services: forecast, accepted order, eight weeks of actuals
(week 1 high enough to trigger a re-forecast), the markdown at week 6 accepted. Then renders each
page with Django's test client (no network, no browser) and prints median, p95 and max per page.

    .venv/bin/python bench/pages.py [--repeat 20]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEASON_START = date(2025, 3, 1)
TARGET_MS = 300
PARAMETERS = {
    "forecast_horizon_weeks": 12,
    "season_start_date": SEASON_START.isoformat(),
    "replenishment_strategy": "weekly",
    "dc_holdback_percentage": 0.45,
    "markdown_checkpoint_week": 6,
    "markdown_threshold": 0.6,
}


def throwaway_django(prefix):
    """Django set up on a new SQLite database in a temporary folder, offline (no API key); the
    folder. Call before importing anything from Django or the apps."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'db.sqlite3'}"
    os.environ["VAR_DIR"] = str(folder)
    os.environ["OPENAI_API_KEY"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forecast_site.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    return folder


def wait_for(season, *statuses, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        season.refresh_from_db()
        if season.status in statuses:
            return season
        if season.status == "failed" or time.monotonic() > deadline:
            raise SystemExit(f"season {season.pk} is {season.status}: {season.current_run.error}")
        time.sleep(0.1)


def season_at_the_order():
    """The demo data and one season waiting for the manufacturing approval; (planner, season)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from planning.roles import PLANNER, add_to_role
    from planning.services import season_start

    call_command("migrate", verbosity=0)
    call_command("loaddata", "clusters", "stores", "categories", verbosity=0)
    call_command("load_history", "--synthetic", verbosity=0, stdout=open(os.devnull, "w"))
    planner = get_user_model().objects.create_user("bench-planner")
    add_to_role(planner, PLANNER)
    season = season_start.start_forecast("womens_dresses", PARAMETERS, user=planner)
    wait_for(season, "awaiting_approval")
    return planner, season


def planned_season():
    """The demo data and one season with its order accepted; returns (planner, season)."""
    from planning.services import approvals

    planner, season = season_at_the_order()
    approvals.approve_manufacturing(season.pk, "accept", user=planner)
    wait_for(season, "completed")
    return planner, season


def seed(folder):
    """The demo data and one season eight weeks in; returns (planner, season)."""
    from mlpipeline import synthetic
    from planning.services import actuals_import, approvals

    planner, season = planned_season()
    normal = synthetic.write_weekly_actuals_csvs(
        folder / "normal", synthetic.generate_future_season(None, "womens_dresses", SEASON_START))
    high = synthetic.write_weekly_actuals_csvs(
        folder / "high", synthetic.generate_future_season(None, "womens_dresses", SEASON_START, scenario="high"))
    for week in range(1, 9):
        path = high[0] if week == 1 else normal[week - 1]
        with open(path, "rb") as handle:
            actuals_import.import_weekly_actuals(season, week, handle, user=planner, filename=path.name)
        wait_for(season, "completed", "awaiting_approval")  # the week's run, a background job
        if season.pending_approval == "approve_markdown":
            approvals.approve_markdown(season.pk, "accept", user=planner)
            wait_for(season, "completed")
    return planner, season


def pages(season):
    htmx = {"HX-Request": "true"}
    card = {**{k: "" if v is None else str(v) for k, v in PARAMETERS.items()}, "dc_holdback_percentage": "45",
            "markdown_threshold": "60"}
    return [
        ("GET", "/", {}, {}),
        ("GET", "/seasons/new/", {}, {}),
        ("POST", "/seasons/new/extract", {"user_input": "12-week season starting March 1st, weekly "
                                          "replenishment, 45% holdback, markdown at week 6",
                                          "reference_date": "2025-01-15"}, htmx),
        ("POST", "/seasons/new/check", card, htmx),
        ("GET", f"/seasons/{season.pk}/", {}, {}),
        ("GET", f"/seasons/{season.pk}/panels", {}, htmx),
        ("GET", f"/seasons/{season.pk}/variance/8/stores", {}, htmx),
        ("GET", f"/seasons/{season.pk}/report/", {}, {}),
        ("GET", "/data/", {}, {}),
    ]


def measure(client, method, path, data, headers, repeat):
    call = client.get if method == "GET" else client.post
    response = call(path, data, headers=headers)  # warm-up (template compilation, caches)
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call(path, data, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times, len(response.content)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    folder = throwaway_django("bench-pages-")
    from django.test import Client

    started = time.perf_counter()
    planner, season = seed(folder)
    print(f"Seeded in {time.perf_counter() - started:.1f} s: season {season.pk}, week {season.current_week}, "
          f"{season.events.count()} events")
    client = Client()
    client.force_login(planner)

    print(f"\n{'page':<52} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'KB':>6}  target")
    worst = 0.0
    for method, path, data, headers in pages(season):
        times, size = measure(client, method, path, data, headers, args.repeat)
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
        worst = max(worst, p95)
        label = f"{method} {path.replace(str(season.pk), '<season>')}" + (" (htmx)" if headers else "")
        verdict = "ok" if p95 <= TARGET_MS else f"OVER {TARGET_MS} ms"
        print(f"{label:<52} {statistics.median(times):>10.1f} {p95:>8.1f} {max(times):>8.1f} "
              f"{size / 1024:>6.1f}  {verdict}")
    print(f"\nWorst p95: {worst:.1f} ms (target <= {TARGET_MS} ms per page)")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())

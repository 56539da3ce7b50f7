"""How fast a weekly actuals upload answers, and how long the week's run then takes (issue #13:
the upload stores the actuals and answers 202 with the run; the week is processed as a job).

Seeds a throwaway SQLite database like bench/pages.py (demo stores, synthetic history, one
accepted 12-week Women's Dresses season), then uploads the 12 weeks of a synthetic season through
the API (multipart POST /api/data/upload-weekly-sales with an API token, Django's test client,
the default in-process job runner; the client warmed up first, as a running server is). Each week
is uploaded, then replaced twice (overwrite=true) once its run has finished, except the markdown
week after its markdown is accepted. Prints per upload the time to the 202 and the run's
processing time (queued to finished), then median and p95 of the answer (target: <= 200 ms).

    .venv/bin/python bench/week_upload.py
"""
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import SEASON_START, planned_season, throwaway_django, wait_for  # noqa: E402  (the shared bench setup)

TARGET_MS = 200


def main():
    folder = throwaway_django("bench-week-upload-")
    from django.conf import settings
    from django.test import Client

    from mlpipeline import synthetic
    from planning.models import ApiToken, Run
    from planning.services import approvals

    settings.RATE_LIMIT_PER_MINUTE = 10_000
    planner, season = planned_season()
    token = ApiToken.issue(planner, "bench")[1]
    files = synthetic.write_weekly_actuals_csvs(
        folder / "weeks", synthetic.generate_future_season(None, "womens_dresses", SEASON_START))
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/health").status_code == 200  # warm: URLconf, API schema, first query

    def upload(week, path, overwrite):
        with open(path, "rb") as handle:
            started = time.perf_counter()
            response = client.post("/api/data/upload-weekly-sales", {
                "workflow_id": str(season.pk), "week_number": str(week), "file": handle,
                **({"overwrite": "true"} if overwrite else {})})
            answered = (time.perf_counter() - started) * 1000
        assert response.status_code == 202, (week, response.status_code, response.content[:300])
        run_id = response.json()["run_id"]
        while Run.objects.get(pk=run_id).status in Run.ACTIVE_STATUSES:
            time.sleep(0.01)
        run = Run.objects.get(pk=run_id)
        processing = (run.completed_at or run.updated_at) - run.created_at
        print(f"{week:>4} {'replace' if overwrite else 'upload':>8} {answered:>10.1f} {run.status:>18} "
              f"{processing.total_seconds():>13.2f}")
        return answered, run

    answers = []
    print(f"{'week':>4} {'kind':>8} {'answer ms':>10} {'run':>18} {'processing s':>13}")
    for week, path in enumerate(files, start=1):
        answered, run = upload(week, path, overwrite=False)
        answers.append(answered)
        if run.status == "awaiting_approval":  # the markdown checkpoint: accept, and wait for its re-forecast
            approvals.approve_markdown(season.pk, "accept", user=planner)
            wait_for(season, "completed")
            continue  # a week whose markdown was accepted can no longer be replaced
        answers.extend(upload(week, path, overwrite=True)[0] for _ in range(2))
    p95 = statistics.quantiles(answers, n=20, method="inclusive")[-1]
    print(f"\nAnswer to the upload ({len(answers)} uploads): median {statistics.median(answers):.1f} ms, "
          f"p95 {p95:.1f} ms, max {max(answers):.1f} ms (target p95 <= {TARGET_MS} ms)")
    return 0 if p95 <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())

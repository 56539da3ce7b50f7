"""Plan every category (issue #17): POST /api/workflows/forecast-batch and GET /api/batches/{id}:
the 201 shape, "all", the checks of a single season applied to each category before anything is
written, roles, and the progress of the seasons' runs as they finish."""
import pytest

from planning import jobs
from planning.models import Batch, Category, Run, Season
from planning.tests.season_fixtures import *  # noqa: F401,F403  (seeded, inline_jobs, fit_memo)
from planning.tests.season_fixtures import PARAMS, seed_history

pytestmark = pytest.mark.django_db
URL = "/api/workflows/forecast-batch"
TWO = ["womens_dresses", "mens_shirts"]


@pytest.fixture
def three_categories(seeded):
    """The demo categories, each with its weekly history."""
    for category in Category.objects.exclude(pk=seeded.pk):
        seed_history(category.pk)
    return sorted(Category.objects.values_list("name", "pk"))


@pytest.fixture
def queued_jobs(monkeypatch):
    """planning.jobs.submit keeps the jobs to run them when the test says."""
    queue = []
    monkeypatch.setattr(jobs, "submit", lambda task, *args: queue.append((task, args)))
    return queue


def nothing_created():
    return not Batch.objects.exists() and not Season.objects.exists() and not Run.objects.exists()


def test_a_batch_starts_a_season_per_category(three_categories, planner, planner_api, inline_jobs, fit_memo):
    response = planner_api.post(URL, json={"category_ids": TWO, "parameters": PARAMS})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"batch_id", "status", "workflows"}
    assert [w["category_id"] for w in body["workflows"]] == TWO
    batch = Batch.objects.get(pk=body["batch_id"])
    assert batch.created_by == planner and batch.parameters["season_start_date"] == PARAMS["season_start_date"]
    for workflow in body["workflows"]:
        season = Season.objects.get(pk=workflow["workflow_id"])
        assert season.batch == batch and season.category_id == workflow["category_id"]
        assert season.owner == planner and season.parameters == batch.parameters
    assert len(inline_jobs) == 2  # one job per season, each the ordinary pre-season run

    status = planner_api.get(f"/api/batches/{body['batch_id']}").json()
    assert status["status"] == "ready" and status["finished"] == status["total"] == 2
    assert status["counts"]["awaiting_approval"] == 2
    assert [w["category_id"] for w in status["workflows"]] == ["mens_shirts", "womens_dresses"]  # by name
    for row in status["workflows"]:
        assert row["pending_approval"] == "approve_manufacturing_order" and row["error"] is None
        single = planner_api.get(f"/api/workflows/{row['workflow_id']}").json()
        assert single["status"] == row["status"] and single["progress_pct"] == row["progress_pct"]


def test_all_plans_every_category(three_categories, planner_api, queued_jobs):
    response = planner_api.post(URL, json={"category_ids": "all", "parameters": PARAMS})
    assert response.status_code == 201, response.json()
    assert [w["category_id"] for w in response.json()["workflows"]] == [pk for _, pk in three_categories]
    assert len(queued_jobs) == 3
    assert Batch.objects.get().all_categories


def test_progress_follows_the_runs_as_they_finish(three_categories, planner_api, queued_jobs, fit_memo):
    batch_id = planner_api.post(URL, json={"category_ids": TWO, "parameters": PARAMS}).json()["batch_id"]
    status = planner_api.get(f"/api/batches/{batch_id}").json()
    assert status["status"] == "running" and status["finished"] == 0 and status["counts"]["pending"] == 2
    task, args = queued_jobs.pop(0)
    task(*args)
    status = planner_api.get(f"/api/batches/{batch_id}").json()
    assert status["status"] == "running" and status["finished"] == 1
    assert status["counts"] == {**status["counts"], "pending": 1, "awaiting_approval": 1}
    task, args = queued_jobs.pop(0)
    task(*args)
    status = planner_api.get(f"/api/batches/{batch_id}").json()
    assert status["status"] == "ready" and status["finished"] == 2 and status["progress_pct"] > 0


def test_an_unknown_category_is_404_and_nothing_is_created(three_categories, planner_api, queued_jobs):
    response = planner_api.post(URL, json={"category_ids": ["womens_dresses", "socks", "hats"], "parameters": PARAMS})
    assert response.status_code == 404
    assert "'socks', 'hats'" in response.json()["detail"]
    assert nothing_created() and not queued_jobs


def test_a_category_without_enough_history_is_422_naming_it(seeded, planner_api, queued_jobs):
    response = planner_api.post(URL, json={"category_ids": ["womens_dresses", "mens_shirts"], "parameters": PARAMS})
    assert response.status_code == 422
    body = response.json()
    assert "mens_shirts" in body["detail"] and "no season was started" in body["detail"]
    assert [(e["field"], e["got"]) for e in body["errors"]] == [("category_ids.1", "mens_shirts")]
    assert "Insufficient history" in body["errors"][0]["message"]
    assert nothing_created() and not queued_jobs


def test_repeated_ids_and_bad_lists_are_422(three_categories, planner_api, queued_jobs):
    response = planner_api.post(URL, json={"category_ids": ["mens_shirts", "womens_dresses", "mens_shirts"],
                                           "parameters": PARAMS})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "category_ids.2"
    for ids in ([], "every", [1, 2], None):
        assert planner_api.post(URL, json={"category_ids": ids, "parameters": PARAMS}).status_code == 422, ids
    assert nothing_created() and not queued_jobs


def test_invalid_parameters_are_422_like_a_single_season(three_categories, planner_api, queued_jobs):
    response = planner_api.post(URL, json={"category_ids": TWO, "parameters": {**PARAMS, "forecast_horizon_weeks": 60}})
    assert response.status_code == 422
    assert "forecast_horizon_weeks" in response.json()["detail"]
    response = planner_api.post(URL, json={"category_ids": TWO, "parameters": PARAMS, "extraction_id": None})
    assert response.status_code == 422  # one extraction is one season: not taken by a batch
    assert nothing_created() and not queued_jobs


def test_viewers_read_but_may_not_start(three_categories, planner_api, viewer_api, queued_jobs):
    assert viewer_api.post(URL, json={"category_ids": TWO, "parameters": PARAMS}).status_code == 403
    assert nothing_created()
    batch_id = planner_api.post(URL, json={"category_ids": TWO, "parameters": PARAMS}).json()["batch_id"]
    assert viewer_api.get(f"/api/batches/{batch_id}").status_code == 200
    assert viewer_api.get("/api/batches/00000000-0000-0000-0000-000000000000").status_code == 404


# --- The seasons page's "Plan all categories" ------------------------------------------------------

PAGE_FORM = {"season_start_date": "2025-03-01", "forecast_horizon_weeks": "12", "replenishment_strategy": "weekly",
             "dc_holdback_percentage": "45", "markdown_checkpoint_week": "", "markdown_threshold": ""}
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_seasons_page_offers_plan_all_to_planners_only(seeded, planner, viewer):
    page = signed_in(planner).get("/").content.decode()
    assert "Plan all categories" in page and 'hx-post="/seasons/plan-all"' in page
    assert "Plan all categories" not in signed_in(viewer).get("/").content.decode()
    assert signed_in(viewer).post("/seasons/plan-all", PAGE_FORM, **HTMX).status_code == 403
    assert nothing_created()


def test_plan_all_from_the_page_shows_the_progress_table_and_polls_while_running(
        three_categories, planner, viewer, queued_jobs, fit_memo):
    response = signed_in(planner).post("/seasons/plan-all", PAGE_FORM, **HTMX)
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    batch = Batch.objects.get()
    assert batch.parameters["dc_holdback_percentage"] == 0.45 and batch.all_categories
    assert f'hx-get="/batches/{batch.pk}/"' in html and 'hx-trigger="every 2s"' in html
    assert html.count("<tr>") == 1 + 3 and "0 of 3 planned" in html
    for task, args in list(queued_jobs):
        task(*args)
    html = signed_in(viewer).get(f"/batches/{batch.pk}/", **HTMX).content.decode()
    assert "3 of 3 planned" in html and "hx-trigger" not in html  # finished: no more polling
    assert html.count("Awaiting Approval") == 3


def test_plan_all_form_errors_are_shown_next_to_their_inputs(seeded, planner, queued_jobs):
    client = signed_in(planner)
    response = client.post("/seasons/plan-all", {**PAGE_FORM, "forecast_horizon_weeks": "60"}, **HTMX)
    assert response.status_code == 422
    assert 'id="forecast_horizon_weeks-error"' in response.content.decode()
    response = client.post("/seasons/plan-all", PAGE_FORM, **HTMX)  # men's shirts and accessories: no history
    assert response.status_code == 422
    html = response.content.decode()
    assert "cannot be planned" in html and "mens_shirts: Insufficient history" in html
    assert 'value="2025-03-01"' in html  # what was typed is kept
    assert nothing_created() and not queued_jobs

"""Weekly actuals: parse_weekly_actuals (every rule) and POST /api/data/upload-weekly-sales."""
import io
import uuid
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.errors import Invalid, PlanningError, UnsupportedMediaType
from planning.models import DataUpload, Run, Season, WeeklyActual
from planning.services.actuals_import import parse_weekly_actuals, plan_store_ids, week_dates
from planning.tests.season_fixtures import *  # noqa: F401,F403  (planned_season and its fixtures)
from planning.tests.season_fixtures import week_units

URL = "/api/data/upload-weekly-sales"
START = date(2025, 3, 1)  # a Saturday: week 2 is 2025-03-08 .. 2025-03-14
STORES = {"S001", "S002", "S003"}


def parse(text, week=2, stores=STORES):
    return parse_weekly_actuals(io.BytesIO(text.encode()), season_start=START, week=week,
                                store_ids=stores)


def problems(text, **kw):
    with pytest.raises(Invalid) as caught:
        parse(text, **kw)
    return caught.value.errors


def test_week_dates():
    assert week_dates(START, 1) == (date(2025, 3, 1), date(2025, 3, 7))
    assert week_dates(START, 2) == (date(2025, 3, 8), date(2025, 3, 14))


def test_store_totals():
    assert parse("store_id,units_sold\nS001,10\nS002,0\nS003,7\n") == {
        "S001": 10, "S002": 0, "S003": 7}


def test_store_totals_with_week_number_column():
    text = "Store_ID, Week_Number ,UNITS_SOLD\nS001,2,10\nS002,2,1\nS003,2,7\n"
    assert parse(text) == {"S001": 10, "S002": 1, "S003": 7}
    [error] = problems(text.replace("S003,2,7", "S003,3,7"))
    assert error["row"] == 4 and error["column"] == "week_number" and error["got"] == "3"


def test_daily_rows_are_summed_per_store():
    text = ("date,store_id,quantity_sold\n2025-03-08,S001,4\n2025-03-14,S001,6\n"
            "2025-03-09,S002,1\n2025-03-10,S003,0\n")
    assert parse(text) == {"S001": 10, "S002": 1, "S003": 0}


def test_daily_dates_outside_the_week():
    text = "date,store_id,quantity_sold\n2025-03-08,S001,4\n2025-03-15,S002,1\n2025-03-10,S003,0\n"
    [error] = problems(text)
    assert error["row"] == 3 and error["column"] == "date" and error["got"] == "2025-03-15"
    assert "Expected 2025-03-08 to 2025-03-14" in error["message"]
    assert error["expected"] == "2025-03-08 to 2025-03-14"


def test_daily_bad_date():
    text = "date,store_id,quantity_sold\n2025-03-08,S001,4\n8/3/2025,S002,1\n2025-03-10,S003,0\n"
    [error] = problems(text)
    assert error["row"] == 3 and "not a valid date" in error["message"]


def test_missing_stores_are_named():
    [error] = problems("store_id,units_sold\nS001,1\n", stores={"S001", "S015", "S022"})
    assert error["row"] is None
    assert error["message"] == "Missing data for stores: S015, S022"


def test_unknown_store():
    [error] = problems("store_id,units_sold\nS001,1\nS002,1\nS003,1\nS099,5\n")
    assert error["row"] == 5 and error["got"] == "S099" and "not part of this plan" in error["message"]


def test_duplicate_store_rows():
    [error] = problems("store_id,units_sold\nS001,1\nS002,1\nS003,1\nS001,2\n")
    assert error["row"] == 5 and "more than once" in error["message"]


def test_duplicate_daily_rows():
    text = ("date,store_id,quantity_sold\n2025-03-08,S001,4\n2025-03-08,S001,4\n"
            "2025-03-09,S002,1\n2025-03-10,S003,0\n")
    [error] = problems(text)
    assert error["row"] == 3 and "same store and date" in error["message"]


@pytest.mark.parametrize("value, fragment", [("-1", "negative"), ("2.5", "not a whole number"),
                                             ("ten", "not a whole number"), ("", "is empty")])
def test_bad_units(value, fragment):
    [error] = problems(f"store_id,units_sold\nS001,{value}\nS002,1\nS003,1\n")
    assert error["row"] == 2 and error["column"] == "units_sold" and fragment in error["message"]


def test_missing_column_and_empty_files():
    [error] = problems("store_id,units\nS001,1\n")
    assert error["row"] == 1 and error["column"] == "units_sold"
    with pytest.raises(Invalid, match="empty"):
        parse("")
    with pytest.raises(Invalid, match="no data rows"):
        parse("store_id,units_sold\n")
    with pytest.raises(UnsupportedMediaType):
        parse_weekly_actuals(io.BytesIO(b"\x00\x01binary"), season_start=START, week=1,
                             store_ids=STORES)


def test_peer_scenario_week_parses(peer_data):
    stores = {f"S{i:03d}" for i in range(1, 51)}
    with open(peer_data / "scenarios" / "high_demand" / "actuals_week_01.csv", "rb") as handle:
        units = parse_weekly_actuals(handle, season_start=START, week=1, store_ids=stores)
    assert set(units) == stores and all(v >= 0 for v in units.values())
    with open(peer_data / "scenarios" / "high_demand" / "actuals_week_02.csv", "rb") as handle:
        with pytest.raises(Invalid) as caught:
            parse_weekly_actuals(handle, season_start=START, week=1, store_ids=stores)
    assert "Expected 2025-03-01 to 2025-03-07" in caught.value.errors[0]["message"]


TOKENS = ["S001", "S002", "S003", "S999", "", "2025-03-08", "2025-03-15", "bad", "0", "7", "-2",
          "2.5", "2", '"', "\x00", "units_sold"]


@settings(max_examples=80, deadline=None)
@given(header=st.sampled_from(["store_id,units_sold", "store_id,week_number,units_sold",
                               "date,store_id,quantity_sold", "store_id,quantity"]),
       rows=st.lists(st.lists(st.sampled_from(TOKENS), min_size=2, max_size=4), max_size=6))
def test_any_weekly_file_parses_or_is_refused_cleanly(header, rows):
    text = header + "\n" + "".join(",".join(row) + "\n" for row in rows)
    try:
        units = parse(text)
    except PlanningError as exc:
        assert exc.status in (415, 422) and exc.detail
    else:
        assert set(units) == STORES and all(v >= 0 for v in units.values())


# --- The endpoint ----------------------------------------------------------------------------


@pytest.fixture
def season(demo_stores, planner):
    return Season.objects.create(
        category_id="womens_dresses", owner=planner,
        parameters={"season_start_date": START.isoformat(), "forecast_horizon_weeks": 12})


def post(client, workflow_id, week, text, **extra):
    data = {"workflow_id": str(workflow_id), "week_number": str(week),
            "file": SimpleUploadedFile("week.csv", text.encode(), "text/csv"), **extra}
    return client.post(URL, data=data)


def test_plan_stores_are_all_stores_before_an_allocation(season):
    assert len(plan_store_ids(season)) == 50


def test_unknown_workflow_is_404(planner_api, season):
    response = post(planner_api, uuid.uuid4(), 1, "store_id,units_sold\nS001,1\n")
    assert response.status_code == 404 and "Unknown workflow" in response.json()["detail"]


def test_bad_workflow_id_is_422(planner_api, season):
    response = post(planner_api, "not-a-uuid", 1, "store_id,units_sold\nS001,1\n")
    assert response.status_code == 422


def test_viewer_is_403(viewer_api, season):
    assert post(viewer_api, season.pk, 1, "store_id,units_sold\nS001,1\n").status_code == 403


def test_validation_errors_are_422_and_nothing_is_written(planner_api, season):
    response = post(planner_api, season.pk, 1, "store_id,units_sold\nS001,1\nS002,-4\n")
    assert response.status_code == 422
    body = response.json()
    assert any("Missing data for stores: S003" in e["message"] for e in body["errors"])
    assert any(e["row"] == 3 and e["column"] == "units_sold" for e in body["errors"])
    assert not WeeklyActual.objects.exists() and not DataUpload.objects.exists()


def test_week_outside_the_season_is_422(planner_api, season):
    response = post(planner_api, season.pk, 13, "store_id,units_sold\nS001,1\n")
    assert response.status_code == 422 and "between 1 and 12" in response.json()["detail"]


def test_upload_records_the_week(planner_api, planned_season):
    units = week_units(1)
    text = "store_id,units_sold\n" + "".join(f"{s},{u}\n" for s, u in units.items())
    response = post(planner_api, planned_season.pk, 1, text)
    assert response.status_code == 202, response.json()
    body = response.json()
    run = Run.objects.get(pk=body["run_id"])  # the week's run; under inline_jobs it ran before the answer
    assert (run.kind, run.week, run.season_id, body["status"]) == ("week", 1, planned_season.pk, "pending")
    assert body["week_number"] == 1 and body["rows_imported"] == len(units) and body["units"] == sum(units.values())
    check = body["variance_check"]
    assert check["week_number"] == 1 and check["actual_cumulative"] == sum(units.values())
    assert set(check) >= {"forecasted_cumulative", "variance_pct", "threshold_exceeded", "action_taken", "band"}
    assert WeeklyActual.objects.filter(season=planned_season, week=1).count() == len(units)
    assert DataUpload.objects.get(pk=body["upload_id"]).kind == "weekly_actuals"

    again = post(planner_api, planned_season.pk, 1, text)
    assert again.status_code == 409
    replaced = post(planner_api, planned_season.pk, 1, text, overwrite="true")
    assert replaced.status_code == 202, replaced.json()
    assert replaced.json()["run_id"] != body["run_id"]

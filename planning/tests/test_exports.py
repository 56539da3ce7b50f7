"""CSV exports: allocation, replenishment shipments and variance table of a season."""
import csv
import io

import pytest

from planning.models import Allocation, Store, VarianceCheck
from planning.services.exports import CsvExport, safe_cell
from planning.tests.test_api_resources import make_season


def read_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def season(demo_stores, planner):
    return make_season(planner)


@pytest.mark.parametrize("value, shown", [
    ("=cmd()", "'=cmd()"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Store 1", "Store 1"), ("", ""),
    (-0.125, -0.125), (-3, -3), (None, None),
])
def test_safe_cell(value, shown):
    assert safe_cell(value) == shown


def test_formula_cells_are_escaped_numbers_are_not():
    text = CsvExport("x.csv", ["name", "change"], [["=cmd()", -0.12], ["@evil", 3]]).text()
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [
        ["name", "change"], ["'=cmd()", "-0.12"], ["'@evil", "3"]]


def test_allocation_export(viewer_api, season):
    workflow, forecast = season
    Store.objects.filter(pk="S002").update(name="=cmd()")
    response = viewer_api.get(f"/api/exports/allocations/{forecast.id}.csv")
    rows = read_csv(response)
    assert "allocation-womens_dresses-2025-03-01.csv" in response["Content-Disposition"]
    assert rows[0] == ["store_id", "store_name", "cluster_id", "factor", "planned_units",
                       "initial_allocation", "holdback_allocation"]
    assert [r[0] for r in rows[1:]] == ["S001", "S002", "S003"]
    assert rows[2][1] == "'=cmd()"
    assert rows[1][4:] == ["400", "264", "136"]


def test_replenishment_export(viewer_api, season):
    _, forecast = season
    rows = read_csv(viewer_api.get(f"/api/exports/replenishments/{forecast.id}.csv"))
    assert rows[0] == ["week_number", "store_id", "store_name", "need_units", "quantity", "partial"]
    assert rows[1][0:2] == ["1", "S001"] and rows[1][3:] == ["50", "40", "yes"]


def test_variance_export_keeps_negative_numbers(viewer_api, season):
    workflow, forecast = season
    VarianceCheck.objects.filter(season=workflow).update(action_taken="=HYPERLINK(x)")
    rows = read_csv(viewer_api.get(f"/api/exports/variance/{forecast.id}.csv"))
    assert rows[0][:5] == ["week_number", "forecasted_cumulative", "actual_cumulative", "variance_pct",
                           "signed_variance"]
    assert rows[1][:5] == ["1", "480.0", "420", "0.125", "-0.125"]
    assert rows[1][-1] == "'=HYPERLINK(x)"


def test_export_errors(viewer_api, client, season):
    workflow, forecast = season
    assert viewer_api.get("/api/exports/allocations/999999.csv").status_code == 404
    Allocation.objects.filter(season=workflow).delete()
    response = viewer_api.get(f"/api/exports/allocations/{forecast.id}.csv")
    assert response.status_code == 404 and response.json()["detail"].startswith("This season")
    assert client.get(f"/api/exports/variance/{forecast.id}.csv").status_code == 401

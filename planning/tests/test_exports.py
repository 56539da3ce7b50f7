"""Exports: allocation, replenishment shipments and variance table of a season, each as CSV and
as XLSX with the same cells."""
import csv
import io

import pytest
from openpyxl import load_workbook

from planning.models import Allocation, Store, VarianceCheck
from planning.services.exports import Export, safe_cell
from planning.tests.test_api_resources import make_season

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response):
    """The first sheet's rows, as openpyxl reads them back (numbers stay numbers)."""
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def same_cells(xlsx_rows, csv_rows):
    """An XLSX cell equals its CSV text: a number by value (XLSX reads 480.0 back as 480), an
    empty cell as "", text as it is."""
    assert [len(row) for row in xlsx_rows] == [len(row) for row in csv_rows]
    for xlsx_row, csv_row in zip(xlsx_rows, csv_rows):
        for value, text in zip(xlsx_row, csv_row):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert float(text) == value, (xlsx_row, csv_row)
            else:
                assert ("" if value is None else value) == text, (xlsx_row, csv_row)


def assert_twins(api, path):
    """path.csv and path.xlsx hold the same cells, under the same file name."""
    csv_response, xlsx_response = api.get(f"{path}.csv"), api.get(f"{path}.xlsx")
    csv_rows, xlsx_rows = read_csv(csv_response), read_xlsx(xlsx_response)
    same_cells(xlsx_rows, csv_rows)
    name = csv_response["Content-Disposition"].split('filename="')[1][:-len('.csv"')]
    assert xlsx_response["Content-Disposition"] == f'attachment; filename="{name}.xlsx"'
    return xlsx_rows


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
    export = Export("x", ["name", "change"], [["=cmd()", -0.12], ["@evil", 3]])
    text = export.csv_text()
    assert text.startswith("\ufeff") and export.filename("csv") == "x.csv"
    assert list(csv.reader(io.StringIO(text[1:]))) == [
        ["name", "change"], ["'=cmd()", "-0.12"], ["'@evil", "3"]]


def test_the_xlsx_has_the_same_cells_and_no_formulas():
    export = Export("x", ["name", "change", "gap"], [["=cmd()", -0.12, None], ["@evil", 3, "bell\x07"]])
    content, content_type = export.render("xlsx")
    assert content_type == XLSX and export.filename("xlsx") == "x.xlsx"
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["name", "change", "gap"], ["'=cmd()", -0.12, None], ["'@evil", 3, "bell"]]
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    assert sheet["B2"].data_type == "n" and sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    with pytest.raises(ValueError):
        export.render("pdf")


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
    cells = assert_twins(viewer_api, f"/api/exports/allocations/{forecast.id}")
    assert cells[1][4:] == [400, 264, 136] and cells[2][1] == "'=cmd()"


def test_replenishment_export(viewer_api, season):
    _, forecast = season
    rows = read_csv(viewer_api.get(f"/api/exports/replenishments/{forecast.id}.csv"))
    assert rows[0] == ["week_number", "store_id", "store_name", "need_units", "quantity", "partial"]
    assert rows[1][0:2] == ["1", "S001"] and rows[1][3:] == ["50", "40", "yes"]
    assert assert_twins(viewer_api, f"/api/exports/replenishments/{forecast.id}")[1][3:] == [50, 40, "yes"]


def test_variance_export_keeps_negative_numbers(viewer_api, season):
    workflow, forecast = season
    VarianceCheck.objects.filter(season=workflow).update(action_taken="=HYPERLINK(x)")
    rows = read_csv(viewer_api.get(f"/api/exports/variance/{forecast.id}.csv"))
    assert rows[0][:5] == ["week_number", "forecasted_cumulative", "actual_cumulative", "variance_pct",
                           "signed_variance"]
    assert rows[1][:5] == ["1", "480.0", "420", "0.125", "-0.125"]
    assert rows[1][-1] == "'=HYPERLINK(x)"
    cells = assert_twins(viewer_api, f"/api/exports/variance/{forecast.id}")
    assert cells[1][3:5] == [0.125, -0.125] and cells[1][-1] == "'=HYPERLINK(x)"


def test_export_errors(viewer_api, client, season):
    workflow, forecast = season
    assert viewer_api.get("/api/exports/allocations/999999.csv").status_code == 404
    Allocation.objects.filter(season=workflow).delete()
    response = viewer_api.get(f"/api/exports/allocations/{forecast.id}.csv")
    assert response.status_code == 404 and response.json()["detail"].startswith("This season")
    assert client.get(f"/api/exports/variance/{forecast.id}.csv").status_code == 401
    assert viewer_api.get("/api/exports/allocations/999999.xlsx").status_code == 404
    assert viewer_api.get(f"/api/exports/allocations/{forecast.id}.xlsx").status_code == 404
    assert client.get(f"/api/exports/variance/{forecast.id}.xlsx").status_code == 401

"""Historical sales upload: POST /api/data/upload-historical-sales and manage.py load_history."""
import io

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from planning.errors import PlanningError
from planning.models import Category, DataUpload, HistoricalSale
from planning.services import csv_files, history_import

URL = "/api/data/upload-historical-sales"
HEADER = "date,category,store_id,quantity_sold,revenue\n"
GOOD = HEADER + (
    "2024-01-01,Women's Dresses,S001,5,100.5\n"
    "2024-01-01,Women's Dresses,S002,0,\n"
    "2024-01-02,Men's Shirts,S001,7,70\n"
)


def upload(client, text, name="history.csv"):
    content = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(URL, data={"file": SimpleUploadedFile(name, content, "text/csv")})


def counts():
    return HistoricalSale.objects.count(), Category.objects.count(), DataUpload.objects.count()


@pytest.fixture
def stores(db):
    """The 50 demo stores and their clusters, without categories."""
    call_command("loaddata", "clusters", "stores", verbosity=0)


@pytest.fixture
def stored(stores):
    """Demo stores plus three stored rows, to show that a failed upload leaves them alone."""
    history_import.import_historical_sales(io.BytesIO(GOOD.encode()), filename="seed.csv")
    return counts()


def test_upload_imports_rows_and_reports(planner_api, stores):
    response = upload(planner_api, GOOD)
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["rows_imported"] == 3 and report["rows_added"] == 3 and report["rows_replaced"] == 0
    assert {c["category_id"]: c["row_count"] for c in report["categories_detected"]} == {
        "womens_dresses": 2, "mens_shirts": 1}
    assert all(c["created"] for c in report["categories_detected"])
    assert report["date_range"] == {"start": "2024-01-01", "end": "2024-01-02"}
    assert report["stores"] == 2
    assert report["data_quality"]["status"] in {"ok", "review"}
    sale = HistoricalSale.objects.get(store_id="S002", category_id="womens_dresses")
    assert sale.units == 0 and sale.revenue is None
    assert HistoricalSale.objects.get(store_id="S001", category_id="womens_dresses").revenue == 100.5
    assert Category.objects.get(pk="womens_dresses").name == "Women's Dresses"
    recorded = DataUpload.objects.get(pk=report["upload_id"])
    assert recorded.kind == "historical_sales" and recorded.rows == 3
    assert recorded.filename == "history.csv" and recorded.uploaded_by.username == "planner1"


def test_header_is_flexible_bom_case_order_and_extra_columns(planner_api, stores):
    text = "\ufeff Store_ID ,QUANTITY_SOLD,notes,Category,Date\nS003,4,hello,Accessories,2024-05-06\n"
    response = upload(planner_api, text)
    assert response.status_code == 200, response.json()
    assert HistoricalSale.objects.get().units == 4
    assert Category.objects.get().pk == "accessories"


def test_reupload_replaces_overlapping_rows(planner_api, stored):
    text = HEADER + "2024-01-01,Women's Dresses,S001,9,1\n2024-01-03,Women's Dresses,S001,2,1\n"
    response = upload(planner_api, text)
    assert response.status_code == 200
    report = response.json()
    assert (report["rows_added"], report["rows_replaced"]) == (1, 1)
    assert HistoricalSale.objects.count() == stored[0] + 1
    assert HistoricalSale.objects.get(store_id="S001", date="2024-01-01").units == 9
    dresses = next(c for c in report["categories_detected"] if c["category_id"] == "womens_dresses")
    assert dresses["data_version"] == 2 and not dresses["created"]


def test_existing_category_matched_by_name(planner_api, stores):
    Category.objects.create(id="dresses", name="Women's Dresses")
    response = upload(planner_api, GOOD)
    assert response.status_code == 200
    assert HistoricalSale.objects.filter(category_id="dresses").count() == 2
    assert not Category.objects.filter(pk="womens_dresses").exists()


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ("date,category,quantity_sold\n2024-01-01,Accessories,3\n", "store_id", "Missing column"),
        (HEADER + "2024-02-30,Accessories,S001,3,\n", "date", "not a valid date"),
        (HEADER + "01/02/2024,Accessories,S001,3,\n", "date", "not a valid date"),
        (HEADER + "2024-01-05,Accessories,S001,-3,\n", "quantity_sold", "negative"),
        (HEADER + "2024-01-05,Accessories,S001,99999999999999999999999,\n", "quantity_sold",
         "too large"),
        (HEADER + "2024-01-05,Accessories,S001,2.5,\n", "quantity_sold", "not a whole number"),
        (HEADER + "2024-01-05,Accessories,S001,lots,\n", "quantity_sold", "not a whole number"),
        (HEADER + "2024-01-05,Accessories,S001,,\n", "quantity_sold", "is empty"),
        (HEADER + "2024-01-05,Accessories,S999,3,\n", "store_id", "Unknown store S999"),
        (HEADER + "2024-01-05,Accessories,S001,3,free\n", "revenue", "not a number"),
        (HEADER + "2024-01-05,!!!,S001,3,\n", "category", "not a usable name"),
    ],
)
def test_bad_row_rejects_whole_file(planner_api, stored, text, column, fragment):
    response = upload(planner_api, text + "2024-01-09,Accessories,S002,1,\n")
    assert response.status_code == 422, response.json()
    body = response.json()
    error = body["errors"][0]
    assert error["column"] == column and fragment in error["message"]
    assert set(error) == {"row", "column", "expected", "got", "message"}
    assert error["row"] == (1 if "Missing" in fragment else 2)
    assert "Nothing was imported" in body["detail"]
    assert counts() == stored


def test_header_problems_are_row_1(planner_api, stored):
    response = upload(planner_api, "Date,date,category,store_id,quantity_sold\n")
    [error] = response.json()["errors"]
    assert (error["row"], error["column"], error["got"]) == (1, "date", "2 times")
    response = upload(planner_api, "day,category,store_id,quantity_sold\n2024-01-01,A,S001,1\n")
    [error] = response.json()["errors"]
    assert error["got"] == "day, category, store_id, quantity_sold"
    assert counts() == stored


def test_duplicate_rows_in_file_name_the_first(planner_api, stored):
    text = HEADER + "2024-03-01,Accessories,S001,1,\n2024-03-02,Accessories,S001,1,\n" \
                    "2024-03-01,accessories,S001,2,\n"
    response = upload(planner_api, text)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["row"] == 4 and "same as row 2" in error["message"]
    assert counts() == stored


def test_duplicates_and_row_numbers_across_chunks_and_blank_lines(planner_api, stored, monkeypatch):
    monkeypatch.setattr(csv_files, "CHUNK_ROWS", 2)
    text = HEADER + "2024-03-01,Accessories,S001,1,\n\n2024-03-02,Accessories,S001,1,\n" \
                    "2024-03-03,Accessories,S001,1,\n2024-03-01,Accessories,S001,-1,\n"
    response = upload(planner_api, text)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (6, "quantity_sold"), (6, "store_id, category, date")]
    assert counts() == stored


def test_errors_are_capped_with_the_total_in_detail(planner_api, stored):
    text = HEADER + "".join(f"2024-01-{d:02d},Accessories,S999,1,\n" for d in range(1, 29)) * 5
    response = upload(planner_api, text)
    body = response.json()
    assert response.status_code == 422
    assert len(body["errors"]) == csv_files.MAX_REPORTED_ERRORS
    assert body["detail"].startswith("140 problems found; the first 100 are listed")
    assert [e["row"] for e in body["errors"]] == list(range(2, 102))
    assert counts() == stored


@pytest.mark.parametrize(
    "content, status, fragment",
    [
        (b"", 422, "empty"),
        (b"\n\n", 422, "empty"),
        (HEADER.encode(), 422, "no data rows"),
        (HEADER.encode() + b"\n\n", 422, "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 415, "not a CSV"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", 415, "not a CSV"),
        ("date,category,store_id,quantity_sold\n2024-01-01,Café,S001,1\n".encode("latin-1"),
         422, "not UTF-8"),
        ("date,category\n".encode("utf-16"), 422, "UTF-16"),
        (HEADER.encode() + b"2024-01-01,Accessories,S001,1,2,3\n", 422, "Row 2 has more than 5"),
        (HEADER.encode() + b"2024-01-01,Accessories,S001,1,2\n2024-01-02,Accessories,S001,1,2,3\n",
         422, "Row 3 has 6 values but the header has 5 columns"),
        (b"date;category;store_id;quantity_sold\n2024-01-01;A;S001;1\n", 422, "Missing column"),
    ],
)
def test_unreadable_files(planner_api, stored, content, status, fragment):
    response = upload(planner_api, content)
    assert response.status_code == status, response.json()
    assert fragment in response.json()["detail"] + str(response.json().get("errors"))
    assert counts() == stored


def test_semicolon_file_gets_a_hint(planner_api, stored):
    response = upload(planner_api, b"date;category;store_id;quantity_sold\n2024-01-01;A;S001;1\n")
    assert "';' between values" in response.json()["errors"][0]["message"]


def test_over_size_limit_is_413(planner_api, stored, settings):
    settings.UPLOAD_MAX_BYTES = 64
    response = upload(planner_api, GOOD + "2024-01-03,Men's Shirts,S001,7,70\n" * 500)
    assert response.status_code == 413
    assert "upload limit of 64 bytes" in response.json()["detail"]
    assert counts() == stored


def test_file_over_limit_inside_allowance_is_413(planner_api, stored, settings):
    settings.UPLOAD_MAX_BYTES = len(GOOD) - 1  # declared length passes; the file itself is over
    response = upload(planner_api, GOOD)
    assert response.status_code == 413
    assert counts() == stored


def test_missing_file_field_is_422(planner_api, stores):
    response = planner_api.post(URL, data={"other": "x"})
    assert response.status_code == 422
    assert "file" in response.json()["detail"]


def test_needs_token_and_planner_role(client, viewer_api, stored):
    response = client.post(URL, data={"file": SimpleUploadedFile("h.csv", GOOD.encode())})
    assert response.status_code == 401
    response = upload(viewer_api, GOOD)
    assert response.status_code == 403
    assert response.json()["detail"] == "This action needs the planner role."
    assert counts() == stored


def test_peer_files_import_as_they_are(planner_api, peer_data, db):
    with open(peer_data / "store_attributes.csv", "rb") as handle:
        response = planner_api.post("/api/data/upload-stores", data={"file": handle})
    assert response.status_code == 200, response.json()
    assert response.json()["stores_total"] == 50

    with open(peer_data / "historical_sales_2022_2024.csv", "rb") as handle:
        response = planner_api.post(URL, data={"file": handle})
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["rows_imported"] == report["rows_added"] == 164_400
    assert sorted(c["category_id"] for c in report["categories_detected"]) == ["accessories", "mens_shirts",
                                                             "womens_dresses"]
    assert report["date_range"] == {"start": "2022-01-01", "end": "2024-12-31"}
    assert report["stores"] == 50 and report["data_quality"]["missing_store_days"] == 0
    assert HistoricalSale.objects.count() == 164_400

    with open(peer_data / "historical_sales_2022_2024.csv", "rb") as handle:
        again = planner_api.post(URL, data={"file": handle}).json()
    assert again["rows_replaced"] == 164_400 and again["rows_added"] == 0
    assert HistoricalSale.objects.count() == 164_400
    assert set(Category.objects.values_list("data_version", flat=True)) == {2}


def test_load_history_command_uses_the_importer(stores, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(GOOD)
    out = io.StringIO()
    call_command("load_history", str(path), stdout=out)
    assert "Imported 3 rows" in out.getvalue() and "womens_dresses" in out.getvalue()
    assert HistoricalSale.objects.count() == 3


def test_load_history_command_reports_bad_rows(stores, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(HEADER + "2024-01-01,Accessories,S999,1,\n")
    with pytest.raises(CommandError, match="row 2, store_id: Unknown store S999"):
        call_command("load_history", str(path))
    assert HistoricalSale.objects.count() == 0


def test_load_history_synthetic(stores, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("load_history", "--synthetic", stdout=out)
    assert (tmp_path / "demo_history.csv").is_file()
    assert HistoricalSale.objects.count() == 164_400
    assert sorted(Category.objects.values_list("pk", flat=True)) == [
        "accessories", "mens_shirts", "womens_dresses"]
    assert "Imported 164,400 rows" in out.getvalue()


TOKENS = ["2024-01-01", "2024-01-02", "2024-02-30", "", " ", "S001", "S002", "S999", "Accessories",
          "Women's Dresses", "-1", "0", "5", "1.5", "1e3", "x", '"', '"a,b"', "=cmd()", "é", "\x00",
          "date", "store_id"]


@settings_hypothesis(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.permutations(["date", "category", "store_id", "quantity_sold", "revenue"]),
    rows=st.lists(st.lists(st.sampled_from(TOKENS), min_size=3, max_size=6), max_size=8),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_file_is_imported_or_refused_cleanly(stores, header, rows, newline):
    text = ",".join(header) + newline + "".join(",".join(row) + newline for row in rows)
    before = counts()
    try:
        report = history_import.import_historical_sales(io.BytesIO(text.encode()))
    except PlanningError as exc:
        assert exc.status in (413, 415, 422) and exc.detail
        assert counts() == before
    else:
        assert report["rows_imported"] == len([row for row in rows if any(v.strip() for v in row)])

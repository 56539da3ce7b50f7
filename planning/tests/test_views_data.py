"""The data page: categories with their date ranges and data quality; history and store uploads
with the report or the row errors inline."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from planning.models import HistoricalSale
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def csv_file(text, name="upload.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_data_page_lists_categories_with_dates_rows_and_quality(seeded, viewer):
    page = signed_in(viewer).get("/data/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Women&#x27;s Dresses" in html
    assert f"{HistoricalSale.objects.count():,}" in html
    first = HistoricalSale.objects.order_by("date").first().date.isoformat()
    assert first in html
    assert "Data quality:" in html and "50 stores in 3 clusters" in html
    assert 'name="file"' not in html  # viewers get no upload forms
    assert "Categories without history: Accessories, Men&#x27;s Shirts." in html


def test_planner_sees_both_upload_forms(demo_stores, planner):
    html = signed_in(planner).get("/data/").content.decode()
    assert 'hx-post="/data/history"' in html and 'hx-post="/data/stores"' in html
    assert "No sales history yet." in html


def test_history_upload_errors_are_listed_inline_and_nothing_is_saved(demo_stores, planner):
    body = "date,category,store_id,quantity_sold\n2024-01-01,Women's Dresses,S001,4\n2024-01-02,Women's Dresses,S001,-3\n"
    response = signed_in(planner).post("/data/history", {"file": csv_file(body)}, headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was imported." in html
    assert "<td>3</td><td>quantity_sold</td>" in html
    assert not HistoricalSale.objects.exists()


def test_history_upload_reports_what_it_imported(demo_stores, planner):
    body = "date,category,store_id,quantity_sold\n2024-01-01,Women's Dresses,S001,4\n2024-01-02,Women's Dresses,S002,5\n"
    response = signed_in(planner).post("/data/history", {"file": csv_file(body)}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "data-changed"
    html = response.content.decode()
    assert "Imported 2 rows" in html and "2024-01-01 to 2024-01-02" in html
    assert HistoricalSale.objects.count() == 2


def test_a_file_that_is_not_a_csv_is_refused(demo_stores, planner):
    response = signed_in(planner).post(
        "/data/stores", {"file": SimpleUploadedFile("s.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "text/csv")},
        headers=HTMX)
    assert response.status_code in (415, 422)
    assert 'role="alert"' in response.content.decode()


def test_uploads_are_for_planners_only(demo_stores, viewer):
    client = signed_in(viewer)
    for path in ("/data/history", "/data/stores"):
        response = client.post(path, {"file": csv_file("store_id\nS001\n")}, headers=HTMX)
        assert response.status_code == 403

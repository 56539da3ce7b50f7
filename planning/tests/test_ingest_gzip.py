"""Gzip-compressed uploads (.csv.gz): the history, stores and weekly endpoints, the data page and
manage.py load_history read them as a stream with the same checks as plain CSV; a gzip bomb is
413, a damaged file 422, and neither writes anything."""
import gzip
import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from planning.errors import DecompressedTooLarge, Invalid
from planning.models import Category, DataUpload, HistoricalSale, Store, WeeklyActual
from planning.services import csv_files, history_import
from planning.services.actuals_import import parse_weekly_actuals
from planning.tests.season_fixtures import *  # noqa: F401,F403  (planned_season and its fixtures)
from planning.tests.season_fixtures import week_units
from planning.tests.test_ingest_stores import HEADER as STORES_HEADER
from planning.tests.test_ingest_stores import store_rows

HISTORY_URL = "/api/data/upload-historical-sales"
STORES_URL = "/api/data/upload-stores"
WEEKLY_URL = "/api/data/upload-weekly-sales"
HEADER = "date,category,store_id,quantity_sold,revenue\n"
HTMX = {"HX-Request": "true"}


def history_text(days=40, stores=50):
    start = date(2024, 1, 1)
    lines = [HEADER]
    for d in range(days):
        day = (start + timedelta(days=d)).isoformat()
        for s in range(1, stores + 1):
            lines.append(f"{day},Women's Dresses,S{s:03d},{(d * 7 + s) % 23},{(d + s) % 40 * 2.5}\n")
            lines.append(f"{day},Men's Shirts,S{s:03d},{(d + 3 * s) % 11},\n")
    return "".join(lines)


def bomb(megabytes=20):
    """A valid history header and row, then megabytes of blank lines: about 20 KB compressed."""
    return gzip.compress((HEADER + "2024-01-01,Accessories,S001,1,2\n").encode()
                         + b"\n" * (megabytes * 1024 * 1024))


def post_file(client, url, content, name, **fields):
    return client.post(url, data={"file": SimpleUploadedFile(name, content, "application/gzip"), **fields})


def counts():
    return (HistoricalSale.objects.count(), Category.objects.count(), DataUpload.objects.count(),
            Store.objects.count(), WeeklyActual.objects.count())


def stored_sales():
    return sorted(HistoricalSale.objects.values_list("store_id", "category_id", "date", "units", "revenue"))


def comparable(report):
    return {key: value for key, value in report.items() if key not in {"seconds", "upload_id", "filename"}}


def forget_history():
    HistoricalSale.objects.all().delete()
    DataUpload.objects.all().delete()
    Category.objects.all().delete()


@pytest.fixture
def stores(db):
    """The 50 demo stores and their clusters, without categories."""
    call_command("loaddata", "clusters", "stores", verbosity=0)


@pytest.fixture
def stored(stores):
    """Three stored rows, to show that a refused upload leaves them alone."""
    history_import.import_historical_sales(
        io.BytesIO((HEADER + "2024-01-01,Accessories,S001,5,10\n2024-01-02,Accessories,S002,3,\n").encode()),
        filename="seed.csv")
    return counts()


# --- The history endpoint ----------------------------------------------------------------------


def test_gzip_history_gives_the_plain_uploads_answer_and_rows(planner_api, stores):
    text = history_text()
    compressed = gzip.compress(text.encode())
    assert len(compressed) < len(text) / 3

    response = post_file(planner_api, HISTORY_URL, compressed, "history.csv.gz")
    assert response.status_code == 200, response.json()
    from_gzip, gzip_rows = response.json(), stored_sales()
    assert from_gzip["rows_imported"] == 40 * 50 * 2 and from_gzip["filename"] == "history.csv.gz"
    assert DataUpload.objects.get().filename == "history.csv.gz"

    forget_history()
    plain = post_file(planner_api, HISTORY_URL, text.encode(), "history.csv")
    assert plain.status_code == 200, plain.json()
    assert comparable(plain.json()) == comparable(from_gzip)
    assert stored_sales() == gzip_rows


def test_a_gzip_upload_spooled_to_a_temporary_file_reads_the_same(planner_api, stores, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # Django keeps the upload in a temporary file
    compressed = gzip.compress(history_text(days=5).encode())
    assert len(compressed) > 1024
    response = post_file(planner_api, HISTORY_URL, compressed, "history.csv.gz")
    assert response.status_code == 200, response.json()
    assert response.json()["rows_imported"] == 5 * 50 * 2


def test_gzip_is_recognised_by_content_whatever_the_name(planner_api, stores):
    response = post_file(planner_api, HISTORY_URL, gzip.compress(history_text(days=2).encode()), "history.csv")
    assert response.status_code == 200, response.json()
    assert response.json()["rows_imported"] == 2 * 50 * 2


def test_a_file_named_gz_that_is_not_gzip_is_422(planner_api, stored):
    response = post_file(planner_api, HISTORY_URL, history_text(days=2).encode(), "history.csv.gz")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("The file is named history.csv.gz but is not gzip-compressed.")
    assert counts() == stored


def test_row_errors_inside_a_gzip_file_are_listed_as_for_plain_csv(planner_api, stored):
    text = HEADER + "2024-01-01,Accessories,S001,4,\n2024-01-02,Accessories,S999,-3,\n"
    plain = post_file(planner_api, HISTORY_URL, text.encode(), "h.csv").json()
    compressed = post_file(planner_api, HISTORY_URL, gzip.compress(text.encode()), "h.csv.gz")
    assert compressed.status_code == 422
    assert compressed.json() == plain
    assert {(e["row"], e["column"]) for e in plain["errors"]} == {(3, "store_id"), (3, "quantity_sold")}
    assert counts() == stored


def test_a_gzip_bomb_is_413_and_nothing_is_written(planner_api, stored, settings):
    settings.UPLOAD_MAX_DECOMPRESSED_BYTES = 5 * 1024 * 1024
    content = bomb(20)
    assert len(content) < 64 * 1024  # well inside UPLOAD_MAX_BYTES: only the inflated size is over
    response = post_file(planner_api, HISTORY_URL, content, "history.csv.gz")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The file decompresses to more than the limit of 5,242,880 bytes. Nothing was imported."}
    assert counts() == stored


def test_the_compressed_size_is_what_upload_max_bytes_limits(planner_api, stores, settings):
    text = history_text(days=10)
    compressed = gzip.compress(text.encode())
    settings.UPLOAD_MAX_BYTES = len(compressed) + 100  # the CSV itself is several times larger
    response = post_file(planner_api, HISTORY_URL, compressed, "history.csv.gz")
    assert response.status_code == 200, response.json()
    settings.UPLOAD_MAX_BYTES = len(compressed) - 1
    assert post_file(planner_api, HISTORY_URL, compressed, "history.csv.gz").status_code == 413


@pytest.mark.parametrize("damage", ["truncated", "bad_crc", "bad_length", "bad_deflate", "header_only"])
def test_a_damaged_gzip_file_is_422_and_nothing_is_written(planner_api, stored, damage):
    compressed = gzip.compress(history_text(days=5).encode())
    if damage == "truncated":
        content = compressed[: len(compressed) // 2]
    elif damage == "bad_crc":
        content = compressed[:-8] + bytes(b ^ 0xFF for b in compressed[-8:-4]) + compressed[-4:]
    elif damage == "bad_length":
        content = compressed[:-4] + b"\x00\x00\x00\x00"
    elif damage == "bad_deflate":
        content = compressed[:10] + b"\xff" * 32 + compressed[42:]
    else:
        content = compressed[:10]
    response = post_file(planner_api, HISTORY_URL, content, "history.csv.gz")
    assert response.status_code == 422, response.json()
    assert response.json()["detail"].startswith("The gzip file is damaged or incomplete (")
    assert counts() == stored


def test_a_gzip_file_of_binary_or_nothing_is_refused_as_plain_would_be(planner_api, stored):
    workbook = post_file(planner_api, HISTORY_URL, gzip.compress(b"PK\x03\x04\x00\x00binary"), "h.csv.gz")
    assert workbook.status_code == 415
    empty = post_file(planner_api, HISTORY_URL, gzip.compress(b""), "h.csv.gz")
    assert empty.status_code == 422 and "The file is empty" in empty.json()["detail"]
    assert counts() == stored


# --- The decompressed limit, in the service ------------------------------------------------------


def test_the_limit_counts_decompressed_bytes_exactly(stores, settings):
    content = history_text(days=1).encode()
    settings.UPLOAD_MAX_DECOMPRESSED_BYTES = len(content)
    report = history_import.import_historical_sales(io.BytesIO(gzip.compress(content)))
    assert report["rows_imported"] == 100
    settings.UPLOAD_MAX_DECOMPRESSED_BYTES = len(content) - 1
    with pytest.raises(DecompressedTooLarge):
        history_import.import_historical_sales(io.BytesIO(gzip.compress(content)))


def test_a_multi_member_gzip_file_reads_as_one_csv(stores):
    text = history_text(days=2)
    head, tail = text[: len(text) // 2], text[len(text) // 2:]
    content = gzip.compress(head.encode()) + gzip.compress(tail.encode())
    assert history_import.import_historical_sales(io.BytesIO(content))["rows_imported"] == 200


def test_plain_csv_is_handed_over_as_it_is(tmp_path):
    """No wrapper around a plain file: plain CSV reads exactly as fast as before."""
    upload = io.BytesIO(b"store_id,units_sold\nS001,1\n")
    with csv_files.opened_csv(upload) as handle:
        assert handle is upload
    path = tmp_path / "week.csv"
    path.write_bytes(b"store_id,units_sold\nS001,1\n")
    with csv_files.opened_csv(path) as handle:
        assert handle.name == str(path)


# --- Stores and weekly actuals -------------------------------------------------------------------


def test_stores_upload_takes_gzip(planner_api, db):
    response = post_file(planner_api, STORES_URL, gzip.compress((STORES_HEADER + store_rows(12)).encode()),
                         "stores.csv.gz")
    assert response.status_code == 200, response.json()
    assert response.json()["stores_added"] == 12 and Store.objects.count() == 12


def test_weekly_actuals_parse_from_gzip():
    text = "store_id,units_sold\nS001,10\nS002,0\nS003,7\n"
    units = parse_weekly_actuals(io.BytesIO(gzip.compress(text.encode())), season_start=date(2025, 3, 1),
                                 week=2, store_ids={"S001", "S002", "S003"})
    assert units == {"S001": 10, "S002": 0, "S003": 7}


def test_weekly_actuals_gzip_bomb_and_damage(settings):
    settings.UPLOAD_MAX_DECOMPRESSED_BYTES = 1024 * 1024
    content = gzip.compress(b"store_id,units_sold\nS001,1\n" + b"\n" * (8 * 1024 * 1024))
    kwargs = {"season_start": date(2025, 3, 1), "week": 1, "store_ids": {"S001"}}
    with pytest.raises(DecompressedTooLarge):
        parse_weekly_actuals(io.BytesIO(content), **kwargs)
    with pytest.raises(Invalid, match="damaged or incomplete"):
        parse_weekly_actuals(io.BytesIO(content[:200]), **kwargs)


def test_weekly_upload_api_takes_gzip(planner_api, planned_season):
    units = week_units(1)
    text = "store_id,units_sold\n" + "".join(f"{s},{u}\n" for s, u in units.items())
    response = post_file(planner_api, WEEKLY_URL, gzip.compress(text.encode()), "week01.csv.gz",
                         workflow_id=str(planned_season.pk), week_number="1")
    assert response.status_code == 202, response.json()
    assert response.json()["rows_imported"] == len(units) and response.json()["units"] == sum(units.values())
    assert WeeklyActual.objects.filter(season=planned_season, week=1).count() == len(units)


def test_weekly_upload_api_gzip_bomb_is_413_and_nothing_is_written(planner_api, planned_season, settings):
    settings.UPLOAD_MAX_DECOMPRESSED_BYTES = 1024 * 1024
    content = gzip.compress(b"store_id,units_sold\n" + b"\n" * (8 * 1024 * 1024))
    response = post_file(planner_api, WEEKLY_URL, content, "week01.csv.gz",
                         workflow_id=str(planned_season.pk), week_number="1")
    assert response.status_code == 413 and "decompresses to more than" in response.json()["detail"]
    assert not WeeklyActual.objects.filter(season=planned_season).exists()


# --- The data page -----------------------------------------------------------------------------


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_data_page_accepts_gzip(demo_stores, planner):
    client = signed_in(planner)
    assert 'accept=".csv,.gz,text/csv,application/gzip"' in client.get("/data/").content.decode()
    content = gzip.compress(history_text(days=3).encode())
    response = client.post("/data/history", {"file": SimpleUploadedFile("h.csv.gz", content)}, headers=HTMX)
    assert response.status_code == 200, response.content.decode()
    assert "Imported 300 rows" in response.content.decode() and "h.csv.gz" in response.content.decode()
    assert HistoricalSale.objects.count() == 300


def test_data_page_without_htmx_reports_the_import(demo_stores, planner):
    content = gzip.compress((STORES_HEADER + store_rows(6)).encode())
    response = signed_in(planner).post("/data/stores", {"file": SimpleUploadedFile("s.csv.gz", content)},
                                       follow=True)
    assert response.redirect_chain[-1][0] == "/data/"
    assert "s.csv.gz: 6 rows imported." in response.content.decode()


def test_data_page_shows_a_gzip_bomb_as_a_form_error(demo_stores, planner, settings):
    settings.UPLOAD_MAX_DECOMPRESSED_BYTES = 5 * 1024 * 1024
    before = counts()
    response = signed_in(planner).post("/data/history", {"file": SimpleUploadedFile("h.csv.gz", bomb(20))},
                                       headers=HTMX)
    assert response.status_code == 413
    html = response.content.decode()
    assert 'role="alert"' in html and "decompresses to more than the limit of 5,242,880 bytes" in html
    assert counts() == before


def test_data_page_shows_a_damaged_gzip_file_as_a_form_error(demo_stores, planner):
    content = gzip.compress(history_text(days=3).encode())[:-6]
    before = counts()
    response = signed_in(planner).post("/data/history", {"file": SimpleUploadedFile("h.csv.gz", content)},
                                       headers=HTMX)
    assert response.status_code == 422
    assert "The gzip file is damaged or incomplete" in response.content.decode()
    assert counts() == before


# --- manage.py load_history ----------------------------------------------------------------------


def test_load_history_takes_a_gz_path(stores, tmp_path):
    path = tmp_path / "history.csv.gz"
    path.write_bytes(gzip.compress(history_text(days=2).encode()))
    out = io.StringIO()
    call_command("load_history", str(path), stdout=out)
    assert "Imported 200 rows" in out.getvalue()
    assert HistoricalSale.objects.count() == 200
    assert DataUpload.objects.get().filename == "history.csv.gz"


def test_load_history_has_no_decompressed_limit(stores, tmp_path, settings):
    """The limit guards uploads; a file on the server is the operator's, as for plain CSV."""
    settings.UPLOAD_MAX_DECOMPRESSED_BYTES = 1024
    path = tmp_path / "history.csv.gz"
    path.write_bytes(gzip.compress(history_text(days=2).encode()))
    call_command("load_history", str(path), stdout=io.StringIO())
    assert HistoricalSale.objects.count() == 200


def test_load_history_refuses_a_truncated_gz_path(stores, tmp_path):
    path = tmp_path / "history.csv.gz"
    path.write_bytes(gzip.compress(history_text(days=2).encode())[:-10])
    with pytest.raises(CommandError, match="The gzip file is damaged or incomplete"):
        call_command("load_history", str(path))
    assert HistoricalSale.objects.count() == 0 and not Category.objects.exists()

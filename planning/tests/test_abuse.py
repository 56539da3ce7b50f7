"""Abuse cases: hostile uploads, authentication and roles on every endpoint (HTTP and WebSocket),
CSRF for browser sessions, rate limits, error bodies without tracebacks or secrets, and the
production settings check."""
import asyncio
import csv
import io
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from conftest import REPO, TokenClient
from forecast_site.handler import ThreadedASGIHandler
from forecast_site.limits import BodySizeLimit
from planning.api import api
from planning.models import ApiToken, DataUpload, Run, Season, Store
from planning.tests.season_fixtures import PARAMS, inline_jobs  # noqa: F401  (fixture)
from planning.tests.test_api_resources import make_season

STORES_HEADER = ("store_id,store_name,store_size_sqft,location_tier,fashion_tier,store_format,region,"
                 "median_income,avg_weekly_sales_12mo\n")
HISTORY_HEADER = "date,category,store_id,quantity_sold\n"


def upload(client, url, content, name="file.csv", **fields):
    return client.post(url, data={"file": SimpleUploadedFile(name, content, "text/csv"), **fields})


# --- Hostile uploads -----------------------------------------------------------------------------

HISTORY_URL = "/api/data/upload-historical-sales"


@pytest.mark.parametrize("content, status, fragment", [
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 8, 415, "not a CSV"),  # an .xlsx
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(512), 415, "not a CSV"),
    (HISTORY_HEADER.encode() + "2024-01-01,Caf\u00e9,S001,3\n".encode("latin-1"), 422, "not UTF-8"),
    ("\ufeff".encode("utf-16-le") + (HISTORY_HEADER + "2024-01-01,Dresses,S001,3\n").encode("utf-16-le"),
     422, "UTF-16"),
    (b"", 422, "empty"),
    (HISTORY_HEADER.encode(), 422, "no data rows"),
    (b'"unterminated,quote\n' + b"x" * 1000, 422, ""),
])
def test_malformed_uploads_are_refused_cleanly(planner_api, demo_stores, content, status, fragment):
    response = upload(planner_api, HISTORY_URL, content)
    assert response.status_code == status, response.content[:300]
    assert fragment in response.json()["detail"]
    assert not DataUpload.objects.exists()


def test_very_long_lines_are_refused_quickly(planner_api, demo_stores):
    before = Store.objects.get(pk="S001").name
    started = time.perf_counter()
    long_name = STORES_HEADER + "S001," + "n" * 2_000_000 + ",12000,A,PREMIUM,MALL,WEST,90000,800\n"
    too_many = HISTORY_HEADER + "2024-01-01,Dresses,S001," + "3," * 200_000 + "\n"
    long_header = "x" * 3_000_000 + "\n1\n"
    assert upload(planner_api, "/api/data/upload-stores", long_name.encode()).status_code == 422
    assert "Too many values" in upload(planner_api, HISTORY_URL, too_many.encode()).json()["errors"][0]["message"]
    assert "Missing column" in upload(planner_api, HISTORY_URL, long_header.encode()).json()["errors"][0]["message"]
    assert time.perf_counter() - started < 20
    assert Store.objects.get(pk="S001").name == before


def test_declared_gigabyte_is_413_before_the_body_is_read(planner_api, demo_stores):
    """Through Django: the upload handler refuses by the declared Content-Length."""
    response = planner_api.client.post(
        HISTORY_URL, data={"file": SimpleUploadedFile("big.csv", b"x")}, headers=planner_api.headers,
        CONTENT_LENGTH=str(1 << 30))
    assert response.status_code == 413 and "upload limit" in response.json()["detail"]


def _asgi_post(chunks, headers):
    """POST /api/data/upload-stores through the ASGI stack; returns (status, body, chunks read)."""
    handler = ThreadedASGIHandler(worker_threads=1)
    app = BodySizeLimit(handler)

    read = []

    async def run():
        sent = []
        queue = list(chunks)

        async def receive():
            if not queue:
                await asyncio.sleep(3600)  # a client that declared more than it sends
            read.append(queue.pop(0))
            return {"type": "http.request", "body": read[-1], "more_body": bool(queue)}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/api/data/upload-stores", "query_string": b"",
                 "headers": headers, "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
                 "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "root_path": ""}
        await asyncio.wait_for(app(scope, receive, send), timeout=10)
        return sent

    try:
        sent = asyncio.run(run())
    finally:
        handler.shutdown()
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]), len(read)


def test_asgi_refuses_a_declared_gigabyte_without_reading_it():
    status, body, read = _asgi_post([b"x" * 1024], [(b"content-length", str(1 << 30).encode()),
                                                    (b"content-type", b"multipart/form-data; boundary=b")])
    assert (status, read) == (413, 0) and b"upload limit" in body


@override_settings(UPLOAD_MAX_BYTES=64 * 1024)
def test_asgi_stops_an_endless_chunked_body():
    status, body, read = _asgi_post([b"x" * 16 * 1024] * 1000, [(b"content-type", b"multipart/form-data; boundary=b")])
    assert status == 413 and read <= 6


def test_daphne_answers_413_without_django_reading_the_body(tmp_path):
    """The guard is in the served application. (daphne itself receives, and for multipart parses,
    a whole body before the application starts; a proxy in front caps that, see the README.)"""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "WORKFLOW_RECOVER_ON_START": "0",
           "UPLOAD_MAX_BYTES": "65536", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                               "forecast_site.asgi:application"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn = _connect(port, deadline=time.monotonic() + 30)
        body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
                b"Content-Type: text/csv\r\n\r\n" + b"x" * 200_000 + b"\r\n--b--\r\n")
        conn.sendall(b"POST /api/data/upload-historical-sales HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        conn.settimeout(10)
        head = conn.recv(4096)
        conn.close()
        assert head.startswith(b"HTTP/1.1 413"), head[:200]
        assert b"upload limit of 65,536 bytes" in head
    finally:
        server.terminate()
        server.wait(timeout=10)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _connect(port, deadline):
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("body, content_type, status", [
    ('{"user_input": "' + "x" * (6 * 1024 * 1024) + '"}', "application/json", 413),
    ("[" * 100_000 + "]" * 100_000, "application/json", 400),
    (b'{"user_input": "\xff\xfe"}', "application/json", 400),
    ("abc", "multipart/form-data", 400),
])
def test_hostile_request_bodies_are_4xx(planner_api, body, content_type, status):
    url = "/api/data/upload-stores" if content_type.startswith("multipart") else "/api/parameters/extract"
    response = planner_api.client.post(url, data=body, content_type=content_type, headers=planner_api.headers)
    assert response.status_code == status and "detail" in response.json()


def test_nul_characters_are_refused_not_500(planner_api, demo_stores):
    """PostgreSQL refuses NUL in text: queries and bodies holding one answer 4xx on any database."""
    for url in ("/api/forecasts?category=a%00b", "/api/stores?cluster=a%00b"):
        assert planner_api.get(url).status_code in (200, 422)
    response = planner_api.post("/api/workflows/forecast", json={"category_id": "a\u0000b", "parameters": PARAMS})
    assert response.status_code in (404, 422)
    text = STORES_HEADER + "S001,Bad\u0000Name,12000,A,PREMIUM,MALL,WEST,90000,800\n"
    assert upload(planner_api, "/api/data/upload-stores", text.encode(), name="a\u0000b.csv").status_code == 415


def test_formula_cells_import_as_data_and_export_escaped(planner_api, viewer_api, demo_stores, planner):
    hostile = {"S001": '=HYPERLINK("http://evil.example","x")', "S002": "+1+cmd|' /C calc'!A0", "S003": "@SUM(A1)"}
    lines = "".join(f'{sid},"{name.replace(chr(34), chr(34) * 2)}",12000,A,PREMIUM,MALL,WEST,90000,800\n'
                    for sid, name in hostile.items())
    response = upload(planner_api, "/api/data/upload-stores", (STORES_HEADER + lines).encode())
    assert response.status_code == 200, response.json()
    for sid, name in hostile.items():
        assert Store.objects.get(pk=sid).name == name  # stored as typed
    _, forecast = make_season(planner)
    exported = viewer_api.get(f"/api/exports/allocations/{forecast.id}.csv").content.decode("utf-8-sig")
    names = {row["store_id"]: row["store_name"] for row in csv.DictReader(io.StringIO(exported))}
    assert names == {sid: "'" + name for sid, name in hostile.items()}


# --- Authentication and roles on every endpoint -----------------------------------------------


def _operations():
    """(method, path template) of every API operation, from the ninja routes via the schema."""
    paths = api.get_openapi_schema()["paths"]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


def _csv(text):
    return lambda: SimpleUploadedFile("f.csv", text.encode(), "text/csv")


# A valid request for each operation (body, or multipart fields with a file), so a refusal can
# only come from authentication or roles. A new endpoint must be added here (test below).
WRITES = {
    "/api/parameters/extract": ("planner", {"user_input": "12 weeks from March 1"}),
    "/api/workflows/forecast": ("planner", {"category_id": "womens_dresses", "parameters": PARAMS}),
    "/api/workflows/forecast-batch": ("planner", {"category_ids": ["womens_dresses"], "parameters": PARAMS}),
    "/api/workflows/reforecast": ("planner", {"workflow_id": "{season}"}),
    "/api/approvals/manufacturing": ("planner", {"workflow_id": "{season}", "action": "accept"}),
    "/api/approvals/markdown": ("planner", {"workflow_id": "{season}", "action": "accept"}),
    "/api/scenarios/compare": ("planner", {"workflow_id": "{season}", "scenarios": [{"name": "a"}], "paths": 100}),
    "/api/agents/demand/forecast": ("staff", {"category_id": "womens_dresses", "parameters": PARAMS}),
    "/api/agents/inventory/allocate": ("staff", {"category_id": "womens_dresses", "parameters": PARAMS}),
    "/api/agents/pricing/analyze": ("staff", {"units_sold": 50, "manufacturing_qty": 100}),
    "/api/data/upload-historical-sales": ("planner", {"file": _csv(HISTORY_HEADER + "2024-01-01,Dresses,S001,3\n")}),
    "/api/data/upload-stores": ("planner", {"file": _csv(STORES_HEADER + "S900,,100,A,VALUE,MALL,WEST,1,1\n")}),
    "/api/data/upload-weekly-sales": ("planner", {"file": _csv("store_id,units_sold\nS001,1\n"),
                                                  "workflow_id": "{season}", "week_number": "1"}),
}


@pytest.fixture
def endpoints(demo_stores, planner):
    """Every operation as (method, url, payload, needed role), with the ids of a real season."""
    season, forecast = make_season(planner)
    ids = {"workflow_id": str(season.pk), "forecast_id": str(forecast.pk), "week_number": "1", "comparison_id": "1",
           "batch_id": str(uuid.uuid4())}
    found = []
    for method, template in _operations():
        url = template.format(**ids)
        if method == "GET":
            found.append((method, url, None, "viewer"))
            continue
        role, payload = WRITES[template]
        payload = {k: (v.replace("{season}", str(season.pk)) if isinstance(v, str) else v) for k, v in payload.items()}
        found.append((method, url, payload, role))
    return found


def call(client, method, url, payload, headers=None):
    headers = headers or {}
    if method == "GET":
        return client.get(url, headers=headers)
    if "file" in payload:
        return client.post(url, data={k: (v() if callable(v) else v) for k, v in payload.items()}, headers=headers)
    return client.post(url, data=payload, content_type="application/json", headers=headers)


def test_every_operation_is_listed():
    unsafe = {path for method, path in _operations() if method != "GET"}
    assert unsafe == set(WRITES), "add a valid request for each new write endpoint to WRITES"
    assert {method for method, _ in _operations()} <= {"GET", "POST"}


def test_anonymous_and_bad_tokens_get_401_everywhere_but_health(endpoints, planner, viewer):
    revoked, revoked_raw = ApiToken.issue(planner, "revoked")
    revoked.revoked_at = timezone.now()
    revoked.save()
    _, inactive_raw = ApiToken.issue(viewer, "inactive")
    viewer.is_active = False
    viewer.save()
    credentials = [{}, {"Authorization": "Bearer sp_unknown-token"}, {"Authorization": f"Bearer {revoked_raw}"},
                   {"Authorization": f"Bearer {inactive_raw}"}, {"Authorization": "Basic cGxhbm5lcjpwdw=="}]
    for method, url, payload, _ in endpoints:
        for headers in credentials:
            response = call(Client(), method, url, payload, headers)
            if url == "/api/health":
                assert response.status_code == 200
                continue
            assert response.status_code == 401, (method, url, headers, response.content[:200])
            assert response["Content-Type"] == "application/json; charset=utf-8"
    assert not Run.objects.exclude(status="completed").exists() and not DataUpload.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "planner"])
def test_roles_are_enforced_on_every_operation(endpoints, role, viewer_api, planner_api, inline_jobs, settings):
    """Viewers read everything and may not extract, run, approve or upload; planners may do all of
    that but not the staff-only debug endpoints. A refusal changes nothing."""
    settings.RATE_LIMIT_PER_MINUTE = 1_000
    client = {"viewer": viewer_api, "planner": planner_api}[role]
    rank = {"viewer": 0, "planner": 1, "staff": 2}
    workflows, uploads = Season.objects.count(), DataUpload.objects.count()
    for method, url, payload, needed in endpoints:
        response = call(client.client, method, url, payload, client.headers)
        if rank[role] < rank[needed]:
            assert response.status_code == 403, (role, method, url, response.content[:200])
            assert f"needs the {needed} role" in response.json()["detail"]
        else:
            assert response.status_code not in (401, 403) and response.status_code < 500, (role, method, url)
    if role == "viewer":
        assert (Season.objects.count(), DataUpload.objects.count()) == (workflows, uploads)


def test_session_clients_need_csrf_on_every_unsafe_operation(endpoints, planner, staff):
    for method, url, payload, needed in endpoints:
        if method == "GET":
            continue
        client = Client(enforce_csrf_checks=True)
        client.force_login(staff if needed == "staff" else planner)
        response = call(client, method, url, payload)
        assert response.status_code == 403 and "CSRF" in response.json()["detail"], (url, response.content[:200])
    assert not DataUpload.objects.exists()


def test_session_with_csrf_token_and_bearer_without_one_are_accepted(planner, planner_api):
    session = Client(enforce_csrf_checks=True)
    session.force_login(planner)
    secret = "a" * 32
    session.cookies["csrftoken"] = secret
    body = {"user_input": "12 weeks from March 1"}
    assert session.post("/api/parameters/extract", data=body, content_type="application/json",
                        headers={"X-CSRFToken": secret}).status_code == 200
    bearer = Client(enforce_csrf_checks=True)
    assert bearer.post("/api/parameters/extract", data=body, content_type="application/json",
                       headers=planner_api.headers).status_code == 200


# --- WebSocket ---------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_refuses_revoked_unknown_and_inactive_tokens(demo_stores, planner, viewer):
    from forecast_site.asgi import application

    season, _ = await database_sync_to_async(make_season)(planner)
    revoked, revoked_raw = await database_sync_to_async(ApiToken.issue)(planner, "revoked")
    revoked.revoked_at = timezone.now()
    await database_sync_to_async(revoked.save)()
    _, inactive_raw = await database_sync_to_async(ApiToken.issue)(viewer, "inactive")
    viewer.is_active = False
    await database_sync_to_async(viewer.save)()
    _, good_raw = await database_sync_to_async(ApiToken.issue)(planner, "good")
    for token, expected in ((revoked_raw, 4401), ("sp_unknown", 4401), (inactive_raw, 4401), ("", 4401),
                            (good_raw, None)):
        communicator = WebsocketCommunicator(application, f"/api/workflows/{season.pk}/stream?token={token}")
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        message = await communicator.receive_output(timeout=5)
        if expected is None:
            assert message["type"] == "websocket.send" and "connection_established" in message["text"]
            await communicator.disconnect()
        else:
            assert message == {"type": "websocket.close", "code": expected}, token


# --- Rate limits -------------------------------------------------------------------------------


def test_extraction_is_rate_limited_per_user(planner_api, settings, django_user_model):
    from planning.roles import add_to_role

    settings.RATE_LIMIT_PER_MINUTE = 3
    body = {"user_input": "12 weeks from March 1"}
    assert [planner_api.post("/api/parameters/extract", json=body).status_code for _ in range(3)] == [200] * 3
    limited = planner_api.post("/api/parameters/extract", json=body)
    assert limited.status_code == 429
    assert limited.json()["detail"].startswith("Too many requests: the limit is 3 per minute")
    assert 1 <= int(limited["Retry-After"]) <= 60
    other = django_user_model.objects.create_user("planner2")
    add_to_role(other, "planner")
    other_api = TokenClient(Client(), ApiToken.issue(other)[1])
    assert other_api.post("/api/parameters/extract", json=body).status_code == 200
    assert all(planner_api.get("/api/categories").status_code == 200 for _ in range(5))  # reads are not limited


def test_uploads_are_rate_limited_apart_from_extraction(planner_api, demo_stores, settings):
    settings.RATE_LIMIT_PER_MINUTE = 2
    body = {"user_input": "12 weeks from March 1"}
    statuses = [upload(planner_api, "/api/data/upload-stores", b"").status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    assert planner_api.post("/api/parameters/extract", json=body).status_code == 200


def test_page_forms_share_the_apis_per_user_limits(planner, planner_api, demo_stores, settings):
    """The data page's uploads count against the same per-user limit as the API's; over it the
    form gets a 429 fragment (htmx) or page, with Retry-After, and nothing is imported."""
    settings.RATE_LIMIT_PER_MINUTE = 2
    page = Client()
    page.force_login(planner)

    def post_stores(name, **headers):
        csv_text = STORES_HEADER + f"S001,{name},12000,A,PREMIUM,MALL,SOUTHEAST,120000,900\n"
        return page.post("/data/stores", {"file": SimpleUploadedFile("stores.csv", csv_text.encode())},
                         **headers)

    assert upload(planner_api, "/api/data/upload-stores", b"").status_code == 422  # 1st: the API
    assert post_stores("Renamed", HTTP_HX_REQUEST="true").status_code == 200  # 2nd: the page
    uploads = DataUpload.objects.count()
    limited = post_stores("Refused", HTTP_HX_REQUEST="true")
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    assert "Too many requests." in limited.content.decode() and "<html" not in limited.content.decode()
    as_page = post_stores("Refused")
    assert as_page.status_code == 429 and "<h1>Too many requests</h1>" in as_page.content.decode()
    assert DataUpload.objects.count() == uploads and Store.objects.get(store_id="S001").name == "Renamed"
    extraction = page.post("/seasons/new/extract", {"user_input": "12 weeks from March 1"},
                           HTTP_HX_REQUEST="true")
    assert extraction.status_code == 200  # its own count


# --- Errors reveal nothing ---------------------------------------------------------------------


@override_settings(DEBUG=False)
def test_unexpected_errors_are_json_without_traceback_or_secrets(demo_stores, planner_api, planner, monkeypatch):
    from planning.selectors import workflows as workflow_reads

    season, _ = make_season(planner)
    secret = django_settings.SECRET_KEY

    def explode(*args, **kwargs):
        raise RuntimeError(f"database password=hunter2 key={secret}")

    monkeypatch.setattr(workflow_reads, "status_dict", explode)
    response = planner_api.get(f"/api/workflows/{season.pk}")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"detail": "Internal error; it has been logged."}
    text = response.content.decode()
    for leak in ("Traceback", "hunter2", secret, "RuntimeError", "File \""):
        assert leak not in text


@override_settings(DEBUG=False)
def test_unknown_api_paths_and_methods_answer_without_html(planner_api):
    missing = planner_api.get(f"/api/nothing/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("application/json")
    assert b"<html" not in planner_api.client.put("/api/categories", headers=planner_api.headers).content.lower()


def test_check_deploy_is_clean_with_production_settings():
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "s" * 20 + uuid.uuid4().hex + uuid.uuid4().hex,
           "ALLOWED_HOSTS": "planner.example.com", "CSRF_TRUSTED_ORIGINS": "https://planner.example.com"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

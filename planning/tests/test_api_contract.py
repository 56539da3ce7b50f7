"""Contract test of the seed field names (SPEC §6, table "Seed field names"; issue #12).

A client written against the seed documents must find every field of the table under that name,
at the top level of the response or in each item of a list (extra fields are fine), and ids keep
their names (``forecast_id``, not ``id``). The table is encoded once below, as data; one season
is walked through the API and the WebSocket on the peer data (upload stores and history, extract,
forecast, accept the order, upload the 12 weeks of normal_season, accept the markdown at the
week-6 checkpoint) calling every endpoint of the table, and every body it answered is checked.

- ``test_season_walk_reaches_every_contract_endpoint`` walks the season and asserts the walk
  itself: every call answers 200 and the WebSocket carries the manufacturing approval and the
  completion. It must pass on any code.
- ``test_responses_carry_the_seed_field_names`` checks the collected bodies against the table
  and fails once, listing every missing field of every endpoint (the whole gap in one run).
  It reuses the walk of the first test when that ran in the same session.
"""
import json
from dataclasses import dataclass, field

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from planning.models import ApiToken
from planning.routing import websocket_urlpatterns
from planning.tests.season_fixtures import *  # noqa: F403

SEASON_TEST = [pytest.mark.slow, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def season_test(fn):
    for mark in reversed(SEASON_TEST):
        fn = mark(fn)
    return fn


APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
CATEGORY = "womens_dresses"
SCENARIO = "normal_season"  # 12 weeks from 2025-02-17; well under 60% sell-through at week 6
SEASON_TEXT = ("12-week season starting February 17, 2025. Weekly replenishment, 45% holdback. "
               "Markdown at week 6 if below 60% sell-through.")
WEEKS = 12
CHECKPOINT_WEEK = 6


@dataclass(frozen=True)
class Shape:
    """What a response must carry: ``fields`` at the top level, or in each item when ``listed``
    (a bare list, or the paginated ``{"items": [...], "count": N}``); ``rows`` names nested lists
    whose every row must carry the given fields."""

    fields: tuple
    listed: bool = False
    rows: dict = field(default_factory=dict)


# SPEC §6 "Seed field names", one entry per row of the table.
SEED_CONTRACT = {
    "POST /api/data/upload-historical-sales": Shape(("rows_imported", "date_range", "categories_detected")),
    "POST /api/data/upload-weekly-sales": Shape(("rows_imported", "week_number", "variance_check")),
    "GET /api/categories": Shape(("category_id", "category_name", "row_count"), listed=True),
    "GET /api/stores": Shape(("store_id", "store_name", "cluster_id", "store_size_sqft", "location_tier",
                              "median_income"), listed=True),
    "GET /api/stores/clusters": Shape(("cluster_id", "cluster_name", "fashion_tier", "store_count"), listed=True),
    "GET /api/forecasts": Shape(("forecast_id", "category_name", "season", "total_season_demand", "created_at"),
                                listed=True),
    "GET /api/forecasts/{forecast_id}": Shape(("weekly_demand_curve", "cluster_distribution", "forecasting_method",
                                               "prophet_forecast", "arima_forecast")),
    "GET /api/allocations/{forecast_id}": Shape(
        ("manufacturing_qty", "safety_stock_percentage", "initial_allocation_total", "holdback_total",
         "store_allocations"),
        rows={"store_allocations": ("store_id", "store_name", "cluster_id", "initial_allocation",
                                    "holdback_allocation")}),
    "GET /api/markdowns/{forecast_id}": Shape(("week_number", "sell_through_pct", "recommended_markdown_pct",
                                               "elasticity_coefficient", "reasoning")),
    "GET /api/variance/{forecast_id}/week/{week_number}": Shape(
        ("forecasted_cumulative", "actual_cumulative", "variance_pct", "threshold_exceeded", "action_taken")),
    "WS human_input_required (manufacturing) data": Shape(("manufacturing_qty", "initial_allocation", "holdback")),
    "WS workflow_complete": Shape(("workflow_id", "duration_seconds", "result")),
}


def list_items(body):
    """The items of a list response: a bare list or ninja's page ``{"items": [...], "count": N}``
    (how planning.api paginates /api/forecasts and /api/stores); None for any other shape."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("items"), list) and "count" in body:
        return body["items"]
    return None


def _check_object(obj, fields, where, missing):
    if not isinstance(obj, dict):
        missing.append(f"{where or 'body'}: expected an object, got {type(obj).__name__}")
        return
    for name in fields:
        if name not in obj:
            missing.append(f"{where}{name}")
    named_ids = [name for name in fields if name.endswith("_id")]
    if "id" in obj and named_ids:
        missing.append(f"{where}id: a bare `id` where the contract names {', '.join(named_ids)}")


def missing_fields(body, spec):
    """What ``body`` lacks of ``spec`` (a Shape): field names (``rows[].name`` for nested rows),
    each once however many items lack it, in the table's order; [] when nothing is missing."""
    missing = []
    if spec.listed:
        items = list_items(body)
        if items is None:
            return [f"expected a list or {{items, count}}, got {json.dumps(body, default=str)[:120]}"]
        if not items:
            return ["an empty list: no item to check"]
        prefix = "[]."
    else:
        items, prefix = [body], ""
    for item in items:
        _check_object(item, spec.fields, prefix, missing)
        for name, row_fields in spec.rows.items():
            rows = item.get(name) if isinstance(item, dict) else None
            if rows is None:
                continue  # reported as a missing field above
            if not isinstance(rows, list) or not rows:
                missing.append(f"{prefix}{name}: expected a non-empty list of rows, got {str(rows)[:80]}")
                continue
            for row in rows:
                _check_object(row, row_fields, f"{prefix}{name}[].", missing)
    return list(dict.fromkeys(missing))


def contract_gaps(observed):
    """{endpoint: missing fields} over every body collected for each row of the table."""
    gaps = {}
    for endpoint, spec in SEED_CONTRACT.items():
        bodies = observed.get(endpoint) or []
        if not bodies:
            gaps[endpoint] = ["never called in the season walk"]
            continue
        missing = [name for body in bodies for name in missing_fields(body, spec)]
        if missing:
            gaps[endpoint] = list(dict.fromkeys(missing))
    return gaps


def format_gaps(gaps):
    return "\n".join(f"  {endpoint}: {', '.join(names)}" for endpoint, names in gaps.items())


# --- the season walk ---------------------------------------------------------------------------

_WALK = {}  # the last walk's collected bodies, shared by the two tests of a session


def sync(fn, *args, **kwargs):
    return database_sync_to_async(lambda: fn(*args, **kwargs))()


def id_of(obj, name):
    """An id under its contract name, or today's bare ``id``."""
    return obj.get(name, obj.get("id"))


async def drain(communicator, into, quiet=0.3):
    while not await communicator.receive_nothing(timeout=quiet):
        into.append(json.loads(await communicator.receive_from(timeout=5)))
    return into


async def call(api, method, url, **kwargs):
    response = await sync(getattr(api, method), url, **kwargs)
    assert response.status_code in (200, 201), (method.upper(), url, response.status_code, response.content[:2000])
    return response.json()


async def upload(api, url, path, **form):
    def post():
        with open(path, "rb") as handle:
            return api.post(url, data={"file": handle, **form})

    response = await sync(post)
    assert response.status_code == (202 if url.endswith("weekly-sales") else 200), (url, path.name, response.content[:2000])
    return response.json()


async def walk_season(peer_data, api, planner):
    """One whole season through the API and the WebSocket; returns {endpoint: [bodies]} keyed like
    SEED_CONTRACT, and what the walk itself saw (for its own assertions)."""
    observed = {endpoint: [] for endpoint in SEED_CONTRACT}
    await upload(api, "/api/data/upload-stores", peer_data / "store_attributes.csv")
    observed["POST /api/data/upload-historical-sales"].append(
        await upload(api, "/api/data/upload-historical-sales", peer_data / "historical_sales_2022_2024.csv"))

    observed["GET /api/categories"].append(await call(api, "get", "/api/categories"))
    observed["GET /api/stores"].append(await call(api, "get", "/api/stores"))
    observed["GET /api/stores/clusters"].append(await call(api, "get", "/api/stores/clusters"))

    extracted = await call(api, "post", "/api/parameters/extract",
                           json={"user_input": SEASON_TEXT, "reference_date": "2025-01-15"})
    params = extracted["parameters"]
    assert params["season_start_date"] == "2025-02-17", params
    assert params["forecast_horizon_weeks"] == WEEKS and params["markdown_checkpoint_week"] == CHECKPOINT_WEEK, params
    created = await call(api, "post", "/api/workflows/forecast", json={
        "category_id": CATEGORY, "parameters": params, "extraction_id": extracted["extraction_id"]})
    season_id = created["workflow_id"]

    token = (await sync(ApiToken.issue, planner, "contract"))[1]
    communicator = WebsocketCommunicator(APP, f"/api/workflows/{season_id}/stream?token={token}&after=0")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    try:
        messages = await drain(communicator, [])
        assert messages and messages[0]["type"] == "connection_established", messages[:1]
        assert messages[-1]["type"] == "human_input_required", [m["type"] for m in messages[-5:]]
        assert messages[-1]["action"] == "approve_manufacturing_order", messages[-1]

        accepted = await call(api, "post", "/api/approvals/manufacturing",
                              json={"workflow_id": season_id, "action": "accept"})
        assert accepted["committed"] is True, accepted
        results = await call(api, "get", f"/api/workflows/{season_id}/results")

        weekly, markdown_pending = [], []
        folder = peer_data / "scenarios" / SCENARIO
        for week in range(1, WEEKS + 1):
            report = await upload(api, "/api/data/upload-weekly-sales", folder / f"actuals_week_{week:02d}.csv",
                                  workflow_id=season_id, week_number=week)
            observed["POST /api/data/upload-weekly-sales"].append(report)
            weekly.append(report)
            status = await call(api, "get", f"/api/workflows/{season_id}")
            if status.get("pending_approval") and status["pending_approval"]["action"] == "approve_markdown":
                markdown_pending.append(week)
                done = await call(api, "post", "/api/approvals/markdown",
                                  json={"workflow_id": season_id, "action": "accept"})
                assert done["committed"] is True, done
        await drain(communicator, messages, quiet=1.0)
    finally:
        await communicator.disconnect()

    # The season's forecasts: from GET /api/forecasts (newest first), the original one from the results.
    forecasts = await call(api, "get", "/api/forecasts", data={"season": season_id})
    observed["GET /api/forecasts"].append(forecasts)
    observed["GET /api/forecasts"].append(await call(api, "get", "/api/forecasts"))
    season_forecasts = list_items(forecasts)
    assert season_forecasts, forecasts
    forecast_ids = [id_of(item, "forecast_id") for item in season_forecasts]
    original_id = id_of(results["forecast"], "forecast_id")
    assert original_id in forecast_ids, (original_id, forecast_ids)

    for forecast_id in forecast_ids:
        observed["GET /api/forecasts/{forecast_id}"].append(
            await call(api, "get", f"/api/forecasts/{forecast_id}"))
    observed["GET /api/allocations/{forecast_id}"].append(await call(api, "get", f"/api/allocations/{original_id}"))
    observed["GET /api/markdowns/{forecast_id}"].append(await call(api, "get", f"/api/markdowns/{original_id}"))
    for week in range(1, WEEKS + 1):
        observed["GET /api/variance/{forecast_id}/week/{week_number}"].append(
            await call(api, "get", f"/api/variance/{original_id}/week/{week}"))
    # Reference data again at the end of the season (clusters recomputed, history counted).
    observed["GET /api/categories"].append(await call(api, "get", "/api/categories"))
    observed["GET /api/stores"].append(await call(api, "get", "/api/stores", data={"cluster": "mainstream"}))

    observed["WS human_input_required (manufacturing) data"] = [
        m.get("data") for m in messages
        if m["type"] == "human_input_required" and m.get("action") == "approve_manufacturing_order"]
    observed["WS workflow_complete"] = [m for m in messages if m["type"] == "workflow_complete"]
    final = await call(api, "get", f"/api/workflows/{season_id}")
    return observed, {"season_id": season_id, "messages": messages, "weekly": weekly,
                      "markdown_pending": markdown_pending, "final": final}


async def season_walk(peer_data, planner_api, planner):
    if "observed" not in _WALK:
        _WALK["observed"], _WALK["seen"] = await walk_season(peer_data, planner_api, planner)
    return _WALK["observed"], _WALK["seen"]


@pytest.fixture(autouse=True)
def fast_catchup(settings):
    """The consumer shares Django's one sync thread with the uploads in tests; catch up quickly."""
    settings.WEBSOCKET_CATCHUP_SECONDS = 0.2


@season_test
async def test_season_walk_reaches_every_contract_endpoint(peer_data, planner_api, planner, inline_jobs, fit_memo):
    _WALK.clear()
    observed, seen = await season_walk(peer_data, planner_api, planner)
    assert seen["final"]["phase"] == "season_complete" and seen["final"]["status"] == "completed", seen["final"]
    assert seen["markdown_pending"] == [CHECKPOINT_WEEK], seen["markdown_pending"]
    types = [m["type"] for m in seen["messages"]]
    assert types.count("workflow_complete") >= 1 and types[-1] == "workflow_complete", types[-6:]
    assert [m["action"] for m in seen["messages"] if m["type"] == "human_input_required"] == [
        "approve_manufacturing_order", "approve_markdown"]
    never_called = [endpoint for endpoint, bodies in observed.items() if not bodies]
    assert not never_called, never_called
    assert all(isinstance(body, dict) for body in observed["WS human_input_required (manufacturing) data"])


@season_test
async def test_responses_carry_the_seed_field_names(peer_data, planner_api, planner, inline_jobs, fit_memo):
    try:
        observed, _ = await season_walk(peer_data, planner_api, planner)
    except AssertionError as exc:  # a broken walk is a real failure, never an expected one
        pytest.fail(f"The season walk failed (not a contract gap): {exc}")
    gaps = contract_gaps(observed)
    assert not gaps, "Fields of the SPEC §6 seed table missing, by endpoint:\n" + format_gaps(gaps)


def test_missing_fields_helper():
    """The checker itself: bare lists, pages, nested rows, bare ids."""
    spec = Shape(("category_id", "category_name"), listed=True)
    assert missing_fields([{"category_id": "a", "category_name": "A", "extra": 1}], spec) == []
    assert missing_fields({"items": [{"category_id": "a", "category_name": "A"}], "count": 1}, spec) == []
    assert missing_fields([{"id": "a", "name": "A"}, {"id": "b", "name": "B"}], spec) == [
        "[].category_id", "[].category_name", "[].id: a bare `id` where the contract names category_id"]
    assert missing_fields({"category_id": "a"}, spec)[0].startswith("expected a list")
    nested = Shape(("total", "rows"), rows={"rows": ("store_id", "qty")})
    assert missing_fields({"total": 1, "rows": [{"store_id": "S1", "qty": 2}]}, nested) == []
    assert missing_fields({"total": 1, "rows": [{"store_id": "S1"}, {"id": 3, "qty": 1}]}, nested) == [
        "rows[].qty", "rows[].store_id", "rows[].id: a bare `id` where the contract names store_id"]
    assert missing_fields({"total": 1}, nested) == ["rows"]

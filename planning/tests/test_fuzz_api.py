"""Schema-driven fuzzing of the whole API with schemathesis, against /api/openapi.json.

Every operation gets generated requests, valid and invalid (the coverage and fuzzing phases),
authenticated with a planner's token (a staff token for the staff-only debug endpoints, so their
handlers are reached too). Each response must not be a 5xx and must conform to the schema:
documented status code, content type and body. Hypothesis runs derandomized with a small example
count, so the run is repeatable in CI and takes well under a minute.

A second test calls every read endpoint with the ids of a real, planned season, so the 200 bodies
are checked against their schemas with real data (random ids mostly find nothing).
"""
import io

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from planning.models import ApiToken
from planning.services.actuals_import import import_weekly_actuals
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import week_units

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]
MAX_EXAMPLES = 12

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_test_transaction():
    """Requests go straight to the WSGI app, whose request signals would close the database
    connection and with it the test's transaction (on PostgreSQL); Django's test client
    disconnects the same handler."""
    from django.core import signals
    from django.db import close_old_connections

    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def tokens(planner, staff, settings):
    settings.RATE_LIMIT_PER_MINUTE = 1_000_000  # fuzz the handlers, not the rate limit
    return {"planner": ApiToken.issue(planner)[1], "staff": ApiToken.issue(staff)[1]}


def _headers(case, tokens):
    role = "staff" if case.path.startswith("/api/agents/") else "planner"
    return {"Authorization": f"Bearer {tokens[role]}"}


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, tokens, inline_jobs):
    case.call_and_validate(headers=_headers(case, tokens), checks=CHECKS)


def test_schema_documents_the_errors_of_every_operation():
    """401 and 503 on every authenticated operation, 400/413/422 on every one with a body, 429 on
    the rate-limited ones; only /api/health is public."""
    raw = schema.raw_schema
    for path, operations in raw["paths"].items():
        for method, details in operations.items():
            codes = set(map(str, details["responses"]))
            if path == "/api/health":
                assert "security" not in details
                continue
            assert {"401", "503"} <= codes, (method, path)
            if details.get("requestBody"):
                assert {"400", "413", "422"} <= codes, (method, path)
            limited = path in ("/api/parameters/extract", "/api/scenarios/compare") or path.startswith("/api/data/upload-")
            assert ("429" in codes) == limited, (method, path)


READS = [
    ("/api/categories", {}),
    ("/api/stores", {}),
    ("/api/stores/clusters", {}),
    ("/api/forecasts", {}),
    ("/api/forecasts/{forecast_id}", {"forecast_id"}),
    ("/api/allocations/{forecast_id}", {"forecast_id"}),
    ("/api/variance/{forecast_id}/week/{week_number}", {"forecast_id", "week_number"}),
    ("/api/markdowns/{forecast_id}", {"forecast_id"}),
    ("/api/workflows/{workflow_id}", {"workflow_id"}),
    ("/api/workflows/{workflow_id}/results", {"workflow_id"}),
    ("/api/workflows/{workflow_id}/events", {"workflow_id"}),
    ("/api/workflows/{workflow_id}/report", {"workflow_id"}),
    ("/api/exports/allocations/{forecast_id}.csv", {"forecast_id"}),
    ("/api/exports/replenishments/{forecast_id}.csv", {"forecast_id"}),
    ("/api/exports/variance/{forecast_id}.csv", {"forecast_id"}),
    ("/api/exports/allocations/{forecast_id}.xlsx", {"forecast_id"}),
    ("/api/exports/replenishments/{forecast_id}.xlsx", {"forecast_id"}),
    ("/api/exports/variance/{forecast_id}.xlsx", {"forecast_id"}),
    ("/api/workflows/{workflow_id}/scenarios", {"workflow_id"}),
]


@pytest.mark.django_db
def test_real_season_responses_conform(planned_season, planner, planner_api):
    """A planned season with week 1 uploaded: every read answers and its body matches the schema."""
    units = week_units(1)
    csv = "store_id,units_sold\n" + "".join(f"{s},{u}\n" for s, u in units.items())
    import_weekly_actuals(planned_season, 1, io.BytesIO(csv.encode()), user=planner)
    values = {"forecast_id": planned_season.forecasts.first().pk, "week_number": 1,
              "workflow_id": str(planned_season.pk)}
    for path, names in READS:
        case = schema[path]["GET"].Case(path_parameters={name: values[name] for name in names})
        response = case.call_and_validate(headers=planner_api.headers, checks=CHECKS)
        expected = 404 if path.startswith("/api/markdowns/") else 200  # no checkpoint reached yet
        assert response.status_code == expected, (path, response.text[:300])

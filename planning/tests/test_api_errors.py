"""No HTML (or bare text) error under /api: every error is JSON with a detail."""
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "method, path, allowed",
    [("post", "/api/health", "GET"), ("delete", "/api/categories", "GET")],
)
def test_wrong_method_is_json_405(planner_api, method, path, allowed):
    response = getattr(planner_api.client, method)(path, headers=planner_api.headers)
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response["Allow"] == allowed
    assert response.json()["detail"] == f"Method {method.upper()} not allowed; use {allowed}."


def test_pages_outside_api_keep_their_html(planner):
    client = Client()
    client.force_login(planner)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")

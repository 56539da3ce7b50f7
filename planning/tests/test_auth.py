"""Token and session authentication of the API, and the roles behind it."""
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from planning.models import ApiToken
from planning.roles import PLANNER, STAFF, VIEWER, role_of

pytestmark = pytest.mark.django_db

PROTECTED = "/api/categories"


def test_health_is_public_and_reports_each_part():
    body = Client().get("/api/health").json()
    assert body["status"] == "ok"
    for part in ("database", "channel_layer", "job_runner"):
        assert body[part]["ok"] is True
    assert body["llm"]["configured"] is False


def test_missing_token_is_401_json():
    response = Client().get(PROTECTED)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "Bearer" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer ", "Token abc", "Basic dXNlcjpwdw=="])
def test_invalid_token_is_401_json(header, planner):
    response = Client().get(PROTECTED, headers={"Authorization": header})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_valid_token_is_accepted_and_only_its_hash_is_stored(planner):
    token, raw = ApiToken.issue(planner, "ci")
    assert raw not in token.key_hash and token.key_hash == ApiToken.hash(raw)
    response = Client().get(PROTECTED, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_and_inactive_user_are_refused(planner):
    token, raw = ApiToken.issue(planner)
    token.revoked_at = timezone.now()
    token.save()
    assert Client().get(PROTECTED, headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    _, raw2 = ApiToken.issue(planner)
    planner.is_active = False
    planner.save()
    assert Client().get(PROTECTED, headers={"Authorization": f"Bearer {raw2}"}).status_code == 401


def test_session_user_reads_the_api(planner):
    client = Client()
    client.force_login(planner)
    assert client.get(PROTECTED).status_code == 200


def test_session_writes_need_csrf(planner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(planner)
    response = client.post(
        "/api/parameters/extract", data={"user_input": "12 weeks"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_create_api_token_prints_the_token_last(planner, capsys):
    call_command("create_api_token", "planner1")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiToken.objects.get(key_hash=ApiToken.hash(raw)).user == planner


def test_roles(planner, viewer, staff):
    assert (role_of(planner), role_of(viewer), role_of(staff)) == (PLANNER, VIEWER, STAFF)

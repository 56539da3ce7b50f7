"""Sign-in and the pages behind it."""
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_root_redirects_to_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_planner_signs_in_and_sees_seasons(planner):
    client = Client()
    response = client.post("/login/", {"username": "planner1", "password": "pw-planner1"})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert b"Seasons" in page.content


def test_wrong_password_shows_an_error(planner):
    response = Client().post("/login/", {"username": "planner1", "password": "wrong"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_unknown_api_path_is_json_404():
    response = Client().get("/api/no/such/thing")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("No API endpoint")

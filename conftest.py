"""Fixtures shared by every app's tests: users per role, API clients with tokens, the peer data
folder and the demo store fixtures."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parent
PEER_DATA = REPO.parent / "shared" / "peer-data"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Tests make hundreds of users; the production hasher spends 0.2 s on each password."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test database, and before it is dropped: close the connection that
    asgiref's shared sync thread keeps (Channels' database_sync_to_async in the async tests runs
    there, and connections persist, CONN_MAX_AGE). PostgreSQL refuses to drop a database that
    has sessions."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Tests roll the database back, so a cache entry keyed by data version could outlive the
    rows it describes; every test starts with an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def peer_data():
    if not PEER_DATA.is_dir():
        pytest.skip(f"peer data not found at {PEER_DATA}")
    return PEER_DATA


def _make_user(django_user_model, username, role):
    from planning.roles import add_to_role

    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    if role:
        add_to_role(user, role)
    return user


@pytest.fixture
def planner(db, django_user_model):
    return _make_user(django_user_model, "planner1", "planner")


@pytest.fixture
def viewer(db, django_user_model):
    return _make_user(django_user_model, "viewer1", "viewer")


@pytest.fixture
def staff(db, django_user_model):
    return _make_user(django_user_model, "staff1", "staff")


class TokenClient:
    """Django test client that sends ``Authorization: Bearer <token>`` on every request."""

    def __init__(self, client, raw_token):
        self.client = client
        self.headers = {"Authorization": f"Bearer {raw_token}"}

    def get(self, path, **kw):
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path, data=None, json=None, **kw):
        if json is not None:
            return self.client.post(
                path, data=json, content_type="application/json", headers=self.headers, **kw
            )
        return self.client.post(path, data=data or {}, headers=self.headers, **kw)

    def delete(self, path, **kw):
        return self.client.delete(path, headers=self.headers, **kw)


def _token_client(user):
    from django.test import Client

    from planning.models import ApiToken

    _, raw = ApiToken.issue(user, "test")
    return TokenClient(Client(), raw)


@pytest.fixture
def planner_api(planner):
    return _token_client(planner)


@pytest.fixture
def viewer_api(viewer):
    return _token_client(viewer)


@pytest.fixture
def staff_api(staff):
    return _token_client(staff)


@pytest.fixture
def demo_stores(db):
    """The 50 demo stores in their 3 clusters, and the 3 demo categories, from fixtures/."""
    from django.core.management import call_command

    call_command("loaddata", "clusters", "stores", "categories", verbosity=0)

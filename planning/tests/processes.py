"""Helpers for tests that run the product as real processes (daphne, Celery, manage.py) against
a database of their own, chosen by DATABASE_URL in the environment they get.

``python -m planning.tests.processes seed`` migrates the database of DATABASE_URL, loads the demo
stores and about three years of weekly Women's Dresses history, makes a planner and prints the
planner's API token (last line).
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reachable(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def env_for(database_url, **extra):
    """The environment of a server process: this one's, without any optional service unless given."""
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "RATE_LIMIT_PER_MINUTE": "100000"}
    for name in ("CELERY_BROKER_URL", "REDIS_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    return {**env, **extra}


def seed(env, timeout=180):
    """Run the seed command in ``env``; returns the planner's token."""
    result = subprocess.run([sys.executable, "-m", "planning.tests.processes", "seed"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def daphne(env, port):
    return subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "forecast_site.asgi:application"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def api(port, method, path, token, body=None, timeout=30):
    """One JSON request; waits up to ``timeout`` s for the server to accept connections.
    Returns (status, parsed body)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def poll(check, timeout, interval=0.05):
    """Call ``check`` until it returns something truthy or ``timeout`` s pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(interval)
    return check()


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def seed_database(history=True):
    """Migrate, load the demo stores (and history), make a planner; prints and returns its token."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forecast_site.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from planning.models import ApiToken
    from planning.roles import add_to_role
    from planning.tests.season_fixtures import seed_history

    call_command("migrate", verbosity=0)
    call_command("loaddata", "clusters", "stores", "categories", verbosity=0)
    if history:
        seed_history()
    user = get_user_model().objects.create_user(username="planner")
    add_to_role(user, "planner")
    token = ApiToken.issue(user)[1]
    print(token)
    return token


if __name__ == "__main__" and sys.argv[1:] == ["seed"]:
    seed_database()

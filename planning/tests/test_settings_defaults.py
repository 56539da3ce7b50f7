"""Settings defaults: DEBUG is off unless the environment turns it on, and every variable the
settings read is documented in the README's configuration table and in .env.example."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CODE = "from django.conf import settings; print(settings.DEBUG, settings.SECURE_SSL_REDIRECT)"


def settings_of(**env):
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT")}
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {CODE}"], cwd=REPO,
                          env={**base, "DJANGO_SETTINGS_MODULE": "forecast_site.settings", **env},
                          capture_output=True, text=True, timeout=60)


def test_debug_is_off_when_the_variable_is_missing():
    ran = settings_of(SECRET_KEY="k" * 50)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["False", "True"]  # production hardening, https redirect included


def test_without_debug_a_secret_key_is_required_and_the_message_says_so():
    ran = settings_of()
    assert ran.returncode != 0
    assert "SECRET_KEY is not set" in ran.stderr and "DEBUG=1" in ran.stderr


@pytest.mark.parametrize(("env", "expected"), [({"DEBUG": "1"}, ["True", "False"]),
                                               ({"SECRET_KEY": "k" * 50, "SECURE_SSL_REDIRECT": "0"}, ["False", "False"])])
def test_debug_and_the_https_redirect_are_switched_by_the_environment(env, expected):
    ran = settings_of(**env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == expected


def variables_read():
    """Every environment variable the settings and the code read through them."""
    names = set()
    for path in [REPO / "forecast_site" / "settings.py", REPO / "forecast_site" / "handler.py",
                 *sorted((REPO / "planning").glob("**/*.py"))]:
        if "tests" in path.parts:
            continue
        text = path.read_text()
        names |= set(re.findall(r'(?:os\.environ\.get|env_bool|env_list)\("([A-Z0-9_]+)"', text))
        names |= set(re.findall(r'\bsetting\("([A-Z0-9_]+)"', text))
    return names - {"DJANGO_SETTINGS_MODULE"}


def test_every_variable_is_documented():
    names = variables_read()
    assert {"DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT", "DATABASE_URL"} <= names
    readme = (REPO / "README.md").read_text()
    table = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, flags=re.M))
    example = set(re.findall(r"^([A-Z0-9_]+)=", (REPO / ".env.example").read_text(), flags=re.M))
    assert names - table == set(), "missing from the README configuration table"
    assert names - example == set(), "missing from .env.example"


def test_tool_output_is_ignored_by_git():
    ignored = (REPO / ".gitignore").read_text().split()
    assert {".schemathesis/", ".hypothesis/", ".pytest_cache/", "test-artifacts/"} <= set(ignored)

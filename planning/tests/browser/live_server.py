"""A real server for the browser tests and the screenshot script: daphne (HTTP and WebSockets) in
a subprocess on a free port, over a fresh SQLite database holding the demo stores, clusters and
categories, the synthetic history (``load_history --synthetic``) and two users.

pytest-django's live server is WSGI only; the season page needs the WebSocket."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
USERS = {"planner": ("planner", "planner-pass-1"), "viewer": ("viewer", "viewer-pass-1")}
_CREATE_USERS = """
from django.contrib.auth import get_user_model
from planning.roles import add_to_role
for role, (name, password) in {users!r}.items():
    user = get_user_model().objects.create_user(username=name, password=password)
    add_to_role(user, role)
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "daphne.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.workdir / 'db.sqlite3'}",
            "VAR_DIR": str(self.workdir),
            "DEBUG": "1",
            "OPENAI_API_KEY": "",  # the deterministic agents: no network, same events
            "PYTHONUNBUFFERED": "1",
        }
        self.process = None

    def manage(self, *args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def prepare(self):
        self.manage("migrate", "--noinput")
        self.manage("loaddata", "clusters", "stores", "categories")
        self.manage("load_history", "--synthetic")
        self.manage("shell", "-c", _CREATE_USERS.format(users=USERS))

    def start(self):
        self.prepare()
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
             "forecast_site.asgi:application"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"daphne did not answer within 30 s; see {self.log_path}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def sign_in(page, base_url, role="planner"):
    name, password = USERS[role]
    page.goto(base_url + "/login/")
    page.fill("#id_username", name)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")

"""A gunicorn serving this project on a free loopback port, for load runs (tests/load and
`manage.py bench_pages`), against the database the caller names.

It runs `bench.settings` (the project's settings without DEBUG, no API throttle, sessions in
signed cookies) and otherwise inherits the caller's environment (CONN_MAX_AGE, REDIS_URL, …).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from urllib.parse import quote

from django.conf import settings

SETTINGS = "bench.settings"
HEALTH = "/healthz"


def database_url(db: dict) -> str:
    """A DATABASE_URL for the database Django is connected to now (a test database included)."""
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}{port}/{quote(db['NAME'], safe='')}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def gunicorn(*, db: dict, workers: int = 2, startup_timeout: float = 30):
    """Yield the base URL (http://127.0.0.1:PORT) of a gunicorn serving `db`; stop it after."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": database_url(db),
        # The caller signs sessions that the server must accept: the same key.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "salesperf.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--timeout=120",
        "--log-level=warning",
    ]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        server = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            deadline = time.monotonic() + startup_timeout
            while not _answers(base + HEALTH):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"gunicorn did not come up on {base}:\n{log.read()[-3000:]}")
                time.sleep(0.2)
            yield base
        finally:
            _stop(server)


def _stop(server: subprocess.Popen) -> None:
    """Graceful stop (SIGTERM: the master stops its workers), then SIGKILL if it hangs."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # its own process group: the master and workers
            server.wait()

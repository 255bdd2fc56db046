"""PostgreSQL or Redis restarted under a running app (gunicorn) and worker: while it is down a
request gets a quick, clean 503, not a 500 or a hang; once it is back requests and tasks work
again, and nothing was restarted but the service.

The stack runs on a PostgreSQL cluster and a redis-server of the test's own (ports 5491, 6391),
never the machine's shared ones. Persistent database connections are on (CONN_MAX_AGE), as a
production deployment would set them, so a connection that died with the server is met again.
"""

import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from celery import Celery
from kombu import Connection

from tests.services import wait_for

from .processes import BASE_DIR, Worker, app_env
from .servers import AppServer, PrivatePostgres, PrivateRedis

pytestmark = [pytest.mark.integration]

PG_PORT, REDIS_PORT = 5491, 6391
QUICK = 5  # seconds: a request while a service is down must be answered within this
SETUP = """
import json
from decimal import Decimal
from django.test import Client
from rest_framework.authtoken.models import Token
from kpis.models import Stage
from teams.models import Rep, Team, User

won = Stage.objects.create(name="Won", order=1, probability=Decimal("1"), outcome=Stage.Outcome.WON)
rep = Rep.objects.create(
    user=User.objects.create_user("alice"), full_name="Alice", team=Team.objects.create(name="East")
)
admin = User.objects.create_user("admin", is_staff=True, is_superuser=True)
browser = Client()
browser.force_login(admin)
token, session = Token.objects.create(user=admin).key, browser.cookies["sessionid"].value
print(json.dumps({"rep": rep.pk, "stage": won.pk, "token": token, "session": session}))
"""


class Stack:
    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.postgres = PrivatePostgres(PG_PORT)
        self.redis = PrivateRedis(REDIS_PORT, log_dir)
        self.env = app_env(
            DATABASE_URL=self.postgres.url("salesperf"),
            CELERY_BROKER_URL=self.redis.url(0),
            REDIS_URL=self.redis.url(1),
            CONN_MAX_AGE="60",
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(32),
            ALLOWED_HOSTS="127.0.0.1",
        )
        self.app: AppServer | None = None
        self.worker: Worker | None = None
        self.deals = 0

    def start(self) -> None:
        self.postgres.start()
        self.postgres.create_database("salesperf")
        self.redis.start()
        self.manage("migrate", "--noinput")
        ids = json.loads(self.manage("shell", "-c", SETUP).strip().splitlines()[-1])
        self.rep, self.stage = ids["rep"], ids["stage"]
        # The API with a token, the pages with a session: both read the database.
        self.headers = {"Authorization": f"Token {ids['token']}", "Cookie": f"sessionid={ids['session']}"}
        self.app = AppServer(env=self.env, log_path=self.log_dir / "gunicorn.log")
        self.worker = Worker(name="restarts", env=self.env, log_path=self.log_dir / "worker.log")
        self.worker.wait_ready()

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self) -> None:
        for process in (self.app, self.worker):
            if process:
                process.kill()
        self.redis.stop()
        self.postgres.remove()

    def send_task(self, name: str, *args) -> str:
        """Enqueue a task on the stack's broker; returns its id. (A Celery app here would publish
        to this process's CELERY_BROKER_URL, whatever it is told: that variable wins.)"""
        with Connection(self.redis.url(0)) as connection:
            return Celery("probe").send_task(name, args=args, connection=connection).id

    # --- what a client does

    def get(self, path: str):
        return self.app.request("GET", path, headers=self.headers, timeout=QUICK * 4)

    def post_deal(self, amount: int):
        """A won deal in January 2024 for the rep, through the API."""
        body = {"rep": self.rep, "stage": self.stage, "amount": str(amount)}
        body |= {"created_on": "2024-01-05", "closed_on": "2024-01-20"}
        headers = {**self.headers, "Content-Type": "application/json"}
        return self.app.request(
            "POST", "/api/v1/opportunities/", body=json.dumps(body).encode(), headers=headers
        )

    def revenue_won(self) -> str | None:
        """The rep's revenue_won snapshot for January 2024, as the API shows it."""
        path = f"/api/v1/snapshots/?rep_id={self.rep}&metric=revenue_won&period=2024-01"
        status, _, text, _ = self.get(path)
        assert status == 200, text
        results = json.loads(text)["results"]
        return results[0]["value"] if results else None


@pytest.fixture(scope="module")
def stack():
    with tempfile.TemporaryDirectory(prefix="salesperf-restarts-") as log_dir:
        stack = Stack(Path(log_dir))
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()


def assert_clean_503(response, *, api: bool) -> None:
    status, headers, text, took = response
    assert status == 503, f"{status}: {text[:2000]}"
    assert took < QUICK, f"took {took:.1f}s"
    assert headers.get("Retry-After")
    assert "Traceback" not in text
    if api:
        assert "temporarily unavailable" in json.loads(text)["detail"]
    else:
        assert "Temporarily unavailable" in text


def assert_every_request_works(stack: Stack, times: int = 6) -> None:
    """Several times, so that every gunicorn worker (each with its own connections) answers."""
    for _ in range(times):
        for path in ("/api/v1/snapshots/", "/dashboard/"):
            status, _, text, _ = stack.get(path)
            assert status == 200, f"{path}: {status} {text[:2000]}"


def assert_worker_updates_snapshots(stack: Stack) -> None:
    """A deal saved through the API reaches its snapshot through the broker and the worker."""
    before = stack.revenue_won()
    status, _, text, _ = stack.post_deal(1000)
    assert status == 201, text
    wait_for(
        lambda: stack.revenue_won() != before, timeout=30, interval=0.3, message="the worker's recompute"
    )


def test_a_postgres_restart_between_requests_goes_unnoticed(stack):
    assert_every_request_works(stack)  # every gunicorn worker now keeps a connection
    stack.postgres.stop()
    stack.postgres.start()
    assert_every_request_works(stack)  # dead connections are replaced, not used
    assert_worker_updates_snapshots(stack)


def test_postgres_restarted_under_the_app_and_worker(stack):
    assert_every_request_works(stack)
    assert_worker_updates_snapshots(stack)

    stack.postgres.stop()
    try:
        for _ in range(3):
            assert_clean_503(stack.get("/api/v1/snapshots/"), api=True)
            assert_clean_503(stack.get("/dashboard/"), api=False)
        # A recompute the worker takes while the database is down fails and is retried later.
        during = stack.send_task("kpis.recompute_subject", "rep", stack.rep)
        wait_for(lambda: f"{during}] retry" in stack.worker.log(), timeout=15, message="a retry")
    finally:
        stack.postgres.start()

    assert_every_request_works(stack)
    assert_worker_updates_snapshots(stack)
    wait_for(lambda: f"{during}] succeeded" in stack.worker.log(), timeout=40, message="the retry to succeed")


def test_redis_restarted_under_the_app_and_worker(stack):
    assert_every_request_works(stack)
    deals_before = json.loads(stack.get("/api/v1/opportunities/")[2])["count"]

    stack.redis.stop()
    try:
        for _ in range(3):
            # The API counts requests (throttling) in Redis; the pages do not need it at all.
            assert_clean_503(stack.get("/api/v1/snapshots/"), api=True)
            assert stack.get("/dashboard/")[0] == 200
        # Refused before anything is written: a client may simply try again.
        assert_clean_503(stack.post_deal(500), api=True)
        time.sleep(1)
    finally:
        stack.redis.start()

    assert_every_request_works(stack)
    assert json.loads(stack.get("/api/v1/opportunities/")[2])["count"] == deals_before
    assert_worker_updates_snapshots(stack)  # the worker reconnected to the new broker

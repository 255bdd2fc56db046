"""Fixtures for the fault tests: real `celery worker` processes on the test database.

    pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

    def test_something(start_worker, broker):
        worker = start_worker()          # a ready prefork worker process
        some_task.delay(...)
        wait_drained(broker, start_worker.started)

Unlike tests/integration's worker thread, these are processes a test can SIGKILL. They read
the pytest-django test database (the test must be transactional, so that they see its rows)
and the broker in settings, with a visibility timeout of VISIBILITY_TIMEOUT seconds.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from salesperf.celery_app import app as celery_app
from tests.services import redacted, require_services

from .processes import Broker, Worker, app_env, database_url

# Seconds before Redis hands an unacknowledged task to another worker. Longer than any task in
# these tests takes, as production's is longer than the task time limit (docs/reliability.md).
VISIBILITY_TIMEOUT = 4


@pytest.fixture
def broker(transactional_db):
    require_services()
    others = celery_app.control.ping(timeout=0.5)
    if others:
        pytest.fail(
            f"another Celery worker is consuming from {redacted(settings.CELERY_BROKER_URL)}: "
            f"{others}; stop it or use a broker of your own",
            pytrace=False,
        )
    broker = Broker(settings.CELERY_BROKER_URL)
    broker.clear()
    yield broker
    broker.clear()
    broker.close()


@pytest.fixture
def worker_env(transactional_db):
    return app_env(
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
    )


@pytest.fixture
def log_dir():
    """Logs of the processes a test starts. Not tmp_path: pytest prunes old tmp_path folders,
    and another pytest run on the same machine could remove them while this one reads them."""
    path = Path(tempfile.mkdtemp(prefix="salesperf-faults-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_worker(broker, worker_env, log_dir):
    """start_worker(concurrency=1) starts a worker process and waits until it is ready; every
    worker started is in `start_worker.started` and is killed when the test ends. While they
    run, `.delay()` in the test goes to the broker instead of running in-process."""
    started: list[Worker] = []

    def start(concurrency: int = 1) -> Worker:
        n = len(started) + 1
        worker = Worker(
            name=f"fault{n}", env=worker_env, log_path=log_dir / f"worker{n}.log", concurrency=concurrency
        )
        started.append(worker)
        worker.wait_ready()
        return worker

    start.started = started
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        for worker in started:
            worker.kill()

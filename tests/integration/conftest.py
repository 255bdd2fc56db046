"""A real Celery worker for integration tests.

    pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

    def test_something(celery_worker):
        result = some_task.delay(...)
        wait_for(lambda: Thing.objects.filter(...).exists())

The worker runs in a thread of the test process (solo pool), consumes from the broker in
settings (CELERY_BROKER_URL) and writes to the pytest-django test database: Django hands every
thread its own connection to the same (test) database. The test must be transactional, so
that the worker sees the rows the test commits; the fixture asks for `transactional_db` itself.
"""

import logging
import threading

import pytest
from celery import signals
from celery.contrib.testing.worker import start_worker

from salesperf.celery_app import app as celery_app
from tests.services import redacted, require_services

logger = logging.getLogger(__name__)


class WorkerHandle:
    """What a test gets: the app, the worker, and the ids of the tasks this worker ran."""

    def __init__(self, app, worker):
        self.app = app
        self.worker = worker
        self.hostname = worker.hostname
        self.task_ids: list[str] = []
        self._lock = threading.Lock()

    def _on_task_prerun(self, task_id=None, task=None, **kwargs):
        # In this process only the worker runs tasks non-eagerly.
        if not task.request.is_eager:
            with self._lock:
                self.task_ids.append(task_id)


def _leave_logging_alone(**kwargs):
    """A setup_logging receiver: Celery then keeps its hands off the root logger (pytest's)."""


def _refuse_other_workers(app):
    """Another worker on this broker would steal our tasks and run them on its own database."""
    others = app.control.ping(timeout=0.5)
    if others:
        names = ", ".join(name for reply in others for name in reply)
        pytest.fail(
            f"another Celery worker ({names}) is consuming from {redacted(app.conf.broker_url)}; "
            "stop it or point CELERY_BROKER_URL at a broker of your own",
            pytrace=False,
        )


@pytest.fixture
def celery_worker(transactional_db):
    require_services()  # also for a test that forgot @pytest.mark.integration
    app = celery_app
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    signals.setup_logging.connect(_leave_logging_alone)
    try:
        _refuse_other_workers(app)
        # Stale messages from an earlier (crashed) run must not run in this test.
        purged = app.control.purge()
        if purged:
            logger.info("purged %d stale message(s) from the broker", purged)
        with start_worker(
            app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            loglevel="INFO",
            shutdown_timeout=30,
        ) as worker:
            handle = WorkerHandle(app, worker)
            signals.task_prerun.connect(handle._on_task_prerun)
            try:
                yield handle
            finally:
                signals.task_prerun.disconnect(handle._on_task_prerun)
    finally:
        signals.setup_logging.disconnect(_leave_logging_alone)
        app.conf.task_always_eager = eager

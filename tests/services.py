"""The switch between tests that need real services and tests that don't.

- Tests marked ``@pytest.mark.integration`` need PostgreSQL (``DATABASE_URL`` is postgres) and
  Redis (``CELERY_BROKER_URL`` answers PING). Without them they are skipped; with
  ``SALESPERF_REQUIRE_SERVICES=1`` (CI) they fail instead, naming the missing service, and the
  whole session refuses to start unless the default database is PostgreSQL, so CI can never
  pass by silently running on SQLite.
- Every other test runs Celery eagerly, whatever the environment says: with a broker configured
  (as in CI) a unit test's ``.delay()`` must not vanish into a queue nobody consumes. The
  ``celery_worker`` fixture (tests/integration/conftest.py) turns eager mode off while a real
  worker runs.

Hooked into pytest by an import in tests/conftest.py.
"""

import functools
import os
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connections

from salesperf.celery_app import app as celery_app

REQUIRE_ENV = "SALESPERF_REQUIRE_SERVICES"
CONNECT_TIMEOUT = 3  # seconds


def services_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


@functools.cache
def postgres_problem() -> str | None:
    """Why PostgreSQL can't be used, or None when it can."""
    vendor = connections["default"].vendor
    if vendor != "postgresql":
        return f"PostgreSQL: the default database is {vendor}; set DATABASE_URL=postgres://…"
    import psycopg

    db = settings.DATABASES["default"]
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    try:
        # The maintenance database, as Django uses to create the test database.
        psycopg.connect(
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=CONNECT_TIMEOUT,
        ).close()
    except psycopg.Error as exc:
        return f"PostgreSQL: cannot connect to {where} ({' '.join(str(exc).split())})"
    return None


@functools.cache
def redis_problem() -> str | None:
    """Why the Redis broker can't be used, or None when it answers PING."""
    url = settings.CELERY_BROKER_URL
    if not url:
        return "Redis: CELERY_BROKER_URL is not set (Celery runs eagerly)"
    if urlsplit(url).scheme not in {"redis", "rediss"}:
        return f"Redis: CELERY_BROKER_URL is not a Redis URL ({redacted(url)})"
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis: no answer to PING at {redacted(url)} ({exc})"
    finally:
        client.close()
    return None


def require_services() -> None:
    """Skip the current test when PostgreSQL or Redis is missing; in CI, fail it."""
    problems = [p for p in (postgres_problem(), redis_problem()) if p]
    if not problems:
        return
    if services_required():
        pytest.fail(
            f"{REQUIRE_ENV}=1 and a service this integration test needs is missing:\n  - "
            + "\n  - ".join(problems),
            pytrace=False,
        )
    pytest.skip("needs services: " + "; ".join(problems))


def wait_for(predicate: Callable[[], object], timeout: float = 10, interval: float = 0.05, message: str = ""):
    """Poll ``predicate`` until it returns something truthy, and return that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --- pytest hooks (imported by tests/conftest.py)


def pytest_sessionstart(session):
    if services_required() and connections["default"].vendor != "postgresql":
        raise pytest.UsageError(
            f"{REQUIRE_ENV}=1 but the default database is {connections['default'].vendor}, "
            "not PostgreSQL: set DATABASE_URL=postgres://… (CI must not run on SQLite)."
        )
    # Unit tests run tasks in-process, whatever the environment; see the module docstring.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("integration") is not None:
        require_services()

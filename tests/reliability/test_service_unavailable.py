"""A request that meets a lost database or cache connection gets a clean 503, not a 500.

The failure is raised here where a request first meets it (loading the session, DRF's
throttle); test_service_restarts.py stops the real servers.
"""

import json

import pytest
import redis.exceptions
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db


def fail_with(error):
    def fail(*args, **kwargs):
        raise error

    return fail


def test_a_page_gets_a_503_page_while_the_database_is_down(client, org, monkeypatch):
    client.force_login(org.admin)
    monkeypatch.setattr(SessionStore, "load", fail_with(OperationalError("connection refused")))

    response = client.get("/dashboard/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.content.decode()


def test_the_api_gets_a_json_503_while_redis_is_down(client, org, monkeypatch):
    client.force_login(org.admin)
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", fail_with(redis.exceptions.ConnectionError()))

    response = client.get("/api/v1/snapshots/")

    assert response.status_code == 503
    assert "temporarily unavailable" in json.loads(response.content)["detail"]


def test_other_errors_are_left_to_django(client, org, monkeypatch):
    client.force_login(org.admin)
    monkeypatch.setattr(SessionStore, "load", fail_with(ValueError("a bug")))
    client.raise_request_exception = False

    assert client.get("/dashboard/").status_code == 500

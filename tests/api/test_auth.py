"""Signing in to the API: a token for scripts, the session (with CSRF) for the browser; throttling."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle


def test_an_anonymous_request_is_told_to_authenticate_with_a_token(org):
    response = APIClient().get("/api/v1/opportunities/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_script_trades_a_password_for_a_token_and_uses_it(org, alices):
    client = APIClient()

    wrong = client.post("/api/v1/auth/token/", {"username": "east_manager", "password": "nope"})
    right = client.post("/api/v1/auth/token/", {"username": "east_manager", "password": "pw"})
    client.credentials(HTTP_AUTHORIZATION=f"Token {right.json()['token']}")
    deals = client.get("/api/v1/opportunities/")

    assert wrong.status_code == 400
    assert right.status_code == 200
    assert [d["id"] for d in deals.json()["results"]] == [alices.opportunity.pk]


def test_a_bad_token_is_a_401(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    assert client.get("/api/v1/opportunities/").status_code == 401


def test_a_session_write_needs_the_csrf_token(org):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="alice", password="pw")
    lead = {"name": "L", "rep": org.alice.pk, "created_on": "2017-01-02"}

    without = client.post("/api/v1/leads/", lead, format="json")
    client.get("/admin/login/")  # any page that sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    with_token = client.post("/api/v1/leads/", lead, format="json", HTTP_X_CSRFTOKEN=token)

    assert client.get("/api/v1/leads/").status_code == 200  # reads need no token
    assert without.status_code == 403
    assert "CSRF" in without.json()["detail"]
    assert with_token.status_code == 201


@pytest.fixture
def low_rates(monkeypatch):
    # DRF reads the rates once, at import; tests lower them on the class.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute"})


def test_too_many_requests_are_throttled(org, low_rates, client_as):
    anonymous = [APIClient().post("/api/v1/auth/token/", {}).status_code for _ in range(3)]
    signed_in = [client_as("rep").get("/api/v1/metrics/").status_code for _ in range(4)]

    assert anonymous == [400, 400, 429]
    assert signed_in == [200, 200, 200, 429]

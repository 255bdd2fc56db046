"""Every state-changing request made with a session needs the CSRF token: every route of the URL
conf (pages, the API, Django's admin) × POST, PUT, PATCH and DELETE, sent by a signed-in admin —
who may do everything, so a refusal can only be the missing token. And every form that posts
sends the token."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from tests.security import urlconf

pytestmark = pytest.mark.django_db

UNSAFE = ["post", "put", "patch", "delete"]
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Routes that take no session, so there is no session to ride, and why each needs no token.
NO_SESSION = {
    "api:token": "trades a username and password for a token in the body; no cookie is read or set",
}


def test_routes_without_a_session_really_take_none(org):
    for name in NO_SESSION:
        assert resolve(reverse(name)).func.cls.authentication_classes == [], name
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.admin)
    response = client.post("/api/v1/auth/token/", {"username": "admin", "password": "pw"})
    assert response.status_code == 200 and "token" in response.json()


def refused_for_csrf(response) -> bool:
    # An HTML-rendered API error (the Swagger UI's) keeps its reason in .data, not in the page.
    reason = response.content.decode(errors="replace") + str(getattr(response, "data", ""))
    return response.status_code == 403 and "CSRF" in reason


@pytest.mark.parametrize("method", UNSAFE)
def test_a_session_request_without_the_csrf_token_is_refused(org, method):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.admin)
    checked, failures = 0, []
    for route, _ in urlconf.routes():
        path = urlconf.example_path(route)
        if resolve(path).view_name in NO_SESSION:
            continue
        response = getattr(client, method)(path)
        checked += 1
        if not refused_for_csrf(response):
            failures.append(f"{method.upper()} {path}: {response.status_code} {response.content[:120]!r}")
    assert checked > 100
    assert not failures, "\n".join(failures)


def test_with_the_token_the_same_requests_go_through(org):
    """The control: what the test above refuses is refused for the token alone."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(org.east_manager)
    client.get("/accounts/login/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    page = client.post("/targets/new/", {"subject": f"rep:{org.alice.pk}"}, HTTP_X_CSRFTOKEN=token)
    api = client.post(
        "/api/v1/leads/",
        {"name": "L", "rep": org.alice.pk, "created_on": "2017-01-02"},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )
    logout = client.post("/accounts/logout/", HTTP_X_CSRFTOKEN=token)

    assert page.status_code == 200  # the form again, with its field errors: not refused
    assert b"CSRF" not in page.content
    assert api.status_code == 201
    assert logout.status_code == 302


def test_every_form_that_posts_sends_the_token():
    forms = [
        (path.name, form)
        for path in TEMPLATES.rglob("*.html")
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", path.read_text(), re.S | re.I)
    ]

    assert len(forms) >= 8
    assert [name for name, form in forms if "{% csrf_token %}" not in form] == []

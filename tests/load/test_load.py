"""Load: eight clients at once on the pages and the API of a real gunicorn (2 workers) on
loopback, for a fixed time, and not one error.

The database is this test's own (a transactional test, so gunicorn's processes see the rows),
seeded by `demo` at a small size. The clients sign in as a person and a script would: the
login form with its CSRF token, and the API's token endpoint. Each of the eight clients is one
wrk connection on one page or endpoint, all running together; a 302 to the login page, a 4xx,
a 5xx, a socket error or a time-out all count as errors.

Run with `-s` to see requests/s and p50/p95 per page.
"""

import http.client
import json
import re
import urllib.request
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import global_settings
from django.db import connection
from django.utils import timezone

from bench import server, wrk
from demo.services import DemoSize, demo_seed
from kpis import engine
from kpis.periods import Period
from teams.models import Rep, Team

SECONDS = 15
SIZE = DemoSize(reps=12, opportunities=1_500, activities=4_000, months=6)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings):
    """Demo data for the six months up to today, computed; the demo logins and their passwords."""
    # Hashed as gunicorn (production's settings) can check them, not with the tests' fast hasher.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    result = demo_seed(size=SIZE, seed=7, today=timezone.localdate())
    engine.recompute_all()
    return {login.username: login.password for login in result.logins}


@pytest.fixture
def site(wrk_installed):
    with server.gunicorn(db=connection.settings_dict, workers=2) as base:
        yield base


def form_login(base: str, username: str, password: str) -> str:
    """Sign in through the login form, as a browser does; returns the Cookie header to send."""
    host = urlsplit(base).netloc
    page = http.client.HTTPConnection(host, timeout=10)
    page.request("GET", "/accounts/login/")
    response = page.getresponse()
    form = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    csrf_field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    post = http.client.HTTPConnection(host, timeout=10)
    post.request(
        "POST",
        "/accounts/login/",
        body=urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf_field}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf_cookie}"},
    )
    response = post.getresponse()
    response.read()
    assert response.status == 302, f"signing in as {username} failed ({response.status})"
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie")).group(1)
    return f"sessionid={session}"


def api_token(base: str, username: str, password: str) -> str:
    data = urlencode({"username": username, "password": password}).encode()
    with urllib.request.urlopen(f"{base}/api/v1/auth/token/", data=data, timeout=10) as response:
        return json.load(response)["token"]


def targets(base: str, passwords: dict) -> list[tuple[wrk.Target, str]]:
    """Eight requests a rep, a manager and an admin make, each with the content type it returns."""
    cookies = {
        who: (("Cookie", form_login(base, who, passwords[who])),) for who in ("rep", "manager", "admin")
    }
    tokens = {
        who: (("Authorization", f"Token {api_token(base, who, passwords[who])}"),)
        for who in ("rep", "manager")
    }
    rep = Rep.objects.select_related("team").get(user__username="rep")
    region = rep.team.parent
    quarter = Period.containing("quarter", timezone.localdate()).label
    drill = f"/drill/?scope=rep&subject={rep.pk}&metric=revenue_won&period={quarter}"
    assert Team.objects.filter(pk=region.pk, manager__username="manager").exists()
    html, csv, api = "text/html", "text/csv", "application/json"
    return [
        (wrk.Target("rep's scorecard", "/scorecard/", cookies["rep"]), html),
        (wrk.Target("region dashboard", f"/dashboard/?team={region.pk}", cookies["manager"]), html),
        (wrk.Target("company dashboard", "/dashboard/", cookies["admin"]), html),
        (wrk.Target("drill-down", drill, cookies["manager"]), html),
        (wrk.Target("drill-down CSV", f"{drill}&format=csv", cookies["manager"]), csv),
        (
            wrk.Target(
                "API scorecard",
                f"/api/v1/scorecard/?scope=team&subject={rep.team_id}&period={quarter}",
                tokens["manager"],
            ),
            api,
        ),
        (
            wrk.Target(
                "API snapshots", f"/api/v1/snapshots/?team_id={region.pk}&period={quarter}", tokens["manager"]
            ),
            api,
        ),
        (wrk.Target("API opportunities", "/api/v1/opportunities/?page_size=50", tokens["rep"]), api),
    ]


def fetch(base: str, target: wrk.Target):
    request = urllib.request.Request(base + target.path, headers=dict(target.headers))
    with urllib.request.urlopen(request, timeout=30) as response:  # a 4xx/5xx raises
        return response.status, response.url, response.headers.get_content_type()


def test_eight_clients_on_pages_and_api_for_fifteen_seconds_get_no_error(site, demo):
    plan = targets(site, demo)
    # Each request, once: the answer it is meant to get (not a redirect to the login page).
    for target, content_type in plan:
        status, url, got = fetch(site, target)
        assert (status, url, got) == (200, site + target.path, content_type), target.name
    # And the count can fail: a client without a session, sent to the login page, is an error.
    anonymous = wrk.run(site, wrk.Target("anonymous", "/scorecard/"), connections=1, seconds=1)
    assert anonymous.requests > 0
    assert (anonymous.errors, anonymous.first_unexpected_status) == (anonymous.requests, 302)

    results = wrk.run_together(site, [(target, 1) for target, _ in plan], seconds=SECONDS)

    print(f"\n{'':<20}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'errors':>8}")
    for r in results:
        print(f"{r.name:<20}{r.requests:>9}{r.rps:>8}{r.p50_ms:>8}{r.p95_ms:>8}{r.errors:>8}")
    total = sum(r.requests for r in results)
    print(f"{'all':<20}{total:>9}{total / SECONDS:>8.1f}")
    assert all(r.requests > 0 for r in results), results
    assert [(r.name, r.errors, r.first_unexpected_status) for r in results if r.errors] == []
    assert all(r.seconds >= SECONDS - 1 for r in results), results

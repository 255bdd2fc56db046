"""Who may open what, proven from the URL conf: every pattern × every role.

MATRIX builds, from the `world` fixture (tests/security/conftest.py), the requests for every page
and endpoint and says which roles get through. The first test walks the whole URL conf and fails
if a pattern is reached by none of those requests, so a new page or endpoint fails here until
someone decides who may see it. Django's admin is its own block: staff only.

The rule the statuses follow, on pages and in the API alike:
- not signed in: a page sends you to the login page (302), the API answers 401;
- a rep, team, target or record you may not see — or, when the URL names none, your own when
  you have none (your scorecard when you are no rep, your team's dashboard or grid when you
  manage no team): 404, exactly as if it did not exist;
- what you may see but your role may not do (admin pages, a rep creating, changing or importing
  targets, their own included): 403.
Every response is also searched for the markers of every subject the role may not see (a name, a
customer, a figure): none may appear, error pages, API lists and CSV exports included.
"""

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import NoReverseMatch, resolve, reverse

from kpis.models import KpiSnapshot, Stage
from targets.models import Notification
from teams.models import User
from tests.security import urlconf
from tests.security.conftest import (
    ADMINS,
    MANAGERS,
    MAY_READ,
    PERIOD,
    ROLES,
    SEES,
    SIGNED_IN,
    USERS,
    seers,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/?next="
ADMIN_LOGIN = "/admin/login/?next="
OWN_REP = {"rep": "alice", "other_rep": "carol"}
KINDS = {"reps": ("alice", "bob", "carol"), "teams": ("east", "west", "region")}


@dataclass(frozen=True)
class Case:
    """One request, and who gets through: `allowed` roles get `ok`, other signed-in ones `refused`."""

    name: str  # the URL name
    kwargs: dict = field(default_factory=dict)
    query: str = ""
    allowed: frozenset = SIGNED_IN
    refused: int = 404
    forbidden: frozenset = frozenset()  # roles that may see it but not do it: 403
    ok: int = 200
    method: str = "get"
    public: bool = False  # anonymous visitors get `ok` too
    shows: str | None = None  # a subject (or "own": the role's rep) an allowed response shows
    lists: str | None = None  # "reps" or "teams": an allowed response shows each one the role sees

    def path(self, **extra) -> str:
        url = reverse(self.name, kwargs={**self.kwargs, **extra} or None)
        return f"{url}?{self.query}" if self.query else url

    def expected(self, role: str) -> int:
        if self.public:
            return self.ok
        if role == "anonymous":
            return 401 if self.name.startswith("api:") else 302
        if role in self.forbidden:
            return 403
        return self.ok if role in self.allowed else self.refused


def cases_for(name: str, subjects, **case) -> Callable:
    """A builder: one Case per (kwargs, query, subject) from subjects(world), allowed to its seers."""

    def build(w):
        return [
            Case(name, kwargs, query, allowed=seers(subject) if subject else SIGNED_IN, shows=subject, **case)
            for kwargs, query, subject in subjects(w)
        ]

    return build


def one(name: str, **case) -> Callable:
    return lambda w: [Case(name, **case)]


def together(*builders) -> Callable:
    return lambda w: [case for build in builders for case in build(w)]


# --- the API: each resource's list, and the detail of rows on each side of the org


def api(basename: str, rows: Callable, lists: str | None = None, query: str = "") -> Callable:
    """rows(world) → [(row, the subject it belongs to, or None: everybody's)]."""
    return together(
        one(f"api:{basename}-list", query="&".join(filter(None, ["page_size=500", query])), lists=lists),
        cases_for(f"api:{basename}-detail", lambda w: [({"pk": r.pk}, "", s) for r, s in rows(w)]),
    )


def reps_rows(rows_of: Callable) -> Callable:
    """Alice's and Carol's row, rows_of(rep) being the rep's one row."""
    return lambda w: [(rows_of(getattr(w.org, who)), who) for who in ("alice", "carol")]


def snapshots(w):
    def of(scope, subject_id):
        return KpiSnapshot.objects.get(
            scope=scope,
            subject_id=subject_id,
            metric="revenue_won",
            period_kind="month",
            period_start="2017-02-01",
        )

    o = w.org
    return [
        (of("rep", o.alice.pk), "alice"),
        (of("rep", o.carol.pk), "carol"),
        (of("team", o.east.pk), "east"),
        (of("team", o.west.pk), "west"),
        (of("company", 0), "company"),
    ]


def subjects(w) -> list[tuple[str, int, str]]:
    """(scope, id, subject) for every rep, the two teams and the company."""
    o = w.org
    reps = [("rep", getattr(o, who).pk, who) for who in KINDS["reps"]]
    return [*reps, ("team", o.east.pk, "east"), ("team", o.west.pk, "west"), ("company", 0, "company")]


def api_scorecards(w):
    return [
        ({}, f"scope={scope}&period={PERIOD}" + (f"&subject={pk}" if pk else ""), s)
        for scope, pk, s in subjects(w)
    ]


def funnels(name: str) -> Callable:
    """A funnel for every subject (its page or API), for who may see it; the page without a
    subject is anyone's own. The page names the subject; a company figure shows nowhere."""

    def build(w):
        return [
            Case(
                name,
                query=f"scope={scope}&period=2017-Q1" + (f"&subject={pk}" if pk else ""),
                allowed=seers(who),
                shows=None if who == "company" else who,
            )
            for scope, pk, who in subjects(w)
        ]

    return build


# --- pages


def scorecards(w):
    return [({"rep_id": getattr(w.org, who).pk}, f"period={PERIOD}", who) for who in KINDS["reps"]]


# The drill-down of every metric family, for every subject; the revenue one also as CSV.
DRILL_METRICS = ["revenue_won", "new_customers", "calls_made", "leads_generated", "nps", "cac"]


# Whose records a team's or the company's drill-down of revenue shows, among others.
A_REP_OF = {
    "alice": "alice",
    "bob": "bob",
    "carol": "carol",
    "east": "alice",
    "west": "carol",
    "company": "alice",
}


def drills(w):
    cases = []
    for scope, pk, who in subjects(w):
        base = f"scope={scope}&subject={pk}&period={PERIOD}"
        cases += [Case("kpis:drill", query=f"{base}&metric={m}", allowed=seers(who)) for m in DRILL_METRICS]
        cases += [
            Case(
                "kpis:drill", query=f"{base}&metric=revenue_won{csv}", allowed=seers(who), shows=A_REP_OF[who]
            )
            for csv in ("", "&format=csv")
        ]
    return cases


def team_pages(name: str, query: str) -> Callable:
    """A team page: with no team, a manager's own (admin: the company's or the top team's)."""
    return together(
        one(name, query=query, allowed=MANAGERS),
        cases_for(
            name, lambda w: [({}, f"team={getattr(w.org, t).pk}&{query}", t) for t in ("east", "west")]
        ),
    )


FRESH = itertools.count()  # months for the copies of targets that requests delete or spread


def target_pages(name: str, method: str = "get", ok: int = 200, fresh: bool = False) -> Callable:
    """The page of Alice's, Carol's and East's target: for the managers above them and admins.

    fresh: a copy of the target for each request (the request deletes or spreads it)."""

    def build(w):
        cases = []
        for who in ("alice", "carol", "east"):
            target = w.targets[who]
            if fresh:
                target = type(target).objects.get(pk=target.pk)
                n = next(FRESH)
                target.pk, target.period_start = None, dt.date(2030 + n // 12, n % 12 + 1, 1)
                target.save()
            reps = seers(who) & {"rep", "other_rep"}  # reps see their targets, set none
            cases.append(
                Case(name, {"pk": target.pk}, allowed=seers(who) - reps, forbidden=reps, ok=ok, method=method)
            )
        return cases

    return build


MATRIX: dict[str, Callable] = {
    # Signing in and out.
    "login": one("login", public=True),
    "logout": one("logout", method="post", public=True, ok=302),
    # One's own account: the API token (seen, revoked), the password (changed; reset by e-mail).
    "api token page": one("api_token"),
    "revoke api token": one("api_token", method="post", ok=302),
    "password change": one("password_change"),
    "password changed": one("password_change_done"),
    "password reset": one("password_reset", public=True),
    "password reset sent": one("password_reset_done", public=True),
    "password reset link": one(
        "password_reset_confirm", kwargs={"uidb64": "MQ", "token": "set-password"}, public=True
    ),
    "password reset done": one("password_reset_complete", public=True),
    # Pages.
    "home": one("targets:home", ok=302),
    "my scorecard": one(
        "targets:my_scorecard", query=f"period={PERIOD}", allowed=frozenset(OWN_REP), shows="own"
    ),
    "scorecard": cases_for("targets:scorecard", scorecards),
    "dashboard": team_pages("targets:dashboard", f"period={PERIOD}"),
    # The forecast page: one's own subject by default, else any subject one sees (the API's query).
    "forecast": together(
        one("targets:forecast", query=f"period={PERIOD}"), cases_for("targets:forecast", api_scorecards)
    ),
    "drill-down": drills,
    # The pipeline waterfall: without a subject each role's own (rep: themself, manager: their team).
    "pipeline waterfall": together(
        one("kpis:waterfall", query=f"period={PERIOD}"),
        cases_for("kpis:waterfall", lambda w: [({}, q, s) for _, q, s in api_scorecards(w)]),
    ),
    "stage funnel": together(one("kpis:funnel", query="period=2017-Q1"), funnels("kpis:funnel")),
    "targets list": one("targets:list", lists="reps"),
    "new target": one("targets:new", allowed=MANAGERS, refused=403),
    "edit target": target_pages("targets:edit"),
    "delete target": target_pages("targets:delete", method="post", ok=302, fresh=True),
    "spread target": target_pages("targets:spread", method="post", ok=302, fresh=True),
    "confirm delete": target_pages("targets:delete"),
    "spread to reps x months (preview)": target_pages("targets:spread_plan"),
    "target grid": team_pages("targets:grid", "year=2017"),
    "targets CSV": one("targets:export", lists="reps"),
    "import targets": one("targets:import", allowed=MANAGERS, refused=403),
    "import data": one("targets:data_import", allowed=ADMINS, refused=403),
    # One's own notifications: the list, alert settings, marking read (another's: 404).
    "notifications": one("targets:notifications"),
    "alert settings": one("targets:alert_settings"),
    "mark all notifications read": one("targets:notifications_read", method="post", ok=302),
    "mark a notification read": lambda w: [
        Case(
            "targets:notification_read",
            {"pk": Notification.objects.create(user=w.org.alice.user, message="Alice is behind").pk},
            method="post",
            ok=302,
            allowed=frozenset({"rep"}),
        )
    ],
    "recompute": together(
        one("kpis:recompute", allowed=ADMINS, refused=403),
        one("kpis:recompute", allowed=ADMINS, refused=403, method="post", ok=302),
    ),
    "recompute status": one("kpis:recompute_status", allowed=ADMINS, refused=403),
    "CRM import": one("kpis:crm_import", allowed=ADMINS, refused=403),
    # A background job's page, its status, and importing a finished preview's files.
    "job": lambda w: [
        Case(name, {"pk": w.job.pk}, allowed=ADMINS, refused=403, **case)
        for name, case in [
            ("kpis:job", {}),
            ("kpis:job_status", {}),
            ("kpis:job_import", {"method": "post", "ok": 302}),
        ]
    ],
    # The mapped import: its upload page, an upload's mapping (and preview) page, the rows a job
    # refused as a CSV file.
    "mapped import": one("kpis:facts_import", allowed=ADMINS, refused=403),
    "mapped import mapping": lambda w: [
        Case("kpis:facts_import_map", {"pk": w.draft.pk}, allowed=ADMINS, refused=403, **case)
        for case in [{}, {"method": "post"}]
    ],
    "job refused rows CSV": lambda w: [
        Case("kpis:job_error_csv", {"pk": w.refused.pk}, allowed=ADMINS, refused=403)
    ],
    # The API and its documentation (the schema holds no data: public).
    "api root": one("api:api-root"),
    "api token": one("api:token", method="post", public=True, ok=400),  # no credentials: a 400
    "api scorecard": cases_for("api:scorecard", api_scorecards),
    "api pipeline waterfall": cases_for("api:pipeline_waterfall", api_scorecards),
    "api stage funnel": funnels("api:pipeline_funnel"),
    "api forecast roll-up": cases_for("api:forecast-rollup", api_scorecards),
    "api teams": api("team", lambda w: [(w.org.east, "east"), (w.org.west, "west")], lists="teams"),
    "api reps": api("rep", lambda w: [(w.org.alice, "alice"), (w.org.carol, "carol")], lists="reps"),
    "api customers": api("customer", reps_rows(lambda rep: rep.customers.get()), lists="reps"),
    # Bulk upserts: whoever may write a resource one row at a time may write it in bulk, the
    # others get 403 (a rep: customers, deals, NPS, spend); an empty form body is not the JSON
    # list of rows they take (415). Rows of reps or teams one may not see are per-row errors:
    # tests/api/test_bulk.py and test_bulk_facts.py.
    "api customers bulk": one("api:customer-bulk", method="post", allowed=MANAGERS, refused=403, ok=415),
    "api opportunities bulk": one(
        "api:opportunity-bulk", method="post", allowed=MANAGERS, refused=403, ok=415
    ),
    "api leads bulk": one("api:lead-bulk", method="post", ok=415),
    "api activities bulk": one("api:activity-bulk", method="post", ok=415),
    "api nps bulk": one("api:nps-response-bulk", method="post", allowed=MANAGERS, refused=403, ok=415),
    "api spend bulk": one("api:spend-bulk", method="post", allowed=MANAGERS, refused=403, ok=415),
    "api forecasts bulk": one("api:forecast-bulk", method="post", ok=415),
    "api leads": api("lead", reps_rows(lambda rep: rep.leads.get()), lists="reps"),
    "api opportunities": api("opportunity", reps_rows(lambda rep: rep.opportunities.get()), lists="reps"),
    "api activities": api("activity", reps_rows(lambda rep: rep.activities.get()), lists="reps"),
    "api nps": api(
        "nps-response", reps_rows(lambda rep: rep.customers.get().nps_responses.get()), lists="reps"
    ),
    "api spend": api("spend", reps_rows(lambda rep: rep.spend.get()), lists="reps"),
    "api forecasts": api("forecast", reps_rows(lambda rep: rep.forecasts.get()), lists="reps"),
    "api stages": api("stage", lambda w: [(Stage.objects.get(name="Won"), None)]),
    "api snapshots": api("snapshot", snapshots, lists="reps", query="metric=revenue_won"),
    "api metrics": together(one("api:metric-list"), one("api:metric-detail", kwargs={"key": "revenue_won"})),
    "api targets": api(
        "target", lambda w: [(w.targets[s], s) for s in ("alice", "carol", "east", "company")], lists="reps"
    ),
    "api schema": one("schema", public=True),
    "api docs": one("api-docs", public=True),
    # The health check (load balancers, load runs): public, it shows nothing but "ok".
    "healthz": one("healthz", public=True),
}


# --- the URL conf


def requests_for(case: Case) -> list[str]:
    """The case's path, and for an API route with a format suffix (/api/v1/leads.json), that too."""
    paths = [case.path()]
    if case.name.startswith("api:"):
        with contextlib.suppress(NoReverseMatch):  # this name has no suffix route
            paths.append(case.path(format="json"))
    return paths


def client_for(role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(User.objects.get(username=USERS[role]))
    return client


def body_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def leaked(world, role: str, body: str) -> list[str]:
    """The markers in `body` of subjects `role` may not see."""
    return [
        marker
        for subject, markers in world.markers.items()
        if subject not in MAY_READ[role]
        for marker in markers
        if marker in body
    ]


def shown(world, subject: str, body: str) -> bool:
    return any(marker in body for marker in world.markers[subject])


# --- the tests


def test_every_url_pattern_is_in_the_matrix(world):
    reached = {
        resolve(path.split("?")[0]).route
        for build in MATRIX.values()
        for c in build(world)
        for path in requests_for(c)
    }
    app_routes = {route for route, _ in urlconf.routes() if not urlconf.is_admin(route)}

    assert app_routes, "the URL walk found nothing"
    assert app_routes - reached == set(), "patterns nobody decided who may open: add them to MATRIX"


@pytest.mark.parametrize("entry", list(MATRIX))
def test_who_gets_what(world, entry):
    failures = []
    for role in ROLES:
        client = client_for(role)
        for case in MATRIX[entry](world):
            for path in requests_for(case):
                failures += _check(world, client, role, case, path)
    assert not failures, "\n".join(failures)


def _check(world, client, role, case, path) -> list[str]:
    response = getattr(client, case.method)(path)
    body = body_of(response)
    where = f"{role} {case.method.upper()} {path}"
    expected = case.expected(role)
    problems = []
    if response.status_code != expected:
        problems.append(f"{where}: {response.status_code}, expected {expected}")
    elif (
        expected == 302
        and role == "anonymous"
        and not case.public
        and not response["Location"].startswith(LOGIN)
    ):
        problems.append(f"{where}: sent to {response['Location']}, not to the login page")
    if leaks := leaked(world, role, body):
        problems.append(f"{where}: shows what {role} may not see: {leaks}")
    if response.status_code == 200 and role in case.allowed and not case.public:
        subject = OWN_REP[role] if case.shows == "own" else case.shows
        wanted = [subject] if subject else []
        wanted += [s for s in KINDS.get(case.lists, ()) if s in SEES[role]]
        problems += [f"{where}: shows nothing of {s}" for s in wanted if not shown(world, s, body)]
    return problems


# --- Django's admin: staff only


ADMIN_ROUTES = sorted(route for route, _ in urlconf.routes() if urlconf.is_admin(route))
PUBLIC_ADMIN = {"admin:login"}


def test_the_walk_finds_the_admin_and_a_path_for_every_route():
    assert len(ADMIN_ROUTES) > 50
    for route, _ in urlconf.routes():
        assert resolve(urlconf.example_path(route)).route == route


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_is_for_staff_only(world, role):
    client = client_for(role)
    failures = []
    for route in ADMIN_ROUTES:
        path = urlconf.example_path(route)
        name = resolve(path).view_name
        response = client.get(path)
        location = response.get("Location", "")
        if role == "admin":  # what an admin may do there is the admin's business, but never a login
            bad = response.status_code >= 500 or location.startswith(ADMIN_LOGIN)
        elif name in PUBLIC_ADMIN:
            bad = response.status_code != 200
        elif name == "admin:logout":  # not signed in to the admin: sent to its index, then the login
            bad = response.status_code not in (302, 405) or (
                response.status_code == 302 and location != "/admin/"
            )
        else:
            bad = response.status_code != 302 or not location.startswith(ADMIN_LOGIN)
        if bad:
            failures.append(f"{role} GET {path} ({name}): {response.status_code} {location}")
        if role != "admin" and (leaks := leaked(world, role, body_of(response))):
            failures.append(f"{role} GET {path}: shows {leaks}")
    assert not failures, "\n".join(failures)

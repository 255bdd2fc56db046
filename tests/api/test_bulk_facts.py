"""POST /api/v1/<fact>/bulk/ for leads, activities, NPS responses, spend and forecast submissions
(kpis.bulk; forecasts through targets.serializers.ForecastBulkSerializer): upsert on external_id,
all or nothing, the single write's rules and scoping, one recompute per batch. Opportunities and
customers: tests/api/test_bulk.py.

On the `org` fixture: east (alice, bob; east_manager), west (carol; west_manager), admin.
"""

import datetime as dt
import itertools
import json
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
from celery.signals import task_prerun
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import CheckConstraint
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpis.bulk import BULK_MAX_ROWS, CHECKS
from kpis.models import AcquisitionSpend, Activity, ForecastSubmission, Lead, NpsResponse
from targets.serializers import HISTORY
from tests.factories import (
    AcquisitionSpendFactory,
    ActivityFactory,
    CustomerFactory,
    ForecastFactory,
    LeadFactory,
    NpsResponseFactory,
    OpportunityFactory,
)

pytestmark = pytest.mark.django_db


def post(client, path, rows):
    return client.post(path, rows, format="json")


def errors_of(response):
    assert response.status_code == 400, response.content
    return [(e["index"], e["external_id"], e["field"]) for e in response.json()["errors"]]


def by_field(errors):
    out = {}
    for e in errors:
        out.setdefault(e["field"], []).append(e["message"])
    return out


@pytest.fixture
def customers(org):
    """Alice's customer and Carol's."""
    return {
        "alice": CustomerFactory(external_id="C-A", owner=org.alice, acquired_on=dt.date(2016, 6, 1)),
        "carol": CustomerFactory(external_id="C-C", owner=org.carol, acquired_on=dt.date(2016, 6, 1)),
    }


# --- one spec per resource: a row, a stored row, a change, bad rows


@dataclass(frozen=True)
class Fact:
    path: str
    model: type
    row: object  # (org, customers, external_id, **fields) → a row of Alice's side
    store: object  # (org, customers, external_id) → a stored row of Alice's side
    change: tuple[str, object, object]  # (field, value sent, value stored after)
    bad: dict  # case → ((org, customers) → fields that make the row bad, the field its error is on)


def lead_row(org, c, external_id, **fields):
    return {
        "external_id": external_id,
        "name": f"Lead {external_id}",
        "rep": org.alice.pk,
        "created_on": "2017-02-01",
        **fields,
    }


def activity_row(org, c, external_id, **fields):
    return {
        "external_id": external_id,
        "rep": org.alice.pk,
        "kind": "call",
        "occurred_at": "2017-02-01T12:00:00Z",
        "customer": c["alice"].pk,
        **fields,
    }


def nps_row(org, c, external_id, **fields):
    return {
        "external_id": external_id,
        "customer": c["alice"].pk,
        "responded_on": "2017-02-01",
        "score": 9,
        **fields,
    }


def spend_row(org, c, external_id, **fields):
    return {
        "external_id": external_id,
        "rep": org.alice.pk,
        "spent_on": "2017-02-01",
        "amount": "100.00",
        **fields,
    }


FACTS = {
    "leads": Fact(
        "/api/v1/leads/bulk/",
        Lead,
        lead_row,
        lambda org, c, x: LeadFactory(external_id=x, rep=org.alice, created_on=dt.date(2017, 2, 1)),
        ("converted_on", "2017-02-20", dt.date(2017, 2, 20)),
        {
            "converted before created": (lambda o, c: {"converted_on": "2017-01-31"}, "non_field_errors"),
            "no created date": (lambda o, c: {"created_on": None}, "created_on"),
            "another team's rep": (lambda o, c: {"rep": o.carol.pk}, "rep"),
            "another team's customer": (lambda o, c: {"customer": c["carol"].pk}, "customer"),
        },
    ),
    "activities": Fact(
        "/api/v1/activities/bulk/",
        Activity,
        activity_row,
        lambda org, c, x: ActivityFactory(
            external_id=x, rep=org.alice, occurred_at=timezone.make_aware(dt.datetime(2017, 2, 1, 12))
        ),
        ("kind", "meeting", "meeting"),
        {
            "unknown kind": (lambda o, c: {"kind": "fax"}, "kind"),
            "date out of range": (lambda o, c: {"occurred_at": "1800-01-01T10:00:00Z"}, "occurred_at"),
            "another team's rep": (lambda o, c: {"rep": o.carol.pk}, "rep"),
            "another team's deal": (
                lambda o, c: {"opportunity": OpportunityFactory(rep=o.carol).pk},
                "opportunity",
            ),
        },
    ),
    "nps": Fact(
        "/api/v1/nps-responses/bulk/",
        NpsResponse,
        nps_row,
        lambda org, c, x: NpsResponseFactory(external_id=x, customer=c["alice"]),
        ("score", 3, 3),
        {
            "score over 10": (lambda o, c: {"score": 11}, "score"),
            "negative score": (lambda o, c: {"score": -1}, "score"),
            "another team's customer": (lambda o, c: {"customer": c["carol"].pk}, "customer"),
        },
    ),
    "spend": Fact(
        "/api/v1/spend/bulk/",
        AcquisitionSpend,
        spend_row,
        lambda org, c, x: AcquisitionSpendFactory(external_id=x, rep=org.alice),
        ("amount", "250.00", Decimal("250.00")),
        {
            "rep and team": (lambda o, c: {"team": o.east.pk}, "team"),
            "negative amount": (lambda o, c: {"amount": "-5.00"}, "amount"),
            "the company's, by a manager": (lambda o, c: {"rep": None}, "team"),
            "another team": (lambda o, c: {"rep": None, "team": o.west.pk}, "team"),
        },
    ),
}
BAD = [(fact, case) for fact, spec in FACTS.items() for case in spec.bad]
EVERY_FACT = pytest.mark.parametrize("fact", list(FACTS))


@EVERY_FACT
def test_a_batch_updates_the_stored_row_and_creates_the_new_one(org, customers, client_as, fact):
    spec = FACTS[fact]
    stored = spec.store(org, customers, "X-1")
    field, sent, after = spec.change

    response = post(
        client_as("manager"),
        spec.path,
        [spec.row(org, customers, "X-1", **{field: sent}), spec.row(org, customers, "X-2")],
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"created": 1, "updated": 1}
    stored.refresh_from_db()
    assert getattr(stored, field) == after
    assert spec.model.objects.count() == 2
    assert spec.model.objects.get(external_id="X-2").pk != stored.pk


@EVERY_FACT
def test_the_same_batch_twice_writes_nothing_the_second_time(
    org, customers, client_as, fact, django_capture_on_commit_callbacks
):
    spec = FACTS[fact]
    rows = [spec.row(org, customers, "X-1"), spec.row(org, customers, "X-2")]
    client = client_as("manager")
    first = post(client, spec.path, rows)
    stored = list(spec.model.objects.order_by("pk").values())

    with django_capture_on_commit_callbacks() as callbacks:
        second = post(client, spec.path, rows)

    assert first.json() == {"created": 2, "updated": 0}
    assert second.json() == {"created": 0, "updated": 2}
    assert list(spec.model.objects.order_by("pk").values()) == stored
    assert callbacks == []  # nothing changed: no recompute either


@pytest.mark.parametrize(("fact", "case"), BAD)
def test_a_bad_row_refuses_the_batch_with_its_index_and_writes_nothing(org, customers, client_as, fact, case):
    spec = FACTS[fact]
    make, field = spec.bad[case]
    before = spec.model.objects.count()

    response = post(
        client_as("manager"),
        spec.path,
        [spec.row(org, customers, "X-1"), spec.row(org, customers, "X-2", **make(org, customers))],
    )

    assert errors_of(response) == [(1, "X-2", field)]
    assert spec.model.objects.count() == before


@pytest.mark.parametrize(("fact", "case"), BAD)
def test_a_bad_row_gets_the_same_messages_as_a_single_write(org, customers, client_as, fact, case):
    # The batch checks constraints in Python (kpis.bulk.CHECKS) and related ids among rows read
    # once: the rules must stay the single write's, to the word, for a create and an update.
    spec = FACTS[fact]
    make, _ = spec.bad[case]
    bad = spec.row(org, customers, "X-2", **make(org, customers))
    client = client_as("manager")
    single_path = spec.path.removesuffix("bulk/")
    stored = spec.store(org, customers, "X-2")

    single_update = client.put(f"{single_path}{stored.pk}/", bad, format="json").json()
    bulk_update = post(client, spec.path, [bad]).json()["errors"]
    stored.delete()
    single_create = client.post(single_path, bad, format="json").json()
    bulk_create = post(client, spec.path, [bad]).json()["errors"]

    assert by_field(bulk_create) == single_create
    assert by_field(bulk_update) == single_update


# --- the check constraints, evaluated in Python (kpis.bulk.CHECKS)

MODELS = (Lead, NpsResponse, AcquisitionSpend, ForecastSubmission)


def test_every_check_constraint_is_evaluated_without_a_query():
    for model in MODELS:
        for constraint in model._meta.constraints:
            assert not isinstance(constraint, CheckConstraint) or constraint.name in CHECKS, constraint.name


def candidates(org):
    """Instances for every combination of the values the constraints read, NULLs included."""
    days = [None, dt.date(2017, 1, 1), dt.date(2017, 2, 1)]
    for created, converted in itertools.product(days, days):
        yield Lead(created_on=created, converted_on=converted)
    for score in (None, -1, 0, 10, 11):
        yield NpsResponse(score=score)
    amounts = (None, Decimal("-0.01"), Decimal(0), Decimal(5))
    for amount, rep, team in itertools.product(amounts, (None, org.alice), (None, org.east)):
        yield AcquisitionSpend(amount=amount, rep=rep, team=team)
    scopes = (None, "rep", "team", "company", "region")
    for scope, rep, team, amount in itertools.product(scopes, (None, org.alice), (None, org.east), amounts):
        yield ForecastSubmission(scope=scope, rep=rep, team=team, amount=amount)


def test_the_python_checks_agree_with_the_databases(org):
    # Django's own check (a query: the condition as SQL, NULL passing as in a CHECK) is the truth.
    compared = 0
    for instance in candidates(org):
        for constraint in instance._meta.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            try:
                constraint.validate(type(instance), instance)
                passes = True
            except ValidationError:
                passes = False
            assert CHECKS[constraint.name](instance) == passes, (constraint.name, vars(instance))
            compared += 1
    assert compared == 9 + 5 + 2 * 16 + 2 * 80


# --- who may write what


REP_FACTS = pytest.mark.parametrize("fact", ["leads", "activities"])


@REP_FACTS
def test_a_rep_writes_their_own_rows_in_bulk(org, customers, client_as, fact):
    spec = FACTS[fact]

    response = post(client_as("rep"), spec.path, [spec.row(org, customers, "X-1")])

    assert response.json() == {"created": 1, "updated": 0}
    assert spec.model.objects.get(external_id="X-1").rep == org.alice


@REP_FACTS
def test_a_rep_may_not_write_rows_for_another_rep_even_of_their_team(org, customers, client_as, fact):
    spec = FACTS[fact]
    rows = [spec.row(org, customers, "X-1"), spec.row(org, customers, "X-2", rep=org.bob.pk, customer=None)]

    response = post(client_as("rep"), spec.path, rows)

    assert response.json()["errors"] == [
        {
            "index": 1,
            "external_id": "X-2",
            "field": "rep",
            "message": f"Unknown id {org.bob.pk}, or not one you may use.",
        }
    ]
    assert not spec.model.objects.exists()


@REP_FACTS
def test_a_rep_may_not_update_a_row_they_may_not_see(org, customers, client_as, fact):
    spec = FACTS[fact]
    bobs = spec.store(org, customers, "X-1")
    bobs.rep = org.bob
    bobs.save()
    before = list(spec.model.objects.values())

    # Naming herself as its rep: the row would move to her, were it an update.
    response = post(client_as("rep"), spec.path, [spec.row(org, customers, "X-1")])

    assert response.json()["errors"] == [
        {
            "index": 0,
            "external_id": "X-1",
            "field": "external_id",
            "message": f"No such {spec.model._meta.verbose_name} among those you may see.",
        }
    ]
    assert list(spec.model.objects.values()) == before


@pytest.mark.parametrize("fact", ["nps", "spend"])
def test_a_rep_may_not_write_nps_or_spend_in_bulk(org, customers, client_as, fact):
    spec = FACTS[fact]

    response = post(client_as("rep"), spec.path, [spec.row(org, customers, "X-1")])

    assert response.status_code == 403
    assert not spec.model.objects.exists()


@EVERY_FACT
def test_another_teams_manager_may_not_update_alices_rows(org, customers, client_as, fact):
    spec = FACTS[fact]
    spec.store(org, customers, "X-1")
    before = list(spec.model.objects.values())

    response = post(client_as("other_manager"), spec.path, [spec.row(org, customers, "X-1")])

    assert errors_of(response)[0] == (0, "X-1", "external_id")
    assert list(spec.model.objects.values()) == before


# --- one recompute per batch, and the figures follow


@pytest.fixture
def tasks_started():
    started = []

    def count(sender=None, **kwargs):
        started.append(sender.name)

    task_prerun.connect(count)
    yield started
    task_prerun.disconnect(count)


ONE_FAN_OUT = ["kpis.fan_out_recompute", "kpis.recompute_subject", "kpis.recompute_tree"]


def test_a_batch_of_activities_is_recomputed_once_and_the_counts_follow(
    org, customers, client_as, django_capture_on_commit_callbacks, snapshot, tasks_started
):
    # March 2017 (UTC): Alice 3 calls and 1 email, Bob 2 calls, Carol's nothing → calls_made
    # Alice 3, Bob 2, east 5; emails_sent Alice 1; one call of Alice's on 28 Feb counts for February.
    def activity(x, rep, kind, when):
        return activity_row(org, customers, x, rep=rep.pk, kind=kind, occurred_at=when, customer=None)

    rows = [
        activity("A-1", org.alice, "call", "2017-03-01T09:00:00Z"),
        activity("A-2", org.alice, "call", "2017-03-15T09:00:00Z"),
        activity("A-3", org.alice, "call", "2017-03-31T23:30:00Z"),
        activity("A-4", org.alice, "email", "2017-03-02T09:00:00Z"),
        activity("A-5", org.alice, "call", "2017-02-28T23:59:00Z"),
        activity("B-1", org.bob, "call", "2017-03-03T09:00:00Z"),
        activity("B-2", org.bob, "call", "2017-03-04T09:00:00Z"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_as("manager"), "/api/v1/activities/bulk/", rows)

    assert response.json() == {"created": 7, "updated": 0}
    assert sorted(tasks_started) == ONE_FAN_OUT  # one fan-out, none per row
    assert snapshot(org.alice, "calls_made", "2017-03") == 3
    assert snapshot(org.alice, "calls_made", "2017-02") == 1
    assert snapshot(org.alice, "emails_sent", "2017-03") == 1
    assert snapshot(org.bob, "calls_made", "2017-03") == 2
    assert snapshot(org.east, "calls_made", "2017-03") == 5
    assert snapshot(org.east, "calls_made", "2017-Q1") == 6


def test_a_batch_of_nps_responses_is_recomputed_once_and_the_score_follows(
    org, customers, client_as, django_capture_on_commit_callbacks, snapshot, tasks_started
):
    # Alice's customer, Feb 2017: 10 and 9 promote, 6 detracts, 8 is passive →
    # (2 − 1) / 4 × 100 = 25.
    rows = [nps_row(org, customers, f"N-{score}", score=score) for score in (10, 9, 6, 8)]

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_as("manager"), "/api/v1/nps-responses/bulk/", rows)

    assert response.json() == {"created": 4, "updated": 0}
    assert sorted(tasks_started) == ONE_FAN_OUT
    assert snapshot(org.alice, "nps", "2017-02") == Decimal(25)


def test_a_batch_of_leads_is_recomputed_once_and_the_count_follows(
    org, customers, client_as, django_capture_on_commit_callbacks, snapshot, tasks_started
):
    rows = [lead_row(org, customers, f"L-{day}", created_on=f"2017-02-{day:02d}") for day in (1, 14, 28)]
    rows.append(lead_row(org, customers, "L-march", created_on="2017-03-01"))

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_as("rep"), "/api/v1/leads/bulk/", rows)

    assert response.json() == {"created": 4, "updated": 0}
    assert sorted(tasks_started) == ONE_FAN_OUT
    assert snapshot(org.alice, "leads_generated", "2017-02") == 3
    assert snapshot(org.alice, "leads_generated", "2017-03") == 1


def test_a_batch_of_spend_is_recomputed_once_and_cac_follows(
    org, customers, client_as, django_capture_on_commit_callbacks, snapshot, tasks_started
):
    # Alice wins two customers in February 2017 and is charged 100 + 250 for it: CAC 175.
    CustomerFactory(owner=org.alice, acquired_on=dt.date(2017, 2, 3))
    CustomerFactory(owner=org.alice, acquired_on=dt.date(2017, 2, 17))
    rows = [spend_row(org, customers, "S-1"), spend_row(org, customers, "S-2", amount="250.00")]

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_as("manager"), "/api/v1/spend/bulk/", rows)

    assert response.json() == {"created": 2, "updated": 0}
    assert sorted(tasks_started) == ONE_FAN_OUT
    assert snapshot(org.alice, "cac", "2017-02") == Decimal(175)


# --- the size of a batch


def test_the_queries_do_not_grow_with_the_activities(org, customers, client_as):
    client = client_as("manager")
    deal = OpportunityFactory(rep=org.alice)

    def queries_for(n, prefix):
        # Half the rows stored already (updated to another kind), half new.
        for i in range(n // 2):
            ActivityFactory(external_id=f"{prefix}-{i}", rep=org.alice)
        rows = [
            activity_row(org, customers, f"{prefix}-{i}", kind="email", opportunity=deal.pk) for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            response = post(client, "/api/v1/activities/bulk/", rows)
        assert response.json() == {"created": n - n // 2, "updated": n // 2}
        return len(queries)

    assert queries_for(10, "S") == queries_for(200 if connection.vendor == "postgresql" else 60, "L")


def test_the_most_activities_go_in_one_request(org, customers, client_as):
    # 10,000 rows, half of them updates, in a body under DATA_UPLOAD_MAX_MEMORY_SIZE. The time of
    # this request is the figure in docs/performance.md (the recompute runs on commit, which a
    # test's transaction never reaches).
    Activity.objects.bulk_create(
        Activity(
            external_id=f"HS-{i:06d}",
            rep=org.alice,
            kind="call",
            occurred_at=timezone.make_aware(dt.datetime(2017, 2, 1, 12)),
        )
        for i in range(0, BULK_MAX_ROWS, 2)
    )
    deal = OpportunityFactory(rep=org.bob)
    rows = [
        activity_row(
            org,
            customers,
            f"HS-{i:06d}",
            rep=(org.bob if i % 3 else org.alice).pk,
            kind=("call", "email", "meeting")[i % 3],
            occurred_at=f"2017-03-{1 + i % 28:02d}T{9 + i % 8:02d}:15:00Z",
            customer=customers["alice"].pk,
            opportunity=deal.pk if i % 3 else None,
            subject=f"Follow-up {i}",
        )
        for i in range(BULK_MAX_ROWS)
    ]
    assert len(json.dumps(rows)) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    started = time.perf_counter()
    response = post(client_as("manager"), "/api/v1/activities/bulk/", rows)
    elapsed = time.perf_counter() - started

    assert response.status_code == 200, response.content[:500]
    assert response.json() == {"created": 5_000, "updated": 5_000}
    assert Activity.objects.filter(rep=org.bob).count() == 6_666  # i % 3 != 0 below 10,000
    assert Activity.objects.filter(kind="meeting").count() == 3_333
    print(f"\n{BULK_MAX_ROWS:,} activities: {elapsed:.2f} s")


# --- forecast submissions: history, submitted now by the caller, never updated

FORECASTS = "/api/v1/forecasts/bulk/"


OMIT = object()  # a field left out of the row


def forecast_row(org, external_id, **fields):
    row = {
        "external_id": external_id,
        "scope": "rep",
        "rep": org.alice.pk,
        "period_kind": "quarter",
        "period_start": "2030-04-01",  # a period to come: one that has ended is refused
        "amount": "9000.00",
        **fields,
    }
    return {name: value for name, value in row.items() if value is not OMIT}


def test_forecasts_are_submitted_now_by_the_caller(org, client_as):
    before = timezone.now()

    response = post(
        client_as("manager"),
        FORECASTS,
        [
            forecast_row(org, "F-1"),
            forecast_row(org, "F-2", rep=org.bob.pk, category="best_case", amount="12000.50"),
            forecast_row(org, "F-3", scope="team", rep=None, team=org.east.pk, amount="30000"),
        ],
    )

    assert response.json() == {"created": 3, "updated": 0}
    rows = {f.external_id: f for f in ForecastSubmission.objects.all()}
    assert {x: (f.scope, f.rep, f.team, f.category, f.amount) for x, f in rows.items()} == {
        "F-1": ("rep", org.alice, None, "commit", Decimal("9000.00")),
        "F-2": ("rep", org.bob, None, "best_case", Decimal("12000.50")),
        "F-3": ("team", None, org.east, "commit", Decimal("30000.00")),
    }
    assert {(f.submitted_by, f.period_start) for f in rows.values()} == {
        (org.east_manager, dt.date(2030, 4, 1))
    }
    assert len({f.submitted_at for f in rows.values()}) == 1  # one submission of the script's
    assert rows["F-1"].submitted_at >= before


def test_a_repeated_submission_is_left_as_it_is(org, client_as, django_capture_on_commit_callbacks):
    rows = [forecast_row(org, "F-1"), forecast_row(org, "F-2", category="best_case")]
    client = client_as("rep")
    first = post(client, FORECASTS, rows)
    stored = list(ForecastSubmission.objects.order_by("pk").values())

    with django_capture_on_commit_callbacks() as callbacks:
        second = post(client, FORECASTS, [{**rows[0], "amount": "9000"}, rows[1]])

    assert first.json() == {"created": 2, "updated": 0}
    assert second.json() == {"created": 0, "updated": 2}
    assert list(ForecastSubmission.objects.order_by("pk").values()) == stored  # submitted_at too
    assert callbacks == []


def test_a_changed_submission_is_an_error_not_an_update(org, client_as):
    # As a single write: no PUT, a correction is a new submission (tests/api/test_forecasts.py).
    stored = ForecastFactory(
        external_id="F-1", rep=org.alice, period_kind="quarter", period_start=dt.date(2030, 4, 1)
    )

    response = post(
        client_as("manager"),
        FORECASTS,
        [forecast_row(org, "F-2"), forecast_row(org, "F-1", amount="9500.00", category="best_case")],
    )

    assert response.json()["errors"] == [
        {"index": 1, "external_id": "F-1", "field": field, "message": HISTORY}
        for field in ("category", "amount")
    ]
    assert list(ForecastSubmission.objects.all()) == [stored]
    stored.refresh_from_db()
    assert stored.amount == Decimal("1000.00")


def test_a_correction_under_a_new_external_id_is_a_new_submission(org, client_as):
    client = client_as("rep")
    post(client, FORECASTS, [forecast_row(org, "F-1")])

    response = post(
        client, FORECASTS, [forecast_row(org, "F-1"), forecast_row(org, "F-1b", amount="9500.00")]
    )

    assert response.json() == {"created": 1, "updated": 1}
    assert sorted(ForecastSubmission.objects.values_list("external_id", "amount")) == [
        ("F-1", Decimal("9000.00")),
        ("F-1b", Decimal("9500.00")),
    ]


def test_a_batch_of_forecasts_is_recomputed_once(
    org, client_as, django_capture_on_commit_callbacks, tasks_started
):
    rows = [forecast_row(org, "F-1"), forecast_row(org, "F-2", rep=org.bob.pk)]

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_as("manager"), FORECASTS, rows)

    assert response.json() == {"created": 2, "updated": 0}
    assert sorted(tasks_started) == ONE_FAN_OUT


FORECAST_CASES = {
    "ended period": ("manager", {"period_kind": "month", "period_start": "2017-01-01"}, "period"),
    "not a period's start": ("manager", {"period_start": "2030-04-02"}, "period_start"),
    "a rep for another rep": ("rep", {"rep": "bob"}, "rep"),
    "another team's rep": ("manager", {"rep": "carol"}, "rep"),
    "another team": ("manager", {"scope": "team", "rep": None, "team": "west"}, "team"),
    "the company, by a manager": ("manager", {"scope": "company", "rep": None}, "scope"),
    "a rep forecast naming a team": ("manager", {"team": "east"}, "team"),
    "no amount": ("manager", {"amount": OMIT}, "amount"),
    "amount and adjustment": ("manager", {"adjustment": "10.00"}, "adjustment"),
    "adjustment of a rep's forecast": ("manager", {"amount": OMIT, "adjustment": "10.00"}, "adjustment"),
    "negative amount": ("manager", {"amount": "-1.00"}, "amount"),
    "unknown category": ("manager", {"category": "hopeful"}, "category"),
}


@pytest.mark.parametrize("case", list(FORECAST_CASES))
def test_a_bad_submission_gets_the_single_writes_message_and_nothing_is_written(org, client_as, case):
    role, changes, field = FORECAST_CASES[case]
    named = {
        k: getattr(org, v).pk if isinstance(v, str) and k in ("rep", "team") else v
        for k, v in changes.items()
    }
    bad = forecast_row(org, "F-2", **named)
    client = client_as(role)

    single = client.post("/api/v1/forecasts/", bad, format="json")
    response = post(client, FORECASTS, [forecast_row(org, "F-1"), bad])

    assert single.status_code == 400
    assert errors_of(response) == [(1, "F-2", f) for f in single.json()]
    assert list(single.json()) == [field]
    assert by_field(response.json()["errors"]) == single.json()
    assert not ForecastSubmission.objects.exists()


def test_a_teams_commit_adjusts_its_roll_up_as_a_single_write_does(org, client_as):
    # Alice's and Bob's commits (9,000 and 3,000) are east's roll-up; east adds 500 on top.
    client = client_as("manager")
    post(
        client, FORECASTS, [forecast_row(org, "F-A"), forecast_row(org, "F-B", rep=org.bob.pk, amount="3000")]
    )
    east = forecast_row(org, "F-E", scope="team", rep=None, team=org.east.pk, amount=OMIT, adjustment="500")

    single = client.post("/api/v1/forecasts/", {**east, "external_id": "F-E1"}, format="json")
    response = post(client, FORECASTS, [east])

    assert response.json() == {"created": 1, "updated": 0}
    made = ForecastSubmission.objects.get(external_id="F-E")
    assert (made.rollup, made.adjustment, made.amount) == (
        Decimal("12000.00"),
        Decimal("500.00"),
        Decimal("12500.00"),
    )
    assert {k: single.json()[k] for k in ("rollup", "adjustment", "amount")} == {
        "rollup": "12000.00",
        "adjustment": "500.00",
        "amount": "12500.00",
    }


def test_a_single_write_keeps_its_external_id(org, client_as):
    response = client_as("rep").post("/api/v1/forecasts/", forecast_row(org, "F-9"), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["external_id"] == "F-9"
    assert ForecastSubmission.objects.get().external_id == "F-9"


def test_a_batch_of_forecasts_costs_the_same_queries_for_more_rows(org, client_as):
    client = client_as("manager")

    def queries_for(n, prefix):
        rows = [forecast_row(org, f"{prefix}-{i}", rep=(org.alice, org.bob)[i % 2].pk) for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            response = post(client, FORECASTS, rows)
        assert response.json() == {"created": n, "updated": 0}
        return len(queries)

    assert queries_for(4, "S") == queries_for(100, "L")


# --- every bulk endpoint

BULK_PATHS = [
    "/api/v1/opportunities/bulk/",
    "/api/v1/customers/bulk/",
    "/api/v1/leads/bulk/",
    "/api/v1/activities/bulk/",
    "/api/v1/nps-responses/bulk/",
    "/api/v1/spend/bulk/",
    FORECASTS,
]


@pytest.mark.parametrize("path", BULK_PATHS)
def test_an_external_id_with_a_nul_character_is_that_rows_error_not_a_server_error(client_as, path):
    # PostgreSQL cannot compare text holding a NUL, and the stored rows are looked up by id
    # before the rows are validated (kpis.bulk._key leaves such an id to the row's validation).
    response = post(client_as("admin"), path, [{"external_id": "ok"}, {"external_id": "X\x00"}])

    assert response.status_code == 400
    assert {
        "index": 1,
        "external_id": None,
        "field": "external_id",
        "message": "Null characters are not allowed.",
    } in response.json()["errors"]


# --- the schema


@pytest.mark.parametrize("path", BULK_PATHS)
def test_the_schema_documents_the_rows_an_example_and_the_errors(client_as, path):
    schema = client_as("admin").get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][path]["post"]

    body = operation["requestBody"]["content"]
    assert list(body) == ["application/json"]
    assert body["application/json"]["schema"]["type"] == "array"
    [example] = body["application/json"]["examples"].values()
    first, second = example["value"]  # a list of rows, not a list of lists
    assert second == {**first, "external_id": f"{first['external_id']}-2"}
    refused = operation["responses"]["400"]["content"]["application/json"]["schema"]["oneOf"][0]
    assert refused["required"] == ["errors"]
    assert ("history" in operation["description"]) == (path == FORECASTS)

"""The API on bad bodies and query strings: a 4xx whose JSON names the field or parameter at
fault (415 for a body it cannot read, 413 for one over the size limit), never a server error,
and a refused write changes nothing. (tests/api/test_schemathesis.py fuzzes every operation
for server errors; these pin the answers to the inputs that used to crash or slip through.)"""

import json
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from kpis.models import KpiSnapshot, Lead
from tests.factories import KpiSnapshotFactory, StageFactory

from .helpers import FACTS, TARGETS, assert_unchanged

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def api(org):
    """api(user) → an API client signed in as that user."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def target(org, **changes):
    body = {
        "scope": "rep",
        "subject": org.alice.pk,
        "metric": "revenue_won",
        "period": "2017-Q2",
        "value": "10",
    }
    return {**body, **changes}


# (case, body changes or the whole body, field the 400 names)
BAD_TARGETS = [
    ("nothing", None, "scope"),
    ("a subject that is not a number", {"subject": "Alice"}, "subject"),
    ("a subject past any id", {"subject": 2**70}, "subject"),
    ("a team past any id", {"scope": "team", "subject": 2**70}, "subject"),
    ("a subject below any id", {"subject": -(2**70)}, "subject"),
    ("a rep of another team", {"subject": "{carol}"}, "subject"),
    ("the company, as a manager", {"scope": "company", "subject": None}, "subject"),
    ("an unknown scope", {"scope": "planet"}, "scope"),
    ("an unknown metric", {"metric": "profit"}, "metric"),
    ("a metric with a NUL", {"metric": f"revenue_won{NUL}"}, "metric"),
    ("a period that is a boolean", {"period": True}, "period"),
    ("month 13", {"period": "2017-13"}, "period"),
    ("a period out of range", {"period": "9999-12"}, "period"),
    ("an overlong period", {"period": "2017-Q1" * 10}, "period"),
    ("a value that is a list", {"value": [1]}, "value"),
    ("a value too large to store", {"value": "1e15"}, "value"),
    ("a negative revenue", {"value": "-1"}, "value"),
    ("NaN", {"value": "NaN"}, "value"),
    ("no value and no baseline", {"value": None}, "value"),
    ("a baseline of another kind", {"value": None, "baseline": "2017", "uplift_pct": "5"}, "baseline"),
    (
        "an uplift too large to store",
        {"value": None, "baseline": "2017-Q1", "uplift_pct": "123456"},
        "uplift_pct",
    ),
]


@pytest.mark.parametrize(("changes", "field"), [c[1:] for c in BAD_TARGETS], ids=[c[0] for c in BAD_TARGETS])
def test_a_bad_target_body_is_a_400_naming_its_field(org, alice_q1, api, changes, field):
    body = {} if changes is None else target(org, **changes)
    if body.get("subject") == "{carol}":
        body["subject"] = org.carol.pk
    with assert_unchanged(*TARGETS):
        response = api(org.east_manager).post("/api/v1/targets/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert all(isinstance(m, str) and m for m in response.json()[field])


def deal(org, open_stage, **changes):
    body = {
        "name": "Big one",
        "rep": org.alice.pk,
        "stage": open_stage.pk,
        "amount": "100",
        "created_on": "2017-01-02",
    }
    return {**body, **changes}


BAD_DEALS = [
    ("a name with a NUL", {"name": f"Big{NUL}one"}, "name"),
    ("an overlong name", {"name": "n" * 201}, "name"),
    ("a negative amount", {"amount": "-1"}, "amount"),
    ("an amount too large to store", {"amount": "1e13"}, "amount"),
    ("an amount that is not a number", {"amount": "lots"}, "amount"),
    ("a date that does not exist", {"created_on": "2017-02-30"}, "created_on"),
    ("a date in year 1", {"created_on": "0001-01-01"}, "created_on"),
    ("a date in year 9999", {"closed_on": "9999-12-31"}, "closed_on"),
    ("a rep one may not see", {"rep": "{carol}"}, "rep"),
    ("a stage that does not exist", {"stage": 999999}, "stage"),
]


@pytest.mark.parametrize(("changes", "field"), [c[1:] for c in BAD_DEALS], ids=[c[0] for c in BAD_DEALS])
def test_a_bad_fact_body_is_a_400_naming_its_field(org, api, changes, field):
    stage = StageFactory()
    body = deal(org, stage, **changes)
    if body["rep"] == "{carol}":
        body["rep"] = org.carol.pk
    with assert_unchanged(*FACTS):
        response = api(org.east_manager).post("/api/v1/opportunities/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_a_fact_dated_outside_1900_to_2100_is_refused_with_the_range(org, api):
    with assert_unchanged(*FACTS):
        response = api(org.alice.user).post(
            "/api/v1/activities/",
            {"rep": org.alice.pk, "kind": "call", "occurred_at": "0001-01-01T10:00:00Z"},
            format="json",
        )
    assert response.json() == {"occurred_at": ["Give a date from 1900 to 2100."]}


def lead_body(org):
    return {"name": "Lead", "rep": org.alice.pk, "created_on": "2017-01-02"}


# (case, raw body, content type, status, what the detail says)
UNREADABLE = [
    ("malformed JSON", b'{"name": ', "application/json", 400, "JSON parse error"),
    ("JSON that is not UTF-8", b'{"name": "\xff"}', "application/json", 400, "JSON parse error"),
    (
        "JSON nested 100,000 deep",
        b"[" * 100_000 + b"]" * 100_000,
        "application/json",
        400,
        "nested too deeply",
    ),
    ("a charset that is not text", b"{}", "application/json; charset=bz2_codec", 400, "Unsupported charset"),
    ("a list, not an object", b"[1, 2]", "application/json", 400, "Expected a dictionary"),
    ("null", b"null", "application/json", 400, "No data provided"),
    ("plain text", b"name=Lead", "text/plain", 415, 'Unsupported media type "text/plain"'),
    ("XML", b"<lead/>", "application/xml", 415, 'Unsupported media type "application/xml"'),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "detail"), [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE]
)
def test_a_body_it_cannot_read_is_a_4xx_with_a_message(org, api, body, content_type, status, detail):
    with assert_unchanged(*FACTS):
        response = api(org.alice.user).generic("POST", "/api/v1/leads/", body, content_type=content_type)
    assert response.status_code == status
    assert detail in " ".join(texts(response.json()))


def texts(body) -> list[str]:
    """Every message in an error body, however nested."""
    if isinstance(body, dict):
        return [t for value in body.values() for t in texts(value)]
    if isinstance(body, list):
        return [t for value in body for t in texts(value)]
    return [str(body)]


def test_the_token_endpoint_reads_bodies_like_every_other(db):
    deep = b'{"username": ' * 50_000 + b"1" + b"}" * 50_000
    response = APIClient().generic("POST", "/api/v1/auth/token/", deep, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}


def test_a_json_body_over_the_upload_limit_is_a_413_in_json(org, api):
    body = json.dumps(lead_body(org) | {"name": "n" * 3 * 1024 * 1024})  # DATA_UPLOAD_MAX_MEMORY_SIZE: 2.5 MB
    with assert_unchanged(*FACTS):
        response = api(org.alice.user).generic(
            "POST", "/api/v1/leads/", body, content_type="application/json"
        )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is over 2,621,440 bytes."}


def test_a_form_body_over_the_upload_limit_is_a_413_in_json(org, api):
    with assert_unchanged(*FACTS):
        response = api(org.alice.user).post(
            "/api/v1/leads/", lead_body(org) | {"name": "n" * 3 * 1024 * 1024}
        )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The request body is over")


def test_a_form_body_with_too_many_fields_is_a_400_in_json(org, api, settings):
    fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 100
    body = lead_body(org) | {f"x{i}": "" for i in range(fields)}
    with assert_unchanged(*FACTS):
        response = api(org.alice.user).post(
            "/api/v1/leads/", urlencode(body), content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 400
    assert "number of GET/POST parameters exceeded" in response.json()["detail"]


def test_unknown_fields_in_a_body_are_ignored(org, api):
    # DRF's rule, documented in docs/reliability.md: a field the resource does not have is not
    # an error and is not stored; read-only ones (id, rep_name) are ignored the same way.
    response = api(org.alice.user).post(
        "/api/v1/leads/", lead_body(org) | {"colour": "red", "id": 12345, "rep_name": "Carol"}, format="json"
    )
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.pk != 12345 and "colour" not in response.json() and response.json()["rep_name"] == "Alice"


def test_a_write_to_a_row_one_may_not_see_is_a_404(org, api, alice_q1):
    with assert_unchanged(*TARGETS):
        response = api(org.west_manager).patch(
            f"/api/v1/targets/{alice_q1.pk}/", {"value": "1"}, format="json"
        )
    assert response.status_code == 404


# --- query strings: (path, query, status, the parameter the 400 names; None: not a 400)
BAD_QUERIES = [
    ("snapshots", "period_start_after=notadate", 400, "period_start"),
    ("snapshots", "period=9999-12", 400, "period"),
    ("snapshots", "period=%00", 400, "period"),
    ("snapshots", "metric=unknown", 400, "metric"),
    ("snapshots", "ordering=nonsense", 400, "ordering"),
    ("snapshots", "ordering=-value,nonsense,period_start", 400, "ordering"),
    ("snapshots", "subject_id=-1", 400, "subject_id"),
    ("snapshots", "rep_id=abc", 400, "rep_id"),
    ("snapshots", "team_id=99999999999999999999999", 400, "team_id"),
    ("targets", "metric=unknown", 400, "metric"),
    ("targets", "period=0001-Q1", 400, "period"),
    ("opportunities", "q=%00", 400, "q"),
    ("opportunities", "amount_min=1e50", 400, "amount_min"),
    ("opportunities", "created_on_after=0000-01-01", 400, "created_on"),
    ("scorecard", "scope=rep&subject={alice}&period=9999-12", 400, "period"),
    ("scorecard", "scope=rep&period=2017-Q1", 400, "subject"),
    ("scorecard", "scope=planet&subject=1&period=2017-Q1", 400, "scope"),
    ("snapshots", "page_size=null", 400, "page_size"),
    ("snapshots", "page_size=-1", 400, "page_size"),
    ("snapshots", "page_size=0", 400, "page_size"),
    ("snapshots", "page=-1", 404, None),
    ("snapshots", "page=abc", 404, None),
    ("snapshots", "page=1000000000", 404, None),
]


@pytest.mark.parametrize(("path", "query", "status", "param"), BAD_QUERIES)
def test_a_bad_query_parameter_is_a_4xx_naming_it(org, api, path, query, status, param):
    response = api(org.admin).get(f"/api/v1/{path}/?" + query.format(alice=org.alice.pk))
    assert response.status_code == status, response.content
    body = response.json()
    if param is None:
        assert body == {"detail": "Invalid page."}
    else:
        assert param in body and all(body[param]), body


def test_an_ordering_it_cannot_sort_by_names_the_fields_it_can(org, api):
    response = api(org.admin).get("/api/v1/targets/?ordering=-valeu")
    assert response.json() == {
        "ordering": [
            "Cannot sort by -valeu: use period_start, metric, value, updated_at, id, "
            "with `-` before a field for descending."
        ]
    }


@pytest.fixture
def snapshots(db):
    KpiSnapshotFactory.create_batch(501)


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("limit=1000000000", 50),  # not a parameter of this API: ignored, the default page
        ("period_start=notadate", 50),  # the filter is period_start_after / _before: ignored
        ("page_size=1000000000", 500),  # at most 500
        ("page_size=", 50),  # empty, as a filter left empty: the default
    ],
)
def test_page_sizes_stay_bounded_and_unknown_parameters_are_ignored(org, api, snapshots, query, size):
    response = api(org.admin).get("/api/v1/snapshots/?" + query)
    assert response.status_code == 200
    assert response.json()["count"] == KpiSnapshot.objects.count() == 501
    assert len(response.json()["results"]) == size

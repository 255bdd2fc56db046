"""Who may do what, endpoint by endpoint: one table, every role, every action.

Each resource has one row of Alice's (tests/api/conftest.py: `alices`) and a write policy:
- "rep": anyone signed in writes for the reps they see (activities, leads);
- "append": as "rep", but only creates: rows are history, never edited or deleted (forecasts);
- "manager": managers (their subtree) and admins (customers, opportunities, NPS, spend);
- "admin": admins only (teams, reps, stages);
- "read": nobody (snapshots).
Every resource but teams, reps, stages and snapshots also takes a batch (`bulk/`), as its creates.
"""

from dataclasses import dataclass, field

import pytest

from tests.api.conftest import ROLES


@dataclass(frozen=True)
class Resource:
    path: str
    row: str  # attribute of the `alices` fixture
    policy: str
    create: object  # (org, alices) → payload that names Alice's side of the org
    update: dict
    scope_field: str = ""  # the field a write outside the writer's view is refused on
    seen_by: tuple = ("rep", "manager", "admin")
    extra: dict = field(default_factory=dict)


RESOURCES = [
    Resource(
        "teams",
        "team",
        "admin",
        lambda org, a: {"name": "East South", "parent": org.east.pk},
        {"name": "Renamed"},
        seen_by=("manager", "admin"),
    ),
    Resource(
        "reps",
        "rep",
        "admin",
        lambda org, a: {"full_name": "Eve", "user": org.outsider.pk, "team": org.east.pk},
        {"full_name": "Renamed"},
        seen_by=("manager", "admin"),
    ),
    Resource(
        "stages",
        "stage",
        "admin",
        lambda org, a: {"name": "Negotiating", "order": 3, "probability": "0.600"},
        {"name": "Renamed"},
        seen_by=("rep", "other_rep", "manager", "other_manager", "admin"),
    ),
    Resource(
        "customers",
        "customer",
        "manager",
        lambda org, a: {"name": "Acme", "owner": org.alice.pk},
        {"name": "Renamed"},
        "owner",
    ),
    Resource(
        "opportunities",
        "opportunity",
        "manager",
        lambda org, a: {
            "rep": org.alice.pk,
            "stage": a.stage.pk,
            "amount": "10.00",
            "created_on": "2017-01-02",
        },
        {"name": "Renamed"},
        "rep",
    ),
    Resource(
        "nps-responses",
        "nps",
        "manager",
        lambda org, a: {"customer": a.customer.pk, "responded_on": "2017-01-02", "score": 7},
        {"comment": "Renamed"},
        "customer",
    ),
    Resource(
        "spend",
        "spend",
        "manager",
        lambda org, a: {"rep": org.alice.pk, "spent_on": "2017-01-02", "amount": "5.00"},
        {"channel": "Renamed"},
        "rep",
    ),
    Resource(
        "activities",
        "activity",
        "rep",
        lambda org, a: {"rep": org.alice.pk, "kind": "email", "occurred_at": "2017-01-02T10:00:00Z"},
        {"subject": "Renamed"},
        "rep",
    ),
    Resource(
        "leads",
        "lead",
        "rep",
        lambda org, a: {"name": "Prospect", "rep": org.alice.pk, "created_on": "2017-01-02"},
        {"name": "Renamed"},
        "rep",
    ),
    Resource(
        "forecasts",
        "forecast",
        "append",
        lambda org, a: {
            "scope": "rep",
            "rep": org.alice.pk,
            "period_kind": "quarter",
            "period_start": "2030-04-01",
            "amount": "9000.00",
        },
        {"amount": "2000.00"},
        "rep",
    ),
    Resource("snapshots", "snapshot", "read", lambda org, a: {}, {"value": "1"}),
]

# Expected status by policy and action, for the roles in ROLES' order:
#                 anonymous  rep  other_rep  manager  other_manager  admin
WRITES = {
    "rep": {
        "create": (401, 201, 400, 201, 400, 201),
        "update": (401, 200, 404, 200, 404, 200),
        "delete": (401, 204, 404, 204, 404, 204),
    },
    "manager": {
        "create": (401, 403, 403, 201, 400, 201),
        "update": (401, 403, 403, 200, 404, 200),
        "delete": (401, 403, 403, 204, 404, 204),
    },
    "admin": {
        "create": (401, 403, 403, 403, 403, 201),
        "update": (401, 403, 403, 403, 403, 200),
        "delete": (401, 403, 403, 403, 403, 204),
    },
    "append": {
        "create": (401, 201, 400, 201, 400, 201),
        "update": (401, 405, 405, 405, 405, 405),
        "delete": (401, 405, 405, 405, 405, 405),
    },
    "read": {
        "create": (401, 405, 405, 405, 405, 405),
        "update": (401, 405, 405, 405, 405, 405),
        "delete": (401, 405, 405, 405, 405, 405),
    },
}

# A batch (POST …/bulk/) of one new row of Alice's side: whoever may create one row may post a
# batch; a row naming what the writer may not use is that row's error (400), naming the field.
BULK = {
    "rep": (401, 200, 400, 200, 400, 200),
    "manager": (401, 403, 403, 200, 400, 200),
    "append": (401, 200, 400, 200, 400, 200),
}
BULK_RESOURCES = [r for r in RESOURCES if r.policy in BULK]

CASES = pytest.mark.parametrize("resource", RESOURCES, ids=[r.path for r in RESOURCES])
EVERY_ROLE = pytest.mark.parametrize("role", ROLES)


def expected_read(resource, role):
    if role == "anonymous":
        return 401
    return 200 if role in resource.seen_by else 404


def expected_write(resource, action, role):
    return WRITES[resource.policy][action][ROLES.index(role)]


@CASES
@EVERY_ROLE
def test_list_shows_the_row_only_to_those_who_may_see_it(resource, role, alices, client_as):
    response = client_as(role).get(f"/api/v1/{resource.path}/", {"page_size": 500})

    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert (getattr(alices, resource.row).pk in ids) == (role in resource.seen_by)


@CASES
@EVERY_ROLE
def test_detail_is_a_404_for_those_who_may_not_see_it(resource, role, alices, client_as):
    row = getattr(alices, resource.row)

    response = client_as(role).get(f"/api/v1/{resource.path}/{row.pk}/")

    assert response.status_code == expected_read(resource, role)


@CASES
@EVERY_ROLE
def test_create(resource, role, org, alices, client_as):
    model = type(getattr(alices, resource.row))
    before = model.objects.count()

    response = client_as(role).post(f"/api/v1/{resource.path}/", resource.create(org, alices), format="json")

    expected = expected_write(resource, "create", role)
    assert response.status_code == expected, response.content
    assert model.objects.count() == before + (expected == 201)
    if expected == 400:
        assert resource.scope_field in response.json()


@CASES
@EVERY_ROLE
def test_update(resource, role, alices, client_as):
    row = getattr(alices, resource.row)
    [(name, value)] = resource.update.items()

    response = client_as(role).patch(f"/api/v1/{resource.path}/{row.pk}/", resource.update, format="json")

    expected = expected_write(resource, "update", role)
    assert response.status_code == expected, response.content
    row.refresh_from_db()
    assert (str(getattr(row, name)) == value) == (expected == 200)


@CASES
@EVERY_ROLE
def test_delete(resource, role, alices, client_as):
    row = getattr(alices, resource.row)

    response = client_as(role).delete(f"/api/v1/{resource.path}/{row.pk}/")

    expected = expected_write(resource, "delete", role)
    assert response.status_code == expected, response.content
    assert type(row).objects.filter(pk=row.pk).exists() == (expected != 204)


@pytest.mark.parametrize("resource", BULK_RESOURCES, ids=[r.path for r in BULK_RESOURCES])
@EVERY_ROLE
def test_bulk_create(resource, role, org, alices, client_as):
    model = type(getattr(alices, resource.row))
    before = model.objects.count()
    row = {**resource.create(org, alices), "external_id": "X-1"}

    response = client_as(role).post(f"/api/v1/{resource.path}/bulk/", [row], format="json")

    expected = BULK[resource.policy][ROLES.index(role)]
    assert response.status_code == expected, response.content
    assert model.objects.count() == before + (expected == 200)
    if expected == 400:
        assert [e["field"] for e in response.json()["errors"]] == [resource.scope_field]

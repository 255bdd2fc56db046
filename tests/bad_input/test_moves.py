"""Bad moves through the API: a 400 naming the field at fault, and no membership, placement,
rep or team changed. The rules are teams.history's; these pin how each reaches the caller."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from teams.models import Membership, Placement, Rep, Team

from .helpers import assert_unchanged

pytestmark = pytest.mark.django_db

MARCH_15 = dt.date(2017, 3, 15)


def tomorrow() -> str:
    return str(timezone.localdate() + dt.timedelta(days=1))


def next_month() -> str:
    return str((timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=1))


@pytest.fixture
def admin_api(org):
    client = APIClient()
    client.force_authenticate(org.admin)
    return client


@pytest.fixture
def alice_in_west_since_march(org):
    """Alice moved from East to West on 2017-03-15: her current membership starts then."""
    org.alice.team = org.west
    org.alice.save(effective=MARCH_15)
    return org.alice


# (case, body with "{east}" / "{west}" for team ids, field the 400 names)
BAD_REP_MOVES = [
    ("an unreadable date", {"team": "{east}", "effective": "2017-02-30"}, "effective"),
    ("a date that is no date", {"team": "{east}", "effective": "yesterday"}, "effective"),
    ("a date before 2000", {"team": "{east}", "effective": "1999-12-31"}, "effective"),
    ("a date in the future", {"team": "{east}", "effective": "{tomorrow}"}, "effective"),
    (
        "a date before the current membership began",
        {"team": "{east}", "effective": "2017-03-14"},
        "effective",
    ),
    ("a date without a team", {"effective": "2017-04-01"}, "effective"),
    ("a date with the rep's own team", {"team": "{west}", "effective": "2017-04-01"}, "effective"),
    ("a team that does not exist", {"team": 2**31 - 1, "effective": "2017-04-01"}, "team"),
    ("a team id that is no id", {"team": "East", "effective": "2017-04-01"}, "team"),
]


def filled(body: dict, org) -> dict:
    values = {
        "{east}": org.east.pk,
        "{west}": org.west.pk,
        "{tomorrow}": tomorrow(),
        "{next_month}": next_month(),
    }
    return {key: values.get(value, value) if isinstance(value, str) else value for key, value in body.items()}


@pytest.mark.parametrize("case, body, field", BAD_REP_MOVES, ids=[case for case, *_ in BAD_REP_MOVES])
def test_a_bad_move_of_a_rep_is_a_400_naming_the_field_and_moves_nobody(
    org, admin_api, alice_in_west_since_march, case, body, field
):
    with assert_unchanged(Membership, Rep):
        response = admin_api.patch(f"/api/v1/reps/{org.alice.pk}/", filled(body, org), format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert Rep.objects.get(pk=org.alice.pk).team == org.west


def test_a_date_for_a_new_rep_is_refused_as_no_move(org, admin_api):
    body = {"full_name": "Eve", "user": org.outsider.pk, "team": org.east.pk, "effective": "2017-04-01"}

    with assert_unchanged(Membership, Rep):
        response = admin_api.post("/api/v1/reps/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"effective": ["effective applies to a change of team."]}


BAD_TEAM_MOVES = [
    ("a day that is not the first of a month", {"parent": "{west}", "effective": "2017-04-02"}, "effective"),
    ("an unreadable date", {"parent": "{west}", "effective": "2017-13-01"}, "effective"),
    ("a month before 2000", {"parent": "{west}", "effective": "1999-12-01"}, "effective"),
    ("a month in the future", {"parent": "{west}", "effective": "{next_month}"}, "effective"),
    ("a date without a parent", {"effective": "2017-04-01"}, "effective"),
    ("a team under itself", {"parent": "{east}", "effective": "2017-04-01"}, "parent"),
    ("a parent that does not exist", {"parent": 2**31 - 1, "effective": "2017-04-01"}, "parent"),
]


@pytest.mark.parametrize("case, body, field", BAD_TEAM_MOVES, ids=[case for case, *_ in BAD_TEAM_MOVES])
def test_a_bad_move_of_a_team_is_a_400_naming_the_field_and_moves_nothing(org, admin_api, case, body, field):
    with assert_unchanged(Placement, Team):
        response = admin_api.patch(f"/api/v1/teams/{org.east.pk}/", filled(body, org), format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]


def test_a_team_cannot_move_before_its_current_placement_began(org, admin_api):
    org.east.parent = org.west
    org.east.save(effective=dt.date(2017, 4, 1))
    body = {"parent": org.region.pk, "effective": "2017-03-01"}

    with assert_unchanged(Placement, Team):
        response = admin_api.patch(f"/api/v1/teams/{org.east.pk}/", body, format="json")

    assert response.status_code == 400
    assert "2017-04-01" in response.json()["effective"][0]

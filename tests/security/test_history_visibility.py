"""A rep's membership history is seen by whoever sees the rep, and no further: a rep sees only
their own, and a past team's name only by those who see that team (a manager who took a rep over
learns where the rep came from by id, not the name of a team they do not see)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

MARCH = dt.date(2017, 3, 1)


@pytest.fixture
def carol_moved_east(org):
    """Carol was in West until 2017-03-01, then in East (Alice's manager's team)."""
    org.carol.team = org.east
    org.carol.save(effective=MARCH)
    org.west.name = "Westreach"
    org.west.save()
    return org.carol


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_rep_sees_their_own_history_and_nobody_elses(org, carol_moved_east):
    client = client_for(carol_moved_east.user)

    listed = client.get("/api/v1/reps/").json()["results"]

    assert [rep["full_name"] for rep in listed] == ["Carol"]
    assert listed[0]["memberships"] == [
        {"team": org.west.pk, "team_name": None, "since": None, "until": "2017-03-01"},
        {"team": org.east.pk, "team_name": "East", "since": "2017-03-01", "until": None},
    ]
    assert client.get(f"/api/v1/reps/{org.alice.pk}/").status_code == 404


def test_a_manager_sees_where_a_rep_came_from_by_id_but_not_a_team_they_do_not_see(org, carol_moved_east):
    response = client_for(org.east_manager).get(f"/api/v1/reps/{carol_moved_east.pk}/")

    assert response.status_code == 200
    assert [(m["team"], m["team_name"]) for m in response.json()["memberships"]] == [
        (org.west.pk, None),
        (org.east.pk, "East"),
    ]
    assert "Westreach" not in response.content.decode()


def test_the_manager_a_rep_left_no_longer_sees_the_rep_or_their_history(org, carol_moved_east):
    client = client_for(org.west_manager)

    assert client.get(f"/api/v1/reps/{carol_moved_east.pk}/").status_code == 404
    assert "Carol" not in client.get("/api/v1/reps/").content.decode()


def test_an_admin_sees_every_team_name_in_a_history(org, carol_moved_east):
    response = client_for(org.admin).get(f"/api/v1/reps/{carol_moved_east.pk}/")

    assert [m["team_name"] for m in response.json()["memberships"]] == ["Westreach", "East"]


def test_a_manager_sees_a_teams_placements_by_parent_id_only(org):
    org.east.parent = None
    org.east.save(effective=MARCH)
    org.region.name = "Regnum Holdings"
    org.region.save()

    response = client_for(org.east_manager).get(f"/api/v1/teams/{org.east.pk}/")

    assert response.json()["placements"] == [
        {"parent": org.region.pk, "since": None, "until": "2017-03-01"},
        {"parent": None, "since": "2017-03-01", "until": None},
    ]
    assert "Regnum" not in response.content.decode()

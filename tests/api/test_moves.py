"""Moves through the API: a rep's team and a team's parent change from a date (teams.history),
and each reads back its history. Only admins write reps and teams; a manager reads them."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from teams.models import Membership, Placement, Team
from tests.factories import RepFactory, TeamFactory


def today() -> dt.date:
    return timezone.localdate()


def history(rep) -> list[tuple[str, dt.date | None, dt.date | None]]:
    return [(m.team.name, m.since, m.until) for m in Membership.objects.filter(rep=rep).order_by("until")]


def test_a_new_team_alone_moves_the_rep_from_today(org, client_as):
    response = client_as("admin").patch(f"/api/v1/reps/{org.alice.pk}/", {"team": org.west.pk}, format="json")

    assert response.status_code == 200, response.content
    assert history(org.alice) == [("East", None, today()), ("West", today(), None)]
    assert response.json()["memberships"] == [
        {"team": org.east.pk, "team_name": "East", "since": None, "until": str(today())},
        {"team": org.west.pk, "team_name": "West", "since": str(today()), "until": None},
    ]
    assert Membership.objects.get(rep=org.alice, until=None).recorded_by == org.admin


def test_a_new_team_with_an_effective_date_moves_the_rep_from_that_day(org, client_as):
    body = {"team": org.west.pk, "effective": "2017-03-15"}

    response = client_as("admin").patch(f"/api/v1/reps/{org.alice.pk}/", body, format="json")

    assert response.status_code == 200, response.content
    assert "effective" not in response.json()  # write-only
    org.alice.refresh_from_db()
    assert org.alice.team == org.west
    assert history(org.alice) == [("East", None, dt.date(2017, 3, 15)), ("West", dt.date(2017, 3, 15), None)]


def test_a_second_move_on_the_day_of_the_first_corrects_it(org, client_as):
    client = client_as("admin")
    client.patch(
        f"/api/v1/reps/{org.alice.pk}/", {"team": org.west.pk, "effective": "2017-03-15"}, format="json"
    )

    response = client.patch(
        f"/api/v1/reps/{org.alice.pk}/", {"team": org.region.pk, "effective": "2017-03-15"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert history(org.alice) == [
        ("East", None, dt.date(2017, 3, 15)),
        ("Region", dt.date(2017, 3, 15), None),
    ]


def test_renaming_a_rep_records_no_move(org, client_as):
    response = client_as("admin").patch(
        f"/api/v1/reps/{org.alice.pk}/", {"full_name": "Alicia"}, format="json"
    )

    assert response.status_code == 200
    assert history(org.alice) == [("East", None, None)]


def test_a_rep_created_through_the_api_is_in_their_team_from_the_start(org, client_as):
    body = {"full_name": "Eve", "user": org.outsider.pk, "team": org.west.pk}

    response = client_as("admin").post("/api/v1/reps/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["memberships"] == [
        {"team": org.west.pk, "team_name": "West", "since": None, "until": None}
    ]


@pytest.mark.parametrize("role", ["rep", "manager", "other_manager"])
def test_only_an_admin_moves_a_rep(org, client_as, role):
    body = {"team": org.west.pk, "effective": "2017-03-15"}

    response = client_as(role).patch(f"/api/v1/reps/{org.alice.pk}/", body, format="json")

    assert response.status_code == 403
    assert history(org.alice) == [("East", None, None)]


# --- teams


def placements(team) -> list[tuple[str | None, dt.date | None, dt.date | None]]:
    return [
        (p.parent.name if p.parent else None, p.since, p.until)
        for p in Placement.objects.filter(team=team).order_by("until")
    ]


def test_a_new_parent_places_the_team_from_the_first_of_the_given_month(org, client_as):
    body = {"parent": org.west.pk, "effective": "2017-04-01"}

    response = client_as("admin").patch(f"/api/v1/teams/{org.east.pk}/", body, format="json")

    assert response.status_code == 200, response.content
    april = dt.date(2017, 4, 1)
    assert placements(org.east) == [("Region", None, april), ("West", april, None)]
    assert response.json()["placements"] == [
        {"parent": org.region.pk, "since": None, "until": "2017-04-01"},
        {"parent": org.west.pk, "since": "2017-04-01", "until": None},
    ]


def test_a_new_parent_alone_places_the_team_from_this_month(org, client_as):
    response = client_as("admin").patch(f"/api/v1/teams/{org.east.pk}/", {"parent": None}, format="json")

    assert response.status_code == 200, response.content
    month = today().replace(day=1)
    assert placements(org.east) == [("Region", None, month), (None, month, None)]


def test_a_move_that_makes_a_cycle_at_a_past_date_is_refused(org, client_as):
    """A sat under B from 2017 until this month; B cannot go under A from 2018: A was under B then."""
    client = client_as("admin")
    a, b = TeamFactory(name="A"), TeamFactory(name="B")
    for body in ({"parent": b.pk, "effective": "2017-01-01"}, {"parent": None}):
        assert client.patch(f"/api/v1/teams/{a.pk}/", body, format="json").status_code == 200
    before = placements(b)

    response = client.patch(
        f"/api/v1/teams/{b.pk}/", {"parent": a.pk, "effective": "2018-01-01"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["parent"]
    assert placements(b) == before == [(None, None, None)]
    assert Team.objects.get(pk=b.pk).parent is None
    # From this month on, A is no longer under B: B may go under A.
    assert client.patch(f"/api/v1/teams/{b.pk}/", {"parent": a.pk}, format="json").status_code == 200


def test_only_an_admin_moves_a_team(org, client_as):
    response = client_as("manager").patch(f"/api/v1/teams/{org.east.pk}/", {"parent": None}, format="json")

    assert response.status_code == 403
    assert placements(org.east) == [("Region", None, None)]


# --- reading history: the same queries for any number of rows, and moves


def moved_reps(org, n):
    for _ in range(n):
        rep = RepFactory(team=org.east)
        rep.team = org.west
        rep.save(effective=dt.date(2017, 3, 1))
        rep.team = org.east
        rep.save(effective=dt.date(2017, 6, 1))


def queries_for(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_listing_reps_with_their_moves_costs_the_same_queries_for_3_or_30(org, client_as, role):
    client = client_as(role)
    moved_reps(org, 3)
    few, count_few = queries_for(client, "/api/v1/reps/?page_size=100")
    moved_reps(org, 27)
    many, count_many = queries_for(client, "/api/v1/reps/?page_size=100")

    assert count_many - count_few == 27
    assert many == few


def test_listing_teams_with_their_placements_costs_the_same_queries_for_3_or_30(org, client_as):
    client = client_as("admin")

    def add(n):
        for _ in range(n):
            team = TeamFactory(parent=org.east)
            team.parent = org.west
            team.save(effective=dt.date(2017, 3, 1))

    add(3)
    few, count_few = queries_for(client, "/api/v1/teams/?page_size=100")
    add(27)
    many, count_many = queries_for(client, "/api/v1/teams/?page_size=100")

    assert count_many - count_few == 27
    assert many == few

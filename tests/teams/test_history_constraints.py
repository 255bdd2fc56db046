"""PostgreSQL keeps the history's rules for every writer, bulk loads and raw SQL included: a
rep's (team's) rows neither overlap nor leave a gap, a team is placed from a month's first day,
and no team sits below itself on any day. (teams.history, the one writer, keeps them on SQLite.)"""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from teams.models import Membership, Placement
from tests.factories import RepFactory, TeamFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's constraints"),
]
MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)


def checked():
    """The deferred checks, now (a test's transaction never commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_two_memberships_of_a_rep_may_not_overlap(org):
    org.alice.team = org.west
    org.alice.save(effective=APRIL)  # East until March's end, West from April
    with pytest.raises(IntegrityError, match="membership_no_overlap"), transaction.atomic():
        Membership.objects.bulk_create([Membership(rep=org.alice, team=org.region, since=MARCH, until=APRIL)])


def test_a_gap_in_a_reps_memberships_is_refused(org):
    with pytest.raises(IntegrityError, match="must tile time"), transaction.atomic():
        Membership.objects.filter(rep=org.alice).update(until=MARCH)
        Membership.objects.bulk_create([Membership(rep=org.alice, team=org.west, since=APRIL)])
        checked()


def test_a_move_written_as_two_rows_that_meet_is_accepted(org):
    with transaction.atomic():
        Membership.objects.filter(rep=org.alice).update(until=MARCH)
        Membership.objects.bulk_create([Membership(rep=org.alice, team=org.west, since=MARCH)])
        checked()
    assert Membership.objects.filter(rep=org.alice).count() == 2


def test_a_team_is_placed_from_the_first_day_of_a_month(org):
    with pytest.raises(IntegrityError, match="placement_from_a_month_start"), transaction.atomic():
        Placement.objects.filter(team=org.east).update(since=dt.date(2026, 4, 15))


def test_a_cycle_on_a_past_day_is_refused_by_the_database(org):
    """West sits under the region; putting the region under West from March makes a cycle."""
    with pytest.raises(IntegrityError, match="placement_no_cycle"), transaction.atomic():
        Placement.objects.filter(team=org.region).update(until=MARCH)
        Placement.objects.bulk_create([Placement(team=org.region, parent=org.west, since=MARCH)])
        checked()


def test_a_new_rep_and_team_start_with_one_open_row(db):
    team = TeamFactory()
    rep = RepFactory(team=team)
    assert list(rep.memberships.values_list("team", "since", "until")) == [(team.pk, None, None)]
    assert list(team.placements.values_list("parent", "since", "until")) == [(None, None, None)]

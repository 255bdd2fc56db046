"""The one visibility rule, on the `org` fixture: region → east (alice, bob), west (carol)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from teams.models import Rep, Team
from teams.visibility import can_see_company, is_admin, visible_team_ids
from tests.factories import RepFactory, TeamFactory

# One user of each role: a rep, a team manager, the region manager, an admin.
ROLES = pytest.mark.parametrize(
    "role",
    [lambda org: org.alice.user, lambda org: org.east_manager, lambda org: org.boss, lambda org: org.admin],
    ids=["rep", "team_manager", "region_manager", "admin"],
)


def reps(user):
    return set(Rep.objects.visible_to(user))


def teams(user):
    return set(Team.objects.visible_to(user))


def test_a_rep_sees_only_themself(org):
    assert reps(org.alice.user) == {org.alice}
    assert teams(org.alice.user) == set()
    assert not can_see_company(org.alice.user)


def test_a_team_manager_sees_their_team_and_not_the_other(org):
    assert reps(org.east_manager) == {org.alice, org.bob}
    assert teams(org.east_manager) == {org.east}
    assert reps(org.west_manager) == {org.carol}
    assert teams(org.west_manager) == {org.west}
    assert not can_see_company(org.east_manager)


def test_the_region_manager_sees_both_teams_and_every_rep(org):
    assert reps(org.boss) == {org.alice, org.bob, org.carol}
    assert teams(org.boss) == {org.region, org.east, org.west}


def test_a_manager_sees_the_whole_subtree_however_deep(org):
    north = TeamFactory(name="East North", parent=org.east)
    dave = RepFactory(full_name="Dave", team=north)

    assert dave in reps(org.boss)
    assert reps(org.east_manager) == {org.alice, org.bob, dave}
    assert teams(org.east_manager) == {org.east, north}
    assert dave not in reps(org.west_manager)


def test_a_rep_who_also_manages_a_team_sees_themself_and_that_team(org):
    org.west.manager = org.alice.user
    org.west.save()

    assert reps(org.alice.user) == {org.alice, org.carol}


def test_an_admin_sees_everything(org):
    assert reps(org.admin) == set(Rep.objects.all())
    assert teams(org.admin) == set(Team.objects.all())
    assert is_admin(org.admin)
    assert can_see_company(org.admin)


def test_an_outsider_sees_nothing(org):
    assert reps(org.outsider) == set()
    assert teams(org.outsider) == set()
    assert not is_admin(org.outsider)


@ROLES
def test_an_inactive_user_sees_nothing(org, role):
    user = role(org)
    user.is_active = False
    user.save()

    assert reps(user) == set()
    assert teams(user) == set()
    assert not can_see_company(user)


def test_an_anonymous_user_sees_nothing(org):
    anonymous = AnonymousUser()

    assert reps(anonymous) == set()
    assert visible_team_ids(anonymous) == set()
    assert not can_see_company(anonymous)


def count_queries(user):
    with CaptureQueriesContext(connection) as queries:
        list(Rep.objects.visible_to(user))
    return len(queries)


@ROLES
def test_visible_reps_runs_constant_queries_whatever_the_size_of_the_tree(org, role):
    user = role(org)
    with_3_reps = count_queries(user)
    # Three branches below east, each three teams deep, with three reps in every team.
    for _branch in range(3):
        parent = org.east
        for _depth in range(3):
            parent = TeamFactory(parent=parent)
            RepFactory.create_batch(3, team=parent)

    with_30_reps = count_queries(user)

    assert Rep.objects.count() == 30
    assert with_30_reps == with_3_reps


def test_clean_refuses_a_team_below_its_own_subtree(org):
    north = TeamFactory(name="East North", parent=org.east)
    org.region.parent = north

    with pytest.raises(ValidationError) as error:
        org.region.clean()

    assert "parent" in error.value.message_dict


def test_clean_refuses_a_team_as_its_own_parent(org):
    org.east.parent = org.east

    with pytest.raises(ValidationError):
        org.east.clean()


def test_clean_accepts_a_move_to_another_branch(org):
    org.east.parent = org.west

    org.east.clean()


def test_the_database_refuses_a_team_as_its_own_parent(org):
    org.east.parent = org.east

    with pytest.raises(IntegrityError), transaction.atomic():
        org.east.save()

"""A team's dashboard for a period lists the reps it was credited with in that period — former
members included, marked, and linked only where the viewer may still see them (DESIGN.md, "Who
gets the credit, and when": a manager sees every period of their teams, a rep's scorecard is the
rep's, their current manager's and the admins')."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from kpis import engine
from kpis.models import KpiSnapshot
from kpis.periods import Period
from targets.dashboard import period_members
from teams.history import Org
from teams.subjects import Scope
from tests.factories import RepFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

MOVE = dt.date(2017, 2, 10)  # Bob leaves East for West; his deals are on the 15th of each month


@pytest.fixture
def moved(sales):
    """`sales`, with Bob moved from East to West on 10 February 2017 (recorded later)."""
    sales.bob.team = sales.west
    sales.bob.save(effective=MOVE)
    engine.recompute_all()
    return sales


def dashboard(client, user, team, period):
    client.force_login(user)
    response = client.get(f"/dashboard/?team={team.pk}&period={period}")
    assert response.status_code == 200
    return response


def line_of(response, rep):
    return next((ln for ln in response.context["lines"] if ln.rep.pk == rep.pk), None)


def row_of(response, rep) -> str:
    """The reps table's row of `rep`, as HTML."""
    html = response.content.decode()
    rows = re.findall(r"<tr>\s*<th scope=\"row\" data-sort=\"([^\"]*)\">(.*?)</tr>", html, re.S)
    return next(row for name, row in rows if name == rep.full_name)


def test_a_former_member_is_listed_on_the_old_teams_past_period_marked_and_unlinked(client, moved):
    response = dashboard(client, moved.east_manager, moved.east, "2017-01")
    line = line_of(response, moved.bob)
    assert line is not None
    assert line.values["revenue_won"] == Decimal(1000)  # his own figure of the period
    row = row_of(response, moved.bob)
    assert "left on 10 Feb 2017" in row
    assert "West" not in row  # East's manager may not see West
    assert "count only their days" not in row  # in East for the whole of January
    assert f"/scorecard/{moved.bob.pk}/" not in response.content.decode()
    assert f"scope=rep&amp;subject={moved.bob.pk}&amp;" not in response.content.decode()  # nor drill-downs
    assert f"/scorecard/{moved.alice.pk}/" in response.content.decode()


def test_a_rep_who_left_during_the_period_is_noted_as_counted_for_their_days_only(client, moved):
    response = dashboard(client, moved.east_manager, moved.east, "2017-02")
    row = row_of(response, moved.bob)
    assert "left on 10 Feb 2017" in row
    assert "the team's figures count only their days in the team" in row
    # His own figure (his deal of the 15th, in West), while East's counts his days in East only.
    assert line_of(response, moved.bob).values["revenue_won"] == Decimal(1000)
    east = KpiSnapshot.objects.get(
        scope=Scope.TEAM,
        subject_id=moved.east.pk,
        metric="revenue_won",
        period_kind="month",
        period_start=dt.date(2017, 2, 1),
    )
    assert east.value == Decimal(2750)  # Alice's alone


def test_a_former_member_is_not_listed_for_periods_after_they_left(client, moved):
    for period in ["2017-03", "2017-Q2"]:
        assert line_of(dashboard(client, moved.east_manager, moved.east, period), moved.bob) is None


def test_a_new_member_is_listed_from_the_period_they_joined_marked(client, moved):
    response = dashboard(client, moved.west_manager, moved.west, "2017-02")
    row = row_of(response, moved.bob)
    assert "joined 10 Feb 2017" in row
    assert "count only their days" in row
    assert f"/scorecard/{moved.bob.pk}/?period=2017-02" in row  # West's manager sees him now
    assert line_of(dashboard(client, moved.west_manager, moved.west, "2017-01"), moved.bob) is None
    march = dashboard(client, moved.west_manager, moved.west, "2017-03")
    assert "joined" not in row_of(march, moved.bob) and "left" not in row_of(march, moved.bob)


def test_the_team_column_says_where_the_rep_was_in_the_period(client, moved):
    january = dashboard(client, moved.boss, moved.region, "2017-01")
    assert line_of(january, moved.bob).team_name == "East"
    march = dashboard(client, moved.boss, moved.region, "2017-03")
    assert line_of(march, moved.bob).team_name == "West"


def test_a_move_inside_the_viewers_region_is_no_leaving(client, moved):
    row = row_of(dashboard(client, moved.boss, moved.region, "2017-02"), moved.bob)
    assert "left" not in row and "joined" not in row and "count only" not in row


def test_a_viewer_who_sees_the_new_team_is_told_where_the_rep_went(client, moved):
    response = dashboard(client, moved.admin, moved.east, "2017-01")
    row = row_of(response, moved.bob)
    assert "moved to West on 10 Feb 2017" in row
    assert f"/scorecard/{moved.bob.pk}/" in row


def test_a_manager_of_an_unrelated_team_sees_neither_the_former_nor_the_new_member(client, moved):
    north_manager = UserFactory(username="north_manager")
    north = TeamFactory(name="North", manager=north_manager)
    RepFactory(full_name="Nina", team=north)
    for period in ["2017-01", "2017-02", "2017-03", "2017"]:
        response = dashboard(client, north_manager, north, period)
        assert [ln.rep.full_name for ln in response.context["lines"]] == ["Nina"]
        assert "Bob" not in response.content.decode()
    client.force_login(north_manager)
    assert client.get(f"/dashboard/?team={moved.east.pk}&period=2017-01").status_code == 404


def test_the_former_members_scorecard_stays_closed_to_the_old_manager(client, moved):
    client.force_login(moved.east_manager)
    assert client.get(f"/scorecard/{moved.bob.pk}/?period=2017-01").status_code == 404
    url = f"/drill/?scope=rep&subject={moved.bob.pk}&metric=revenue_won&period=2017-01"
    assert client.get(url).status_code == 404
    client.force_login(moved.west_manager)
    assert client.get(f"/scorecard/{moved.bob.pk}/?period=2017-01").status_code == 200


def test_period_members_follow_the_stints(moved):
    org = Org.load()
    east_q1 = period_members(org, moved.east.pk, Period.parse("2017-Q1"))
    assert set(east_q1) == {moved.alice.pk, moved.bob.pk}
    bob = east_q1[moved.bob.pk]
    assert (bob.team_id, bob.joined, bob.left, bob.moved_to, bob.partial) == (
        moved.east.pk,
        None,
        MOVE,
        moved.west.pk,
        True,
    )
    assert not east_q1[moved.alice.pk].partial and east_q1[moved.alice.pk].left is None
    assert set(period_members(org, moved.west.pk, Period.parse("2016-Q4"))) == {moved.carol.pk}
    region = period_members(org, moved.region.pk, Period.parse("2017-Q1"))
    assert region[moved.bob.pk].left is None and not region[moved.bob.pk].partial
    assert region[moved.bob.pk].team_id == moved.west.pk

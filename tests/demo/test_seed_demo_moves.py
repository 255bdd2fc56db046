"""seed_demo's dated moves: reps who changed team mid-month and a team placed under another region
from a quarter's first day, recorded as history rows, the same for the same seed."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone

from demo import services
from demo.moves import Moves
from teams.models import Rep, Team, User

from .test_seed_demo import activity_digest, opportunity_digest, seed

pytestmark = pytest.mark.django_db

MOVED = re.compile(r"^Moved: (.+) from (.+) to (.+) on (\d{4}-\d\d-\d\d)$", re.MULTILINE)


def printed_moves(output: str) -> tuple[list, list]:
    """The printed moves: (reps', teams'), each (name, from, to, on)."""
    found = [(who, b, a, dt.date.fromisoformat(on)) for who, b, a, on in MOVED.findall(output)]
    reps = set(Rep.objects.values_list("full_name", flat=True))
    return [m for m in found if m[0] in reps], [m for m in found if m[0] not in reps]


def window() -> tuple[dt.date, dt.date]:
    """The first day of the small seed's six months, and of this month, the last of them."""
    this_month = timezone.localdate().replace(day=1)
    return (this_month - dt.timedelta(days=5 * 31)).replace(day=1), this_month


def test_reps_move_mid_month_in_the_past_and_have_two_memberships():
    reps, _ = printed_moves(seed())

    assert 2 <= len(reps) <= 3
    first, this_month = window()
    for name, before, after, on in reps:
        rep = Rep.objects.get(full_name=name)
        rows = list(rep.memberships.select_related("team"))
        assert [(r.team.name, r.since, r.until) for r in rows] == [(before, None, on), (after, on, None)]
        assert rep.team == rows[-1].team
        assert on.day != 1
        assert first < on < this_month


def test_one_rep_moves_to_another_region_and_one_within_a_region():
    reps, _ = printed_moves(seed())

    regions = [(Team.objects.get(name=b).parent, Team.objects.get(name=a).parent) for _, b, a, _ in reps]
    assert any(before != after for before, after in regions)
    assert any(before == after for before, after in regions)


def test_a_team_moves_to_another_region_at_a_quarter_start_and_has_two_placements():
    _, teams = printed_moves(seed())

    assert len(teams) == 1
    name, before, after, on = teams[0]
    team = Team.objects.get(name=name)
    rows = list(team.placements.select_related("parent"))
    assert [(r.parent.name, r.since, r.until) for r in rows] == [(before, None, on), (after, on, None)]
    assert team.parent == rows[-1].parent
    assert on.day == 1 and (on.month - settings.FISCAL_YEAR_START_MONTH) % 3 == 0
    first, this_month = window()
    assert first < on < this_month


def test_the_demo_logins_keep_what_they_see():
    seed()
    manager, rep = User.objects.get(username="manager"), Rep.objects.get(user__username="rep")
    region = manager.managed_teams.get()

    assert rep.memberships.count() == 1
    assert rep.team.parent == region
    # Every team first placed in the manager's region is still in it.
    first_placed = Team.objects.filter(placements__since=None, placements__parent=region)
    assert set(first_placed) <= set(region.children.all())


def test_the_same_seed_makes_the_same_moves():
    first = seed()
    assert printed_moves(first)[0]

    assert MOVED.findall(seed("--flush")) == MOVED.findall(first)


def test_the_moves_leave_the_facts_as_they_were(monkeypatch):
    seed()
    moved = opportunity_digest(), activity_digest()

    monkeypatch.setattr(services, "moves_plan", lambda **kwargs: Moves([], []))
    output = seed("--flush")

    assert not MOVED.search(output)
    assert (opportunity_digest(), activity_digest()) == moved


def test_a_window_with_no_past_month_but_its_first_makes_no_moves():
    output = seed("--flush", "--months", "2")

    assert not MOVED.search(output)

"""A few dated moves, so that the pages show history out of the box.

Reps change team on a mid-month day — one into the `manager`'s region from another, one
within it, and where there is room one within another region — and a team is placed under
another region from a quarter's first day. All in the past and inside the demo's window, chosen
from the seed before any fact is built (the facts do not depend on them) and recorded through
`Rep.save` / `Team.save`, the one write path for history, before the caller's recompute.

The `rep` login (rep 0) never moves, and no team leaves the `manager`'s region: both logins
keep seeing what they saw before.
"""

import datetime as dt
from dataclasses import dataclass

from teams.models import Rep, Team

from .shape import Window

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Move:
    who: Rep | Team
    before: Team
    after: Team
    on: dt.date

    def __str__(self) -> str:
        return f"Moved: {self.who} from {self.before} to {self.after} on {self.on}"


@dataclass(frozen=True)
class Stint:
    """A rep in `team` from `since` (None: before the window) to the day before `until` (None: still)."""

    team: Team
    since: dt.date | None
    until: dt.date | None

    def share(self, window: Window, i: int) -> float:
        """The share of window month i's days spent in this stint."""
        first, after = window.start(i), window.start(i + 1)
        lo, hi = max(first, self.since or first), min(after, self.until or after)
        return max((hi - lo).days, 0) / (after - first).days

    def holds(self, day: dt.date) -> bool:
        return (self.since is None or self.since <= day) and (self.until is None or day < self.until)


@dataclass(frozen=True)
class Moves:
    reps: list[Move]
    teams: list[Move]

    def __iter__(self):
        return iter(sorted([*self.reps, *self.teams], key=lambda move: move.on))

    def stints(self, rep: Rep) -> list[Stint]:
        """The teams `rep` is in through the window, oldest first (read before the moves are recorded)."""
        for move in self.reps:
            if move.who.pk == rep.pk:
                return [Stint(move.before, None, move.on), Stint(move.after, move.on, None)]
        return [Stint(rep.team, None, None)]

    def region_of(self, team: Team, day: dt.date) -> Team:
        for move in self.teams:
            if move.who.pk == team.pk:
                return move.before if day < move.on else move.after
        return team.parent


def moves_plan(*, rng, regions: list[Team], teams: list[Team], movable: list[Rep], window: Window) -> Moves:
    """Which moves the demo makes, and when: none where the window has no past month but its first.
    `movable`: the reps that may move (there from the window's start; not the `rep` login)."""
    months = range(max(1, window.current - 12), window.current)  # past months of the last year
    if not months:
        return Moves([], [])
    home = regions[0]
    in_region = {region.pk: [t for t in teams if t.parent_id == region.pk] for region in regions}
    members = {team.pk: [r for r in movable if r.team_id == team.pk] for team in teams}

    def mid_month() -> dt.date:
        return window.start(rng.choice(months)) + rng.randint(9, 19) * DAY

    found: list[Move] = []

    def move(candidates: list[Rep], to: list[Team]) -> None:
        candidates = [r for r in candidates if all(m.who != r for m in found)]
        if candidates:
            rep = rng.choice(candidates)
            after = rng.choice([t for t in to if t.pk != rep.team_id])
            found.append(Move(rep, rep.team, after, mid_month()))

    abroad = [t for region in regions[1:] for t in in_region[region.pk]]
    move([r for t in abroad for r in members[t.pk]], in_region[home.pk])
    for region in regions:  # within the manager's region, then within one other
        if len(in_region[region.pk]) > 1 and len(found) < 3:
            move([r for t in in_region[region.pk] for r in members[t.pk]], in_region[region.pk])
    quarters = [i for i in months if window.is_quarter_start(i)]
    # A team of its own, where there are enough: a move within a region stays one.
    untouched = [t for t in abroad if all(t not in (m.before, m.after) for m in found)]
    staffed = [t for t in untouched if members[t.pk]] or untouched or abroad
    if not quarters or not staffed:
        return Moves(found, [])
    team = rng.choice(staffed)
    after = rng.choice([r for r in regions if r.pk != team.parent_id])
    return Moves(found, [Move(team, team.parent, after, window.start(rng.choice(quarters)))])


def moves_record(moves: Moves) -> None:
    """Record the moves as any script would: set the team or parent, save with the date."""
    for move in moves.reps:
        move.who.team = move.after
        move.who.save(effective=move.on)
    for move in moves.teams:
        move.who.parent = move.after
        move.who.save(effective=move.on)

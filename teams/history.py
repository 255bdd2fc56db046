"""The organisation through time: which team a rep was in, and where a team sat, on any day.

History is data (DESIGN.md, "Who gets the credit, and when"): a rep's `Membership` rows and a
team's `Placement` rows tile time, each valid from `since` (None: the beginning) to the day before
`until` (None: still). `Rep.team` and `Team.parent` are the open rows' values, for the pages and
the visibility rule; they change only together with the rows, here:

- `membership_follow` / `placement_follow`, called by `Rep.save` / `Team.save`, so that admin,
  API, import and scripts all record a dated move by saving the record;
- `Org.load()`: the whole history in two queries, asked "the tree as of a day" (`tree_at`) and,
  for the engine, "the stints of a rep or team" — the spans in which everything it is credited
  to stays the same.

Rules (docs/architecture.md, "History"): a move is dated at the latest today — the
organisation of the future is not recorded ahead — and not before EARLIEST; it starts after the
current membership does (an earlier date would rewrite later moves: correct those first), and on
the same day it corrects the current one. A team is placed from the first day of a month, and no
month may have a cycle.
"""

import bisect
import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from .models import Membership, Placement, Rep, Team
from .subjects import COMPANY, Scope, Subject
from .tree import TeamTree

EARLIEST = dt.date(2000, 1, 1)
OPEN_LAST = F("until").asc(nulls_last=True)  # rows tile time: by until is by since, open row last


def _today() -> dt.date:
    return timezone.localdate()


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


# --- writing --------------------------------------------------------------------------------


def move_errors(*, open_since: dt.date | None, effective: dt.date, field: str = "effective") -> dict:
    """What is wrong with a move (or a placement) from `effective`, after a row open since
    `open_since`: {} when nothing."""
    if effective > _today():
        return {field: f"A move takes effect at the latest today ({_today()}); record it when it happens."}
    if effective < EARLIEST:
        return {field: f"A move cannot be dated before {EARLIEST}."}
    if open_since is not None and effective < open_since:
        return {
            field: f"The current assignment started on {open_since}: a move must be dated on or after it "
            "(correct the later history first)."
        }
    return {}


def membership_follow(rep: Rep, effective: dt.date | None = None, by=None) -> None:
    """Make `rep`'s memberships end in `rep.team`: a first one for a new rep, a move from
    `effective` (default today) for a rep whose team changed. Raises ValidationError."""
    rows = list(Membership.objects.select_for_update().filter(rep=rep).order_by(OPEN_LAST))
    current = rows[-1] if rows else None
    if current is None:
        Membership.objects.create(rep=rep, team_id=rep.team_id, recorded_by=by)
        return
    if current.team_id == rep.team_id:
        return
    effective = effective or _today()
    if errors := move_errors(open_since=current.since, effective=effective):
        raise ValidationError(errors)
    _move(Membership, rows, current, effective, {"team_id": rep.team_id}, by, rep=rep)


def placement_follow(team: Team, effective: dt.date | None = None, by=None) -> None:
    """Make `team`'s placements end under `team.parent`, from the first day of `effective`'s
    month (default: this month). Raises ValidationError for a cycle at any date from then on."""
    rows = list(Placement.objects.select_for_update().filter(team=team).order_by(OPEN_LAST))
    current = rows[-1] if rows else None
    if current is None:
        Placement.objects.create(team=team, parent_id=team.parent_id, recorded_by=by)
        return
    if current.parent_id == team.parent_id:
        return
    effective = effective or _month_start(_today())
    if errors := _placement_errors(team.pk, team.parent_id, current.since, effective):
        raise ValidationError(errors)
    _move(Placement, rows, current, effective, {"parent_id": team.parent_id}, by, team=team)


def _placement_errors(team: int, parent: int | None, open_since: dt.date | None, effective: dt.date) -> dict:
    if effective.day != 1:
        return {"effective": "A team moves from the first day of a month."}
    if errors := move_errors(open_since=open_since, effective=effective):
        return errors
    if parent is not None and Org.load().cycle_from(team, parent, effective):
        return {"parent": "A team cannot sit below itself, at any date."}
    return {}


# Before saving: forms and the API report these on their own fields, before anything is written
# (saving would raise the same as a ValidationError).


def membership_errors(rep: Rep, effective: dt.date | None = None) -> dict:
    """What is wrong with moving `rep` to another team from `effective` (default today)."""
    since = Membership.objects.filter(rep=rep, until__isnull=True).values_list("since", flat=True).first()
    return move_errors(open_since=since, effective=effective or _today())


def placement_errors(team: Team, parent_id: int | None, effective: dt.date | None = None) -> dict:
    """What is wrong with placing `team` under `parent_id` from `effective` (default this month)."""
    since = Placement.objects.filter(team=team, until__isnull=True).values_list("since", flat=True).first()
    return _placement_errors(team.pk, parent_id, since, effective or _month_start(_today()))


def _move(model, rows, current, effective, value: dict, by, **owner) -> None:
    """Close the open row on `effective` and open one with `value` from then — or, on the day
    the open row began, replace it (merged into the row before when that holds the same value).
    Rows are saved and deleted one by one, so that their signals say which teams changed when."""
    if current.since == effective:
        current.delete()
        previous = rows[-2] if len(rows) > 1 else None
        if previous is not None and all(getattr(previous, k) == v for k, v in value.items()):
            previous.until = None
            previous.save(update_fields=["until"])
            return
    else:
        current.until = effective
        current.save(update_fields=["until"])
    model.objects.create(**owner, **value, since=effective, recorded_by=by)


def memberships_start(reps) -> None:
    """The first memberships of reps created in bulk (bulk_create skips Rep.save)."""
    Membership.objects.bulk_create([Membership(rep_id=rep.pk, team_id=rep.team_id) for rep in reps])


def placements_start(teams) -> None:
    Placement.objects.bulk_create([Placement(team_id=team.pk, parent_id=team.parent_id) for team in teams])


# --- reading --------------------------------------------------------------------------------

Rows = dict[int, tuple[list, list, list]]  # owner id → (sinces, untils, values), by since


@dataclass(frozen=True)
class Stint:
    """A span of days in which a leaf is credited to the same subjects (`credits`: the rep or
    team itself, each team above it then, and the company)."""

    since: dt.date | None
    until: dt.date | None
    credits: tuple[Subject, ...]

    def covers(self, first: dt.date, last: dt.date) -> bool:
        return (self.since is None or self.since <= first) and (self.until is None or last < self.until)


def _rows(queryset, owner: str, value: str) -> Rows:
    found: Rows = {}
    for pk, since, until, v in queryset.order_by(owner, OPEN_LAST).values_list(
        owner, "since", "until", value
    ):
        sinces, untils, values = found.setdefault(pk, ([], [], []))
        sinces.append(since)
        untils.append(until)
        values.append(v)
    return found  # ordered by until, the open row (NULL) last: by since, as the rows tile time


def _at(rows: tuple[list, list, list], day: dt.date):
    sinces, _, values = rows
    i = bisect.bisect_right(sinces, day, lo=1) - 1 if len(sinces) > 1 else 0
    return values[max(i, 0)]


@dataclass(frozen=True)
class Org:
    memberships: Rows
    placements: Rows
    manager: dict[int, int | None]

    @classmethod
    def load(cls) -> "Org":
        return cls(
            memberships=_rows(Membership.objects, "rep_id", "team_id"),
            placements=_rows(Placement.objects, "team_id", "parent_id"),
            manager=dict(Team.objects.values_list("pk", "manager_id")),
        )

    def team_of(self, rep: int, day: dt.date) -> int | None:
        rows = self.memberships.get(rep)
        return _at(rows, day) if rows else None

    def parent_of(self, team: int, day: dt.date) -> int | None:
        rows = self.placements.get(team)
        return _at(rows, day) if rows else None

    def chain(self, team: int | None, day: dt.date) -> list[int]:
        """`team` and each team above it on `day`."""
        found = []
        while team is not None and team not in found:
            found.append(team)
            team = self.parent_of(team, day)
        return found

    def tree_at(self, day: dt.date) -> tuple[TeamTree, dict[int, int]]:
        """The team tree on `day`, and each rep's team then (reps not yet or no longer there
        included: a rep is always in some team)."""
        tree = TeamTree(
            parent={team: self.parent_of(team, day) for team in self.placements}, manager=self.manager
        )
        return tree, {rep: self.team_of(rep, day) for rep in self.memberships}

    def cycle_from(self, team: int, parent: int, effective: dt.date) -> bool:
        """Would `team` under `parent` from `effective` make a cycle on some day from then on?"""
        days = {effective} | {
            d for sinces, _, _ in self.placements.values() for d in sinces if d and d > effective
        }
        return any(team in self.chain(parent, day) for day in days)

    def _changes(self) -> list[dt.date]:
        return sorted({d for sinces, _, _ in self.placements.values() for d in sinces if d})

    def stints(self, leaf: Subject) -> list[Stint]:
        """The leaf's history as stints, oldest first: split where its team changes or a team
        above it moves, merged where nothing it is credited to changes."""
        if leaf.scope == Scope.COMPANY:
            return [Stint(None, None, (COMPANY,))]
        rows = self.memberships.get(leaf.pk) if leaf.scope == Scope.REP else None
        starts = set(rows[0][1:]) if rows else set()
        starts |= set(self._changes())
        edges = [None, *sorted(starts)]
        found: list[Stint] = []
        for since, until in zip(edges, [*edges[1:], None], strict=True):
            day = since or dt.date.min
            team = self.team_of(leaf.pk, day) if leaf.scope == Scope.REP else leaf.pk
            teams = [Subject.team(t) for t in self.chain(team, day)]
            credits = (*([leaf] if leaf.scope == Scope.REP else []), *teams, COMPANY)
            if found and found[-1].credits == credits:
                found[-1] = Stint(found[-1].since, until, credits)
            else:
                found.append(Stint(since, until, credits))
        return found

    def credited_spans(self, leaf: Subject, subject: Subject) -> list[tuple[dt.date | None, dt.date | None]]:
        """The spans of days (since, until) in which `leaf` credited `subject`, oldest first."""
        spans: list = []
        for stint in self.stints(leaf):
            if subject not in stint.credits:
                continue
            if spans and spans[-1][1] == stint.since:  # consecutive stints: one span
                spans[-1] = (spans[-1][0], stint.until)
            else:
                spans.append((stint.since, stint.until))
        return spans

    def daily(self) -> set[int]:
        """Reps with a move inside a month: their facts are credited by day, not by month."""
        return {
            rep for rep, (sinces, _, _) in self.memberships.items() if any(d and d.day != 1 for d in sinces)
        }

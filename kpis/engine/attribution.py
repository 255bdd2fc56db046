"""Who gets the credit for a fact, and when: stated once per family of facts.

A fact is credited to a *leaf* — the rep named by its owner path, else the team named by its
team path (team-level spend), else the company (facts that belong to no one) — on the day its
date field names (a timestamp: its day in TIME_ZONE). The engine's grouped queries
(kpis.engine.read) and the drill-down (kpis.drill) both select facts through `Facts.of`, so a
figure and the records listed behind it can never disagree about which facts count.

On that day the leaf is in one *stint* (teams.history): the rep's team then, each team above it
then, and the company are credited too. `Credit` keys what the engine reads by (leaf, stint), so
a re-org never moves what was credited before it.
"""

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case, DateField, F, Model, Q, Subquery, When
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils import timezone

from kpis.models import (
    AcquisitionSpend,
    Activity,
    Customer,
    Lead,
    NpsResponse,
    Opportunity,
    OpportunityState,
    Stage,
)
from kpis.periods import Period
from teams.history import Org, Stint
from teams.subjects import COMPANY, Scope, Subject

WON, LOST = Stage.Outcome.WON, Stage.Outcome.LOST


@dataclass(frozen=True)
class Leaves:
    """The leaves a computation covers: some reps (None = all), some teams (None = all), and
    whether facts credited to no one (the company leaf) are included."""

    rep_ids: frozenset | None = None
    team_ids: frozenset | None = None
    company: bool = True
    # Leaves covered only on some days (a team's former or later members): (leaf, since, until),
    # each day from `since` (None: the beginning) to the day before `until` (None: still).
    dated: tuple = ()

    @classmethod
    def of(cls, subject: Subject) -> "Leaves":
        """A subject's own leaf alone (a team: its team-level facts, not its reps')."""
        if subject.scope == Scope.REP:
            return cls(frozenset([subject.pk]), frozenset(), company=False)
        if subject.scope == Scope.TEAM:
            return cls(frozenset(), frozenset([subject.pk]), company=False)
        return cls(frozenset(), frozenset(), company=True)

    def on(self, day: dt.date) -> "Leaves":
        """The leaves covered on `day` (for a stock read at a period's boundary)."""
        if not self.dated:
            return self
        today = [
            leaf
            for leaf, since, until in self.dated
            if (since or day) <= day and (until is None or day < until)
        ]
        reps = {leaf.pk for leaf in today if leaf.scope == Scope.REP}
        teams = {leaf.pk for leaf in today if leaf.scope == Scope.TEAM}
        return Leaves(frozenset(self.rep_ids) | reps, frozenset(self.team_ids) | teams, self.company)

    def q(self, rep_path: str, team_path: str | None = None) -> Q:
        def some(path, ids):
            return Q(**{f"{path}__isnull": False}) if ids is None else Q(**{f"{path}__in": ids})

        q = some(rep_path, self.rep_ids)
        if team_path:
            q |= some(team_path, self.team_ids)
        if self.company:
            q |= Q(**{f"{rep_path}__isnull": True}, **({f"{team_path}__isnull": True} if team_path else {}))
        return q


Key = tuple[Subject, int]  # a leaf and the number of its stint


class Credit:
    """Whom a leaf's facts credit, day by day: the organisation's history read once."""

    def __init__(self, org: Org | None = None):
        self.org = org or Org.load()
        self.daily = frozenset(self.org.daily())  # reps whose team changed inside a month
        self._stints: dict[Subject, tuple[list, list[Stint]]] = {}

    def stints(self, leaf: Subject) -> list[Stint]:
        return self._of(leaf)[1]

    def _of(self, leaf: Subject):
        if leaf not in self._stints:
            stints = self.org.stints(leaf)
            self._stints[leaf] = ([s.since for s in stints[1:]], stints)
        return self._stints[leaf]

    def key(self, leaf: Subject, day: dt.date) -> Key:
        """The leaf's stint on `day` (the first day of a month for a leaf credited by month)."""
        starts, _ = self._of(leaf)
        return leaf, bisect.bisect_right(starts, day) if starts else 0

    def credits(self, key: Key) -> tuple[Subject, ...]:
        leaf, n = key
        return self._of(leaf)[1][n].credits

    def single(self, leaf: Subject) -> bool:
        return len(self._of(leaf)[1]) == 1

    def leaves_under(self, team_ids: set[int]) -> "Leaves":
        """Every rep and team leaf ever credited to one of `team_ids` (a subtree's own figures
        need its former members' facts too)."""

        def under(leaf):
            return any(
                s.scope == Scope.TEAM and s.pk in team_ids for st in self.stints(leaf) for s in st.credits
            )

        reps = {r for r in self.org.memberships if under(Subject.rep(r))}
        teams = {t for t in self.org.placements if under(Subject.team(t))}
        return Leaves(frozenset(reps), frozenset(teams), company=False)


@dataclass(frozen=True)
class Facts:
    """A family of facts: which model, which date places a fact in a period, whom it is credited
    to (`rep`, and `team` where a fact may belong to a team directly), and which rows count."""

    model: type[Model]
    date: str
    rep: str
    team: str | None = None
    where: Q = field(default_factory=Q)
    # Computed columns the date (and `where`) may name: {name: expression}, built per query.
    annotate: Callable[[], dict] | None = None

    @property
    def timestamped(self) -> bool:
        try:
            field = self.model._meta.get_field(self.date)
        except FieldDoesNotExist:  # a date annotated on the queryset (kpis.drill)
            return False
        return field.get_internal_type() == "DateTimeField"

    def leaf(self, row: dict) -> Subject:
        """The leaf a grouped row (with the `rep` and `team` paths as keys) is credited to."""
        if row[self.rep] is not None:
            return Subject(Scope.REP, row[self.rep])
        if self.team and row[self.team] is not None:
            return Subject(Scope.TEAM, row[self.team])
        return COMPANY

    def of(
        self,
        leaves: Leaves,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        period: Period | None = None,
    ):
        """The facts credited to `leaves`, dated from `since` on and up to `until` (both days
        included, in TIME_ZONE for a timestamp), or within `period`."""
        if period is not None:
            since, until = period.start, period.end
        dated = Q()
        if since is not None:
            dated &= Q(**{f"{self.date}__gte": self._instant(since)})
        if until is not None:
            dated &= Q(**{f"{self.date}__lt": self._instant(until + dt.timedelta(days=1))})
        rows = self.model.objects.annotate(**self.annotate()) if self.annotate else self.model.objects
        return rows.filter(self.credited(leaves), self.where, dated)

    def credited(self, leaves: Leaves) -> Q:
        """The facts credited to `leaves`, whatever their date."""
        return leaves.q(self.rep, self.team) | self._while(leaves)

    def _while(self, leaves: Leaves) -> Q:
        """The facts of the leaves covered on some days only, dated on those days."""
        found = Q(pk__in=[])
        for leaf, since, until in leaves.dated:
            if leaf.scope == Scope.REP:
                q = Q(**{self.rep: leaf.pk})
            elif self.team:
                q = Q(**{self.rep: None, self.team: leaf.pk})
            else:
                continue  # a team's own facts are of families with a team path only
            if since is not None:
                q &= Q(**{f"{self.date}__gte": self._instant(since)})
            if until is not None:
                q &= Q(**{f"{self.date}__lt": self._instant(until)})
            found |= q
        return found

    def _instant(self, day: dt.date):
        if not self.timestamped:
            return day
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


CLOSED_DEALS = Facts(Opportunity, "closed_on", "rep_id", where=Q(closed_on__isnull=False))
WON_DEALS = Facts(Opportunity, "closed_on", "rep_id", where=Q(closed_on__isnull=False, stage__outcome=WON))
LOST_DEALS = Facts(Opportunity, "closed_on", "rep_id", where=Q(closed_on__isnull=False, stage__outcome=LOST))
# A deal enters the pipeline on its created date, or where that is unknown on the day it was first
# recorded (Opportunity.opened_on): the first and last day with a deal (read.data_range).
DEALS_OPENED = Facts(Opportunity, "opened_on", "rep_id")
# Existing-customer revenue and repeat buyers follow the customer's owner, not the deal's rep.
CUSTOMER_WINS = Facts(
    Opportunity,
    "closed_on",
    "customer__owner_id",
    where=Q(closed_on__isnull=False, stage__outcome=WON, customer__isnull=False),
)
ACTIVITIES = Facts(Activity, "occurred_at", "rep_id")
LEADS = Facts(Lead, "created_on", "rep_id")
NPS_RESPONSES = Facts(NpsResponse, "responded_on", "customer__owner_id")
SPEND = Facts(AcquisitionSpend, "spent_on", "rep_id", "team_id")
ACQUIRED_CUSTOMERS = Facts(Customer, "acquired_on", "owner_id", where=Q(acquired_on__isnull=False))
CHURNED_CUSTOMERS = Facts(Customer, "churned_on", "owner_id", where=Q(churned_on__isnull=False))


# --- the pipeline as it stood: the deals' history (kpis.deal_history) ---------------------------


def state_spans() -> dict:
    """The days a state of a deal counts in the pipeline: from the day it took effect (the
    deal's opening for its first state, and never before it) to the day the next one did — or,
    for a state already won or lost (a deal first recorded closed), to its close date: it was
    open until then. A state that spans no day (two changes in one day) counts nowhere."""
    opened, zone = F("opportunity__opened_on"), timezone.get_default_timezone()
    took_effect = Greatest(opened, Coalesce(TruncDate("since", tzinfo=zone), opened))
    superseded = TruncDate("until", tzinfo=zone)
    closed = ~Q(stage__outcome=Stage.Outcome.OPEN)
    return {
        "entered_on": took_effect,
        "left_on": Case(
            When(closed & Q(until__isnull=True), then=F("closed_on")),
            When(closed, then=Least(superseded, F("closed_on"))),
            default=superseded,
            output_field=DateField(),
        ),
        # The stage's probability; for a state already closed, the first open stage's (what the
        # deal was in before is unknown, and its outcome's would be hindsight).
        "probability": Case(
            When(closed, then=Subquery(FIRST_OPEN_STAGE.values("probability")[:1])),
            default=F("stage__probability"),
        ),
    }


FIRST_OPEN_STAGE = Stage.objects.filter(outcome=Stage.Outcome.OPEN).order_by("order", "name")
_SPANS_A_DAY = Q(left_on__isnull=True) | Q(left_on__gt=F("entered_on"))
# A deal's states credited to its current owner (DESIGN.md: an owner change is a correction), by
# the day each entered the pipeline, with the day it left (`left_on`, None: still in it): a
# pipeline stock is entries less exits (kpis.engine.read.pipeline_moves).
PIPELINE_ENTRIES = Facts(
    OpportunityState, "entered_on", "opportunity__rep_id", where=_SPANS_A_DAY, annotate=state_spans
)
# A deal's later states, by the day they took effect: a change is a fact of its day (the span of
# periods worth computing reaches it).
DEAL_CHANGES = Facts(OpportunityState, "since", "opportunity__rep_id", where=Q(since__isnull=False))
# pipeline_created: each deal's first state (its amount first recorded), by its opening day.
FIRST_STATES = Facts(
    OpportunityState, "opportunity__opened_on", "opportunity__rep_id", where=Q(since__isnull=True)
)


def open_states(leaves: Leaves, day: dt.date, *, credited_on: dt.date | None = None):
    """The pipeline at the end of `day`, as it stood then: the state each deal open then was in —
    the rows kpis.engine.read's pipeline stock adds up — of the leaves credited on `day` (or on
    `credited_on`: the deals open at a period's start go to the stint of its first day)."""
    on = leaves.on(credited_on or day)
    return PIPELINE_ENTRIES.of(on, until=day).filter(Q(left_on__isnull=True) | Q(left_on__gt=day))

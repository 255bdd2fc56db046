"""The records behind a number: for each metric, the facts it counts in one period.

A page shows a snapshot; its drill-down lists the deals, activities, leads, customers or
responses that made it. They are selected through the same statement of the metric's rule as the
engine's aggregation (kpis.engine.attribution: which date, whom it credits), so the list and the
figure cannot disagree (tests/kpis/test_drill_matches_figures.py).
"""

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, Subquery

from kpis import catalogue
from kpis.periods import Period, month_start
from teams.history import Org
from teams.subjects import Scope, Subject

from .engine import attribution as credit
from .engine.attribution import Facts, Leaves
from .engine.read import TRAILING_MONTHS
from .models import ForecastSubmission, Opportunity


@dataclass(frozen=True)
class Column:
    header: str
    path: str | Callable  # attribute path on the record (dots for relations), or a function of it

    def of(self, record):
        if callable(self.path):
            return self.path(record)
        value = record
        for part in self.path.split("."):
            value = getattr(value, part, None) if value is not None else None
        return value


@dataclass(frozen=True)
class Layout:
    """How a model's records are listed: columns, the fields `q` searches, the order, and the
    relations the columns read."""

    columns: list[Column]
    search: list[str]
    order: tuple[str, ...]
    related: tuple[str, ...]


@dataclass(frozen=True)
class Records:
    kind: str  # what a row is, for headings: "won deals", "calls", …
    queryset: object
    columns: list[Column]
    search: list[str]
    # The records a viewer who may see the subject sees (DESIGN.md: a team's figures and the
    # records behind them, its former members' included): all of them, but for the figures that
    # follow a customer's owner, the deals whose own rep the subject was credited with on their
    # close date — another team's deal from our customer stays theirs (counted, not listed).
    theirs: Q = field(default_factory=lambda: Q(pk__isnull=False))


DEALS = Layout(
    [
        Column("Deal", str),
        Column("Customer", "customer.name"),
        Column("Rep", "rep.full_name"),
        Column("Stage", "stage.name"),
        Column("Amount", "amount"),
        Column("Created", "created_on"),
        Column("Closed", "closed_on"),
    ],
    ["name", "external_id", "customer__name", "product", "rep__full_name"],
    ("-closed_on", "-pk"),
    ("customer", "rep", "stage"),
)
# A deal as it stood (an OpportunityState): the pipeline's drill-downs list the amounts and stages
# they add up, which may have changed since.
STATES = Layout(
    [
        Column("Deal", lambda state: str(state.opportunity)),
        Column("Customer", "opportunity.customer.name"),
        Column("Rep", "opportunity.rep.full_name"),
        Column("Stage", "stage.name"),
        Column("Amount", "amount"),
        Column("Created", "opportunity.created_on"),
        Column("Closed", "closed_on"),
    ],
    [f"opportunity__{path}" for path in DEALS.search],
    ("-amount", "-pk"),
    ("opportunity__customer", "opportunity__rep", "stage"),
)
NEW_STATES = Layout(STATES.columns, STATES.search, ("-opportunity__opened_on", "-pk"), STATES.related)
LEADS = Layout(
    [
        Column("Lead", "name"),
        Column("Rep", "rep.full_name"),
        Column("Source", "source"),
        Column("Created", "created_on"),
        Column("Converted", "converted_on"),
        Column("Customer", "customer.name"),
    ],
    ["name", "source", "rep__full_name"],
    ("-created_on", "-pk"),
    ("rep", "customer"),
)
ACTIVITIES = Layout(
    [
        Column("When", "occurred_at"),
        Column("Subject", "subject"),
        Column("Rep", "rep.full_name"),
        Column("Customer", "customer.name"),
    ],
    ["subject", "customer__name", "rep__full_name"],
    ("-occurred_at", "-pk"),
    ("rep", "customer"),
)
CUSTOMERS = Layout(
    [
        Column("Customer", "name"),
        Column("Owner", "owner.full_name"),
        Column("Sector", "sector"),
        Column("Acquired", "acquired_on"),
        Column("Churned", "churned_on"),
    ],
    ["name", "sector", "country"],
    ("-acquired_on", "pk"),
    ("owner",),
)
CHURNED = Layout(CUSTOMERS.columns, CUSTOMERS.search, ("-churned_on", "pk"), CUSTOMERS.related)
NPS_RESPONSES = Layout(
    [
        Column("Customer", "customer.name"),
        Column("Responded", "responded_on"),
        Column("Score", "score"),
        Column("Comment", "comment"),
    ],
    ["customer__name", "comment"],
    ("-responded_on", "-pk"),
    ("customer",),
)
FORECASTS = Layout(
    [
        Column("Submitted", "submitted_at"),
        Column("Category", "category"),
        Column("Amount", "amount"),
        Column("By", "submitted_by.username"),
    ],
    ["category"],
    ("-submitted_at",),
    ("submitted_by",),
)


def _in(facts: Facts, **where):
    """The facts of a family credited to the leaves within the period (and `where`)."""
    return lambda leaves, period: facts.of(leaves, period=period).filter(**where)


def _open_at_end(leaves: Leaves, period: Period):
    return credit.open_states(leaves, period.end)


def _open_at_start(leaves: Leaves, period: Period):
    # sales_velocity's numerator: the deals open when the period began (the day before's end).
    return credit.open_states(leaves, period.start - dt.timedelta(days=1), credited_on=period.start)


def _wins_in_trailing_year(leaves: Leaves, period: Period):
    # cltv's numerator: revenue from customers over the 12 months ending with the period.
    first = month_start(period.last_month - TRAILING_MONTHS + 1)
    return credit.CUSTOMER_WINS.of(leaves, since=first, until=period.end)


# A buyer is credited where its first purchase in the period was (kpis.engine.read.customer_wins).
FIRST_WINS = Facts(Opportunity, "first_win", credit.CUSTOMER_WINS.rep)


def _buyers(leaves: Leaves, period: Period):
    # repeat_purchase_rate's buyers: the won deals of the period of the customers whose first
    # purchase in it was credited to the leaves.
    wins = credit.CUSTOMER_WINS.of(Leaves(), period=period)
    first = wins.filter(customer=OuterRef("customer")).order_by("closed_on").values("closed_on")[:1]
    return wins.annotate(first_win=Subquery(first)).filter(FIRST_WINS.credited(leaves))


def _churned_from_base(leaves: Leaves, period: Period):
    # churn's numerator: of the customers churned in the period, those acquired before it began,
    # credited (like the base) to whoever the owner's facts credited on its first day.
    return credit.CHURNED_CUSTOMERS.of(leaves.on(period.start), period=period).filter(
        acquired_on__lt=period.start
    )


# metric key → (what a row is, which facts, how they are listed)
BEHIND = {
    "revenue_won": ("won deals", _in(credit.WON_DEALS), DEALS),
    "deals_won": ("won deals", _in(credit.WON_DEALS), DEALS),
    "avg_deal_value": ("won deals", _in(credit.WON_DEALS), DEALS),
    "sales_cycle_days": ("won deals with both dates", _in(credit.WON_DEALS, created_on__isnull=False), DEALS),
    "deals_lost": ("lost deals", _in(credit.LOST_DEALS), DEALS),
    "win_rate": (
        "closed deals",
        _in(credit.CLOSED_DEALS, stage__outcome__in=[credit.WON, credit.LOST]),
        DEALS,
    ),
    "pipeline_value": ("deals open at the period's end, as they stood", _open_at_end, STATES),
    "weighted_pipeline_value": ("deals open at the period's end, as they stood", _open_at_end, STATES),
    "sales_velocity": ("deals open at the period's start, as they stood", _open_at_start, STATES),
    "pipeline_created": ("deals created, as first recorded", _in(credit.FIRST_STATES), NEW_STATES),
    "leads_generated": ("leads created", _in(credit.LEADS), LEADS),
    "lead_conversion_rate": ("leads created", _in(credit.LEADS), LEADS),
    "calls_made": ("calls", _in(credit.ACTIVITIES, kind="call"), ACTIVITIES),
    "emails_sent": ("emails", _in(credit.ACTIVITIES, kind="email"), ACTIVITIES),
    "meetings_held": ("meetings", _in(credit.ACTIVITIES, kind="meeting"), ACTIVITIES),
    "new_customers": ("customers acquired", _in(credit.ACQUIRED_CUSTOMERS), CUSTOMERS),
    "cac": ("customers acquired", _in(credit.ACQUIRED_CUSTOMERS), CUSTOMERS),
    "churn_rate": ("customers of the active base churned", _churned_from_base, CHURNED),
    # Customer metrics follow the customer's owner, not the deal's rep.
    "repeat_purchase_rate": ("won deals with a customer", _buyers, DEALS),
    "cltv": ("won deals with a customer in the 12 months to the period's end", _wins_in_trailing_year, DEALS),
    "nps": ("NPS responses", _in(credit.NPS_RESPONSES), NPS_RESPONSES),
}


def covered(subject: Subject, org: Org | None = None) -> Leaves:
    """Every leaf a subject's figures cover: a rep itself; the company everything, facts of no one
    included; a team every rep and team it was credited with, on the days it was (its stints:
    teams.history.Org, loaded here unless the caller has it), former members included."""
    if subject.scope == Scope.REP:
        return Leaves.of(subject)
    if subject.scope == Scope.COMPANY:
        return Leaves()
    if org is None:
        org = Org.load()
    team_spans = {t: org.credited_spans(Subject.team(t), subject) for t in org.placements}
    # A rep credits the team only while in it or in a team under it: the others are skipped
    # unread (a 1,000-rep org's stints cost more than the page's queries).
    under = {t for t, spans in team_spans.items() if spans}
    always, dated = set(), []
    reps = [Subject.rep(r) for r, (_, _, teams) in org.memberships.items() if not under.isdisjoint(teams)]
    for leaf in [*reps, *map(Subject.team, org.placements)]:
        spans = team_spans[leaf.pk] if leaf.scope == Scope.TEAM else org.credited_spans(leaf, subject)
        if spans == [(None, None)]:
            always.add(leaf)
        else:
            dated += [(leaf, since, until) for since, until in spans]
    return Leaves(
        frozenset(leaf.pk for leaf in always if leaf.scope == Scope.REP),
        frozenset(leaf.pk for leaf in always if leaf.scope == Scope.TEAM),
        company=False,
        dated=tuple(dated),
    )


def records_for(metric: str, period: Period, subject: Subject) -> Records:
    """The facts behind `metric` in `period` for `subject`."""
    if catalogue.get(metric).own_only:  # the forecast figures: the subject's own submissions, not its leaves'
        qs = ForecastSubmission.objects.for_subject(subject.scope, subject.pk).filter(
            period_kind=period.kind, period_start=period.start
        )
        return _listed("forecasts for the period", qs, FORECASTS)
    kind, select, layout = BEHIND[metric]
    leaves = covered(subject)
    records = _listed(kind, select(leaves, period), layout)
    if metric in BY_OWNER:
        return dataclasses.replace(records, theirs=DEALS_BY_REP.credited(leaves))
    return records


BY_OWNER = {"repeat_purchase_rate", "cltv"}
DEALS_BY_REP = Facts(Opportunity, "closed_on", "rep_id")


def _listed(kind: str, qs, layout: Layout) -> Records:
    qs = qs.select_related(*layout.related).order_by(*layout.order)
    return Records(kind, qs, layout.columns, layout.search)

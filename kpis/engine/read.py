"""Step 1, read: one grouped query per family of facts, at month grain, for some leaves.

Each query groups by (leaf, month) — whom a fact is credited to and the month its date falls in
(kpis.engine.attribution) — so Python sees one row per leaf and month, never one per deal.
Repeat buyers are counted per customer, streamed. Also here: the span of months worth
computing, and the commit forecasts that forecast_accuracy compares with.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import (
    Count,
    DateField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Cast, ExtractMonth, ExtractYear, TruncDate, TruncMonth
from django.utils import timezone

from kpis.models import (
    ForecastSubmission,
    Opportunity,
)
from kpis.periods import KINDS, LENGTH, Period, fiscal_shift, month_index, month_start, periods_between
from teams.subjects import COMPANY, Scope, Subject

from . import attribution as credit
from .attribution import WON, Facts, Leaves

ZERO = Decimal(0)
# {leaf: {month or period index: {component: value}}}
Table = dict[Subject, dict[int, dict[str, Decimal]]]
# Facts are attributed to days in settings.TIME_ZONE, whatever zone a request has activated.
LOCAL = timezone.get_default_timezone


def table() -> Table:
    return defaultdict(lambda: defaultdict(dict))


def month_of(facts: Facts):
    """SQL truncating a fact's date to its month (a timestamp: in TIME_ZONE), turned into a
    month index by `_months` — date_trunc is far cheaper than EXTRACT on PostgreSQL."""
    if facts.timestamped:
        return TruncMonth(facts.date, tzinfo=LOCAL())
    return TruncMonth(facts.date, output_field=DateField())


def month_number(field: str):
    """SQL for the month index (kpis.periods.month_index) of a date."""
    index = ExtractYear(field) * 12 + ExtractMonth(field) - 1
    return ExpressionWrapper(Cast(index, IntegerField()), output_field=IntegerField())


def _by_month(facts: Facts, leaves: Leaves, from_month: int | None):
    """The facts from the first day of `from_month` on (all when None), with their month as `p`."""
    since = None if from_month is None else month_start(from_month)
    return facts.of(leaves, since=since).annotate(p=month_of(facts))


def _grouped(facts: Facts, leaves: Leaves, from_month: int | None, **aggregates) -> list[dict]:
    keys = [facts.rep, *([facts.team] if facts.team else [])]
    rows = list(_by_month(facts, leaves, from_month).values(*keys, "p").annotate(**aggregates).order_by())
    for row in rows:
        if row["p"] is not None:
            row["p"] = month_index(row["p"])
    return rows


def _add(into: Table, rows, facts: Facts, names):
    for row in rows:
        slot = into[facts.leaf(row)][row["p"]]
        for name in names:
            if row[name] is not None:
                slot[name] = slot.get(name, ZERO) + Decimal(row[name])


def _since(rows, from_month):
    return rows if from_month is None else [row for row in rows if row["p"] >= from_month]


# --- flows: summed per leaf and month; a quarter or year is the sum of its months ------------

PIPELINE_SUMS = {
    "amount_sum": Sum("amount"),
    "weighted_sum": Sum(
        ExpressionWrapper(
            F("amount") * F("stage__probability"), output_field=DecimalField(max_digits=24, decimal_places=5)
        )
    ),
}


def closed_deals(leaves: Leaves) -> list[dict]:
    """Per rep and close month: the deal flows, and what left the pipeline (all history: the
    pipeline stock needs it)."""
    won, lost = Q(stage__outcome=WON), Q(stage__outcome=credit.LOST)
    dated_win = won & Q(created_on__isnull=False)
    cycle = ExpressionWrapper(F("closed_on") - F("created_on"), output_field=DurationField())
    rows = _grouped(
        credit.CLOSED_DEALS,
        leaves,
        None,
        won_amount=Sum("amount", filter=won),
        won_count=Count("pk", filter=won),
        lost_count=Count("pk", filter=lost),
        cycle=Sum(cycle, filter=dated_win),
        cycle_count=Count("pk", filter=dated_win),
        **PIPELINE_SUMS,
    )
    for row in rows:
        row["cycle_days"] = row["cycle"].days if row["cycle"] is not None else None
    return rows


def activities(leaves, from_month, into):
    counts = {"calls": "call", "emails": "email", "meetings": "meeting"}
    aggregates = {name: Count("pk", filter=Q(kind=k)) for name, k in counts.items()}
    _add(into, _grouped(credit.ACTIVITIES, leaves, from_month, **aggregates), credit.ACTIVITIES, list(counts))


def leads(leaves, from_month, into):
    rows = _grouped(
        credit.LEADS,
        leaves,
        from_month,
        leads=Count("pk"),
        leads_converted=Count("pk", filter=Q(converted_on__isnull=False)),
    )
    _add(into, rows, credit.LEADS, ["leads", "leads_converted"])


def nps(leaves, from_month, into):
    rows = _grouped(
        credit.NPS_RESPONSES,
        leaves,
        from_month,
        nps_responses=Count("pk"),
        promoters=Count("pk", filter=Q(score__gte=9)),
        detractors=Count("pk", filter=Q(score__lte=6)),
    )
    for row in rows:
        row["nps_net"] = row["promoters"] - row["detractors"]
    _add(into, rows, credit.NPS_RESPONSES, ["nps_responses", "nps_net"])


def spend(leaves, from_month, into):
    _add(into, _grouped(credit.SPEND, leaves, from_month, spend=Sum("amount")), credit.SPEND, ["spend"])


FLOWS = [activities, leads, nps, spend]


class CustomerWins:
    """Won deals seen from the customer's owner: revenue from existing customers, repeat buyers.

    Buyers are distinct customers, so a quarter is not the sum of its months: each period kind
    counts its buyers itself. The rows (customer × month) are streamed in customer order and
    only the counts are kept, so memory does not grow with the number of customers. A
    customer's first win is its first row when they cover all history, else read for them.
    """

    def __init__(self, leaves: Leaves, from_month: int | None):
        wins = _by_month(credit.CUSTOMER_WINS, leaves, from_month)
        first_win = None if from_month is None else self._first_wins(wins)
        # {kind: {(leaf, period): [buyers, repeat buyers, revenue from existing customers]}}
        self.sums = {kind: defaultdict(lambda: [0, 0, ZERO]) for kind in KINDS}
        shifts = [(kind, fiscal_shift(kind), LENGTH[kind]) for kind in KINDS]
        rows = (
            wins.annotate(month=month_number("closed_on"), acquired=month_number("customer__acquired_on"))
            .values_list("customer__owner_id", "customer_id", "month", "acquired")
            .annotate(amount=Sum("amount"))
            .order_by("customer_id", "month")
        )
        if from_month is None:  # all history: stream it (a recent slice is small, and one query)
            rows = rows.iterator(chunk_size=10_000)
        current, last_counted = None, {}
        for owner, customer, month, acquired, amount in rows:
            if customer != current:
                current, last_counted = customer, {}
                first = month if first_win is None else first_win[customer]
            leaf = Subject(Scope.REP, owner) if owner is not None else COMPANY
            for kind, shift, length in shifts:
                p = (month - shift) // length
                slot = self.sums[kind][leaf, p]
                if acquired is not None and (acquired - shift) // length < p:
                    slot[2] += amount
                if last_counted.get(kind) != p:  # months come in order: a new period
                    last_counted[kind] = p
                    slot[0] += 1
                    slot[1] += (first - shift) // length < p

    @staticmethod
    def _first_wins(wins) -> dict[int, int]:
        first = (
            Opportunity.objects.filter(credit.CUSTOMER_WINS.where, customer_id__in=wins.values("customer_id"))
            .values("customer_id")
            .annotate(first=Min("closed_on"))
            .values_list("customer_id", "first")
            .order_by()
        )
        return {customer: month_index(day) for customer, day in first}


class MonthlyFacts:
    """Everything the engine needs from the facts of some leaves, read once: flows per leaf and
    month (from `from_month` on, when given), buyers per period kind, and the monthly ins and
    outs of the two stocks (pipeline, active customers), which always start from the beginning."""

    def __init__(self, leaves: Leaves, from_month: int | None = None):
        self.flows: Table = table()
        for flow in FLOWS:
            flow(leaves, from_month, self.flows)
        closed = closed_deals(leaves)
        deal_flows = ["won_amount", "won_count", "lost_count", "cycle_days", "cycle_count"]
        _add(self.flows, _since(closed, from_month), credit.CLOSED_DEALS, deal_flows)
        acquired = _grouped(credit.ACQUIRED_CUSTOMERS, leaves, None, new_customers=Count("pk"))
        churned = _grouped(
            credit.CHURNED_CUSTOMERS,
            leaves,
            None,
            churned=Count("pk"),
            # Of those, the ones with an acquisition date: they were in the active base.
            churned_active=Count("pk", filter=Q(acquired_on__isnull=False)),
        )
        _add(self.flows, _since(acquired, from_month), credit.ACQUIRED_CUSTOMERS, ["new_customers"])
        _add(self.flows, _since(churned, from_month), credit.CHURNED_CUSTOMERS, ["churned"])
        self.wins = CustomerWins(leaves, from_month)
        opened = _grouped(credit.DEALS_BY_CREATION, leaves, None, **PIPELINE_SUMS)
        pipeline = credit.DEALS_BY_CREATION
        self.stocks = {  # name: {leaf: {month: in − out}}
            "pipeline": _deltas(opened, closed, pipeline, "amount_sum", "amount_sum"),
            "weighted_pipeline": _deltas(opened, closed, pipeline, "weighted_sum", "weighted_sum"),
            "active_at_start": _deltas(
                acquired, churned, credit.ACQUIRED_CUSTOMERS, "new_customers", "churned_active"
            ),
        }


UNDATED = -1  # the month index of a fact whose date is unknown: before every month


def _deltas(rows_in, rows_out, facts: Facts, name_in: str, name_out: str) -> dict:
    """A stock's monthly ins minus outs per leaf (an undated in counts from the beginning)."""
    deltas: dict[Subject, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for rows, sign, figure in [(rows_in, 1, name_in), (rows_out, -1, name_out)]:
        for row in rows:
            month = UNDATED if row["p"] is None else row["p"]
            deltas[facts.leaf(row)][month] += sign * Decimal(row[figure] or 0)
    return deltas


# --- which periods to compute, and the forecasts to compare with -------------------------------

SPANNING = [
    credit.DEALS_BY_CREATION,
    credit.CLOSED_DEALS,
    credit.LEADS,
    credit.ACTIVITIES,
    credit.ACQUIRED_CUSTOMERS,
    credit.CHURNED_CUSTOMERS,
    credit.NPS_RESPONSES,
    credit.SPEND,
]


def fact_dates():
    return [(facts.model.objects, facts.date) for facts in SPANNING]


def first_and_last(columns) -> list[tuple[dt.date | None, dt.date | None]]:
    """(first, last) day of each (queryset, date field), in one query: a timestamp's day is local.
    MIN and MAX of the bare column, so each is one end of an index, never a scan."""
    parts = []
    for queryset, field in columns:
        lo, hi = Min(field), Max(field)
        if queryset.model._meta.get_field(field).get_internal_type() == "DateTimeField":
            lo, hi = TruncDate(lo, tzinfo=LOCAL()), TruncDate(hi, tzinfo=LOCAL())
        parts.append(queryset.order_by().values(one=Value(1)).annotate(lo=lo, hi=hi).values_list("lo", "hi"))
    return list(parts[0].union(*parts[1:], all=True))


def data_range(bounds=None) -> tuple[dt.date, dt.date] | None:
    """First and last day with any fact, the last capped at today: the periods worth computing.
    `bounds`: first_and_last of fact_dates(), if already read."""
    if bounds is None:
        bounds = first_and_last(fact_dates())
    days = [day for pair in bounds for day in pair if day is not None]
    if not days:
        return None
    first, last = min(days), min(max(days), timezone.localdate(timezone=LOCAL()))
    # Every fact after today: nothing to compute yet (not today's quarter and year alone).
    return (first, last) if first <= last else None


_UNREAD = object()


def data_periods(since: dt.date | None = None, *, span=_UNREAD) -> dict[str, list[Period]]:
    """The periods worth computing, per kind, ending at or after `since`; `span` if already read."""
    if span is _UNREAD:
        span = data_range()
    if span is None:
        return {kind: [] for kind in KINDS}
    first, last = span
    return {
        kind: [p for p in periods_between(kind, first, last) if since is None or p.end >= since]
        for kind in KINDS
    }


FEW_SUBJECTS = 50


def latest_commits(
    periods_by_kind: dict[str, list[Period]], subjects
) -> dict[tuple[Subject, str, int], Decimal]:
    """The latest commit forecast per subject and period, among those made before it began."""
    starts, wanted_periods = {}, Q()
    for kind, periods in periods_by_kind.items():
        if periods:
            starts.update({(kind, p.start): p for p in periods})
            wanted_periods |= Q(period_kind=kind, period_start__in=[p.start for p in periods])
    if not starts:
        return {}
    wanted_subjects = Q()
    if len(subjects) <= FEW_SUBJECTS:  # else all of them, filtered below
        for scope, pk in subjects:
            wanted_subjects |= Q(
                scope=scope,
                rep_id=pk if scope == Scope.REP else None,
                team_id=pk if scope == Scope.TEAM else None,
            )
    rows = (
        ForecastSubmission.objects.filter(
            wanted_periods, wanted_subjects, category=ForecastSubmission.Category.COMMIT
        )
        .order_by("submitted_at")
        .values_list("scope", "rep_id", "team_id", "period_kind", "period_start", "amount", "submitted_at")
    )
    wanted, found = set(subjects), {}
    for scope, rep_id, team_id, kind, start, amount, submitted_at in rows:
        subject = Subject(scope, rep_id or team_id or 0)
        began = timezone.make_aware(dt.datetime.combine(start, dt.time.min), LOCAL())
        if subject in wanted and submitted_at < began:
            found[subject, kind, starts[kind, start].index] = amount
    return found

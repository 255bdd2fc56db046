"""Step 1, read: one grouped query per family of facts, at month grain, for some leaves.

Each query groups by (leaf, month) — whom a fact is credited to and the month its date falls in
(kpis.engine.attribution) — so Python sees one row per leaf and month, never one per deal.
Repeat buyers are counted per customer, streamed. Also here: the span of months worth
computing, and the commit forecasts that forecast_accuracy compares with.
"""

import bisect
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
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


_WON, _LOST = Q(stage__outcome=WON), Q(stage__outcome=credit.LOST)
# The flows of closed deals and of activities, as aggregates over their facts: the engine groups
# them by leaf and month; a page's "to the same day" comparison (kpis.selectors) sums them whole.
DEAL_FLOWS = {
    "won_amount": Sum("amount", filter=_WON),
    "won_count": Count("pk", filter=_WON),
    "lost_count": Count("pk", filter=_LOST),
}
ACTIVITY_FLOWS = {
    name: Count("pk", filter=Q(kind=kind))
    for name, kind in {"calls": "call", "emails": "email", "meetings": "meeting"}.items()
}


def closed_deals(leaves: Leaves) -> list[dict]:
    """Per rep and close month: the deal flows, and what left the pipeline (all history: the
    pipeline stock needs it)."""
    dated_win = _WON & Q(created_on__isnull=False)
    cycle = ExpressionWrapper(F("closed_on") - F("created_on"), output_field=DurationField())
    rows = _grouped(
        credit.CLOSED_DEALS,
        leaves,
        None,
        **DEAL_FLOWS,
        cycle=Sum(cycle, filter=dated_win),
        cycle_count=Count("pk", filter=dated_win),
        **PIPELINE_SUMS,
    )
    for row in rows:
        row["cycle_days"] = row["cycle"].days if row["cycle"] is not None else None
    return rows


def activities(leaves, from_month, into):
    rows = _grouped(credit.ACTIVITIES, leaves, from_month, **ACTIVITY_FLOWS)
    _add(into, rows, credit.ACTIVITIES, list(ACTIVITY_FLOWS))


def leads(leaves, from_month, into):
    rows = _grouped(
        credit.LEADS,
        leaves,
        from_month,
        leads=Count("pk"),
        # Converted within the window of its creation (kpis.engine.evaluate: provisional until then).
        leads_converted=Count(
            "pk",
            filter=Q(
                converted_on__lte=F("created_on") + dt.timedelta(days=settings.LEAD_CONVERSION_WINDOW_DAYS)
            ),
        ),
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


class PerKind:
    """Components that do not add up over months, counted for each period kind by itself:
    {kind: {(leaf, period index): {component: value}}}."""

    def __init__(self):
        self.sums = {kind: defaultdict(lambda: defaultdict(Decimal)) for kind in KINDS}
        self.shifts = [(kind, fiscal_shift(kind), LENGTH[kind]) for kind in KINDS]


def customer_wins(leaves: Leaves, from_month: int | None, per_kind: PerKind, into: Table) -> None:
    """Won deals seen from the customer's owner: the revenue from customers per month (a flow),
    and per period kind the buyers and repeat buyers — customers with at least two won deals up to
    the period's end, earlier ones or two in the period.

    Buyers are distinct customers, so a quarter is not the sum of its months. The rows (customer
    × month) are streamed in customer order and only the counts are kept, so memory does not
    grow with the number of customers. A customer's wins before `from_month` are counted for them.
    """
    wins = _by_month(credit.CUSTOMER_WINS, leaves, from_month)
    earlier = {} if from_month is None else _wins_before(wins, from_month)
    rows = (
        wins.annotate(month=month_number("closed_on"))
        .values_list("customer__owner_id", "customer_id", "month")
        .annotate(amount=Sum("amount"), deals=Count("pk"))
        .order_by("customer_id", "month")
    )
    if from_month is None:  # all history: stream it (a recent slice is small, and one query)
        rows = rows.iterator(chunk_size=10_000)
    current, counted = None, {}
    for owner, customer, month, amount, deals in rows:
        if customer != current:  # (kind → the last period counted as a buyer, as a repeat buyer)
            current, counted, won = customer, {}, earlier.get(customer, 0)
        leaf = Subject(Scope.REP, owner) if owner is not None else COMPANY
        into[leaf][month]["customer_revenue"] = into[leaf][month].get("customer_revenue", ZERO) + amount
        won += deals
        for kind, shift, length in per_kind.shifts:
            p = (month - shift) // length
            slot = per_kind.sums[kind][leaf, p]
            buyer, repeat = counted.get(kind, (None, None))
            if buyer != p:  # months come in order: a new period
                slot["buyers"] += 1
                buyer = p
            if won >= 2 and repeat != p:
                slot["repeat_buyers"] += 1
                repeat = p
            counted[kind] = (buyer, repeat)


def _wins_before(wins, from_month: int) -> dict[int, int]:
    before = (
        Opportunity.objects.filter(
            credit.CUSTOMER_WINS.where,
            customer_id__in=wins.values("customer_id"),
            closed_on__lt=month_start(from_month),
        )
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
        .order_by()
    )
    return dict(before)


def churned_customers(leaves: Leaves, per_kind: PerKind) -> list[dict]:
    """Per owner and churn month (all history: the active base needs it), with the month each
    churned customer was acquired in. Churn counts, per period kind, the customers churned in a
    period that were acquired before it began: those in its active base."""
    rows = list(
        credit.CHURNED_CUSTOMERS.of(leaves)
        .annotate(p=month_of(credit.CHURNED_CUSTOMERS), a=month_number("acquired_on"))
        .values(credit.CHURNED_CUSTOMERS.rep, "p", "a")
        .annotate(churned=Count("pk"))
        .order_by()
    )
    for row in rows:
        row["p"] = month_index(row["p"])
        leaf = credit.CHURNED_CUSTOMERS.leaf(row)
        for kind, shift, length in per_kind.shifts:
            p = (row["p"] - shift) // length
            if (row["a"] - shift) // length < p:
                per_kind.sums[kind][leaf, p]["churned_from_base"] += row["churned"]
    return rows


# Trailing figures: a period's value covers the 12 months ending with it (cltv).
TRAILING_MONTHS = 12


class MonthlyFacts:
    """Everything the engine needs from the facts of some leaves, read once: flows per leaf and
    month (from `from_month` on, when given), the components counted per period kind (buyers,
    churn from the base), and the running levels of the stocks (pipeline, active customers:
    always from the beginning) and of the trailing 12-month sums (from 11 months earlier)."""

    def __init__(self, leaves: Leaves, from_month: int | None = None):
        self.flows: Table = table()
        self.per_kind = PerKind()
        for flow in FLOWS:
            flow(leaves, from_month, self.flows)
        closed = closed_deals(leaves)
        deal_flows = ["won_amount", "won_count", "lost_count", "cycle_days", "cycle_count"]
        _add(self.flows, _since(closed, from_month), credit.CLOSED_DEALS, deal_flows)
        acquired = _grouped(credit.ACQUIRED_CUSTOMERS, leaves, None, new_customers=Count("pk"))
        _add(self.flows, _since(acquired, from_month), credit.ACQUIRED_CUSTOMERS, ["new_customers"])
        churned = churned_customers(leaves, self.per_kind)
        window_start = None if from_month is None else from_month - (TRAILING_MONTHS - 1)
        customer_revenue: Table = table()
        customer_wins(leaves, window_start, self.per_kind, customer_revenue)
        opened = _grouped(credit.DEALS_OPENED, leaves, None, **PIPELINE_SUMS)
        for row in opened:
            row["created_amount"] = row["amount_sum"]
        _add(self.flows, _since(opened, from_month), credit.DEALS_OPENED, ["created_amount"])
        pipeline = credit.DEALS_OPENED
        self.stocks = {
            "pipeline": _stock(opened, closed, pipeline, "amount_sum", "amount_sum"),
            "weighted_pipeline": _stock(opened, closed, pipeline, "weighted_sum", "weighted_sum"),
            # Every churned customer has an acquisition date (a database constraint).
            "active_at_start": _stock(
                acquired, churned, credit.ACQUIRED_CUSTOMERS, "new_customers", "churned"
            ),
        }
        # Running totals of two flows: a period's trailing 12 months is a difference of levels.
        self.trailing = {
            "customer_revenue_12m": Stock(
                {
                    leaf: {m: comps["customer_revenue"] for m, comps in by_month.items()}
                    for leaf, by_month in customer_revenue.items()
                }
            ),
            "churned_12m": _stock(
                _since(churned, window_start), [], credit.CHURNED_CUSTOMERS, "churned", "churned"
            ),
        }


class Stock:
    """A level per leaf after each month, from its monthly changes (kept as running levels only);
    `at(leaf, m)` is the level after month m."""

    def __init__(self, deltas: dict[Subject, dict[int, Decimal]]):
        self.months: dict[Subject, list[int]] = {}
        self.levels: dict[Subject, list[Decimal]] = {}
        for leaf, by_month in deltas.items():
            months = sorted(by_month)
            level, levels = ZERO, []
            for m in months:
                level += by_month[m]
                levels.append(level)
            self.months[leaf], self.levels[leaf] = months, levels

    def at(self, leaf: Subject, month: int) -> Decimal:
        i = bisect.bisect_right(self.months.get(leaf, []), month)
        return self.levels[leaf][i - 1] if i else ZERO


def _stock(rows_in, rows_out, facts: Facts, name_in: str, name_out: str) -> Stock:
    """The level of monthly ins minus outs per leaf."""
    deltas: dict[Subject, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for rows, sign, figure in [(rows_in, 1, name_in), (rows_out, -1, name_out)]:
        for row in rows:
            deltas[facts.leaf(row)][row["p"]] += sign * Decimal(row[figure] or 0)
    return Stock(deltas)


# --- which periods to compute, and the forecasts to compare with -------------------------------

SPANNING = [
    credit.DEALS_OPENED,
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
    """The latest commit forecast per subject (None: every subject) and period, among those made
    before it began (local midnight of its first day: the database leaves out the rest)."""
    zone, index, made_in_time = LOCAL(), {}, Q()
    for kind, periods in periods_by_kind.items():
        for p in periods:
            index[kind, p.start] = p.index
            began = timezone.make_aware(dt.datetime.combine(p.start, dt.time.min), zone)
            made_in_time |= Q(period_kind=kind, period_start=p.start, submitted_at__lt=began)
    if not index:
        return {}
    wanted_subjects = Q()
    if subjects is not None and len(subjects) <= FEW_SUBJECTS:  # else all of them, filtered below
        for scope, pk in subjects:
            wanted_subjects |= Q(
                scope=scope,
                rep_id=pk if scope == Scope.REP else None,
                team_id=pk if scope == Scope.TEAM else None,
            )
    rows = (
        ForecastSubmission.objects.filter(
            made_in_time, wanted_subjects, category=ForecastSubmission.Category.COMMIT
        )
        .order_by("submitted_at")
        .values_list("scope", "rep_id", "team_id", "period_kind", "period_start", "amount")
    )
    wanted, found = None if subjects is None else set(subjects), {}
    for scope, rep_id, team_id, kind, start, amount in rows.iterator(chunk_size=10_000):
        subject = Subject(scope, rep_id or team_id or 0)
        if wanted is None or subject in wanted:
            found[subject, kind, index[kind, start]] = amount  # later submissions overwrite earlier
    return found

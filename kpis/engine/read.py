"""Step 1, read: one grouped query per family of facts, at month grain, for some leaves.

Each query groups by (leaf, month) — whom a fact is credited to and the month its date falls in
(kpis.engine.attribution) — so Python sees one row per leaf and month, never one per deal; the
rows are keyed by the leaf's stint that month (`Credit.key`). A rep who changed team inside a
month is read by day instead, so that each day goes to the stint it belongs to.
Repeat buyers are counted per customer, streamed. Also here: the span of months worth
computing, and the commit forecasts that forecast_accuracy compares with.
"""

import bisect
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
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
    When,
)
from django.db.models.functions import (
    Cast,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    TruncDate,
    TruncDay,
    TruncMonth,
)
from django.utils import timezone

from kpis.models import (
    ForecastSubmission,
    Opportunity,
)
from kpis.periods import KINDS, LENGTH, Period, fiscal_shift, month_index, month_start, periods_between
from teams.subjects import COMPANY, Scope, Subject

from . import attribution as attributed
from .attribution import WON, Credit, Facts, Key, Leaves

ZERO = Decimal(0)
# {(leaf, stint): {month or period index: {component: value}}}
Table = dict[Key, dict[int, dict[str, Decimal]]]
# Facts are attributed to days in settings.TIME_ZONE, whatever zone a request has activated.
LOCAL = timezone.get_default_timezone


def table() -> Table:
    return defaultdict(lambda: defaultdict(dict))


def month_of(facts: Facts, daily=frozenset()):
    """SQL truncating a fact's date to its month (a timestamp: in TIME_ZONE) — date_trunc is far
    cheaper than EXTRACT on PostgreSQL — or to its day for the reps in `daily`."""
    zone = {"tzinfo": LOCAL()} if facts.timestamped else {"output_field": DateField()}
    month = TruncMonth(facts.date, **zone)
    if not daily:
        return month
    day = TruncDay(facts.date, **zone)
    kind = DateTimeField() if facts.timestamped else DateField()
    return Case(When(**{f"{facts.rep}__in": daily}, then=day), default=month, output_field=kind)


def _day(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def month_number(field: str):
    """SQL for the month index (kpis.periods.month_index) of a date."""
    index = ExtractYear(field) * 12 + ExtractMonth(field) - 1
    return ExpressionWrapper(Cast(index, IntegerField()), output_field=IntegerField())


def _by_month(facts: Facts, leaves: Leaves, from_month: int | None, credit: Credit):
    """The facts from the first day of `from_month` on (all when None), with their month (or day,
    for a rep credited by day) as `p`."""
    since = None if from_month is None else month_start(from_month)
    return facts.of(leaves, since=since).annotate(p=month_of(facts, credit.daily))


def _grouped(
    facts: Facts, leaves: Leaves, from_month: int | None, credit: Credit, **aggregates
) -> list[dict]:
    """Rows with `key` (leaf and stint), `p` (month index) and the aggregates."""
    keys = [facts.rep, *([facts.team] if facts.team else [])]
    rows = list(
        _by_month(facts, leaves, from_month, credit).values(*keys, "p").annotate(**aggregates).order_by()
    )
    for row in rows:
        day = _day(row["p"])
        row["key"], row["p"] = credit.key(facts.leaf(row), day), month_index(day)
    return rows


def _add(into: Table, rows, names):
    for row in rows:
        slot = into[row["key"]][row["p"]]
        for name in names:
            if row[name] is not None:
                slot[name] = slot.get(name, ZERO) + Decimal(row[name])


def _since(rows, from_month):
    return rows if from_month is None else [row for row in rows if row["p"] >= from_month]


# --- flows: summed per leaf and month; a quarter or year is the sum of its months ------------

# What a deal's state adds to the pipeline, to the weighted pipeline and to the open deals
# (attribution.state_spans).
PIPELINE_SUMS = {
    "amount_sum": Sum("amount"),
    "deal_count": Count("pk"),
    "weighted_sum": Sum(
        ExpressionWrapper(
            F("amount") * F("probability"), output_field=DecimalField(max_digits=24, decimal_places=5)
        )
    ),
}


_WON, _LOST = Q(stage__outcome=WON), Q(stage__outcome=attributed.LOST)
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


def closed_deals(leaves: Leaves, from_month, credit: Credit, into):
    """Per rep and close month: the deal flows."""
    dated_win = _WON & Q(created_on__isnull=False)
    cycle = ExpressionWrapper(F("closed_on") - F("created_on"), output_field=DurationField())
    rows = _grouped(
        attributed.CLOSED_DEALS,
        leaves,
        from_month,
        credit,
        **DEAL_FLOWS,
        cycle=Sum(cycle, filter=dated_win),
        cycle_count=Count("pk", filter=dated_win),
    )
    for row in rows:
        row["cycle_days"] = row["cycle"].days if row["cycle"] is not None else None
    _add(into, rows, ["won_amount", "won_count", "lost_count", "cycle_days", "cycle_count"])


def activities(leaves, from_month, credit, into):
    _add(
        into,
        _grouped(attributed.ACTIVITIES, leaves, from_month, credit, **ACTIVITY_FLOWS),
        list(ACTIVITY_FLOWS),
    )


def leads(leaves, from_month, credit, into):
    rows = _grouped(
        attributed.LEADS,
        leaves,
        from_month,
        credit,
        leads=Count("pk"),
        # Converted within the window of its creation (kpis.engine.evaluate: provisional until then).
        leads_converted=Count(
            "pk",
            filter=Q(
                converted_on__lte=F("created_on") + dt.timedelta(days=settings.LEAD_CONVERSION_WINDOW_DAYS)
            ),
        ),
    )
    _add(into, rows, ["leads", "leads_converted"])


def nps(leaves, from_month, credit, into):
    rows = _grouped(
        attributed.NPS_RESPONSES,
        leaves,
        from_month,
        credit,
        nps_responses=Count("pk"),
        promoters=Count("pk", filter=Q(score__gte=9)),
        detractors=Count("pk", filter=Q(score__lte=6)),
    )
    for row in rows:
        row["nps_net"] = row["promoters"] - row["detractors"]
    _add(into, rows, ["nps_responses", "nps_net"])


def spend(leaves, from_month, credit, into):
    _add(into, _grouped(attributed.SPEND, leaves, from_month, credit, spend=Sum("amount")), ["spend"])


def pipeline_created(leaves, from_month, credit, into):
    rows = _grouped(attributed.FIRST_STATES, leaves, from_month, credit, created_amount=Sum("amount"))
    _add(into, rows, ["created_amount"])


FLOWS = [closed_deals, pipeline_created, activities, leads, nps, spend]


def pipeline_moves(leaves: Leaves) -> tuple[list[dict], list[dict]]:
    """The deals' states by the month each entered and left the pipeline (attribution's
    PIPELINE_ENTRIES), in one scan of the states grouped by both months, as rows of a leaf's
    stock (_stock reads the leaf, not the stint): the entries, and the exits."""
    facts = attributed.PIPELINE_ENTRIES
    rows = (
        facts.of(leaves)
        .annotate(p_in=TruncMonth("entered_on"), p_out=TruncMonth("left_on"))
        .values(facts.rep, "p_in", "p_out")
        .annotate(**PIPELINE_SUMS)
        .order_by()
    )
    entered, left = [], []
    for row in rows:
        key = (facts.leaf(row), 0)
        entered.append({**row, "key": key, "p": month_index(row["p_in"])})
        if row["p_out"] is not None:
            left.append({**row, "key": key, "p": month_index(row["p_out"])})
    return entered, left


class PerKind:
    """Components that do not add up over months, counted for each period kind by itself:
    {kind: {(leaf, period index): {component: value}}}."""

    def __init__(self):
        self.sums = {kind: defaultdict(lambda: defaultdict(Decimal)) for kind in KINDS}
        self.shifts = [(kind, fiscal_shift(kind), LENGTH[kind]) for kind in KINDS]


def customer_wins(
    leaves: Leaves, from_month: int | None, credit: Credit, per_kind: PerKind, into: Table
) -> None:
    """Won deals seen from the customer's owner: the revenue from customers per month (a flow),
    and per period kind the buyers and repeat buyers — customers with at least two won deals up to
    the period's end, earlier ones or two in the period.

    Buyers are distinct customers, so a quarter is not the sum of its months. The rows (customer
    × month) are streamed in customer order and only the counts are kept, so memory does not
    grow with the number of customers. A customer's wins before `from_month` are counted for them.
    A buyer, and a repeat buyer, is credited to the stint of its first purchase in the period, so
    stints add up to the rep's counts and a team never has a repeat buyer it has not as a buyer.
    """
    facts = attributed.CUSTOMER_WINS
    wins = facts.of(leaves, since=None if from_month is None else month_start(from_month))
    earlier = {} if from_month is None else _wins_before(wins, from_month)
    # Month numbers, and the day of the month for an owner credited by day: integers are far
    # cheaper to stream than dates.
    day_of_month = Case(When(**{f"{facts.rep}__in": credit.daily}, then=ExtractDay("closed_on")), default=1)
    rows = (
        wins.annotate(month=month_number("closed_on"), dom=day_of_month if credit.daily else Value(1))
        .values_list(facts.rep, "customer_id", "month", "dom")
        .annotate(amount=Sum("amount"), deals=Count("pk"))
        .order_by("customer_id", "month", "dom")
    )
    if from_month is None:  # all history: stream it (a recent slice is small, and one query)
        rows = rows.iterator(chunk_size=10_000)
    current, counted, firsts = None, {}, {}
    for owner, customer, month, dom, amount, deals in rows:
        if customer != current:  # (kind → the last period counted as a buyer, as a repeat buyer,
            # and the stint the buyer was credited to)
            current, counted, won = customer, {}, earlier.get(customer, 0)
        if month not in firsts:
            firsts[month] = month_start(month)
        day = firsts[month] if dom == 1 else firsts[month].replace(day=dom)
        key = credit.key(Subject(Scope.REP, owner) if owner is not None else COMPANY, day)
        into[key][month]["customer_revenue"] = into[key][month].get("customer_revenue", ZERO) + amount
        won += deals
        for kind, shift, length in per_kind.shifts:
            p = (month - shift) // length
            buyer, repeat, first = counted.get(kind, (None, None, None))
            if buyer != p:  # months come in order: a new period
                buyer, first = p, key
                per_kind.sums[kind][first, p]["buyers"] += 1
            if won >= 2 and repeat != p:
                per_kind.sums[kind][first, p]["repeat_buyers"] += 1
                repeat = p
            counted[kind] = (buyer, repeat, first)


def _wins_before(wins, from_month: int) -> dict[int, int]:
    before = (
        Opportunity.objects.filter(
            attributed.CUSTOMER_WINS.where,
            customer_id__in=wins.values("customer_id"),
            closed_on__lt=month_start(from_month),
        )
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
        .order_by()
    )
    return dict(before)


def churned_customers(leaves: Leaves, credit: Credit, per_kind: PerKind) -> list[dict]:
    """Per owner and churn month (all history: the active base needs it), with the month each
    churned customer was acquired in. Churn counts, per period kind, the customers churned in a
    period that were acquired before it began: those in its active base — credited, like the
    base, to the owner's stint on the period's first day."""
    facts = attributed.CHURNED_CUSTOMERS
    rows = list(
        facts.of(leaves)
        .annotate(p=month_of(facts, credit.daily), a=month_number("acquired_on"))
        .values(facts.rep, "p", "a")
        .annotate(churned=Count("pk"))
        .order_by()
    )
    for row in rows:
        day = _day(row["p"])
        leaf, row["p"] = facts.leaf(row), month_index(day)
        row["key"] = credit.key(leaf, day)
        for kind, shift, length in per_kind.shifts:
            p = (row["p"] - shift) // length
            if (row["a"] - shift) // length < p:
                at_start = credit.key(leaf, month_start(p * length + shift))
                per_kind.sums[kind][at_start, p]["churned_from_base"] += row["churned"]
    return rows


# Trailing figures: a period's value covers the 12 months ending with it (cltv).
TRAILING_MONTHS = 12


class MonthlyFacts:
    """Everything the engine needs from the facts of some leaves, read once: flows per leaf and
    month (from `from_month` on, when given), the components counted per period kind (buyers,
    churn from the base), and the running levels of the stocks (pipeline, active customers:
    always from the beginning) and of the trailing 12-month sums (from 11 months earlier)."""

    def __init__(self, leaves: Leaves, from_month: int | None = None, credit: Credit | None = None):
        credit = credit or Credit()
        self.credit = credit
        self.flows: Table = table()
        self.per_kind = PerKind()
        for flow in FLOWS:
            flow(leaves, from_month, credit, self.flows)
        acquired = _grouped(attributed.ACQUIRED_CUSTOMERS, leaves, None, credit, new_customers=Count("pk"))
        _add(self.flows, _since(acquired, from_month), ["new_customers"])
        churned = churned_customers(leaves, credit, self.per_kind)
        window_start = None if from_month is None else from_month - (TRAILING_MONTHS - 1)
        customer_revenue: Table = table()
        customer_wins(leaves, window_start, credit, self.per_kind, customer_revenue)
        # The pipeline as it stood: what the deals' states added and took away, month by month.
        entered, left = pipeline_moves(leaves)
        # A stock's level is the leaf's; it is credited to the stint at the period's boundary
        # (kpis.engine.fold).
        self.stocks = {
            "pipeline": _stock(entered, left, "amount_sum", "amount_sum"),
            "weighted_pipeline": _stock(entered, left, "weighted_sum", "weighted_sum"),
            "open_at_start": _stock(entered, left, "deal_count", "deal_count"),
            # Every churned customer has an acquisition date (a database constraint).
            "active_at_start": _stock(acquired, churned, "new_customers", "churned"),
        }
        # Running totals of two flows, per stint: a period's trailing 12 months is a difference
        # of levels.
        self.trailing = {
            "customer_revenue_12m": Stock(
                {
                    key: {m: comps["customer_revenue"] for m, comps in by_month.items()}
                    for key, by_month in customer_revenue.items()
                }
            ),
            "churned_12m": _stock(_since(churned, window_start), [], "churned", "churned", by_stint=True),
        }


class Stock:
    """A level per leaf (or stint) after each month, from its monthly changes (kept as running
    levels only); `at(leaf, m)` is the level after month m."""

    def __init__(self, deltas: dict):
        self.months: dict = {}
        self.levels: dict = {}
        for leaf, by_month in deltas.items():
            months = sorted(by_month)
            level, levels = ZERO, []
            for m in months:
                level += by_month[m]
                levels.append(level)
            self.months[leaf], self.levels[leaf] = months, levels

    def at(self, leaf, month: int) -> Decimal:
        i = bisect.bisect_right(self.months.get(leaf, []), month)
        return self.levels[leaf][i - 1] if i else ZERO


def _stock(rows_in, rows_out, name_in: str, name_out: str, *, by_stint: bool = False) -> Stock:
    """The level of monthly ins minus outs per leaf (or per stint)."""
    deltas: dict = defaultdict(lambda: defaultdict(Decimal))
    for rows, sign, figure in [(rows_in, 1, name_in), (rows_out, -1, name_out)]:
        for row in rows:
            deltas[row["key"] if by_stint else row["key"][0]][row["p"]] += sign * Decimal(row[figure] or 0)
    return Stock(deltas)


# --- which periods to compute, and the forecasts to compare with -------------------------------

SPANNING = [
    attributed.DEALS_OPENED,
    attributed.DEAL_CHANGES,
    attributed.CLOSED_DEALS,
    attributed.LEADS,
    attributed.ACTIVITIES,
    attributed.ACQUIRED_CUSTOMERS,
    attributed.CHURNED_CUSTOMERS,
    attributed.NPS_RESPONSES,
    attributed.SPEND,
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

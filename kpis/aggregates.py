"""Set-based aggregation: one grouped query per metric family, over all reps and months at once.

Each query groups by (leaf, month), where the leaf is whom a fact is attributed to: a rep, a team
(team-level spend) or the company (facts with no owner). Months are summed into fiscal quarters
and years by the integer arithmetic of kpis.periods. Python only sees grouped rows — one per
leaf and month (per customer and month for repeat buyers), never one per deal.
"""

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DateField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Q,
    Sum,
)
from django.db.models.functions import Cast, ExtractMonth, ExtractYear, TruncMonth
from django.utils import timezone

from .models import AcquisitionSpend, Activity, Customer, Lead, NpsResponse, Opportunity, Stage
from .periods import KINDS, LENGTH, Period, fiscal_shift, month_index, month_start

REP, TEAM, COMPANY = "rep", "team", "company"
Leaf = tuple[str, int]
COMPANY_LEAF: Leaf = (COMPANY, 0)
ZERO = Decimal(0)
WON, LOST = Stage.Outcome.WON, Stage.Outcome.LOST


def month_of(field: str, *, timestamp=False):
    """SQL truncating the date in `field` to its month (a timestamp: in TIME_ZONE), turned into a
    month index by `_months` — date_trunc is far cheaper than EXTRACT on PostgreSQL."""
    if timestamp:
        return TruncMonth(field, tzinfo=timezone.get_default_timezone())
    return TruncMonth(field, output_field=DateField())


def month_number(field: str):
    """SQL for the month index (kpis.periods.month_index) of a date."""
    index = ExtractYear(field) * 12 + ExtractMonth(field) - 1
    return ExpressionWrapper(Cast(index, IntegerField()), output_field=IntegerField())


def _months(rows, *keys):
    """Rows with their truncated dates under `keys` as month indexes (None stays None)."""
    for row in rows:
        for key in keys:
            if row[key] is not None:
                row[key] = month_index(row[key])
    return rows


@dataclass(frozen=True)
class Scope:
    """The leaves a computation covers: some reps (None = all), some teams (None = all), and
    whether facts attributed to no one (the company leaf) are included."""

    rep_ids: frozenset | None = None
    team_ids: frozenset | None = None
    company: bool = True

    def q(self, rep_field: str, team_field: str | None = None) -> Q:
        def some(field, ids):
            return Q(**{f"{field}__isnull": False}) if ids is None else Q(**{f"{field}__in": ids})

        q = some(rep_field, self.rep_ids)
        if team_field:
            q |= some(team_field, self.team_ids)
        if self.company:
            q |= Q(
                **{f"{rep_field}__isnull": True}, **({f"{team_field}__isnull": True} if team_field else {})
            )
        return q


def leaf_of(rep_field: str, team_field: str | None = None):
    def leaf(row) -> Leaf:
        if row[rep_field] is not None:
            return (REP, row[rep_field])
        if team_field and row[team_field] is not None:
            return (TEAM, row[team_field])
        return COMPANY_LEAF

    return leaf


Table = dict[Leaf, dict[int, dict[str, Decimal]]]


def _add(table: Table, rows, leaf, names):
    for row in rows:
        slot = table[leaf(row)][row["p"]]
        for name in names:
            if row[name] is not None:
                slot[name] = slot.get(name, ZERO) + Decimal(row[name])


def _facts(model, scope_q: Q, date_field: str, from_month: int | None, **filters):
    """The facts a flow sums, from the first day of `from_month` on (all when None), with their
    month as `p`."""
    timestamp = model._meta.get_field(date_field).get_internal_type() == "DateTimeField"
    if from_month is not None:
        first_day = month_start(from_month)
        if timestamp:
            first_day = timezone.make_aware(dt.datetime.combine(first_day, dt.time.min))
        filters[f"{date_field}__gte"] = first_day
    return model.objects.filter(scope_q, **filters).annotate(p=month_of(date_field, timestamp=timestamp))


def _grouped(queryset, *fields, **aggregates) -> list[dict]:
    return _months(list(queryset.values(*fields, "p").annotate(**aggregates).order_by()), "p")


# --- flows: summed per leaf and month; a quarter or year is the sum of its months ------------
# Deals and customers are read over all their history, once, for the flows and the stocks alike.


def closed_deals(scope) -> list[dict]:
    """Per rep and close month: the deal flows, and what left the pipeline."""
    won, lost = Q(stage__outcome=WON), Q(stage__outcome=LOST)
    dated_win = won & Q(created_on__isnull=False)
    cycle = ExpressionWrapper(F("closed_on") - F("created_on"), output_field=DurationField())
    rows = _grouped(
        _facts(Opportunity, scope.q("rep_id"), "closed_on", None, closed_on__isnull=False),
        "rep_id",
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


def activities(scope, from_month, table):
    counts = {"calls": "call", "emails": "email", "meetings": "meeting"}
    rows = _grouped(
        _facts(Activity, scope.q("rep_id"), "occurred_at", from_month),
        "rep_id",
        **{name: Count("pk", filter=Q(kind=k)) for name, k in counts.items()},
    )
    _add(table, rows, leaf_of("rep_id"), list(counts))


def leads(scope, from_month, table):
    rows = _grouped(
        _facts(Lead, scope.q("rep_id"), "created_on", from_month),
        "rep_id",
        leads=Count("pk"),
        leads_converted=Count("pk", filter=Q(converted_on__isnull=False)),
    )
    _add(table, rows, leaf_of("rep_id"), ["leads", "leads_converted"])


def nps(scope, from_month, table):
    rows = _grouped(
        _facts(NpsResponse, scope.q("customer__owner_id"), "responded_on", from_month),
        "customer__owner_id",
        nps_responses=Count("pk"),
        promoters=Count("pk", filter=Q(score__gte=9)),
        detractors=Count("pk", filter=Q(score__lte=6)),
    )
    for row in rows:
        row["nps_net"] = row["promoters"] - row["detractors"]
    _add(table, rows, leaf_of("customer__owner_id"), ["nps_responses", "nps_net"])


def spend(scope, from_month, table):
    rows = _grouped(
        _facts(AcquisitionSpend, scope.q("rep_id", "team_id"), "spent_on", from_month),
        "rep_id",
        "team_id",
        spend=Sum("amount"),
    )
    _add(table, rows, leaf_of("rep_id", "team_id"), ["spend"])


FLOWS = [activities, leads, nps, spend]


class CustomerWins:
    """Won deals seen from the customer's owner: revenue from existing customers, repeat buyers.

    Buyers are distinct customers, so a quarter is not the sum of its months: each period kind
    counts its buyers itself. The rows (customer × month) are streamed in customer order and
    only the counts are kept, so memory does not grow with the number of customers. A
    customer's first win is its first row when they cover all history, else read for them.
    """

    def __init__(self, scope: Scope, from_month: int | None):
        wins_q = scope.q("customer__owner_id") & Q(customer__isnull=False, stage__outcome=WON)
        wins = _facts(Opportunity, wins_q, "closed_on", from_month, closed_on__isnull=False)
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
            leaf = (REP, owner) if owner is not None else COMPANY_LEAF
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
            Opportunity.objects.filter(
                customer_id__in=wins.values("customer_id"), stage__outcome=WON, closed_on__isnull=False
            )
            .values("customer_id")
            .annotate(first=Min("closed_on"))
            .values_list("customer_id", "first")
            .order_by()
        )
        return {customer: month_index(day) for customer, day in first}

    def add_to(self, table: Table, kind: str, wanted: set[int]) -> None:
        for (leaf, p), (buyers, repeat, existing) in self.sums[kind].items():
            if p in wanted:
                slot = table[leaf][p]
                slot["buyers"] = slot.get("buyers", ZERO) + buyers
                slot["repeat_buyers"] = slot.get("repeat_buyers", ZERO) + repeat
                slot["existing_revenue"] = slot.get("existing_revenue", ZERO) + existing


# --- stocks: a level at a period boundary, from monthly ins and outs ---------------------------


class Stock:
    """Cumulative monthly ins minus outs per leaf; `at(leaf, m)` is the level after month m."""

    NEVER = -1  # month index for "date unknown": in from the beginning

    def __init__(self):
        self.months: dict[Leaf, list[int]] = {}
        self.levels: dict[Leaf, list[Decimal]] = {}

    @classmethod
    def from_rows(cls, rows_in, rows_out, leaf, name, name_out=None) -> "Stock":
        deltas: dict[Leaf, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for rows, sign, figure in [(rows_in, 1, name), (rows_out, -1, name_out or name)]:
            for row in rows:
                p = cls.NEVER if row["p"] is None else row["p"]
                deltas[leaf(row)][p] += sign * Decimal(row[figure] or 0)
        stock = cls()
        for key, by_month in deltas.items():
            months = sorted(by_month)
            level, levels = ZERO, []
            for m in months:
                level += by_month[m]
                levels.append(level)
            stock.months[key], stock.levels[key] = months, levels
        return stock

    def at(self, leaf: Leaf, month: int) -> Decimal:
        i = bisect.bisect_right(self.months.get(leaf, []), month)
        return self.levels[leaf][i - 1] if i else ZERO

    def leaves(self):
        return self.levels.keys()


PIPELINE_SUMS = {
    "amount_sum": Sum("amount"),
    "weighted_sum": Sum(
        ExpressionWrapper(
            F("amount") * F("stage__probability"), output_field=DecimalField(max_digits=24, decimal_places=5)
        )
    ),
}


def pipeline_stocks(scope, closed: list[dict]) -> dict[str, Stock]:
    """Deals enter the pipeline in their creation month (unknown: always) and leave when closed."""
    opened = _grouped(_facts(Opportunity, scope.q("rep_id"), "created_on", None), "rep_id", **PIPELINE_SUMS)
    leaf = leaf_of("rep_id")
    return {
        "pipeline": Stock.from_rows(opened, closed, leaf, "amount_sum"),
        "weighted_pipeline": Stock.from_rows(opened, closed, leaf, "weighted_sum"),
    }


def customer_moves(scope) -> tuple[list[dict], list[dict]]:
    """Per owner and month: customers acquired, and customers churned (and of those, the ones
    with an acquisition date, which are the ones that were in the active base)."""
    owned = scope.q("owner_id")
    acquired = _grouped(
        _facts(Customer, owned, "acquired_on", None, acquired_on__isnull=False),
        "owner_id",
        new_customers=Count("pk"),
    )
    churned = _grouped(
        _facts(Customer, owned, "churned_on", None, churned_on__isnull=False),
        "owner_id",
        churned=Count("pk"),
        churned_active=Count("pk", filter=Q(acquired_on__isnull=False)),
    )
    return acquired, churned


class Aggregator:
    """All components for a scope, per leaf and period. The facts are read once, per month, and
    every period kind is rolled up from those months; `from_month` skips older flows (stocks
    always start from the beginning)."""

    def __init__(self, scope: Scope, from_month: int | None = None):
        self.monthly: Table = defaultdict(lambda: defaultdict(dict))
        for flow in FLOWS:
            flow(scope, from_month, self.monthly)
        closed = closed_deals(scope)
        deal_flows = ["won_amount", "won_count", "lost_count", "cycle_days", "cycle_count"]
        _add(self.monthly, _since(closed, from_month), leaf_of("rep_id"), deal_flows)
        acquired, churned = customer_moves(scope)
        owner = leaf_of("owner_id")
        _add(self.monthly, _since(acquired, from_month), owner, ["new_customers"])
        _add(self.monthly, _since(churned, from_month), owner, ["churned"])
        self.wins = CustomerWins(scope, from_month)
        self.pipeline = pipeline_stocks(scope, closed)
        self.customers = Stock.from_rows(acquired, churned, owner, "new_customers", "churned_active")

    def components(self, kind: str, periods: list[Period]) -> Table:
        table: Table = defaultdict(lambda: defaultdict(dict))
        wanted = {p.index for p in periods}
        shift, length = fiscal_shift(kind), LENGTH[kind]
        for leaf, by_month in self.monthly.items():
            for month, comps in by_month.items():
                p = (month - shift) // length
                if p in wanted:
                    slot = table[leaf][p]
                    for name, value in comps.items():
                        slot[name] = slot.get(name, ZERO) + value
        self.wins.add_to(table, kind, wanted)
        for period in periods:
            end, before_start = period.last_month, period.first_month - 1
            for name, stock in self.pipeline.items():
                for leaf in stock.leaves():
                    table[leaf][period.index][name] = stock.at(leaf, end)
            for leaf in self.customers.leaves():
                table[leaf][period.index]["active_at_start"] = self.customers.at(leaf, before_start)
        return table


def _since(rows, from_month):
    return rows if from_month is None else [row for row in rows if row["p"] >= from_month]

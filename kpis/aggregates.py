"""Set-based aggregation: one grouped query per metric family, over all reps and periods at once.

Each query groups by (leaf, period index), where the leaf is whom a fact is attributed to: a rep,
a team (team-level spend) or the company (facts with no owner). The period index is computed in
SQL by the same integer formula as kpis.periods, on SQLite and PostgreSQL alike. Python only
sees grouped rows — one per leaf and period, never one per deal.
"""

import bisect
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Cast, ExtractMonth, ExtractYear
from django.utils import timezone

from .models import AcquisitionSpend, Activity, Customer, Lead, NpsResponse, Opportunity, Stage
from .periods import LENGTH, Period, fiscal_shift

REP, TEAM, COMPANY = "rep", "team", "company"
Leaf = tuple[str, int]
COMPANY_LEAF: Leaf = (COMPANY, 0)
ZERO = Decimal(0)
WON, LOST = Stage.Outcome.WON, Stage.Outcome.LOST


def period_index(field: str, kind: str, *, local_datetime=False):
    """SQL for the index of the period of `kind` that the date in `field` falls in."""
    tz = {"tzinfo": timezone.get_default_timezone()} if local_datetime else {}
    year = Cast(ExtractYear(field, **tz), IntegerField())
    month = Cast(ExtractMonth(field, **tz), IntegerField())
    index = year * 12 + month - 1 - fiscal_shift(kind)
    if LENGTH[kind] > 1:
        index = index / Value(LENGTH[kind])  # integer division: both sides are integers
    return ExpressionWrapper(index, output_field=IntegerField())


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


# --- flows: summed over the facts whose date falls in the period ------------------------------


def deals(kind, scope, table):
    won, lost = Q(stage__outcome=WON), Q(stage__outcome=LOST)
    dated_win = won & Q(created_on__isnull=False)
    cycle = ExpressionWrapper(F("closed_on") - F("created_on"), output_field=DurationField())
    rows = list(
        Opportunity.objects.filter(scope.q("rep_id"), won | lost, closed_on__isnull=False)
        .annotate(p=period_index("closed_on", kind))
        .values("rep_id", "p")
        .annotate(
            won_amount=Sum("amount", filter=won),
            won_count=Count("pk", filter=won),
            lost_count=Count("pk", filter=lost),
            cycle=Sum(cycle, filter=dated_win),
            cycle_count=Count("pk", filter=dated_win),
        )
        .order_by()
    )
    for row in rows:
        row["cycle_days"] = row["cycle"].days if row["cycle"] is not None else None
    _add(
        table, rows, leaf_of("rep_id"), ["won_amount", "won_count", "lost_count", "cycle_days", "cycle_count"]
    )


def activities(kind, scope, table):
    counts = {"calls": "call", "emails": "email", "meetings": "meeting"}
    rows = (
        Activity.objects.filter(scope.q("rep_id"))
        .annotate(p=period_index("occurred_at", kind, local_datetime=True))
        .values("rep_id", "p")
        .annotate(**{name: Count("pk", filter=Q(kind=k)) for name, k in counts.items()})
        .order_by()
    )
    _add(table, rows, leaf_of("rep_id"), list(counts))


def leads(kind, scope, table):
    rows = (
        Lead.objects.filter(scope.q("rep_id"))
        .annotate(p=period_index("created_on", kind))
        .values("rep_id", "p")
        .annotate(leads=Count("pk"), leads_converted=Count("pk", filter=Q(converted_on__isnull=False)))
        .order_by()
    )
    _add(table, rows, leaf_of("rep_id"), ["leads", "leads_converted"])


def customers(kind, scope, table):
    for date_field, name in [("acquired_on", "new_customers"), ("churned_on", "churned")]:
        rows = (
            Customer.objects.filter(scope.q("owner_id"), **{f"{date_field}__isnull": False})
            .annotate(p=period_index(date_field, kind))
            .values("owner_id", "p")
            .annotate(**{name: Count("pk")})
            .order_by()
        )
        _add(table, rows, leaf_of("owner_id"), [name])


def nps(kind, scope, table):
    rows = list(
        NpsResponse.objects.filter(scope.q("customer__owner_id"))
        .annotate(p=period_index("responded_on", kind))
        .values("customer__owner_id", "p")
        .annotate(
            nps_responses=Count("pk"),
            promoters=Count("pk", filter=Q(score__gte=9)),
            detractors=Count("pk", filter=Q(score__lte=6)),
        )
        .order_by()
    )
    for row in rows:
        row["nps_net"] = row["promoters"] - row["detractors"]
    _add(table, rows, leaf_of("customer__owner_id"), ["nps_responses", "nps_net"])


def customer_wins(kind, scope, table):
    """Won deals seen from the customer's owner: revenue from existing customers, repeat buyers.

    Buyers are distinct customers, so this is grouped per customer and period (not summable over
    months), and compared in Python with each customer's first win — a join the database would
    otherwise redo per deal as a correlated subquery.
    """
    wins = Opportunity.objects.filter(
        scope.q("customer__owner_id"), customer__isnull=False, stage__outcome=WON, closed_on__isnull=False
    )
    first_win = dict(
        wins.values("customer_id")
        .annotate(first=Min("closed_on"))
        .values_list("customer_id", "first")
        .order_by()
    )
    rows = (
        wins.annotate(
            p=period_index("closed_on", kind), acquired_p=period_index("customer__acquired_on", kind)
        )
        .values("customer__owner_id", "customer_id", "p", "acquired_p")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    leaf = leaf_of("customer__owner_id")
    for row in rows:
        slot = table[leaf(row)][row["p"]]
        first_p = Period.containing(kind, first_win[row["customer_id"]]).index
        existing = row["acquired_p"] is not None and row["acquired_p"] < row["p"]
        slot["buyers"] = slot.get("buyers", ZERO) + 1
        slot["repeat_buyers"] = slot.get("repeat_buyers", ZERO) + (first_p < row["p"])
        slot["existing_revenue"] = slot.get("existing_revenue", ZERO) + (row["amount"] if existing else ZERO)


def spend(kind, scope, table):
    rows = (
        AcquisitionSpend.objects.filter(scope.q("rep_id", "team_id"))
        .annotate(p=period_index("spent_on", kind))
        .values("rep_id", "team_id", "p")
        .annotate(spend=Sum("amount"))
        .order_by()
    )
    _add(table, rows, leaf_of("rep_id", "team_id"), ["spend"])


FLOWS = [deals, activities, leads, customers, nps, customer_wins, spend]


# --- stocks: a level at a period boundary, from monthly ins and outs ---------------------------


class Stock:
    """Cumulative monthly ins minus outs per leaf; `at(leaf, m)` is the level after month m."""

    NEVER = -1  # month index for "date unknown": in from the beginning

    def __init__(self):
        self.months: dict[Leaf, list[int]] = {}
        self.levels: dict[Leaf, list[Decimal]] = {}

    @classmethod
    def from_rows(cls, rows_in, rows_out, leaf, name) -> "Stock":
        deltas: dict[Leaf, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for rows, sign in [(rows_in, 1), (rows_out, -1)]:
            for row in rows:
                p = cls.NEVER if row["p"] is None else row["p"]
                deltas[leaf(row)][p] += sign * Decimal(row[name] or 0)
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


def pipeline_stocks(scope) -> dict[str, Stock]:
    """Deals enter the pipeline in their creation month (unknown: always) and leave when closed."""
    weighted = ExpressionWrapper(
        F("amount") * F("stage__probability"), output_field=DecimalField(max_digits=24, decimal_places=5)
    )
    base = Opportunity.objects.filter(scope.q("rep_id"))
    sums = {"amount_sum": Sum("amount"), "weighted_sum": Sum(weighted)}
    opened = list(
        base.annotate(p=period_index("created_on", "month")).values("rep_id", "p").annotate(**sums).order_by()
    )
    closed = list(
        base.filter(closed_on__isnull=False)
        .annotate(p=period_index("closed_on", "month"))
        .values("rep_id", "p")
        .annotate(**sums)
        .order_by()
    )
    leaf = leaf_of("rep_id")
    return {
        "pipeline": Stock.from_rows(opened, closed, leaf, "amount_sum"),
        "weighted_pipeline": Stock.from_rows(opened, closed, leaf, "weighted_sum"),
    }


def customer_stock(scope) -> Stock:
    """Customers join the active base when acquired and leave it when churned."""
    base = Customer.objects.filter(scope.q("owner_id"), acquired_on__isnull=False)
    acquired = (
        base.annotate(p=period_index("acquired_on", "month"))
        .values("owner_id", "p")
        .annotate(n=Count("pk"))
        .order_by()
    )
    churned = (
        base.filter(churned_on__isnull=False)
        .annotate(p=period_index("churned_on", "month"))
        .values("owner_id", "p")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Stock.from_rows(list(acquired), list(churned), leaf_of("owner_id"), "n")


class Aggregator:
    """All components for a scope, per leaf and period; stocks are read once for every kind."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.pipeline = pipeline_stocks(scope)
        self.customers = customer_stock(scope)

    def components(self, kind: str, periods: list[Period]) -> Table:
        table: Table = defaultdict(lambda: defaultdict(dict))
        for flow in FLOWS:
            flow(kind, self.scope, table)
        for period in periods:
            end, before_start = period.last_month, period.first_month - 1
            for name, stock in self.pipeline.items():
                for leaf in stock.leaves():
                    table[leaf][period.index][name] = stock.at(leaf, end)
            for leaf in self.customers.leaves():
                table[leaf][period.index]["active_at_start"] = self.customers.at(leaf, before_start)
        return table

"""The records behind a number: for each metric, the facts it counts in one period.

A page shows a snapshot; its drill-down lists the deals, activities, leads, customers or
responses that made it, chosen by the same attribution rules as kpis.aggregates (docs/metrics.md).
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from kpis.periods import Period

from .models import Activity, Customer, ForecastSubmission, Lead, NpsResponse, Opportunity


@dataclass(frozen=True)
class Column:
    header: str
    path: str  # attribute path on the record, dots for relations

    def of(self, record):
        value = record
        for part in self.path.split("."):
            value = getattr(value, part, None) if value is not None else None
        return value


@dataclass(frozen=True)
class Records:
    kind: str  # what a row is, for headings: "won deals", "calls", …
    queryset: object
    columns: list[Column]
    search: list[str]  # fields the `q` filter looks in


DEAL_COLUMNS = [
    Column("Deal", "__str__"),
    Column("Customer", "customer.name"),
    Column("Rep", "rep.full_name"),
    Column("Stage", "stage.name"),
    Column("Amount", "amount"),
    Column("Created", "created_on"),
    Column("Closed", "closed_on"),
]
DEAL_SEARCH = ["name", "external_id", "customer__name", "product", "rep__full_name"]


def _day_bounds(period: Period):
    """The period's first and last instants in TIME_ZONE, where activities are dated."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def records_for(metric: str, period: Period, reps: dict | None, subject: tuple[str, int]) -> Records:
    """The facts behind `metric` in `period` for `subject` (scope, id).

    reps is a lookup on Rep that selects the subject's reps ({"pk": 3}, {"team_id__in": [...]}),
    None for the company (which also counts facts that belong to no rep)."""

    def by(field):
        return Q() if reps is None else Q(**{f"{field}__{k}": v for k, v in reps.items()})

    deals = Opportunity.objects.select_related("customer", "rep", "stage")
    closed_in = Q(closed_on__gte=period.start, closed_on__lte=period.end)
    won = deals.filter(closed_in, by("rep"), stage__outcome="won")
    if metric in ("revenue_won", "deals_won", "avg_deal_value"):
        return Records("won deals", won.order_by("-closed_on", "-pk"), DEAL_COLUMNS, DEAL_SEARCH)
    if metric == "sales_cycle_days":
        qs = won.filter(created_on__isnull=False).order_by("-closed_on", "-pk")
        return Records("won deals with both dates", qs, DEAL_COLUMNS, DEAL_SEARCH)
    if metric == "deals_lost":
        qs = deals.filter(closed_in, by("rep"), stage__outcome="lost").order_by("-closed_on", "-pk")
        return Records("lost deals", qs, DEAL_COLUMNS, DEAL_SEARCH)
    if metric == "win_rate":
        qs = deals.filter(closed_in, by("rep"), stage__outcome__in=["won", "lost"]).order_by(
            "-closed_on", "-pk"
        )
        return Records("closed deals", qs, DEAL_COLUMNS, DEAL_SEARCH)
    if metric in ("pipeline_value", "weighted_pipeline_value"):
        qs = deals.filter(
            Q(created_on__lte=period.end) | Q(created_on__isnull=True),
            Q(closed_on__isnull=True) | Q(closed_on__gt=period.end),
            by("rep"),
        ).order_by("-amount", "-pk")
        return Records("deals open at the period's end", qs, DEAL_COLUMNS, DEAL_SEARCH)
    if metric in ("leads_generated", "lead_conversion_rate"):
        qs = (
            Lead.objects.select_related("rep", "customer")
            .filter(by("rep"), created_on__gte=period.start, created_on__lte=period.end)
            .order_by("-created_on", "-pk")
        )
        columns = [
            Column("Lead", "name"),
            Column("Rep", "rep.full_name"),
            Column("Source", "source"),
            Column("Created", "created_on"),
            Column("Converted", "converted_on"),
            Column("Customer", "customer.name"),
        ]
        return Records("leads created", qs, columns, ["name", "source", "rep__full_name"])
    if metric in ("calls_made", "emails_sent", "meetings_held"):
        kind = {"calls_made": "call", "emails_sent": "email", "meetings_held": "meeting"}[metric]
        start, end = _day_bounds(period)
        qs = (
            Activity.objects.select_related("rep", "customer")
            .filter(by("rep"), kind=kind, occurred_at__gte=start, occurred_at__lt=end)
            .order_by("-occurred_at", "-pk")
        )
        columns = [
            Column("When", "occurred_at"),
            Column("Subject", "subject"),
            Column("Rep", "rep.full_name"),
            Column("Customer", "customer.name"),
        ]
        return Records(f"{kind}s", qs, columns, ["subject", "customer__name", "rep__full_name"])
    customers = Customer.objects.select_related("owner")
    customer_columns = [
        Column("Customer", "name"),
        Column("Owner", "owner.full_name"),
        Column("Sector", "sector"),
        Column("Acquired", "acquired_on"),
        Column("Churned", "churned_on"),
    ]
    customer_search = ["name", "sector", "country"]
    if metric in ("new_customers", "cac"):
        qs = customers.filter(by("owner"), acquired_on__gte=period.start, acquired_on__lte=period.end)
        return Records(
            "customers acquired", qs.order_by("-acquired_on", "pk"), customer_columns, customer_search
        )
    if metric == "churn_rate":
        qs = customers.filter(by("owner"), churned_on__gte=period.start, churned_on__lte=period.end)
        return Records(
            "customers churned", qs.order_by("-churned_on", "pk"), customer_columns, customer_search
        )
    if metric in ("cltv", "repeat_purchase_rate"):
        # Customer metrics follow the customer's owner, not the deal's rep.
        qs = deals.filter(closed_in, by("customer__owner"), stage__outcome="won", customer__isnull=False)
        kind = "won deals with a customer"
        if metric == "cltv":
            qs = qs.filter(customer__acquired_on__lt=period.start)
            kind = "won deals from existing customers"
        return Records(kind, qs.order_by("-closed_on", "-pk"), DEAL_COLUMNS, DEAL_SEARCH)
    if metric == "nps":
        qs = (
            NpsResponse.objects.select_related("customer")
            .filter(by("customer__owner"), responded_on__gte=period.start, responded_on__lte=period.end)
            .order_by("-responded_on", "-pk")
        )
        columns = [
            Column("Customer", "customer.name"),
            Column("Responded", "responded_on"),
            Column("Score", "score"),
            Column("Comment", "comment"),
        ]
        return Records("NPS responses", qs, columns, ["customer__name", "comment"])
    if metric == "forecast_accuracy":
        scope, pk = subject
        qs = (
            ForecastSubmission.objects.for_subject(scope, pk)
            .select_related("submitted_by")
            .filter(period_kind=period.kind, period_start=period.start)
            .order_by("-submitted_at")
        )
        columns = [
            Column("Submitted", "submitted_at"),
            Column("Category", "category"),
            Column("Amount", "amount"),
            Column("By", "submitted_by.username"),
        ]
        return Records("forecasts for the period", qs, columns, ["category"])
    raise KeyError(metric)

"""The baseline bench_kpis compares against: the per-rep, per-month ORM loop most Django apps write.

One query per figure, one `save()` per snapshot, months only (quarters and years would cost more
again). Its figures are real — bench_kpis checks them against the engine's snapshots — so the
comparison is between two correct ways of getting the same numbers.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from kpis.catalogue import value_of
from kpis.models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
    OpportunityState,
    Stage,
)
from kpis.periods import Period, month_index, month_start
from teams.subjects import Scope

ZERO = Decimal(0)


def rep_month_pairs(rep_id: int, month: Period) -> dict[str, tuple[Decimal, Decimal | None]]:
    """Every metric of one rep for one month, figure by figure."""
    start, end = month.start, month.end
    tz = timezone.get_default_timezone()
    day_after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    first_moment = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    deals = Opportunity.objects.filter(rep_id=rep_id)
    closed = deals.filter(closed_on__gte=start, closed_on__lte=end)
    won = closed.filter(stage__outcome=Stage.Outcome.WON)
    won_agg = won.aggregate(amount=Sum("amount"), n=Count("pk"))
    won_amount, won_count = won_agg["amount"] or ZERO, Decimal(won_agg["n"])
    lost_count = Decimal(closed.filter(stage__outcome=Stage.Outcome.LOST).count())
    cycle_days = cycle_count = ZERO
    for created, closed_on in won.filter(created_on__isnull=False).values_list("created_on", "closed_on"):
        cycle_days += (closed_on - created).days
        cycle_count += 1
    pipe = _pipeline(rep_id, start, end, tz)
    leads = Lead.objects.filter(rep_id=rep_id, created_on__gte=start, created_on__lte=end)
    activities = Activity.objects.filter(
        rep_id=rep_id, occurred_at__gte=first_moment, occurred_at__lt=day_after
    )
    customers = Customer.objects.filter(owner_id=rep_id)
    new_customers = Decimal(customers.filter(acquired_on__gte=start, acquired_on__lte=end).count())
    base = customers.filter(acquired_on__lt=start).filter(
        Q(churned_on__isnull=True) | Q(churned_on__gte=start)
    )
    active_at_start = Decimal(base.count())
    churned_from_base = Decimal(base.filter(churned_on__lte=end).count())
    year_start = month_start(month_index(end) - 11)  # the 12 months ending with `end`
    churned_in_year = Decimal(customers.filter(churned_on__gte=year_start, churned_on__lte=end).count())
    spend = (
        AcquisitionSpend.objects.filter(rep_id=rep_id, spent_on__gte=start, spent_on__lte=end).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    responses = NpsResponse.objects.filter(
        customer__owner_id=rep_id, responded_on__gte=start, responded_on__lte=end
    )
    nps = responses.aggregate(
        n=Count("pk"), pro=Count("pk", filter=Q(score__gte=9)), det=Count("pk", filter=Q(score__lte=6))
    )
    buyers = repeat_buyers = 0
    owned_wins = Opportunity.objects.filter(
        customer__owner_id=rep_id, stage__outcome=Stage.Outcome.WON, closed_on__isnull=False
    )
    for customer_id in (
        owned_wins.filter(closed_on__gte=start, closed_on__lte=end)
        .order_by()  # else the default ordering's column joins the DISTINCT
        .values_list("customer_id", flat=True)
        .distinct()
    ):
        buyers += 1
        repeat_buyers += owned_wins.filter(customer_id=customer_id, closed_on__lte=end).count() >= 2
    revenue_in_year = (
        owned_wins.filter(closed_on__gte=year_start, closed_on__lte=end).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    forecast = (
        ForecastSubmission.objects.filter(
            scope=Scope.REP,
            rep_id=rep_id,
            period_kind="month",
            period_start=start,
            category="commit",
            submitted_at__lt=first_moment,
        )
        .order_by("-submitted_at")
        .values_list("amount", flat=True)
        .first()
    )
    leads_n = Decimal(leads.count())
    return {
        "revenue_won": (won_amount, None),
        "deals_won": (won_count, None),
        "deals_lost": (lost_count, None),
        "avg_deal_value": (won_amount, won_count),
        "win_rate": (won_count, won_count + lost_count),
        "sales_cycle_days": (cycle_days, cycle_count),
        "pipeline_value": (pipe["open_amount"], None),
        "weighted_pipeline_value": (pipe["open_weighted"], None),
        "pipeline_created": (pipe["created"], None),
        "sales_velocity": (pipe["open_at_start"], None),
        "leads_generated": (leads_n, None),
        "lead_conversion_rate": (Decimal(sum(1 for lead in leads if _converted_in_window(lead))), leads_n),
        "calls_made": (Decimal(activities.filter(kind="call").count()), None),
        "emails_sent": (Decimal(activities.filter(kind="email").count()), None),
        "meetings_held": (Decimal(activities.filter(kind="meeting").count()), None),
        "new_customers": (new_customers, None),
        "cac": (spend, new_customers),
        "churn_rate": (churned_from_base, active_at_start),
        "cltv": (revenue_in_year * settings.GROSS_MARGIN, churned_in_year),
        "nps": (Decimal((nps["pro"] - nps["det"]) * 100), Decimal(nps["n"])),
        "repeat_purchase_rate": (Decimal(repeat_buyers), Decimal(buyers)),
        "forecast_accuracy": _accuracy(won_amount, forecast, ended=end < timezone.localdate()),
        "forecast_bias": _bias(won_amount, forecast, ended=end < timezone.localdate()),
    }


def _pipeline(rep_id: int, start: dt.date, end: dt.date, tz) -> dict[str, Decimal]:
    """The rep's pipeline as it stood, walking its deals' states (kpis.deal_history) one by one:
    open at the month's end (amount, weighted), open when it began (sales velocity's numerator),
    and created in it at the amount first recorded."""
    first_open = Stage.objects.filter(outcome=Stage.Outcome.OPEN).order_by("order", "name").first()
    found = {"open_amount": ZERO, "open_weighted": ZERO, "open_at_start": ZERO, "created": ZERO}
    for state in OpportunityState.objects.filter(opportunity__rep_id=rep_id).select_related(
        "stage", "opportunity"
    ):
        opened = state.opportunity.opened_on
        entered = max(opened, timezone.localdate(state.since, tz)) if state.since else opened
        left = timezone.localdate(state.until, tz) if state.until else None
        closed = state.stage.outcome != Stage.Outcome.OPEN
        if closed:  # first recorded closed: open until its close date, in an unknown stage
            left = state.closed_on if left is None else min(left, state.closed_on)
        if entered <= end and (left is None or end < left):
            found["open_amount"] += state.amount
            probability = first_open.probability if closed else state.stage.probability
            found["open_weighted"] += state.amount * probability
        day_before = start - dt.timedelta(days=1)
        if entered <= day_before and (left is None or day_before < left):
            found["open_at_start"] += 1
        if state.since is None and start <= opened <= end:
            found["created"] += state.amount
    return found


def _converted_in_window(lead) -> bool:
    window = dt.timedelta(days=settings.LEAD_CONVERSION_WINDOW_DAYS)
    return lead.converted_on is not None and lead.converted_on <= lead.created_on + window


def _accuracy(won, forecast, *, ended):
    """max(0, 1 − |won − forecast| / won) for an ended period; a complete miss is 0 / forecast."""
    if forecast is None or not ended or (won == 0 and forecast <= 0):
        return ZERO, ZERO
    if won == 0:
        return ZERO, forecast
    return max(ZERO, won - abs(won - forecast)), won


def _bias(won, forecast, *, ended):
    """(forecast − won) / won for an ended period; a complete miss is forecast / forecast."""
    if forecast is None or not ended:
        return ZERO, ZERO
    return forecast - won, won or forecast


def naive_save(rep_id: int, month: Period, pairs) -> None:
    """One get and one save() per snapshot, as a hand-written loop would."""
    now = timezone.now()
    for metric, (num, den) in pairs.items():
        snapshot = KpiSnapshot.objects.filter(
            scope=Scope.REP, subject_id=rep_id, metric=metric, period_kind="month", period_start=month.start
        ).first() or KpiSnapshot(
            scope=Scope.REP, subject_id=rep_id, metric=metric, period_kind="month", period_start=month.start
        )
        snapshot.numerator, snapshot.denominator = num, den
        snapshot.value = value_of(num, den)
        snapshot.computed_at = now
        snapshot.save()

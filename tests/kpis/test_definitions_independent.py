"""The definitions that changed in issue 16, checked on a seeded demo against plain Python over
the rows — written apart from the engine (no engine module, no grouped query): every rep, team,
region and the company, every month, quarter and year, every changed metric."""

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from kpis.models import Customer, ForecastSubmission, KpiSnapshot, Lead, Opportunity
from kpis.periods import Period, month_index, month_start
from teams.models import Rep, Team

pytestmark = pytest.mark.django_db
ZERO, SIX = Decimal(0), Decimal("0.000001")
CHANGED = [
    "churn_rate",
    "cltv",
    "repeat_purchase_rate",
    "lead_conversion_rate",
    "forecast_accuracy",
    "pipeline_value",
    "pipeline_created",
]


def six(value):
    return None if value is None else Decimal(value).quantize(SIX, ROUND_HALF_UP)


def opened(deal):
    if deal["created_on"]:
        return deal["created_on"]
    return min(deal["recorded_on"], deal["closed_on"]) if deal["closed_on"] else deal["recorded_on"]


class Rows:
    """Every row the changed metrics read, loaded once into plain Python."""

    def __init__(self):
        self.deals = list(
            Opportunity.objects.values(
                "rep_id",
                "customer_id",
                "customer__owner_id",
                "stage__outcome",
                "amount",
                "created_on",
                "closed_on",
                "recorded_on",
            )
        )
        self.customers = list(Customer.objects.values("pk", "owner_id", "acquired_on", "churned_on"))
        self.leads = list(Lead.objects.values("rep_id", "created_on", "converted_on"))
        self.commits = list(
            ForecastSubmission.objects.filter(category="commit").values(
                "scope", "rep_id", "team_id", "period_kind", "period_start", "amount", "submitted_at"
            )
        )
        self.rep_team = dict(Rep.objects.values_list("pk", "team_id"))
        self.parent = dict(Team.objects.values_list("pk", "parent_id"))

    def below(self, team):
        teams = {team}
        while True:
            more = {t for t, p in self.parent.items() if p in teams} - teams
            if not more:
                return teams
            teams |= more


def pair(metric, rows: Rows, reps, owners, period: Period, subject):
    start, end = period.start, period.end
    won = [d for d in rows.deals if d["stage__outcome"] == "won" and d["closed_on"]]
    mine = [c for c in rows.customers if c["owner_id"] in owners]
    if metric == "churn_rate":
        base = [c for c in mine if c["acquired_on"] and c["acquired_on"] < start]
        base = [c for c in base if c["churned_on"] is None or c["churned_on"] >= start]
        return Decimal(sum(1 for c in base if c["churned_on"] and c["churned_on"] <= end)), Decimal(len(base))
    if metric == "cltv":
        first = month_start(month_index(end) - 11)
        revenue = sum(
            (
                d["amount"]
                for d in won
                if d["customer_id"] and d["customer__owner_id"] in owners and first <= d["closed_on"] <= end
            ),
            ZERO,
        )
        churned = sum(1 for c in mine if c["churned_on"] and first <= c["churned_on"] <= end)
        return revenue * settings.GROSS_MARGIN, Decimal(churned)
    if metric == "repeat_purchase_rate":
        wins = [d for d in won if d["customer_id"] and d["customer__owner_id"] in owners]
        buyers = {d["customer_id"] for d in wins if start <= d["closed_on"] <= end}
        by_end = defaultdict(int)
        for d in wins:
            if d["closed_on"] <= end:
                by_end[d["customer_id"]] += 1
        return Decimal(sum(1 for c in buyers if by_end[c] >= 2)), Decimal(len(buyers))
    if metric == "lead_conversion_rate":
        leads = [lead for lead in rows.leads if lead["rep_id"] in reps and start <= lead["created_on"] <= end]
        window = dt.timedelta(days=settings.LEAD_CONVERSION_WINDOW_DAYS)
        converted = [
            lead
            for lead in leads
            if lead["converted_on"] and lead["converted_on"] <= lead["created_on"] + window
        ]
        return Decimal(len(converted)), Decimal(len(leads))
    deals = [d for d in rows.deals if d["rep_id"] in reps]
    if metric == "pipeline_value":
        open_at_end = [
            d for d in deals if opened(d) <= end and (d["closed_on"] is None or d["closed_on"] > end)
        ]
        return sum((d["amount"] for d in open_at_end), ZERO), None
    if metric == "pipeline_created":
        return sum((d["amount"] for d in deals if start <= opened(d) <= end), ZERO), None
    if metric == "forecast_accuracy":
        revenue = sum(
            (d["amount"] for d in won if d["rep_id"] in reps and start <= d["closed_on"] <= end), ZERO
        )
        forecast = effective_forecast(rows, subject, period)
        if forecast is None or end >= timezone.localdate():
            return ZERO, ZERO
        if revenue == 0:
            return (ZERO, forecast) if forecast > 0 else (ZERO, ZERO)
        return max(ZERO, revenue - abs(revenue - forecast)), revenue
    raise AssertionError(metric)


def own_commit(rows: Rows, subject, period: Period):
    """The subject's latest commit for exactly this period, made before the period began."""
    began = timezone.make_aware(dt.datetime.combine(period.start, dt.time.min))

    def whose(c):
        return (c["scope"], c["rep_id"] or c["team_id"] or 0)

    mine = [
        c
        for c in rows.commits
        if whose(c) == subject
        and (c["period_kind"], c["period_start"]) == (period.kind, period.start)
        and c["submitted_at"] < began
    ]
    return max(mine, key=lambda c: c["submitted_at"])["amount"] if mine else None


def effective_forecast(rows: Rows, subject, period: Period):
    own = own_commit(rows, subject, period)
    if own is not None or subject[0] == "rep":
        return own
    if subject[0] == "team":
        children = [("rep", r) for r, t in rows.rep_team.items() if t == subject[1]]
        children += [("team", t) for t, p in rows.parent.items() if p == subject[1]]
    else:
        children = [("team", t) for t, p in rows.parent.items() if p is None]
    found = [f for f in (effective_forecast(rows, c, period) for c in children) if f is not None]
    return sum(found, ZERO) if found else None


def test_every_changed_figure_of_the_demo_agrees_with_plain_python():
    call_command(
        "seed_demo", "--reps", "8", "--opportunities", "600", "--activities", "100", "--months", "14"
    )
    rows = Rows()
    subjects = {("rep", r): ({r}, {r}) for r in rows.rep_team}
    for team in rows.parent:
        reps = {r for r, t in rows.rep_team.items() if t in rows.below(team)}
        subjects["team", team] = (reps, reps)
    subjects["company", 0] = (set(rows.rep_team), set(rows.rep_team) | {None})
    stored = {
        (scope, pk, m, kind, start): (num, den)
        for scope, pk, m, kind, start, num, den in KpiSnapshot.objects.filter(metric__in=CHANGED).values_list(
            "scope", "subject_id", "metric", "period_kind", "period_start", "numerator", "denominator"
        )
    }
    compared, differed = 0, []
    for (scope, pk, metric, kind, start), (num, den) in stored.items():
        reps, owners = subjects[scope, pk]
        period = Period.from_start(kind, start)
        expected = pair(metric, rows, reps, owners, period, (scope, pk))
        compared += 1
        if (six(expected[0]), six(expected[1])) != (num, den):
            differed.append((scope, pk, metric, period.label, expected, (num, den)))
    print(f"{compared} figures compared, {len(differed)} differed")
    assert compared >= len(CHANGED) * len(subjects) * 20
    assert differed == []

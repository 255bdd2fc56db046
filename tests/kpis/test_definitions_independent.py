"""The definitions that changed in issue 16, checked on a seeded demo against plain Python over
the rows — written apart from the engine (no engine module, no grouped query): every rep, team,
region and the company, every month, quarter and year, every changed metric. The demo has dated
moves: a team is credited with what a rep did on the days the rep was in it (or below it), read
here straight from the Membership and Placement rows. The pipeline is issue 17's, as it stood:
from the deals' histories, which the demo gives several states each (amounts revised too)."""

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from kpis.models import Customer, ForecastSubmission, KpiSnapshot, Lead, Opportunity, OpportunityState
from kpis.periods import Period, month_index, month_start
from teams.models import Membership, Placement

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


def opened(deal, closed_on="closed_on"):
    if deal["created_on"]:
        return deal["created_on"]
    return min(deal["recorded_on"], deal[closed_on]) if deal[closed_on] else deal["recorded_on"]


def open_days(state) -> tuple[dt.date, dt.date | None]:
    """The days a state of a deal was in the pipeline, [entered, left): from the day it took
    effect (never before the deal opened) to the day the next one did; a state already won or
    lost was open only until its close date."""
    opened_on = opened(state, "deal_closed_on")
    entered = max(opened_on, timezone.localdate(state["since"])) if state["since"] else opened_on
    left = timezone.localdate(state["until"]) if state["until"] else None
    if state["stage__outcome"] != "open":
        left = state["closed_on"] if left is None else min(left, state["closed_on"])
    return entered, left


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
        self.states = list(  # each deal's history, with the deal's own dates and current owner
            OpportunityState.objects.values(
                "since",
                "until",
                "stage__outcome",
                "amount",
                "closed_on",
                owner_id=F("opportunity__rep_id"),
                created_on=F("opportunity__created_on"),
                recorded_on=F("opportunity__recorded_on"),
                deal_closed_on=F("opportunity__closed_on"),
            )
        )
        self.customers = list(Customer.objects.values("pk", "owner_id", "acquired_on", "churned_on"))
        self.leads = list(Lead.objects.values("rep_id", "created_on", "converted_on"))
        self.commits = list(
            ForecastSubmission.objects.filter(category="commit").values(
                "scope", "rep_id", "team_id", "period_kind", "period_start", "amount", "submitted_at"
            )
        )
        self.memberships = list(Membership.objects.values_list("rep_id", "team_id", "since", "until"))
        self.placements = list(Placement.objects.values_list("team_id", "parent_id", "since", "until"))
        self.rep_team = {rep: team for rep, team, _, until in self.memberships if until is None}
        self.parent = {team: parent for team, parent, _, until in self.placements if until is None}

    def team_of(self, rep, day):
        return next(t for r, t, since, until in self.memberships if r == rep and held(since, until, day))

    def parent_of(self, team, day):
        return next(p for t, p, since, until in self.placements if t == team and held(since, until, day))

    def credits(self, subject, rep, day) -> bool:
        """Was `subject` credited with what `rep` did on `day`?"""
        scope, pk = subject
        if scope == "company":
            return True
        if rep is None:
            return False
        if scope == "rep":
            return rep == pk
        team = self.team_of(rep, day)
        while team is not None:
            if team == pk:
                return True
            team = self.parent_of(team, day)
        return False


def held(since, until, day) -> bool:
    return (since is None or since <= day) and (until is None or day < until)


def pair(metric, rows: Rows, period: Period, subject):
    start, end = period.start, period.end
    won = [d for d in rows.deals if d["stage__outcome"] == "won" and d["closed_on"]]

    def credited(rep, day):
        return rows.credits(subject, rep, day)

    if metric == "churn_rate":  # the base, and the churn from it, where the owner was at the start
        base = [c for c in rows.customers if credited(c["owner_id"], start)]
        base = [c for c in base if c["acquired_on"] and c["acquired_on"] < start]
        base = [c for c in base if c["churned_on"] is None or c["churned_on"] >= start]
        return Decimal(sum(1 for c in base if c["churned_on"] and c["churned_on"] <= end)), Decimal(len(base))
    if metric == "cltv":
        first = month_start(month_index(end) - 11)
        revenue = sum(
            (
                d["amount"]
                for d in won
                if d["customer_id"]
                and first <= d["closed_on"] <= end
                and credited(d["customer__owner_id"], d["closed_on"])
            ),
            ZERO,
        )
        churned = sum(
            1
            for c in rows.customers
            if c["churned_on"]
            and first <= c["churned_on"] <= end
            and credited(c["owner_id"], c["churned_on"])
        )
        return revenue * settings.GROSS_MARGIN, Decimal(churned)
    if metric == "repeat_purchase_rate":  # a buyer where its first purchase in the period was
        wins = [d for d in won if d["customer_id"]]
        first_in_period = {}
        for d in sorted(wins, key=lambda d: d["closed_on"]):
            if start <= d["closed_on"] <= end:
                first_in_period.setdefault(d["customer_id"], d)
        buyers = {c for c, d in first_in_period.items() if credited(d["customer__owner_id"], d["closed_on"])}
        by_end = defaultdict(int)
        for d in wins:
            if d["closed_on"] <= end:
                by_end[d["customer_id"]] += 1
        return Decimal(sum(1 for c in buyers if by_end[c] >= 2)), Decimal(len(buyers))
    if metric == "lead_conversion_rate":
        leads = [
            lead
            for lead in rows.leads
            if start <= lead["created_on"] <= end and credited(lead["rep_id"], lead["created_on"])
        ]
        window = dt.timedelta(days=settings.LEAD_CONVERSION_WINDOW_DAYS)
        converted = [
            lead
            for lead in leads
            if lead["converted_on"] and lead["converted_on"] <= lead["created_on"] + window
        ]
        return Decimal(len(converted)), Decimal(len(leads))
    if metric == "pipeline_value":  # as each deal stood then; where its owner was at the period's end
        open_at_end = [
            s
            for s in rows.states
            if (days := open_days(s))[0] <= end
            and (days[1] is None or days[1] > end)
            and credited(s["owner_id"], end)
        ]
        return sum((s["amount"] for s in open_at_end), ZERO), None
    if metric == "pipeline_created":  # the amount first recorded
        first = [s for s in rows.states if s["since"] is None]
        return sum(
            (
                s["amount"]
                for s in first
                if start <= (o := opened(s, "deal_closed_on")) <= end and credited(s["owner_id"], o)
            ),
            ZERO,
        ), None
    if metric == "forecast_accuracy":
        revenue = sum(
            (
                d["amount"]
                for d in won
                if start <= d["closed_on"] <= end and credited(d["rep_id"], d["closed_on"])
            ),
            ZERO,
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
    # Its children on the period's first day.
    day = period.start
    teams = {t for t, *_ in rows.placements}
    if subject[0] == "team":
        children = [("rep", r) for r in rows.rep_team if rows.team_of(r, day) == subject[1]]
        children += [("team", t) for t in teams if rows.parent_of(t, day) == subject[1]]
    else:
        children = [("team", t) for t in teams if rows.parent_of(t, day) is None]
    found = [f for f in (effective_forecast(rows, c, period) for c in children) if f is not None]
    return sum(found, ZERO) if found else None


def test_every_changed_figure_of_the_demo_agrees_with_plain_python():
    call_command(
        "seed_demo", "--reps", "8", "--opportunities", "600", "--activities", "100", "--months", "14"
    )
    rows = Rows()
    assert any(since for _, _, since, _ in rows.memberships)  # the demo moved someone
    assert any(since for _, _, since, _ in rows.placements)
    subjects = [("rep", r) for r in rows.rep_team] + [("team", t) for t in rows.parent] + [("company", 0)]
    stored = {
        (scope, pk, m, kind, start): (num, den)
        for scope, pk, m, kind, start, num, den in KpiSnapshot.objects.filter(metric__in=CHANGED).values_list(
            "scope", "subject_id", "metric", "period_kind", "period_start", "numerator", "denominator"
        )
    }
    compared, differed = 0, []
    for (scope, pk, metric, kind, start), (num, den) in stored.items():
        period = Period.from_start(kind, start)
        expected = pair(metric, rows, period, (scope, pk))
        compared += 1
        if (six(expected[0]), six(expected[1])) != (num, den):
            differed.append((scope, pk, metric, period.label, expected, (num, den)))
    print(f"{compared} figures compared, {len(differed)} differed")
    assert compared >= len(CHANGED) * len(subjects) * 20
    assert differed == []

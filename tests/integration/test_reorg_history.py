"""A re-org never rewrites the past (issue: dated team membership), end to end on PostgreSQL with
a real worker: every figure of every period that ended before a move stays byte-identical —
for every rep, team, region and the company — and what the rep does afterwards goes to the new
team only."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from kpis.models import KpiSnapshot, Opportunity
from kpis.periods import Period
from teams.models import Membership, Rep, Team
from tests.factories import OpportunityFactory, UserFactory, won_stage
from tests.services import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def exported() -> dict[tuple, str]:
    """Every figure export_kpis writes, by (scope, name, metric, period)."""
    out = io.StringIO()
    call_command("export_kpis", stdout=out)
    return {tuple(row[:4]): row[4] for row in list(csv.reader(io.StringIO(out.getvalue())))[1:]}


def ended_before(figures: dict, day: dt.date) -> dict:
    return {key: value for key, value in figures.items() if Period.parse(key[3]).end < day}


def revenue(team: Team, period: Period):
    return (
        KpiSnapshot.objects.filter(
            scope="team",
            subject_id=team.pk,
            metric="revenue_won",
            period_kind=period.kind,
            period_start=period.start,
        )
        .values_list("numerator", flat=True)
        .first()
    )


def credited(team: Team, period: Period) -> Decimal:
    """Plain Python over the rows: won deals of the period whose rep was in `team` on the close date."""
    spans = {}
    for rep, member_of, since, until in Membership.objects.values_list("rep_id", "team_id", "since", "until"):
        spans.setdefault(rep, []).append((member_of, since or dt.date.min, until or dt.date.max))
    deals = Opportunity.objects.filter(
        stage__outcome="won", closed_on__gte=period.start, closed_on__lte=period.end
    ).values_list("rep_id", "closed_on", "amount")
    return sum(
        (
            amount
            for rep, day, amount in deals
            if any(t == team.pk and since <= day < until for t, since, until in spans[rep])
        ),
        Decimal(0),
    )


def test_a_back_dated_move_through_the_api_leaves_every_closed_period_as_it_was(celery_worker):
    call_command(
        "seed_demo", "--reps", "8", "--opportunities", "800", "--activities", "400", "--months", "14"
    )
    before = exported()
    today = timezone.localdate()
    effective = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=12)  # inside a month
    rep = next(r for r in Rep.objects.select_related("team__parent") if r.memberships.count() == 1)
    old = rep.team
    new = Team.objects.exclude(parent=None).exclude(parent=old.parent).first()
    month = Period.containing("month", effective)
    admin = UserFactory(is_staff=True, is_superuser=True)
    api = APIClient()
    api.force_authenticate(admin)

    response = api.patch(
        f"/api/v1/reps/{rep.pk}/", {"team": new.pk, "effective": effective.isoformat()}, format="json"
    )

    assert response.status_code == 200, response.content
    expected = credited(new, month)
    assert expected != credited(old, month) or expected == 0
    wait_for(
        lambda: revenue(new, month) == expected, timeout=120, message=f"{new}'s {month} revenue = {expected}"
    )
    wait_for(lambda: revenue(old, month) == credited(old, month), timeout=120, message=f"{old}'s {month}")
    after = exported()
    assert after.keys() == before.keys()
    unchanged = ended_before(before, effective)
    assert len(unchanged) > 1000
    assert ended_before(after, effective) == unchanged

    this_month = Period.containing("month", today)
    old_before, new_before = revenue(old, this_month) or 0, revenue(new, this_month) or 0
    OpportunityFactory(
        rep=rep, stage=won_stage(), amount=Decimal("4321.00"), created_on=today, closed_on=today
    )
    wait_for(
        lambda: revenue(new, this_month) == new_before + Decimal("4321.00"),
        timeout=120,
        message=f"{new}'s revenue this month up by the deal",
    )
    assert revenue(old, this_month) == old_before

"""Pages run a constant number of queries however large the team: 5 reps or 200, the same."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpis import catalogue
from kpis.models import KpiSnapshot, Opportunity
from kpis.periods import Period
from targets.models import Target
from teams.models import Rep, User
from tests.factories import StageFactory, TeamFactory, UserFactory, won_stage

pytestmark = pytest.mark.django_db

MONTHS = [Period.parse("2017-03").shifted(-i) for i in range(12)]


def build_team(size: int):
    """A region with one team of `size` reps, each with every metric's snapshots for 12 months
    and a monthly revenue target, all written in bulk."""
    manager = UserFactory(username=f"manager{size}")
    region = TeamFactory(name=f"Region {size}", manager=manager)
    team = TeamFactory(name=f"Team {size}", parent=region)
    users = User.objects.bulk_create(User(username=f"r{size}-{i}") for i in range(size))
    reps = Rep.objects.bulk_create(
        Rep(user=u, full_name=f"Rep {size}-{i}", team=team) for i, u in enumerate(users)
    )
    now = timezone.now()
    subjects = [("rep", r.pk) for r in reps] + [("team", team.pk), ("team", region.pk)]
    KpiSnapshot.objects.bulk_create(
        KpiSnapshot(
            scope=scope,
            subject_id=pk,
            metric=m.key,
            period_kind="month",
            period_start=p.start,
            numerator=Decimal(1000),
            value=Decimal(1000),
            computed_at=now,
        )
        for scope, pk in subjects
        for m in catalogue.METRICS
        for p in MONTHS
    )
    Target.objects.bulk_create(
        Target(
            scope="rep",
            rep=r,
            metric="revenue_won",
            period_kind="month",
            period_start=dt.date(2017, 3, 1),
            value=Decimal(900 + i),
        )
        for i, r in enumerate(reps)
    )
    return manager, region, reps


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# The pages, as the manager of a region of n reps asks for them.
URLS = {
    "dashboard": lambda region, reps: f"/dashboard/?team={region.pk}&period=2017-03",
    "scorecard": lambda region, reps: f"/scorecard/{reps[-1].pk}/?period=2017-03",
    "drill": lambda region, reps: f"/drill/?scope=team&subject={region.pk}&metric=revenue_won&period=2017-03",
    "forecast": lambda region, reps: f"/forecast/?scope=team&subject={region.pk}&period=2017-Q1",
    "waterfall": lambda region, reps: f"/pipeline/waterfall/?scope=team&subject={region.pk}&period=2017-Q1",
}


def counts_for_5_and_200_reps(client, page, *, deals=False) -> list[int]:
    counts = []
    for size in (5, 200):
        manager, region, reps = build_team(size)
        if deals:
            add_deals(reps)
        client.force_login(manager)
        counts.append(queries(client, URLS[page](region, reps)))
    return counts


@pytest.mark.parametrize("page", ["dashboard", "scorecard", "drill"])
def test_a_page_runs_as_many_queries_for_200_reps_as_for_5(client, page):
    counts = counts_for_5_and_200_reps(client, page)
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("page", ["dashboard", "scorecard"])
def test_a_running_periods_comparisons_to_the_same_day_run_as_many_queries_for_200_reps_as_for_5(
    client, monkeypatch, page
):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: dt.date(2017, 3, 20))
    counts = counts_for_5_and_200_reps(client, page)
    assert counts[0] == counts[1], counts


def add_deals(reps) -> None:
    """Per rep: an open deal due in 2017-Q1 (one without an expected close date for every other
    rep) and one won in it, written in bulk (the database records their states)."""
    engaging, won = StageFactory(), won_stage()
    Opportunity.objects.bulk_create(
        Opportunity(
            name=f"Deal {r.pk}-{i}",
            rep=r,
            stage=stage,
            amount=Decimal(1000 + i),
            created_on=dt.date(2016, 12, 1),
            closed_on=dt.date(2017, 2, 10) if stage == won else None,
            expected_close_on=dt.date(2017, 3, 15) if n % 2 or stage == won else None,
        )
        for n, r in enumerate(reps)
        for i, stage in enumerate([engaging, won])
    )


@pytest.mark.parametrize("page", ["forecast", "waterfall"])
def test_the_forecast_page_and_the_waterfall_run_as_many_queries_for_200_reps_as_for_5(
    client, monkeypatch, page
):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: dt.date(2017, 3, 20))
    counts = counts_for_5_and_200_reps(client, page, deals=True)
    assert counts[0] == counts[1], counts

"""targets_progress: every target's standing read from the snapshots, in a fixed number of queries."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis.models import KpiSnapshot
from kpis.periods import Period
from targets.models import Target
from targets.progress import BEHIND, ON_TRACK
from targets.selectors import targets_progress
from tests.factories import TargetFactory

SIX = D("0.000001")


@pytest.fixture
def alices_quarter(org, deal, recompute, set_target):
    """Alice's Q1 2017: 9000 revenue, planned as 2000 / 3000 / 4000 over the months.

    Won 1500 (Jan) and 1000 (Feb); 5000 open since 1 Feb; a lost deal, which counts for nothing.
    """
    deal(org.alice, "won", "1500", "2017-01-02", "2017-01-20")
    deal(org.alice, "won", "1000", "2017-01-02", "2017-02-10")
    deal(org.alice, "open", "5000", "2017-02-01")
    deal(org.alice, "lost", "700", "2017-01-02", "2017-02-11")
    recompute()
    for month, value in [("2017-01", "2000"), ("2017-02", "3000"), ("2017-03", "4000")]:
        set_target(org.east_manager, org.alice, "revenue_won", month, value)
    return set_target(org.east_manager, org.alice, "revenue_won", "2017-Q1", "9000")


def test_progress_on_a_day_follows_the_month_plan(alices_quarter):
    state = targets_progress([alices_quarter], dt.date(2017, 2, 14), snapshots=KpiSnapshot.objects.all())[
        alices_quarter.pk
    ]
    # By 14 Feb: January's 2000 whole and 14 of February's 28 days of 3000 → 2000 + 1500 = 3500
    assert state.expected == D(3500)
    # Won 1500 + 1000 = 2500
    assert state.actual == D(2500)
    assert state.attainment.quantize(SIX) == D("0.277778")  # 2500 / 9000
    assert state.pace.quantize(SIX) == D("0.714286")  # 2500 / 3500
    assert state.projected.quantize(SIX) == D("6428.571429")  # 2500 × 9000 / 3500
    assert state.status == BEHIND
    # 5000 open against 9000 − 2500 = 6500 still to win
    assert state.coverage.quantize(SIX) == D("0.769231")


def test_progress_of_the_months_is_their_own(org, alices_quarter):
    january = Target.objects.get(rep=org.alice, period_kind="month", period_start=dt.date(2017, 1, 1))
    state = targets_progress([january], dt.date(2017, 1, 31), snapshots=KpiSnapshot.objects.all())[january.pk]
    # January: 1500 of 2000, all of it expected by its last day → 0.75, behind
    assert (state.actual, state.expected, state.pace, state.status) == (D(1500), D(2000), D("0.75"), BEHIND)


def test_a_rate_target_is_read_from_its_snapshot(org, alices_quarter, set_target):
    # Alice won 2 and lost 1 in Q1: 2 / 3 = 0.666667 against 0.6 → attainment 1.11, on track
    target = set_target(org.east_manager, org.alice, "win_rate", "2017-Q1", "0.6")
    state = targets_progress([target], dt.date(2017, 2, 14), snapshots=KpiSnapshot.objects.all())[target.pk]
    assert state.actual == D("0.666667")
    assert state.attainment.quantize(SIX) == D("1.111112")
    assert (state.expected, state.coverage, state.status) == (None, None, ON_TRACK)


def test_it_reads_progress_in_the_same_few_queries_for_2_targets_as_for_20(org, alices_quarter):
    def targets(n, first):
        # Alice's and Bob's quarterly revenue targets: each reads its actual, the pipeline
        # (revenue) and its month plan (a quarter)
        return [
            TargetFactory(
                rep=rep, metric="revenue_won", period_kind="quarter", period_start=first.shifted(i).start
            )
            for i in range(n // 2)
            for rep in (org.alice, org.bob)
        ]

    def queries(batch):
        with CaptureQueriesContext(connection) as captured:
            states = targets_progress(batch, dt.date(2017, 2, 14), snapshots=KpiSnapshot.objects.all())
        assert set(states) == {t.pk for t in batch}
        return len(captured)

    small, large = targets(2, Period.parse("2010-Q1")), targets(20, Period.parse("2012-Q1"))
    assert queries(small) == queries(large) == queries([*large, alices_quarter]) <= 3

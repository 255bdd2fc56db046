"""sales_velocity (DESIGN.md): money per day = opportunities open at the period's start × win
rate × average deal value / sales cycle, all of the subject's own period; undefined where a
factor is. Worked by hand; the stored numerator is the open deals, which sum up the tree."""

import datetime as dt
from decimal import Decimal as D

import pytest

from kpis import engine
from kpis.models import KpiSnapshot, Opportunity
from teams.subjects import Subject

pytestmark = pytest.mark.django_db


JAN = dt.date(2017, 1, 1)


@pytest.fixture
def quarter(org, deal):
    """Open at 2016-12-31: Alice's D1, D2, D3 and Bob's D5. In 2017-Q1 Alice wins D2 (3,000;
    62 days) and D4 (1,000; 60 days) and loses D3; Bob wins nothing."""
    deal(org.alice, "open", "500", "2016-11-01")  # D1
    deal(org.alice, "won", "3000", "2016-12-10", "2017-02-10")  # D2
    deal(org.alice, "lost", "200", "2016-12-15", "2017-01-20")  # D3
    deal(org.alice, "won", "1000", "2017-01-05", "2017-03-06")  # D4: opened in the quarter
    deal(org.bob, "open", "700", "2016-12-01")  # D5


def test_a_reps_velocity_multiplies_its_own_factors(org, quarter, recompute, snapshot):
    recompute()
    # 3 open × 2/3 won × 2,000 average / 61 days = 4,000 / 61
    assert snapshot(org.alice, "sales_velocity", "2017-Q1") == D("65.573770")
    assert snapshot(org.alice, "sales_velocity", "2017") == D("65.573770")  # the same deals and start


def test_a_month_without_a_win_is_undefined_not_zero(org, quarter, recompute, snapshot):
    recompute()
    assert snapshot(org.alice, "sales_velocity", "2017-01") is None  # D3 lost, nothing won
    january = KpiSnapshot.objects.get(
        scope="rep", subject_id=org.alice.pk, metric="sales_velocity", period_kind="month", period_start=JAN
    )
    assert (january.numerator, january.state) == (3, "undefined")  # 3 deals open at its start


def test_a_team_multiplies_its_own_sums_not_its_reps_velocities(org, quarter, recompute, snapshot):
    """East: 4 open at the start (Alice's 3, Bob's 1) × 2/3 × 2,000 / 61 = 16,000 / 183 —
    Bob's own velocity is undefined (he won nothing), and the team's is not a sum of the two."""
    recompute()
    assert snapshot(org.bob, "sales_velocity", "2017-Q1") is None
    assert snapshot(org.east, "sales_velocity", "2017-Q1") == D("87.431694")
    assert snapshot(org.region, "sales_velocity", "2017-Q1") == D("87.431694")
    assert snapshot("company", "sales_velocity", "2017-Q1") == D("87.431694")


def test_a_change_to_one_deal_recomputes_the_branch_incrementally(org, quarter, recompute, snapshot, stages):
    """Losing D1 in March: still 3 open at the start, now 2 won of 4 closed: 3 × 1/2 × 2,000 / 61."""
    recompute()
    d1 = Opportunity.objects.get(rep=org.alice, amount=D("500"))
    d1.stage, d1.closed_on = stages["lost"], dt.date(2017, 3, 20)
    d1.save()
    engine.recompute_subject(Subject.rep(org.alice.pk))
    assert snapshot(org.alice, "sales_velocity", "2017-Q1") == D("49.180328")  # 3,000 / 61
    assert snapshot(org.east, "sales_velocity", "2017-Q1") == D("65.573770")  # 4 × 1/2 × 2,000 / 61

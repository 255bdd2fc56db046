"""Deal metrics on a small organisation, every figure worked out by hand in the comments."""

from decimal import Decimal as D

import pytest


@pytest.fixture
def deals(org, deal):
    # alice: won 1000 (Jan 10 → Jan 20, 10 days), won 3000 (Dec 1 → Feb 5, 66 days),
    #        lost 500 in Jan, and an open 2000 deal created Jan 15 (Engaging, p = 0.4).
    deal(org.alice, "won", "1000", "2017-01-10", "2017-01-20")
    deal(org.alice, "won", "3000", "2016-12-01", "2017-02-05")
    deal(org.alice, "lost", "500", "2017-01-02", "2017-01-25")
    deal(org.alice, "open", "2000", "2017-01-15")
    # bob: won 200 the day it was created, lost three in January.
    deal(org.bob, "won", "200", "2017-01-31", "2017-01-31")
    for day in (6, 7, 8):
        deal(org.bob, "lost", "0", "2017-01-05", f"2017-01-{day:02d}")
    # carol: one big win on Mar 31 whose creation date is unknown.
    deal(org.carol, "won", "10000", None, "2017-03-31")


@pytest.fixture
def computed(deals, recompute):
    recompute()


def test_revenue_and_counts_follow_the_close_date(org, computed, snapshot):
    assert snapshot(org.alice, "revenue_won", "2017-01") == D("1000")
    assert snapshot(org.alice, "revenue_won", "2017-02") == D("3000")
    assert snapshot(org.alice, "deals_won", "2017-Q1") == 2
    assert snapshot(org.bob, "deals_lost", "2017-01") == 3
    assert snapshot(org.east, "revenue_won", "2017-01") == D("1200")
    assert snapshot(org.region, "revenue_won", "2017-Q1") == D("14200")
    assert snapshot("company", "revenue_won", "2017") == D("14200")


def test_a_month_without_deals_has_an_undefined_win_rate_not_zero(org, computed, snapshot):
    assert snapshot(org.carol, "win_rate", "2017-01") is None
    assert snapshot(org.carol, "revenue_won", "2017-01") == 0
    assert snapshot(org.carol, "avg_deal_value", "2017-02") is None


def test_a_team_win_rate_is_total_wins_over_total_decisions_not_an_average(org, computed, snapshot):
    assert snapshot(org.alice, "win_rate", "2017-01") == D("0.5")  # 1 of 2
    assert snapshot(org.bob, "win_rate", "2017-01") == D("0.25")  # 1 of 4
    # 2 of 6, where the average of the two rates would say 0.375
    assert snapshot(org.east, "win_rate", "2017-01") == D("0.333333")


def test_a_quarter_is_computed_from_its_deals_not_from_its_months_rates(org, computed, snapshot):
    assert snapshot(org.alice, "win_rate", "2017-Q1") == D("0.666667")  # 2 of 3
    assert snapshot(org.region, "win_rate", "2017-Q1") == D("0.5")  # 4 of 8
    assert snapshot(org.region, "avg_deal_value", "2017-Q1") == D("3550")  # 14200 / 4


def test_sales_cycle_counts_only_won_deals_with_both_dates(org, computed, snapshot):
    assert snapshot(org.alice, "sales_cycle_days", "2017-Q1") == D("38")  # (10 + 66) / 2
    assert snapshot(org.carol, "sales_cycle_days", "2017-Q1") is None  # no creation date
    assert snapshot(org.region, "sales_cycle_days", "2017-Q1") == D("25.333333")  # 76 / 3


def test_pipeline_is_what_is_open_at_the_end_of_each_period(org, computed, snapshot):
    # Dec 31: alice's 3000 deal (created Dec 1). Carol's deal has no creation date and was first
    # recorded (today) after it closed on Mar 31: it was never seen open, so no past month-end
    # holds it (it used to count from the beginning, swelling every month-end before).
    assert snapshot(org.alice, "pipeline_value", "2016-12") == D("3000")
    assert snapshot(org.carol, "pipeline_value", "2016-12") == 0
    # Jan 31: the 3000 deal (closes Feb 5) and the open 2000 deal.
    assert snapshot(org.alice, "pipeline_value", "2017-01") == D("5000")
    # Quarter end = Mar 31: only the open deal; carol's closed that day.
    assert snapshot(org.alice, "pipeline_value", "2017-Q1") == D("2000")
    assert snapshot(org.carol, "pipeline_value", "2017-Q1") == 0
    assert snapshot(org.east, "pipeline_value", "2017-01") == D("5000")


def test_weighted_pipeline_uses_the_stage_probability(org, computed, snapshot):
    # Mar 31: the open 2000 deal in a 0.4 stage.
    assert snapshot(org.alice, "weighted_pipeline_value", "2017-Q1") == D("800")

"""Deals that span periods, and the lower-is-better deal metrics, worked out by hand.

alice: won 5000, created 2016-11-20, closed 2017-02-10 (82 days: 10 + 31 + 31 + 10)
       lost 700, created 2016-12-01, closed 2017-01-05
       won 1000, created 2017-01-10, closed 2017-01-12 (2 days)
bob:   won 400, created 2017-03-01, closed 2017-03-31 (30 days)
       lost three, created 2017-03-01, closed in March
       open 800, created 2017-03-31 (the last day of Q1)
carol: won 100, created 2016-02-28, closed 2016-03-01 (2 days: 2016 is a leap year)
"""

from decimal import Decimal as D

import pytest


@pytest.fixture
def computed(org, deal, recompute):
    deal(org.alice, "won", "5000", "2016-11-20", "2017-02-10")
    deal(org.alice, "lost", "700", "2016-12-01", "2017-01-05")
    deal(org.alice, "won", "1000", "2017-01-10", "2017-01-12")
    deal(org.bob, "won", "400", "2017-03-01", "2017-03-31")
    for day in ("2017-03-02", "2017-03-10", "2017-03-20"):
        deal(org.bob, "lost", "100", "2017-03-01", day)
    deal(org.bob, "open", "800", "2017-03-31")
    deal(org.carol, "won", "100", "2016-02-28", "2016-03-01")
    recompute()


def test_a_deal_created_in_one_quarter_and_won_in_the_next_counts_where_it_closed(org, computed, snapshot):
    assert snapshot(org.alice, "revenue_won", "2016-Q4") == 0
    assert snapshot(org.alice, "deals_won", "2016-Q4") == 0
    assert snapshot(org.alice, "revenue_won", "2017-02") == D("5000")
    assert snapshot(org.alice, "revenue_won", "2017-Q1") == D("6000")  # 5000 + 1000
    assert snapshot(org.alice, "revenue_won", "2016") == 0


def test_until_it_closes_it_sits_in_the_pipeline_of_the_quarter_it_was_created_in(org, computed, snapshot):
    # Dec 31: the 5000 won deal and the 700 lost deal are both still open.
    assert snapshot(org.alice, "pipeline_value", "2016-Q4") == D("5700")
    assert snapshot(org.alice, "pipeline_value", "2016") == D("5700")
    # Jan 31: the lost deal closed on Jan 5; the 5000 deal is open until Feb 10.
    assert snapshot(org.alice, "pipeline_value", "2017-01") == D("5000")
    assert snapshot(org.alice, "pipeline_value", "2017-02") == 0
    # Nov 30: only the 5000 deal had been created.
    assert snapshot(org.alice, "pipeline_value", "2016-11") == D("5000")


def test_a_deal_created_on_the_last_day_of_a_quarter_is_in_its_pipeline(org, computed, snapshot):
    # bob's open 800 was created on Mar 31; his won 400 closed that day and is out.
    assert snapshot(org.bob, "pipeline_value", "2017-Q1") == D("800")
    assert snapshot(org.bob, "pipeline_value", "2017-02") == 0


def test_the_sales_cycle_spans_quarters_and_is_averaged_over_deals(org, computed, snapshot):
    assert snapshot(org.alice, "sales_cycle_days", "2017-01") == D("2")
    assert snapshot(org.alice, "sales_cycle_days", "2017-02") == D("82")
    assert snapshot(org.alice, "sales_cycle_days", "2017-Q1") == D("42")  # (82 + 2) / 2
    # East Q1: (82 + 2 + 30) / 3 = 38, lower being better; the average of alice's 42 and bob's
    # 30 would be 36.
    assert snapshot(org.east, "sales_cycle_days", "2017-Q1") == D("38")
    assert snapshot(org.alice, "sales_cycle_days", "2016-Q4") is None  # nothing won


def test_a_sales_cycle_across_a_leap_day_counts_february_29(org, computed, snapshot):
    # Feb 28 → Mar 1, 2016 is 2 days (Feb 29 exists).
    assert snapshot(org.carol, "sales_cycle_days", "2016-03") == D("2")
    # Company, year 2017: (82 + 2 + 30) / 3.
    assert snapshot("company", "sales_cycle_days", "2017") == D("38")


def test_deals_lost_are_counted_by_close_date_and_summed_up_the_tree(org, computed, snapshot):
    assert snapshot(org.alice, "deals_lost", "2016-Q4") == 0  # the lost deal closed in January
    assert snapshot(org.alice, "deals_lost", "2017-01") == 1
    assert snapshot(org.bob, "deals_lost", "2017-03") == 3
    assert snapshot(org.east, "deals_lost", "2017-Q1") == 4
    assert snapshot("company", "deals_lost", "2017") == 4
    # East Q1 win rate: 3 won (5000, 1000, 400) of 7 decided → 0.428571.
    assert snapshot(org.east, "win_rate", "2017-Q1") == D("0.428571")

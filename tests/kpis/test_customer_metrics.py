"""Customer metrics (new customers, CAC, churn, CLTV, NPS, repeat purchases), every figure by hand.

They follow the customer's owner, not the rep on the deal; customers with no owner count only
for the company. The book of customers used throughout:

    alice: A1 acquired 2016-06-01
           A2 acquired 2016-07-01, churned 2017-01-15
           A3 acquired 2016-08-01, churned 2017-02-10
           A4 acquired 2016-12-31
           A5 acquired 2017-01-05, churned 2017-03-20
    bob:   B1 acquired 2016-03-01, churned 2017-01-01 (on the first day of January)
           B2 acquired 2017-01-01 (on the first day of January)
    none:  U1 acquired 2016-05-01, churned 2017-01-20
    carol owns nobody.
"""

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from kpis import catalogue
from tests.factories import AcquisitionSpendFactory, NpsResponseFactory

day = dt.date.fromisoformat


@pytest.fixture
def book(org, customer):
    return SimpleNamespace(
        a1=customer(org.alice, "2016-06-01"),
        a2=customer(org.alice, "2016-07-01", "2017-01-15"),
        a3=customer(org.alice, "2016-08-01", "2017-02-10"),
        a4=customer(org.alice, "2016-12-31"),
        a5=customer(org.alice, "2017-01-05", "2017-03-20"),
        b1=customer(org.bob, "2016-03-01", "2017-01-01"),
        b2=customer(org.bob, "2017-01-01"),
        u1=customer(None, "2016-05-01", "2017-01-20"),
    )


@pytest.fixture
def sales(org, book, deal):
    """Won deals by customer (the deal's rep is not always the customer's owner)."""
    deal(org.alice, "won", "500", "2016-11-01", "2016-11-10", customer=book.a1)
    deal(org.alice, "lost", "700", "2016-09-01", "2016-10-01", customer=book.a2)  # lost: not a purchase
    deal(org.alice, "won", "1000", "2017-01-02", "2017-01-10", customer=book.a1)
    deal(org.alice, "won", "600", "2017-01-03", "2017-01-12", customer=book.a2)
    deal(org.alice, "won", "400", "2017-01-05", "2017-01-20", customer=book.a5)
    deal(org.bob, "won", "2000", "2017-01-04", "2017-01-25", customer=book.a4)  # bob sells to alice's A4
    deal(org.alice, "won", "300", "2017-02-01", "2017-02-15", customer=book.a5)
    deal(org.carol, "won", "800", "2017-01-10", "2017-01-22", customer=book.u1)  # to the unowned U1


def test_lower_is_better_metrics_are_marked_so_in_the_catalogue():
    for key in ("churn_rate", "cac", "sales_cycle_days", "deals_lost"):
        assert catalogue.get(key).higher_is_better is False, key
    for key in ("new_customers", "cltv", "nps", "repeat_purchase_rate", "revenue_won"):
        assert catalogue.get(key).higher_is_better is True, key


def test_new_customers_are_counted_by_acquisition_date_for_their_owner(org, book, recompute, snapshot):
    recompute()
    assert snapshot(org.alice, "new_customers", "2017-01") == 1  # A5
    assert snapshot(org.alice, "new_customers", "2016") == 4  # A1..A4 (A4 on Dec 31)
    assert snapshot(org.bob, "new_customers", "2017-01") == 1  # B2, acquired on Jan 1
    assert snapshot(org.carol, "new_customers", "2017-01") == 0
    assert snapshot(org.east, "new_customers", "2017-Q1") == 2  # A5 + B2
    # The unowned U1 counts for the company only: A1..A4, B1, U1.
    assert snapshot(org.region, "new_customers", "2016") == 5
    assert snapshot("company", "new_customers", "2016") == 6


def test_churn_is_churned_customers_over_customers_active_at_the_period_start(org, book, recompute, snapshot):
    recompute()
    # Jan 1: A1, A2, A3, A4 active (A4 acquired the day before); A2 churns → 1 / 4.
    assert snapshot(org.alice, "churn_rate", "2017-01") == D("0.25")
    # Feb 1: A1, A3, A4, A5 active (A2 gone); A3 churns → 1 / 4.
    assert snapshot(org.alice, "churn_rate", "2017-02") == D("0.25")
    # Mar 1: A1, A4, A5 active; A5 churns → 1 / 3.
    assert snapshot(org.alice, "churn_rate", "2017-03") == D("0.333333")
    # Dec 1: A1, A2, A3 active, nobody churns → 0, a real zero.
    assert snapshot(org.alice, "churn_rate", "2016-12") == 0


def test_a_customer_churning_on_the_first_day_was_active_at_the_start(org, book, recompute, snapshot):
    recompute()
    # B1 (churned Jan 1) is in the base at Jan 1 and churns in January; B2 (acquired Jan 1) is
    # not in that base → 1 / 1. In February the base is B2 alone and nobody churns → 0 / 1.
    assert snapshot(org.bob, "churn_rate", "2017-01") == 1
    assert snapshot(org.bob, "churn_rate", "2017-02") == 0


def test_a_quarters_churn_uses_the_quarters_start_not_a_sum_over_months(org, book, recompute, snapshot):
    recompute()
    # Base at Jan 1 = 4 (A1..A4); of them A2 and A3 churned in Q1 → 2 / 4. A5 churned too, but
    # it joined during the quarter: not in its base (March alone counts it: joined before March).
    # Summing the months would give (1 + 1 + 1) / (4 + 4 + 3) = 0.272727.
    assert snapshot(org.alice, "churn_rate", "2017-Q1") == D("0.5")
    assert snapshot(org.alice, "churn_rate", "2017") == D("0.5")
    # Base at Jan 1, 2016 is empty → undefined, not 0.
    assert snapshot(org.alice, "churn_rate", "2016") is None


def test_a_teams_churn_is_total_churned_over_total_base_not_an_average(org, book, recompute, snapshot):
    recompute()
    # alice 1 / 4, bob 1 / 1 in January: east (1 + 1) / (4 + 1) = 0.4, where the average of the
    # two rates would be 0.625.
    assert snapshot(org.east, "churn_rate", "2017-01") == D("0.4")
    assert snapshot(org.region, "churn_rate", "2017-01") == D("0.4")
    # carol owns nobody: west has no base.
    assert snapshot(org.west, "churn_rate", "2017-01") is None
    # The company adds the unowned U1 (active Jan 1, churned Jan 20): 3 / 6.
    assert snapshot("company", "churn_rate", "2017-01") == D("0.5")
    # Q1: of A1..A4, B1, U1 active at Jan 1, A2, A3, B1, U1 churned (A5 joined in Q1) → 4 / 6.
    assert snapshot("company", "churn_rate", "2017-Q1") == D("0.666667")


@pytest.fixture
def spend(org):
    AcquisitionSpendFactory(rep=org.alice, spent_on=day("2017-01-10"), amount=D("300"))
    AcquisitionSpendFactory(rep=org.alice, spent_on=day("2017-02-10"), amount=D("200"))
    AcquisitionSpendFactory(team=org.east, spent_on=day("2017-01-15"), amount=D("500"))
    AcquisitionSpendFactory(team=org.region, spent_on=day("2017-02-20"), amount=D("100"))
    AcquisitionSpendFactory(spent_on=day("2017-01-31"), amount=D("1000"))  # the company's own


def test_cac_is_a_reps_spend_over_the_customers_they_acquired(org, book, spend, recompute, snapshot):
    recompute()
    assert snapshot(org.alice, "cac", "2017-01") == D("300")  # 300 / A5
    assert snapshot(org.alice, "cac", "2017-02") is None  # 200 spent, nobody acquired
    assert snapshot(org.alice, "cac", "2017-Q1") == D("500")  # (300 + 200) / 1
    # Team spend is not a rep's: bob spent nothing and acquired B2 → 0 / 1.
    assert snapshot(org.bob, "cac", "2017-01") == 0


def test_team_spend_counts_for_that_team_the_teams_above_and_the_company(
    org, book, spend, recompute, snapshot
):
    recompute()
    # East, January: alice's 300 + east's 500, over A5 and B2 → 800 / 2.
    assert snapshot(org.east, "cac", "2017-01") == D("400")
    assert snapshot(org.east, "cac", "2017-Q1") == D("500")  # (300 + 200 + 500) / 2
    assert snapshot(org.west, "cac", "2017-01") is None  # nothing spent, nobody acquired
    # Region adds its own 100 in February: Q1 (300 + 200 + 500 + 100) / 2.
    assert snapshot(org.region, "cac", "2017-01") == D("400")
    assert snapshot(org.region, "cac", "2017-02") is None  # 300 / 0
    assert snapshot(org.region, "cac", "2017-Q1") == D("550")
    # The company adds the 1000 charged to no one: January 1800 / 2, Q1 2100 / 2.
    assert snapshot("company", "cac", "2017-01") == D("900")
    assert snapshot("company", "cac", "2017-Q1") == D("1050")
    # 2016: six customers acquired, nothing spent → 0.
    assert snapshot("company", "cac", "2016") == 0


def test_customer_revenue_follows_the_owner_while_revenue_won_follows_the_deals_rep(
    org, sales, recompute, snapshot
):
    recompute()
    assert snapshot(org.bob, "revenue_won", "2017-01") == D("2000")
    assert snapshot(org.bob, "repeat_purchase_rate", "2017-01") is None  # bob owns no buyer
    assert snapshot(org.carol, "revenue_won", "2017-01") == D("800")
    assert snapshot(org.carol, "repeat_purchase_rate", "2017-01") is None  # U1 has no owner


def test_cltv_is_a_trailing_years_customer_revenue_times_margin_over_its_churned_customers(
    org, sales, settings, recompute, snapshot
):
    settings.GROSS_MARGIN = D("0.25")
    recompute()
    # alice, the 12 months to January 2017: A1 500 (Nov) + A1 1000 + A2 600 + A5 400 + A4 2000
    # (bob's deal, alice's customer) = 4500; churned in them: A2 → 4500 × 0.25 / 1 = 1125.
    assert snapshot(org.alice, "cltv", "2017-01") == D("1125")
    # To February: + A5's 300 = 4800; churned A2, A3 → 4800 × 0.25 / 2 = 600.
    assert snapshot(org.alice, "cltv", "2017-02") == D("600")
    # To March: 4800; churned A2, A3, A5 → 1200 / 3 = 400. The quarter ends in March: the same
    # 12 months, the same figure.
    assert snapshot(org.alice, "cltv", "2017-03") == D("400")
    assert snapshot(org.alice, "cltv", "2017-Q1") == D("400")
    # To November 2016: 500 of revenue but nobody churned → undefined, not infinite nor 0.
    assert snapshot(org.alice, "cltv", "2016-11") is None


def test_cltv_rolls_up_as_totals_and_counts_unowned_customers_for_the_company_only(
    org, sales, settings, recompute, snapshot
):
    settings.GROSS_MARGIN = D("0.25")
    recompute()
    # bob's customers bought nothing; B1 churned in January → 0 / 1, and still in the 12 months
    # to February.
    assert snapshot(org.bob, "cltv", "2017-01") == 0
    assert snapshot(org.bob, "cltv", "2017-02") == 0
    assert snapshot(org.bob, "cltv", "2016-12") is None  # nobody churned in the year to Dec
    # East, January: (4500 + 0) × 0.25 / (1 + 1) = 562.5.
    assert snapshot(org.east, "cltv", "2017-01") == D("562.5")
    assert snapshot(org.west, "cltv", "2017-01") is None
    # Company, January: U1's 800 joins and U1 churned: (4500 + 800) × 0.25 / 3 = 441.666667.
    assert snapshot("company", "cltv", "2017-01") == D("441.666667")


def test_repeat_purchase_rate_is_the_share_of_buyers_with_two_wins_by_the_periods_end(
    org, sales, recompute, snapshot
):
    recompute()
    # November 2016: A1's first win is that month → 0 / 1.
    assert snapshot(org.alice, "repeat_purchase_rate", "2016-11") == 0
    # January: buyers A1, A2, A4 (via bob), A5; only A1 had won before Jan 1 (A2's earlier
    # deal was lost) → 1 / 4.
    assert snapshot(org.alice, "repeat_purchase_rate", "2017-01") == D("0.25")
    # February: A5 again, first won Jan 20 → 1 / 1.
    assert snapshot(org.alice, "repeat_purchase_rate", "2017-02") == 1
    assert snapshot(org.alice, "repeat_purchase_rate", "2017-03") is None


def test_a_quarter_counts_each_buyer_once_and_two_wins_within_it_as_a_repeat(org, sales, recompute, snapshot):
    recompute()
    # Q1 buyers A1, A2, A4, A5 — four, not the five of January + February. A1 won before Jan 1;
    # A5 won twice within Q1 (Jan 20, Feb 15): both repeat → 2 / 4. A2 and A4 won once.
    assert snapshot(org.alice, "repeat_purchase_rate", "2017-Q1") == D("0.5")
    assert snapshot(org.east, "repeat_purchase_rate", "2017-Q1") == D("0.5")
    # The company adds U1 (one win, Jan 22) → 1 / 5 in January, 2 / 5 in Q1.
    assert snapshot("company", "repeat_purchase_rate", "2017-01") == D("0.2")
    assert snapshot("company", "repeat_purchase_rate", "2017-Q1") == D("0.4")


def test_two_wins_in_the_same_month_make_a_repeat_buyer(org, book, deal, recompute, snapshot):
    deal(org.alice, "won", "100", "2017-05-01", "2017-05-03", customer=book.a4)
    deal(org.alice, "won", "200", "2017-05-02", "2017-05-20", customer=book.a4)
    recompute()
    assert snapshot(org.alice, "repeat_purchase_rate", "2017-05") == 1


@pytest.fixture
def responses(book):
    for customer, on, score in [
        (book.a1, "2017-01-05", 10),
        (book.a1, "2017-01-25", 9),
        (book.a4, "2017-01-09", 8),  # passive
        (book.a2, "2017-01-12", 3),
        (book.a4, "2017-02-02", 6),  # a 6 is a detractor
        (book.a5, "2017-02-03", 7),  # a 7 is passive
        (book.b1, "2017-01-01", 9),  # a 9 is a promoter
        (book.u1, "2017-01-15", 0),
    ]:
        NpsResponseFactory(customer=customer, responded_on=dt.date.fromisoformat(on), score=score)


def test_nps_is_promoters_minus_detractors_over_responses_for_the_owner(org, responses, recompute, snapshot):
    recompute()
    # January: 10, 9 promoters, 8 passive, 3 detractor → (2 − 1) / 4 × 100 = 25.
    assert snapshot(org.alice, "nps", "2017-01") == D("25")
    # February: 6 detractor, 7 passive → (0 − 1) / 2 × 100 = −50.
    assert snapshot(org.alice, "nps", "2017-02") == D("-50")
    # Q1: (2 − 2) / 6 → 0, a real zero.
    assert snapshot(org.alice, "nps", "2017-Q1") == 0
    assert snapshot(org.bob, "nps", "2017-01") == D("100")
    assert snapshot(org.carol, "nps", "2017-01") is None


def test_a_teams_nps_pools_the_responses_and_the_company_adds_unowned_customers(
    org, responses, recompute, snapshot
):
    recompute()
    # East, January: promoters 2 + 1, detractors 1, responses 4 + 1 → 2 / 5 × 100 = 40
    # (the average of 25 and 100 would be 62.5).
    assert snapshot(org.east, "nps", "2017-01") == D("40")
    assert snapshot(org.region, "nps", "2017-01") == D("40")
    # Company adds U1's 0: (3 − 2) / 6 × 100 = 16.666667.
    assert snapshot("company", "nps", "2017-01") == D("16.666667")

"""FISCAL_YEAR_START_MONTH shifts quarters and years; a fiscal year is named by the year it ends in.

With 4: FY2017 runs 2016-04-01 .. 2017-03-31; its Q1 is Apr–Jun 2016 and its Q4 Jan–Mar 2017.

    alice: lost 300,  created 2016-03-01, closed 2016-03-31 (FY2016-Q4)
           won 500,   created 2016-03-20, closed 2016-04-01 (FY2017-Q1, first day; 12 days)
           won 1000,  created 2017-01-10, closed 2017-03-31 (FY2017-Q4, last day; 21 + 28 + 31 = 80 days)
           won 2000,  created 2017-03-15, closed 2017-04-01 (FY2018-Q1)
           open 4000, created 2017-02-01
"""

import datetime as dt
from decimal import Decimal as D

import pytest

from kpis.models import KpiSnapshot
from tests.factories import LeadFactory

day = dt.date.fromisoformat


@pytest.fixture
def deals(org, deal):
    deal(org.alice, "lost", "300", "2016-03-01", "2016-03-31")
    deal(org.alice, "won", "500", "2016-03-20", "2016-04-01")
    deal(org.alice, "won", "1000", "2017-01-10", "2017-03-31")
    deal(org.alice, "won", "2000", "2017-03-15", "2017-04-01")
    deal(org.alice, "open", "4000", "2017-02-01")


@pytest.fixture
def april(settings):
    settings.FISCAL_YEAR_START_MONTH = 4


def test_a_fiscal_year_from_april_holds_april_to_march(org, april, deals, recompute, snapshot):
    recompute()
    # FY2017: the 500 (Apr 1, 2016) and the 1000 (Mar 31, 2017); no loss → win rate 1.
    assert snapshot(org.alice, "revenue_won", "2017") == D("1500")
    assert snapshot(org.alice, "deals_won", "2017") == 2
    assert snapshot(org.alice, "win_rate", "2017") == 1
    # FY2016 (Apr 2015 .. Mar 2016): only the loss of Mar 31, 2016 → win rate 0.
    assert snapshot(org.alice, "revenue_won", "2016") == 0
    assert snapshot(org.alice, "win_rate", "2016") == 0
    assert snapshot(org.alice, "revenue_won", "2018") == D("2000")
    # FY2017 cycle: (12 + 80) / 2 = 46.
    assert snapshot(org.alice, "sales_cycle_days", "2017") == D("46")
    assert snapshot("company", "revenue_won", "2017") == D("1500")


def test_fiscal_quarters_from_april_are_labelled_from_the_fiscal_year(org, april, deals, recompute, snapshot):
    recompute()
    assert snapshot(org.alice, "revenue_won", "2017-Q1") == D("500")  # Apr–Jun 2016
    assert snapshot(org.alice, "revenue_won", "2017-Q4") == D("1000")  # Jan–Mar 2017
    assert snapshot(org.alice, "revenue_won", "2018-Q1") == D("2000")  # Apr–Jun 2017
    assert snapshot(org.east, "deals_lost", "2016-Q4") == 1  # Jan–Mar 2016


def test_the_pipeline_of_a_fiscal_year_is_what_is_open_on_march_31(org, april, deals, recompute, snapshot):
    recompute()
    # Mar 31, 2017: the open 4000 and the 2000 won on Apr 1 → 6000.
    assert snapshot(org.alice, "pipeline_value", "2017") == D("6000")
    assert snapshot(org.alice, "pipeline_value", "2017-Q4") == D("6000")
    # Jun 30, 2017: only the open 4000.
    assert snapshot(org.alice, "pipeline_value", "2018-Q1") == D("4000")


def test_fiscal_year_snapshots_start_on_april_first(org, april, deals, recompute):
    recompute()
    # The data spans Mar 2016 .. Apr 2017: FY2016, FY2017 and FY2018.
    starts = set(KpiSnapshot.objects.filter(period_kind="year").values_list("period_start", flat=True))
    assert starts == {day("2015-04-01"), day("2016-04-01"), day("2017-04-01")}
    quarter_months = set(
        KpiSnapshot.objects.filter(period_kind="quarter").values_list("period_start__month", flat=True)
    )
    assert quarter_months == {1, 4, 7, 10}


def test_churn_and_lead_conversion_over_a_fiscal_year_and_quarter(org, april, customer, recompute, snapshot):
    customer(org.alice, "2016-01-01", "2016-06-01")  # C1
    customer(org.alice, "2016-03-31")  # C2
    customer(org.alice, "2016-04-01", "2017-03-31")  # C3: acquired on the fiscal year's first day
    LeadFactory(rep=org.alice, created_on=day("2017-01-05"), converted_on=day("2017-01-06"))
    LeadFactory(rep=org.alice, created_on=day("2017-01-20"))
    LeadFactory(rep=org.alice, created_on=day("2017-03-01"), converted_on=day("2017-04-02"))
    LeadFactory(rep=org.alice, created_on=day("2017-03-31"), converted_on=day("2017-03-31"))
    LeadFactory(rep=org.alice, created_on=day("2017-04-01"))
    recompute()
    # FY2017 base at Apr 1, 2016: C1, C2 (C3 acquired that day is not yet in it); of them C1
    # churns during the year → 1 / 2. C3 churns too, but it joined during the year.
    assert snapshot(org.alice, "churn_rate", "2017") == D("0.5")
    # FY2017-Q4 base at Jan 1, 2017: C2, C3; C3 churns Mar 31 → 1 / 2.
    assert snapshot(org.alice, "churn_rate", "2017-Q4") == D("0.5")
    assert snapshot(org.alice, "new_customers", "2017") == 1  # C3
    # FY2017-Q4 leads: 4 created Jan–Mar, 3 converted → 0.75; the Apr 1 lead is FY2018's.
    assert snapshot(org.alice, "lead_conversion_rate", "2017-Q4") == D("0.75")
    assert snapshot(org.alice, "lead_conversion_rate", "2018-Q1") == 0


def test_a_fiscal_year_from_october(org, settings, deals, recompute, snapshot):
    settings.FISCAL_YEAR_START_MONTH = 10
    recompute()
    # FY2017 runs Oct 2016 .. Sep 2017: the 1000 and the 2000; the Apr 2016 500 is FY2016's.
    assert snapshot(org.alice, "revenue_won", "2017") == D("3000")
    assert snapshot(org.alice, "revenue_won", "2016") == D("500")
    assert snapshot(org.alice, "revenue_won", "2017-Q2") == D("1000")  # Jan–Mar 2017
    assert snapshot(org.alice, "revenue_won", "2017-Q3") == D("2000")  # Apr–Jun 2017

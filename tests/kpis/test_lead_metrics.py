"""Leads: counted by creation date; conversion is the share of those leads converted, by hand.

alice: created 2016-12-31, converted 2017-01-02
       4 created in January, one converted (on Feb 3)
       2 created in February, both converted
bob:   1 created in January, converted
       3 created in March, none converted
carol: none
"""

import datetime as dt
from decimal import Decimal as D

import pytest

from tests.factories import LeadFactory

day = dt.date.fromisoformat


@pytest.fixture
def leads(org):
    LeadFactory(rep=org.alice, created_on=day("2016-12-31"), converted_on=day("2017-01-02"))
    LeadFactory(rep=org.alice, created_on=day("2017-01-03"), converted_on=day("2017-02-03"))
    for d in ("2017-01-05", "2017-01-06", "2017-01-31"):
        LeadFactory(rep=org.alice, created_on=day(d))
    LeadFactory(rep=org.alice, created_on=day("2017-02-01"), converted_on=day("2017-02-01"))
    LeadFactory(rep=org.alice, created_on=day("2017-02-28"), converted_on=day("2017-03-05"))
    LeadFactory(rep=org.bob, created_on=day("2017-01-10"), converted_on=day("2017-01-20"))
    for d in ("2017-03-01", "2017-03-15", "2017-03-31"):
        LeadFactory(rep=org.bob, created_on=day(d))


def test_leads_are_counted_by_creation_date(org, leads, recompute, snapshot):
    recompute()
    assert snapshot(org.alice, "leads_generated", "2016-12") == 1
    assert snapshot(org.alice, "leads_generated", "2017-01") == 4
    assert snapshot(org.alice, "leads_generated", "2017-Q1") == 6
    assert snapshot(org.east, "leads_generated", "2017-Q1") == 10  # alice 6 + bob 4
    assert snapshot(org.carol, "leads_generated", "2017-Q1") == 0


def test_a_lead_converts_for_the_month_it_was_created_in(org, leads, recompute, snapshot):
    recompute()
    # The Dec 31 lead converted on Jan 2: December's conversion, 1 / 1.
    assert snapshot(org.alice, "lead_conversion_rate", "2016-12") == 1
    # January: 4 created, 1 converted (in February) → 0.25.
    assert snapshot(org.alice, "lead_conversion_rate", "2017-01") == D("0.25")
    # February: 2 created, both converted (one in March) → 1.
    assert snapshot(org.alice, "lead_conversion_rate", "2017-02") == 1
    # March: no lead created → undefined, not 0.
    assert snapshot(org.alice, "lead_conversion_rate", "2017-03") is None
    # bob's March: 3 created, none converted → a real 0.
    assert snapshot(org.bob, "lead_conversion_rate", "2017-03") == 0


def test_a_quarters_lead_conversion_is_total_converted_over_total_created(org, leads, recompute, snapshot):
    recompute()
    # alice Q1: (1 + 2) / (4 + 2) = 0.5; the average of her monthly rates would be 0.625.
    assert snapshot(org.alice, "lead_conversion_rate", "2017-Q1") == D("0.5")
    # bob Q1: 1 / (1 + 3) = 0.25.
    assert snapshot(org.bob, "lead_conversion_rate", "2017-Q1") == D("0.25")
    # east Q1: (3 + 1) / (6 + 4) = 0.4 (the average of 0.5 and 0.25 would be 0.375).
    assert snapshot(org.east, "lead_conversion_rate", "2017-Q1") == D("0.4")
    assert snapshot(org.east, "lead_conversion_rate", "2017-01") == D("0.4")  # (1 + 1) / (4 + 1)
    assert snapshot(org.west, "lead_conversion_rate", "2017-Q1") is None
    assert snapshot("company", "lead_conversion_rate", "2017-Q1") == D("0.4")
    # The year 2017 holds the same leads as Q1.
    assert snapshot(org.alice, "lead_conversion_rate", "2017") == D("0.5")

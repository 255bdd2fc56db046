"""A won or lost deal has a close date and an open one has none, everywhere a deal is written;
an undated deal enters the pipeline on the day it was first recorded (DESIGN.md, issue 16)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kpis.models import Opportunity
from kpis.periods import Period

pytestmark = pytest.mark.django_db


def test_reopening_a_deal_clears_its_close_date(org, deal, stages):
    won = deal(org.alice, "won", "100", "2017-01-02", "2017-01-10")
    won.stage = stages["open"]
    won.save()
    won.refresh_from_db()
    assert won.closed_on is None


def test_a_won_deal_without_a_close_date_is_refused_by_validation(org, deal, stages):
    reopened = deal(org.alice, "open", "100", "2017-01-02")
    reopened.stage = stages["won"]
    with pytest.raises(ValidationError) as refused:
        reopened.full_clean()
    assert "closed_on" in refused.value.message_dict


def test_the_database_refuses_a_close_date_that_does_not_follow_the_stage(org, deal, stages):
    """Bulk writes bypass save(): the database still says no (PostgreSQL and SQLite alike)."""
    open_deal = deal(org.alice, "open", "100", "2017-01-02")
    won_deal = deal(org.alice, "won", "100", "2017-01-02", "2017-01-10")
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.filter(pk=open_deal.pk).update(closed_on=dt.date(2017, 2, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.filter(pk=won_deal.pk).update(closed_on=None)


def test_an_undated_open_deal_enters_the_pipeline_on_the_day_it_was_recorded(org, deal, recompute, snapshot):
    deal(org.alice, "open", "700", None)  # recorded today, creation date unknown
    deal(org.alice, "won", "50", "2017-01-02", "2017-01-10")  # data from long ago
    recompute()
    this_month = Period.containing("month", dt.date.today())
    assert snapshot(org.alice, "pipeline_value", this_month.label) == D("700")
    assert snapshot(org.alice, "pipeline_value", "2017-01") == 0  # not in past month-ends

"""The pipeline as it stood (DESIGN.md, issue 17): a past period's open and weighted pipeline add
up the states the deals were in at its end — their stage, amount and dates then — not what the
deals became later; pipeline_created is the amount first recorded. Figures worked by hand."""

import datetime as dt
from decimal import Decimal as D

import pytest

from kpis.deal_history import day_start, states_load
from kpis.models import OpportunityState
from tests.factories import StageFactory

pytestmark = pytest.mark.django_db


def day(text):
    return dt.date.fromisoformat(text)


def history(deal, *changes):
    """Replace the deal's history: its first state, then (day, stage, amount, closed_on) changes."""
    first, *later = changes
    sinces = [None] + [day_start(day(c[0])) for c in later]
    untils = [*sinces[1:], None]
    states_load(
        [
            OpportunityState(
                opportunity=deal,
                since=since,
                until=until,
                stage=stage,
                amount=D(amount),
                closed_on=day(closed) if closed else None,
                rep_id=deal.rep_id,
                recorded_at=since or day_start(deal.opened_on),
            )
            for (_, stage, amount, closed), since, until in zip([first, *later], sinces, untils, strict=True)
        ]
    )


@pytest.fixture
def prospecting(db):
    return StageFactory(name="Prospecting", order=1, probability=D("0.1"))


def test_a_deal_later_won_counts_at_the_stage_it_was_in_not_at_100_percent(
    org, deal, stages, prospecting, recompute, snapshot
):
    won = deal(org.alice, "won", "1000", "2017-01-10", "2017-02-15")
    history(won, (None, stages["open"], "1000", None), ("2017-02-15", stages["won"], "1000", "2017-02-15"))
    recompute()
    assert snapshot(org.alice, "pipeline_value", "2017-01") == D("1000")
    assert snapshot(org.alice, "weighted_pipeline_value", "2017-01") == D("400")  # Engaging, 0.4
    assert snapshot(org.alice, "pipeline_value", "2017-02") == 0
    assert snapshot(org.alice, "revenue_won", "2017-02") == D("1000")


def test_each_month_end_sees_the_amount_and_stage_of_that_day(
    org, deal, stages, prospecting, recompute, snapshot
):
    grown = deal(org.alice, "open", "1500", "2017-01-10")
    history(
        grown,
        (None, prospecting, "1000", None),
        ("2017-02-20", stages["open"], "1500", None),  # qualified and grown
    )
    recompute()
    assert snapshot(org.alice, "pipeline_value", "2017-01") == D("1000")
    assert snapshot(org.alice, "weighted_pipeline_value", "2017-01") == D("100")  # 1000 × 0.1
    assert snapshot(org.alice, "pipeline_value", "2017-02") == D("1500")
    assert snapshot(org.alice, "weighted_pipeline_value", "2017-02") == D("600")  # 1500 × 0.4
    # The quarter and the year stand at their last day; created is the amount first recorded.
    assert snapshot(org.alice, "pipeline_value", "2017-Q1") == D("1500")
    assert snapshot(org.alice, "pipeline_created", "2017-01") == D("1000")
    assert snapshot(org.alice, "pipeline_created", "2017") == D("1000")


def test_a_deal_changed_today_leaves_the_month_ends_before_alone(org, deal, stages, recompute, snapshot):
    """The deal was open at January's end, and recorded so: winning it now, with a close date
    back in January, adds January's revenue (its own fact) but does not rewrite what stood."""
    late = deal(org.alice, "open", "1000", "2017-01-10")
    recompute()
    assert snapshot(org.alice, "pipeline_value", "2017-01") == D("1000")
    late.stage, late.closed_on = stages["won"], day("2017-01-20")
    late.save()
    recompute()
    assert snapshot(org.alice, "pipeline_value", "2017-01") == D("1000")
    assert snapshot(org.alice, "revenue_won", "2017-01") == D("1000")
    assert OpportunityState.objects.filter(opportunity=late).count() == 2


def test_a_deal_first_recorded_already_won_was_open_until_its_close_at_the_first_open_stage(
    org, deal, prospecting, recompute, snapshot
):
    """A bulk load of closed deals (one state, won): open from creation to close; which stage it
    was in is unknown, so it weighs as the first open stage — never at its outcome's 100%."""
    deal(org.alice, "won", "1000", "2017-01-10", "2017-03-05")
    recompute()
    assert snapshot(org.alice, "pipeline_value", "2017-02") == D("1000")
    assert snapshot(org.alice, "weighted_pipeline_value", "2017-02") == D("100")  # Prospecting, 0.1
    assert snapshot(org.alice, "pipeline_value", "2017-03") == 0


def test_two_changes_on_one_day_leave_only_the_last(org, deal, stages, prospecting, recompute, snapshot):
    flip = deal(org.alice, "open", "300", "2017-01-10")
    history(
        flip,
        (None, stages["open"], "100", None),
        ("2017-01-31", prospecting, "200", None),  # same day: superseded before the day ended
        ("2017-01-31", stages["open"], "300", None),
    )
    recompute()
    assert snapshot(org.alice, "pipeline_value", "2017-01") == D("300")
    assert snapshot(org.alice, "weighted_pipeline_value", "2017-01") == D("120")


def test_a_team_and_its_region_add_up_what_their_reps_deals_stood_at(org, deal, stages, recompute, snapshot):
    """Alice and Bob in East, Carol in West: East's pipeline at March's end is Alice's and Bob's
    states then; the region's and the company's all three."""
    a = deal(org.alice, "open", "500", "2017-01-10")
    history(a, (None, stages["open"], "200", None), ("2017-03-10", stages["open"], "500", None))
    b = deal(org.bob, "won", "700", "2017-02-01", "2017-04-02")
    history(b, (None, stages["open"], "700", None), ("2017-04-02", stages["won"], "700", "2017-04-02"))
    deal(org.carol, "open", "50", "2017-01-05")
    recompute()
    assert snapshot(org.east, "pipeline_value", "2017-Q1") == D("1200")  # 500 + 700
    assert snapshot(org.east, "weighted_pipeline_value", "2017-Q1") == D("480")
    assert snapshot(org.east, "pipeline_value", "2017-02") == D("900")  # 200 + 700
    assert snapshot(org.region, "pipeline_value", "2017-Q1") == D("1250")
    assert snapshot("company", "pipeline_value", "2017-Q1") == D("1250")
    assert snapshot(org.east, "pipeline_value", "2017-Q2") == D("500")


def test_an_owner_change_is_a_correction_the_whole_history_follows(org, deal, stages, recompute, snapshot):
    moved = deal(org.alice, "open", "400", "2017-01-10")
    moved.rep = org.bob
    moved.save()
    recompute()
    assert snapshot(org.bob, "pipeline_value", "2017-01") == D("400")
    assert snapshot(org.alice, "pipeline_value", "2017-01") == 0

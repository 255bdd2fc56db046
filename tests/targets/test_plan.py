"""Targets as a plan that adds up (issue 18, item 1), figures worked out by hand."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from kpis.periods import Period
from targets.models import Target
from targets.plan import how_it_splits, split
from targets.selectors import reconciliation_gaps, scorecard
from targets.spread import spread_preview, target_spread
from teams.subjects import Subject
from teams.tree import TeamTree

Q4 = Period.parse("2026-Q4")


def test_counts_split_into_whole_numbers_that_add_up():
    # 10 deals over 3 months: 3.33 each, the one left over to the first (it was 3.333333 each)
    assert split(D(10), [D(1)] * 3, D(1)) == [D(4), D(3), D(3)]
    # by weights 1, 1, 2: exactly 2.5, 2.5, 5 → 2, 2, 5 and the one left to the first largest loss
    assert split(D(10), [D(1), D(1), D(2)], D(1)) == [D(3), D(2), D(5)]
    # money in cents: 100 over 3 → 33.34, 33.33, 33.33
    assert split(D(100), [D(1)] * 3, D("0.01")) == [D("33.34"), D("33.33"), D("33.33")]


def test_each_metric_says_how_it_splits():
    assert how_it_splits("revenue_won") == "divided over reps and months"
    assert how_it_splits("pipeline_value") == "divided over reps; each month keeps the whole"
    assert how_it_splits("win_rate") == "not divided: every rep and month gets the same target"


@pytest.fixture
def q4_months(org, set_target):
    """Alice and Bob have October–December revenue targets, as every demo rep does:
    Alice 20000 + 25000 + 30000 = 75000, Bob 10000 + 10000 + 12000 = 32000; East Σ 107000."""
    for rep, values in ((org.alice, ("20000", "25000", "30000")), (org.bob, ("10000", "10000", "12000"))):
        for month, value in zip(Q4.months(), values, strict=True):
            set_target(org.east_manager, rep, "revenue_won", month, value)


def test_a_quarter_without_its_own_target_is_the_sum_of_its_months(org, q4_months, client):
    # it said "No target" on the scorecard's quarter view and "no target" on the dashboard
    card = scorecard(
        user=org.east_manager, subject=Subject.rep(org.alice.pk), period=Q4, today=dt.date(2026, 12, 4)
    )
    revenue = next(r for r in card.rows if r.metric.key == "revenue_won")
    assert (revenue.target_value, revenue.plan.source) == (D(75000), "months")
    client.force_login(org.east_manager)
    lines = client.get(f"/dashboard/?team={org.east.pk}&period=2026-Q4").context["lines"]
    assert [(ln.rep.full_name, ln.target.value, ln.target_cell.text) for ln in lines] == [
        ("Alice", D(75000), "USD 75,000 (Σ months)"),
        ("Bob", D(32000), "USD 32,000 (Σ months)"),
    ]


def test_a_team_without_its_own_target_is_the_sum_of_its_reps(org, q4_months):
    card = scorecard(
        user=org.east_manager, subject=Subject.team(org.east.pk), period=Q4, today=dt.date(2026, 12, 4)
    )
    revenue = next(r for r in card.rows if r.metric.key == "revenue_won")
    # East has no month targets of its own: Alice's 75000 + Bob's 32000
    assert (revenue.target_value, revenue.plan.source) == (D(107000), "members")


def test_a_team_quarter_target_is_reconciled_with_its_reps_month_targets(org, q4_months, set_target):
    # EMEA North's case: a Q4 team target of 163,988.92 against reps' month targets Σ 225,500
    # reported no gap, as only targets of the same kind were compared. Here 100000 against 107000.
    team = set_target(org.east_manager, org.east, "revenue_won", Q4, "100000")
    [gap] = reconciliation_gaps([team], TeamTree.load())
    assert (gap.target, gap.what, gap.total, gap.difference) == (team, "members", D(107000), D(-7000))
    card = scorecard(
        user=org.east_manager, subject=Subject.team(org.east.pk), period=Q4, today=dt.date(2026, 12, 4)
    )
    revenue = next(r for r in card.rows if r.metric.key == "revenue_won")
    # its own is shown, and both sums are there with the gap
    assert (revenue.target_value, revenue.plan.source, revenue.plan.members.total) == (
        D(100000),
        "own",
        D(107000),
    )


def test_a_quarter_target_is_reconciled_with_its_own_months(org, q4_months, set_target):
    alice_q4 = set_target(org.east_manager, org.alice, "revenue_won", Q4, "80000")
    [gap] = reconciliation_gaps([alice_q4], TeamTree.load())
    assert (gap.what, gap.total, gap.difference) == ("months", D(75000), D(5000))


# --- one spread, reps × months


def test_a_teams_year_target_spreads_to_reps_by_months_in_one_step(org, set_target):
    # it took two spreads that did not chain: the year over reps, then each rep's year over months
    year = set_target(org.east_manager, org.east, "deals_won", "2017", "100")
    made = target_spread(user=org.east_manager, target=year, method="even", tree=TeamTree.load())
    assert len(made) == 2 * 12
    # 100 deals: Alice 50 and Bob 50, each 50 / 12 = 4.17 a month → 5 × 2 months and 4 × 10
    cells = {(t.rep.full_name, t.period.label): t.value for t in made}
    assert [cells["Alice", m.label] for m in Period.parse("2017").months()] == [D(5)] * 2 + [D(4)] * 10
    assert sum(cells.values()) == D(100)
    assert all(v == v.to_integral_value() for v in cells.values())


def test_a_spread_by_named_monthly_weights(org, set_target):
    quarter = set_target(org.east_manager, org.east, "revenue_won", "2017-Q1", "8000")
    preview = spread_preview(
        user=org.east_manager, target=quarter, method="weights", weights="1, 1, 2", tree=TeamTree.load()
    )
    # 4000 each rep, as 1000, 1000, 2000
    assert [(r.full_name, row, total) for r, row, total in preview.rows] == [
        ("Alice", [D(1000), D(1000), D(2000)], D(4000)),
        ("Bob", [D(1000), D(1000), D(2000)], D(4000)),
    ]
    assert preview.column_totals == [D(2000), D(2000), D(4000)]
    assert Target.objects.count() == 1  # a preview writes nothing


def test_a_spread_shaped_like_last_years_actuals(org, set_target, deal, recompute):
    # 2016-Q1: Alice won 300 (Jan) and 300 (Mar), Bob 400 (Mar): reps 60:40, months Jan 300 : Feb 0 : Mar 700
    deal(org.alice, "won", "300", "2016-01-01", "2016-01-10")
    deal(org.alice, "won", "300", "2016-01-01", "2016-03-10")
    deal(org.bob, "won", "400", "2016-01-01", "2016-03-10")
    recompute()
    quarter = set_target(org.east_manager, org.east, "revenue_won", "2017-Q1", "10000")
    preview = spread_preview(user=org.east_manager, target=quarter, method="last_year", tree=TeamTree.load())
    # Alice 6000 → 1800, 0, 4200; Bob 4000 → 1200, 0, 2800
    assert [row for _, row, _ in preview.rows] == [[D(1800), D(0), D(4200)], [D(1200), D(0), D(2800)]]


def test_a_pipeline_target_divides_over_reps_and_each_month_keeps_the_whole(org, set_target):
    # it gave each rep the team's whole 500,000, though pipeline adds up across reps
    quarter = set_target(org.east_manager, org.east, "pipeline_value", "2017-Q1", "500000")
    preview = spread_preview(user=org.east_manager, target=quarter, tree=TeamTree.load())
    assert [row for _, row, _ in preview.rows] == [[D(250000)] * 3, [D(250000)] * 3]


def test_bad_weights_are_refused_and_nothing_is_written(org, set_target):
    quarter = set_target(org.east_manager, org.east, "revenue_won", "2017-Q1", "8000")
    for weights in ("1, 2", "a, b, c", "0, 0, 0", "-1, 1, 1"):
        with pytest.raises(ValidationError) as e:
            target_spread(
                user=org.east_manager, target=quarter, method="weights", weights=weights, tree=TeamTree.load()
            )
        assert "weights" in e.value.message_dict
    assert Target.objects.count() == 1


def test_another_teams_target_cannot_be_spread(org, set_target):
    west = set_target(org.boss, org.west, "revenue_won", "2017-Q1", "8000")
    with pytest.raises(ValidationError):
        spread_preview(user=org.east_manager, target=west, tree=TeamTree.load())

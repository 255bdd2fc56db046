"""Setting targets: validation, permissions, relative targets, spreading, reconciliation, history,
forecasts."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from kpis.models import ForecastSubmission
from targets.models import Target
from targets.selectors import reconciliation_gaps
from targets.services import (
    forecast_submit,
    target_spread_over_months,
    target_spread_over_reps,
)
from teams.tree import TeamTree
from tests.targets.conftest import subject_of


def rejected(call, *args, **kwargs) -> dict[str, list[str]]:
    """The message_dict of the ValidationError the call raises."""
    with pytest.raises(ValidationError) as excinfo:
        call(*args, **kwargs)
    return excinfo.value.message_dict


def values(targets) -> list[D]:
    return [t.value for t in targets]


@pytest.fixture
def q1_deals(org, deal, recompute):
    """Won in 2017-Q1: Alice 1000 (Jan) + 2000 (Feb) = 3000, Bob 1000 (Mar); East 4000."""
    deal(org.alice, "won", "1000", "2017-01-02", "2017-01-20")
    deal(org.alice, "won", "2000", "2017-01-02", "2017-02-20")
    deal(org.bob, "won", "1000", "2017-01-02", "2017-03-20")
    recompute()


# --- absolute and relative targets


def test_an_absolute_target_is_stored_as_given(org, set_target):
    target = set_target(org.east_manager, org.alice, "revenue_won", "2017-Q1", "30000")
    target.refresh_from_db()
    assert (target.scope, target.rep, target.team) == ("rep", org.alice, None)
    assert (target.period_kind, target.period_start) == ("quarter", dt.date(2017, 1, 1))
    assert (target.value, target.baseline_start, target.uplift_pct) == (D("30000"), None, None)
    assert not target.is_relative
    assert target.created_by == org.east_manager


def test_a_relative_target_grows_the_baseline_actual_by_the_uplift(org, set_target, q1_deals, snapshot):
    assert snapshot(org.alice, "revenue_won", "2017-Q1") == D("3000")
    target = set_target(
        org.east_manager, org.alice, "revenue_won", "2017-Q2", baseline="2017-Q1", uplift_pct=10
    )
    target.refresh_from_db()
    # 3000 + 10% = 3300
    assert target.value == D("3300")
    assert (target.baseline_start, target.uplift_pct) == (dt.date(2017, 1, 1), D("10.00"))
    assert target.is_relative


def test_a_team_relative_target_grows_the_teams_baseline(org, set_target, q1_deals):
    # East won 3000 + 1000 = 4000 in Q1; 4000 − 5% = 3800
    target = set_target(
        org.east_manager, org.east, "revenue_won", "2017-Q2", baseline="2017-Q1", uplift_pct="-5"
    )
    assert target.value == D("3800")


def test_a_relative_target_without_a_baseline_snapshot_is_refused(org, set_target, q1_deals):
    errors = rejected(
        set_target, org.east_manager, org.alice, "revenue_won", "2015-Q2", baseline="2015-Q1", uplift_pct=10
    )
    assert errors == {"baseline": ["No revenue won figure for Alice in 2015-Q1 to grow from."]}
    assert not Target.objects.exists()


def test_a_relative_target_whose_baseline_is_undefined_is_refused(org, set_target, q1_deals, snapshot):
    # Bob closed one deal in Q1, won: his win rate is 1; Carol closed none: 0 / 0 has no value.
    assert snapshot(org.carol, "win_rate", "2017-Q1") is None
    errors = rejected(
        set_target, org.boss, org.carol, "win_rate", "2017-Q2", baseline="2017-Q1", uplift_pct=5
    )
    assert errors == {"baseline": ["No win rate figure for Carol in 2017-Q1 to grow from."]}


def test_a_relative_target_needs_a_baseline_of_the_same_kind_and_an_uplift(org, set_target, q1_deals):
    assert "baseline" in rejected(
        set_target, org.east_manager, org.alice, "revenue_won", "2017-Q2", baseline="2017-01", uplift_pct=10
    )
    assert "baseline" in rejected(
        set_target, org.east_manager, org.alice, "revenue_won", "2017-Q2", baseline="2017-Q1"
    )
    assert "value" in rejected(
        set_target,
        org.east_manager,
        org.alice,
        "revenue_won",
        "2017-Q2",
        "10",
        baseline="2017-Q1",
        uplift_pct=10,
    )


# --- validation


def test_an_unknown_metric_is_refused(org, set_target):
    errors = rejected(set_target, org.east_manager, org.alice, "revenue", "2017-Q1", "1000")
    assert list(errors) == ["metric"]
    assert errors["metric"][0].startswith("Unknown metric 'revenue'. Known: revenue_won, deals_won")


def test_a_period_that_does_not_exist_is_refused(org, set_target):
    errors = rejected(set_target, org.east_manager, org.alice, "revenue_won", "2017-Q5", "1000")
    assert errors == {"period": ["'2017-Q5' is not a period: use 2017-03, 2017-Q1 or 2017."]}


def test_a_negative_value_is_refused(org, set_target):
    errors = rejected(set_target, org.east_manager, org.alice, "revenue_won", "2017-Q1", "-1")
    assert errors == {"value": ["A revenue won target cannot be negative."]}


def test_a_rate_over_one_is_refused(org, set_target):
    errors = rejected(set_target, org.east_manager, org.alice, "win_rate", "2017-Q1", "1.5")
    assert errors == {"value": ["Win rate is a fraction from 0 to 1 (0.3 = 30%)."]}


def test_a_value_that_is_not_a_number_is_refused(org, set_target):
    errors = rejected(set_target, org.east_manager, org.alice, "revenue_won", "2017-Q1", "lots")
    assert errors == {"value": ["'lots' is not a number."]}


def test_a_second_target_for_the_same_subject_metric_and_period_is_refused(org, set_target):
    set_target(org.east_manager, org.alice, "revenue_won", "2017-Q1", "1000")
    errors = rejected(set_target, org.east_manager, org.alice, "revenue_won", "2017-Q1", "2000")
    assert errors == {"period": ["Alice already has a revenue won target for 2017-Q1."]}
    assert values(Target.objects.all()) == [D("1000")]


def test_replace_updates_the_existing_target(org, set_target):
    first = set_target(org.east_manager, org.alice, "revenue_won", "2017-Q1", "1000")
    second = set_target(org.east_manager, org.alice, "revenue_won", "2017-Q1", "2000", replace=True)
    assert second.pk == first.pk
    assert values(Target.objects.all()) == [D("2000")]


# --- permissions


@pytest.mark.parametrize("subject", ["alice", "bob", "east"])
def test_a_manager_may_set_targets_in_their_subtree(org, set_target, subject):
    set_target(org.east_manager, getattr(org, subject), "revenue_won", "2017-Q1", "1000")
    assert Target.objects.count() == 1


@pytest.mark.parametrize(("subject", "scope"), [("carol", "rep"), ("west", "team"), ("region", "team")])
def test_a_manager_may_not_set_targets_outside_their_subtree(org, set_target, subject, scope):
    who = getattr(org, subject)
    errors = rejected(set_target, org.east_manager, who, "revenue_won", "2017-Q1", "1000")
    assert errors == {"subject": [f"There is no {scope} {who.pk} you may set targets for."]}
    assert not Target.objects.exists()


def test_only_admins_set_company_targets(org, set_target):
    errors = rejected(set_target, org.east_manager, "company", "revenue_won", "2017", "1000")
    assert errors == {"subject": ["Only admins set company targets."]}


def test_a_manager_above_may_set_targets_for_every_rep_below(org, set_target):
    set_target(org.boss, org.carol, "revenue_won", "2017-Q1", "1000")
    set_target(org.boss, org.region, "revenue_won", "2017-Q1", "1000")
    assert Target.objects.count() == 2


@pytest.mark.parametrize("subject", ["alice", "bob", "east"])
def test_a_rep_may_set_no_target_not_even_her_own(org, set_target, subject):
    errors = rejected(set_target, org.alice.user, getattr(org, subject), "revenue_won", "2017-Q1", "1000")
    assert list(errors) == ["subject"]


def test_an_outsider_may_set_no_target(org, set_target):
    assert list(rejected(set_target, org.outsider, org.alice, "revenue_won", "2017-Q1", "1")) == ["subject"]


def test_an_admin_may_set_the_companys_target(org, set_target):
    target = set_target(org.admin, "company", "revenue_won", "2017", "1000000")
    assert (target.scope, target.rep, target.team, target.period_kind) == ("company", None, None, "year")


# --- spreading over months


def test_a_quarter_spreads_evenly_over_its_months(org, set_target):
    quarter = set_target(org.east_manager, org.east, "revenue_won", "2017-Q1", "900")
    months = target_spread_over_months(user=org.east_manager, target=quarter)
    assert [t.period.label for t in months] == ["2017-01", "2017-02", "2017-03"]
    assert values(months) == [D(300)] * 3
    assert all((t.scope, t.team) == ("team", org.east) for t in months)


def test_an_even_spread_splits_money_into_cents_that_add_up(org, set_target):
    quarter = set_target(org.east_manager, org.east, "revenue_won", "2017-Q1", "1000")
    months = target_spread_over_months(user=org.east_manager, target=quarter)
    # 1000 / 3 = 333.33…: 333.33 each leaves a cent, given to the first
    assert values(months) == [D("333.34"), D("333.33"), D("333.33")]
    assert sum(t.value for t in Target.objects.filter(period_kind="month")) == D(1000)


def test_a_year_spreads_over_twelve_months(org, set_target):
    year = set_target(org.east_manager, org.alice, "deals_won", "2017", "120")
    assert values(target_spread_over_months(user=org.east_manager, target=year)) == [D(10)] * 12


def test_a_seasonal_spread_follows_last_years_months(org, set_target, deal, recompute):
    # East won 100, 300 and 600 in Jan, Feb and Mar 2016: weights 1/10, 3/10, 6/10
    deal(org.alice, "won", "100", "2016-01-01", "2016-01-15")
    deal(org.bob, "won", "300", "2016-01-01", "2016-02-15")
    deal(org.alice, "won", "600", "2016-01-01", "2016-03-15")
    recompute()
    quarter = set_target(org.east_manager, org.east, "revenue_won", "2017-Q1", "2000")
    months = target_spread_over_months(user=org.east_manager, target=quarter, method="seasonal")
    assert values(months) == [D(200), D(600), D(1200)]


def test_a_seasonal_spread_needs_last_years_figures(org, set_target):
    quarter = set_target(org.east_manager, org.east, "revenue_won", "2017-Q1", "2000")
    errors = rejected(target_spread_over_months, user=org.east_manager, target=quarter, method="seasonal")
    assert errors == {"method": ["No revenue won a year earlier to take the season's shape from."]}


def test_a_rate_is_not_split_over_months_but_applies_to_each(org, set_target):
    quarter = set_target(org.east_manager, org.east, "win_rate", "2017-Q1", "0.3")
    assert values(target_spread_over_months(user=org.east_manager, target=quarter)) == [D("0.3")] * 3


def test_a_month_cannot_be_spread_over_months(org, set_target):
    month = set_target(org.east_manager, org.east, "revenue_won", "2017-01", "900")
    assert "period" in rejected(target_spread_over_months, user=org.east_manager, target=month)


def test_a_spread_is_refused_where_the_manager_may_not_set_targets(org, set_target):
    quarter = set_target(org.boss, org.west, "revenue_won", "2017-Q1", "900")
    assert "subject" in rejected(target_spread_over_months, user=org.east_manager, target=quarter)
    assert Target.objects.count() == 1


# --- spreading over reps and reconciliation


def test_a_team_target_spreads_evenly_over_its_reps(org, set_target):
    team = set_target(org.east_manager, org.east, "revenue_won", "2017-Q1", "1001")
    reps = target_spread_over_reps(user=org.east_manager, target=team)
    assert [(t.rep, t.value) for t in reps] == [(org.alice, D("500.5")), (org.bob, D("500.5"))]
    assert all(t.period.label == "2017-Q1" for t in reps)


def test_a_regions_target_spreads_over_every_rep_below_it(org, set_target):
    region = set_target(org.boss, org.region, "revenue_won", "2017-Q1", "100")
    reps = target_spread_over_reps(user=org.boss, target=region)
    # Alice, Bob, Carol: 33.33 each and the cent left over to the first
    assert [(t.rep, t.value) for t in reps] == [
        (org.alice, D("33.34")),
        (org.bob, D("33.33")),
        (org.carol, D("33.33")),
    ]


def test_a_team_target_spreads_over_reps_by_their_share_of_a_baseline(org, set_target, q1_deals):
    # Q1: Alice 3000, Bob 1000 of 4000 → Q2's 8000 as 6000 and 2000
    team = set_target(org.east_manager, org.east, "revenue_won", "2017-Q2", "8000")
    reps = target_spread_over_reps(user=org.east_manager, target=team, method="baseline", baseline="2017-Q1")
    assert [(t.rep, t.value) for t in reps] == [(org.alice, D(6000)), (org.bob, D(2000))]


def test_a_baseline_share_needs_baseline_figures(org, set_target, q1_deals):
    team = set_target(org.east_manager, org.east, "revenue_won", "2016-Q2", "8000")
    errors = rejected(
        target_spread_over_reps, user=org.east_manager, target=team, method="baseline", baseline="2016-Q1"
    )
    assert errors == {"baseline": ["The reps have no revenue won in 2016-Q1 to share by."]}


def test_a_team_win_rate_target_is_copied_to_each_rep(org, set_target):
    team = set_target(org.east_manager, org.east, "win_rate", "2017-Q1", "0.3")
    reps = target_spread_over_reps(user=org.east_manager, target=team)
    assert [(t.rep, t.metric, t.value) for t in reps] == [
        (org.alice, "win_rate", D("0.3")),
        (org.bob, "win_rate", D("0.3")),
    ]


def test_only_a_teams_target_spreads_over_reps(org, set_target):
    rep = set_target(org.east_manager, org.alice, "revenue_won", "2017-Q1", "1000")
    assert "scope" in rejected(target_spread_over_reps, user=org.east_manager, target=rep)


def test_reconciliation_reports_a_team_target_its_reps_do_not_add_up_to(org, set_target):
    team = set_target(org.east_manager, org.east, "revenue_won", "2017-Q2", "8000")
    set_target(org.east_manager, org.alice, "revenue_won", "2017-Q2", "5000")
    set_target(org.east_manager, org.bob, "revenue_won", "2017-Q2", "2000")
    [gap] = reconciliation_gaps([team], TeamTree.load())
    # 8000 − (5000 + 2000) = 1000 not given to any rep
    assert (gap.target, gap.what, gap.total, gap.difference) == (team, "members", D(7000), D(1000))


def test_reconciliation_reports_nothing_when_the_reps_add_up(org, set_target):
    team = set_target(org.east_manager, org.east, "revenue_won", "2017-Q2", "8000")
    target_spread_over_reps(user=org.east_manager, target=team)
    assert reconciliation_gaps([team], TeamTree.load()) == []


def test_reconciliation_sums_the_reps_of_the_whole_subtree(org, set_target):
    region = set_target(org.boss, org.region, "deals_won", "2017-Q2", "30")
    for rep in (org.alice, org.bob, org.carol):
        set_target(org.boss, rep, "deals_won", "2017-Q2", "10")
    set_target(org.boss, org.carol, "deals_won", "2017-Q3", "99")  # another quarter: not counted
    assert reconciliation_gaps([region], TeamTree.load()) == []


def test_reconciliation_ignores_rates(org, set_target):
    team = set_target(org.east_manager, org.east, "win_rate", "2017-Q2", "0.3")
    set_target(org.east_manager, org.alice, "win_rate", "2017-Q2", "0.3")
    set_target(org.east_manager, org.bob, "win_rate", "2017-Q2", "0.3")
    assert reconciliation_gaps([team], TeamTree.load()) == []


# --- history


def test_every_change_to_a_target_is_kept_with_who_made_it(org, set_target):
    target = set_target(org.east_manager, org.alice, "revenue_won", "2017-Q1", "1000")
    set_target(org.boss, org.alice, "revenue_won", "2017-Q1", "1500", replace=True)
    new, old = target.history.order_by("-history_date", "-history_id")
    assert (old.history_type, old.history_user, old.value) == ("+", org.east_manager, D(1000))
    assert (new.history_type, new.history_user, new.value) == ("~", org.boss, D(1500))
    [change] = new.diff_against(old).changes
    assert (change.field, change.old, change.new) == ("value", D(1000), D(1500))


# --- forecasts


def forecast(user, subject, amount, category="commit"):
    """A forecast for 2030-Q2 (a period to come)."""
    scope, pk = subject_of(subject)
    return forecast_submit(
        user=user, scope=scope, subject_id=pk, period="2030-Q2", amount=amount, category=category
    )


def test_a_rep_submits_a_forecast_for_herself(org):
    submitted = forecast(org.alice.user, org.alice, "5000")
    submitted.refresh_from_db()
    assert (submitted.rep, submitted.period_kind, submitted.period_start) == (
        org.alice,
        "quarter",
        dt.date(2030, 4, 1),
    )
    assert (submitted.category, submitted.amount, submitted.submitted_by) == (
        "commit",
        D("5000.00"),
        org.alice.user,
    )


def test_a_rep_may_not_forecast_for_another_rep(org):
    errors = rejected(forecast, org.alice.user, org.bob, "1")
    assert errors == {"subject": [f"There is no rep {org.bob.pk} you may submit forecasts for."]}
    assert not ForecastSubmission.objects.exists()


def test_a_manager_forecasts_for_their_team_and_no_other(org):
    assert forecast(org.east_manager, org.east, "9000").team == org.east
    assert rejected(forecast, org.east_manager, org.west, "1") == {
        "subject": [f"There is no team {org.west.pk} you may submit forecasts for."]
    }


def test_a_negative_forecast_is_refused(org):
    assert rejected(forecast, org.alice.user, org.alice, "-1") == {
        "amount": ["A forecast cannot be negative."]
    }


def test_a_best_case_forecast_is_accepted_and_an_unknown_category_is_not(org):
    assert forecast(org.alice.user, org.alice, "7000", "best_case").category == "best_case"
    assert list(rejected(forecast, org.alice.user, org.alice, "1", "hope")) == ["category"]

"""Statuses that know where the period is (issue 18): each wrong answer of the audit, worked out
by hand. Plain arithmetic, then the alerts and relative targets that read it."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from kpis.periods import Period
from targets import alerts
from targets.models import Notification, Target
from targets.progress import (
    AT_RISK,
    BEHIND,
    HIT,
    MISSED,
    NO_DATA,
    NOT_STARTED,
    ON_TRACK,
    TOO_EARLY,
    progress,
)
from targets.services import target_follow_baselines
from tests.targets.test_services import rejected

DEC = Period.parse("2026-12")  # 31 days
NOV = Period.parse("2026-11")  # 30 days
Q1 = Period.parse("2017-Q1")  # 90 days


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.TARGET_ON_TRACK_FROM = 1.0
    settings.TARGET_AT_RISK_FROM = 0.9


def state(actual, target, period, today, *, summable=True, higher_is_better=True, **kwargs):
    return progress(
        actual=None if actual is None else D(actual),
        target=D(target),
        period=period,
        today=today,
        higher_is_better=higher_is_better,
        summable=summable,
        **kwargs,
    )


# --- where the period is


def test_a_closed_month_at_95_percent_is_missed_not_at_risk():
    # Nia's November: 954 of 1000 = 95.4%, read on 4 December
    nia = state("954", "1000", NOV, dt.date(2026, 12, 4))
    assert nia.attainment == D("0.954")
    assert nia.status == MISSED


def test_a_closed_month_that_reached_its_target_is_hit():
    assert state("1000", "1000", NOV, dt.date(2026, 12, 4)).status == HIT
    # lower is better: 3 deals lost against at most 4
    assert state("3", "4", NOV, dt.date(2026, 12, 4), higher_is_better=False).status == HIT


def test_a_future_period_has_not_started():
    # it said "On track 0%" (revenue) or "Behind —" (a rate)
    assert state("0", "1000", DEC, dt.date(2026, 11, 20)).status == NOT_STARTED
    assert state(None, "0.3", DEC, dt.date(2026, 11, 20), summable=False).status == NOT_STARTED


def test_four_days_into_december_is_too_early_to_judge():
    # 4 / 31 = 12.9% of the month: under the 20% that a verdict needs; nothing won is no alarm
    early = state("0", "3100", DEC, dt.date(2026, 12, 4))
    assert early.expected == D(400)  # 3100 × 4 / 31
    assert early.status == TOO_EARLY


def test_a_verdict_comes_once_a_fifth_of_the_period_has_passed():
    # 6 / 31 = 19.4%: too early; 7 / 31 = 22.6%: 700 expected, nothing won → behind
    assert state("0", "3100", DEC, dt.date(2026, 12, 6)).status == TOO_EARLY
    assert state("0", "3100", DEC, dt.date(2026, 12, 7)).status == BEHIND
    # a rate too: 0.27 against 0.3 is at risk only from the 7th
    assert state("0.27", "0.3", DEC, dt.date(2026, 12, 1), summable=False).status == TOO_EARLY
    assert state("0.27", "0.3", DEC, dt.date(2026, 12, 7), summable=False).status == AT_RISK


def test_an_undefined_win_rate_has_no_data_yet_not_behind():
    # no deal closed yet: won / (won + lost) = 0 / 0, the snapshot's state "undefined"
    assert state(None, "0.3", DEC, dt.date(2026, 12, 20), summable=False).status == NO_DATA
    assert state(None, "0.3", NOV, dt.date(2026, 12, 20), summable=False).status == NO_DATA
    # a state "undefined" on a figure that has a value is no data as well
    assert state("0", "0.3", DEC, dt.date(2026, 12, 20), summable=False, undefined=True).status == NO_DATA


def test_a_provisional_actual_is_marked_provisional():
    lead_conversion = state("0.35", "0.3", NOV, dt.date(2026, 12, 4), summable=False, provisional=True)
    assert (lead_conversion.status, lead_conversion.provisional) == (HIT, True)


# --- edge cases that inverted


def test_a_paced_lower_is_better_target_of_0_with_7_lost_is_behind():
    # at most 0 deals lost in December; 7 lost by the 20th: it said "on track"
    lost = state("7", "0", DEC, dt.date(2026, 12, 20), higher_is_better=False)
    assert lost.expected == 0
    assert lost.status == BEHIND
    assert state("0", "0", DEC, dt.date(2026, 12, 20), higher_is_better=False).status == ON_TRACK


def test_an_nps_target_of_minus_10_is_beaten_by_minus_5_and_missed_by_minus_30():
    # measured up from −100: (−5 + 100) / (−10 + 100) = 95 / 90 = 1.055… → on track;
    # (−30 + 100) / 90 = 70 / 90 = 0.777… → behind. It said the opposite.
    nps = {"summable": False, "floor": D(-100)}
    better = state("-5", "-10", DEC, dt.date(2026, 12, 20), **nps)
    worse = state("-30", "-10", DEC, dt.date(2026, 12, 20), **nps)
    assert better.attainment == D(95) / D(90)
    assert (better.status, worse.status) == (ON_TRACK, BEHIND)
    # 45 against 50: 145 / 150 = 0.9667 → at risk
    assert state("45", "50", DEC, dt.date(2026, 12, 20), **nps).status == AT_RISK


def test_a_quarter_with_only_some_month_targets_paces_on_a_straight_line():
    # Q1 9000, only March planned (4000): on 14 Feb it expected 0 (the months without a target
    # weighed nothing) and so called nothing won "on track"; the straight line: 9000 × 45 / 90
    partial = state("0", "9000", Q1, dt.date(2017, 2, 14), month_weights={Period.parse("2017-03"): D(4000)})
    assert partial.expected == D(4500)
    assert partial.status == BEHIND


# --- alerts read the verdicts


@pytest.fixture
def december(org, set_target):
    """Alice's December 2026: 3100 revenue, and a win rate of 30% with no deal closed."""
    return (
        set_target(org.east_manager, org.alice, "revenue_won", "2026-12", "3100"),
        set_target(org.east_manager, org.alice, "win_rate", "2026-12", "0.3"),
    )


def test_nobody_is_alerted_on_the_first_of_the_month(org, december):
    # it sent 8 notifications on 2027-01-01; here: 2 targets × (Alice, her manager) were "behind"
    assert alerts.check_targets(today=dt.date(2026, 12, 1)) == 0
    assert {t.last_status for t in Target.objects.all()} == {TOO_EARLY, NO_DATA}


def test_an_undefined_win_rate_alerts_nobody_and_revenue_alerts_from_the_seventh(org, december):
    assert alerts.check_targets(today=dt.date(2026, 12, 7)) == 2  # revenue: Alice and her manager
    assert set(Notification.objects.values_list("message", flat=True)) == {
        "Alice is behind on revenue won for 2026-12: USD 0 of USD 3,100, USD 700 expected by now."
    }
    assert Target.objects.get(metric="win_rate").last_status == NO_DATA


def test_a_hit_target_is_announced_when_its_period_closes(org, december, deal, recompute):
    deal(org.alice, "won", "3200", "2026-12-01", "2026-12-15")
    recompute()
    assert alerts.check_targets(today=dt.date(2026, 12, 20)) == 0  # on track: nothing to say
    # December closed: both hit (1 won, 0 lost: a win rate of 100%), each told to 2 people
    assert alerts.check_targets(today=dt.date(2027, 1, 1)) == 4
    assert set(Notification.objects.filter(user=org.alice.user).values_list("message", flat=True)) == {
        "Alice hit the revenue won target for 2026-12: USD 3,200 of USD 3,100.",
        "Alice hit the win rate target for 2026-12: 100.0% of 30.0%.",
    }


# --- relative targets


def test_a_baseline_after_the_targets_period_is_refused(org, set_target, deal, recompute):
    deal(org.alice, "won", "1000", "2017-01-02", "2017-04-20")
    recompute()
    errors = rejected(
        set_target, org.east_manager, org.alice, "revenue_won", "2017-Q1", baseline="2017-Q2", uplift_pct="10"
    )
    assert errors["baseline"] == ["The baseline must come before the target's period (2017-Q1)."]
    errors = rejected(
        set_target, org.east_manager, org.alice, "revenue_won", "2017-Q2", baseline="2017-Q2", uplift_pct="10"
    )
    assert "baseline" in errors


def test_for_a_lower_is_better_metric_an_uplift_is_an_improvement(org, set_target, deal, recompute):
    # won in Q1 after 30 and 50 days: a 40-day cycle; +10% better is 36 days, not 44
    deal(org.alice, "won", "1000", "2017-01-01", "2017-01-31")
    deal(org.alice, "won", "1000", "2017-01-01", "2017-02-20")
    recompute()
    target = set_target(
        org.east_manager, org.alice, "sales_cycle_days", "2017-Q2", baseline="2017-Q1", uplift_pct="10"
    )
    assert target.value == D(36)
    assert not target.provisional


def test_a_relative_target_follows_a_running_baseline_and_freezes_at_its_end(
    org, set_target, deal, recompute
):
    this = Period.containing("quarter", timezone.localdate())
    day = this.start
    deal(org.alice, "won", "1000", day.isoformat(), day.isoformat())
    recompute()
    target = set_target(
        org.east_manager, org.alice, "revenue_won", this.shifted(1), baseline=this.label, uplift_pct="10"
    )
    assert (target.value, target.provisional) == (D(1100), True)  # 1000 so far, + 10%

    deal(org.alice, "won", "1000", day.isoformat(), day.isoformat())
    recompute()
    assert target_follow_baselines(today=this.end) == 1  # the baseline's last day: still running
    target.refresh_from_db()
    assert (target.value, target.provisional) == (D(2200), True)

    assert target_follow_baselines(today=this.end + dt.timedelta(days=1)) == 1  # ended: frozen
    target.refresh_from_db()
    assert (target.value, target.provisional) == (D(2200), False)
    deal(org.alice, "won", "5000", day.isoformat(), day.isoformat())  # a late correction
    recompute()
    assert target_follow_baselines(today=this.end + dt.timedelta(days=2)) == 0
    target.refresh_from_db()
    assert target.value == D(2200)

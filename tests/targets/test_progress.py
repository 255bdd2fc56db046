"""Attainment, pace, projection, status and coverage: plain arithmetic, worked out by hand."""

import datetime as dt
from decimal import Decimal as D

import pytest

from kpis.periods import Period
from targets.progress import (
    AT_RISK,
    BEHIND,
    NO_DATA,
    NOT_STARTED,
    ON_TRACK,
    TOO_EARLY,
    attainment,
    elapsed_share,
    expected_to_date,
    progress,
    projected,
    status_of,
)

JAN = Period.parse("2017-01")  # 31 days
Q1 = Period.parse("2017-Q1")  # 31 + 28 + 31 = 90 days
SIX = D("0.000001")


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.TARGET_ON_TRACK_FROM = 1.0
    settings.TARGET_AT_RISK_FROM = 0.9


def paced(actual, target, today, *, higher_is_better=True, month_weights=None, pipeline=None, period=JAN):
    return progress(
        actual=None if actual is None else D(actual),
        target=D(target),
        period=period,
        today=today,
        higher_is_better=higher_is_better,
        summable=True,
        month_weights=month_weights,
        pipeline=None if pipeline is None else D(pipeline),
    )


def test_attainment_is_actual_over_target_when_higher_is_better():
    # 800 of 1000 → 0.8
    assert attainment(D(800), D(1000), higher_is_better=True) == D("0.8")


def test_attainment_is_target_over_actual_when_lower_is_better():
    # a 30-day sales cycle wanted, 40 days taken → 30 / 40 = 0.75
    assert attainment(D(40), D(30), higher_is_better=False) == D("0.75")
    # 4% churn wanted, 5% churned → 0.04 / 0.05 = 0.8
    assert attainment(D("0.05"), D("0.04"), higher_is_better=False) == D("0.8")


def test_attainment_of_an_undefined_actual_is_undefined():
    assert attainment(None, D(1000), higher_is_better=True) is None


def test_one_day_of_a_month_has_elapsed_on_its_first_day():
    assert elapsed_share(JAN, dt.date(2017, 1, 1)) == D(1) / D(31)


def test_all_of_a_month_has_elapsed_on_its_last_day():
    assert elapsed_share(JAN, dt.date(2017, 1, 31)) == 1


def test_nothing_has_elapsed_before_a_period_and_all_of_it_after():
    assert elapsed_share(JAN, dt.date(2016, 12, 31)) == 0
    assert elapsed_share(JAN, dt.date(2017, 2, 1)) == 1


def test_expected_to_date_is_a_straight_line_without_a_month_spread():
    # 15 Feb is day 31 + 15 = 46 of Q1's 90: 900 × 46 / 90 = 460
    assert expected_to_date(Q1, D(900), dt.date(2017, 2, 15)) == 460


def test_expected_to_date_follows_a_seasonal_month_spread():
    weights = {
        Period.parse("2017-01"): D(200),
        Period.parse("2017-02"): D(300),
        Period.parse("2017-03"): D(500),
    }
    # January whole (200), then 15 of February's 28 days (300 × 15 / 28), nothing of March:
    # 200 + 160.714285… = 360.714286 — a straight line would say 1000 × 46 / 90 = 511.111111.
    expected = expected_to_date(Q1, D(1000), dt.date(2017, 2, 15), weights)
    assert expected.quantize(SIX) == (D(200) + D(300) * 15 / 28).quantize(SIX) == D("360.714286")


def test_a_month_target_ignores_month_weights():
    # 3100 over January's 31 days: 100 a day, 10 days → 1000
    assert expected_to_date(JAN, D(3100), dt.date(2017, 1, 10), {JAN: D(5)}) == 1000


def test_projection_extends_the_pace_so_far_to_the_end():
    # 400 reached where 460 was expected of 900 → 400 × 900 / 460 = 782.608696
    assert projected(D(400), D(460), D(900)).quantize(SIX) == D("782.608696")
    assert projected(D(400), D(0), D(900)) is None


def test_status_thresholds_come_from_settings():
    assert status_of(D("1.0")) == ON_TRACK
    assert status_of(D("0.95")) == AT_RISK
    assert status_of(D("0.9")) == AT_RISK
    assert status_of(D("0.5")) == BEHIND
    assert status_of(None) == BEHIND


def test_status_thresholds_move_with_settings(settings):
    settings.TARGET_AT_RISK_FROM = 0.96
    assert status_of(D("0.95")) == BEHIND


def test_pace_compares_the_actual_with_what_is_expected_by_today():
    # January 3100: 100 a day, on 10 Jan 1000 expected
    on_track = paced("1000", "3100", dt.date(2017, 1, 10))
    assert (on_track.expected, on_track.pace, on_track.status) == (1000, 1, ON_TRACK)
    assert on_track.attainment.quantize(SIX) == D("0.322581")  # 1000 / 3100
    assert on_track.projected == 3100
    at_risk = paced("950", "3100", dt.date(2017, 1, 10))
    assert (at_risk.pace, at_risk.status) == (D("0.95"), AT_RISK)
    behind = paced("500", "3100", dt.date(2017, 1, 10))
    assert (behind.pace, behind.status, behind.projected) == (D("0.5"), BEHIND, 1550)


def test_on_the_first_day_a_day_of_the_target_is_expected_but_it_is_too_early_to_judge():
    # 3100 / 31 = 100 expected on 1 Jan; nothing yet is no verdict (it was "behind", and alerted)
    nothing = paced("0", "3100", dt.date(2017, 1, 1))
    assert (nothing.expected, nothing.pace, nothing.status) == (100, 0, TOO_EARLY)
    first = paced("100", "3100", dt.date(2017, 1, 1))
    assert (first.expected, first.pace, first.status) == (100, 1, TOO_EARLY)


def test_on_the_last_day_the_whole_target_is_expected():
    last = paced("3000", "3100", dt.date(2017, 1, 31))
    assert last.expected == 3100
    assert last.pace.quantize(SIX) == D("0.967742")  # 3000 / 3100
    assert last.status == AT_RISK


def test_before_the_period_it_has_not_started():
    # it said "On track 0%"
    before = paced("0", "3100", dt.date(2016, 12, 20))
    assert (before.expected, before.pace, before.status) == (None, None, NOT_STARTED)


def test_no_snapshot_of_a_summable_metric_counts_as_nothing_done():
    none_yet = paced(None, "3100", dt.date(2017, 1, 10))
    assert (none_yet.actual, none_yet.attainment, none_yet.pace, none_yet.status) == (None, 0, 0, BEHIND)


def test_a_lower_is_better_count_is_behind_when_over_its_pace():
    # at most 31 deals lost in January: 10 allowed by 10 Jan; 20 lost → pace 10 / 20 = 0.5
    state = paced("20", "31", dt.date(2017, 1, 10), higher_is_better=False)
    assert (state.expected, state.pace, state.status) == (10, D("0.5"), BEHIND)
    assert state.projected == 62  # 20 × 31 / 10


def test_a_lower_is_better_count_with_nothing_yet_is_on_track():
    # no deal lost by 10 Jan against at most 31: the best there is, though 10 / 0 has no value
    state = paced("0", "31", dt.date(2017, 1, 10), higher_is_better=False)
    assert state.status == ON_TRACK
    assert state.projected == 0


def test_a_lower_is_better_rate_of_zero_meets_its_target():
    # no churn at all against at most 5%
    state = progress(
        actual=D(0),
        target=D("0.05"),
        period=JAN,
        today=dt.date(2017, 1, 10),
        higher_is_better=False,
        summable=False,
    )
    assert state.status == ON_TRACK


def test_coverage_is_open_pipeline_over_what_is_left_of_a_revenue_target():
    # 10000 wanted, 4000 won, 12000 open: 12000 / (10000 − 4000) = 2
    state = paced("4000", "10000", dt.date(2017, 1, 10), pipeline="12000")
    assert state.coverage == 2


def test_coverage_is_undefined_once_the_target_is_reached():
    assert paced("10000", "10000", dt.date(2017, 1, 10), pipeline="12000").coverage is None


def test_a_rate_is_compared_with_its_target_directly_not_paced():
    # a win rate of 27% against 30%, on the 10th as on the last day: 0.27 / 0.3 = 0.9
    for today in (dt.date(2017, 1, 10), dt.date(2017, 1, 31)):
        state = progress(
            actual=D("0.27"),
            target=D("0.3"),
            period=JAN,
            today=today,
            higher_is_better=True,
            summable=False,
            pipeline=D(5000),
        )
        assert (state.attainment, state.expected, state.pace, state.projected) == (D("0.9"), None, None, None)
        assert state.status == AT_RISK
        assert state.coverage is None


def test_an_undefined_rate_has_no_data_yet():
    state = progress(
        actual=None,
        target=D("0.3"),
        period=JAN,
        today=dt.date(2017, 1, 10),
        higher_is_better=True,
        summable=False,
    )
    assert (state.attainment, state.status) == (None, NO_DATA)

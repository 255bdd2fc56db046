"""Forecast accuracy = max(0, 1 − |revenue won − F| / revenue won), worked out by hand.

F is the latest `commit` submission for exactly that subject and period made before the period
began (local midnight of its first day); best-case submissions and later ones are ignored. A team
or the company that committed nothing uses the sum of its children's. Nothing won against a
positive F is 0; while the period runs, without F, and when both are 0 it is undefined.

Revenue won: alice 1000 + 3000 in January, 2000 in February (Q1 6000); bob 200 in January;
carol 1000 in January and nothing in February. East January 4200, company January 5200.
"""

import datetime as dt
from decimal import Decimal as D

import pytest

from tests.factories import ForecastFactory


def utc(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def forecast(subject, amount, start, submitted, *, kind="month", category="commit"):
    """A forecast for a Rep, a Team or "company"; dates as ISO text, `submitted` in UTC."""
    scope = "company" if subject == "company" else subject._meta.model_name
    return ForecastFactory(
        scope=scope,
        rep=subject if scope == "rep" else None,
        team=subject if scope == "team" else None,
        period_kind=kind,
        period_start=dt.date.fromisoformat(start),
        category=category,
        amount=D(amount),
        submitted_at=utc(submitted),
    )


@pytest.fixture
def revenue(org, deal):
    deal(org.alice, "won", "1000", "2017-01-02", "2017-01-10")
    deal(org.alice, "won", "3000", "2016-12-01", "2017-01-20")
    deal(org.alice, "won", "2000", "2017-01-15", "2017-02-10")
    deal(org.bob, "won", "200", "2017-01-31", "2017-01-31")
    deal(org.carol, "won", "1000", "2017-01-03", "2017-01-15")


def test_the_latest_commit_made_before_the_month_is_the_forecast(org, revenue, recompute, snapshot):
    forecast(org.alice, "5000", "2017-01-01", "2016-12-10T10:00")  # superseded
    forecast(org.alice, "4500", "2017-01-01", "2016-12-30T12:00")  # the one
    forecast(org.alice, "4000", "2017-01-01", "2016-12-31T12:00", category="best_case")  # not a commit
    forecast(org.alice, "4000", "2017-01-01", "2017-01-05T09:00")  # made after January began
    recompute()
    # F = 4500 against 4000 won: 1 − 500 / 4000 = 0.875.
    assert snapshot(org.alice, "forecast_accuracy", "2017-01") == D("0.875")


def test_a_forecast_counts_only_for_its_own_period_kind_and_start(org, revenue, recompute, snapshot):
    forecast(org.alice, "4500", "2017-01-01", "2016-12-30T12:00")
    forecast(org.alice, "6000", "2017-01-01", "2016-12-15T12:00", kind="quarter")
    recompute()
    # Q1: 6000 won against the quarter's own 6000 → 1; January's month forecast plays no part.
    assert snapshot(org.alice, "forecast_accuracy", "2017-Q1") == 1
    # February has no forecast of its own → undefined.
    assert snapshot(org.alice, "forecast_accuracy", "2017-02") is None
    assert snapshot(org.alice, "forecast_accuracy", "2017") is None


def test_a_forecast_more_than_twice_the_revenue_scores_zero_not_negative(org, revenue, recompute, snapshot):
    forecast(org.carol, "2500", "2017-01-01", "2016-12-01T12:00")
    recompute()
    # 1 − |1000 − 2500| / 1000 = −0.5 → max(0, −0.5) = 0, a real zero.
    assert snapshot(org.carol, "forecast_accuracy", "2017-01") == 0


def test_nothing_won_against_a_forecast_is_a_complete_miss_and_no_forecast_is_undefined(
    org, revenue, recompute, snapshot
):
    forecast(org.carol, "500", "2017-02-01", "2017-01-20T12:00")
    forecast(org.bob, "0", "2017-02-01", "2017-01-20T12:00")
    recompute()
    assert snapshot(org.carol, "forecast_accuracy", "2017-02") == 0  # 500 committed, 0 won
    assert snapshot(org.bob, "forecast_accuracy", "2017-01") is None  # no forecast
    assert snapshot(org.bob, "forecast_accuracy", "2017-02") is None  # 0 committed, 0 won


def test_accuracy_is_undefined_while_the_period_runs(org, deal, recompute, snapshot):
    today = dt.date.today()
    month = today.replace(day=1)
    deal(org.alice, "won", "1000", month.isoformat(), today.isoformat())
    forecast(org.alice, "1000", month.isoformat(), f"{month - dt.timedelta(days=3)}T12:00")
    recompute()
    assert snapshot(org.alice, "forecast_accuracy", f"{month:%Y-%m}") is None


def test_a_teams_accuracy_compares_the_teams_own_forecast_with_the_teams_revenue(
    org, revenue, recompute, snapshot
):
    forecast(org.alice, "4500", "2017-01-01", "2016-12-30T12:00")
    forecast(org.bob, "300", "2017-01-01", "2016-12-30T12:00")
    forecast(org.east, "5000", "2017-01-01", "2016-12-20T12:00")
    forecast(org.east, "6000", "2017-01-01", "2016-12-01T12:00", kind="quarter")
    forecast("company", "4000", "2017-01-01", "2016-12-20T12:00")
    recompute()
    # East, January: 1 − |4200 − 5000| / 4200 = 3400 / 4200 = 0.809524; the reps' own forecasts
    # (4500 + 300 = 4800) would have given 0.857143.
    assert snapshot(org.east, "forecast_accuracy", "2017-01") == D("0.809524")
    # East, Q1: 1 − |6200 − 6000| / 6200 = 6000 / 6200 = 0.967742.
    assert snapshot(org.east, "forecast_accuracy", "2017-Q1") == D("0.967742")
    # The company: 1 − |5200 − 4000| / 5200 = 4000 / 5200 = 0.769231.
    assert snapshot("company", "forecast_accuracy", "2017-01") == D("0.769231")
    # West, and carol below it, committed nothing: undefined.
    assert snapshot(org.west, "forecast_accuracy", "2017-01") is None
    # The region committed nothing: its forecast is its children's, east 5000 + west none = 5000
    # against 5200 won → 5000 / 5200 = 0.961538; Q1: east's 6000 against 7200 → 0.833333.
    assert snapshot(org.region, "forecast_accuracy", "2017-01") == D("0.961538")
    assert snapshot(org.region, "forecast_accuracy", "2017-Q1") == D("0.833333")


def test_a_team_without_its_own_commit_adds_up_its_reps(org, revenue, recompute, snapshot):
    forecast(org.alice, "4500", "2017-01-01", "2016-12-30T12:00")
    forecast(org.bob, "300", "2017-01-01", "2016-12-30T12:00")
    recompute()
    # East: 4500 + 300 = 4800 against 4200 won → 1 − 600 / 4200 = 0.857143; so does the region
    # and the company, with nothing from west: 4800 against 5200 → 1 − 400 / 5200 = 0.923077.
    assert snapshot(org.east, "forecast_accuracy", "2017-01") == D("0.857143")
    assert snapshot(org.region, "forecast_accuracy", "2017-01") == D("0.923077")
    assert snapshot("company", "forecast_accuracy", "2017-01") == D("0.923077")


def test_a_forecast_made_exactly_at_midnight_utc_is_too_late_in_utc(
    org, settings, revenue, recompute, snapshot
):
    settings.TIME_ZONE = "UTC"
    forecast(org.bob, "300", "2017-01-01", "2017-01-01T00:00")
    recompute()
    assert snapshot(org.bob, "forecast_accuracy", "2017-01") is None


def test_before_the_period_means_before_local_midnight_in_time_zone(
    org, settings, revenue, recompute, snapshot
):
    settings.TIME_ZONE = "America/New_York"
    forecast(org.bob, "300", "2017-01-01", "2017-01-01T03:00")  # Dec 31, 22:00 in New York: in time
    forecast(org.bob, "100", "2017-01-01", "2017-01-01T06:00")  # Jan 1, 01:00 in New York: too late
    recompute()
    # F = 300 against 200 won: 1 − 100 / 200 = 0.5.
    assert snapshot(org.bob, "forecast_accuracy", "2017-01") == D("0.5")


def test_in_utc_both_of_those_forecasts_are_too_late(org, settings, revenue, recompute, snapshot):
    settings.TIME_ZONE = "UTC"
    forecast(org.bob, "300", "2017-01-01", "2017-01-01T03:00")
    forecast(org.bob, "100", "2017-01-01", "2017-01-01T06:00")
    recompute()
    assert snapshot(org.bob, "forecast_accuracy", "2017-01") is None


# --- forecast_bias = (F − R) / R beside it: signed, defined exactly where accuracy is


def test_bias_is_signed_over_and_under_forecast(org, revenue, recompute, snapshot):
    forecast(org.alice, "4500", "2017-01-01", "2016-12-30T12:00")
    forecast(org.carol, "2500", "2017-01-01", "2016-12-01T12:00")
    forecast(org.bob, "150", "2017-01-01", "2016-12-30T12:00")
    recompute()
    # Alice: (4500 − 4000) / 4000 = +0.125, over-forecast; Bob: (150 − 200) / 200 = −0.25, under.
    assert snapshot(org.alice, "forecast_bias", "2017-01") == D("0.125")
    assert snapshot(org.bob, "forecast_bias", "2017-01") == D("-0.25")
    # Carol: (2500 − 1000) / 1000 = +1.5, where accuracy stops at 0.
    assert snapshot(org.carol, "forecast_bias", "2017-01") == D("1.5")
    # East adds up its reps' 4500 + 150 = 4650 against 4200: +450 / 4200 = 0.107143.
    assert snapshot(org.east, "forecast_bias", "2017-01") == D("0.107143")


def test_bias_is_undefined_where_accuracy_is_and_a_complete_miss_is_plus_100_percent(
    org, revenue, recompute, snapshot
):
    forecast(org.carol, "500", "2017-02-01", "2017-01-20T12:00")
    forecast(org.bob, "0", "2017-02-01", "2017-01-20T12:00")
    recompute()
    assert snapshot(org.carol, "forecast_bias", "2017-02") == 1  # 500 committed, 0 won: 500 / 500
    assert snapshot(org.bob, "forecast_bias", "2017-01") is None  # no forecast
    assert snapshot(org.bob, "forecast_bias", "2017-02") is None  # 0 committed, 0 won

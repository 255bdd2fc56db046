"""Calls, emails and meetings are counted on their date in settings.TIME_ZONE, worked out by hand.

The timestamps below are UTC. New York is UTC−5 in winter (and UTC−4 from March 12, 2017).
"""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import ActivityFactory


def utc(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def activities(org):
    ActivityFactory(rep=org.alice, kind="call", occurred_at=utc("2017-01-31T23:30"))  # NY Jan 31 18:30
    ActivityFactory(rep=org.alice, kind="call", occurred_at=utc("2017-02-01T02:00"))  # NY Jan 31 21:00
    ActivityFactory(rep=org.alice, kind="call", occurred_at=utc("2017-02-01T05:30"))  # NY Feb 1 00:30
    ActivityFactory(rep=org.alice, kind="email", occurred_at=utc("2017-01-01T03:00"))  # NY Dec 31 22:00
    ActivityFactory(rep=org.alice, kind="meeting", occurred_at=utc("2017-01-15T15:00"))  # NY Jan 15
    ActivityFactory(rep=org.bob, kind="call", occurred_at=utc("2017-01-10T12:00"))  # NY Jan 10
    ActivityFactory(rep=org.bob, kind="meeting", occurred_at=utc("2017-03-31T23:00"))  # NY Mar 31 19:00


@pytest.fixture
def new_york(settings):
    settings.TIME_ZONE = "America/New_York"


def test_an_activity_late_in_the_evening_counts_on_its_local_date(
    org, new_york, activities, recompute, snapshot
):
    recompute()
    # Jan 31 23:30 UTC and Feb 1 02:00 UTC are both still January 31 in New York.
    assert snapshot(org.alice, "calls_made", "2017-01") == 2
    # Feb 1 05:30 UTC is 00:30 on February 1 in New York.
    assert snapshot(org.alice, "calls_made", "2017-02") == 1
    assert snapshot(org.alice, "calls_made", "2017-Q1") == 3


def test_an_activity_just_after_midnight_utc_on_new_year_counts_in_the_old_year(
    org, new_york, activities, recompute, snapshot
):
    recompute()
    # Jan 1 03:00 UTC is Dec 31, 22:00 in New York: December, Q4 and the year 2016.
    assert snapshot(org.alice, "emails_sent", "2016-12") == 1
    assert snapshot(org.alice, "emails_sent", "2016-Q4") == 1
    assert snapshot(org.alice, "emails_sent", "2016") == 1
    assert snapshot(org.alice, "emails_sent", "2017-01") == 0
    assert snapshot(org.alice, "emails_sent", "2017") == 0


def test_activity_counts_add_up_over_teams_and_the_company(org, new_york, activities, recompute, snapshot):
    recompute()
    # January in New York: alice 2 calls, bob 1 → east 3; carol none.
    assert snapshot(org.east, "calls_made", "2017-01") == 3
    assert snapshot(org.west, "calls_made", "2017-01") == 0
    assert snapshot("company", "calls_made", "2017-Q1") == 4  # alice 3 + bob 1
    # Meetings: alice Jan 15, bob Mar 31 (19:00 in New York) → 2 in Q1, none in Q2.
    assert snapshot(org.region, "meetings_held", "2017-Q1") == 2
    assert snapshot(org.bob, "meetings_held", "2017-03") == 1


def test_the_same_activities_fall_on_utc_dates_when_time_zone_is_utc(
    org, settings, activities, recompute, snapshot
):
    settings.TIME_ZONE = "UTC"
    recompute()
    # In UTC only the 23:30 call is January's; both Feb 1 calls are February's.
    assert snapshot(org.alice, "calls_made", "2017-01") == 1
    assert snapshot(org.alice, "calls_made", "2017-02") == 2
    assert snapshot(org.alice, "emails_sent", "2017-01") == 1


def test_a_time_zone_east_of_utc_moves_a_late_utc_activity_into_the_next_quarter(
    org, settings, activities, recompute, snapshot
):
    settings.TIME_ZONE = "Asia/Tokyo"
    recompute()
    # Mar 31 23:00 UTC is April 1, 08:00 in Tokyo (UTC+9): Q2, not Q1.
    assert snapshot(org.bob, "meetings_held", "2017-Q1") == 0
    assert snapshot(org.bob, "meetings_held", "2017-Q2") == 1
    # Jan 31 23:30 UTC is Feb 1 in Tokyo: all three of alice's calls are February's.
    assert snapshot(org.alice, "calls_made", "2017-01") == 0
    assert snapshot(org.alice, "calls_made", "2017-02") == 3


def test_activities_follow_settings_time_zone_even_when_another_zone_is_active(
    org, new_york, activities, recompute, snapshot
):
    # A page may activate a user's own zone; the KPI is attributed by TIME_ZONE all the same.
    with timezone.override("Asia/Tokyo"):
        recompute()
    assert snapshot(org.alice, "calls_made", "2017-01") == 2  # as in New York, not 0 as in Tokyo
    assert snapshot(org.bob, "meetings_held", "2017-Q1") == 1


def test_saving_an_activity_recomputes_its_local_month(
    org, new_york, activities, recompute, snapshot, django_capture_on_commit_callbacks
):
    recompute()
    with django_capture_on_commit_callbacks(execute=True):
        ActivityFactory(rep=org.carol, kind="call", occurred_at=utc("2017-02-01T02:00"))
    # 02:00 UTC on Feb 1 is Jan 31 in New York: carol's January, west's and the company's.
    assert snapshot(org.carol, "calls_made", "2017-01") == 1
    assert snapshot(org.carol, "calls_made", "2017-02") == 0
    assert snapshot(org.west, "calls_made", "2017-01") == 1
    assert snapshot("company", "calls_made", "2017-01") == 4  # alice 2 + bob 1 + carol 1

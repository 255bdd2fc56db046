"""kpis.periods as plain arithmetic: labels, parsing, boundaries and fiscal years.

No database: every expectation is a calendar fact worked out by hand in the comments.
"""

import datetime as dt
import itertools

import pytest

from kpis.periods import Period, periods_between

D = dt.date


def test_month_quarter_and_year_labels_with_a_calendar_fiscal_year():
    day = D(2017, 3, 15)
    assert Period.containing("month", day, 1).label == "2017-03"
    assert Period.containing("quarter", day, 1).label == "2017-Q1"
    assert Period.containing("year", day, 1).label == "2017"
    # Oct–Dec is the fourth calendar quarter.
    assert Period.containing("quarter", D(2016, 12, 31), 1).label == "2016-Q4"


def test_a_period_starts_on_its_first_day_and_ends_on_its_last():
    q1 = Period.parse("2017-Q1", 1)
    assert (q1.start, q1.end) == (D(2017, 1, 1), D(2017, 3, 31))
    q4 = Period.parse("2016-Q4", 1)
    assert (q4.start, q4.end) == (D(2016, 10, 1), D(2016, 12, 31))
    year = Period.parse("2017", 1)
    assert (year.start, year.end) == (D(2017, 1, 1), D(2017, 12, 31))
    april = Period.parse("2017-04", 1)
    assert (april.start, april.end) == (D(2017, 4, 1), D(2017, 4, 30))


@pytest.mark.parametrize(
    ("label", "last_day"),
    [
        ("2016-02", D(2016, 2, 29)),  # 2016 is divisible by 4: a leap year
        ("2017-02", D(2017, 2, 28)),
        ("2000-02", D(2000, 2, 29)),  # divisible by 400: leap
        ("1900-02", D(1900, 2, 28)),  # divisible by 100 but not by 400: not leap
        ("2016-12", D(2016, 12, 31)),  # December ends the year; the next month is in 2017
    ],
)
def test_a_month_ends_on_its_real_last_day_including_leap_years(label, last_day):
    assert Period.parse(label, 1).end == last_day


def test_a_leap_quarter_has_one_more_day_than_the_same_quarter_a_year_later():
    # Jan 31 + Feb 29 + Mar 31 = 91 days in 2016; with Feb 28, 90 days in 2017.
    q2016, q2017 = Period.parse("2016-Q1", 1), Period.parse("2017-Q1", 1)
    assert (q2016.end - q2016.start).days + 1 == 91
    assert (q2017.end - q2017.start).days + 1 == 90


def test_a_fiscal_year_starting_in_april_is_named_by_the_calendar_year_it_ends_in():
    year = Period.parse("2017", 4)
    # FY2017 runs April 2016 to March 2017.
    assert (year.start, year.end) == (D(2016, 4, 1), D(2017, 3, 31))
    assert Period.containing("year", D(2016, 4, 1), 4).label == "2017"
    assert Period.containing("year", D(2017, 3, 31), 4).label == "2017"
    assert Period.containing("year", D(2017, 4, 1), 4).label == "2018"
    assert Period.containing("year", D(2016, 3, 31), 4).label == "2016"


def test_fiscal_quarters_starting_in_april():
    # Apr–Jun 2016 is the first quarter of FY2017, Jan–Mar 2017 its fourth.
    assert Period.containing("quarter", D(2017, 1, 1), 4).label == "2017-Q4"
    assert Period.containing("quarter", D(2017, 3, 31), 4).label == "2017-Q4"
    assert Period.containing("quarter", D(2016, 4, 1), 4).label == "2017-Q1"
    assert Period.containing("quarter", D(2016, 12, 31), 4).label == "2017-Q3"
    assert Period.containing("quarter", D(2017, 4, 1), 4).label == "2018-Q1"
    q4 = Period.parse("2017-Q4", 4)
    assert (q4.start, q4.end) == (D(2017, 1, 1), D(2017, 3, 31))
    q1 = Period.parse("2017-Q1", 4)
    assert (q1.start, q1.end) == (D(2016, 4, 1), D(2016, 6, 30))


def test_fiscal_quarters_and_years_starting_in_october():
    # FY2017 runs October 2016 to September 2017.
    year = Period.parse("2017", 10)
    assert (year.start, year.end) == (D(2016, 10, 1), D(2017, 9, 30))
    assert Period.containing("quarter", D(2016, 10, 1), 10).label == "2017-Q1"
    assert Period.containing("quarter", D(2016, 12, 31), 10).label == "2017-Q1"
    assert Period.containing("quarter", D(2017, 1, 1), 10).label == "2017-Q2"
    assert Period.containing("quarter", D(2017, 9, 30), 10).label == "2017-Q4"
    assert Period.containing("quarter", D(2017, 10, 1), 10).label == "2018-Q1"
    q2 = Period.parse("2017-Q2", 10)
    assert (q2.start, q2.end) == (D(2017, 1, 1), D(2017, 3, 31))


def test_months_are_the_same_whatever_the_fiscal_year():
    for start_month in (1, 4, 10):
        month = Period.containing("month", D(2017, 1, 20), start_month)
        assert month.label == "2017-01"
        assert (month.start, month.end) == (D(2017, 1, 1), D(2017, 1, 31))


@pytest.mark.parametrize("start_month", [1, 4, 10])
@pytest.mark.parametrize("kind", ["month", "quarter", "year"])
def test_every_label_parses_back_to_the_same_period(kind, start_month):
    # Every period touching 2015-01-01 .. 2019-12-31, including two leap Februaries.
    for period in periods_between(kind, D(2015, 1, 1), D(2019, 12, 31), start_month):
        parsed = Period.parse(period.label, start_month)
        assert parsed == period, period.label
        assert parsed.label == period.label
        assert Period.from_start(kind, period.start, start_month) == period


@pytest.mark.parametrize("start_month", [1, 4, 10])
def test_periods_tile_the_calendar_without_gaps_or_overlaps(start_month):
    for kind in ("month", "quarter", "year"):
        periods = periods_between(kind, D(2015, 1, 1), D(2019, 12, 31), start_month)
        for before, after in itertools.pairwise(periods):
            assert after.start == before.end + dt.timedelta(days=1)


def test_a_quarter_holds_its_three_months_and_a_fiscal_year_its_twelve():
    assert [m.label for m in Period.parse("2017-Q4", 4).months()] == ["2017-01", "2017-02", "2017-03"]
    months = [m.label for m in Period.parse("2017", 4).months()]
    assert months[0] == "2016-04" and months[-1] == "2017-03" and len(months) == 12


def test_shifting_crosses_year_boundaries():
    assert Period.parse("2016-12", 1).shifted(1).label == "2017-01"
    assert Period.parse("2017-Q1", 1).shifted(-1).label == "2016-Q4"
    assert Period.parse("2017-Q4", 4).shifted(1).label == "2018-Q1"


def test_the_fiscal_year_start_comes_from_settings_when_not_given(settings):
    settings.FISCAL_YEAR_START_MONTH = 4
    assert Period.containing("quarter", D(2017, 2, 1)).label == "2017-Q4"
    assert Period.parse("2017").start == D(2016, 4, 1)
    settings.FISCAL_YEAR_START_MONTH = 1
    assert Period.containing("quarter", D(2017, 2, 1)).label == "2017-Q1"
    assert Period.parse("2017").start == D(2017, 1, 1)


def test_periods_between_lists_every_overlapping_period_in_order():
    # Nov 15, 2016 .. Feb 2, 2017 overlaps Nov, Dec, Jan, Feb; Q4 2016 and Q1 2017.
    months = periods_between("month", D(2016, 11, 15), D(2017, 2, 2), 1)
    assert [p.label for p in months] == ["2016-11", "2016-12", "2017-01", "2017-02"]
    quarters = periods_between("quarter", D(2016, 11, 15), D(2017, 2, 2), 1)
    assert [p.label for p in quarters] == ["2016-Q4", "2017-Q1"]
    # With April fiscal years the same span is inside FY2017.
    assert [p.label for p in periods_between("year", D(2016, 11, 15), D(2017, 2, 2), 4)] == ["2017"]


@pytest.mark.parametrize(
    "label",
    ["2017-13", "2017-00", "2017-Q0", "2017-Q5", "2017-Q", "Q1-2017", "2017-q1", "abc", "", "2017-03-01"],
)
def test_an_invalid_label_raises_a_value_error_that_names_it_and_shows_the_formats(label):
    with pytest.raises(ValueError) as error:
        Period.parse(label, 1)
    assert f"'{label}'" in str(error.value)
    assert "2017-03" in str(error.value) and "2017-Q1" in str(error.value)


def test_a_date_that_does_not_start_a_period_is_refused():
    with pytest.raises(ValueError, match="not the first day of a quarter"):
        Period.from_start("quarter", D(2017, 2, 1), 1)
    with pytest.raises(ValueError, match="not the first day of a month"):
        Period.from_start("month", D(2017, 2, 2), 1)
    # With April fiscal years, a year starts on April 1, not January 1.
    with pytest.raises(ValueError, match="not the first day of a year"):
        Period.from_start("year", D(2017, 1, 1), 4)

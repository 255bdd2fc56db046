"""Cells as values (kpis.imports.values): amounts and dates as exports write them. No database."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kpis.imports.values import parse_amount, parse_date, parse_datetime, parse_integer


@pytest.mark.parametrize(
    "text, decimal_comma, amount",
    [
        ("$1,234.50", False, Decimal("1234.50")),
        ("1234", False, Decimal("1234")),
        ("USD 1,000,000.00", False, Decimal("1000000.00")),
        ("1 234,50 €", True, Decimal("1234.50")),
        ("1.234,50", True, Decimal("1234.50")),
        ("1\u202f234,5 €", True, Decimal("1234.5")),  # French Excel: a narrow no-break space
        ("CHF 1'234.50", False, Decimal("1234.50")),
        ("999999999999.99", False, Decimal("999999999999.99")),
        ("0", False, Decimal("0")),
    ],
)
def test_amounts_are_read_as_their_exporters_write_them(text, decimal_comma, amount):
    assert parse_amount(text, decimal_comma) == amount


@pytest.mark.parametrize(
    "text, reason",
    [
        ("-5", "'-5' is negative: amounts are 0 or more"),
        ("($5.00)", "'($5.00)' is negative: amounts are 0 or more"),
        ("1000000000000", "'1000000000000' is over the largest amount, 999,999,999,999.99"),
        ("12o0", "'12o0' is not an amount written like 1,234.50"),
        ("1.2.3", "'1.2.3' is not an amount written like 1,234.50"),
    ],
)
def test_an_amount_that_is_not_one_says_why(text, reason):
    with pytest.raises(ValueError) as refused:
        parse_amount(text, False)
    assert str(refused.value) == reason


@pytest.mark.parametrize(
    "text, date_format, day",
    [
        ("2017-03-31", "", dt.date(2017, 3, 31)),
        ("2017-03-31T14:05:00Z", "", dt.date(2017, 3, 31)),
        ("03/31/2017", "%m/%d/%Y", dt.date(2017, 3, 31)),
        ("31/03/2017", "%d/%m/%Y", dt.date(2017, 3, 31)),
        ("31.03.2017", "%d.%m.%Y", dt.date(2017, 3, 31)),
        ("2017-03-31 14:05", "%Y-%m-%d %H:%M", dt.date(2017, 3, 31)),
        ("2017-03-31", "%Y-%m-%d %H:%M", dt.date(2017, 3, 31)),  # a date alone in a date-time format
    ],
)
def test_dates_in_the_mappings_format(text, date_format, day):
    assert parse_date(text, date_format) == day


@pytest.mark.parametrize(
    "text, date_format, reason",
    [
        ("2017-02-29", "", "'2017-02-29' is not a date written like 2017-03-31"),  # 2017 is no leap year
        ("31/03/2017", "%m/%d/%Y", "'31/03/2017' is not a date written like 03/31/2017"),
        ("1899-12-31", "", "1899-12-31 is not between 1900 and 2100"),
    ],
)
def test_an_impossible_date_says_the_format_expected(text, date_format, reason):
    with pytest.raises(ValueError) as refused:
        parse_date(text, date_format)
    assert str(refused.value) == reason


def test_a_moment_without_an_offset_is_in_the_time_zone_and_a_day_alone_starts_it(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")

    assert parse_datetime("2017-03-01 23:30", "%Y-%m-%d %H:%M") == dt.datetime(
        2017, 3, 1, 23, 30, tzinfo=berlin
    )
    assert parse_datetime("2017-03-01", "%Y-%m-%d %H:%M") == dt.datetime(2017, 3, 1, tzinfo=berlin)
    assert parse_datetime("2017-03-01T10:00:00Z", "") == dt.datetime(2017, 3, 1, 10, tzinfo=dt.UTC)


def test_whole_numbers_may_carry_thousands_separators():
    assert (parse_integer("1,200", False), parse_integer("1.200", True), parse_integer("80", False)) == (
        1200,
        1200,
        80,
    )


def test_a_row_error_reads_as_its_message_and_keeps_its_parts_through_a_cache_and_json():
    """A job's page shows row errors from the cache (pickled) and from the job's record (JSON)."""
    import json
    import pickle

    from kpis.imports import RowError

    error = RowError("deals.csv", 7, "amount", "'-5' is negative")
    assert error == "deals.csv, line 7: amount: '-5' is negative"
    again = pickle.loads(pickle.dumps(error))
    assert (again, again.file, again.line, again.field, again.reason) == (
        error,
        "deals.csv",
        7,
        "amount",
        "'-5' is negative",
    )
    assert json.loads(json.dumps([error])) == ["deals.csv, line 7: amount: '-5' is negative"]
    assert RowError("teams.csv", 3, "", "listed twice") == "teams.csv, line 3: listed twice"

"""A cell's text as a value: dates in the mapping's format, amounts as their exporters write them.

Each parser returns the value or raises ValueError with the reason, which the import reports as
"FILE, line N: field: reason". An empty cell is None before any parser sees it.
"""

import datetime as dt
import re
from decimal import Decimal

from django.utils import timezone

from ..periods import FIRST_YEAR, LAST_YEAR, in_range

EXAMPLE_DAY = dt.datetime(2017, 3, 31, 14, 5)
MONEY_DIGITS = 12  # before the point: a MoneyField holds 14 digits, 2 of them cents
# What may surround an amount: currency signs and codes, spaces (Excel's thousands separator in
# French is a no-break space, narrow or not), the apostrophe of Swiss francs.
CURRENCY = re.compile(r"[$€£¥₹]|\b[A-Z]{3}\b|[\s\u00a0\u202f']")
NUMBER = re.compile(r"\d+(\.\d+)?")


def example(date_format: str) -> str:
    """How a date written in `date_format` looks ("" is ISO 8601)."""
    return EXAMPLE_DAY.strftime(date_format) if date_format else "2017-03-31"


def parse_date(text: str, date_format: str) -> dt.date:
    try:
        if date_format:
            day = _strptime_with_or_without_time(text, date_format).date()
        else:
            day = _iso(text).date() if len(text) > 10 else dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{_short(text)}' is not a date written like {example(date_format)}") from None
    return _in_range(day, text)


def parse_datetime(text: str, date_format: str) -> dt.datetime:
    """A moment; without a time of day, the day's start, and without an offset, in TIME_ZONE."""
    try:
        moment = _strptime_with_or_without_time(text, date_format) if date_format else _iso(text)
    except ValueError:
        raise ValueError(
            f"'{_short(text)}' is not a date or time written like {example(date_format)}"
        ) from None
    _in_range(moment.date(), text)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def _iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _strptime_with_or_without_time(text: str, date_format: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, date_format)
    except ValueError:
        day_only = date_format.split(" ")[0]  # "%d/%m/%Y %H:%M" also takes "31/03/2017"
        if day_only == date_format:
            raise
        return dt.datetime.strptime(text, day_only)


def _in_range(day: dt.date, text: str) -> dt.date:
    if not in_range(day):
        raise ValueError(f"{text} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return day


def parse_amount(text: str, decimal_comma: bool) -> Decimal:
    """'$1,234.50', '1 234,50 €' (decimal_comma), 'USD 1234': an amount from 0 up to what a
    MoneyField holds. Negative amounts — '-5', '(5.00)' — are refused: no fact is negative."""
    plain = CURRENCY.sub("", text)
    if plain.startswith("-") or plain.endswith("-") or (plain.startswith("(") and plain.endswith(")")):
        raise ValueError(f"'{_short(text)}' is negative: amounts are 0 or more")
    plain = plain.replace(".", "").replace(",", ".") if decimal_comma else plain.replace(",", "")
    if not NUMBER.fullmatch(plain):
        written = "1.234,50" if decimal_comma else "1,234.50"
        raise ValueError(f"'{_short(text)}' is not an amount written like {written}")
    amount = Decimal(plain)
    if len(plain.split(".")[0].lstrip("0")) > MONEY_DIGITS:
        raise ValueError(
            f"'{_short(text)}' is over the largest amount, {Decimal(10) ** MONEY_DIGITS - 1:,}.99"
        )
    return amount


def parse_integer(text: str, decimal_comma: bool) -> int:
    plain = re.sub(r"[\s\u00a0\u202f']", "", text).replace("." if decimal_comma else ",", "")
    try:
        return int(plain)
    except ValueError:
        raise ValueError(f"'{_short(text)}' is not a whole number") from None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"

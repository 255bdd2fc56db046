"""Periods: months, fiscal quarters and fiscal years, as plain arithmetic on month numbers.

A month is numbered `year * 12 + month - 1` (its "month index"). A quarter or year of kind k
is numbered by `(month_index - shift) // length`, where shift = FISCAL_YEAR_START_MONTH - 1.
The same integer formula runs inside the database (kpis.engine.read), so SQL and Python agree on
which period a date falls in. A fiscal year is named by the calendar year in which it ends.
"""

import datetime as dt
from dataclasses import dataclass
from functools import cached_property, lru_cache

from django.conf import settings
from django.db.models import Q

KINDS = ("month", "quarter", "year")
LENGTH = {"month": 1, "quarter": 3, "year": 12}
# The years salesperf works in: periods (Period.parse) and the dates of facts (kpis.models) outside
# them are refused. Pages step a dozen periods back and one forward from the one they show, and a
# recompute spans every month from the earliest fact: a deal dated in year 1 would make it
# compute twenty centuries of empty months.
FIRST_YEAR, LAST_YEAR = 1900, 2100


def in_range(day: dt.date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def fiscal_shift(kind: str, start_month: int | None = None) -> int:
    if kind == "month":
        return 0
    return (start_month or settings.FISCAL_YEAR_START_MONTH) - 1


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    index: int
    start_month: int = 1  # FISCAL_YEAR_START_MONTH the period was made with

    @classmethod
    def containing(cls, kind: str, day: dt.date, start_month: int | None = None) -> "Period":
        return _containing(kind, day, start_month or settings.FISCAL_YEAR_START_MONTH)

    @classmethod
    def from_start(cls, kind: str, start: dt.date, start_month: int | None = None) -> "Period":
        period = cls.containing(kind, start, start_month)
        if period.start != start:
            raise ValueError(f"{start:%Y-%m-%d} is not the first day of a {kind}.")
        return period

    @classmethod
    def parse(cls, label: str, start_month: int | None = None) -> "Period":
        """'2017-03', '2017-Q1' or '2017' (fiscal quarter/year names, as `label` writes them),
        from FIRST_YEAR to LAST_YEAR."""
        period = cls._parse(label, start_month or settings.FISCAL_YEAR_START_MONTH)
        if not FIRST_YEAR * 12 <= period.first_month <= period.last_month < (LAST_YEAR + 1) * 12:
            raise ValueError(f"'{label}' is out of range: use a period from {FIRST_YEAR} to {LAST_YEAR}.")
        return period

    @classmethod
    def _parse(cls, label: str, start_month: int) -> "Period":
        try:
            if "-Q" in label:
                year, quarter = label.split("-Q")
                if not 1 <= int(quarter) <= 4:
                    raise ValueError
                first = cls._parse(year, start_month).first_month + (int(quarter) - 1) * 3
                return cls.containing("quarter", month_start(first), start_month)
            if "-" in label:
                year, month = label.split("-")
                return cls.containing("month", dt.date(int(year), int(month), 1), start_month)
            # Fiscal year Y ends in calendar year Y.
            last = int(label) * 12 + (start_month - 2) % 12
            first = last - 11
            return cls.containing("year", month_start(first), start_month)
        except (ValueError, OverflowError):
            raise ValueError(f"'{label}' is not a period: use 2017-03, 2017-Q1 or 2017.") from None

    @property
    def shift(self) -> int:
        return fiscal_shift(self.kind, self.start_month)

    @property
    def first_month(self) -> int:
        return self.index * LENGTH[self.kind] + self.shift

    @property
    def last_month(self) -> int:
        return self.first_month + LENGTH[self.kind] - 1

    # Worked out once per period: a page asks a period for its dates thousands of times (a
    # 125-rep dashboard's plan). cached_property keeps them out of the fields (eq, hash, order).
    @cached_property
    def start(self) -> dt.date:
        return month_start(self.first_month)

    @cached_property
    def end(self) -> dt.date:
        """The last day of the period."""
        return month_start(self.last_month + 1) - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        fiscal_year = Period.containing("year", self.start, self.start_month)
        year_label = month_start(fiscal_year.last_month).year
        if self.kind == "year":
            return str(year_label)
        quarter = (self.first_month - fiscal_year.first_month) // 3 + 1
        return f"{year_label}-Q{quarter}"

    def shifted(self, steps: int) -> "Period":
        return Period(self.kind, self.index + steps, self.start_month)

    def months(self) -> list["Period"]:
        return list(_months(self))

    def __str__(self):
        return self.label


# Periods are values: the same arguments make the same period, so each is made once (a bounded
# cache: a recompute spans a few hundred periods, a page a few dozen).
@lru_cache(maxsize=4096)
def _containing(kind: str, day: dt.date, start_month: int) -> Period:
    shift = fiscal_shift(kind, start_month)
    return Period(kind, (month_index(day) - shift) // LENGTH[kind], start_month)


@lru_cache(maxsize=4096)
def _months(period: Period) -> tuple[Period, ...]:
    return tuple(
        _containing("month", month_start(m), period.start_month)
        for m in range(period.first_month, period.last_month + 1)
    )


def periods_between(kind: str, first: dt.date, last: dt.date, start_month: int | None = None) -> list[Period]:
    """Every period of `kind` that overlaps [first, last], in order."""
    a = Period.containing(kind, first, start_month)
    b = Period.containing(kind, last, start_month)
    return [Period(kind, i, a.start_month) for i in range(a.index, b.index + 1)]


def period_starts(kind="period_kind", start="period_start", start_month: int | None = None) -> Q:
    """Rows keyed by (kind, first day) whose day begins a period under FISCAL_YEAR_START_MONTH:
    after the setting changed, the old quarters and years begin on days that begin none."""
    m = start_month or settings.FISCAL_YEAR_START_MONTH
    quarters = sorted((m - 1 + 3 * k) % 12 + 1 for k in range(4))
    first = {f"{start}__day": 1}
    return (
        Q(**{kind: "month"}, **first)
        | Q(**{kind: "quarter", f"{start}__month__in": quarters}, **first)
        | Q(**{kind: "year", f"{start}__month": m}, **first)
    )

"""Progress against a target: attainment, pace, projection, status, pipeline coverage.

Plain arithmetic on Decimals, no database: the selectors feed it snapshots and month targets.
Days count inclusively: on a period's first day one day of it has elapsed, on its last day all.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from kpis.periods import Period

ON_TRACK, AT_RISK, BEHIND = "on_track", "at_risk", "behind"


def attainment(actual: Decimal | None, target: Decimal, *, higher_is_better: bool) -> Decimal | None:
    """How much of the target is reached: actual / target, or target / actual when lower is better."""
    if actual is None:
        return None
    numerator, denominator = (actual, target) if higher_is_better else (target, actual)
    return numerator / denominator if denominator else None


def is_met(actual: Decimal, target: Decimal, *, higher_is_better: bool) -> bool:
    return actual >= target if higher_is_better else actual <= target


def elapsed_share(period: Period, today: dt.date) -> Decimal:
    """The share of the period's days gone by, today included."""
    if today < period.start:
        return Decimal(0)
    if today >= period.end:
        return Decimal(1)
    return Decimal((today - period.start).days + 1) / Decimal((period.end - period.start).days + 1)


def expected_to_date(
    period: Period, target: Decimal, today: dt.date, month_weights: dict | None = None
) -> Decimal:
    """What a summable target should have reached by today.

    month_weights ({month Period: weight}, e.g. the month targets a spread produced) shape the
    path: full months count whole, the current month by its elapsed days. Without weights, a
    straight line over the period's days.
    """
    if not month_weights or period.kind == "month":
        return target * elapsed_share(period, today)
    total = sum(month_weights.get(m, Decimal(0)) for m in period.months())
    if not total:
        return target * elapsed_share(period, today)
    done = sum(month_weights.get(m, Decimal(0)) * elapsed_share(m, today) for m in period.months())
    return target * done / total


def projected(actual: Decimal, expected: Decimal, target: Decimal) -> Decimal | None:
    """The end value if the rest of the period goes like the part gone by (on the same path)."""
    if not expected:
        return None
    return actual * target / expected


@dataclass(frozen=True)
class Progress:
    actual: Decimal | None
    target: Decimal
    attainment: Decimal | None
    expected: Decimal | None  # to date; None for targets that are not paced
    pace: Decimal | None  # actual / expected (lower is better: expected / actual)
    projected: Decimal | None
    status: str
    coverage: Decimal | None  # open pipeline / what is left to reach a revenue target


def status_of(ratio: Decimal | None) -> str:
    """On track from 100% of where we should be, at risk from TARGET_AT_RISK_FROM, else behind."""
    if ratio is None:
        return BEHIND
    if ratio >= Decimal(str(settings.TARGET_ON_TRACK_FROM)):
        return ON_TRACK
    if ratio >= Decimal(str(settings.TARGET_AT_RISK_FROM)):
        return AT_RISK
    return BEHIND


def progress(
    *, actual, target, period, today, higher_is_better, summable, month_weights=None, pipeline=None
) -> Progress:
    """Where a subject stands against a target on `today`.

    Summable metrics (revenue, counts) are paced: compared with what the month spread expects by
    today. Others (rates, averages, stocks) are compared with the target itself.
    """
    actual_or_zero = actual if actual is not None else (Decimal(0) if summable else None)
    reached = attainment(actual_or_zero, target, higher_is_better=higher_is_better)
    expected = pace = projection = None
    if summable:
        expected = expected_to_date(period, target, today, month_weights)
        pace = attainment(actual_or_zero, expected, higher_is_better=higher_is_better) if expected else None
        projection = projected(actual_or_zero, expected, target)
        if expected == 0:  # nothing expected yet: nobody is behind
            pace = Decimal(1)
        ratio = pace
    else:
        ratio = reached
    if ratio is None and actual_or_zero is not None:
        # x / 0: lower is better and the actual is 0 (no deal lost, no churn), or a target of 0.
        met = is_met(actual_or_zero, expected if summable else target, higher_is_better=higher_is_better)
        ratio = Decimal(1) if met else Decimal(0)
    coverage = None
    if pipeline is not None and summable and higher_is_better:
        left = target - actual_or_zero
        coverage = pipeline / left if left > 0 else None
    return Progress(
        actual=actual,
        target=target,
        attainment=reached,
        expected=expected,
        pace=pace,
        projected=projection,
        status=status_of(ratio),
        coverage=coverage,
    )

"""Progress against a target: attainment, pace, projection, status, pipeline coverage.

Plain arithmetic on Decimals, no database: the selectors feed it snapshots and month targets.
Days count inclusively: on a period's first day one day of it has elapsed, on its last day all.

A status knows where the period is: *not started* before it, *hit* / *missed* once it has ended,
and while it runs *on track* / *at risk* / *behind* from the pace — but no verdict (*too early*)
until VERDICT_FROM of its days have passed, and *no data yet* while the actual is undefined.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from kpis.periods import Period

ON_TRACK, AT_RISK, BEHIND = "on_track", "at_risk", "behind"
NOT_STARTED, TOO_EARLY, NO_DATA, HIT, MISSED = "not_started", "too_early", "no_data", "hit", "missed"
# Statuses that judge the subject (and may alert); the others say why there is no judgement.
VERDICTS = {ON_TRACK, AT_RISK, BEHIND, HIT, MISSED}
# No verdict while less than this share of a running period's days has passed: on a month's
# 4th day one good or bad deal swings the pace by its whole size. From the 7th of a 31-day
# month, the 6th of a 30-day one, the 19th day of a quarter, the 74th of a year.
VERDICT_FROM = Decimal("0.2")


def attainment(
    actual: Decimal | None, target: Decimal, *, higher_is_better: bool, floor: Decimal = Decimal(0)
) -> Decimal | None:
    """How much of the target is reached: actual / target, or target / actual when lower is better.

    Both are measured from the scale's `floor`: 0, or −100 for NPS, whose targets and figures can
    be negative (−5 against a target of −10 is 95 / 90 of the way up from −100, not −5 / −10)."""
    if actual is None:
        return None
    actual, target = actual - floor, target - floor
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
    path: full months count whole, the current month by its elapsed days. Without weights for
    every month (a partial plan says nothing of the months it leaves out), a straight line over
    the period's days.
    """
    months = period.months()
    if not month_weights or period.kind == "month" or any(m not in month_weights for m in months):
        return target * elapsed_share(period, today)
    total = sum(month_weights[m] for m in months)
    if not total:
        return target * elapsed_share(period, today)
    done = sum(month_weights[m] * elapsed_share(m, today) for m in months)
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
    provisional: bool = False  # the actual (or the target) may still change
    state: str = ""  # the actual's kpis.fields.FigureState ("": no snapshot), for showing it

    @property
    def is_verdict(self) -> bool:
        return self.status in VERDICTS


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
    *,
    actual,
    target,
    period,
    today,
    higher_is_better,
    summable,
    month_weights=None,
    pipeline=None,
    undefined=False,
    provisional=False,
    floor=Decimal(0),
) -> Progress:
    """Where a subject stands against a target on `today`.

    Summable metrics (revenue, counts) are paced: compared with what the month spread expects by
    today; a missing figure of theirs is nothing done yet. Others (rates, averages, stocks) are
    compared with the target itself. `undefined`: the figure's state says it has no value yet
    (a rate over 0 deals); `provisional`: it, or the target, may still change.
    """
    undefined = undefined or (actual is None and not summable)
    actual_or_zero = None if undefined else (actual if actual is not None else Decimal(0))
    reached = attainment(actual_or_zero, target, higher_is_better=higher_is_better, floor=floor)
    expected = pace = projection = None
    running = period.start <= today <= period.end
    if summable and running and not undefined:
        expected = expected_to_date(period, target, today, month_weights)
        pace = attainment(actual_or_zero, expected, higher_is_better=higher_is_better) if expected else None
        projection = projected(actual_or_zero, expected, target)
    coverage = None
    if pipeline is not None and summable and higher_is_better and actual_or_zero is not None:
        left = target - actual_or_zero
        coverage = pipeline / left if left > 0 else None
    if today < period.start:
        status = NOT_STARTED
    elif undefined:
        status = NO_DATA
    elif today > period.end:
        status = HIT if is_met(actual_or_zero, target, higher_is_better=higher_is_better) else MISSED
    elif elapsed_share(period, today) < VERDICT_FROM:
        status = TOO_EARLY
    else:
        ratio = pace if summable else reached
        if ratio is None:
            # x / 0: nothing expected yet, a target of 0, or lower is better and the actual is
            # 0: met when the actual is no worse than what was asked by now.
            bar = expected if summable else target
            met = is_met(actual_or_zero, bar, higher_is_better=higher_is_better)
            ratio = Decimal(1) if met else Decimal(0)
        status = status_of(ratio)
    return Progress(
        actual=actual,
        target=target,
        attainment=reached,
        expected=expected,
        pace=pace,
        projected=projection,
        status=status,
        coverage=coverage,
        provisional=provisional,
    )

"""Step 3, evaluate: components into each metric's numerator and denominator (a "pair").

The catalogue's linear forms do the arithmetic (kpis.catalogue); PostgreSQL evaluates the same
forms in SQL for the bulk write (kpis.engine.store). forecast_accuracy alone is not summed up the
tree: each subject compares its own revenue with its own commit, here and only here.
"""

from decimal import ROUND_HALF_UP, Decimal

from kpis import catalogue

from .read import ZERO

Pair = tuple[Decimal, Decimal | None]
SUMMED = [m for m in catalogue.METRICS if not m.own_only]
SIX = Decimal("0.000001")


def summed_pairs(comps: dict) -> dict[str, Pair]:
    """Every metric that sums up the tree, from one subject's components for one period."""
    return catalogue.pairs(comps, SUMMED)


def forecast_pair(revenue: Decimal, forecast: Decimal | None) -> Pair:
    """forecast_accuracy = max(0, 1 − |R − F| / R) as numerator max(0, R − |R − F|) over R;
    0 / 0 (undefined) without a forecast."""
    if forecast is None:
        return ZERO, ZERO
    return max(ZERO, revenue - abs(revenue - forecast)), revenue


def rounded(value: Decimal | None) -> Decimal | None:
    """To the snapshot columns' 6 places, half away from zero as PostgreSQL's numeric rounds,
    so a figure evaluated here and one evaluated in SQL have the same digits."""
    return None if value is None else Decimal(value).quantize(SIX, ROUND_HALF_UP)


def add_pairs(into: dict[str, Pair], pairs: dict[str, Pair]) -> None:
    for key, (num, den) in pairs.items():
        old_num, old_den = into.get(key, (ZERO, None))
        into[key] = (old_num + num, None if den is None else (old_den or ZERO) + den)

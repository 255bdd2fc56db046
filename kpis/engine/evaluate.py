"""Step 3, evaluate: components into each metric's numerator and denominator (a "pair").

The catalogue's linear forms do the arithmetic (kpis.catalogue); PostgreSQL evaluates the same
forms in SQL for the bulk write (kpis.engine.store). forecast_accuracy and forecast_bias alone are
not summed up the tree: each subject compares its own revenue with its own commit, here and only here.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from kpis import catalogue
from kpis.fields import FigureState
from kpis.models import AcquisitionSpend
from teams.subjects import Scope

from .read import ZERO

# (numerator, denominator); a derived metric's (numerator, None, value) — kpis.catalogue.derive
Pair = tuple
SUMMED = [m for m in catalogue.METRICS if not m.own_only]
OWN_ONLY = [m for m in catalogue.METRICS if m.own_only]  # the forecast figures
OWN_ONLY_KEYS = {m.key for m in OWN_ONLY}
SIX = Decimal("0.000001")


def summed_pairs(comps: dict) -> dict[str, Pair]:
    """Every metric that sums up the tree, from one subject's components for one period."""
    return catalogue.pairs(comps, SUMMED)


def forecast_components(revenue: Decimal, forecast: Decimal | None, *, ended: bool) -> dict[str, Decimal]:
    """The components of forecast_accuracy and forecast_bias, from a subject's own revenue R and
    forecast F. Accuracy = max(0, 1 − |R − F| / R), as numerator max(0, R − |R − F|) over R; bias
    = (F − R) / R. A complete miss (nothing won against a positive forecast) is accuracy 0 and bias
    +100%, both over F. Both undefined (over 0) while the period runs, without a forecast, and when
    both are 0."""
    if forecast is None or not ended:
        return {"forecast_hit": ZERO, "forecast_over": ZERO, "forecast_base": ZERO}
    if revenue == 0:
        return {"forecast_hit": ZERO, "forecast_over": forecast, "forecast_base": max(forecast, ZERO)}
    hit = max(ZERO, revenue - abs(revenue - forecast))
    return {"forecast_hit": hit, "forecast_over": forecast - revenue, "forecast_base": revenue}


def forecast_pairs(revenue: Decimal, forecast: Decimal | None, *, ended: bool) -> dict[str, Pair]:
    """{forecast_accuracy: pair, forecast_bias: pair} of one subject and period."""
    return catalogue.pairs(forecast_components(revenue, forecast, ended=ended), OWN_ONLY)


def rounded(value: Decimal | None) -> Decimal | None:
    """To the snapshot columns' 6 places, half away from zero as PostgreSQL's numeric rounds,
    so a figure evaluated here and one evaluated in SQL have the same digits."""
    return None if value is None else Decimal(value).quantize(SIX, ROUND_HALF_UP)


def add_pairs(into: dict[str, Pair], pairs: dict[str, Pair]) -> None:
    """Sum `pairs` into `into`; the derived metrics are derived again from the sums."""
    for key, (num, den, *_) in pairs.items():
        old_num, old_den, *_ = into.get(key, (ZERO, None))
        into[key] = (old_num + num, None if den is None else (old_den or ZERO) + den)
    catalogue.derive(into)


# --- the state of a figure ----------------------------------------------------------------------


@dataclass(frozen=True)
class Circumstances:
    """What a figure's state depends on beside its own numbers, read once per write."""

    today: dt.date
    lead_window_days: int
    rep_spend: bool  # is acquisition spend recorded for any rep at all?

    @classmethod
    def now(cls) -> "Circumstances":
        return cls(
            today=timezone.localdate(timezone=timezone.get_default_timezone()),
            lead_window_days=settings.LEAD_CONVERSION_WINDOW_DAYS,
            rep_spend=AcquisitionSpend.objects.filter(rep__isnull=False).exists(),
        )

    def lead_window_open(self, period_end: dt.date) -> bool:
        """Could a lead created in the period still convert within its window? (One created on the
        period's last day has until that day + the window.)"""
        return self.today <= period_end + dt.timedelta(days=self.lead_window_days)


def state_of(
    metric: str, scope: str, denominator, period_end: dt.date, now: Circumstances, *, defined: bool = True
) -> FigureState:
    """Not applicable: CAC for a rep where spend is recorded for teams only. Undefined: a ratio
    over 0, or a derived value that is not `defined`. Provisional: lead conversion while a lead's
    window may still be open. Else final. STATE_SQL below says the same for the bulk write."""
    if metric == "cac" and scope == Scope.REP and not now.rep_spend:
        return FigureState.NOT_APPLICABLE
    if (denominator is not None and denominator == 0) or not defined:
        return FigureState.UNDEFINED
    if metric == "lead_conversion_rate" and now.lead_window_open(period_end):
        return FigureState.PROVISIONAL
    return FigureState.FINAL


DERIVED = ", ".join(f"'{m.key}'" for m in catalogue.DERIVED)
# state_of in SQL, over a row `s` of the component stage (with its period's lead_window_open) and
# a metric row `m`; %(rep_spend)s is Circumstances.rep_spend.
STATE_SQL = f"""
    CASE WHEN m.metric = 'cac' AND s.scope = '{Scope.REP.value}' AND NOT %(rep_spend)s
              THEN '{FigureState.NOT_APPLICABLE.value}'
         WHEN m.den = 0 OR (m.metric IN ({DERIVED}) AND m.derived IS NULL)
              THEN '{FigureState.UNDEFINED.value}'
         WHEN m.metric = 'lead_conversion_rate' AND s.lead_window_open THEN '{FigureState.PROVISIONAL.value}'
         ELSE '{FigureState.FINAL.value}' END
"""

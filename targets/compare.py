"""Fair comparisons: a period against the one before and the same period a year earlier.

A closed period is compared whole with whole, from the snapshots. A running one is compared *to
the same point*: month to date against the previous month up to the same day (day n of each
period, or the shorter one's last day), and against the same month a year earlier up to the same
day. No snapshot holds "November up to the 4th", so those figures are read from the facts by the
engine's attribution (kpis.selectors.flows_to_day) — for the flows that can be cut at a day
(kpis.selectors.TO_DAY_METRICS); the other metrics of a running period are not compared until it
ends. The running period's own figure is its snapshot: everything recorded up to now.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from kpis.periods import Period
from kpis.selectors import NO_FIGURE, TO_DAY_METRICS, Figure, flows_to_day, same_point, snapshot_figures
from teams.subjects import Subject


@dataclass(frozen=True)
class Delta:
    """One comparison: the earlier figure, what it covers, and the change to now."""

    period: Period
    to_day: dt.date | None  # the last day counted; None: the whole period
    figure: Figure
    change: Decimal | None  # (now − before) / |before|; None when either is undefined or 0
    better: bool | None  # None: no change, or none to judge

    @property
    def label(self) -> str:
        if self.to_day is None:
            return self.period.label
        return f"{self.period.label} to {self.to_day.isoformat()}"


@dataclass(frozen=True)
class Comparison:
    metric: object  # catalogue.Metric
    now: Figure
    previous: Delta | None  # None: not comparable while the period runs
    year_ago: Delta | None  # None for a year (its previous period is the year before)


def is_running(period: Period, today: dt.date) -> bool:
    return period.start <= today <= period.end


def year_ago(period: Period) -> Period:
    day = period.start.replace(year=period.start.year - 1)
    return Period.containing(period.kind, day, period.start_month)


def comparisons(
    *, snapshots, subject: Subject, period: Period, today: dt.date, metrics, org=None
) -> list[Comparison]:
    """Each metric of `subject` in `period` against the previous period and the same period a
    year earlier, fairly (the module's rule). `snapshots`: the viewer's (visible_to); `subject`
    one the viewer may see; `org`: teams.history.Org, if the caller has it loaded. At most eight
    queries, whatever the subject."""
    earlier = [period.shifted(-1)] + ([year_ago(period)] if period.kind != "year" else [])
    keys = [(subject.scope, subject.pk, m.key, p) for m in metrics for p in [period, *earlier]]
    stored = snapshot_figures(snapshots, keys)
    running = is_running(period, today)
    to_day = {}
    if running:
        to_day = flows_to_day(subject, [(p, same_point(p, period, today)) for p in earlier], org)
    out = []
    for m in metrics:
        now = stored.get((subject.scope, subject.pk, m.key, period), NO_FIGURE)
        deltas = []
        for p in earlier:
            if not running:
                before, day = stored.get((subject.scope, subject.pk, m.key, p), NO_FIGURE), None
            elif m.key in TO_DAY_METRICS:
                before, day = to_day[m.key, p], same_point(p, period, today)
            else:
                deltas.append(None)
                continue
            deltas.append(_delta(m, now, before, p, day))
        out.append(Comparison(m, now, deltas[0], deltas[1] if len(deltas) > 1 else None))
    return out


def _delta(metric, now: Figure, before: Figure, period: Period, day: dt.date | None) -> Delta:
    change = None
    if now.defined and before.defined and before.value:
        change = (now.value - before.value) / abs(before.value)
    better = None if not change else (change > 0) == metric.higher_is_better
    return Delta(period, day, before, change, better)

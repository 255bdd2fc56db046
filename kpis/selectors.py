"""Reads for pages and services: snapshots, from a queryset the caller has scoped
(`KpiSnapshot.objects.visible_to(user)`: who sees which rows is the models' `visible_to`), and
the one exception to "a page reads snapshots": flows *to a given day* of a period
(`flows_to_day`), which no snapshot holds, read from the facts by the engine's own attribution."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Max, Q

from . import catalogue
from .drill import covered
from .engine import attribution as credit
from .engine.read import ACTIVITY_FLOWS, DEAL_FLOWS
from .fields import FigureState


class Figure(NamedTuple):
    """A snapshot's figure as a page shows it: the value and what it is (kpis.fields.FigureState),
    with the numerator a page may need to explain it (CAC's spend when it is undefined)."""

    value: object  # Decimal | None: None unless final or provisional
    state: str
    numerator: object = None

    @property
    def defined(self) -> bool:
        return self.state in (FigureState.FINAL, FigureState.PROVISIONAL) and self.value is not None


NO_FIGURE = Figure(None, None)  # what a page shows where no snapshot was computed


def snapshot_figures(snapshots, keys) -> dict:
    """{(scope, subject_id, metric, Period): Figure} for the given keys, in one query, among
    `snapshots` (a queryset: `KpiSnapshot.objects.visible_to(user)`, so a read stays in view).

    A missing snapshot is absent from the result. The query asks per (scope, metric, period
    kind) for all subjects and starts at once, and Python keeps the exact keys: one OR per key
    would outgrow what SQLite parses on a large team.
    """
    wanted, groups = {}, defaultdict(lambda: (set(), set()))
    for scope, subject_id, metric, period in keys:
        wanted[scope, subject_id, metric, period.kind, period.start] = period
        subjects, starts = groups[scope, metric, period.kind]
        subjects.add(subject_id)
        starts.add(period.start)
    if not wanted:
        return {}
    q = Q()
    for (scope, metric, kind), (subjects, starts) in groups.items():
        q |= Q(scope=scope, metric=metric, period_kind=kind, subject_id__in=subjects, period_start__in=starts)
    rows = snapshots.filter(q).values_list(
        "scope", "subject_id", "metric", "period_kind", "period_start", "value", "state", "numerator"
    )
    return {
        (s, pk, m, wanted[key]): Figure(value, state, numerator)
        for s, pk, m, k, start, value, state, numerator in rows
        if (key := (s, pk, m, k, start)) in wanted
    }


def snapshot_values(snapshots, keys) -> dict:
    """{(scope, subject_id, metric, Period): value}: snapshot_figures without the states, for
    services that compute with a figure (a baseline, a shape) and treat None as no figure."""
    return {key: figure.value for key, figure in snapshot_figures(snapshots, keys).items()}


class AsOf(NamedTuple):
    """When the figures a page shows were computed: the newest `computed_at` among them (None:
    none computed yet). base.html shows it on every page that passes one as `data_as_of`."""

    at: dt.datetime | None


def data_as_of(snapshots) -> AsOf:
    """AsOf of `snapshots` (the ones a page shows, narrowed to its period): one query."""
    return AsOf(snapshots.order_by().aggregate(at=Max("computed_at"))["at"])


# The flows a page can compare "to the same day" of another period, and the components they are
# made of: the deal flows by close date and the activities by their day.
TO_DAY_METRICS = [
    "revenue_won",
    "deals_won",
    "deals_lost",
    "win_rate",
    "avg_deal_value",
    "calls_made",
    "emails_sent",
    "meetings_held",
]


def flows_to_day(subject, windows, org=None) -> dict:
    """{(metric, Period): Figure} of TO_DAY_METRICS for `subject`, each window a (Period, last
    day): the facts of the period dated up to and including that day, credited as the engine
    credits them (`attribution.Facts.of` over the leaves `kpis.drill.covered` gives the subject).

    Two queries per window (deals, activities) and the organisation's three unless the caller
    passes it loaded (`org`): constant, whatever the size of the subject. The caller has checked
    that its user may see `subject`."""
    leaves = covered(subject, org)
    metrics = [catalogue.get(k) for k in TO_DAY_METRICS]
    out = {}
    for period, last_day in windows:
        comps = {
            **credit.CLOSED_DEALS.of(leaves, since=period.start, until=last_day)
            .order_by()
            .aggregate(**DEAL_FLOWS),
            **credit.ACTIVITIES.of(leaves, since=period.start, until=last_day)
            .order_by()
            .aggregate(**ACTIVITY_FLOWS),
        }
        comps = {name: catalogue.ZERO if v is None else Decimal(v) for name, v in comps.items()}
        for key, (num, den) in catalogue.pairs(comps, metrics).items():
            value = catalogue.value_of(num, den)
            state = FigureState.UNDEFINED if value is None else FigureState.FINAL
            out[key, period] = Figure(value, state, num)
    return out


def same_point(earlier, period, today: dt.date) -> dt.date:
    """The day of `earlier` at the same point as `today` of the running `period`: the same day
    counted from the start (day n of the period), or `earlier`'s last day when it is shorter
    (31 March against February: 28 February)."""
    return min(earlier.start + (today - period.start), earlier.end)

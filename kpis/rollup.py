"""From components to snapshot values: metric numerators/denominators per subject and period.

A subject's components are the sum of its leaves' (a team: every rep and team-level fact below
it). Metrics are linear in components, so summing components and summing child snapshots'
numerators and denominators give the same answer; forecast_accuracy alone is per subject.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Max, Min, Q, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from . import catalogue
from .aggregates import COMPANY_LEAF, REP, TEAM, ZERO
from .models import AcquisitionSpend, Activity, Customer, ForecastSubmission, Lead, NpsResponse, Opportunity
from .periods import KINDS, Period, periods_between

Subject = tuple[str, int]  # ("rep", id) | ("team", id) | ("company", 0)
Pair = tuple[Decimal, Decimal | None]
# Facts are attributed to days in settings.TIME_ZONE, whatever zone a request has activated.
LOCAL = timezone.get_default_timezone
SUMMED = [m for m in catalogue.METRICS if not m.own_only]


def metric_pairs(comps: dict) -> dict[str, Pair]:
    return catalogue.pairs(comps, SUMMED)


def forecast_pair(revenue: Decimal, forecast: Decimal | None) -> Pair:
    """forecast_accuracy = max(0, 1 − |R − F| / R) as numerator max(0, R − |R − F|) over R."""
    if forecast is None:
        return ZERO, ZERO
    return max(ZERO, revenue - abs(revenue - forecast)), revenue


FACT_DATES = [
    (Opportunity, "created_on"),
    (Opportunity, "closed_on"),
    (Lead, "created_on"),
    (Activity, "occurred_at"),
    (Customer, "acquired_on"),
    (Customer, "churned_on"),
    (NpsResponse, "responded_on"),
    (AcquisitionSpend, "spent_on"),
]


def fact_dates():
    return [(model.objects, field) for model, field in FACT_DATES]


def first_and_last(columns) -> list[tuple[dt.date | None, dt.date | None]]:
    """(first, last) day of each (queryset, date field), in one query: a timestamp's day is local.
    MIN and MAX of the bare column, so each is one end of an index, never a scan."""
    parts = []
    for queryset, field in columns:
        lo, hi = Min(field), Max(field)
        if queryset.model._meta.get_field(field).get_internal_type() == "DateTimeField":
            lo, hi = TruncDate(lo, tzinfo=LOCAL()), TruncDate(hi, tzinfo=LOCAL())
        parts.append(queryset.order_by().values(one=Value(1)).annotate(lo=lo, hi=hi).values_list("lo", "hi"))
    return list(parts[0].union(*parts[1:], all=True))


def data_range(bounds=None) -> tuple[dt.date, dt.date] | None:
    """First and last day with any fact, the last capped at today: the periods worth computing.
    `bounds`: first_and_last of FACT_DATES, if already read."""
    if bounds is None:
        bounds = first_and_last(fact_dates())
    days = [day for pair in bounds for day in pair if day is not None]
    if not days:
        return None
    first, last = min(days), min(max(days), timezone.localdate(timezone=LOCAL()))
    # Every fact after today: nothing to compute yet (not today's quarter and year alone).
    return (first, last) if first <= last else None


_UNREAD = object()


def data_periods(since: dt.date | None = None, *, span=_UNREAD) -> dict[str, list[Period]]:
    """The periods worth computing, per kind, ending at or after `since`; `span` if already read."""
    if span is _UNREAD:
        span = data_range()
    if span is None:
        return {kind: [] for kind in KINDS}
    first, last = span
    return {
        kind: [p for p in periods_between(kind, first, last) if since is None or p.end >= since]
        for kind in KINDS
    }


FEW_SUBJECTS = 50


def latest_commits(
    periods_by_kind: dict[str, list[Period]], subjects
) -> dict[tuple[Subject, str, int], Decimal]:
    """The latest commit forecast per subject and period, among those made before it began."""
    starts, wanted_periods = {}, Q()
    for kind, periods in periods_by_kind.items():
        if periods:
            starts.update({(kind, p.start): p for p in periods})
            wanted_periods |= Q(period_kind=kind, period_start__in=[p.start for p in periods])
    if not starts:
        return {}
    wanted_subjects = Q()
    if len(subjects) <= FEW_SUBJECTS:  # else all of them, filtered below
        for scope, pk in subjects:
            wanted_subjects |= Q(
                scope=scope, rep_id=pk if scope == "rep" else None, team_id=pk if scope == "team" else None
            )
    rows = (
        ForecastSubmission.objects.filter(
            wanted_periods, wanted_subjects, category=ForecastSubmission.Category.COMMIT
        )
        .order_by("submitted_at")
        .values_list("scope", "rep_id", "team_id", "period_kind", "period_start", "amount", "submitted_at")
    )
    wanted, found = set(subjects), {}
    for scope, rep_id, team_id, kind, start, amount, submitted_at in rows:
        subject = (scope, rep_id or team_id or 0)
        began = timezone.make_aware(dt.datetime.combine(start, dt.time.min), LOCAL())
        if subject in wanted and submitted_at < began:
            found[subject, kind, starts[kind, start].index] = amount
    return found


def add_pairs(into: dict[str, Pair], pairs: dict[str, Pair]) -> None:
    for key, (num, den) in pairs.items():
        old_num, old_den = into.get(key, (ZERO, None))
        into[key] = (old_num + num, None if den is None else (old_den or ZERO) + den)


def forecast_components(revenue: Decimal, forecast: Decimal | None) -> dict[str, Decimal]:
    """forecast_accuracy's components for a subject and period (catalogue: forecast_hit over
    forecast_base)."""
    hit, base = forecast_pair(revenue, forecast)
    return {"forecast_hit": hit, "forecast_base": base}


def with_forecast(pairs: dict[str, Pair], forecast: Decimal | None) -> dict[str, Pair]:
    revenue = pairs.get("revenue_won", (ZERO, None))[0]
    return {**pairs, "forecast_accuracy": forecast_pair(revenue, forecast)}


def roll_up(table, tree, rep_team: dict[int, int], *, company: bool) -> dict:
    """{subject: {period index: components}}: each rep and team summed with everything below it,
    level by level — reps into their team, then each team (deepest first) into its parent, and
    the top-level teams into the company when `company`. Reuses the table's dicts."""
    sums: dict = defaultdict(lambda: defaultdict(dict))
    sums.update(table)
    for rep, team in rep_team.items():
        _add_components(sums[TEAM, team], sums.get((REP, rep), {}))
    below = {t for scope, t in table if scope == TEAM} | set(rep_team.values())
    teams = {above for team in below for above in tree.ancestors(team)}
    for team in sorted(teams, key=lambda t: -len(tree.ancestors(t))):  # deepest first
        parent = tree.parent.get(team)
        if parent is not None:
            _add_components(sums[TEAM, parent], sums.get((TEAM, team), {}))
        elif company:
            _add_components(sums[COMPANY_LEAF], sums.get((TEAM, team), {}))
    return sums


def _add_components(into: dict, by_period: dict) -> None:
    for p, comps in by_period.items():
        slot = into.setdefault(p, {})
        for name, value in comps.items():
            slot[name] = slot.get(name, ZERO) + value

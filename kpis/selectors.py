"""Reads of snapshots for pages and services, from a queryset the caller has scoped
(`KpiSnapshot.objects.visible_to(user)`: who sees which rows is the models' `visible_to`)."""

from collections import defaultdict

from django.db.models import Q


def snapshot_values(snapshots, keys) -> dict:
    """{(scope, subject_id, metric, Period): value} for the given keys, in one query, among
    `snapshots` (a queryset: `KpiSnapshot.objects.visible_to(user)`, so a read stays in view).

    A missing snapshot is absent from the result; an undefined one maps to None. The query asks
    per (scope, metric, period kind) for all subjects and starts at once, and Python keeps the
    exact keys: one OR per key would outgrow what SQLite parses on a large team.
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
        "scope", "subject_id", "metric", "period_kind", "period_start", "value"
    )
    return {
        (s, pk, m, wanted[key]): value
        for s, pk, m, k, start, value in rows
        if (key := (s, pk, m, k, start)) in wanted
    }

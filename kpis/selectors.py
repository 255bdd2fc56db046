"""Reads of snapshots, always through the one visibility rule (teams.visibility)."""

from django.db.models import Q

from teams import visibility

from .models import KpiSnapshot


def snapshots_visible_to(user):
    """The snapshots of the reps and teams `user` may see, and the company's for admins."""
    if visibility.is_admin(user):
        return KpiSnapshot.objects.all()
    return KpiSnapshot.objects.filter(
        Q(scope="rep", subject_id__in=visibility.visible_reps(user).values("pk"))
        | Q(scope="team", subject_id__in=visibility.visible_team_ids(user))
    )


def snapshot_values(keys) -> dict:
    """{(scope, subject_id, metric, Period): value} for the given keys, in one query.

    A missing snapshot is absent from the result; an undefined one maps to None.
    """
    keys = list(keys)
    if not keys:
        return {}
    q = Q()
    for scope, subject_id, metric, period in keys:
        q |= Q(
            scope=scope,
            subject_id=subject_id,
            metric=metric,
            period_kind=period.kind,
            period_start=period.start,
        )
    wanted = {(s, pk, m, p.kind, p.start): p for s, pk, m, p in keys}
    rows = KpiSnapshot.objects.filter(q).values_list(
        "scope", "subject_id", "metric", "period_kind", "period_start", "value"
    )
    return {(s, pk, m, wanted[s, pk, m, k, start]): value for s, pk, m, k, start, value in rows}

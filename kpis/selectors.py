"""Reads of facts and snapshots, always through the one visibility rule (teams.visibility).

A fact with a rep is visible when its rep is; a customer when its owner is (unowned ones to
admins only); an NPS response through its customer; spend through its rep or team (company-level
spend to admins only); a forecast through its subject. The API, pages and exports scope every
list, detail, write and filter with these functions.
"""

from collections import defaultdict

from django.db.models import Q

from teams import visibility
from teams.subjects import Scope

from .models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
    Stage,
)


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
    rows = KpiSnapshot.objects.filter(q).values_list(
        "scope", "subject_id", "metric", "period_kind", "period_start", "value"
    )
    return {
        (s, pk, m, wanted[key]): value
        for s, pk, m, k, start, value in rows
        if (key := (s, pk, m, k, start)) in wanted
    }


# --- Who sees which facts: a fact is visible when its rep (or its customer's owner) is.


def _through_rep(model, rep_path):
    def visible_to(user):
        if visibility.is_admin(user):
            return model.objects.all()
        return model.objects.filter(**{f"{rep_path}__in": visibility.visible_reps(user)})

    visible_to.__doc__ = f"The {model._meta.verbose_name_plural} of the reps `user` may see (all for admins)."
    return visible_to


customers_visible_to = _through_rep(Customer, "owner")
leads_visible_to = _through_rep(Lead, "rep")
opportunities_visible_to = _through_rep(Opportunity, "rep")
activities_visible_to = _through_rep(Activity, "rep")
nps_responses_visible_to = _through_rep(NpsResponse, "customer__owner")


def spend_visible_to(user):
    if visibility.is_admin(user):
        return AcquisitionSpend.objects.all()
    return AcquisitionSpend.objects.filter(
        Q(rep__in=visibility.visible_reps(user)) | Q(team_id__in=visibility.visible_team_ids(user))
    )


def forecasts_visible_to(user):
    if visibility.is_admin(user):
        return ForecastSubmission.objects.all()
    return ForecastSubmission.objects.filter(
        Q(scope=Scope.REP, rep__in=visibility.visible_reps(user))
        | Q(scope=Scope.TEAM, team_id__in=visibility.visible_team_ids(user))
    )


def stages_visible_to(user):
    """Stages are reference data: everyone signed in sees them all."""
    return Stage.objects.all() if user.is_authenticated else Stage.objects.none()

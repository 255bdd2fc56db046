"""Daily alerts: tell the people concerned when a target has just fallen behind or been hit, once
per change. Statuses that are no verdict (not started, too early, no data yet) alert nobody.
Whoever muted a kind of alert (AlertSettings) gets none of it; e-mail can be muted on its own."""

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from kpis import catalogue
from kpis.models import KpiSnapshot
from kpis.periods import KINDS, Period
from kpis.templatetags.kpis_tags import format_value
from teams.subjects import Scope, subject_name

from .models import AlertSettings, Notification, Target
from .selectors import targets_progress


def recipients(target: Target) -> list:
    """The rep (for a rep's target) and the manager of the team in question."""
    if target.scope == Scope.REP:
        rep = target.rep
        return [u for u in (rep.user, rep.team.manager) if u is not None]
    if target.scope == Scope.TEAM:
        team = target.team
        return [u for u in (team.manager, team.parent.manager if team.parent else None) if u is not None]
    return []


@transaction.atomic
def check_targets(*, today: dt.date) -> int:
    """Record the status of every target whose period runs today or ended yesterday; notify
    where it has just become "behind", or "hit".

    Returns the number of notifications sent. Running it twice on a day sends nothing twice.
    """
    yesterday = today - dt.timedelta(days=1)
    current = {Period.containing(kind, day) for kind in KINDS for day in (today, yesterday)}
    targets = list(
        Target.objects.select_for_update(of=("self",))
        .select_related("rep__user", "rep__team__manager", "team__manager", "team__parent__manager")
        .filter(period_start__in=[p.start for p in current])
    )
    targets = [t for t in targets if t.period in current]
    # A system job over every target: it reads every snapshot, as no one user's.
    states = targets_progress(targets, today, snapshots=KpiSnapshot.objects.all())
    sent, changed = 0, []
    for target in targets:
        status = states[target.pk].status
        if status == target.last_status:
            continue
        if status in (Target.Status.BEHIND, Target.Status.HIT):
            sent += _notify(target, states[target.pk])
        target.last_status = status
        changed.append(target)
    Target.objects.bulk_update(changed, ["last_status"])
    return sent


def _notify(target: Target, state) -> int:
    metric = catalogue.get(target.metric)
    who = subject_name(target.subject)
    actual = state.actual if state.actual is not None else 0  # a verdict: undefined is never one

    def shown(value):
        return format_value(value, metric.unit)

    if state.status == Target.Status.HIT:
        headline = f"{who} hit the target"
        message = (
            f"{who} hit the {metric.label.lower()} target for {target.period.label}: "
            f"{shown(actual)} of {shown(target.value)}."
        )
    else:
        headline = f"{who} is behind"
        message = (
            f"{who} is behind on {metric.label.lower()} for {target.period.label}: "
            f"{shown(actual)} of {shown(target.value)}"
            + (f", {shown(state.expected)} expected by now." if state.expected is not None else ".")
        )
    users = recipients(target)
    wanted = AlertSettings.of(users)
    users = [u for u in users if wanted[u.pk].wants(state.status)]  # muted: neither here nor by mail
    Notification.objects.bulk_create([Notification(user=u, target=target, message=message) for u in users])
    emails = [u.email for u in users if u.email and wanted[u.pk].email]
    if emails:
        send_mail(f"salesperf: {headline}", message, settings.DEFAULT_FROM_EMAIL, emails)
    return len(users)

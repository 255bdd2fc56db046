"""The weekly e-mail digest of each manager: who is behind now, and the week's alerts.

"Now" is each target's status as the daily alert check last recorded it (`Target.last_status`),
so the digest agrees with the alerts and reads no figure twice; the figures in it are formatted
as the pages show them. Sent by `targets.send_weekly_digests` (Celery beat, Mondays 07:00)
through Django's e-mail: the console by default, SMTP when EMAIL_HOST is set.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string

from kpis import catalogue
from kpis.models import KpiSnapshot
from kpis.templatetags.kpis_tags import format_value
from teams.models import Team, User
from teams.subjects import subject_name
from teams.tree import TeamTree

from .models import AlertSettings, Notification, Target
from .selectors import targets_progress

NEEDS_ATTENTION = [Target.Status.BEHIND, Target.Status.AT_RISK]


@dataclass(frozen=True)
class DigestLine:
    who: str
    metric: str
    period: str
    status: str
    actual: str
    target: str


@dataclass(frozen=True)
class Digest:
    user: User
    week_start: dt.date
    behind: list[DigestLine]
    alerts: list[Notification]


def digest_of(user, *, today: dt.date, tree: TeamTree) -> Digest:
    """What `user`'s digest says on `today`: the targets they may see whose period runs and whose
    last recorded status is behind or at risk, and their notifications of the last seven days."""
    week_start = today - dt.timedelta(days=7)
    targets = [
        t
        for t in Target.objects.visible_to(user, tree)
        .filter(last_status__in=NEEDS_ATTENTION, period_start__lte=today)
        .select_related("rep", "team")
        .order_by("period_kind", "metric", "pk")
        if t.period.end >= today
    ]
    progress = targets_progress(targets, today, snapshots=KpiSnapshot.objects.visible_to(user, tree))
    lines = []
    for t in targets:
        metric = catalogue.get(t.metric)
        lines.append(
            DigestLine(
                who=subject_name(t.subject),
                metric=metric.label,
                period=t.period.label,
                status=Target.Status(t.last_status).label,
                # a verdict, as the alerts say: no figure yet of a flow is nothing won yet
                actual=format_value(_zero_if_none(progress[t.pk].actual), metric.unit),
                target=format_value(t.value, metric.unit),
            )
        )
    alerts = Notification.objects.filter(
        user=user, created_at__date__gt=week_start, created_at__date__lte=today
    ).order_by("created_at")
    return Digest(user=user, week_start=week_start, behind=lines, alerts=list(alerts))


def send_weekly_digests(*, today: dt.date) -> int:
    """Sends every manager with an e-mail address (and the digest not muted) their digest, over
    one connection, each once a day however often it runs. Returns how many were sent."""
    tree = TeamTree.load()
    managers = list(
        User.objects.filter(pk__in=Team.objects.filter(manager__isnull=False).values("manager"))
        .exclude(email="")
        .order_by("pk")
    )
    wanted = AlertSettings.of(managers)
    sent = 0
    with get_connection() as connection:
        for user in managers:
            mine = wanted[user.pk]
            if not mine.weekly_digest or mine.digest_sent_on == today:
                continue
            digest = digest_of(user, today=today, tree=tree)
            context = {"digest": digest, "today": today, "site_url": settings.SITE_URL}
            body = render_to_string("targets/email/digest.txt", context)
            subject = f"salesperf: your week to {today.isoformat()}, {len(digest.behind)} behind or at risk"
            to = [user.email]
            EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to, connection=connection).send()
            mine.digest_sent_on = today
            mine.save()
            sent += 1
    return sent


def _zero_if_none(value):
    return 0 if value is None else value

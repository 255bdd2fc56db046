"""The notification centre's reads and writes: a user's own notifications, unread first counted,
marked as read one by one or all at once; and what each is about (a link to its page)."""

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from teams.subjects import Scope

from .models import AlertSettings, Notification


def notifications_of(user):
    """A user's own notifications, newest first (admins too see only theirs here)."""
    mine = Notification.objects.filter(user_id=user.pk).select_related("target")
    return mine.order_by("-created_at", "-pk")


def unread_count(user) -> int:
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()


def notification_mark_read(*, user, pk: int | None = None) -> int:
    """Marks one of `user`'s notifications (or, without `pk`, all of them) as read; how many.
    Http404 for a `pk` that is not one of theirs, as for anything a user may not see."""
    mine = Notification.objects.filter(user_id=user.pk)
    if pk is not None:
        mine = mine.filter(pk=pk)
        if not mine.exists():
            raise Http404("No such notification.")
    return mine.filter(read_at__isnull=True).update(read_at=timezone.now())


def link_of(notification: Notification) -> str:
    """Where a notification's target is shown: the rep's scorecard or the team's (company's)
    dashboard, for the target's period."""
    target = notification.target
    if target is None:
        return ""
    period = f"?period={target.period.label}"
    if target.scope == Scope.REP:
        return reverse("targets:scorecard", args=[target.rep_id]) + period
    if target.scope == Scope.TEAM:
        return reverse("targets:dashboard") + f"{period}&team={target.team_id}"
    return reverse("targets:dashboard") + period


def settings_of(user) -> AlertSettings:
    return AlertSettings.of([user])[user.pk]


@transaction.atomic
def alert_settings_save(*, user, behind: bool, hit: bool, email: bool, weekly_digest: bool) -> AlertSettings:
    mine = settings_of(user)
    mine.behind, mine.hit, mine.email, mine.weekly_digest = behind, hit, email, weekly_digest
    mine.save()
    return mine

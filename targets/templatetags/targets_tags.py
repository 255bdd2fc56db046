"""Template filters of the target pages (number formatting itself is kpis_tags')."""

from django import template

from kpis.periods import Period

from ..models import Target

register = template.Library()

LABELS = dict(Target.Status.choices)


@register.filter
def status_label(status: str) -> str:
    """A status as a person reads it: "On track", "Too early to tell", "No data yet"."""
    return LABELS.get(status, status or "").capitalize()


@register.filter
def period_label(row) -> str:
    """A row's period (period_kind, period_start) by its name: 2026-Q4, not "quarter 2026-10"."""
    return Period.from_start(row.period_kind, row.period_start).label


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """The bell's count: the signed-in user's unread notifications (one query per page)."""
    from ..notifications import unread_count

    return unread_count(context["request"].user)

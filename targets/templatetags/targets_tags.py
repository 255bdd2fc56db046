"""Template filters of the target pages (number formatting itself is kpis_tags')."""

from django import template

from ..models import Target

register = template.Library()

LABELS = dict(Target.Status.choices)


@register.filter
def status_label(status: str) -> str:
    """A status as a person reads it: "On track", "Too early to tell", "No data yet"."""
    return LABELS.get(status, status or "").capitalize()

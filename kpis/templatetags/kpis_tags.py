"""Formatting of KPI figures and links to the records behind them."""

from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse

from kpis import catalogue

register = template.Library()


def format_value(value, unit: str) -> str:
    """A figure as a person reads it: money with its currency, ratios as percentages."""
    if value is None or value == "":
        return "—"
    value = Decimal(value)
    if unit == "money":
        return f"{settings.CURRENCY} {intcomma(f'{value:.0f}')}"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "days":
        return f"{value:.1f} d"
    if unit == "score":
        return f"{value:.0f}"
    return intcomma(f"{value:.0f}")


@register.filter
def kpi(value, metric_key: str) -> str:
    return format_value(value, catalogue.get(metric_key).unit)


@register.filter
def percent(value) -> str:
    """Whole percent, with one decimal where that is not exact (82.5%, not a rounded 82%)."""
    if value is None or value == "":
        return "—"
    share = (Decimal(value) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{share:.0f}%" if share == share.to_integral_value() else f"{share}%"


@register.filter
def signed_percent(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(value) * 100:+.0f}%"


def drill_href(scope: str, subject_id: int, metric: str, period) -> str:
    return drill_hrefs(scope, [subject_id], [metric], period)[subject_id, metric]


def drill_hrefs(scope: str, subject_ids, metrics, period) -> dict[tuple[int, str], str]:
    """{(subject_id, metric): drill_href} for a whole table: the URL reversed and each part of
    the query encoded once, not once per cell (a 125-rep dashboard has 750 of them)."""
    base = reverse("kpis:drill")
    tails = {m: urlencode({"metric": m, "period": str(period)}) for m in metrics}
    hrefs = {}
    for pk in subject_ids:
        head = f"{base}?{urlencode({'scope': scope, 'subject': pk})}"
        for m in metrics:
            hrefs[pk, m] = f"{head}&{tails[m]}"
    return hrefs


@register.simple_tag
def drill_url(scope, subject_id, metric, period) -> str:
    return drill_href(scope, subject_id, metric, period)


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for pagination and switches)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return "?" + params.urlencode()


@register.simple_tag(takes_context=True)
def roles(context) -> dict:
    """What the navigation offers the signed-in user; worked out once per request."""
    request = context["request"]
    if not hasattr(request, "_salesperf_roles"):
        from teams import visibility
        from teams.models import Rep

        user = request.user
        request._salesperf_roles = {
            "admin": visibility.is_admin(user),
            "manager": visibility.is_manager(user),
            "rep": Rep.objects.filter(user_id=user.pk).exists(),
        }
    return request._salesperf_roles

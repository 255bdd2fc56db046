"""Formatting of KPI figures and links to the records behind them."""

from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from kpis import catalogue
from kpis.fields import FigureState

register = template.Library()


def grouped(text: str) -> str:
    """A plain number ("-1234", "19608.38") with thousands separators, as humanize's intcomma
    writes it in the site's one language (LANGUAGE_CODE en-us, no LocaleMiddleware): "," every
    three digits, a whole "-0" as "0". Python's own grouping: intcomma goes through Django's l10n
    for each number, and a 125-rep page formats thousands of them."""
    try:
        return f"{int(text):,}"
    except ValueError:
        return f"{Decimal(text):,}"


def format_money(amount, *, cents: bool = False) -> str:
    """Money as every page, e-mail and admin list shows it: the currency, thousands separators;
    whole units for a figure (USD 19,608), cents for one record's amount (USD 19,608.38)."""
    return f"{settings.CURRENCY} {grouped(f'{Decimal(amount):.{2 if cents else 0}f}')}"


def format_value(value, unit: str) -> str:
    """A figure as a person reads it — the one number format: money with its currency and
    thousands separators, ratios as percentages with one decimal, days with one decimal, counts
    and scores whole with thousands separators."""
    if value is None or value == "":
        return "—"
    value = Decimal(value)
    if unit == "money":
        return format_money(value)
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "days":
        return f"{value:.1f} d"
    return grouped(f"{value:.0f}")


def plain_number(value) -> str | None:
    """A stored sum as it is, without the column's trailing zeros: 3,000 or 0.631543."""
    if value is None:
        return None
    text = f"{Decimal(value):f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return grouped(whole) + (f".{fraction}" if fraction else "")


@register.filter
def record_value(value):
    """A cell of a drill-down's record list: an amount (the records' only decimals) as money
    with cents, anything else as it is."""
    return format_money(value, cents=True) if isinstance(value, Decimal) else value


@register.filter
def kpi(value, metric_key: str) -> str:
    return format_value(value, catalogue.get(metric_key).unit)


def state_note(metric_key: str, state: str, numerator=None, period=None) -> str:
    """What a page says about a figure that is not simply final (kpis.fields.FigureState)."""
    if not state:
        return "No figure: nothing has been computed for this period yet."
    if state == FigureState.PROVISIONAL:
        days = settings.LEAD_CONVERSION_WINDOW_DAYS
        return f"Provisional: leads created in the period may still convert within {days} days."
    if state == FigureState.NOT_APPLICABLE:
        return "Not applicable: acquisition spend is recorded for teams, not for reps."
    if state == FigureState.UNDEFINED:
        running = period is not None and period.end >= timezone.localdate()
        if catalogue.get(metric_key).own_only and running:  # the forecast figures
            return "Undefined: the period is still running."
        why = catalogue.UNDEFINED_BECAUSE.get(metric_key, "nothing to divide by")
        if metric_key == "cac" and numerator:
            why += f", spend {format_value(numerator, 'money')}"
        return f"Undefined: {why}."
    return ""


@register.simple_tag
def figure(value, state, metric_key: str, numerator=None, period=None) -> str:
    """A figure with its state: a final one as a number; a provisional one with a muted mark;
    an undefined or not applicable one as a muted mark — never a 0 — each explained on hover; no
    state at all (no snapshot) as a muted "—" too. Also called from Python (targets.dashboard)."""
    note = state_note(metric_key, state, numerator, period)
    if not state or state in (FigureState.UNDEFINED, FigureState.NOT_APPLICABLE):
        mark = "n/a" if state == FigureState.NOT_APPLICABLE else "—"
        return format_html('<span class="muted state" title="{}">{}</span>', note, mark)
    shown = format_value(value, catalogue.get(metric_key).unit)
    if state == FigureState.PROVISIONAL:
        return format_html('{} <abbr class="muted state" title="{}">provisional</abbr>', shown, note)
    return shown


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

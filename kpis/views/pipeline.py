"""Pipeline inspection: the waterfall (kpis.waterfall) and the stage funnel (kpis.funnel) of a
subject and period. Without a subject: the viewer's own (an admin the company, a manager their
top team, a rep themself); without a period: the current quarter. A bad scope, subject or period
is said on the page (400); a subject the viewer may not see is a 404."""

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone

from teams.subjects import Scope, Subject, subject_name
from teams.visibility import is_admin

from .. import catalogue, charts
from ..fields import PeriodKind
from ..funnel import stage_funnel
from ..models import KpiSnapshot
from ..pages import (
    PER_PAGE,
    asked_page,
    get_subject_for_user,
    int_or_none,
    last_page,
    login_required,
    own_subject,
    period_switch,
    read_page,
)
from ..periods import Period
from ..templatetags.kpis_tags import format_money, format_value, percent
from ..waterfall import KEYS, MEANING, NotBegun, pipeline_waterfall


def _asked(request, today) -> tuple[Subject, Period]:
    """The subject and period a pipeline page is asked about; ValueError for bad input."""
    scope = request.GET.get("scope", "").strip()
    label = request.GET.get("period", "").strip()
    period = Period.parse(label) if label else Period.containing(PeriodKind.QUARTER, today)
    if not scope:
        return own_subject(request.user), period
    if scope not in Scope.values:
        raise ValueError(f"'{scope}' is not a scope: use rep, team or company.")
    subject_id = int_or_none(request.GET.get("subject")) if scope != Scope.COMPANY else 0
    if subject_id is None:
        raise ValueError(f"Name the {scope} by its id (subject=).")
    return get_subject_for_user(request.user, scope, subject_id), period


# --- the pipeline waterfall


@login_required
def waterfall(request):
    """A subject's pipeline waterfall for a period (kpis.waterfall), and the deals of one bar
    (?show=<bar>). Without a subject: the user's own (a rep themself, a manager their top team,
    an admin the company); without a period: the current quarter."""
    today = timezone.localdate()
    try:
        subject, period = _asked(request, today)
    except ValueError as e:
        return render(request, "kpis/waterfall.html", {"error": str(e), "nav": "dashboard"}, status=400)
    context = {
        "subject": subject,
        "name": subject_name(subject),
        "period": period,
        "previous": period.shifted(-1),
        "next": period.shifted(1),
        "switch": period_switch(period),
        "nav": "scorecard" if subject.scope == Scope.REP else "dashboard",
    }
    asked = request.GET.get("show")
    asked = asked if asked in KEYS else None
    number = asked_page(request)

    def read(show, page):
        kwargs = {"per_page": PER_PAGE, "show": show, "page": page}
        return pipeline_waterfall(subject=subject, period=period, today=today, **kwargs)

    try:
        fall = read(asked, number)
    except NotBegun as e:
        return render(request, "kpis/waterfall.html", {**context, "not_begun": str(e)})
    # No bar asked for: the first movement with deals (what a manager came to see), else the
    # opening. Only the page asked for was read: a page past the last is the last, read again.
    key = asked or next((bar.key for bar in fall.movements if bar.count), "opening")
    if number > last_page(fall.bar(key).count):
        number = last_page(fall.bar(key).count)
        fall = read(key, number)
    shown = fall.bar(key)
    hrefs = {bar.key: _bar_href(request, bar.key) for bar in fall.bars}
    steps = [
        (bar.label, bar.amount, {1: "up", -1: "down"}.get(bar.sign, "total"), hrefs[bar.key])
        for bar in fall.bars
    ]
    page = read_page(shown.deals, shown.count, number)
    return render(
        request,
        "kpis/waterfall.html",
        {
            **context,
            "fall": fall,
            "running": fall.closing_day < period.end,
            "legend": [(bar, hrefs[bar.key]) for bar in fall.bars],
            "chart": charts.waterfall_chart(
                steps,
                label=f"Pipeline waterfall, {context['name']}, {period}",
                fmt=format_money,
                unit=settings.CURRENCY,
            ),
            "shown": shown,
            "meaning": MEANING[shown.key],
            "page": page,
            "admin_links": is_admin(request.user),
        },
    )


def _bar_href(request, key: str) -> str:
    params = request.GET.copy()
    params["show"] = key
    params.pop("page", None)
    return f"?{params.urlencode()}#deals"


# --- the stage funnel


@login_required
def funnel(request):
    """The stage funnel of a subject's deals opened in a period (kpis.funnel)."""
    today = timezone.localdate()
    try:
        subject, period = _asked(request, today)
    except ValueError as e:
        return render(request, "kpis/funnel.html", {"error": str(e), "nav": "dashboard"}, status=400)
    number = asked_page(request)

    def read(page):
        snapshots = KpiSnapshot.objects.visible_to(request.user)
        kwargs = {"per_page": PER_PAGE, "page": page}
        return stage_funnel(subject=subject, period=period, today=today, snapshots=snapshots, **kwargs)

    result = read(number)
    if number > last_page(result.slipped_deals):  # past the last: the last, read again
        number = last_page(result.slipped_deals)
        result = read(number)
    name = subject_name(subject)
    notes = [_conversion_note(result, i) for i in range(len(result.steps))]
    return render(
        request,
        "kpis/funnel.html",
        {
            "funnel": result,
            "subject": subject,
            "name": name,
            "period": period,
            "steps": list(zip(result.steps, notes, strict=True)),
            "chart": charts.funnel_chart(
                [(s.name, s.reached, note) for s, note in zip(result.steps, notes, strict=True)],
                label=f"Stage funnel of {name}, deals opened in {period}",
            ),
            "days": [(t, format_value(t.median_days, "days")) for t in result.days_in_stage],
            "page": read_page(result.slipped, result.slipped_deals, number),
            "beside": [(catalogue.get(key), figure) for key, figure in result.figures.items()],
            "previous": period.shifted(-1),
            "next": period.shifted(1),
            "switch": period_switch(period),
            "nav": "scorecard" if subject.scope == Scope.REP else "dashboard",
        },
    )


def _conversion_note(result, i: int) -> str:
    step = result.steps[i]
    if i == 0:
        return f"of {result.opened} opened"
    before = result.steps[i - 1].name
    if step.conversion is None:
        return f"undefined: none reached {before}"
    return f"{percent(step.conversion)} of {before}"

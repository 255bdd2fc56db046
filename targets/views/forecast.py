"""The forecast page: a subject's roll-up for a period (targets.forecast), each level side by
side with its latest submission, the commit form for those who may submit, and (for a rep) the
open deals of the period with their forecast categories.

Who may see which subject is kpis.pages.get_subject_for_user; writes are targets.services'.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from kpis.fields import PeriodKind
from kpis.models import ForecastCategory, Opportunity, Stage
from kpis.pages import get_subject_for_user, int_or_none, login_required, own_subject, period_switch
from kpis.periods import Period
from kpis.templatetags.kpis_tags import format_money
from teams.subjects import Scope, Subject

from ..forecast import forecast_rollup
from ..forms import DealCategoryForm, ForecastCommitForm
from ..services import forecast_submit, may_forecast_for, opportunity_categorize
from .scorecard import _errors_to_form


@login_required
def forecast(request):
    subject = _subject(request)
    period = _period(request)
    now = timezone.now()
    open_for_forecasts = period.end >= timezone.localdate(now)
    may_submit = open_for_forecasts and may_forecast_for(request.user, subject.scope, subject.pk)
    form = ForecastCommitForm(adjusts=subject.scope != Scope.REP)
    category_form = None
    if request.method == "POST" and request.POST.get("action") == "category":
        category_form = DealCategoryForm(request.POST)
        if category_form.is_valid():
            try:
                deal = opportunity_categorize(
                    user=request.user,
                    opportunity_id=category_form.cleaned_data["opportunity"],
                    category=category_form.cleaned_data["forecast_category"],
                )
            except ValidationError as e:
                _errors_to_form(category_form, e)
            else:
                messages.success(request, f"{deal} is now in {deal.effective_forecast_category.label}.")
                return redirect(request.get_full_path())
    elif request.method == "POST":
        form = ForecastCommitForm(request.POST, adjusts=subject.scope != Scope.REP)
        if form.is_valid():
            try:
                made = forecast_submit(
                    user=request.user,
                    scope=subject.scope,
                    subject_id=subject.pk,
                    period=period,
                    amount=form.cleaned_data.get("amount"),
                    adjustment=form.cleaned_data.get("adjustment"),
                )
            except ValidationError as e:
                _errors_to_form(form, e)
            else:
                messages.success(
                    request, f"Commit for {period} recorded: {format_money(made.amount, cents=True)}."
                )
                return redirect(request.get_full_path())

    rollup = forecast_rollup(user=request.user, subject=subject, period=period, now=now)
    return render(
        request,
        "targets/forecast.html",
        {
            "forecast": rollup,
            "subject": subject,
            "period": period,
            "previous": period.shifted(-1),
            "next": period.shifted(1),
            "switch": period_switch(period),
            "form": form if may_submit or form.errors else None,  # a refusal shows its reason
            "ended": not open_for_forecasts,
            "deals": _deals(request.user, subject, period),
            "category_form": category_form,
            "categories": ForecastCategory.choices,
            "nav": "forecast",
        },
    )


def _subject(request) -> Subject:
    """The subject asked for (?scope=&subject=), else the user's own (kpis.pages.own_subject);
    404 for one they may not see."""
    scope = request.GET.get("scope", "").strip()
    if scope:
        if scope not in Scope.values:
            raise Http404(f"'{scope}' is not a scope: use rep, team or company.")
        pk = int_or_none(request.GET.get("subject")) if scope != Scope.COMPANY else 0
        if pk is None:
            raise Http404("Name the subject: ?subject=<id>.")
        return get_subject_for_user(request.user, scope, pk)
    return own_subject(request.user)


def _period(request) -> Period:
    """The period asked for (?period=2026-Q4), by default the current quarter; 404 if unknown."""
    label = request.GET.get("period", "").strip()
    if not label:
        return Period.containing(PeriodKind.QUARTER, timezone.localdate())
    try:
        return Period.parse(label)
    except ValueError as e:
        raise Http404(f"No such period: {e}") from None


def _deals(user, subject: Subject, period: Period):
    """A rep's open deals expected to close in the period, or with no expected date: the ones
    whose category they set here. Teams list none (their reps set their own)."""
    if subject.scope != Scope.REP:
        return []
    deals = (
        Opportunity.objects.visible_to(user)
        .filter(rep_id=subject.pk, stage__outcome=Stage.Outcome.OPEN)
        .exclude(expected_close_on__lt=period.start)
        .exclude(expected_close_on__gt=period.end)
        .select_related("stage", "customer")
        .order_by(F("expected_close_on").asc(nulls_last=True), "-amount", "pk")
    )
    return list(deals)

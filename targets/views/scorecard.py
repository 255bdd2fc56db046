"""A rep's scorecard: every KPI for a period against its target, with a trend, and the forecast form.

The figures are targets.selectors.scorecard's (the API's too); forecasts are written by
targets.services.forecast_submit. Who may see which rep is kpis.pages.get_rep_for_user.
"""

from typing import NamedTuple

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from kpis import catalogue, charts
from kpis.models import ForecastSubmission, KpiSnapshot
from kpis.pages import TREND_LENGTH, get_rep_for_user, login_required, period_from, period_switch
from kpis.templatetags.kpis_tags import drill_href
from teams.models import Rep
from teams.subjects import Scope, Subject

from ..compare import Comparison, comparisons
from ..forms import ForecastForm
from ..selectors import ScoreRow
from ..selectors import scorecard as scorecard_of
from ..services import forecast_submit


class ShownRow(NamedTuple):
    row: ScoreRow
    spark: str  # the trend as an inline SVG
    href: str  # the drill-down of the period's figure
    compared: Comparison  # against the period before and a year earlier, fairly


@login_required
def scorecard(request, rep_id: int | None = None):
    if rep_id is None:
        rep = Rep.objects.select_related("team").filter(user_id=request.user.pk).first()
        if rep is None:
            raise Http404("You are not a rep.")
    else:
        rep = get_rep_for_user(request.user, rep_id)
    period = period_from(request)
    form = ForecastForm(period=period)
    if request.method == "POST":
        form = ForecastForm(request.POST, period=period)
        if form.is_valid():
            try:
                forecast_submit(
                    user=request.user,
                    scope=Scope.REP,
                    subject_id=rep.pk,
                    period=form.cleaned_data["period"],
                    amount=form.cleaned_data["amount"],
                    category=form.cleaned_data["category"],
                )
            except ValidationError as e:
                _errors_to_form(form, e)
            else:
                messages.success(request, f"Forecast for {form.cleaned_data['period']} recorded.")
                return redirect(request.get_full_path())

    subject, today = Subject.rep(rep.pk), timezone.localdate()
    card = scorecard_of(
        user=request.user, subject=subject, period=period, today=today, trend_length=TREND_LENGTH
    )
    compared = comparisons(
        snapshots=KpiSnapshot.objects.visible_to(request.user),
        subject=subject,
        period=period,
        today=today,
        metrics=catalogue.METRICS,
    )
    label = f"last {TREND_LENGTH} {period.kind}s"
    rows = [
        ShownRow(
            row=row,
            spark=charts.sparkline(row.trend, label=f"{row.metric.label}, {label}"),
            href=drill_href(Scope.REP, rep.pk, row.metric.key, period),
            compared=c,
        )
        for row, c in zip(card.rows, compared, strict=True)
    ]
    # Metrics with a target first: those answer "am I on track?".
    rows.sort(key=lambda shown: shown.row.target is None)
    forecasts = (
        ForecastSubmission.objects.visible_to(request.user)
        .for_subject(Scope.REP, rep.pk)
        .order_by("-submitted_at")[:5]
    )
    return render(
        request,
        "targets/scorecard.html",
        {
            "rep": rep,
            "subject": subject,
            "period": period,
            "data_as_of": card.data_as_of,
            "previous": period.shifted(-1),
            "next": period.shifted(1),
            "switch": period_switch(period),
            "rows": rows,
            "form": form,
            "forecasts": forecasts,
            "nav": "scorecard" if rep.user_id == request.user.pk else "dashboard",
        },
    )


def _errors_to_form(form, error: ValidationError) -> None:
    for field, msgs in (
        error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
    ):
        form.add_error(field if field in form.fields else None, msgs)

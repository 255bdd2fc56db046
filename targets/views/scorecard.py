"""A rep's scorecard: every KPI for a period against its target, with a trend, and the forecast form.

Reads KpiSnapshot only (never computing a KPI); forecasts are written by
targets.services.forecast_submit. Who may see which rep is kpis.pages.get_rep_for_user.
"""

from dataclasses import dataclass
from decimal import Decimal

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

from ..forms import ForecastForm
from ..models import Target
from ..selectors import targets_progress
from ..services import forecast_submit


@dataclass
class ScoreRow:
    metric: catalogue.Metric
    value: Decimal | None
    has_value: bool
    target: Target | None
    progress: object
    spark: str
    href: str


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
                    scope="rep",
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

    trend = [period.shifted(i - TREND_LENGTH + 1) for i in range(TREND_LENGTH)]
    snapshots = KpiSnapshot.objects.visible_to(request.user)
    values = {
        (metric, start): value
        for metric, start, value in snapshots.filter(
            scope="rep", subject_id=rep.pk, period_kind=period.kind, period_start__in=[p.start for p in trend]
        ).values_list("metric", "period_start", "value")
    }
    targets = list(
        Target.objects.filter(scope="rep", rep_id=rep.pk, period_kind=period.kind, period_start=period.start)
    )
    progress = targets_progress(targets, timezone.localdate(), snapshots=snapshots)
    by_metric = {t.metric: t for t in targets}
    rows = []
    for metric in catalogue.METRICS:
        target = by_metric.get(metric.key)
        series = [values.get((metric.key, p.start)) for p in trend]
        rows.append(
            ScoreRow(
                metric=metric,
                value=values.get((metric.key, period.start)),
                has_value=(metric.key, period.start) in values,
                target=target,
                progress=progress.get(target.pk) if target else None,
                spark=charts.sparkline(series, label=f"{metric.label}, last {TREND_LENGTH} {period.kind}s"),
                href=drill_href("rep", rep.pk, metric.key, period),
            )
        )
    # Metrics with a target first: those answer "am I on track?".
    rows.sort(key=lambda r: r.target is None)
    forecasts = ForecastSubmission.objects.for_subject("rep", rep.pk).order_by("-submitted_at")[:5]
    return render(
        request,
        "targets/scorecard.html",
        {
            "rep": rep,
            "period": period,
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

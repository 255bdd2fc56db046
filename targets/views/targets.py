"""The target list, and one target at a time: set, edit, delete, spread over months or reps.

Every write goes through targets.services (permission checks included); who may see which
targets is Target.objects.visible_to.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kpis import catalogue
from kpis.models import KpiSnapshot
from kpis.pages import login_required
from kpis.periods import Period
from kpis.selectors import data_as_of
from kpis.templatetags.kpis_tags import kpi
from teams import visibility
from teams.tree import TeamTree

from ..forms import METRIC_CHOICES, TargetForm
from ..models import Target
from ..plan import how_it_splits
from ..selectors import targets_progress
from ..services import (
    may_set_targets_for,
    target_delete,
    target_save,
    target_spread_over_months,
    target_spread_over_reps,
)
from ..spread import METHODS, spread_preview
from ..spread import target_spread as target_spread_service

PAGE_SIZE = 50


def _get_target_for_user(user, pk: int) -> Target:
    """A target `user` may change: 404 if they may not see it, 403 if they see it but may not
    change it (a rep, their own) — the API's rule too."""
    target = Target.objects.visible_to(user).filter(pk=pk).select_related("rep", "team").first()
    if target is None:
        raise Http404("No such target.")
    if not may_set_targets_for(user, target.scope, target.subject.pk):
        raise PermissionDenied("Reps do not set targets.")
    return target


def _add_errors(form, error: ValidationError) -> None:
    fields = {"scope": "subject", "team": "subject"}
    for field, msgs in error.message_dict.items():
        field = fields.get(field, field)
        form.add_error(field if field in form.fields else None, msgs)


def error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(m for msgs in error.message_dict.values() for m in msgs)
    return " ".join(error.messages)


@login_required
def target_list(request):
    qs = (
        Target.objects.visible_to(request.user)
        .select_related("rep", "team")
        .order_by("-period_start", "metric", "pk")
    )
    label = request.GET.get("period", "").strip()
    if label:
        try:
            period = Period.parse(label)
        except ValueError as e:
            period = None
            messages.error(request, str(e))
        if period:
            qs = qs.filter(period_kind=period.kind, period_start=period.start)
    metric = request.GET.get("metric", "")
    if metric in catalogue.BY_KEY:
        qs = qs.filter(metric=metric)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    snapshots = KpiSnapshot.objects.visible_to(request.user)
    progress = targets_progress(list(page), timezone.localdate(), snapshots=snapshots)
    return render(
        request,
        "targets/list.html",
        {
            "page": page,
            "rows": [(t, catalogue.get(t.metric), progress[t.pk]) for t in page],
            "metrics": METRIC_CHOICES,
            "metric": metric,
            "period_label": label,
            "can_edit": visibility.is_manager(request.user),
            "data_as_of": data_as_of(snapshots.filter(period_start__in={t.period_start for t in page})),
            # Targets of quarters or years an earlier FISCAL_YEAR_START_MONTH made: not tracked.
            "stale": Target.every.visible_to(request.user).stale().count(),
            "nav": "targets",
        },
    )


@login_required
def target_new(request):
    if not visibility.is_manager(request.user):
        raise PermissionDenied("Reps do not set targets.")
    form = TargetForm(request.POST or None, user=request.user, initial=_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            target = target_save(user=request.user, **form.service_kwargs())
        except ValidationError as e:
            _add_errors(form, e)
        else:
            shown = kpi(target.value, target.metric)
            messages.success(request, f"Target saved: {target.metric} {target.period.label} = {shown}.")
            return redirect("targets:list")
    return render(request, "targets/form.html", {"form": form, "target": None, "nav": "targets"})


def _initial(request) -> dict:
    return {k: request.GET[k] for k in ("subject", "metric", "period") if k in request.GET}


@login_required
def target_edit(request, pk: int):
    target = _get_target_for_user(request.user, pk)
    initial = {
        "subject": f"{target.scope}:{target.subject.pk}",
        "metric": target.metric,
        "period": target.period.label,
        "mode": "relative" if target.is_relative else "absolute",
        "value": None if target.is_relative else target.value.normalize(),
        "baseline": Period.from_start(target.period_kind, target.baseline_start).label
        if target.is_relative
        else "",
        "uplift_pct": target.uplift_pct,
    }
    form = TargetForm(request.POST or None, user=request.user, fixed=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            target_save(user=request.user, replace=True, **form.service_kwargs())
        except ValidationError as e:
            _add_errors(form, e)
        else:
            messages.success(request, "Target updated.")
            return redirect("targets:list")
    history = target.history.select_related("history_user").order_by("-history_date")[:10]
    return render(
        request, "targets/form.html", {"form": form, "target": target, "history": history, "nav": "targets"}
    )


@login_required
def target_remove(request, pk: int):
    """GET asks to confirm (what will go, and that its history stays in the admin); POST deletes."""
    target = _get_target_for_user(request.user, pk)
    if request.method != "POST":
        return render(
            request,
            "targets/delete.html",
            {"target": target, "metric": catalogue.get(target.metric), "nav": "targets"},
        )
    target_delete(user=request.user, target=target)
    messages.success(request, "Target deleted.")
    return redirect("targets:list")


@login_required
def target_spread_plan(request, pk: int):
    """A team's (or the company's) target down to reps × months in one step: GET shows the
    cells it would set (a preview), POST writes them, all or none."""
    target = _get_target_for_user(request.user, pk)
    data = request.POST if request.method == "POST" else request.GET
    method, weights = data.get("method", ""), data.get("weights", "")
    tree = TeamTree.load()
    spread = error = None
    if method:
        try:
            if request.method == "POST":
                made = target_spread_service(
                    user=request.user, target=target, method=method, weights=weights, tree=tree
                )
                messages.success(request, f"{len(made)} rep × month targets set.")
                team = f"&team={target.team_id}" if target.team_id else ""
                year = Period.containing("year", target.period.start)
                return redirect(f"{reverse('targets:grid')}?metric={target.metric}&year={year.label}{team}")
            spread = spread_preview(
                user=request.user, target=target, method=method, weights=weights, tree=tree
            )
        except ValidationError as e:
            error = error_text(e)
    return render(
        request,
        "targets/spread.html",
        {
            "target": target,
            "metric": catalogue.get(target.metric),
            "methods": METHODS,
            "method": method or "even",
            "weights": weights,
            "spread": spread,
            "error": error,
            "how": how_it_splits(target.metric),
            "nav": "targets",
        },
    )


@require_POST
@login_required
def target_spread(request, pk: int):
    """Spread a quarter's or year's target over its months, or a team's over its reps."""
    target = _get_target_for_user(request.user, pk)
    over = request.POST.get("over", "months")
    try:
        if over == "reps":
            made = target_spread_over_reps(user=request.user, target=target, method="even")
        else:
            made = target_spread_over_months(
                user=request.user, target=target, method=request.POST.get("method", "even")
            )
    except ValidationError as e:
        messages.error(request, error_text(e))
    else:
        messages.success(request, f"Spread over {len(made)} {over}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "targets:list"  # never off to another site
    return redirect(back)

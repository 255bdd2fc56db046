"""The target planner: the list, one target at a time, the reps × months grid, CSV in and out.

Every write goes through targets.services (permission checks included); who may see which
targets is Target.objects.visible_to, applied by _get_target_for_user and the list.
"""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kpis import catalogue
from kpis.models import KpiSnapshot
from kpis.pages import login_required
from kpis.periods import Period
from teams import visibility
from teams.models import Rep, Team
from teams.subjects import Scope
from teams.tree import TeamTree

from ..forms import METRIC_CHOICES, ImportForm, TargetForm
from ..models import Target
from ..selectors import targets_progress
from ..services import (
    BatchInvalid,
    TargetChange,
    may_set_targets_for,
    target_delete,
    target_save,
    target_save_batch,
    target_spread_over_months,
    target_spread_over_reps,
)

PAGE_SIZE = 50
PREVIEW_ROWS = 20


def _get_target_for_user(user, pk: int) -> Target:
    """A target `user` may change: 404 if they may not see it, 403 if they see it but may not
    change it (a rep, their own) — the API's rule too."""
    target = Target.objects.visible_to(user).filter(pk=pk).select_related("rep", "team").first()
    if target is None:
        raise Http404("No such target.")
    if not may_set_targets_for(user, target.scope, target.subject[1]):
        raise PermissionDenied("Reps do not set targets.")
    return target


def _add_errors(form, error: ValidationError) -> None:
    fields = {"scope": "subject", "team": "subject"}
    for field, msgs in error.message_dict.items():
        field = fields.get(field, field)
        form.add_error(field if field in form.fields else None, msgs)


def _error_text(error: ValidationError) -> str:
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
            messages.success(
                request, f"Target saved: {target.metric} {target.period.label} = {target.value:.2f}."
            )
            return redirect("targets:list")
    return render(request, "targets/form.html", {"form": form, "target": None, "nav": "targets"})


def _initial(request) -> dict:
    return {k: request.GET[k] for k in ("subject", "metric", "period") if k in request.GET}


@login_required
def target_edit(request, pk: int):
    target = _get_target_for_user(request.user, pk)
    initial = {
        "subject": f"{target.scope}:{target.subject[1]}",
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


@require_POST
@login_required
def target_remove(request, pk: int):
    target = _get_target_for_user(request.user, pk)
    target_delete(user=request.user, target=target)
    messages.success(request, "Target deleted.")
    return redirect("targets:list")


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
        messages.error(request, _error_text(e))
    else:
        messages.success(request, f"Spread over {len(made)} {over}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "targets:list"  # never off to another site
    return redirect(back)


# --- the grid: reps × months of one metric, saved all at once or not at all


@dataclass
class Cell:
    name: str
    rep: Rep
    month: Period
    value: str
    error: str = ""


class _Invalid(Exception):
    """Raised out of the grid's transaction so that nothing of a failed save is kept."""


def _grid_team(user, team_id, tree) -> Team:
    tops = visibility.top_team_ids(user, tree)
    if not tops:
        raise Http404("You manage no team.")
    if team_id is None:
        team_id = tops[0]
    if team_id not in visibility.visible_team_ids(user, tree):
        raise Http404("No such team.")
    return Team.objects.get(pk=team_id)


@login_required
def target_grid(request):
    tree = TeamTree.load()
    try:
        team_id = int(request.GET["team"]) if request.GET.get("team") else None
    except ValueError:
        raise Http404("No such team.") from None
    team = _grid_team(request.user, team_id, tree)
    metric = catalogue.BY_KEY.get(request.GET.get("metric") or "revenue_won")
    if metric is None:
        raise Http404("No such metric.")
    try:
        year = Period.parse(request.GET.get("year") or str(Period.containing("year", timezone.localdate())))
    except ValueError:
        raise Http404("No such year.") from None
    if year.kind != "year":
        raise Http404("Give a year.")
    months = year.months()
    reps = list(Rep.objects.filter(team_id__in=tree.subtree_ids([team.pk])).order_by("full_name"))
    existing = {
        (t.rep_id, t.period_start): t
        for t in Target.objects.filter(
            scope="rep",
            rep_id__in=[r.pk for r in reps],
            metric=metric.key,
            period_kind="month",
            period_start__in=[m.start for m in months],
        )
    }
    cells = [
        [
            Cell(
                name=f"c-{r.pk}-{m.label}",
                rep=r,
                month=m,
                value=_plain(existing[r.pk, m.start].value) if (r.pk, m.start) in existing else "",
            )
            for m in months
        ]
        for r in reps
    ]
    status = 200
    if request.method == "POST":
        for row in cells:
            for cell in row:
                cell.value = request.POST.get(cell.name, "").strip()
        try:
            changed = _save_grid(request.user, metric, cells, existing, tree)
        except _Invalid:
            messages.error(request, "Nothing was saved: fix the cells marked below.")
            status = 400
        except ValidationError as e:  # another request wrote one of these targets meanwhile
            messages.error(request, f"Nothing was saved. {_error_text(e)}")
            status = 409
        else:
            messages.success(request, f"Grid saved: {changed} cell(s) changed.")
            return redirect(request.get_full_path())
    return render(
        request,
        "targets/grid.html",
        {
            "team": team,
            "metric": metric,
            "year": year,
            "months": months,
            "cells": cells,
            "metrics": METRIC_CHOICES,
            "teams": Team.objects.filter(pk__in=visibility.visible_team_ids(request.user, tree)).order_by(
                "name"
            ),
            "years": [year.shifted(-1), year, year.shifted(1)],
            "nav": "grid",
        },
        status=status,
    )


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@transaction.atomic
def _save_grid(user, metric, cells, existing, tree) -> int:
    """Saves every changed cell in one transaction, or none: _Invalid with the failing cells
    marked, or the service's ValidationError (CONFLICT) when another save won the race."""
    changes, changed_cells, deleted = [], [], 0
    for row in cells:
        for cell in row:
            old = existing.get((cell.rep.pk, cell.month.start))
            if not cell.value:
                if old:
                    target_delete(user=user, target=old, tree=tree)
                    deleted += 1
                continue
            try:
                if old and Decimal(cell.value) == old.value:
                    continue
            except InvalidOperation:
                cell.error = f"'{cell.value}' is not a number."
                continue
            changes.append(TargetChange(Scope.REP, cell.rep.pk, metric.key, cell.month, value=cell.value))
            changed_cells.append(cell)
    try:
        target_save_batch(user=user, changes=changes, tree=tree, replace=True)
    except BatchInvalid as e:
        for index, error in e.errors.items():
            changed_cells[index].error = _error_text(error)
    if any(cell.error for row in cells for cell in row):
        raise _Invalid
    return deleted + len(changes)


# --- CSV in and out (targets.csv_io)


@login_required
def target_export(request):
    from ..csv_io import targets_export_csv

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="targets.csv"'
    targets_export_csv(targets=Target.objects.visible_to(request.user), stream=response)
    return response


class _DryRun(Exception):
    pass


def _run_import(kind: str, *, user, text: str, dry_run: bool) -> list[str]:
    from ..csv_io import targets_import_csv

    importer = {"targets": targets_import_csv}[kind]
    if not dry_run:
        return importer(user=user, file=io.StringIO(text))
    try:
        with transaction.atomic():
            errors = importer(user=user, file=io.StringIO(text))
            raise _DryRun
    except _DryRun:
        return errors


def _import_page(request, *, template: str, title: str, nav: str):
    """Upload → preview (a dry run: rows and per-row errors, nothing kept) → confirm → import."""
    form = ImportForm(request.POST or None, request.FILES or None)
    preview = None
    session_key = "import:pending"
    if request.method == "POST" and request.POST.get("confirm"):
        pending = request.session.pop(session_key, None)
        if not pending:
            messages.error(request, "Nothing to import: upload the file again.")
            return redirect(request.path)
        errors = _run_import(pending["kind"], user=request.user, text=pending["text"], dry_run=False)
        if errors:  # the data changed since the preview; csv_io kept nothing
            preview = {
                "errors": errors,
                "rows": [],
                "header": [],
                "kind": pending["kind"],
                "name": pending["name"],
            }
        else:
            messages.success(request, f"Imported {pending['name']}.")
            return redirect(request.path)
    elif request.method == "POST" and form.is_valid():
        from ..csv_io import csv_text

        upload = form.cleaned_data["file"]
        try:
            text = csv_text(upload.read())
        except ValueError as e:
            form.add_error("file", str(e))
        else:
            try:
                rows = list(csv.reader(io.StringIO(text, newline="")))
            except csv.Error:  # no rows to show; the dry run below reports what is wrong
                rows = []
            kind = form.cleaned_data["kind"]
            errors = _run_import(kind, user=request.user, text=text, dry_run=True)
            preview = {
                "kind": kind,
                "name": upload.name,
                "header": rows[0] if rows else [],
                "rows": rows[1 : PREVIEW_ROWS + 1],
                "count": max(len(rows) - 1, 0),
                "errors": errors,
            }
            if not errors:
                request.session[session_key] = {"kind": kind, "text": text, "name": upload.name}
    return render(request, template, {"form": form, "preview": preview, "title": title, "nav": nav})


@login_required
def target_import(request):
    if not visibility.is_manager(request.user):
        raise PermissionDenied("Reps do not set targets.")
    return _import_page(request, template="targets/import.html", title="Import targets", nav="targets")


@login_required
def data_import(request):
    if not visibility.is_admin(request.user):
        raise PermissionDenied("Only admins may import data.")
    return _import_page(request, template="targets/import.html", title="Import data", nav="import")

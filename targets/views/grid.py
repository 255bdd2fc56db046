"""The grid: one metric's monthly targets for every rep of a team over a year, saved all at
once (one batch, one transaction) or not at all."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from kpis import catalogue
from kpis.fields import PeriodKind
from kpis.pages import login_required
from kpis.periods import Period
from teams import visibility
from teams.models import Rep, Team
from teams.subjects import Scope
from teams.tree import TeamTree

from .. import numbers
from ..forms import METRIC_CHOICES
from ..models import Target
from ..plan import GridTotals, grid_totals
from ..services import BatchInvalid, TargetChange, target_delete_batch, target_save_batch
from .targets import error_text


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
        this_year = Period.containing(PeriodKind.YEAR, timezone.localdate())
        year = Period.parse(request.GET.get("year") or str(this_year))
    except ValueError:
        raise Http404("No such year.") from None
    if year.kind != PeriodKind.YEAR:
        raise Http404("Give a year.")
    months = year.months()
    reps = Rep.objects.visible_to(request.user, tree).filter(team_id__in=tree.subtree_ids([team.pk]))
    reps = list(reps.order_by("full_name"))
    existing = {
        (t.rep_id, t.period_start): t
        for t in Target.objects.visible_to(request.user, tree).filter(
            scope=Scope.REP,
            rep_id__in=[r.pk for r in reps],
            metric=metric.key,
            period_kind=PeriodKind.MONTH,
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
            messages.error(request, f"Nothing was saved. {error_text(e)}")
            status = 409
        else:
            messages.success(request, f"Grid saved: {changed} cell(s) changed.")
            return redirect(request.get_full_path())
    totals = _totals(request.user, tree, team, metric, year, months, cells)
    return render(
        request,
        "targets/grid.html",
        {
            "team": team,
            "metric": metric,
            "year": year,
            "months": months,
            "cells": cells,
            "rows": list(zip(cells, totals.rows or [None] * len(cells), strict=True)),
            "totals": totals,
            "metrics": METRIC_CHOICES,
            "teams": Team.objects.visible_to(request.user, tree).order_by("name"),
            "years": [year.shifted(-1), year, year.shifted(1)],
            "nav": "grid",
        },
        status=status,
    )


def _totals(user, tree, team, metric, year, months, cells) -> GridTotals:
    """The grid's row and column totals, against the team's own month and year targets (one
    query), as the cells stand — typed, not yet saved, when a save was refused."""
    own = {
        (kind, start): value
        for kind, start, value in Target.objects.visible_to(user, tree)
        .filter(
            scope=Scope.TEAM,
            team_id=team.pk,
            metric=metric.key,
            period_kind__in=[PeriodKind.MONTH, PeriodKind.YEAR],
            period_start__in=[m.start for m in months],
        )
        .values_list("period_kind", "period_start", "value")
    }
    values = [[_number(cell.value) for cell in row] for row in cells]
    return grid_totals(
        metric.key,
        values,
        [own.get((PeriodKind.MONTH, m.start)) for m in months],
        own.get((PeriodKind.YEAR, year.start)),
    )


def _number(text: str) -> Decimal | None:
    """A cell's number for the totals; None for an empty cell or one that is no finite number
    (the save marks it)."""
    try:
        value = numbers.parse(text) if text else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@transaction.atomic
def _save_grid(user, metric, cells, existing, tree) -> int:
    """Saves every changed cell in one transaction, or none: _Invalid with the failing cells
    marked, or the service's ValidationError (CONFLICT) when another save won the race."""
    changes, changed_cells, emptied = [], [], []
    for row in cells:
        for cell in row:
            old = existing.get((cell.rep.pk, cell.month.start))
            if not cell.value:
                if old:
                    emptied.append(old)
                continue
            try:
                if old and numbers.parse(cell.value) == old.value:
                    continue
            except InvalidOperation:
                cell.error = f"'{cell.value}' is not a number."
                continue
            changes.append(TargetChange(Scope.REP, cell.rep.pk, metric.key, cell.month, value=cell.value))
            changed_cells.append(cell)
    target_delete_batch(user=user, targets=emptied, tree=tree)
    try:
        target_save_batch(user=user, changes=changes, tree=tree, replace=True)
    except BatchInvalid as e:
        for index, error in e.errors.items():
            changed_cells[index].error = error_text(error)
    if any(cell.error for row in cells for cell in row):
        raise _Invalid
    return len(emptied) + len(changes)

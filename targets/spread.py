"""One spread: a team's (or the company's) target for a period, down to reps × months in one step.

`spread_preview` works out every cell without writing (the page shows it first);
`target_spread` writes the same cells through target_save_batch, all or none. Along a dimension
the metric divides over (targets.plan: flows over reps and months, stocks over reps) the value
is split so the parts add up exactly, in whole deals or cents; along the others it is copied.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from kpis import catalogue
from kpis.models import KpiSnapshot
from kpis.periods import Period
from kpis.selectors import snapshot_values
from teams.models import Rep
from teams.subjects import Scope
from teams.tree import TeamTree

from . import plan
from .models import Target
from .services import BatchInvalid, TargetChange, _Access, target_save_batch

METHODS = {
    "even": "Evenly",
    "last_year": "Shaped like last year's actuals",
    "weights": "By monthly weights",
}


@dataclass(frozen=True)
class Spread:
    target: Target
    method: str
    reps: list[Rep]
    months: list[Period]
    cells: dict[tuple[int, Period], Decimal]  # (rep id, month) → target
    how: str  # how the metric splits, in words

    def row(self, rep) -> list[Decimal]:
        return [self.cells[rep.pk, m] for m in self.months]

    @property
    def rows(self) -> list[tuple[Rep, list[Decimal], Decimal]]:
        return [(r, self.row(r), sum(self.row(r))) for r in self.reps]

    @property
    def column_totals(self) -> list[Decimal]:
        return [sum(self.cells[r.pk, m] for r in self.reps) for m in self.months]

    @property
    def total(self) -> Decimal:
        return sum(self.cells.values(), Decimal(0))


def spread_preview(
    *, user, target: Target, method: str = "even", weights: str = "", tree: TeamTree
) -> Spread:
    """Every rep × month target the spread would set; ValidationError (on the field at fault)
    when it cannot: a rep's target, an unknown method, weights that do not fit, no last year."""
    if target.scope == Scope.REP:
        raise ValidationError({"scope": "Only a team's or the company's target spreads over reps."})
    _Access(user, tree).check(target.scope, target.subject.pk)
    if method not in METHODS:
        raise ValidationError({"method": f"'{method}' is not a way to spread: use {', '.join(METHODS)}."})
    metric = catalogue.get(target.metric)
    period = target.period
    months = period.months()
    reps = Rep.objects.visible_to(user, tree).order_by("full_name", "pk")
    if target.scope == Scope.TEAM:
        reps = reps.filter(team_id__in=tree.subtree_ids([target.team_id]))
    reps = list(reps)
    if not reps:
        raise ValidationError({"subject": "There are no reps below to spread over."})

    rep_weights = [Decimal(1)] * len(reps)
    month_weights = [Decimal(1)] * len(months)
    if method == "weights":
        month_weights = _parse_weights(weights, months)
    elif method == "last_year":
        rep_weights, month_weights = _last_year(user, tree, target, reps, months)

    step = plan.quantum(metric.key)
    if plan.over_reps(metric.key):
        rep_values = plan.split(target.value, rep_weights, step)
    else:
        rep_values = [target.value] * len(reps)
    cells = {}
    for rep, value in zip(reps, rep_values, strict=True):
        if plan.over_months(metric.key):
            parts = plan.split(value, month_weights, step) if value else [Decimal(0)] * len(months)
        else:
            parts = [value] * len(months)
        cells.update({(rep.pk, m): v for m, v in zip(months, parts, strict=True)})
    return Spread(target, method, reps, months, cells, plan.how_it_splits(metric.key))


@transaction.atomic
def target_spread(
    *, user, target: Target, method: str = "even", weights: str = "", tree: TeamTree
) -> list[Target]:
    """Set (or replace) the rep × month targets `spread_preview` shows: all of them, or none."""
    spread = spread_preview(user=user, target=target, method=method, weights=weights, tree=tree)
    changes = [
        TargetChange(Scope.REP, rep_id, target.metric, month, value=value)
        for (rep_id, month), value in spread.cells.items()
    ]
    try:
        return target_save_batch(user=user, changes=changes, tree=tree, replace=True)
    except BatchInvalid as e:
        raise e.first from None


def _parse_weights(text: str, months: list[Period]) -> list[Decimal]:
    """ "1, 1, 2" — one weight per month, in order; "1,500" is not a weight list of one."""
    items = [w for w in text.replace(";", ",").split(",") if w.strip()]
    labels = ", ".join(m.label for m in months)
    if len(items) != len(months):
        raise ValidationError(
            {"weights": f"Give {len(months)} weights, one per month ({labels}), separated by commas."}
        )
    try:
        parsed = [Decimal(w.strip()) for w in items]
    except InvalidOperation:
        raise ValidationError({"weights": "Weights are numbers, like 1, 1, 2."}) from None
    if any(not w.is_finite() or w < 0 for w in parsed) or not sum(parsed):
        raise ValidationError({"weights": "Weights are numbers of 0 or more, not all 0."})
    return parsed


def _last_year(user, tree, target, reps, months) -> tuple[list[Decimal], list[Decimal]]:
    """The reps' shares of the same period a year earlier, and the subject's months then."""
    period = target.period
    before = Period.containing(period.kind, _year_earlier(period.start))
    months_before = [Period.containing("month", _year_earlier(m.start)) for m in months]
    scope, pk = target.subject
    keys = [(Scope.REP, r.pk, target.metric, before) for r in reps]
    keys += [(scope, pk, target.metric, m) for m in months_before]
    actuals = snapshot_values(KpiSnapshot.objects.visible_to(user, tree), keys)
    rep_weights = [actuals.get((Scope.REP, r.pk, target.metric, before)) or Decimal(0) for r in reps]
    month_weights = [actuals.get((scope, pk, target.metric, m)) or Decimal(0) for m in months_before]
    label = catalogue.get(target.metric).label.lower()
    if not sum(rep_weights) or not sum(month_weights):
        raise ValidationError({"method": f"No {label} in {before.label} to take the shape from."})
    return rep_weights, month_weights


def _year_earlier(day: dt.date) -> dt.date:
    return day.replace(year=day.year - 1)

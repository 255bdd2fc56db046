"""Writes of targets: validated, permission-checked, kept in history. One way in for forms, the
grid editor, CSV import and the API."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kpis import catalogue
from kpis.models import ForecastSubmission, KpiSnapshot
from kpis.periods import Period
from kpis.selectors import snapshot_values
from teams import visibility
from teams.models import Rep, Team
from teams.subjects import Scope, Subject, subject_name
from teams.tree import TeamTree

from .models import Target

SIX = Decimal("0.000001")
# What Target.value (20 digits, 6 after the point) and Target.uplift_pct (7, 2) can hold.
VALUE_LIMIT = Decimal(10) ** 14
UPLIFT_LIMIT = Decimal(10) ** 5


def _period(label_or_period, field) -> Period:
    if isinstance(label_or_period, Period):
        return label_or_period
    try:
        return Period.parse(str(label_or_period).strip())
    except ValueError as e:
        raise ValidationError({field: str(e)}) from None


def may_set_targets_for(user, scope: str, subject_id: int, tree: TeamTree | None = None) -> bool:
    """Admins set any target; managers those of the teams and reps below them; reps none."""
    if visibility.is_admin(user):
        return True
    managed = visibility.visible_team_ids(user, tree)
    if scope == "team":
        return subject_id in managed
    if scope == "rep":
        return Rep.objects.filter(pk=subject_id, team_id__in=managed).exists()
    return False


def _check_subject(user, scope, subject_id):
    if scope not in ("rep", "team", "company"):
        raise ValidationError({"scope": f"'{scope}' is not a scope: use rep, team or company."})
    model = {"rep": Rep, "team": Team}.get(scope)
    if model and not model.objects.filter(pk=subject_id).exists():
        raise ValidationError({"subject": f"There is no {scope} {subject_id}."})
    if not may_set_targets_for(user, scope, subject_id):
        raise ValidationError(
            {"subject": f"You may not set targets for {subject_name(Subject(scope, subject_id))}."}
        )


def _check_value(metric, value):
    if value is None:
        raise ValidationError({"value": "Give a value, or a baseline period with an uplift."})
    try:
        value = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({"value": f"'{value}' is not a number."}) from None
    if not value.is_finite():
        raise ValidationError({"value": "A target must be a finite number."})
    if abs(value) >= VALUE_LIMIT:
        raise ValidationError({"value": f"A target must be below {VALUE_LIMIT:,}."})
    if metric.key != "nps" and value < 0:
        raise ValidationError({"value": f"A {metric.label.lower()} target cannot be negative."})
    if metric.unit == "ratio" and value > 1:
        raise ValidationError({"value": f"{metric.label} is a fraction from 0 to 1 (0.3 = 30%)."})
    if metric.key == "nps" and not -100 <= value <= 100:
        raise ValidationError({"value": "NPS runs from -100 to 100."})
    return value.quantize(SIX)


def relative_value(*, user, scope, subject_id, metric, baseline: Period, uplift_pct) -> Decimal:
    """The baseline period's actual grown by uplift_pct percent; an error if there is none."""
    snapshots = KpiSnapshot.objects.visible_to(user)
    actual = snapshot_values(snapshots, [(scope, subject_id, metric.key, baseline)]).get(
        (scope, subject_id, metric.key, baseline)
    )
    if actual is None:
        who = subject_name(Subject(scope, subject_id))
        raise ValidationError(
            {"baseline": f"No {metric.label.lower()} figure for {who} in {baseline.label} to grow from."}
        )
    return actual * (1 + Decimal(str(uplift_pct)) / 100)


@transaction.atomic
def target_save(
    *, user, scope, subject_id, metric, period, value=None, baseline=None, uplift_pct=None, replace=False
) -> Target:
    """Create a target, or (replace=True) update the one for that subject, metric and period.

    An absolute target takes `value`; a relative one `baseline` (a period label of the same kind)
    and `uplift_pct`, its value computed from the baseline snapshot now.
    """
    subject_id = 0 if scope == "company" else subject_id
    try:
        metric = catalogue.get(metric)
    except KeyError as e:
        raise ValidationError({"metric": e.args[0]}) from None
    period = _period(period, "period")
    _check_subject(user, scope, subject_id)
    if baseline not in (None, "") or uplift_pct not in (None, ""):
        if value not in (None, ""):
            raise ValidationError({"value": "Give a value or a baseline with an uplift, not both."})
        if baseline in (None, "") or uplift_pct in (None, ""):
            raise ValidationError(
                {"baseline": "A relative target needs both a baseline period and an uplift."}
            )
        baseline = _period(baseline, "baseline")
        if baseline.kind != period.kind:
            raise ValidationError(
                {"baseline": f"The baseline must be a {period.kind}, like the target's period."}
            )
        try:
            uplift_pct = Decimal(str(uplift_pct)).quantize(Decimal("0.01"))
        except ArithmeticError:
            raise ValidationError({"uplift_pct": f"'{uplift_pct}' is not a percentage."}) from None
        if not uplift_pct.is_finite() or abs(uplift_pct) >= UPLIFT_LIMIT:
            raise ValidationError(
                {"uplift_pct": f"An uplift must be a number between -{UPLIFT_LIMIT:,} and {UPLIFT_LIMIT:,}."}
            )
        value = relative_value(
            user=user,
            scope=scope,
            subject_id=subject_id,
            metric=metric,
            baseline=baseline,
            uplift_pct=uplift_pct,
        )
    else:
        baseline = uplift_pct = None
    value = _check_value(metric, value)

    existing = (
        Target.objects.for_subject(scope, subject_id)
        .filter(metric=metric.key, period_kind=period.kind, period_start=period.start)
        .first()
    )
    if existing and not replace:
        raise ValidationError(
            {
                "period": f"{subject_name(Subject(scope, subject_id))} already has a "
                f"{metric.label.lower()} target for {period.label}."
            }
        )
    target = existing or Target(
        scope=scope,
        rep_id=subject_id if scope == "rep" else None,
        team_id=subject_id if scope == "team" else None,
        metric=metric.key,
        period_kind=period.kind,
        period_start=period.start,
        created_by=user if user.is_authenticated else None,
    )
    target.value = value
    target.baseline_start = baseline.start if baseline else None
    target.uplift_pct = uplift_pct
    target._history_user = user if user.is_authenticated else None
    target.save()
    return target


def target_delete(*, user, target: Target) -> None:
    _check_subject(user, target.scope, target.subject[1])
    target._history_user = user
    target.delete()


def _split(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """total split by weights, rounded to 6 places, the rounding left in the last part."""
    whole = sum(weights)
    parts = [(total * w / whole).quantize(SIX) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


@transaction.atomic
def target_spread_over_months(*, user, target: Target, method: str = "even") -> list[Target]:
    """A quarter's or year's target as month targets: evenly, or shaped like last year's months.

    Summable metrics are split so the months add up to the target; others (rates, averages)
    give every month the same target.
    """
    period, metric = target.period, catalogue.get(target.metric)
    if period.kind == "month":
        raise ValidationError({"period": "A monthly target has no months to spread over."})
    months = period.months()
    if not metric.summable:
        values = [target.value] * len(months)
    elif method == "even":
        values = _split(target.value, [Decimal(1)] * len(months))
    elif method == "seasonal":
        scope, pk = target.subject
        last_year = [m.shifted(-12) for m in months]
        keys = [(scope, pk, metric.key, m) for m in last_year]
        actuals = snapshot_values(KpiSnapshot.objects.visible_to(user), keys)
        weights = [actuals.get((scope, pk, metric.key, m)) or Decimal(0) for m in last_year]
        if not sum(weights):
            raise ValidationError(
                {"method": f"No {metric.label.lower()} a year earlier to take the season's shape from."}
            )
        values = _split(target.value, weights)
    else:
        raise ValidationError({"method": f"'{method}' is not a way to spread: use even or seasonal."})
    scope, pk = target.subject
    return [
        target_save(user=user, scope=scope, subject_id=pk, metric=metric.key, period=m, value=v, replace=True)
        for m, v in zip(months, values, strict=True)
    ]


@transaction.atomic
def target_spread_over_reps(*, user, target: Target, method: str = "even", baseline=None) -> list[Target]:
    """A team's target split across the reps of its subtree: evenly, or by their share of a
    baseline period's actuals. Non-summable metrics give every rep the team's target."""
    if target.scope != "team":
        raise ValidationError({"scope": "Only a team's target can be spread across reps."})
    metric = catalogue.get(target.metric)
    team_ids = TeamTree.load().subtree_ids([target.team_id])
    reps = list(Rep.objects.filter(team_id__in=team_ids).order_by("full_name").values_list("pk", flat=True))
    if not reps:
        raise ValidationError({"team": "This team has no reps to spread over."})
    if not metric.summable:
        values = [target.value] * len(reps)
    elif method == "even":
        values = _split(target.value, [Decimal(1)] * len(reps))
    elif method == "baseline":
        base = _period(baseline, "baseline")
        keys = [(Scope.REP, r, metric.key, base) for r in reps]
        actuals = snapshot_values(KpiSnapshot.objects.visible_to(user), keys)
        weights = [actuals.get(("rep", r, metric.key, base)) or Decimal(0) for r in reps]
        if not sum(weights):
            raise ValidationError(
                {"baseline": f"The reps have no {metric.label.lower()} in {base.label} to share by."}
            )
        values = _split(target.value, weights)
    else:
        raise ValidationError({"method": f"'{method}' is not a way to spread: use even or baseline."})
    return [
        target_save(
            user=user,
            scope="rep",
            subject_id=r,
            metric=metric.key,
            period=target.period,
            value=v,
            replace=True,
        )
        for r, v in zip(reps, values, strict=True)
    ]


def may_forecast_for(user, scope: str, subject_id: int) -> bool:
    """Reps forecast for themselves; managers for the reps and teams below them; admins anything."""
    if scope == Scope.REP and Rep.objects.filter(pk=subject_id, user_id=user.pk).exists():
        return True
    return may_set_targets_for(user, scope, subject_id)


@transaction.atomic
def forecast_submit(*, user, scope, subject_id, period, amount, category="commit") -> ForecastSubmission:
    """Record a forecast, made now by `user`: the one way in for the page and the API.

    Submissions are history, never edited: a correction is a new submission. Only a commit made
    before its period begins counts for forecast_accuracy.
    """
    subject_id = 0 if scope == Scope.COMPANY else subject_id
    period = _period(period, "period")
    if category not in ForecastSubmission.Category.values:
        raise ValidationError(
            {"category": f"'{category}' is not a forecast category: use commit or best_case."}
        )
    if scope == Scope.COMPANY and not visibility.can_see_company(user):
        raise ValidationError({"scope": "Only admins submit company forecasts."})
    if scope not in Scope.values or not may_forecast_for(user, scope, subject_id):
        who = subject_name(Subject(scope, subject_id))
        raise ValidationError({"subject": f"You may not submit forecasts for {who}."})
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise ValidationError({"amount": f"'{amount}' is not an amount."}) from None
    if amount < 0:
        raise ValidationError({"amount": "A forecast cannot be negative."})
    forecast = ForecastSubmission(
        scope=scope,
        rep_id=subject_id if scope == Scope.REP else None,
        team_id=subject_id if scope == Scope.TEAM else None,
        period_kind=period.kind,
        period_start=period.start,
        category=category,
        amount=amount,
        submitted_at=timezone.now(),
        submitted_by=user,
    )
    forecast.full_clean()  # the model's limits (dates in range, amount's digits), as the admin checks
    forecast.save()
    return forecast

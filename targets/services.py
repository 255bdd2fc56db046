"""Writes of targets: validated, permission-checked, kept in history. One way in for forms, the
grid editor, CSV import and the API."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, router, transaction
from django.utils import timezone

from kpis import catalogue
from kpis.fields import PeriodKind
from kpis.models import ForecastCategory, ForecastSubmission, KpiSnapshot, Opportunity, Stage
from kpis.periods import Period
from kpis.selectors import snapshot_values
from teams import visibility
from teams.models import Rep, Team
from teams.subjects import Scope, Subject, subject_name
from teams.tree import TeamTree

from . import numbers, plan
from .forecast import forecast_rollup
from .models import Notification, Target

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
    return _Access(user, tree or _tree_above(scope, subject_id)).may_set(scope, subject_id)


def _tree_above(scope: str, subject_id) -> TeamTree:
    """The part of the team tree that decides on one subject: its team (a rep's, their team) and
    every team above it, in one query — not the whole tree on every single save (issue 20).

    It answers as the whole tree would for that subject: a manager may set its targets, and sees
    it, exactly when they manage one of these teams; it exists when the chain is not empty."""
    teams, reps = Team._meta.db_table, Rep._meta.db_table
    start = {
        Scope.TEAM: f"SELECT id FROM {teams} WHERE id = %s",
        Scope.REP: f"SELECT team_id FROM {reps} WHERE id = %s",
    }.get(scope)
    try:
        subject_id = int(subject_id)
    except (TypeError, ValueError):
        start = None
    if start is None:
        return TeamTree(parent={}, manager={})  # the company, or no subject at all
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH RECURSIVE chain (id, parent_id, manager_id) AS (
                    SELECT id, parent_id, manager_id FROM {teams} WHERE id IN ({start})
                    UNION
                    SELECT t.id, t.parent_id, t.manager_id FROM {teams} t JOIN chain ON t.id = chain.parent_id
                )
                SELECT id, parent_id, manager_id FROM chain""",
            [subject_id],
        )
        rows = cursor.fetchall()
    return TeamTree(
        parent={pk: parent for pk, parent, _ in rows}, manager={pk: manager for pk, _, manager in rows}
    )


class _Access:
    """Which subjects `user` may set targets for, with what a batch needs read once: the tree
    (given: the whole tree, or for one subject _tree_above) and the teams of the reps it names."""

    def __init__(self, user, tree: TeamTree, rep_ids=()):
        self.tree = tree
        self.admin = visibility.is_admin(user)
        self.managed = set() if self.admin else visibility.visible_team_ids(user, tree)
        self.rep_team = dict(Rep.objects.filter(pk__in=set(rep_ids)).order_by().values_list("pk", "team_id"))
        self.team_ids = set(tree.parent)

    def exists(self, scope, subject_id) -> bool:
        if scope == Scope.REP:
            if subject_id not in self.rep_team:  # not read yet: a single check
                team = Rep.objects.filter(pk=subject_id).values_list("team_id", flat=True).first()
                if team is None:
                    return False
                self.rep_team[subject_id] = team
            return True
        return scope == Scope.COMPANY or subject_id in self.team_ids

    def may_set(self, scope, subject_id) -> bool:
        if self.admin:
            return True
        if scope == Scope.TEAM:
            return subject_id in self.managed
        if scope == Scope.REP:
            return self.exists(scope, subject_id) and self.rep_team[subject_id] in self.managed
        return False

    def check(self, scope, subject_id) -> None:
        """A rep or team that does not exist and one the user may not set targets for get the
        same answer, which names neither (issue 14, item 7)."""
        if scope not in Scope.values:
            raise ValidationError({"scope": f"'{scope}' is not a scope: use rep, team or company."})
        if scope == Scope.COMPANY and not self.admin:
            raise ValidationError({"subject": "Only admins set company targets."})
        if not (self.exists(scope, subject_id) and self.may_set(scope, subject_id)):
            raise ValidationError({"subject": f"There is no {scope} {subject_id} you may set targets for."})


def _check_value(metric, value):
    if value is None:
        raise ValidationError({"value": "Give a value, or a baseline period with an uplift."})
    try:
        value = numbers.parse(value)
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


def improved(actual: Decimal, uplift_pct: Decimal, *, higher_is_better: bool) -> Decimal:
    """The baseline `actual` improved by uplift_pct percent of its size: up when higher is better,
    down when lower is (a 40-day cycle +10% → 36 days), and from a negative NPS of −20 +10% → −18."""
    step = abs(actual) * Decimal(str(uplift_pct)) / 100
    return actual + step if higher_is_better else actual - step


def relative_value(*, snapshots, scope, subject_id, metric, baseline: Period, uplift_pct) -> Decimal:
    """The baseline period's actual improved by uplift_pct percent; an error if there is none.
    `snapshots`: the caller's (KpiSnapshot.objects.visible_to(user), or all for a system job)."""
    key = (scope, subject_id, metric.key, baseline)
    return _grown(snapshot_values(snapshots, [key]).get(key), scope, subject_id, metric, baseline, uplift_pct)


def _grown(actual, scope, subject_id, metric, baseline: Period, uplift_pct) -> Decimal:
    if actual is None:
        who = subject_name(Subject(scope, subject_id))
        raise ValidationError(
            {"baseline": f"No {metric.label.lower()} figure for {who} in {baseline.label} to grow from."}
        )
    return improved(actual, uplift_pct, higher_is_better=metric.higher_is_better)


# Answered when another request wrote the same target between this one's read and its write.
CONFLICT = "Changed by someone else meanwhile: reload and try again."


@dataclass(frozen=True)
class TargetChange:
    """One target to set: an absolute `value`, or a relative one — a `baseline` period (a label
    of the same kind as `period`) and an `uplift_pct`, its value computed from the baseline now."""

    scope: str
    subject_id: int
    metric: str
    period: Period | str
    value: object = None
    baseline: object = None
    uplift_pct: object = None


class BatchInvalid(Exception):
    """Some changes of a batch are invalid, and nothing was written: `errors` says which
    ({index in the batch: ValidationError})."""

    def __init__(self, errors: dict[int, ValidationError]):
        super().__init__(errors)
        self.errors = errors

    @property
    def first(self) -> ValidationError:
        return self.errors[min(self.errors)]


@transaction.atomic
def target_save_batch(*, user, changes: list[TargetChange], tree: TeamTree, replace=False) -> list[Target]:
    """Create targets, or (replace=True) update those already set for the subject, metric and
    period: all of them, or none (BatchInvalid, or ValidationError(CONFLICT) when another
    request wrote one of them meanwhile).

    Set-based, so that a grid of 3,600 cells or a file of 10,000 rows saves in about a second
    (issue 20): the same dozen statements whatever the batch's size — the reps' teams, the
    baselines of relative targets, the targets already set, then one insert of the new targets,
    one upsert of the changed ones and one insert of history for each. Nothing else follows a
    target's save (no signal, no task: statuses and alerts are the daily check's)."""
    access = _Access(user, tree, [c.subject_id for c in changes if c.scope == Scope.REP])
    valid, errors = _validated(user, changes, access)
    if errors:
        raise BatchInvalid(errors)
    existing = _existing(valid)
    for index, change in enumerate(valid):
        if not replace and change.key in existing:
            who = subject_name(Subject(change.scope, change.subject_id))
            message = f"{who} already has a {change.label} target for {change.period.label}."
            raise BatchInvalid({index: ValidationError({"period": message})})
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            return _write(user, valid, existing)
    except IntegrityError:
        # The unique constraint saw a target that _existing did not: written concurrently.
        raise ValidationError({NON_FIELD_ERRORS: CONFLICT}) from None


def target_save(*, user, tree: TeamTree | None = None, replace=False, **change) -> Target:
    """One target (a batch of one): the arguments of TargetChange; its error as it is."""
    try:
        [target] = target_save_batch(
            user=user,
            changes=[TargetChange(**change)],
            tree=tree or _tree_above(change.get("scope"), change.get("subject_id")),
            replace=replace,
        )
    except BatchInvalid as e:
        raise e.first from None
    return target


@dataclass(frozen=True)
class _Valid:
    scope: str
    subject_id: int
    metric: str
    label: str  # the metric's, for messages
    period: Period
    value: Decimal
    baseline: Period | None
    uplift_pct: Decimal | None
    provisional: bool  # the baseline is still running

    @property
    def key(self) -> tuple:
        return (self.scope, self.subject_id, self.metric, self.period.kind, self.period.start)


@dataclass(frozen=True)
class _Checked:
    """A change whose subject, metric, period and relative fields are good; its value is still to
    check, a relative one's to compute from its baseline (read with the batch's others)."""

    scope: str
    subject_id: int
    metric: catalogue.Metric
    period: Period
    value: object
    baseline: Period | None
    uplift_pct: Decimal | None

    @property
    def baseline_key(self) -> tuple:
        return (self.scope, self.subject_id, self.metric.key, self.baseline)

    def valid(self, actuals: dict) -> _Valid:
        value = self.value
        if self.baseline is not None:
            actual = actuals.get(self.baseline_key)
            value = _grown(actual, self.scope, self.subject_id, self.metric, self.baseline, self.uplift_pct)
        return _Valid(
            scope=self.scope,
            subject_id=self.subject_id,
            metric=self.metric.key,
            label=self.metric.label.lower(),
            period=self.period,
            value=_check_value(self.metric, value),
            baseline=self.baseline,
            uplift_pct=self.uplift_pct,
            provisional=self.baseline is not None and self.baseline.end >= timezone.localdate(),
        )


def _validated(user, changes: list[TargetChange], access: "_Access") -> tuple[list[_Valid], dict]:
    """The valid changes, in order, and the errors of the others by index: each change's first
    error, as if it had been checked alone. The baselines of all relative changes are one read."""
    checked, errors = {}, {}
    for index, change in enumerate(changes):
        try:
            checked[index] = _checked(change, access)
        except ValidationError as e:
            errors[index] = e
    keys = [c.baseline_key for c in checked.values() if c.baseline is not None]
    actuals = snapshot_values(KpiSnapshot.objects.visible_to(user, access.tree), keys) if keys else {}
    valid = []
    for index, change in checked.items():
        try:
            valid.append(change.valid(actuals))
        except ValidationError as e:
            errors[index] = e
    return valid, errors


def _checked(change: TargetChange, access: "_Access") -> _Checked:
    scope = change.scope
    subject_id = 0 if scope == Scope.COMPANY else change.subject_id
    try:
        metric = catalogue.get(change.metric)
    except KeyError as e:
        raise ValidationError({"metric": e.args[0]}) from None
    period = _period(change.period, "period")
    access.check(scope, subject_id)
    value, baseline, uplift_pct = change.value, change.baseline, change.uplift_pct
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
        if baseline.start >= period.start:
            raise ValidationError(
                {"baseline": f"The baseline must come before the target's period ({period.label})."}
            )
        try:
            uplift_pct = Decimal(str(uplift_pct)).quantize(Decimal("0.01"))
        except ArithmeticError:
            raise ValidationError({"uplift_pct": f"'{uplift_pct}' is not a percentage."}) from None
        if not uplift_pct.is_finite() or abs(uplift_pct) >= UPLIFT_LIMIT:
            raise ValidationError(
                {"uplift_pct": f"An uplift must be a number between -{UPLIFT_LIMIT:,} and {UPLIFT_LIMIT:,}."}
            )
        value = None
    else:
        baseline = uplift_pct = None
    return _Checked(scope, subject_id, metric, period, value, baseline, uplift_pct)


def _existing(changes: list[_Valid]) -> dict[tuple, Target]:
    """The targets already set for the changes' keys: one query per scope among them."""
    found = {}
    for scope, subject_field in ((Scope.REP, "rep_id"), (Scope.TEAM, "team_id"), (Scope.COMPANY, None)):
        mine = [c for c in changes if c.scope == scope]
        if not mine:
            continue
        rows = Target.objects.filter(
            scope=scope,
            metric__in={c.metric for c in mine},
            period_kind__in={c.period.kind for c in mine},
            period_start__in={c.period.start for c in mine},
        )
        if subject_field:
            rows = rows.filter(**{f"{subject_field}__in": {c.subject_id for c in mine}})
        for t in rows:
            found[scope, t.subject.pk, t.metric, t.period_kind, t.period_start] = t
    return found


# What a change sets on a target it finds: the upsert's columns (updated_at: auto_now).
CHANGED_FIELDS = ["value", "baseline_start", "uplift_pct", "provisional", "updated_at"]


def _write(user, changes: list[_Valid], existing: dict) -> list[Target]:
    """The targets of `changes`, written in bulk with a row of history each, all made by `user`
    at one time. A key twice in a batch is one target set to its last change (one history row:
    the batch is one change)."""
    by = user if user.is_authenticated else None
    written = {}
    for change in changes:
        target = written.get(change.key) or existing.get(change.key)
        if target is None:
            target = Target(
                scope=change.scope,
                rep_id=change.subject_id if change.scope == Scope.REP else None,
                team_id=change.subject_id if change.scope == Scope.TEAM else None,
                metric=change.metric,
                period_kind=change.period.kind,
                period_start=change.period.start,
                created_by=by,
            )
        target.value = change.value
        target.baseline_start = change.baseline.start if change.baseline else None
        target.uplift_pct = change.uplift_pct
        target.provisional = change.provisional
        target._history_user = by
        written[change.key] = target
    new = [t for t in written.values() if t.pk is None]
    changed = [t for t in written.values() if t.pk is not None]
    now = timezone.now()
    # A new target that another request has just written fails the unique constraint
    # (IntegrityError: CONFLICT). A changed one is written by its id, as save() would: updated,
    # or inserted again if it was deleted meanwhile.
    Target.objects.bulk_create(new)
    Target.objects.bulk_create(
        changed, update_conflicts=True, unique_fields=["id"], update_fields=CHANGED_FIELDS
    )
    # No change reason, as a save() records (bulk_history_create's default is "").
    Target.history.bulk_history_create(new, default_date=now, default_change_reason=None)
    Target.history.bulk_history_create(changed, update=True, default_date=now, default_change_reason=None)
    return [written[change.key] for change in changes]


def target_delete(*, user, target: Target, tree: TeamTree | None = None) -> None:
    """One target (a batch of one)."""
    target_delete_batch(user=user, targets=[target], tree=tree or _tree_above(*target.subject))


@transaction.atomic
def target_delete_batch(*, user, targets: list[Target], tree: TeamTree) -> None:
    """Delete targets, all or none (the ValidationError of the first the user may not delete),
    each with its row of history: who deleted it, when, what it was. Four statements however
    many: the reps' teams, the history, the targets' notifications, the targets."""
    access = _Access(user, tree, [t.rep_id for t in targets if t.rep_id])
    for target in targets:
        access.check(*target.subject)
    history = Target.history.model
    by, now = (user if user.is_authenticated else None), timezone.now()
    history.objects.bulk_create(
        history(
            history_type="-",
            history_date=now,
            history_user=by,
            **{field.attname: getattr(target, field.attname) for field in history.tracked_fields},
        )
        for target in targets
    )
    ids = [t.pk for t in targets]
    Notification.objects.filter(target_id__in=ids).delete()
    # Not QuerySet.delete(): django-simple-history's post_delete signal would write the history
    # again, one statement a target. Notifications were the one thing to cascade to.
    Target.every.filter(pk__in=ids)._raw_delete(router.db_for_write(Target))


@transaction.atomic
def target_follow_baselines(*, today) -> int:
    """Daily, after the recompute: relative targets whose baseline was still running take its
    figure as it stands now, and keep it for good once the baseline has ended. A system job:
    it reads every snapshot. Returns how many targets changed."""
    changed = 0
    for target in Target.objects.select_for_update().filter(provisional=True):
        baseline = Period.from_start(target.period_kind, target.baseline_start)
        metric = catalogue.get(target.metric)
        try:
            value = relative_value(
                snapshots=KpiSnapshot.objects.all(),
                scope=target.scope,
                subject_id=target.subject.pk,
                metric=metric,
                baseline=baseline,
                uplift_pct=target.uplift_pct,
            )
            value = _check_value(metric, value)
        except ValidationError:
            value = target.value  # no figure (any more), or out of range: keep the last good one
        provisional = baseline.end >= today
        if (value, provisional) != (target.value, target.provisional):
            target.value, target.provisional = value, provisional
            target.save()
            changed += 1
    return changed


def _split(total: Decimal, weights: list[Decimal], metric) -> list[Decimal]:
    """total split by weights into whole deals (counts) or cents (money), adding up exactly."""
    return plan.split(total, weights, plan.quantum(metric.key))


@transaction.atomic
def target_spread_over_months(*, user, target: Target, method: str = "even") -> list[Target]:
    """A quarter's or year's target as month targets: evenly, or shaped like last year's months.

    Flows are split so the months add up to the target (targets.plan); others (rates, averages,
    stocks) give every month the same target.
    """
    period, metric = target.period, catalogue.get(target.metric)
    if period.kind == PeriodKind.MONTH:
        raise ValidationError({"period": "A monthly target has no months to spread over."})
    months = period.months()
    if not plan.over_months(metric.key):
        values = [target.value] * len(months)
    elif method == "even":
        values = _split(target.value, [Decimal(1)] * len(months), metric)
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
        values = _split(target.value, weights, metric)
    else:
        raise ValidationError({"method": f"'{method}' is not a way to spread: use even or seasonal."})
    scope, pk = target.subject
    changes = [TargetChange(scope, pk, metric.key, m, value=v) for m, v in zip(months, values, strict=True)]
    try:
        return target_save_batch(user=user, changes=changes, tree=TeamTree.load(), replace=True)
    except BatchInvalid as e:  # the months share one subject and metric: one reason says it
        raise e.first from None


@transaction.atomic
def target_spread_over_reps(*, user, target: Target, method: str = "even", baseline=None) -> list[Target]:
    """A team's target split across the reps of its subtree: evenly, or by their share of a
    baseline period's actuals. Flows and stocks (pipeline) are split; rates and averages give
    every rep the team's target."""
    if target.scope != Scope.TEAM:
        raise ValidationError({"scope": "Only a team's target can be spread across reps."})
    metric = catalogue.get(target.metric)
    tree = TeamTree.load()
    team_ids = tree.subtree_ids([target.team_id])
    reps = list(Rep.objects.filter(team_id__in=team_ids).order_by("full_name").values_list("pk", flat=True))
    if not reps:
        raise ValidationError({"team": "This team has no reps to spread over."})
    if not plan.over_reps(metric.key):
        values = [target.value] * len(reps)
    elif method == "even":
        values = _split(target.value, [Decimal(1)] * len(reps), metric)
    elif method == "baseline":
        base = _period(baseline, "baseline")
        keys = [(Scope.REP, r, metric.key, base) for r in reps]
        actuals = snapshot_values(KpiSnapshot.objects.visible_to(user, tree), keys)
        weights = [actuals.get((Scope.REP, r, metric.key, base)) or Decimal(0) for r in reps]
        if not sum(weights):
            raise ValidationError(
                {"baseline": f"The reps have no {metric.label.lower()} in {base.label} to share by."}
            )
        values = _split(target.value, weights, metric)
    else:
        raise ValidationError({"method": f"'{method}' is not a way to spread: use even or baseline."})
    changes = [
        TargetChange(Scope.REP, r, metric.key, target.period, value=v)
        for r, v in zip(reps, values, strict=True)
    ]
    return target_save_batch(user=user, changes=changes, tree=tree, replace=True)


def may_forecast_for(user, scope: str, subject_id: int) -> bool:
    """Reps forecast for themselves; managers for the reps and teams below them; admins anything."""
    if scope == Scope.REP and Rep.objects.filter(pk=subject_id, user_id=user.pk).exists():
        return True
    return may_set_targets_for(user, scope, subject_id)


@transaction.atomic
def forecast_submit(
    *, user, scope, subject_id, period, amount=None, adjustment=None, category="commit", external_id=None
) -> ForecastSubmission:
    """Record a forecast, made now by `user`: the one way in for the pages and the API.

    Either `amount`, or (a team's or the company's commit) `adjustment`: the number is then the
    roll-up of its children's latest submissions (targets.forecast.Line.rollup) plus the
    adjustment, and both are kept with it. Submissions are history, never edited: a correction is
    a new submission. Only a commit made before its period begins counts for forecast_accuracy.
    `external_id`: the source's id of a submission synced from a CRM.
    """
    forecast = forecast_check(
        user=user,
        scope=scope,
        subject_id=subject_id,
        period=period,
        amount=amount,
        adjustment=adjustment,
        category=category,
        external_id=external_id,
        now=timezone.now(),
    )
    forecast.full_clean()  # the model's limits (dates in range, amount's digits), as the admin checks
    forecast.save()
    return forecast


def forecast_check(
    *,
    user,
    scope,
    subject_id,
    period,
    amount=None,
    adjustment=None,
    category="commit",
    external_id=None,
    now,
    subject_seen=False,
) -> ForecastSubmission:
    """The submission forecast_submit records, checked by its rules but neither full_clean'ed nor
    saved: a batch (the bulk API, targets.serializers.ForecastBulkSerializer) checks its rows
    with this and writes them at once. `subject_seen`: the caller found the rep or team among
    those `user` sees (visible_to), which are those they may forecast for — a batch so spares
    may_forecast_for's queries for every row."""
    subject_id = 0 if scope == Scope.COMPANY else subject_id
    period = _period(period, "period")
    if category not in ForecastSubmission.Category.values:
        raise ValidationError(
            {"category": f"'{category}' is not a forecast category: use commit or best_case."}
        )
    if scope == Scope.COMPANY and not visibility.can_see_company(user):
        raise ValidationError({"scope": "Only admins submit company forecasts."})
    if scope not in Scope.values:
        raise ValidationError({"scope": f"'{scope}' is not a scope: use rep, team or company."})
    if not (subject_seen or may_forecast_for(user, scope, subject_id)):  # unknown or not yours: one answer
        raise ValidationError({"subject": f"There is no {scope} {subject_id} you may submit forecasts for."})
    if period.end < timezone.localdate(now):
        raise ValidationError({"period": f"{period.label} has ended: forecast a period to come or running."})
    if amount is not None and adjustment is not None:
        raise ValidationError({"adjustment": "Give an amount or an adjustment over the roll-up, not both."})
    rollup = None
    if adjustment is not None:
        rollup = _money(_rollup(user, Subject(scope, subject_id), period, category, now), "adjustment")
        adjustment = _money(adjustment, "adjustment")
        amount = rollup + adjustment
    elif amount is None:
        raise ValidationError({"amount": "Give the amount you forecast."})
    amount = _money(amount, "amount")
    if amount < 0:
        field = "amount" if rollup is None else "adjustment"
        raise ValidationError({field: "A forecast cannot be negative."})
    return ForecastSubmission(
        external_id=external_id,
        scope=scope,
        rep_id=subject_id if scope == Scope.REP else None,
        team_id=subject_id if scope == Scope.TEAM else None,
        period_kind=period.kind,
        period_start=period.start,
        category=category,
        amount=amount,
        rollup=rollup,
        adjustment=adjustment,
        submitted_at=now,
        submitted_by=user,
    )


def _money(value, field) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise ValidationError({field: f"'{value}' is not an amount."}) from None


def _rollup(user, subject: Subject, period: Period, category: str, now) -> Decimal:
    if subject.scope == Scope.REP or category != ForecastSubmission.Category.COMMIT:
        raise ValidationError({"adjustment": "Only a team's or the company's commit adjusts a roll-up."})
    rollup = forecast_rollup(user=user, subject=subject, period=period, now=now).total.rollup
    if rollup is None:
        raise ValidationError(
            {"adjustment": "There is no roll-up to adjust yet (a child's figures are not computed)."}
        )
    return rollup


@transaction.atomic
def opportunity_categorize(*, user, opportunity_id: int, category: str) -> Opportunity:
    """Set an open deal's forecast category ("": back to its stage's), for whoever sees the deal."""
    deal = Opportunity.objects.visible_to(user).select_related("stage").filter(pk=opportunity_id).first()
    if deal is None:
        raise ValidationError({"opportunity": f"There is no deal {opportunity_id} you may change."})
    if category and category not in ForecastCategory.values:
        choices = ", ".join(ForecastCategory.values)
        raise ValidationError({"forecast_category": f"'{category}' is not a category: use {choices}."})
    if deal.stage.outcome != Stage.Outcome.OPEN:
        closed = f"{deal} is {deal.stage.outcome}: only an open deal has a forecast category."
        raise ValidationError({"forecast_category": closed})
    deal.forecast_category = category
    deal.save(update_fields=["forecast_category"])
    return deal

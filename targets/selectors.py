"""Reads about targets: progress against them, where team and rep targets disagree, and the
scorecard (a subject's every metric against its target) that the page and the API show."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Q

from kpis import catalogue
from kpis.fields import FigureState, PeriodKind
from kpis.models import KpiSnapshot
from kpis.periods import Period
from kpis.selectors import NO_FIGURE, AsOf, snapshot_figures
from teams.models import Rep
from teams.subjects import COMPANY, Scope, Subject
from teams.tree import TeamTree

from .models import Target
from .plan import MONTHS, Part, Plan, PlanValue
from .progress import Progress, progress


@dataclass(frozen=True)
class Goal:
    """A target to measure progress against: a Target row's, or one the plan adds up to."""

    subject: Subject
    metric: str
    period: Period
    value: Decimal
    month_weights: dict | None = None  # the month plan inside a quarter or year, when complete
    provisional: bool = False

    @property
    def key(self) -> tuple:
        return (self.subject, self.metric, self.period)


def goals_progress(goals: list[Goal], today: dt.date, *, snapshots) -> dict[tuple, Progress]:
    """Progress of each goal on `today`, {goal.key: Progress}, in one query however many goals;
    the actuals come from `snapshots` (the viewer's: `KpiSnapshot.objects.visible_to(user)`)."""
    keys = []
    for g in goals:
        keys.append((g.subject.scope, g.subject.pk, g.metric, g.period))
        if g.metric == "revenue_won":
            keys.append((g.subject.scope, g.subject.pk, "pipeline_value", g.period))
    found = snapshot_figures(snapshots, keys)
    out = {}
    for g in goals:
        scope, pk = g.subject
        metric = catalogue.get(g.metric)
        value, state, _ = found.get((scope, pk, g.metric, g.period), NO_FIGURE)
        pipeline = found.get((scope, pk, "pipeline_value", g.period), NO_FIGURE).value
        out[g.key] = progress(
            actual=value,
            target=g.value,
            period=g.period,
            today=today,
            higher_is_better=metric.higher_is_better,
            summable=metric.summable,
            month_weights=g.month_weights,
            pipeline=pipeline if g.metric == "revenue_won" else None,
            undefined=state in (FigureState.UNDEFINED, FigureState.NOT_APPLICABLE),
            provisional=g.provisional or state == FigureState.PROVISIONAL,
            floor=SCALE_FLOOR.get(g.metric, Decimal(0)),
        )
        out[g.key] = replace(out[g.key], state=state or "")
    return out


# Where a metric's scale starts, when its figures and targets can be below 0.
SCALE_FLOOR = {"nps": Decimal(-100)}


def targets_progress(targets: list[Target], today: dt.date, *, snapshots) -> dict[int, Progress]:
    """Progress of each target on `today`, in two queries however many targets: the month
    targets inside the quarters and years, and the actuals from `snapshots` (the viewer's)."""
    weights = _month_weights(targets)
    goals = {
        t.pk: Goal(t.subject, t.metric, t.period, t.value, weights.get(t.pk), t.provisional) for t in targets
    }
    states = goals_progress(list(goals.values()), today, snapshots=snapshots)
    return {pk: states[g.key] for pk, g in goals.items()}


def plan_progress(plan: Plan, wanted, today: dt.date, *, snapshots) -> dict:
    """For each (subject, metric, period) in `wanted` that the plan has a target for: the plan's
    value (own, or the sum of months or members) and the progress against it."""
    goals = []
    values = {}
    for subject, metric, period in wanted:
        value = plan.of(subject, metric, period)
        if value is None:
            continue
        values[subject, metric, period] = value
        goals.append(
            Goal(
                subject,
                metric,
                period,
                value.value,
                plan.month_weights(subject, metric, period) or None,
                value.provisional,
            )
        )
    states = goals_progress(goals, today, snapshots=snapshots)
    return {g.key: (values[g.key], states[g.key]) for g in goals}


def load_plan(
    targets,
    *,
    periods: dict[str, list[Period]],
    tree: TeamTree,
    rep_team: dict[int, int],
    subjects: list[Subject],
) -> Plan:
    """The plan around some periods: the targets (a scoped queryset) of each metric in `periods`
    for its periods (a page's, a chart's trend) and their months; `rep_team` the reps (id → team
    id) whose targets add up to their teams'; `subjects` those the caller asks the plan about
    besides. One query, of the values only (a 125-rep dashboard's plan is some 3,500 targets),
    of those subjects' targets and the reps' (their ids let PostgreSQL read the targets by
    subject, not scan them all): plan_gaps names the few targets a page shows by name."""
    wanted, metrics_of = {}, defaultdict(list)  # {(metric, kind, start): Period}, {periods: metrics}
    for metric, some in periods.items():
        whole = frozenset(q for p in some for q in [p, *p.months()])
        wanted |= {(metric, q.kind, q.start): q for q in whole}
        metrics_of[whole].append(metric)
    which = Q()
    for whole, metrics in metrics_of.items():
        which |= Q(
            metric__in=sorted(metrics),
            period_kind__in={q.kind for q in whole},
            period_start__in={q.start for q in whole},
        )
    reps = {*rep_team, *(s.pk for s in subjects if s.scope == Scope.REP)}
    whose = Q(scope=Scope.REP, rep_id__in=sorted(reps)) | Q(
        scope=Scope.TEAM, team_id__in=sorted(s.pk for s in subjects if s.scope == Scope.TEAM)
    )
    if COMPANY in subjects:
        whose |= Q(scope=Scope.COMPANY)
    rows = targets.filter(whose, which).order_by()
    found = []
    for scope, rep, team, metric, kind, start, *rest in rows.values_list(
        "scope", "rep_id", "team_id", "metric", "period_kind", "period_start", *PlannedTarget.READ
    ):
        if (p := wanted.get((metric, kind, start))) is not None:
            found.append(PlannedTarget(Subject(Scope(scope), rep or team or 0), metric, p, *rest))
    return Plan(found, tree, rep_team)


class PlannedTarget(NamedTuple):
    """What a plan and the scorecard read of a Target row (load_plan): no model built, no rep or
    team joined."""

    subject: Subject
    metric: str
    period: Period
    value: Decimal
    provisional: bool
    baseline_start: dt.date | None
    uplift_pct: Decimal | None
    pk: int

    READ = ("value", "provisional", "baseline_start", "uplift_pct", "pk")  # the fields after `period`

    @property
    def is_relative(self) -> bool:
        return self.baseline_start is not None


def _month_weights(targets) -> dict[int, dict[Period, Decimal]]:
    """For quarter/year targets: the month targets of the same subject and metric inside them."""
    longer = [t for t in targets if t.period_kind != PeriodKind.MONTH]
    if not longer:
        return {}
    q = Q()
    for t in longer:
        q |= Q(
            scope=t.scope,
            rep_id=t.rep_id,
            team_id=t.team_id,
            metric=t.metric,
            period_kind=PeriodKind.MONTH,
            period_start__gte=t.period.start,
            period_start__lte=t.period.end,
        )
    months = defaultdict(dict)
    for m in Target.objects.filter(q):
        months[m.subject, m.metric][m.period] = m.value
    return {t.pk: months.get((t.subject, t.metric), {}) for t in longer}


@dataclass(frozen=True)
class Gap:
    """An own target that differs from the sum of its parts' targets: its months' (a quarter or
    year) or its members' (a team or the company: the reps of its whole subtree)."""

    target: Target
    what: str  # months | members
    part: Part

    @property
    def total(self) -> Decimal:
        return self.part.total

    @property
    def difference(self) -> Decimal:
        return self.target.value - self.part.total

    @property
    def description(self) -> str:
        parts = "its months" if self.what == MONTHS else "its reps"
        missing = "" if self.part.complete else f" ({self.part.planned} of {self.part.of} have one)"
        return f"{parts}' targets{missing}"


def reconciliation_gaps(targets: list[Target], tree: TeamTree, *, visible=None) -> list[Gap]:
    """Of `targets`, those whose months' or reps' targets add up to something else, across
    kinds (a quarter against its months) and levels (a team, or the company, against the reps
    below it). Two queries; `visible`: the targets to read the parts among (the viewer's)."""
    if not targets:
        return []
    visible = Target.objects.all() if visible is None else visible
    q = Q()
    for t in targets:
        periods = [t.period, *t.period.months()]
        q |= Q(
            metric=t.metric,
            period_kind__in={p.kind for p in periods},
            period_start__in={p.start for p in periods},
        )
    rows = list(visible.filter(q).select_related("rep", "team"))
    plan = Plan(rows, tree, dict(Rep.objects.order_by().values_list("pk", "team_id")))
    return plan_gaps(plan, [(t.subject, t.metric, t.period) for t in targets])


def plan_gaps(plan: Plan, wanted, *, named=None) -> list[Gap]:
    """The gaps of the plan's own targets at (subject, metric, period) in `wanted`. `named`: a
    Target queryset to read the gaps' targets from, with their reps and teams, for a plan of
    PlannedTargets (load_plan); one query, only when there is a gap."""
    gaps = []
    for subject, metric, period in wanted:
        if (subject, metric, period) not in plan.own:
            continue  # no target of its own: nothing to disagree with (PlanValue.gaps)
        value = plan.of(subject, metric, period)
        for what, part, _ in value.gaps if value else []:
            gaps.append(Gap(target=value.target, what=what, part=part))
    if named is not None and gaps:
        rows = named.select_related("rep", "team").in_bulk([g.target.pk for g in gaps])
        gaps = [replace(g, target=rows[g.target.pk]) for g in gaps]
    return gaps


# --- the scorecard: one subject's every metric in one period, for the page and the API


@dataclass(frozen=True)
class ScoreRow:
    metric: catalogue.Metric
    snapshot: dict | None  # value, numerator, denominator, state, computed_at; None: not computed yet
    trend: list  # the metric's value in each period of Scorecard.trend, the period itself last
    plan: PlanValue | None  # the target: own, or the sum of its months' or members'
    progress: Progress | None

    def _figure(self, name):
        return self.snapshot[name] if self.snapshot else None

    value = property(lambda self: self._figure("value"))
    numerator = property(lambda self: self._figure("numerator"))
    denominator = property(lambda self: self._figure("denominator"))
    computed_at = property(lambda self: self._figure("computed_at"))
    state = property(lambda self: self._figure("state"))  # kpis.fields.FigureState; None: none yet
    target = property(lambda self: self.plan.target if self.plan else None)  # its own Target row
    target_value = property(lambda self: self.plan.value if self.plan else None)
    attainment = property(lambda self: self.progress.attainment if self.progress else None)
    pace = property(lambda self: self.progress.pace if self.progress else None)
    status = property(lambda self: self.progress.status if self.progress else None)


@dataclass(frozen=True)
class Scorecard:
    subject: Subject
    period: Period
    trend: list[Period]  # the `trend_length` periods up to and including `period`
    rows: list[ScoreRow]  # in the catalogue's order

    @property
    def data_as_of(self) -> AsOf:
        """When the newest of the period's figures was computed."""
        return AsOf(max((r.computed_at for r in self.rows if r.computed_at), default=None))


def scorecard(*, user, subject: Subject, period: Period, today: dt.date, trend_length: int = 1) -> Scorecard:
    """Every metric of `subject` in `period`: its snapshot, its trend, its target and progress.

    `subject` is one `user` may see (kpis.pages.get_subject_for_user); every read goes through
    the models' visible_to all the same. Six queries, whatever the subject. A quarter or year
    without a target of its own has the sum of its month targets, a team the sum of its reps'.
    """
    tree = TeamTree.load()
    snapshots = KpiSnapshot.objects.visible_to(user, tree)
    trend = [period.shifted(i - trend_length + 1) for i in range(trend_length)]
    found = {
        (row["metric"], row["period_start"]): row
        for row in snapshots.filter(
            scope=subject.scope,
            subject_id=subject.pk,
            period_kind=period.kind,
            period_start__in=[p.start for p in trend],
        ).values("metric", "period_start", "value", "numerator", "denominator", "state", "computed_at")
    }
    reps = Rep.objects.visible_to(user, tree)
    if subject.scope == Scope.REP:
        reps = reps.filter(pk=subject.pk)
    elif subject.scope == Scope.TEAM:
        reps = reps.filter(team_id__in=tree.subtree_ids([subject.pk]))
    rep_team = dict(reps.order_by().values_list("pk", "team_id"))
    plan = load_plan(
        Target.objects.visible_to(user, tree),
        periods={m: [period] for m in catalogue.KEYS},
        tree=tree,
        rep_team=rep_team,
        subjects=[subject],
    )
    planned = plan_progress(
        plan, [(subject, m.key, period) for m in catalogue.METRICS], today, snapshots=snapshots
    )
    rows = []
    for metric in catalogue.METRICS:
        target, state = planned.get((subject, metric.key, period), (None, None))
        snapshot = found.get((metric.key, period.start))
        rows.append(
            ScoreRow(
                metric=metric,
                snapshot=snapshot,
                trend=[
                    found[metric.key, p.start]["value"] if (metric.key, p.start) in found else None
                    for p in trend
                ],
                plan=target,
                progress=state,
            )
        )
    return Scorecard(subject=subject, period=period, trend=trend, rows=rows)

"""Reads about targets: progress against them, where team and rep targets disagree, and the
scorecard (a subject's every metric against its target) that the page and the API show."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from kpis import catalogue
from kpis.fields import PeriodKind
from kpis.models import KpiSnapshot
from kpis.periods import Period
from kpis.selectors import snapshot_values
from teams.models import Rep
from teams.subjects import Scope, Subject
from teams.tree import TeamTree

from .models import Target
from .progress import Progress, progress


def targets_progress(targets: list[Target], today: dt.date, *, snapshots) -> dict[int, Progress]:
    """Progress of each target on `today`, in three queries however many targets; the actuals
    come from `snapshots` (the viewer's: `KpiSnapshot.objects.visible_to(user)`)."""
    keys = []
    for t in targets:
        scope, pk = t.subject
        keys.append((scope, pk, t.metric, t.period))
        if t.metric == "revenue_won":
            keys.append((scope, pk, "pipeline_value", t.period))
    actuals = snapshot_values(snapshots, keys)
    weights = _month_weights(targets)
    out = {}
    for t in targets:
        scope, pk = t.subject
        metric = catalogue.get(t.metric)
        out[t.pk] = progress(
            actual=actuals.get((scope, pk, t.metric, t.period)),
            target=t.value,
            period=t.period,
            today=today,
            higher_is_better=metric.higher_is_better,
            summable=metric.summable,
            month_weights=weights.get(t.pk),
            pipeline=actuals.get((scope, pk, "pipeline_value", t.period))
            if t.metric == "revenue_won"
            else None,
        )
    return out


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
    """A team target that differs from the sum of its reps' targets for the same metric and period."""

    target: Target
    reps_total: Decimal

    @property
    def difference(self) -> Decimal:
        return self.target.value - self.reps_total


def reconciliation_gaps(team_targets: list[Target], tree: TeamTree) -> list[Gap]:
    """Team targets on summable metrics whose reps' targets (whole subtree) add up to something else."""
    team_targets = [t for t in team_targets if t.scope == Scope.TEAM and catalogue.get(t.metric).summable]
    if not team_targets:
        return []
    rep_team = dict(Rep.objects.values_list("pk", "team_id"))
    q = Q()
    for t in team_targets:
        q |= Q(metric=t.metric, period_kind=t.period_kind, period_start=t.period_start)
    sums = defaultdict(Decimal)  # (team, metric, kind, start) → Σ rep targets below the team
    seen = set()
    for r in Target.objects.filter(q, scope=Scope.REP).values(
        "rep_id", "metric", "period_kind", "period_start", "value"
    ):
        for team in tree.ancestors(rep_team[r["rep_id"]]):
            key = (team, r["metric"], r["period_kind"], r["period_start"])
            sums[key] += r["value"]
            seen.add(key)
    gaps = []
    for t in team_targets:
        key = (t.team_id, t.metric, t.period_kind, t.period_start)
        if key in seen and sums[key] != t.value:
            gaps.append(Gap(target=t, reps_total=sums[key]))
    return gaps


# --- the scorecard: one subject's every metric in one period, for the page and the API


@dataclass(frozen=True)
class ScoreRow:
    metric: catalogue.Metric
    snapshot: dict | None  # value, numerator, denominator, computed_at; None: not computed yet
    trend: list  # the metric's value in each period of Scorecard.trend, the period itself last
    target: Target | None
    progress: Progress | None

    def _figure(self, name):
        return self.snapshot[name] if self.snapshot else None

    value = property(lambda self: self._figure("value"))
    numerator = property(lambda self: self._figure("numerator"))
    denominator = property(lambda self: self._figure("denominator"))
    computed_at = property(lambda self: self._figure("computed_at"))
    target_value = property(lambda self: self.target.value if self.target else None)
    attainment = property(lambda self: self.progress.attainment if self.progress else None)
    pace = property(lambda self: self.progress.pace if self.progress else None)
    status = property(lambda self: self.progress.status if self.progress else None)


@dataclass(frozen=True)
class Scorecard:
    subject: Subject
    period: Period
    trend: list[Period]  # the `trend_length` periods up to and including `period`
    rows: list[ScoreRow]  # in the catalogue's order


def scorecard(*, user, subject: Subject, period: Period, today: dt.date, trend_length: int = 1) -> Scorecard:
    """Every metric of `subject` in `period`: its snapshot, its trend, its target and progress.

    `subject` is one `user` may see (kpis.pages.get_subject_for_user); every read goes through
    the models' visible_to all the same. Five queries, whatever the subject.
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
        ).values("metric", "period_start", "value", "numerator", "denominator", "computed_at")
    }
    targets = list(
        Target.objects.visible_to(user, tree)
        .for_subject(subject.scope, subject.pk)
        .filter(period_kind=period.kind, period_start=period.start)
    )
    progress = targets_progress(targets, today, snapshots=snapshots)
    by_metric = {t.metric: t for t in targets}
    rows = []
    for metric in catalogue.METRICS:
        target = by_metric.get(metric.key)
        snapshot = found.get((metric.key, period.start))
        rows.append(
            ScoreRow(
                metric=metric,
                snapshot=snapshot,
                trend=[
                    found[metric.key, p.start]["value"] if (metric.key, p.start) in found else None
                    for p in trend
                ],
                target=target,
                progress=progress[target.pk] if target else None,
            )
        )
    return Scorecard(subject=subject, period=period, trend=trend, rows=rows)

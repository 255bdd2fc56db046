"""Recompute services: the only code that writes KpiSnapshot rows.

- recompute_tree: a top-level team's whole subtree from the facts (the nightly fan-out unit).
- recompute_rep / recompute_team / recompute_company: incremental, after a fact changed; the
  subject is recomputed from its own facts, then each team above it and the company are rolled
  up from their children's snapshots, so nothing outside the changed branch is read.
Rows are upserted on the snapshot key and only when their figures changed; every service is
idempotent.
"""

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Min, Q, Sum
from django.utils import timezone

from teams.models import Rep
from teams.tree import TeamTree

from . import catalogue
from .aggregates import COMPANY, COMPANY_LEAF, REP, TEAM, Aggregator, Scope
from .models import KpiSnapshot
from .rollup import (
    Pair,
    add_pairs,
    data_periods,
    latest_commits,
    metric_pairs,
    sum_over_subjects,
    with_forecast,
)

log = logging.getLogger(__name__)
Values = dict[tuple[tuple[str, int], str, str, dt.date], Pair]
BATCH = 5000


def _rep_teams(team_ids=None) -> dict[int, int]:
    reps = Rep.objects.all() if team_ids is None else Rep.objects.filter(team_id__in=team_ids)
    return dict(reps.values_list("pk", "team_id"))


def _finish(values: Values, kind, periods, subject_pairs, subjects) -> None:
    forecasts = latest_commits(kind, periods, subjects)
    for subject in subjects:
        for period in periods:
            pairs = subject_pairs.get(subject, {}).get(period.index) or metric_pairs({})
            pairs = with_forecast(pairs, forecasts.get((subject, period.index)))
            for key, pair in pairs.items():
                values[subject, key, kind, period.start] = pair


@transaction.atomic
def recompute_tree(*, root_team_id: int, since: dt.date | None = None, force: bool = False) -> int:
    """Every rep and team under a top-level team, from the facts. Returns rows written."""
    tree = TeamTree.load()
    team_ids = tree.subtree_ids([root_team_id])
    rep_team = _rep_teams(team_ids)
    subjects = [(REP, r) for r in rep_team] + [(TEAM, t) for t in team_ids]

    def ancestors_of(leaf):
        scope, pk = leaf
        above = [(TEAM, t) for t in tree.ancestors(rep_team[pk] if scope == REP else pk)]
        return [leaf, *above] if scope == REP else above

    aggregator = Aggregator(Scope(frozenset(rep_team), frozenset(team_ids), company=False))
    values: Values = {}
    for kind, periods in data_periods(since).items():
        table = aggregator.components(kind, periods)
        _finish(values, kind, periods, sum_over_subjects(table, ancestors_of), subjects)
    return write_snapshots(values, force=force)


def _own_scope(subject) -> Scope:
    scope, pk = subject
    if scope == REP:
        return Scope(frozenset([pk]), frozenset(), company=False)
    if scope == TEAM:
        return Scope(frozenset(), frozenset([pk]), company=False)
    return Scope(frozenset(), frozenset(), company=True)


def _children(subject, tree: TeamTree) -> Q:
    scope, pk = subject
    parent = pk if scope == TEAM else None
    child_teams = [t for t, p in tree.parent.items() if p == parent]
    q = Q(scope=TEAM, subject_id__in=child_teams)
    if scope == TEAM:
        q |= Q(scope=REP, subject_id__in=Rep.objects.filter(team_id=pk).values("pk"))
    return q


def _recompute_subject(subject, periods_by_kind, tree) -> Values:
    """One subject: its own facts plus (for a team or the company) its children's snapshots."""
    own = Aggregator(_own_scope(subject))
    leaf = COMPANY_LEAF if subject[0] == COMPANY else subject
    values: Values = {}
    for kind, periods in periods_by_kind.items():
        table = own.components(kind, periods)
        pairs_by_period = defaultdict(dict)
        for p, comps in table.get(leaf, {}).items():
            add_pairs(pairs_by_period[p], metric_pairs(comps))
        if subject[0] != REP and periods:
            by_start = {p.start: p.index for p in periods}
            children = (
                KpiSnapshot.objects.filter(
                    _children(subject, tree), period_kind=kind, period_start__in=by_start
                )
                .exclude(metric="forecast_accuracy")
                .values("metric", "period_start")
                .annotate(num=Sum("numerator"), den=Sum("denominator"))
                .order_by()
            )
            for row in children:
                add_pairs(
                    pairs_by_period[by_start[row["period_start"]]], {row["metric"]: (row["num"], row["den"])}
                )
        _finish(values, kind, periods, {subject: pairs_by_period}, [subject])
    return values


@transaction.atomic
def recompute_branch(
    *, scope: str, subject_id: int, since: dt.date | None = None, force: bool = False
) -> int:
    """A subject whose own facts changed, then every team above it, then the company."""
    tree = TeamTree.load()
    if scope == REP:
        team_id = Rep.objects.filter(pk=subject_id).values_list("team_id", flat=True).first()
        if team_id is None:
            log.info("Rep %s is gone; nothing to recompute.", subject_id)
            return 0
        chain = [(REP, subject_id)] + [(TEAM, t) for t in tree.ancestors(team_id)]
    elif scope == TEAM:
        if subject_id not in tree.parent:
            log.info("Team %s is gone; nothing to recompute.", subject_id)
            return 0
        chain = [(TEAM, t) for t in tree.ancestors(subject_id)]
    else:
        chain = []
    chain.append((COMPANY, 0))
    if _span_changed():  # a first fact in a new month, or the last of an old one gone
        return recompute_all(full=True)
    return _recompute_chain(chain, tree, since=since, force=force)


def _recompute_chain(chain, tree, *, since=None, force=False) -> int:
    periods = data_periods(since)
    written = 0
    for subject in chain:  # bottom-up: each level reads the one below, just written
        written += write_snapshots(_recompute_subject(subject, periods, tree), force=force)
    return written


def _span_changed() -> bool:
    """Do the months with facts differ from the months with snapshots?"""
    months = data_periods()["month"]
    stored = KpiSnapshot.objects.filter(period_kind="month").aggregate(
        lo=Min("period_start"), hi=Max("period_start")
    )
    if not months:
        return stored["lo"] is not None
    return (stored["lo"], stored["hi"]) != (months[0].start, months[-1].start)


def recompute_company(*, since: dt.date | None = None) -> int:
    return recompute_branch(scope=COMPANY, subject_id=0, since=since)


def recompute_all(*, full: bool = False, progress=None) -> int:
    """Everything, one top-level team at a time, then the company.

    full: also rewrite unchanged rows (fresh computed_at) and drop stale snapshots."""
    roots = TeamTree.load().roots()
    written = 0
    for i, root in enumerate(roots, 1):
        written += recompute_tree(root_team_id=root, force=full)
        if progress:
            progress(i, len(roots) + 1)
    written += _recompute_chain([(COMPANY, 0)], TeamTree.load(), force=full)
    if full:
        delete_stale_snapshots()
    if progress:
        progress(len(roots) + 1, len(roots) + 1)
    return written


def delete_stale_snapshots() -> int:
    """Snapshots of deleted reps or teams, or of periods outside the data, go."""
    tree = TeamTree.load()
    keep = (
        Q(scope=COMPANY)
        | Q(scope=TEAM, subject_id__in=list(tree.parent))
        | Q(scope=REP, subject_id__in=Rep.objects.values("pk"))
    )
    in_range = Q()
    for kind, periods in data_periods().items():
        in_range |= Q(period_kind=kind, period_start__in=[p.start for p in periods])
    deleted, _ = KpiSnapshot.objects.exclude(keep & in_range).delete()
    return deleted


def write_snapshots(values: Values, *, force: bool = False) -> int:
    """Upsert the rows whose figures changed (all of them if forced), in batches."""
    if not values:
        return 0
    existing = {} if force else _existing(values)
    now = timezone.now()
    changed = []
    for (subject, metric, kind, start), (num, den) in values.items():
        num, den = _q(num), _q(den)
        if existing.get((subject, metric, kind, start)) == (num, den):
            continue
        value = catalogue.value_of(num, den)
        changed.append(
            KpiSnapshot(
                scope=subject[0],
                subject_id=subject[1],
                metric=metric,
                period_kind=kind,
                period_start=start,
                numerator=num,
                denominator=den,
                value=_q(value),
                computed_at=now,
            )
        )
    for i in range(0, len(changed), BATCH):
        KpiSnapshot.objects.bulk_create(
            changed[i : i + BATCH],
            update_conflicts=True,
            unique_fields=["scope", "subject_id", "metric", "period_kind", "period_start"],
            update_fields=["numerator", "denominator", "value", "computed_at"],
        )
    return len(changed)


def _existing(values: Values) -> dict:
    by_scope = defaultdict(set)
    kinds, starts = set(), set()
    for (scope, pk), _, kind, start in values:
        by_scope[scope].add(pk)
        kinds.add(kind)
        starts.add(start)
    q = Q()
    for scope, ids in by_scope.items():
        q |= Q(scope=scope, subject_id__in=ids)
    rows = KpiSnapshot.objects.filter(q, period_kind__in=kinds, period_start__in=starts).values_list(
        "scope", "subject_id", "metric", "period_kind", "period_start", "numerator", "denominator"
    )
    return {((s, pk), m, k, start): (num, den) for s, pk, m, k, start, num, den in rows}


SIX = Decimal("0.000001")


def _q(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(SIX)

"""Recompute services: the only code that writes KpiSnapshot rows.

- recompute_all: everything from the facts, one grouped query per metric family (in-process:
  recompute_kpis, imports, the benchmark).
- recompute_tree: a top-level team's whole subtree from the facts (the nightly fan-out unit).
- recompute_branch (rep / team / company): incremental, after a fact changed; the subject is
  recomputed from its own facts for the periods the change reaches, then each team above it and
  the company are rolled up from their children's snapshots: nothing outside the branch is read.
Rows are upserted (kpis.writes) on the snapshot key and only when their figures changed; every
service is idempotent, and services writing the same snapshots take turns (`_take_turns`).
"""

import datetime as dt
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Q, Sum

from teams.models import Rep
from teams.tree import TeamTree

from .aggregates import COMPANY, COMPANY_LEAF, REP, TEAM, ZERO, Aggregator, Scope
from .models import KpiSnapshot
from .rollup import (
    add_pairs,
    data_periods,
    data_range,
    fact_dates,
    first_and_last,
    forecast_components,
    forecast_pair,
    latest_commits,
    metric_pairs,
    roll_up,
    with_forecast,
)
from .writes import (
    ComponentRows,
    SnapshotRows,
    analyze_snapshots,
    rounded,
    subjects_q,
    write_components,
    write_snapshots,
)

log = logging.getLogger(__name__)


def _subject_rows(kind, periods, pairs_by_subject, subjects, forecasts) -> SnapshotRows:
    """Every metric of every subject for every period, zeros where nothing happened."""
    empty = metric_pairs({})
    for subject in subjects:
        by_period = pairs_by_subject.get(subject, {})
        for period in periods:
            pairs = with_forecast(
                by_period.get(period.index) or empty, forecasts.get((subject, kind, period.index))
            )
            for key, pair in pairs.items():
                yield subject, key, kind, period.start, pair


def _recompute_subtrees(roots: list[int] | None, *, since=None, force=False, progress=None) -> int:
    """Every rep and team under `roots` from the facts, in one pass per metric family;
    roots=None: the whole company, the company itself included."""
    tree = TeamTree.load()
    team_ids = set(tree.parent) if roots is None else tree.subtree_ids(roots)
    rep_team = dict(Rep.objects.filter(team_id__in=team_ids).values_list("pk", "team_id"))
    subjects = [(REP, r) for r in rep_team] + [(TEAM, t) for t in team_ids]
    if roots is None:
        subjects.append((COMPANY, 0))
    periods_by_kind = data_periods(since)
    # The whole company reads every fact, unfiltered (a rep always has a team).
    scope = Scope() if roots is None else Scope(frozenset(rep_team), frozenset(team_ids), company=False)
    aggregator = Aggregator(scope, _first_month(periods_by_kind) if since else None)
    forecasts = latest_commits(periods_by_kind, subjects)

    def rows() -> ComponentRows:
        for done, (kind, periods) in enumerate(periods_by_kind.items(), 1):
            sums = roll_up(aggregator.components(kind, periods), tree, rep_team, company=roots is None)
            for subject in subjects:
                by_period = sums.get(subject, {})
                for period in periods:
                    comps = by_period.get(period.index, {})
                    forecast = forecasts.get((subject, kind, period.index))
                    comps.update(forecast_components(comps.get("won_amount", ZERO), forecast))
                    yield subject, kind, period.start, comps
            if progress:
                progress(done, len(periods_by_kind))

    return write_components(rows(), force=force)


@transaction.atomic
def recompute_tree(*, root_team_id: int, since: dt.date | None = None, force: bool = False) -> int:
    """Every rep and team under a top-level team, from the facts (the nightly fan-out unit)."""
    _take_turns(root_team_id)
    return _recompute_subtrees([root_team_id], since=since, force=force)


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


def _recompute_subject(subject, periods_by_kind, tree, forecasts=None) -> list:
    """One subject: its own facts plus (for a team or the company) its children's snapshots;
    `forecasts` if already read (latest_commits)."""
    own = Aggregator(_own_scope(subject), _first_month(periods_by_kind))
    leaf = COMPANY_LEAF if subject[0] == COMPANY else subject
    children = _children_sums(subject, periods_by_kind, tree) if subject[0] != REP else {}
    if forecasts is None:
        forecasts = latest_commits(periods_by_kind, [subject])
    rows = []
    for kind, periods in periods_by_kind.items():
        pairs_by_period = defaultdict(dict)
        for p, comps in own.components(kind, periods).get(leaf, {}).items():
            add_pairs(pairs_by_period[p], metric_pairs(comps))
        for period in periods:
            add_pairs(pairs_by_period[period.index], children.get((kind, period.start), {}))
        rows.extend(_subject_rows(kind, periods, {subject: pairs_by_period}, [subject], forecasts))
    return rows


def _children_sums(subject, periods_by_kind, tree) -> dict:
    """{(kind, start): {metric: pair}} summed over the subject's children's snapshots."""
    kind_q = Q()
    for kind, periods in periods_by_kind.items():
        if periods:
            kind_q |= Q(period_kind=kind, period_start__in=[p.start for p in periods])
    if not kind_q:
        return {}
    rows = (
        KpiSnapshot.objects.filter(_children(subject, tree), kind_q)
        .exclude(metric="forecast_accuracy")
        .values("period_kind", "period_start", "metric")
        .annotate(num=Sum("numerator"), den=Sum("denominator"))
        .order_by()
    )
    sums: dict = defaultdict(dict)
    for row in rows:
        sums[row["period_kind"], row["period_start"]][row["metric"]] = (row["num"], row["den"])
    return sums


def _first_month(periods_by_kind) -> int | None:
    """The first month any wanted period covers: older flows are not needed."""
    firsts = [periods[0].first_month for periods in periods_by_kind.values() if periods]
    return min(firsts) if firsts else None


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
    _take_turns(COMPANY_TURN, *[pk for _, pk in chain[-1:]])  # the chain's top-level team
    chain.append((COMPANY, 0))
    # The span of the facts and of the monthly snapshots, in one query.
    months = KpiSnapshot.objects.filter(period_kind="month")
    *facts, stored = first_and_last([*fact_dates(), (months, "period_start")])
    span = data_range(facts)
    if _span_changed(span, stored):  # a first fact in a new month, or the last of an old one gone
        return recompute_all(full=True)
    periods = data_periods(since, span=span)
    if scope == REP and since is not None and not force:
        written = _recompute_rep_and_shift_above(chain, periods, tree)
        if written is not None:
            return written
    return _recompute_chain(chain, tree, periods=periods, force=force)


def _recompute_chain(chain, tree, *, periods, force=False) -> int:
    # Bottom-up: each level reads the one below, just written.
    return sum(write_snapshots(_recompute_subject(subject, periods, tree), force=force) for subject in chain)


def _recompute_rep_and_shift_above(chain, periods, tree) -> int | None:
    """The hot path — a rep's fact changed: recompute the rep from its facts, and move every
    team above it and the company by exactly as much as the rep moved (sums are linear), without
    reading the rep's siblings. None when a row above is missing: then the caller rolls up.

    Only for a fact change (a date to start from): a rep that changed team, or anything that
    reaches all periods, goes the full way round, where teams are summed from their children."""
    rep, above = chain[0], chain[1:]
    forecasts = latest_commits(periods, chain)
    new_rows = _recompute_subject(rep, periods, tree, forecasts)
    stored = _stored(chain, periods)
    summed = [row for row in new_rows if row[1] != "forecast_accuracy"]
    if any(
        (subject, metric, kind, start) not in stored
        for subject in above
        for _, metric, kind, start, _ in summed
    ):
        return None
    index = {(kind, p.start): p.index for kind, kind_periods in periods.items() for p in kind_periods}
    rows = list(new_rows)
    for subject in above:
        revenue = {}
        for _, metric, kind, start, (num, den) in summed:
            old_num, old_den = stored.get((rep, metric, kind, start), (ZERO, None if den is None else ZERO))
            up_num, up_den = stored[subject, metric, kind, start]
            pair = (up_num + rounded(num) - old_num, None if den is None else up_den + rounded(den) - old_den)
            rows.append((subject, metric, kind, start, pair))
            if metric == "revenue_won":
                revenue[kind, start] = pair[0]
        for (kind, start), amount in revenue.items():
            forecast = forecasts.get((subject, kind, index[kind, start]))
            rows.append((subject, "forecast_accuracy", kind, start, forecast_pair(amount, forecast)))
    return write_snapshots(rows)


def _stored(subjects, periods) -> dict:
    """{(subject, metric, kind, start): (numerator, denominator)} as stored now."""
    which = subjects_q(subjects)
    starts = {p.start for kind_periods in periods.values() for p in kind_periods}
    found = KpiSnapshot.objects.filter(which, period_start__in=starts).values_list(
        "scope", "subject_id", "metric", "period_kind", "period_start", "numerator", "denominator"
    )
    return {((s, pk), m, k, start): (num, den) for s, pk, m, k, start, num, den in found}


def _span_changed(span, stored) -> bool:
    """Do the months with facts differ from the (first, last) months with snapshots?"""
    months = data_periods(span=span)["month"]
    if not months:
        return stored[0] is not None
    return stored != (months[0].start, months[-1].start)


def recompute_company(*, since: dt.date | None = None) -> int:
    return recompute_branch(scope=COMPANY, subject_id=0, since=since)


@transaction.atomic
def recompute_all(*, full: bool = False, progress=None) -> int:
    """Everything in one pass — every rep, team and the company — in one transaction.

    full: also rewrite unchanged rows (fresh computed_at) and drop stale snapshots. (The nightly
    Celery run fans out per top-level team instead, see kpis.tasks.)"""
    _take_turns(COMPANY_TURN, *TeamTree.load().roots())
    written = _recompute_subtrees(None, force=full, progress=progress)
    if full:
        delete_stale_snapshots()
    analyze_snapshots()
    return written


LOCK_SPACE = 0x4B5049  # "KPI": this app's namespace of PostgreSQL advisory locks
COMPANY_TURN = 0  # the company's lock key; a top-level team's is its id
TAKE_IN_ORDER = """
    SELECT pg_advisory_xact_lock(%s, key) FROM unnest(%s::int[]) WITH ORDINALITY AS k (key, n) ORDER BY n
"""


def _take_turns(*keys: int) -> None:
    """Recomputes that write the same snapshots take turns, so an older one can never overwrite
    a newer one's figures: PostgreSQL advisory locks, held until the transaction ends, taken
    before anything is read and always in the same order (so two can never deadlock).
    SQLite needs none: it lets one transaction write at a time."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(TAKE_IN_ORDER, [LOCK_SPACE, sorted(set(keys))])


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

"""Running the four steps: a full recompute from the facts, and an incremental one after a change.

- Full (`recompute_all`, `recompute_tree`): every subject under some top-level teams (or all of
  them and the company) from the facts, one grouped query per family, folded up the tree and
  written as components.
- Incremental (`recompute_subject`), the one strategy for any change: the subject whose own facts
  changed is recomputed — its own facts, plus its children's stored snapshots when it is a team
  or the company — and every subject above it moves by exactly as much as it moved (sums are
  linear), so nothing beside the branch is read. When the stored snapshots do not cover the
  branch (a first fact in a new month, a team without rows yet), there is nothing to move:
  it recomputes everything instead — as it does when FISCAL_YEAR_START_MONTH changed.

Every recompute is idempotent, and the ones that write the same snapshots take turns.
"""

import logging

from django.db import connection, transaction
from django.utils import timezone

from kpis import catalogue
from teams.models import Rep
from teams.subjects import COMPANY, Scope, Subject
from teams.tree import TeamTree

from .attribution import Leaves
from .evaluate import add_pairs, forecast_pair, rounded, summed_pairs
from .fold import Periods, forecasts_up_the_tree, up_the_tree
from .read import LOCAL, ZERO, MonthlyFacts, data_periods, latest_commits
from .store import (
    analyze_snapshots,
    children_pairs,
    delete_stale_snapshots,
    spans,
    stored_pairs,
    write_components,
    write_pairs,
)

log = logging.getLogger(__name__)
REVENUE = catalogue.get("revenue_won").numerator
FORECAST = "forecast_accuracy"


# --- full ---------------------------------------------------------------------------------------


@transaction.atomic
def recompute_all(*, full: bool = False, progress=None) -> int:
    """Every rep, team and the company, in one pass and one transaction (recompute_kpis, bulk
    loads, the benchmark; the nightly Celery run fans out per top-level team instead).

    full: also rewrite unchanged rows (fresh computed_at) and drop stale snapshots (dropped anyway
    when FISCAL_YEAR_START_MONTH changed: the old years are not periods any more)."""
    _take_turns(COMPANY_TURN, *TeamTree.load().roots())
    other_fiscal_year = spans()[2]  # asked before this run writes years of its own
    written = _from_facts(None, force=full, progress=progress)
    if full or other_fiscal_year:  # the years of the old setting are not periods any more
        delete_stale_snapshots()
    analyze_snapshots()
    return written


@transaction.atomic
def recompute_tree(*, root_team_id: int) -> int:
    """Every rep and team under a top-level team, from the facts (the nightly fan-out unit; the
    company is recomputed after it, by recompute_subject)."""
    _take_turns(root_team_id)
    return _from_facts([root_team_id])


def _from_facts(roots: list[int] | None, *, force=False, progress=None) -> int:
    """Every subject under `roots` (None: the whole company, the company itself included)."""
    tree = TeamTree.load()
    team_ids = set(tree.parent) if roots is None else tree.subtree_ids(roots)
    rep_team = dict(Rep.objects.filter(team_id__in=team_ids).values_list("pk", "team_id"))
    subjects = [Subject.rep(r) for r in rep_team] + [Subject.team(t) for t in team_ids]
    if roots is None:
        subjects.append(COMPANY)
    # The whole company reads every fact, unfiltered (a rep always has a team).
    leaves = Leaves() if roots is None else Leaves(frozenset(rep_team), frozenset(team_ids), company=False)
    periods_by_kind = data_periods()
    facts = Periods(MonthlyFacts(leaves))
    forecasts = forecasts_up_the_tree(latest_commits(periods_by_kind, subjects), tree, rep_team)
    today = timezone.localdate(timezone=LOCAL())

    def rows():
        for done, (kind, periods) in enumerate(periods_by_kind.items(), 1):
            sums = up_the_tree(facts.fold(kind, periods), tree, rep_team, company=roots is None)
            for subject in subjects:
                by_period = sums.get(subject, {})
                for period in periods:
                    comps = by_period.get(period.index, {})
                    forecast = forecasts.get((subject, kind, period.index))
                    ended = period.end < today
                    comps["forecast_hit"], comps["forecast_base"] = forecast_pair(
                        REVENUE(comps), forecast, ended=ended
                    )
                    yield subject, kind, period.start, comps
            if progress:
                progress(done, len(periods_by_kind))

    return write_components(rows(), force=force)


# --- incremental --------------------------------------------------------------------------------


@transaction.atomic
def recompute_subject(subject: Subject, *, since=None) -> int:
    """After `subject`'s own facts changed from `since` on (None: in any period): the subject,
    then every team above it and the company."""
    tree = TeamTree.load()
    chain = _chain(subject, tree)
    if chain is None:
        log.info("%s is gone; nothing to recompute.", subject)
        return 0
    _take_turns(COMPANY_TURN, *[s.pk for s in chain if s.scope == Scope.TEAM][-1:])  # its top-level team
    span, stored_span, other_fiscal_year = spans()
    if other_fiscal_year or _span_changed(span, stored_span):
        return recompute_all(full=True)
    periods = data_periods(since, span=span)
    forecasts = _chain_forecasts(chain, periods, tree)
    today = timezone.localdate(timezone=LOCAL())
    ended = {(kind, p.start): p.end < today for kind, kind_periods in periods.items() for p in kind_periods}
    new = _own_and_children(subject, periods, tree, forecasts, today)
    above = chain[1:]
    stored = stored_pairs(chain, periods)
    summed = [(key, pair) for key, pair in new.items() if key[0] != FORECAST]
    if any((s, *key) not in stored for s in above for key, _ in summed):
        return recompute_all(full=True)
    index = {(kind, p.start): p.index for kind, kind_periods in periods.items() for p in kind_periods}
    rows = [(subject, *key, pair) for key, pair in new.items()]
    for s in above:
        revenue = {}
        for (metric, kind, start), (num, den) in summed:
            old_num, old_den = stored.get(
                (subject, metric, kind, start), (ZERO, None if den is None else ZERO)
            )
            up_num, up_den = stored[s, metric, kind, start]
            pair = (up_num + rounded(num) - old_num, None if den is None else up_den + rounded(den) - old_den)
            rows.append((s, metric, kind, start, pair))
            if metric == "revenue_won":
                revenue[kind, start] = pair[0]
        for (kind, start), amount in revenue.items():
            forecast = forecasts.get((s, kind, index[kind, start]))
            pair = forecast_pair(amount, forecast, ended=ended[kind, start])
            rows.append((s, FORECAST, kind, start, pair))
    return write_pairs(rows)


def _chain(subject: Subject, tree: TeamTree) -> list[Subject] | None:
    """The subject, each team above it, and the company; None if the subject is gone."""
    if subject.scope == Scope.REP:
        team_id = Rep.objects.filter(pk=subject.pk).values_list("team_id", flat=True).first()
        if team_id is None:
            return None
        teams = tree.ancestors(team_id)
    elif subject.scope == Scope.TEAM:
        if subject.pk not in tree.parent:
            return None
        teams = tree.ancestors(subject.pk)[1:]
    else:
        return [COMPANY]
    return [subject, *[Subject.team(t) for t in teams], COMPANY]


def _chain_forecasts(chain: list[Subject], periods_by_kind, tree: TeamTree) -> dict:
    """The forecasts of the chain's subjects: their own commits, read for them alone; only when a
    team or the company above lacks one are everyone's commits read, to add up its children's."""
    own = latest_commits(periods_by_kind, chain)
    complete = all(
        (subject, kind, period.index) in own
        for subject in chain
        if subject.scope != Scope.REP
        for kind, periods in periods_by_kind.items()
        for period in periods
    )
    if complete:
        return own
    rep_team = dict(Rep.objects.values_list("pk", "team_id"))
    return forecasts_up_the_tree(latest_commits(periods_by_kind, None), tree, rep_team)


def _own_and_children(subject: Subject, periods_by_kind, tree, forecasts, today) -> dict:
    """{(metric, kind, start): pair} for every period: the subject's own facts (a team's or the
    company's own leaf: team-level spend, facts of no one), plus its children's snapshots."""
    firsts = [periods[0].first_month for periods in periods_by_kind.values() if periods]
    own = Periods(MonthlyFacts(Leaves.of(subject), min(firsts) if firsts else None))
    children = children_pairs(subject, periods_by_kind, tree) if subject.scope != Scope.REP else {}
    found = {}
    for kind, periods in periods_by_kind.items():
        folded = own.fold(kind, periods).get(subject, {})
        for period in periods:
            pairs = summed_pairs(folded.get(period.index, {}))
            add_pairs(pairs, children.get((kind, period.start), {}))
            forecast = forecasts.get((subject, kind, period.index))
            pairs[FORECAST] = forecast_pair(pairs["revenue_won"][0], forecast, ended=period.end < today)
            for metric, pair in pairs.items():
                found[metric, kind, period.start] = pair
    return found


def _span_changed(span, stored) -> bool:
    """Do the months with facts differ from the (first, last) months with snapshots?"""
    months = data_periods(span=span)["month"]
    if not months:
        return stored[0] is not None
    return stored != (months[0].start, months[-1].start)


# --- taking turns -------------------------------------------------------------------------------

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

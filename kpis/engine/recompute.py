"""Running the four steps: a full recompute from the facts, and an incremental one after a change.

- Full (`recompute_all`, `recompute_tree`): every subject under some top-level teams (or all of
  them and the company) from the facts, one grouped query per family, folded up the tree as it
  stood and written as components. A subtree reads its former members' facts too.
- Incremental (`recompute_subject`), after a change to one subject's own facts from a date on:
  - a rep is recomputed from its own facts, and every subject its stint then credited moves by
    exactly as much as the rep moved (sums are linear), so nothing beside the branch is read —
    for each period that lies within one stint of the rep (and its trailing year too); in a
    period a move splits, each stint's subjects move by the change to that stint's part (the
    parts every recompute from the facts stores: store.write_parts);
  - what cannot be split that way — a team's own facts (team-level spend), a move itself — is
    recomputed from the facts, for every subject, for the periods from that date on.
    (Recomputing only some trees from the facts would leave the stored snapshots inconsistent
    with the deltas other pending recomputes apply to them.)
  - the company is its own facts (and every team's own) plus the sum of its reps' snapshots.
  When the stored snapshots do not cover the branch (a first fact in a new month, a team without
  rows yet), there is nothing to move: it recomputes everything instead — as it does when
  FISCAL_YEAR_START_MONTH changed.

Every recompute is idempotent, and the ones that write the same snapshots take turns.
"""

import datetime as dt
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from kpis import catalogue
from kpis.periods import month_start
from teams.history import Org
from teams.models import Rep
from teams.subjects import COMPANY, Scope, Subject
from teams.tree import TeamTree

from .attribution import Credit, Leaves
from .evaluate import OWN_ONLY_KEYS, add_pairs, forecast_components, forecast_pairs, rounded, summed_pairs
from .fold import Periods, forecasts_up_the_tree, up_the_tree
from .read import LOCAL, TRAILING_MONTHS, ZERO, MonthlyFacts, data_periods, latest_commits
from .store import (
    analyze_snapshots,
    delete_stale_snapshots,
    reps_pairs,
    spans,
    stored_pairs,
    stored_parts,
    write_components,
    write_pairs,
    write_parts,
)

log = logging.getLogger(__name__)
REVENUE = catalogue.get("revenue_won").numerator


# --- full ---------------------------------------------------------------------------------------


@transaction.atomic
def recompute_all(*, full: bool = False, since: dt.date | None = None, progress=None) -> int:
    """Every rep, team and the company, in one pass and one transaction (recompute_kpis, bulk
    loads, the benchmark; the nightly Celery run fans out per top-level team instead).

    full: also rewrite unchanged rows (fresh computed_at) and drop stale snapshots (dropped anyway
    when FISCAL_YEAR_START_MONTH changed: the old years are not periods any more).
    since: only the periods ending on or after that day (after a move dated then)."""
    _take_turns(COMPANY_TURN, *TeamTree.load().roots())
    other_fiscal_year = spans()[2]  # asked before this run writes years of its own
    if other_fiscal_year:
        since = None
    written = _from_facts(None, since=since, force=full, progress=progress)
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


def _from_facts(roots: list[int] | None, *, since=None, force=False, progress=None) -> int:
    """Every subject under `roots` now (None: the whole company, the company itself included),
    for the periods ending on or after `since` (None: all)."""
    tree = TeamTree.load()
    credit = Credit()
    team_ids = set(tree.parent) if roots is None else tree.subtree_ids(roots)
    reps = Rep.objects.filter(team_id__in=team_ids).values_list("pk", flat=True)
    subjects = [Subject.rep(r) for r in reps] + [Subject.team(t) for t in team_ids]
    if roots is None:
        subjects.append(COMPANY)
    # The whole company reads every fact, unfiltered; a subtree, whoever it ever credited.
    leaves = Leaves() if roots is None else credit.leaves_under(team_ids)
    periods_by_kind = data_periods(since)
    firsts = [periods[0].first_month for periods in periods_by_kind.values() if periods]
    from_month = None if since is None or not firsts else min(firsts)
    facts = Periods(MonthlyFacts(leaves, from_month, credit))
    # Everyone's commits: a team's roll-up adds the children it had then, maybe in another tree now.
    forecasts = forecasts_up_the_tree(latest_commits(periods_by_kind, None), credit.org)
    today = timezone.localdate(timezone=LOCAL())

    reps_written = {s.pk for s in subjects if s.scope == Scope.REP}
    parts = []

    def rows():
        for done, (kind, periods) in enumerate(periods_by_kind.items(), 1):
            folded = facts.fold(kind, periods)
            parts.extend(_parts(folded, kind, periods, credit, reps_written))
            sums = up_the_tree(folded, credit)
            for subject in subjects:
                by_period = sums.get(subject, {})
                for period in periods:
                    comps = dict(by_period.get(period.index, {}))
                    forecast = forecasts.get((subject, kind, period.index))
                    ended = period.end < today
                    comps.update(forecast_components(REVENUE(comps), forecast, ended=ended))
                    yield subject, kind, period.start, comps
            if progress:
                progress(done, len(periods_by_kind))

    written = write_components(rows(), force=force)
    in_scope = None if since is None else periods_by_kind
    write_parts(parts, reps=None if roots is None else reps_written, periods_by_kind=in_scope)
    return written


def _window(period) -> tuple[dt.date, dt.date]:
    """The days a period's figures come from: the period, and the year ending with it (cltv)."""
    return min(period.start, month_start(period.last_month - (TRAILING_MONTHS - 1))), period.end


def _covering(stints, period):
    """The one stint of a leaf that covers the period's days, or None: a move splits them."""
    first, last = _window(period)
    return next((stint for stint in stints if stint.covers(first, last)), None)


def _parts(folded, kind, periods, credit: Credit, reps) -> list:
    """Part rows (kpis.engine.store.write_parts) of the reps in `reps` with more than one stint:
    what each stint was credited in each period a move splits."""
    found = []
    for (leaf, n), by_period in folded.items():
        if leaf.scope != Scope.REP or leaf.pk not in reps or credit.single(leaf):
            continue
        stints = credit.stints(leaf)
        for period in periods:
            if period.index in by_period and _covering(stints, period) is None:
                pairs = summed_pairs(by_period[period.index])
                found += [
                    (leaf.pk, stints[n].since, m, kind, period.start, pair) for m, pair in pairs.items()
                ]
    return found


# --- incremental --------------------------------------------------------------------------------


@transaction.atomic
def recompute_subject(subject: Subject, *, since=None) -> int:
    """After `subject`'s own facts changed from `since` on (None: in any period): the subject and
    everyone its facts credit."""
    credit = Credit()
    if subject.scope == Scope.REP:
        if subject.pk not in credit.org.memberships:
            log.info("%s is gone; nothing to recompute.", subject)
            return 0
        tree = TeamTree.load()
        teams = {s.pk for stint in credit.stints(subject) for s in stint.credits if s.scope == Scope.TEAM}
        _take_turns(COMPANY_TURN, *{tree.ancestors(team)[-1] for team in teams if team in tree.parent})
    else:  # the company alone, or (a team) everything
        _take_turns(COMPANY_TURN, *([] if subject.scope == Scope.COMPANY else TeamTree.load().roots()))
    span, stored_span, other_fiscal_year = spans()
    if other_fiscal_year or _span_changed(span, stored_span):
        return recompute_all(full=True)
    if subject.scope == Scope.COMPANY:
        return _company(since, credit)
    if subject.scope == Scope.TEAM:
        return recompute_all(since=since)
    return _rep(subject, since, span, credit)


def _rep(subject: Subject, since, span, credit: Credit) -> int:
    """The rep from its own facts, and each subject above it moved by as much, period by period:
    by the change to the rep's figure where one stint covers the period; where a move splits it,
    each stint's subjects by the change to that stint's part (stored by the last recompute)."""
    periods = data_periods(since, span=span)
    today = timezone.localdate(timezone=LOCAL())
    stints = credit.stints(subject)
    covering = {
        (kind, p.start): _covering(stints, p) for kind, kind_periods in periods.items() for p in kind_periods
    }
    split = {
        kind: [p for p in kind_periods if covering[kind, p.start] is None]
        for kind, kind_periods in periods.items()
    }
    above = sorted({s for stint in stints for s in stint.credits[1:]} | {COMPANY})
    forecasts = _forecasts([subject, *above], periods, credit.org)
    new, new_parts = _own(subject, periods, credit, forecasts, today)
    stored = stored_pairs([subject, *above], periods)
    old_parts = stored_parts(subject.pk, split)
    summed = [(key, pair) for key, pair in new.items() if key[0] not in OWN_ONLY_KEYS]
    by_since = {stint.since: stint for stint in stints}
    sinces_of = defaultdict(set)  # (metric, kind, start) → the stints with a part, now or stored
    for since_, *key in (*new_parts, *old_parts):
        sinces_of[tuple(key)].add(since_)
    # Per (metric, kind, start): (the subjects above a stint, its figure now, its figure stored).
    changes = []
    for (metric, kind, start), (num, den, *_) in summed:
        zero = (ZERO, None if den is None else ZERO)
        stint = covering[kind, start]
        if stint is not None:
            old = stored.get((subject, metric, kind, start), zero)
            changes.append((metric, kind, start, stint.credits[1:], (num, den), old))
            continue
        sinces = sinces_of[metric, kind, start]
        olds = [old_parts.get((since, metric, kind, start), zero) for since in sinces]
        if _total(olds, zero) != stored.get((subject, metric, kind, start), zero):
            return recompute_all(since=min(p.start for ps in split.values() for p in ps))  # no parts yet
        for since_ in sinces:
            new_part = new_parts.get((since_, metric, kind, start), zero)
            changes.append(
                (
                    metric,
                    kind,
                    start,
                    by_since[since_].credits[1:],
                    new_part[:2],
                    old_parts.get((since_, metric, kind, start), zero),
                )
            )
    if any(
        (s, metric, kind, start) not in stored
        for metric, kind, start, subjects, _, _ in changes
        for s in subjects
    ):
        return recompute_all(full=True)
    index = {(kind, p.start): p.index for kind, kind_periods in periods.items() for p in kind_periods}
    ended = {(kind, p.start): p.end < today for kind, kind_periods in periods.items() for p in kind_periods}
    rows = [(subject, *key, pair) for key, pair in new.items()]
    moved = defaultdict(dict)  # (subject above, kind, start) → {metric: pair} after the move
    for metric, kind, start, subjects, (num, den), (old_num, old_den) in changes:
        for s in subjects:
            up_num, up_den = moved[s, kind, start].get(metric) or stored[s, metric, kind, start]
            pair = (up_num + rounded(num) - old_num, None if den is None else up_den + rounded(den) - old_den)
            moved[s, kind, start][metric] = pair
    for (s, kind, start), pairs in moved.items():
        catalogue.derive(pairs)  # sales velocity: from the figures just moved
        forecast = forecasts.get((s, kind, index[kind, start]))
        pairs.update(forecast_pairs(pairs["revenue_won"][0], forecast, ended=ended[kind, start]))
        rows += [(s, metric, kind, start, pair) for metric, pair in pairs.items()]
    split_parts = [(subject.pk, *key, pair) for key, pair in new_parts.items()]
    return write_pairs(rows) + write_parts(split_parts, reps=[subject.pk], periods_by_kind=split)


def _total(pairs, zero):
    num, den = zero
    for n, d in pairs:
        num, den = num + n, None if den is None else den + d
    return num, den


def _forecasts(subjects: list[Subject], periods_by_kind, org: Org) -> dict:
    """The forecasts of these subjects: their own commits, read for them alone; only when a team
    or the company lacks one are everyone's commits read, to add up its children's."""
    own = latest_commits(periods_by_kind, subjects)
    complete = all(
        (subject, kind, period.index) in own
        for subject in subjects
        if subject.scope != Scope.REP
        for kind, periods in periods_by_kind.items()
        for period in periods
    )
    if complete:
        return own
    return forecasts_up_the_tree(latest_commits(periods_by_kind, None), org)


def _own(subject: Subject, periods_by_kind, credit: Credit, forecasts, today, children=None):
    """({(metric, kind, start): pair} for every period, {(stint since, metric, kind, start): pair}
    for the periods a move splits): the subject's own facts (the company's: every fact of no
    rep), plus `children`'s summed snapshots if given; and, for a rep, each stint's part."""
    firsts = [periods[0].first_month for periods in periods_by_kind.values() if periods]
    leaves = Leaves(frozenset(), None, company=True) if subject == COMPANY else Leaves.of(subject)
    own = Periods(MonthlyFacts(leaves, min(firsts) if firsts else None, credit))
    found, parts = {}, {}
    for kind, periods in periods_by_kind.items():
        folded_by_stint = own.fold(kind, periods)
        for _, since, metric, kind_, start, pair in _parts(
            folded_by_stint, kind, periods, credit, {subject.pk}
        ):
            parts[since, metric, kind_, start] = pair
        folded = up_the_tree(folded_by_stint, credit).get(subject, {})
        for period in periods:
            pairs = summed_pairs(folded.get(period.index, {}))
            add_pairs(pairs, (children or {}).get((kind, period.start), {}))
            forecast = forecasts.get((subject, kind, period.index))
            pairs.update(forecast_pairs(pairs["revenue_won"][0], forecast, ended=period.end < today))
            for metric, pair in pairs.items():
                found[metric, kind, period.start] = pair
    return found, parts


def _company(since, credit: Credit) -> int:
    """The company: every fact of no rep (its own, and each team's own), plus its reps' figures."""
    periods = data_periods(since)
    today = timezone.localdate(timezone=LOCAL())
    forecasts = _forecasts([COMPANY], periods, credit.org)
    new, _ = _own(COMPANY, periods, credit, forecasts, today, children=reps_pairs(periods))
    return write_pairs([(COMPANY, *key, pair) for key, pair in new.items()])


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

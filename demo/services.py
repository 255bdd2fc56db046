"""seed_demo's services: fill an empty database with reproducible demo data, or clear it first."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from kpis.models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
    OpportunityState,
    Stage,
)
from kpis.signals import bulk_changes
from targets.models import Notification, Target
from teams.models import Membership, Placement, Rep, Team, User

from . import plans
from .bulk_load import first_states_not_recorded, indexes_and_foreign_keys_rebuilt_after
from .facts import COLUMNS, RepFactsBuilder, activity_weights, deal_weights, won_while
from .history import DealHistory
from .moves import Move, moves_plan, moves_record
from .org import DEMO_USERNAMES, DemoLogin, org_create, stages_get_or_create
from .shape import Window, allocate, rep_profiles, rng_for
from .writer import BatchWriter, KeyPool, Progress, copy_supported, label

# Parents before children: the order rows are written in.
WRITE_ORDER = (
    Customer,
    Lead,
    Opportunity,
    OpportunityState,
    Activity,
    NpsResponse,
    AcquisitionSpend,
    ForecastSubmission,
    Target,
)
# Children before parents: the order rows are deleted in.
DELETE_ORDER = (
    KpiSnapshot,
    Notification,
    Target.history.model,
    Target,
    ForecastSubmission,
    NpsResponse,
    Activity,
    OpportunityState,
    Opportunity,
    Lead,
    AcquisitionSpend,
    Customer,
    Membership,
    Placement,
)


@dataclass(frozen=True)
class DemoSize:
    reps: int = 40
    opportunities: int = 6_000
    activities: int = 30_000
    months: int = 24


@dataclass(frozen=True)
class DemoResult:
    logins: list[DemoLogin]
    rows: dict[str, int]
    moves: list[Move]


class DemoDatabaseNotEmpty(Exception):
    pass


def _quiet(label: str, done: int, total: int | None) -> None:
    pass


def demo_seed(
    *, size: DemoSize, seed: int, today: dt.date, flush: bool = False, progress: Progress = _quiet
) -> DemoResult:
    """Create teams, reps, demo logins and every kind of fact for the `size.months` months up to
    the one containing `today`, and a few dated moves of reps and a team in those months. The
    same seed, size and `today` always give the same data.

    One transaction; COPY and bulk_create send no signals and the rest is paused, so nothing
    enqueues a recompute per row: the caller recomputes once, when this is done. Every deal comes
    with its dated history (demo.history).
    """
    with transaction.atomic(), bulk_changes(recompute=False):
        if flush:
            _flush()
        else:
            _check_empty()
        with first_states_not_recorded():
            if not copy_supported():
                return _seed(size=size, seed=seed, today=today, progress=progress, copy=False)
            with indexes_and_foreign_keys_rebuilt_after(COLUMNS.keys(), progress=progress):
                return _seed(size=size, seed=seed, today=today, progress=progress, copy=True)


def _seed(*, size: DemoSize, seed: int, today: dt.date, progress: Progress, copy: bool) -> DemoResult:
    stages = stages_get_or_create()
    org = org_create(seed=seed, reps=size.reps)
    progress("teams", len(org.regions) + len(org.teams), len(org.regions) + len(org.teams))
    progress("reps", len(org.reps), len(org.reps))

    window = Window(today=today, months=size.months, fiscal_start=settings.FISCAL_YEAR_START_MONTH)
    tz = timezone.get_default_timezone()
    by_order = sorted(stages.values(), key=lambda s: (s.order, s.name))
    open_stages = [s.pk for s in by_order if s.outcome == Stage.Outcome.OPEN]
    profiles = rep_profiles(rng_for(seed, "profiles"), size.reps, size.months)
    moves = moves_plan(
        rng=rng_for(seed, "moves"),
        regions=org.regions,
        teams=org.teams,
        movable=[rep for r, (rep, p) in enumerate(zip(org.reps, profiles, strict=True)) if r and not p.hired],
        window=window,
    )
    noise = rng_for(seed, "volume")
    deal_counts = _split(size.opportunities, [deal_weights(window, p, noise) for p in profiles])
    activity_counts = _split(size.activities, [activity_weights(window, p, noise) for p in profiles])

    writer = BatchWriter(
        WRITE_ORDER,
        columns=COLUMNS,
        copy=copy,
        totals={Opportunity: size.opportunities, Activity: size.activities},
        progress=progress,
    )
    keys = KeyPool()
    # One rep at a time, so that memory holds one rep's rows and a batch, whatever the size.
    stats_by_team, number = defaultdict(list), 1
    for r, (rep, profile) in enumerate(zip(org.reps, profiles, strict=True)):
        rng = rng_for(seed, "rep", r)
        facts = RepFactsBuilder(
            rng=rng,
            window=window,
            tz=tz,
            rep=rep,
            profile=profile,
            countries=org.countries[rep.team.name],
            stages=stages,
            new_id=keys.take,
            history=DealHistory(
                rng=rng_for(seed, "history", r),
                open_stages=open_stages,
                rep_id=rep.pk,
                user_id=rep.user_id,
                today=today,
            ),
        ).build(deal_counts=deal_counts[r], activity_counts=activity_counts[r], first_number=number)
        number += len(facts.opportunities)
        writer.add(Customer, facts.customers)
        writer.add(Lead, facts.leads)
        writer.add(Opportunity, facts.opportunities)
        writer.add(OpportunityState, facts.states)
        writer.add(Activity, facts.activities)
        writer.add(NpsResponse, facts.nps_responses)
        forecasts, commits = plans.rep_forecasts(
            rng=rng, window=window, tz=tz, rep=rep, profile=profile, won=facts.won
        )
        writer.add(ForecastSubmission, forecasts)
        stints = moves.stints(rep)
        won = [facts.won] if len(stints) == 1 else [won_while(window, facts, stages, s.holds) for s in stints]
        stats_by_team[rep.team_id].append(
            plans.RepStats(
                rep,
                profile,
                facts.won,
                facts.new_customers,
                facts.calls,
                commits,
                list(zip(stints, won, strict=True)),
            )
        )

    rng = rng_for(seed, "plans")
    parts = plans.team_parts(window=window, teams=org.teams, stats_by_team=stats_by_team)
    subjects = plans.subjects(
        window=window,
        regions=org.regions,
        teams=org.teams,
        stats_by_team=stats_by_team,
        parts=parts,
        region_of=moves.region_of,
        admin=org.admin,
    )
    writer.add(ForecastSubmission, plans.rollup_forecasts(rng=rng, window=window, tz=tz, subjects=subjects))
    writer.add(AcquisitionSpend, plans.spend(rng=rng, window=window, teams=org.teams, parts=parts))
    for rows in plans.targets(rng=rng, window=window, tz=tz, subjects=subjects):
        writer.add(Target, rows)
    writer.flush()
    rows = {label(model): writer.done[model] for model in WRITE_ORDER}
    for name, done in rows.items():
        progress(name, done, done)
    # Planned before the facts (which don't depend on them), recorded after: a move only
    # changes whom the facts are credited to, which the caller's recompute works out.
    moves_record(moves)
    return DemoResult(logins=org.logins, rows=rows, moves=list(moves))


def _check_empty() -> None:
    if Rep.objects.exists() or Team.objects.exists():
        raise DemoDatabaseNotEmpty(
            "The database already has teams or reps. Run seed_demo --flush to replace them, "
            "and every fact, with demo data."
        )
    if taken := sorted(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)):
        raise DemoDatabaseNotEmpty(
            f"The demo login(s) {', '.join(taken)} already exist. Run seed_demo --flush to replace them."
        )


def _split(total: int, weights_per_rep: list[list[float]]) -> list[list[int]]:
    """`total` split across every rep and month in proportion to the weights, exactly."""
    width = len(weights_per_rep[0])
    counts = allocate(total, [w for weights in weights_per_rep for w in weights])
    return [counts[r * width : (r + 1) * width] for r in range(len(weights_per_rep))]


def demo_flush() -> None:
    """Delete every fact, target, notification, snapshot, team and rep, the users behind them, and
    the demo logins.

    Stages stay: they are configuration. Nothing is left to recompute, so nothing is enqueued.
    """
    with transaction.atomic(), bulk_changes(recompute=False):
        _flush()


def _flush() -> None:
    user_ids = {
        *Rep.objects.values_list("user_id", flat=True),
        *Team.objects.exclude(manager=None).values_list("manager_id", flat=True),
        *User.objects.filter(username__in=DEMO_USERNAMES).values_list("pk", flat=True),
    }
    # Not the ORM: it would load every row and send a signal per row only to delete it.
    tables = [connection.ops.quote_name(model._meta.db_table) for model in DELETE_ORDER]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # At once and without scanning a row. No CASCADE: a table that points at one of these
            # and is not in the list makes this fail rather than be emptied too. TRUNCATE refuses
            # a table with foreign key checks still pending in this transaction: run them first.
            connection.check_constraints()
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    Rep.objects.all().delete()
    Team.objects.update(parent=None)  # the tree protects a team that has children
    Team.objects.all().delete()
    User.objects.filter(pk__in=user_ids).delete()

"""bench_kpis: the KPI recompute timed against PostgreSQL's own speed and against a naive loop.

Every step runs on the current database's data (seed it with seed_demo first):
1. floor — the raw GROUP BY (rep × month) of opportunities and of activities, no Django, no writes;
2. full — recompute_all(full=True) from an empty snapshot table: every metric, subject, period
   (and this process's peak RSS while it runs); then again over the stored table, unforced —
   the nightly run, which writes only the rows whose figures changed;
3. naive — a per-rep, per-month ORM loop with a save() per snapshot, on a sample of reps, scaled;
4. incremental — one open deal closes as won today, its recompute timed end to end, N times;
5. a back-dated move — a rep moves to another team from the first day of last month, timed from
   the save to every snapshot it changes (the periods from that day, from the facts), N times;
6. optionally, the nightly fan-out on 1, 2… real worker processes (needs a broker).
"""

import datetime as dt
import random
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from kpis import engine
from kpis.engine.evaluate import rounded
from kpis.engine.read import data_periods
from kpis.models import Activity, KpiSnapshot, Opportunity, Stage
from kpis.signals import ANY_TEAM
from salesperf.celery_app import app as celery_app
from teams.models import Membership, Rep, Team
from teams.subjects import Scope

from .fanout import empty_snapshots, time_fanout
from .naive import naive_save, rep_month_pairs

FLOOR_SQL = [
    """SELECT rep_id, date_trunc('month', closed_on) AS month, count(*), sum(amount)
       FROM kpis_opportunity GROUP BY 1, 2""",
    """SELECT rep_id, date_trunc('month', occurred_at AT TIME ZONE %(tz)s) AS month, count(*)
       FROM kpis_activity GROUP BY 1, 2""",
]


@dataclass
class Report:
    opportunities: int = 0
    activities: int = 0
    reps: int = 0
    snapshots: int = 0
    floor_s: float = 0.0
    full_s: float = 0.0
    again_s: float = 0.0
    again_written: int = 0
    naive_s: float = 0.0
    naive_sample_reps: int = 0
    naive_sample_s: float = 0.0
    naive_mismatches: int = 0
    incremental_p50_ms: float = 0.0
    incremental_p95_ms: float = 0.0
    incremental_tries: int = 0
    move_s: list[float] = field(default_factory=list)
    move_since: str = ""
    peak_rss_mb: float = 0.0
    fanout_s: dict[int, float] = field(default_factory=dict)
    full_over_floor: float = 0.0
    naive_over_full: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


class PeakRss:
    """Samples this process's resident memory in a thread; `peak_mb` once stopped."""

    def __init__(self, interval: float = 0.01):
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def resident() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.resident())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.resident())

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def _connect_raw():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(**params)


def time_floor(repeat: int = 3) -> float:
    """Best of `repeat` runs of both raw GROUP BYs, fetched in full by plain psycopg."""
    tz = str(timezone.get_default_timezone())
    best = float("inf")
    with _connect_raw() as raw:
        for _ in range(repeat):
            started = time.perf_counter()
            for sql in FLOOR_SQL:
                raw.execute(sql, {"tz": tz}).fetchall()
            best = min(best, time.perf_counter() - started)
    return best


def time_full() -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, rows) for a full recompute into an empty snapshot table."""
    empty_snapshots()
    with PeakRss() as rss:
        started = time.perf_counter()
        engine.recompute_all(full=True)
        seconds = time.perf_counter() - started
    return seconds, rss.peak_mb, KpiSnapshot.objects.count()


def time_again() -> tuple[float, int]:
    """(seconds, rows written) for a full recompute over the stored table, unforced."""
    started = time.perf_counter()
    written = engine.recompute_all()
    return time.perf_counter() - started, written


def time_naive(sample: int, rng: random.Random) -> tuple[float, int, float, int]:
    """(scaled seconds, sample size, sample seconds, mismatches with the engine's snapshots).

    Runs in a transaction that is rolled back: the naive rows never land."""
    reps = list(Rep.objects.values_list("pk", flat=True))
    chosen = rng.sample(reps, min(sample, len(reps)))
    months = data_periods()["month"]
    engine = {
        (s.subject_id, s.metric, s.period_start): (s.numerator, s.denominator)
        for s in KpiSnapshot.objects.filter(scope=Scope.REP, subject_id__in=chosen, period_kind="month")
    }
    mismatches = 0
    started = time.perf_counter()
    with transaction.atomic():
        for rep_id in chosen:
            for month in months:
                pairs = rep_month_pairs(rep_id, month)
                naive_save(rep_id, month, pairs)
                for metric, pair in pairs.items():
                    mismatches += not _same(engine.get((rep_id, metric, month.start)), pair)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds * len(reps) / max(1, len(chosen)), len(chosen), seconds, mismatches


def _same(stored, computed) -> bool:
    if stored is None:
        return False
    (a, b), (c, d) = stored, computed
    return a == rounded(c) and b == rounded(d)


def time_incremental(tries: int, rng: random.Random) -> list[float]:
    """Milliseconds from saving a won deal to its rep, teams and company being recomputed."""
    won = Stage.objects.filter(outcome=Stage.Outcome.WON).first()
    today = timezone.localdate()
    candidates = list(
        Opportunity.objects.filter(stage__outcome=Stage.Outcome.OPEN, created_on__lte=today)
        .order_by("pk")
        .values_list("pk", flat=True)[:100_000]
    )
    timings = []
    for pk in rng.sample(candidates, min(tries, len(candidates))):
        deal = Opportunity.objects.get(pk=pk)
        deal.stage, deal.closed_on = won, today
        started = time.perf_counter()
        with transaction.atomic():  # the signal's on-commit hook runs the recompute (eagerly)
            deal.save()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def time_moves(tries: int, rng: random.Random) -> tuple[dt.date, list[float]]:
    """(the moves' date, seconds for each): a rep moves to another team from the first day of last
    month, recorded late, and every snapshot from that day is recomputed from the facts — what the
    move's on-commit task does (kpis.signals: any team's change, one task from its date). Each try
    is rolled back, so the database is left as it was."""
    effective = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    movable = list(
        Membership.objects.filter(until=None)
        .exclude(since__gt=effective)
        .order_by("rep_id")
        .values_list("rep_id", flat=True)
    )
    teams = list(Team.objects.filter(children=None).values_list("pk", flat=True))
    timings = []
    for rep_id in rng.sample(movable, min(tries, len(movable))):
        rep = Rep.objects.get(pk=rep_id)
        rep.team_id = rng.choice([t for t in teams if t != rep.team_id])
        with transaction.atomic():
            started = time.perf_counter()
            rep.save(effective=effective)
            engine.recompute_subject(ANY_TEAM, since=effective)
            timings.append(time.perf_counter() - started)
            transaction.set_rollback(True)
    return effective, timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(
    *, naive_sample: int, incremental_tries: int, move_tries: int = 3, seed: int, workers=(), log=print
) -> Report:
    if connection.vendor != "postgresql":
        raise RuntimeError("bench_kpis measures PostgreSQL: set DATABASE_URL=postgres://…")
    rng = random.Random(seed)
    # The incremental step times the recompute itself, in this process, not a queue's latency.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    report = Report(
        opportunities=Opportunity.objects.count(),
        activities=Activity.objects.count(),
        reps=Rep.objects.count(),
    )
    log(f"data: {report.reps:,} reps, {report.opportunities:,} deals, {report.activities:,} activities")
    report.floor_s = time_floor()
    log(f"1. floor (raw GROUP BY rep × month)   {report.floor_s:8.2f} s")
    report.full_s, report.peak_rss_mb, report.snapshots = time_full()
    log(f"2. full recompute                     {report.full_s:8.2f} s  ({report.snapshots:,} snapshots)")
    report.again_s, report.again_written = time_again()
    log(f"   again, unforced (nightly)          {report.again_s:8.2f} s  ({report.again_written:,} written)")
    report.naive_s, report.naive_sample_reps, report.naive_sample_s, report.naive_mismatches = time_naive(
        naive_sample, rng
    )
    log(f"3. naive loop ({report.naive_sample_reps} reps, scaled)      {report.naive_s:8.2f} s")
    timings = time_incremental(incremental_tries, rng)
    celery_app.conf.task_always_eager = eager
    report.incremental_tries = len(timings)
    if timings:
        report.incremental_p50_ms = statistics.median(timings)
        report.incremental_p95_ms = percentile(timings, 0.95)
    p50, p95 = report.incremental_p50_ms, report.incremental_p95_ms
    log(f"4. incremental p50 / p95              {p50:.1f} / {p95:.1f} ms")
    since, report.move_s = time_moves(move_tries, rng)
    report.move_since = since.isoformat()
    moves = " / ".join(f"{s:.2f}" for s in report.move_s)
    log(f"5. back-dated move (from {since})    {moves} s")
    for count in workers:  # last: it needs a broker and starts worker processes
        report.fanout_s[count] = time_fanout(count)
        log(f"6. nightly fan-out on {count} worker(s)   {report.fanout_s[count]:8.2f} s")
    report.full_over_floor = report.full_s / report.floor_s if report.floor_s else 0.0
    report.naive_over_full = report.naive_s / report.full_s if report.full_s else 0.0
    return report

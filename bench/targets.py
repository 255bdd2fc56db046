"""bench_targets: targets written in bulk — the reps × months grid of a large team, through the
service the grid view calls and through the view itself, a 10,000-row CSV import, and single
targets one at a time (issue 20, target 4).

It runs on the current database but keeps nothing: one transaction, rolled back at the end, holds
a team of its own (a new manager, `size` new reps: the seed's teams are smaller), and every
measurement runs in a savepoint of it, rolled back too, so each starts from the same rows. So the
figures leave out the final COMMIT (one WAL flush, a few milliseconds).
"""

import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from kpis.fields import PeriodKind
from kpis.periods import Period
from targets.csv_io import targets_import_csv
from targets.services import TargetChange, target_save, target_save_batch
from teams.models import Rep, Team
from teams.subjects import Scope
from teams.tree import TeamTree

CSV_METRICS = ["revenue_won", "deals_won", "calls_made"]


@dataclass(frozen=True)
class Figure:
    name: str
    seconds: list[float]  # one per try
    queries: int  # of the last try
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "best_s": round(self.best, 4),
            "median_s": round(self.median, 4),
            "tries": len(self.seconds),
            "queries": self.queries,
            "note": self.note,
        }


class _Rollback(Exception):
    pass


class _Counter:
    """Counts the statements sent on the connection (execute_wrapper: no debug cursor)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _timed(run: Callable[[], object], prepare: Callable[[], object] | None = None) -> tuple[float, int]:
    """Seconds and statements of run(), inside a savepoint rolled back afterwards; prepare()
    (untimed) first, in the same savepoint."""
    counter = _Counter()
    try:
        with transaction.atomic():
            if prepare:
                prepare()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                run()
                seconds = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return seconds, counter.count


def _figure(name, tries, run, prepare=None, note="") -> Figure:
    results = [_timed(run, prepare) for _ in range(tries)]
    return Figure(name, [s for s, _ in results], results[-1][1], note)


@dataclass(frozen=True)
class Bench:
    manager: object
    team: Team
    reps: list[Rep]
    year: Period

    @classmethod
    def make(cls, size: int) -> "Bench":
        """A team of `size` new reps (top-level, its own manager), for a year without targets."""
        users = get_user_model().objects
        manager = users.create_user("bench-targets-manager")
        team = Team(name="Bench targets team", manager=manager)
        team.save()
        reps = []
        for i in range(size):
            user = users.create_user(f"bench-targets-rep-{i:04d}")
            rep = Rep(user=user, full_name=f"Bench Targets Rep {i:04d}", team=team)
            rep.save()
            reps.append(rep)
        year = Period.containing(PeriodKind.YEAR, timezone.localdate()).shifted(2)
        return cls(manager, team, reps, year)

    def grid_changes(self, bump: int = 0) -> list[TargetChange]:
        return [
            TargetChange(Scope.REP, rep.pk, "revenue_won", month, value=Decimal(1000 + i + bump))
            for i, (rep, month) in enumerate((r, m) for r in self.reps for m in self.year.months())
        ]

    def grid_post(self, bump: int = 0) -> dict[str, str]:
        """The grid's form as a browser posts it: one field per rep × month."""
        return {f"c-{c.subject_id}-{c.period.label}": str(c.value) for c in self.grid_changes(bump)}

    def grid_url(self) -> str:
        return f"/targets/grid/?team={self.team.pk}&metric=revenue_won&year={self.year.label}"

    def csv_file(self, rows: int) -> bytes:
        lines = ["scope,name,metric,period,value"]
        for metric in CSV_METRICS:
            for rep in self.reps:
                for month in self.year.months():
                    lines.append(f"rep,{rep.full_name},{metric},{month.label},{len(lines)}")
        if len(lines) - 1 < rows:
            raise RuntimeError(f"{len(self.reps)} reps make {len(lines) - 1} rows, fewer than {rows}.")
        return ("\n".join(lines[: rows + 1]) + "\n").encode()


def run(*, size: int = 300, csv_rows: int = 10_000, singles: int = 100, tries: int = 3, log=print) -> dict:
    try:
        with transaction.atomic():
            report = _run(size, csv_rows, singles, tries, log)
            raise _Rollback
    except _Rollback:
        pass
    return report


def _run(size, csv_rows, singles, tries, log) -> dict:
    log(f"Making a team of {size} reps (rolled back at the end)…")
    bench = Bench.make(size)
    cells = size * 12
    figures = []

    def save_grid(bump=0):
        target_save_batch(
            user=bench.manager, changes=bench.grid_changes(bump), tree=TeamTree.load(), replace=True
        )

    client = Client()
    client.force_login(bench.manager)

    def post_grid(bump=0):  # as the browser posts the grid's form: URL-encoded
        body = urlencode(bench.grid_post(bump))
        response = client.post(bench.grid_url(), body, content_type="application/x-www-form-urlencoded")
        if response.status_code != 302:
            raise RuntimeError(f"The grid answered {response.status_code}, not a redirect.")

    log("Grid, service…")
    figures.append(_figure(f"grid {cells} cells, service, new", tries, save_grid))
    figures.append(
        _figure(f"grid {cells} cells, service, changed", tries, lambda: save_grid(1), prepare=save_grid)
    )
    log("Grid, view…")
    figures.append(_figure(f"grid {cells} cells, POST, new", tries, post_grid))
    figures.append(
        _figure(f"grid {cells} cells, POST, changed", tries, lambda: post_grid(1), prepare=post_grid)
    )

    log("CSV import…")
    data = bench.csv_file(csv_rows)

    def import_csv():
        errors = targets_import_csv(user=bench.manager, file=io.BytesIO(data))
        if errors:
            raise RuntimeError(f"The import refused the file: {errors[:3]}")

    figures.append(_figure(f"CSV {csv_rows} rows, new", tries, import_csv))
    figures.append(_figure(f"CSV {csv_rows} rows, again (replace)", tries, import_csv, prepare=import_csv))

    log("Single targets…")
    changes = bench.grid_changes()[:singles]

    def one_by_one():
        for c in changes:
            target_save(
                user=bench.manager,
                scope=c.scope,
                subject_id=c.subject_id,
                metric=c.metric,
                period=c.period,
                value=c.value,
            )

    single = _figure(f"target_save × {singles}", tries, one_by_one)
    figures.append(single)
    per_call = Figure(
        "target_save, one call", [s / singles for s in single.seconds], single.queries // singles, "mean"
    )
    figures.append(per_call)
    return {"reps": size, "cells": cells, "csv_rows": csv_rows, "figures": [f.as_dict() for f in figures]}

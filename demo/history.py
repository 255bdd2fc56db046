"""A demo deal's history: the states it went through, from its opening to the row it is now.

A deal opens in the first open stage (by `Stage.order`) and moves forward through the open
stages, skipping some, to the one it is in now — or, for a deal already decided, to some open
stage and then to won or lost on its close date. On the way its amount is sometimes revised and
its expected close date sometimes slips later. Each change takes effect at local midnight of its
day (kpis.deal_history.day_start), on distinct days after the opening and up to today (before
the close date for a decided deal); the last state is the deal's row. Recorded by the deal's
rep, when it happened.

Drawn from a stream of its own (shape.rng_for(seed, "history", rep)), so the rest of the demo
data is what it was before deals had a history.
"""

import datetime as dt
import functools
import random
from decimal import Decimal

from kpis.deal_history import day_start

from .shape import money

DAY = dt.timedelta(days=1)
SKIPPED = 0.4  # chance that an open stage on a deal's way is skipped
WON_REACHED = 0.5  # a won deal got at least this far through the open stages
REVISED = 0.25  # chance that a deal's amount was revised once while it was open
SLIPS = (0.65, 0.25, 0.10)  # chance that its expected close date slipped 0, 1 or 2 times
SLIP_DAYS = (7, 45)  # how much later each slip moved it
STALLED_PUSH = (14, 75)  # a stalled deal's expected close, pushed out to after today


class DealHistory:
    """The states of one rep's deals, as rows in the column order of facts.COLUMNS[OpportunityState]."""

    def __init__(self, *, rng: random.Random, open_stages: list[int], rep_id: int, user_id: int, today):
        self.rng, self.open_stages, self.today = rng, open_stages, today
        self.rep_id, self.user_id = rep_id, user_id
        self.midnight = functools.cache(day_start)  # a few hundred days, a million calls

    def states(
        self,
        *,
        deal_id: int,
        created: dt.date,
        decided: dt.date,
        closed: dt.date | None,
        stage: int,
        amount: Decimal,
        won: bool,
    ) -> list[tuple]:
        """The deal's states, oldest first: the first from its opening, the last its row (the
        caller takes the row's expected close date from it). `decided` is the day the deal was or
        will be decided; a deal not closed by then has stalled."""
        rng = self.rng
        last_open = closed - DAY if closed else self.today  # the last day it may change while open
        changes: dict[dt.date, dict] = {}
        for day, moved_to in self._stage_moves(created, last_open, stage, won=won):
            changes.setdefault(day, {})["stage"] = moved_to
        expected = self._expected_dates(created, decided, closed)
        slipped_on = self._days(created, last_open, len(expected) - 1)
        expected = expected[len(expected) - len(slipped_on) - 1 :]  # slips that found no day never were
        for day, later in zip(slipped_on, expected[1:], strict=True):
            changes.setdefault(day, {})["expected_close_on"] = later
        opening_amount = amount
        revised = money(float(amount) * rng.uniform(0.75, 1.25)) if rng.random() < REVISED else amount
        for day in self._days(created, last_open, 1 if revised != amount else 0):
            opening_amount = revised
            changes.setdefault(day, {})["amount"] = amount
        if closed is not None:
            changes.setdefault(closed, {}).update(stage=stage, closed_on=closed)

        current = {
            "stage": self.open_stages[0],
            "amount": opening_amount,
            "closed_on": None,
            "expected_close_on": expected[0],
        }
        rows, since = [], None
        for day in sorted(changes):
            rows.append((since, self.midnight(day), current.copy()))
            current.update(changes[day])
            since = self.midnight(day)
        rows.append((since, None, current))
        recorded = self.midnight(created)
        return [
            (
                deal_id,
                since,
                until,
                state["stage"],
                state["amount"],
                state["closed_on"],
                state["expected_close_on"],
                self.rep_id,
                since or recorded,
                self.user_id,
            )
            for since, until, state in rows
        ]

    def _stage_moves(self, created, last_open, stage, *, won: bool) -> list[tuple[dt.date, int]]:
        """The days it moved forward through the open stages, and to which."""
        rng, stages = self.rng, self.open_stages
        if stage in stages:
            reached = stages.index(stage)
        elif won:
            reached = rng.randint(int((len(stages) - 1) * WON_REACHED), len(stages) - 1)
        else:
            reached = rng.randint(0, len(stages) - 1)
        between = [s for s in stages[1:reached] if rng.random() >= SKIPPED]
        way = [*between, stages[reached]] if reached else []
        days = self._days(created, last_open, len(way))
        if way and not days and stage in stages:
            return [(created, stage)]  # opened today and already further: moved on the same day
        return list(zip(days, way[len(way) - len(days) :], strict=True))

    def _expected_dates(self, created, decided, closed) -> list[dt.date]:
        """The expected close dates it had, first to last (each later than the one before)."""
        rng = self.rng
        if closed is None and decided <= self.today:  # stalled: its day passed, pushed out
            latest = self.today + rng.randint(*STALLED_PUSH) * DAY
            dates = [decided, latest]
        else:
            dates = [decided]
        slips = rng.choices(range(len(SLIPS)), weights=SLIPS)[0]
        for _ in range(slips):
            earlier = dates[0] - rng.randint(*SLIP_DAYS) * DAY
            if earlier < created:
                break
            dates.insert(0, earlier)
        return dates

    def _days(self, created, last, k) -> list[dt.date]:
        """Up to `k` distinct days after `created` and up to `last`, in order."""
        span = (last - created).days
        if span < 1 or k < 1:
            return []
        return [created + d * DAY for d in sorted(self.rng.sample(range(1, span + 1), min(k, span)))]

"""Recomputes that overlap — the same task delivered several times at once, or a recompute
running while deals are written — end exactly as one sequential recompute would, and never
fail: no deadlock, no error, not even one that a retry would have hidden.

Two pool processes run tasks side by side, and every task has work to do: there are no
snapshots yet (first test), or deals change while the tasks run (second test).
"""

import datetime as dt
import random
import re
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction

from kpis.models import Opportunity, Stage
from kpis.tasks import fan_out_recompute, recompute_subject, recompute_tree
from teams.models import Rep
from teams.tree import TeamTree

from .processes import wait_drained
from .snapshots import TODAY, assert_no_duplicates, clean_recompute, differences, seed_facts, snapshot_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BURSTS = 8
PROBLEM = re.compile(r"\] (retry|raised unexpected)|deadlock detected|Traceback|ERROR/")


def assert_every_task_succeeded_first_time(workers) -> None:
    """No task failed or was retried (a deadlock is retried: it would show here)."""
    lines = "\n".join(w.log() for w in workers).splitlines()
    problems = [line for line in lines if PROBLEM.search(line)]
    assert not problems, "\n".join(problems[:10])


def test_the_same_recomputes_delivered_several_times_at_once_end_as_one_sequential_run(start_worker, broker):
    seed_facts()
    # No snapshots yet: copies running side by side insert the same new rows.
    roots = TeamTree.load().roots()
    sends = [*(lambda r=r: recompute_tree.delay(r) for r in roots)] * 3
    sends += [lambda: recompute_subject.delay("company", 0)] * 3 + [fan_out_recompute.delay] * 2
    sends += [
        lambda r=r: recompute_subject.delay("rep", r) for r in Rep.objects.values_list("pk", flat=True)[:4]
    ] * 2
    random.Random(5).shuffle(sends)
    start_worker(concurrency=2)

    for send in sends:
        send()
    wait_drained(broker, start_worker.started, timeout=60)

    assert_every_task_succeeded_first_time(start_worker.started)
    got = snapshot_rows()
    assert_no_duplicates(got)
    expected = clean_recompute()
    assert set(got) == expected, differences(set(got), expected)


def test_a_recompute_running_while_deals_are_written_ends_as_one_sequential_run(start_worker, broker):
    seed_facts()
    clean_recompute()
    rng = random.Random(4)
    won = Stage.objects.get(outcome=Stage.Outcome.WON, name="Won")
    reps_by_team = defaultdict(list)
    for rep in Rep.objects.order_by("pk"):
        reps_by_team[rep.team_id].append(rep)
    teams = [reps for reps in reps_by_team.values() if len(reps) > 1]
    start_worker(concurrency=2)

    fan_out_recompute.delay()  # the nightly fan-out: its tasks run while the deals are written
    for _ in range(BURSTS):
        # One transaction per burst: every rep of a team gets a deal and one of theirs changes,
        # so the burst's recomputes start together and all re-roll the same team, region and
        # company at the same moment.
        with transaction.atomic():
            for rep in rng.choice(teams):
                closed = TODAY - dt.timedelta(days=rng.randrange(0, 120))
                amount = Decimal(rng.randrange(1000, 90000))
                Opportunity.objects.create(
                    rep=rep,
                    stage=won,
                    amount=amount,
                    created_on=closed - dt.timedelta(days=30),
                    closed_on=closed,
                )
                deal = Opportunity.objects.filter(rep=rep, stage=won).order_by("?").first()
                deal.amount += amount
                deal.save()
        time.sleep(0.3)
    wait_drained(broker, start_worker.started, timeout=60)

    assert_every_task_succeeded_first_time(start_worker.started)
    got = snapshot_rows()
    assert_no_duplicates(got)
    expected = clean_recompute()
    assert set(got) == expected, differences(set(got), expected)

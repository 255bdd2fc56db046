"""A worker SIGKILLed mid-recompute loses nothing: the task runs again, the snapshots end as a
clean recompute leaves them, and redelivery stops once a run completes.

Each run deletes every snapshot, sends the nightly `kpis.fan_out_recompute` (which fans out a task
per top-level team and one for the company) and SIGKILLs at a random moment either
- the worker's pool process only: its main process requeues the task at once (reject on
  worker lost), as after the OOM killer; or
- the whole worker, main process too, as when its machine dies: nobody is left to requeue, so
  Redis hands the unacknowledged task to the next worker after the visibility timeout.
A lost task would leave snapshots missing. SALESPERF_KILL_SEED replays a run's kill moments.
"""

import os
import random
import time

import pytest

from kpis.models import KpiSnapshot
from kpis.tasks import fan_out_recompute
from tests.services import wait_for

from .conftest import VISIBILITY_TIMEOUT
from .processes import deliveries, wait_drained
from .snapshots import assert_no_duplicates, clean_recompute, differences, seed_facts, snapshot_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RUNS = 5  # per way of killing: 10 kills in all
SETTLE = 0.3  # seconds the queue must stay empty to count as drained


@pytest.mark.parametrize("victim", ["pool process", "whole worker"])
def test_killed_workers_leave_the_snapshots_of_a_clean_recompute(start_worker, broker, victim):
    seed = int(os.environ.get("SALESPERF_KILL_SEED") or random.randrange(10**6))
    print(f"SALESPERF_KILL_SEED={seed}")
    rng = random.Random(seed)
    seed_facts()
    worker = start_worker()

    # A run without a kill: how long the whole recompute takes. Kills come within the first 70%
    # of that (less the drain's own wait for quiet), so that nearly all land mid-task.
    started = time.monotonic()
    fan_out_recompute.delay()
    wait_drained(broker, start_worker.started, settle=SETTLE)
    took = time.monotonic() - started
    window = 0.7 * max(0.1, took - SETTLE)
    results = {"unkilled": snapshot_rows()}

    hits = 0
    for run in range(1, RUNS + 1):
        KpiSnapshot.objects.all().delete()
        fan_out_recompute.delay()
        wait_for(broker.unacked, timeout=10, message="a task in flight")
        time.sleep(rng.uniform(0, window))
        hits += broker.unacked() > 0  # a task was running when the kill came
        if victim == "pool process":
            worker.kill_child()
        else:
            worker.kill()
            worker = start_worker()  # as a supervisor would
        wait_drained(broker, start_worker.started, timeout=VISIBILITY_TIMEOUT + 30)
        results[f"run {run}"] = snapshot_rows()
    print(f"recompute took {took:.2f}s unkilled; {hits} of {RUNS} kills landed mid-task")

    # Redelivery ends: a task ran at most twice (one kill per run, and a worker holds one
    # unacknowledged task at a time), and nothing comes back once the timeout has passed.
    logs = [w.log() for w in start_worker.started]
    delivered = deliveries(*logs)
    assert max(delivered.values()) <= 2, delivered.most_common(3)
    assert sum(n - 1 for n in delivered.values()) >= hits / 2, "the killed tasks did not run again"
    time.sleep(VISIBILITY_TIMEOUT + 2)
    assert deliveries(*(w.log() for w in start_worker.started)) == delivered, "redelivered after success"
    assert (broker.waiting(), broker.unacked()) == (0, 0)
    assert hits >= RUNS / 2, f"only {hits} of {RUNS} kills found a task running"

    expected = clean_recompute()
    assert len(expected) > 1000
    for name, rows in results.items():
        assert_no_duplicates(rows)
        assert set(rows) == expected, f"{name}: {differences(set(rows), expected)}"

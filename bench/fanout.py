"""The nightly fan-out timed on real Celery worker processes: does adding workers shorten it?

Each worker is its own `celery worker --pool solo` process, as if on its own machine. The clock
runs from sending the nightly task (kpis.fan_out_recompute) until the broker's queue is empty
and no worker is busy.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from kpis.models import KpiSnapshot
from kpis.tasks import fan_out_recompute
from salesperf.celery_app import app as celery_app

ROOT = Path(settings.BASE_DIR)


def _start_workers(count: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "salesperf.settings"),
    }
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "salesperf",
                "worker",
                "--pool",
                "solo",
                "--hostname",
                f"bench{i}@%h",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(count)
    ]


def empty_snapshots() -> None:
    """An empty snapshot table, as on a first run: TRUNCATE, not DELETE, so that no dead rows
    (nor their index entries) are left for the next run to step over."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {KpiSnapshot._meta.db_table}")


def _idle(queue_length) -> bool:
    if queue_length():
        return False
    inspect = celery_app.control.inspect(timeout=0.5)
    busy = [*(inspect.active() or {}).values(), *(inspect.reserved() or {}).values()]
    return not any(busy)


def time_fanout(workers: int, timeout: float = 1800) -> float:
    """Seconds for the nightly recompute of every snapshot (from empty) on `workers` processes."""
    if celery_app.conf.task_always_eager or not settings.CELERY_BROKER_URL:
        raise RuntimeError("the fan-out needs a broker: set CELERY_BROKER_URL=redis://…")
    procs = _start_workers(workers)
    try:
        with celery_app.connection_for_write() as conn:
            channel = conn.default_channel

            def queue_length() -> int:
                # Declared (idempotently) so that an empty broker has the queue to count.
                return channel.queue_declare(queue="celery", durable=True, auto_delete=False).message_count

            _wait(lambda: len(celery_app.control.ping(timeout=0.5)) >= workers, timeout=60)
            empty_snapshots()
            started = time.perf_counter()
            # By the task itself, not its name: a renamed task fails here, not silently on a worker.
            fan_out_recompute.delay()
            time.sleep(0.5)  # the first task is picked up
            _wait(lambda: _idle(queue_length), timeout=timeout)
            return time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not finish within {timeout:.0f} s")
        time.sleep(0.2)

"""Real processes for the fault tests: Celery workers and what they leave behind (their logs,
the broker's queue). Servers of the test's own are in servers.py.

Every process runs in its own session (process group), so a test can SIGKILL a whole worker —
its main process and pool child at once, as when a machine dies — or only the pool child.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import redis
from django.conf import settings

from tests.services import wait_for

BASE_DIR = Path(settings.BASE_DIR)
TASK_LINE = re.compile(
    r"Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]{36})\] (?P<event>received|succeeded|retry|raised unexpected)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(**overrides: str) -> dict[str, str]:
    """This process's environment with the app's settings module and the given variables."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "salesperf.settings", "PYTHONUNBUFFERED": "1"}
    env.update(overrides)
    return env


def database_url(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


class Process:
    """A child process in its own session, its output in a log file."""

    def __init__(self, args: list[str], *, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        with open(log_path, "ab") as out:
            self.proc = subprocess.Popen(
                args, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL if it takes longer than `timeout`."""
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


class Worker(Process):
    """`celery -A salesperf worker`, prefork, as in production."""

    def __init__(self, *, name: str, env: dict[str, str], log_path: Path, concurrency: int = 1):
        args = [
            *(sys.executable, "-m", "celery", "-A", "salesperf", "worker"),
            *("--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "INFO"),
            *("--hostname", f"{name}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat"),
        ]
        super().__init__(args, env=env, log_path=log_path)

    def wait_ready(self, timeout: float = 30) -> None:
        wait_for(lambda: " ready." in self.log() or not self.alive(), timeout=timeout, message="worker ready")
        assert self.alive(), f"the worker died on start:\n{self.log()[-3000:]}"

    def children(self) -> list[int]:
        """The pool processes (they run the tasks)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except FileNotFoundError:
            return []

    def kill_child(self) -> None:
        """SIGKILL the pool processes only: the main process notices, as when the OOM killer strikes."""
        for pid in self.children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def task_events(*logs: str) -> list[tuple[str, str, str]]:
    """(event, task name, task id) for every task line in the worker logs, in order."""
    return [(m["event"], m["name"], m["id"]) for log in logs for m in TASK_LINE.finditer(log)]


def deliveries(*logs: str) -> Counter:
    """How many times each task id was received by a worker."""
    return Counter(task_id for event, _, task_id in task_events(*logs) if event == "received")


class Broker:
    """The Redis broker's view of the default queue: waiting and unacknowledged messages."""

    QUEUE = "celery"
    UNACKED_KEYS = ("unacked", "unacked_index", "unacked_mutex")

    def __init__(self, url: str):
        self.redis = redis.Redis.from_url(url, socket_timeout=5)

    def waiting(self) -> int:
        return self.redis.llen(self.QUEUE)

    def unacked(self) -> int:
        return self.redis.hlen("unacked")

    def clear(self) -> None:
        """Forget messages a crashed earlier run left behind."""
        self.redis.delete(self.QUEUE, *self.UNACKED_KEYS)

    def close(self) -> None:
        self.redis.close()


def wait_drained(broker: Broker, workers: list[Worker], *, timeout: float = 40, settle: float = 0.3) -> None:
    """Until no message waits or is unacknowledged and every task a worker received has
    succeeded, for `settle` seconds in a row (a message popped from the queue is briefly in
    neither place)."""

    def drained():
        if broker.waiting() or broker.unacked():
            return False
        events = task_events(*(w.log() for w in workers))
        received = {task_id for event, _, task_id in events if event == "received"}
        succeeded = {task_id for event, _, task_id in events if event == "succeeded"}
        return received <= succeeded

    def settled():
        if not drained():
            return False
        time.sleep(settle)
        return drained()

    try:
        wait_for(settled, timeout=timeout, interval=0.1, message="the queue to drain")
    except AssertionError as exc:
        tails = "\n".join(f"--- {w.log_path.name}\n{w.log()[-2000:]}" for w in workers)
        raise AssertionError(
            f"{exc}: {broker.waiting()} waiting, {broker.unacked()} unacked\n{tails}"
        ) from None

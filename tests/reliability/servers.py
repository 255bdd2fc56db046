"""Servers of a test's own, for the restart tests: a redis-server and a PostgreSQL cluster it
may stop and start (never the machine's shared ones), and the app under gunicorn."""

import contextlib
import glob
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis

from tests.services import wait_for

from .processes import Process, free_port


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


class PrivateRedis:
    """A redis-server of the test's own on `port`, without persistence."""

    def __init__(self, port: int, log_dir: Path):
        self.port = port
        self.log_path = log_dir / f"redis-{port}.log"
        self.process: Process | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.log_path.parent)]
        self.process = Process(args, env=dict(os.environ), log_path=self.log_path)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            wait_for(lambda: _answers(client), timeout=10, message=f"redis-server on port {self.port}")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process:
            self.process.stop(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory) on `port`.

    PostgreSQL refuses to run as root: then its commands run as the `postgres` user."""

    def __init__(self, port: int):
        self.port = port
        self.bin = _postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="salesperf-pg-"))
        self.data = self.dir / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, user="postgres")
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args) -> None:
        cmd = [*self.as_user, str(self.bin / tool), *map(str, args)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-l", self.dir / "server.log", "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class AppServer(Process):
    """The app under gunicorn, as in production."""

    def __init__(self, *, env: dict[str, str], log_path: Path, workers: int = 2):
        self.port = free_port()
        args = [sys.executable, "-m", "gunicorn", "salesperf.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        args += ["--workers", str(workers), "--timeout", "30", "--graceful-timeout", "5"]
        super().__init__(args, env=env, log_path=log_path)
        wait_for(self._listening, timeout=30, message="gunicorn listening")

    def _listening(self) -> bool:
        assert self.alive(), f"gunicorn died on start:\n{self.log()[-3000:]}"
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def request(self, method: str, path: str, *, body: bytes | None = None, headers=None, timeout=20):
        """(status, headers, body text, seconds taken)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
            return response.status, dict(response.getheaders()), text, time.monotonic() - started
        finally:
            conn.close()

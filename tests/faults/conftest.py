"""Real faults in real servers: a Redis and a PostgreSQL cluster of the tests' own, started
here, that the tests stop, restart empty, freeze (SIGSTOP) and fill until they evict. The
shared services the rest of the suite uses are never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from idp.audit.services import verify_chain
from idp.extensions import db
from tests.conftest import app_like, free_port


def _wait(check: Any, what: str, seconds: float = 20.0) -> None:
    """Poll a readiness check of a server we started (bounded; not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up")


class RedisServer:
    """A redis-server process on a port of its own, without persistence (like CI's)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: self.client().ping(), "redis-server")

    def stop(self) -> None:
        """SIGKILL: a crash, nothing saved."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def restart_empty(self) -> None:
        self.stop()
        self.start()

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def fill_until_eviction(self) -> int:
        """maxmemory with allkeys-lru, then junk until Redis evicts: returns keys evicted."""
        c = self.client()
        c.config_set("maxmemory-policy", "allkeys-lru")
        c.config_set("maxmemory", str(int(c.info("memory")["used_memory"]) + 256 * 1024))
        blob = "x" * 4096
        for n in range(2000):
            c.set(f"junk:{n}", blob)
        return int(c.info("stats")["evicted_keys"])


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process is not None:
        server.thaw()
    server.stop()


class PostgresCluster:
    """A PostgreSQL cluster of the tests' own (Debian's pg_createcluster), to stop and
    freeze without touching the shared one."""

    def __init__(self) -> None:
        self.version = sorted(os.listdir("/etc/postgresql"))[0]
        self.name = f"idpfaults{os.getpid()}"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, action: str) -> None:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name,
                        action], check=True, capture_output=True, timeout=60)

    def create(self) -> None:
        subprocess.run(["pg_createcluster", self.version, self.name, "--port", str(self.port),
                        "--", "--auth=trust"], check=True, capture_output=True, timeout=120)
        self.start()

    def start(self) -> None:
        self._ctl("start")
        _wait(lambda: subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p",
                                      str(self.port)]).returncode == 0, "PostgreSQL")

    def stop(self) -> None:
        self._ctl("stop")

    def _pids(self) -> list[int]:
        found = subprocess.run(["pgrep", "-f", f"/{self.name}"], capture_output=True, text=True)
        return [int(p) for p in found.stdout.split()]

    def freeze(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def drop(self) -> None:
        self.thaw()
        subprocess.run(["pg_dropcluster", "--stop", self.version, self.name],
                       capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.create()
    yield cluster
    cluster.drop()


@contextmanager
def app_on(base: Flask, *, redis_url: str = "", database_url: str | None = None,
           migrate: bool = False, **values: Any) -> Iterator[Flask]:
    """An app with the session's settings, bound to the faulty services."""
    if database_url:
        values["database_url"] = database_url
    with app_like(base, redis_url=redis_url, **values) as other:
        if migrate:
            with other.app_context():
                from flask_migrate import upgrade

                upgrade()
                other.extensions["idp.provider"].keys.ensure_keys()
        yield other


@pytest.fixture(autouse=True)
def audit_chain_intact_after(app: Flask) -> Iterator[None]:
    """Acceptance: `idp audit verify` passes after every fault test."""
    yield
    with app.app_context():
        db.session.rollback()
        assert verify_chain() is None

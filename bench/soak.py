"""Soak: ten minutes (by default) of mixed load on one worker with `idp tokens purge` every
minute; prints the worker's memory and the token tables' rows and sizes over time, which
should stay flat. Loopback only; every loop is bounded in time.

    .venv/bin/python bench/soak.py [--minutes 10] [--threads 6]

Drops and re-creates the PostgreSQL database idp_bench and flushes Redis DB 14 (as run.py).
Retention is shortened for the run (IDP_TOKEN_RETENTION_DAYS / _RECORD_ = 60 s) so that
purging can keep up within minutes, as hourly purges with day-long retention do in service.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import requests
import targets

TABLES = ("oauth_grant", "oauth_refresh_token", "oauth_revoked_token", "token_issued",
          "audit_event", "login_guard", "backchannel_notice")
RETENTION_DAYS = str(60 / 86400)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--threads", type=int, default=6)
    p.add_argument("--grants", type=int, default=30, help="grants kept alive and refreshed")
    return p.parse_args()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def table_stats() -> dict[str, tuple[int, int]]:
    with psycopg.connect(targets.DATABASE_URL, autocommit=True) as conn:
        return {t: (int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]),  # noqa: S608
                    int(conn.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0]))
                for t in TABLES}


def purge() -> str:
    env = {**os.environ, "IDP_DATABASE_URL": targets.DATABASE_URL,
           "IDP_REDIS_URL": targets.REDIS_URL,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(targets.ROOT),
                                                      os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([str(Path(sys.executable).with_name("idp")), "tokens", "purge"],
                          env=env, cwd=targets.ROOT, capture_output=True, text=True,
                          timeout=300)
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 else done.stderr[-300:]


class Worker(threading.Thread):
    """Refreshes its grants, introspects, calls UserInfo, revokes now and then, asks for
    machine tokens; replaces a grant it revoked with a fresh code flow's."""

    def __init__(self, target: targets.Target, grants: list[dict[str, Any]], until: float,
                 counts: dict[str, int], lock: threading.Lock) -> None:
        super().__init__(daemon=True)
        self.t, self.grants, self.until, self.counts, self.lock = target, grants, until, \
            counts, lock
        self.http = requests.Session()
        self.auth = (target.client_id, target.client_secret)

    def count(self, name: str, ok: bool) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
            if not ok:
                self.counts["errors"] = self.counts.get("errors", 0) + 1

    def post(self, path: str, **data: str) -> requests.Response:
        return self.http.post(self.t.base + path, data=data, auth=self.auth, timeout=30)

    def run(self) -> None:
        rng = random.Random(os.getpid() ^ threading.get_ident())
        while time.monotonic() < self.until:
            i = rng.randrange(len(self.grants))
            tokens = self.grants[i]
            r = self.post("/token", grant_type="refresh_token",
                          refresh_token=tokens["refresh_token"])
            self.count("refresh", r.status_code == 200)
            if r.status_code == 200:
                tokens = self.grants[i] = r.json()
            r = self.post("/introspect", token=tokens["access_token"])
            self.count("introspect", r.status_code == 200)
            r = self.http.get(self.t.base + "/userinfo", timeout=30, headers={
                "Authorization": "Bearer " + tokens["access_token"]})
            self.count("userinfo", r.status_code == 200)
            r = self.post("/token", grant_type="client_credentials")
            self.count("client_credentials", r.status_code == 200)
            if rng.random() < 0.05:  # end this grant, start another
                r = self.post("/revoke", token=tokens["refresh_token"])
                self.count("revoke", r.status_code == 200)
                self.grants[i] = targets.tokens(self.t, 1, jwt=False, concurrency=1)[0]
                self.count("code_flow", True)


def main() -> None:
    args = parse_args()
    os.environ["IDP_TOKEN_RETENTION_DAYS"] = RETENTION_DAYS
    os.environ["IDP_TOKEN_RECORD_RETENTION_DAYS"] = RETENTION_DAYS
    log = targets.BENCH / "results" / "soak-server.log"
    log.parent.mkdir(exist_ok=True)
    with targets.ours(log) as target:
        grants = targets.tokens(target, args.grants, jwt=False, concurrency=4)
        until = time.monotonic() + args.minutes * 60
        counts: dict[str, int] = {}
        lock = threading.Lock()
        share = [grants[n::args.threads] for n in range(args.threads)]
        workers = [Worker(target, part, until, counts, lock) for part in share if part]
        for w in workers:
            w.start()
        print("minute  worker_rss_MiB  " + "  ".join(f"{t}(rows/KiB)" for t in TABLES) +
              "  requests  errors  purge")
        minute = 0
        while any(w.is_alive() for w in workers):
            time.sleep(min(60, max(0.0, until - time.monotonic())) or 1)
            minute += 1
            purged = purge()
            stats = table_stats()
            with lock:
                total = sum(v for k, v in counts.items() if k != "errors")
                errors = counts.get("errors", 0)
            print(f"{minute:>6}  {rss_mib(target.pid):>14.1f}  " +
                  "  ".join(f"{stats[t][0]}/{stats[t][1] // 1024}" for t in TABLES) +
                  f"  {total}  {errors}  {purged}", flush=True)
            if time.monotonic() >= until:
                break
        for w in workers:
            w.join(timeout=60)
        print("totals:", dict(sorted(counts.items())))


if __name__ == "__main__":
    main()

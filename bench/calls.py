"""Count what one request costs, in-process: Python function calls, statements sent to
PostgreSQL and commands sent to Redis, per hot-path request (Flask test client, real
PostgreSQL and Redis). Counts do not move with the machine's noise, unlike req/s.

    .venv/bin/python bench/calls.py                      # every scenario
    .venv/bin/python bench/calls.py userinfo refresh --profile refresh

Uses the bench's database and Redis DB (`targets.DATABASE`, `targets.REDIS_URL`): it drops and
re-creates `idp_bench` and flushes Redis DB 14, like bench/run.py.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import os
import pstats
import re
import secrets
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import targets

SCENARIOS = ("client_credentials", "userinfo", "introspection", "authorize",
             "authorization_code", "refresh")


class SentToPostgres:
    """Counts what psycopg sends: each statement, and each transaction command (BEGIN, COMMIT,
    ROLLBACK) it really sends (one that changes nothing is not sent, and not counted)."""

    def __init__(self) -> None:
        from psycopg import _connection_base, _cursor_base

        self.sent = 0
        statement = _cursor_base.BaseCursor._maybe_prepare_gen
        command = _connection_base.BaseConnection._exec_command

        def counted_statement(*args: Any, **kwargs: Any) -> Any:
            self.sent += 1
            return statement(*args, **kwargs)

        def counted_command(*args: Any, **kwargs: Any) -> Any:
            self.sent += 1
            return command(*args, **kwargs)

        _cursor_base.BaseCursor._maybe_prepare_gen = counted_statement  # type: ignore[method-assign]
        _connection_base.BaseConnection._exec_command = counted_command  # type: ignore[method-assign]


class Bench:
    """A fresh bench database, one client and one person, and a logged-in test client."""

    def __init__(self) -> None:
        os.environ.update({"IDP_DATABASE_URL": targets.DATABASE_URL,
                           "IDP_REDIS_URL": targets.REDIS_URL,
                           "IDP_ISSUER": "http://127.0.0.1:5999", "IDP_ENV": "development",
                           "IDP_SECRET_KEY": secrets.token_hex(20)})
        sys.path.insert(0, str(targets.ROOT))
        env = dict(os.environ)
        targets._reset_stores()
        targets._idp(env, "db", "upgrade")
        client = targets._idp(env, "clients", "create", "--name", "bench", "--redirect-uri",
                              targets.REDIRECT_URI, "--grant-type", "authorization_code",
                              "--grant-type", "refresh_token", "--grant-type",
                              "client_credentials", "--first-party", "--json")
        targets._idp(env, "users", "create", "--username", targets.USERNAME, "--password",
                     targets.PASSWORD, "--json")
        from idp import create_app
        from idp.oauth.server import provider

        self.app = create_app()
        with self.app.app_context():
            provider().keys.ensure_keys()
        self.client_id = client["client_id"]
        pair = f"{client['client_id']}:{client['client_secret']}".encode()
        self.basic = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        self.browser = self.app.test_client()
        page = self.browser.get("/login").get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match is not None
        answer = self.browser.post("/login", data={
            "identifier": targets.USERNAME, "password": targets.PASSWORD,
            "csrf_token": match.group(1), "next": ""})
        if answer.headers.get("Location", "").endswith("/agreements/accept"):  # first sign-in
            answer = self.browser.post("/agreements/accept", data={
                "csrf_token": match.group(1), "agree": "y", "decision": "accept"})
        assert answer.status_code == 303, answer.status_code
        first = self.exchange(*self.authorize())
        self.access_token = first["access_token"]
        self.refresh_token = first["refresh_token"]
        self.codes: list[tuple[str, str]] = []

    def authorize(self) -> tuple[str, str]:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = urlencode({"response_type": "code", "client_id": self.client_id,
                           "redirect_uri": targets.REDIRECT_URI, "scope": "openid profile",
                           "state": "s", "nonce": "n", "code_challenge_method": "S256",
                           "code_challenge": challenge.rstrip(b"=").decode()})
        answer = self.browser.get("/authorize?" + query)
        assert answer.status_code == 302, answer.status_code
        return parse_qs(urlparse(answer.headers["Location"]).query)["code"][0], verifier

    def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        answer = self.browser.post("/token", headers=self.basic, data={
            "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": targets.REDIRECT_URI})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return dict(answer.get_json())

    # --- one request of each scenario ---
    def client_credentials(self) -> None:
        answer = self.browser.post("/token", headers=self.basic,
                                   data={"grant_type": "client_credentials"})
        assert answer.status_code == 200

    def userinfo(self) -> None:
        answer = self.browser.get("/userinfo",
                                  headers={"Authorization": "Bearer " + self.access_token})
        assert answer.status_code == 200

    def introspection(self) -> None:
        answer = self.browser.post("/introspect", headers=self.basic,
                                   data={"token": self.access_token})
        assert answer.get_json()["active"] is True

    def authorization_code(self) -> None:
        self.exchange(*self.codes.pop())

    def refresh(self) -> None:
        answer = self.browser.post("/token", headers=self.basic, data={
            "grant_type": "refresh_token", "refresh_token": self.refresh_token})
        assert answer.status_code == 200
        self.refresh_token = answer.get_json()["refresh_token"]

    def prepare(self, scenario: str, count: int) -> Callable[[], None]:
        """The request of `scenario`, with `count` single-use inputs minted beforehand."""
        if scenario == "authorize":
            return lambda: self.codes.append(self.authorize())
        if scenario == "authorization_code":
            self.codes = [self.authorize() for _ in range(count)]
        return getattr(self, scenario)  # type: ignore[no-any-return]


def count(stats: pstats.Stats, names: tuple[str, ...], module: str) -> int:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    return sum(v[1] for k, v in raw.items() if k[2] in names and module in k[0])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    p.add_argument("--requests", type=int, default=50, help="requests counted per scenario")
    p.add_argument("--profile", metavar="SCENARIO", help="also print its profile (cumulative)")
    args = p.parse_args()
    bench = Bench()
    postgres = SentToPostgres()
    for scenario in args.scenarios:
        warm = bench.prepare(scenario, 20)
        for _ in range(20):
            warm()
        one = bench.prepare(scenario, args.requests)
        profiler = cProfile.Profile()
        sent_before = postgres.sent
        profiler.enable()
        for _ in range(args.requests):
            one()
        profiler.disable()
        sent = postgres.sent - sent_before
        stats = pstats.Stats(profiler)
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        calls = sum(v[1] for v in raw.values())
        n = args.requests
        print(f"{scenario:<19} {calls / n:7.0f} calls  "
              f"{sent / n:4.1f} PostgreSQL  "
              f"{count(stats, ('send_packed_command',), 'redis') / n:4.1f} Redis  per request")
        if args.profile == scenario:
            stats.sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())

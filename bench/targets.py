"""The two providers under test: set up, start pinned to CPU 0, log in, mint codes and tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlparse

import loadgen
import psycopg
import redis
import requests
from psycopg import sql

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEER_DIR = BENCH / "peer"
REDIRECT_URI = "http://127.0.0.1:9/cb"
USERNAME, PASSWORD = "benchuser", "Bench-Passw0rd!"
DATABASE = "idp_bench"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/14"
PEER_RESOURCE = "urn:bench:api"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Target:
    name: str
    port: int
    client_id: str
    client_secret: str
    pid: int  # the process that serves requests: the gunicorn worker, or node
    # Extra authorization parameters that make the access token a JWT (the peer needs a resource).
    jwt_params: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    cookie: str = ""  # the logged-in SSO session

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def path(self, endpoint: str) -> str:
        return urlparse(self.endpoints[endpoint + "_endpoint"]).path

    def client_headers(self) -> dict[str, str]:
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                "Content-Type": FORM}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout} s; see {log}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server we started, then SIGKILL its process group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _spawn(cmd: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["taskset", "-c", "0", *cmd], env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _discover(target: Target) -> None:
    url = target.base + "/.well-known/openid-configuration"
    target.endpoints = requests.get(url, timeout=5).json()


# --- unified-idp ---
def _reset_stores(seeded: str | None = None) -> None:
    """A new, empty idp_bench; or, with `seeded`, a file copy of that database (bench/seed.py)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        if seeded is not None:
            _check_seeded(conn, seeded)
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        if seeded is None:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        else:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY")
                             .format(sql.Identifier(DATABASE), sql.Identifier(seeded)))
            except psycopg.errors.ObjectInUse:
                raise RuntimeError(f"database {seeded} is in use (close every connection to "
                                   "it: it is copied as a template)") from None
    redis.Redis.from_url(REDIS_URL).flushdb()


def seed_info(database: str) -> dict[str, Any]:
    """What bench/seed.py recorded on `database` (a comment on it): counts, time, size."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return _check_seeded(conn, database)


def _check_seeded(conn: psycopg.Connection[Any], database: str) -> dict[str, Any]:
    row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                       "WHERE datname = %s", (database,)).fetchone()
    if row is None:
        raise RuntimeError(f"database {database} does not exist: run bench/seed.py first "
                           f"(.venv/bin/python bench/seed.py --database {database})")
    try:
        marker = json.loads(row[0] or "")
    except ValueError:
        marker = None
    if not isinstance(marker, dict) or not marker.get("complete"):
        raise RuntimeError(f"database {database} was not seeded completely: run bench/seed.py "
                           f"again (.venv/bin/python bench/seed.py --database {database})")
    return marker


def _idp(env: dict[str, str], *args: str) -> Any:
    idp = str(Path(sys.executable).with_name("idp"))
    done = subprocess.run([idp, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"idp {' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if "--json" in args else None


@contextmanager
def ours(log_path: Path, seeded: str | None = None) -> Iterator[Target]:
    """A fresh idp_bench database (with `seeded`: a copy of that database), Redis DB 14, one
    gunicorn worker on CPU 0."""
    port = free_port()
    # The login scenario signs the bench person in thousands of times from 127.0.0.1, always
    # with the right password. The login throttles stay at their defaults: IDP_LOGIN_IP_LIMIT
    # counts failed logins only (LoginGuard.failed), and the per-account failure slot each
    # attempt reserves is released by its success, so at most IDP_THREADS (4) are held at once,
    # under IDP_LOCKOUT_THRESHOLD (5). The argon2 cost is the server's default or IDP_ARGON2_*
    # from this environment, as machine.argon2_hashes_per_second reads it.
    env = {**os.environ, "IDP_DATABASE_URL": DATABASE_URL, "IDP_REDIS_URL": REDIS_URL,
           "IDP_ISSUER": f"http://127.0.0.1:{port}", "IDP_SECRET_KEY": secrets.token_hex(20),
           "IDP_ENV": "development",
           # The checkout itself first: a stale editable install can shadow new packages.
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    _reset_stores(seeded)
    _idp(env, "db", "upgrade")
    client = _idp(env, "clients", "create", "--name", "bench", "--redirect-uri", REDIRECT_URI,
                  "--grant-type", "authorization_code", "--grant-type", "refresh_token",
                  "--grant-type", "client_credentials", "--first-party", "--json")
    _idp(env, "users", "create", "--username", USERNAME, "--password", PASSWORD, "--json")
    with log_path.open("wb") as log:
        proc = _spawn([str(Path(sys.executable).with_name("idp")), "serve", "--host",
                       "127.0.0.1", "--port", str(port), "--workers", "1"], env, log)
        try:
            _wait_ready(f"http://127.0.0.1:{port}/readyz", proc, log_path)
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            target = Target("ours", port, client["client_id"], client["client_secret"],
                            pid=int(children[0]))
            _discover(target)
            _login_ours(target)
            yield target
        finally:
            _stop(proc)


def _login_ours(target: Target) -> None:
    """The login form: GET it for the CSRF token, POST the password, keep the idp_sso cookie."""
    s = requests.Session()
    page = s.get(target.base + "/login", timeout=10).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if match is None:
        raise RuntimeError("no csrf_token on the login page")
    r = s.post(target.base + "/login", data={"identifier": USERNAME, "password": PASSWORD,
                                             "csrf_token": match.group(1), "next": ""},
               allow_redirects=False, timeout=30)
    if r.headers.get("Location", "").endswith("/agreements/accept"):
        # The account's first sign-in asks for the 用户服务协议 and 隐私政策 (docs/branding.md);
        # accepted once here, the measured logins are those of a returning person.
        r = s.post(target.base + "/agreements/accept", allow_redirects=False, timeout=30, data={
            "csrf_token": match.group(1), "agree": "y", "decision": "accept"})
    if r.status_code != 303 or "idp_sso" not in s.cookies:
        raise RuntimeError(f"login failed: HTTP {r.status_code}")
    target.cookie = _cookie_header(s)


# --- panva/oidc-provider ---
@contextmanager
def peer(log_path: Path) -> Iterator[Target]:
    """bench/peer/server.js (oidc-provider, in-memory) in one node process on CPU 0."""
    if not (PEER_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True)
    port, secret = free_port(), secrets.token_urlsafe(32)
    env = {**os.environ, "BENCH_PORT": str(port), "BENCH_CLIENT_ID": "bench",
           "BENCH_CLIENT_SECRET": secret, "BENCH_REDIRECT_URI": REDIRECT_URI,
           "NODE_ENV": "production"}
    with log_path.open("wb") as log:
        proc = _spawn(["node", str(PEER_DIR / "server.js")], env, log)
        try:
            _wait_ready(f"http://127.0.0.1:{port}/.well-known/openid-configuration", proc,
                        log_path)
            target = Target("peer", port, "bench", secret, pid=proc.pid,
                            jwt_params={"resource": PEER_RESOURCE, "scope": "openid profile api"})
            _discover(target)
            _login_peer(target)
            yield target
        finally:
            _stop(proc)


def _login_peer(target: Target) -> None:
    """devInteractions: /auth sends us to /interaction/<uid>, whose form accepts any login."""
    s = requests.Session()
    url = target.base + authorize_request(target, jwt=False).path
    for _ in range(5):
        r = s.get(url, allow_redirects=False, timeout=10)
        location = r.headers.get("Location", "")
        if location.startswith(REDIRECT_URI):
            target.cookie = _cookie_header(s)
            return
        url = urljoin(url, location)
        if "/interaction/" in url:
            r = s.post(url, data={"prompt": "login", "login": USERNAME, "password": PASSWORD},
                       allow_redirects=False, timeout=10)
            url = urljoin(url, r.headers["Location"])
    raise RuntimeError("peer login did not end at the redirect URI")


def _cookie_header(s: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies if c.path == "/")


# --- codes and tokens ---
def authorize_request(target: Target, jwt: bool) -> loadgen.Request:
    """An authorization request with a fresh PKCE pair; the verifier rides along as the tag."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {"response_type": "code", "client_id": target.client_id,
              "redirect_uri": REDIRECT_URI, "scope": "openid profile", "state": "s",
              "nonce": "n", "code_challenge": challenge.rstrip(b"=").decode(),
              "code_challenge_method": "S256", **(target.jwt_params if jwt else {})}
    return loadgen.Request(target.path("authorization") + "?" + urlencode(params),
                           tag=verifier)


class CodeMint(loadgen.Pool):
    """GET the authorization endpoint with the SSO cookie; collect (code, verifier) pairs."""

    def __init__(self, target: Target, count: int, jwt: bool) -> None:
        super().__init__("GET", {"Cookie": target.cookie},
                         [authorize_request(target, jwt) for _ in range(count)])
        self.codes: list[tuple[str, str]] = []

    def seen(self, request: loadgen.Request, status: int, head: bytes, body: bytes) -> bool:
        match = re.search(rb"\r\nlocation:\s*([^\r]+)", head, re.IGNORECASE)
        location = match.group(1).decode() if match else ""
        code = parse_qs(urlparse(location).query).get("code") if status in (302, 303) else None
        if not code:
            return False
        self.codes.append((code[0], request.tag))
        return True


class TokenCollector(loadgen.Pool):
    """Code exchanges whose token responses are kept."""

    def __init__(self, target: Target, codes: list[tuple[str, str]]) -> None:
        super().__init__("POST", target.client_headers(), exchange_requests(target, codes))
        self.tokens: list[dict[str, Any]] = []

    def seen(self, request: loadgen.Request, status: int, head: bytes, body: bytes) -> bool:
        if status == 200:
            self.tokens.append(json.loads(body))
        return status == 200


def exchange_requests(target: Target, codes: list[tuple[str, str]]) -> list[loadgen.Request]:
    path = target.path("token")
    return [loadgen.Request(path, f"grant_type=authorization_code&code={quote(code)}"
                                  f"&redirect_uri={quote(REDIRECT_URI, safe='')}"
                                  f"&code_verifier={verifier}")
            for code, verifier in codes]


def mint_codes(target: Target, count: int, jwt: bool, concurrency: int, seconds: float = 120,
               rate: float | None = None) -> tuple[list[tuple[str, str]], loadgen.Stats]:
    """Up to `count` codes: all of them (closed loop), or what `rate` per second for `seconds`
    mints (open loop)."""
    mint = CodeMint(target, count, jwt)
    stats = loadgen.run("127.0.0.1", target.port, mint, concurrency, seconds, rate=rate)
    return mint.codes, stats


def tokens(target: Target, count: int, jwt: bool, concurrency: int) -> list[dict[str, Any]]:
    """`count` token responses, each from its own authorization code."""
    codes, _ = mint_codes(target, count, jwt, concurrency)
    collector = TokenCollector(target, codes)
    loadgen.run("127.0.0.1", target.port, collector, concurrency, seconds=120)
    if len(collector.tokens) < count:
        raise RuntimeError(f"{target.name}: got {len(collector.tokens)} of {count} tokens")
    return collector.tokens


# --- password login (ours only) ---
CSRF_INPUT = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
SET_COOKIE = re.compile(rb"\r\nset-cookie:[ \t]*([^=;\s]+)=([^;\r]*)", re.IGNORECASE)


class LoginFlow(loadgen.Load):
    """The login form as a browser uses it: GET /login (a CSRF token in a hidden input, the
    session cookie that holds it), then POST /login with identifier, password, token and
    `next=""` under that cookie. A login counts when the POST answers 303.

    One login is one unit for the generator: the GET begins it (and takes the slot of the
    schedule in an open-loop run), the POST follows at once carrying the GET's origin, so the
    latency recorded is the whole login's, from the GET's start (or slot) to the POST's answer.
    """

    def __init__(self, target: Target, username: str = USERNAME,
                 password: str = PASSWORD) -> None:
        path = urlparse(target.base + "/login").path
        super().__init__("GET", path, {})
        self._request = loadgen.Request(path, final=False)  # the GET: not a login yet
        self._path = path
        self._fields = urlencode({"identifier": username, "password": password})
        self._pending: deque[loadgen.Request] = deque()
        self.logins = 0  # POSTs answered 303

    def next(self) -> loadgen.Request | None:
        return self._pending.popleft() if self._pending else self._request

    def seen(self, request: loadgen.Request, status: int, head: bytes, body: bytes) -> bool:
        if request.method == "POST":
            self.logins += status == 303
            return status == 303
        token = CSRF_INPUT.search(body)
        cookies = "; ".join(f"{name.decode()}={value.decode()}"
                            for name, value in SET_COOKIE.findall(head))
        if status != 200 or token is None or not cookies:
            return False
        form = f"{self._fields}&csrf_token={quote(token.group(1).decode(), safe='')}&next="
        self._pending.append(loadgen.Request(self._path, form, method="POST",
                                             headers={"Cookie": cookies, "Content-Type": FORM},
                                             origin=request.origin))
        return True



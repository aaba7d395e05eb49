"""Scale-out on loopback: a PostgreSQL and a Redis of the tests' own (tests/faults' machinery),
two `idp serve` instances with the same environment, nginx round-robin in front of them, and
a back-channel logout receiver. Started once per module, always torn down."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

import pytest
import requests

from tests.conftest import csrf_from, free_port
from tests.faults.conftest import PostgresCluster, RedisServer

IDP = str(Path(sys.executable).with_name("idp"))
NGINX = "/usr/sbin/nginx"
KEY_CACHE_TTL = 2  # IDP_KEY_CACHE_TTL: how stale a worker's key set may be, in seconds
LOCKOUT_THRESHOLD = 3  # IDP_LOCKOUT_THRESHOLD
USERNAME, PASSWORD = "scaleout-citizen", "Correct-Horse-9"
LOCKED_USERNAME, LOCKED_PASSWORD = "scaleout-locked", "Battery-Staple-7"


def wait_until(check: Any, what: str, process: subprocess.Popen[bytes] | None = None,
               log: Path | None = None, seconds: float = 30.0) -> None:
    """Poll the readiness of a server we started (bounded; never a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{tail(log)}")
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up in {seconds} s:\n{tail(log)}")


def tail(log: Path | None, chars: int = 3000) -> str:
    if log is None or not log.exists():
        return ""
    return log.read_text(errors="replace")[-chars:]


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM a server we started; if it lingers, SIGKILL its process group (its own session:
    the workers it forked, nothing else)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class OwnPostgres(PostgresCluster):
    """tests/faults' cluster under a name of its own: both may exist in one pytest run."""

    def __init__(self) -> None:
        super().__init__()
        self.name = f"idpscaleout{os.getpid()}"


class Server:
    """A long-running process we started, with its output in a log file."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def spawn(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(command, env=env, cwd=self.workdir,
                                        stdout=self._log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_ok(self, url: str) -> None:
        wait_until(lambda: requests.get(url, timeout=2).status_code == 200, self.name,
                   self.process, self.log)

    def stop(self) -> None:
        stop_process(self.process)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class Instance(Server):
    """`idp serve --workers 1` (with the WSGI server it picks by default) on a port of its own."""

    def __init__(self, name: str, workdir: Path) -> None:
        super().__init__(name, workdir)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str]) -> None:
        self.spawn([IDP, "serve", "--port", str(self.port), "--workers", "1"], env)


NGINX_CONF = """\
{user}worker_processes 1;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/client_body_temp;
    proxy_temp_path {dir}/proxy_temp;
    fastcgi_temp_path {dir}/fastcgi_temp;
    uwsgi_temp_path {dir}/uwsgi_temp;
    scgi_temp_path {dir}/scgi_temp;
    upstream idp {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://idp;
            # $http_host keeps the port ($host drops it): the provider sees the address the
            # browser used.
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Which instance answered: lets the test see that a flow crossed both.
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx(Server):
    """nginx in the foreground with a generated configuration, everything under `workdir`."""

    def __init__(self, workdir: Path) -> None:
        super().__init__("nginx", workdir)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, a: Instance, b: Instance) -> None:
        conf = self.workdir / "nginx.conf"
        # As root, nginx's workers would run as `nobody`, who cannot enter pytest's 0700 temp
        # directories (temp paths, logs).
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf.write_text(NGINX_CONF.format(user=user, dir=self.workdir, a=a.port, b=b.port,
                                          port=self.port))
        self.spawn([NGINX, "-p", str(self.workdir), "-c", str(conf),
                    "-e", str(self.workdir / "nginx-error.log"),
                    "-g", f"daemon off; pid {self.workdir / 'nginx.pid'};"])


@dataclass(frozen=True)
class Received:
    """One POST the receiver got, and what it answered."""

    path: str
    content_type: str
    form: dict[str, str]
    status: int


class LogoutReceiver:
    """A business system's back-channel logout endpoint: records every POST and answers 200;
    told to, it answers 503 to the next ones (a business system that is down), or holds the
    next one until released (a slow one; at most HOLD_SECONDS)."""

    HOLD_SECONDS = 10.0

    def __init__(self) -> None:
        self.posts: list[Received] = []
        self.refusals = 0
        self.holding = False
        self.arrived = threading.Event()  # the held POST has come in
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                with receiver._lock:
                    status = 503 if receiver.refusals > 0 else 200
                    receiver.refusals = max(0, receiver.refusals - 1)
                    held, receiver.holding = receiver.holding, False
                    receiver.posts.append(Received(self.path, self.headers.get(
                        "Content-Type", ""), form, status))
                if held:
                    receiver.arrived.set()
                    receiver._release.wait(receiver.HOLD_SECONDS)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/backchannel-logout"

    def refuse_next(self, count: int) -> None:
        with self._lock:
            self.refusals = count

    def hold_next(self) -> None:
        with self._lock:
            self.holding = True
            self.arrived.clear()
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.posts)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class Deployment:
    env: dict[str, str]
    workdir: Path
    a: Instance
    b: Instance
    nginx: Nginx
    receiver: LogoutReceiver
    client: RegisteredClient
    user_ids: dict[str, str]  # username -> account id (the public `sub`)

    @property
    def issuer(self) -> str:
        return self.env["IDP_ISSUER"]

    def idp(self, *args: str) -> str:
        """Run an `idp` command with the instances' environment; its standard output."""
        return run_idp(self.env, self.workdir, *args)


def run_idp(env: dict[str, str], workdir: Path, *args: str) -> str:
    return run_idp_together(env, workdir, list(args))[0]


def run_idp_together(env: dict[str, str], workdir: Path, *commands: list[str]) -> list[str]:
    """Run `idp` commands at the same time (as on several nodes); their standard outputs."""
    processes = [subprocess.Popen([IDP, *args], env=env, cwd=workdir, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for args in commands]
    outputs = []
    for args, process in zip(commands, processes, strict=True):
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        assert process.returncode == 0, f"idp {' '.join(args[:2])} failed:\n{err[-3000:]}"
        outputs.append(out)
    return outputs


def _environment(postgres: OwnPostgres, redis_server: RedisServer, issuer: str) -> dict[str, str]:
    """One environment for both instances and every `idp` command (docs/configuration.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
    env.update(
        IDP_ENV="development",
        IDP_DATABASE_URL=postgres.url,
        IDP_REDIS_URL=redis_server.url,
        IDP_SECRET_KEY=secrets.token_urlsafe(48),
        IDP_SEALING_KEYS="s1:" + secrets.token_urlsafe(32),
        IDP_LOOKUP_PEPPER=secrets.token_urlsafe(32),
        IDP_AUDIT_KEY=secrets.token_urlsafe(32),
        IDP_ISSUER=issuer,
        IDP_TRUSTED_PROXIES="127.0.0.1/32",  # nginx: its X-Forwarded-For is believed
        IDP_KEY_CACHE_TTL=str(KEY_CACHE_TTL),
        IDP_LOCKOUT_THRESHOLD=str(LOCKOUT_THRESHOLD),
        IDP_DEFAULT_LOCALE="en",
        IDP_BACKCHANNEL_TIMEOUT="30",  # above the receiver's longest hold
        IDP_ARGON2_MEMORY_KIB="8192",
        IDP_ARGON2_TIME_COST="1",
    )
    return env


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not os.access(NGINX, os.X_OK):
        pytest.fail(f"{NGINX} is missing: apt-get install nginx (.ci/run installs it)")
    workdir = tmp_path_factory.mktemp("scaleout")
    with ExitStack() as stack:
        redis_server = RedisServer(workdir)
        stack.callback(redis_server.stop)
        redis_server.start()
        postgres = OwnPostgres()
        stack.callback(postgres.drop)
        postgres.create()
        receiver = LogoutReceiver()
        stack.callback(receiver.stop)
        receiver.start()

        a, b, nginx = Instance("idp-a", workdir), Instance("idp-b", workdir), Nginx(workdir)
        env = _environment(postgres, redis_server, nginx.url)
        run_idp(env, workdir, "db", "upgrade")
        created = json.loads(run_idp(
            env, workdir, "clients", "create", "--name", "Scale-out business system",
            "--redirect-uri", f"http://127.0.0.1:{receiver.port}/callback",
            "--grant-type", "authorization_code", "--grant-type", "refresh_token",
            "--backchannel-logout-uri", receiver.uri, "--first-party", "--json"
        ).strip().splitlines()[-1])
        client = RegisteredClient(created["client_id"], created["client_secret"],
                                  f"http://127.0.0.1:{receiver.port}/callback")
        made = run_idp_together(env, workdir, *(
            ["users", "create", "--username", username, "--password", password,
             "--name", "张三", "--json"]
            for username, password in ((USERNAME, PASSWORD), (LOCKED_USERNAME, LOCKED_PASSWORD))))
        accounts = [json.loads(out.strip().splitlines()[-1]) for out in made]
        user_ids = {account["username"]: account["id"] for account in accounts}

        # A first, then B: the first start creates the signing keys (ensure_keys), and two
        # first starts at once each create an RS256 key.
        for instance in (a, b):
            stack.callback(instance.stop)
            instance.start(env)
            instance.wait_ok(instance.url + "/readyz")
        stack.callback(nginx.stop)
        nginx.start(a, b)
        nginx.wait_ok(nginx.url + "/readyz")
        for username, password in ((USERNAME, PASSWORD), (LOCKED_USERNAME, LOCKED_PASSWORD)):
            accept_agreements(nginx.url, username, password)
        yield Deployment(env, workdir, a, b, nginx, receiver, client, user_ids)


def accept_agreements(base: str, username: str, password: str) -> None:
    """The accounts' first sign-in, which asks for the 用户服务协议 and 隐私政策 (branding.md):
    accepted here, so that the tests' sign-ins are those of people who already did."""
    with requests.Session() as http:
        page = http.get(base + "/login", timeout=10)
        asked = http.post(base + "/login", allow_redirects=False, timeout=10, data={
            "csrf_token": csrf_from(page.text), "identifier": username, "password": password})
        assert asked.headers.get("Location", "").endswith("/agreements/accept"), asked.text[:300]
        form = http.get(base + "/agreements/accept", timeout=10)
        done = http.post(base + "/agreements/accept", allow_redirects=False, timeout=10, data={
            "csrf_token": csrf_from(form.text), "agree": "y", "decision": "accept"})
        assert done.status_code == 303 and done.cookies.get("idp_sso"), done.text[:300]

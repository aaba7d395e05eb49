"""Shared fixtures: one provider per run on SQLite+memory, or PostgreSQL+Redis when asked."""

from __future__ import annotations

import base64
import contextvars
import functools
import hashlib
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, text
from sqlalchemy import event as sa_event
from werkzeug.serving import BaseWSGIServer, make_server

from idp import create_app
from idp.extensions import db, get_store
from idp.settings import Settings

TEST_SECRET = "test-secret-key-" + "x" * 32
PASSWORD = "Correct-Horse-9"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real HTTP server in a thread (werkzeug), for clients that speak HTTP."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server: BaseWSGIServer = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class IsolatedClient(FlaskClient):
    """Each request runs in an empty context, so it gets its own app context, `g` and
    database session, as in production, instead of reusing the test's app context."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("IDP_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "idp-test.db")


@pytest.fixture
def china_standard_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone at UTC+8, as on the provincial servers."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def provider_port() -> int:
    return free_port()


SMS_APP_ID, SMS_APP_SECRET = "idp-test", "sms-test-secret-0123456789"


@pytest.fixture(scope="session")
def sms_platform() -> Iterator[LiveServer]:
    """The SMS platform simulator; the provider reaches it through its real HTTP adapter."""
    from clients.sms_gateway_sim import create_simulator

    server = LiveServer(create_simulator(SMS_APP_ID, SMS_APP_SECRET,
                                         fail_phones={"13999999999"}))
    yield server
    server.stop()


def sms_messages(sms_platform: LiveServer, phone: str) -> list[dict[str, Any]]:
    return [m for m in sms_platform.server.app.extensions["sms_messages"]  # type: ignore[attr-defined]
            if m["phone"] == phone]


def last_code(sms_platform: LiveServer, phone: str, template: str) -> str:
    codes = [m["params"]["code"] for m in sms_messages(sms_platform, phone)
             if m["template"] == template]
    assert codes, f"no {template} code was sent to {phone}"
    remember_secret(codes[-1])
    return str(codes[-1])


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, provider_port: int,
        sms_platform: LiveServer) -> Iterator[Flask]:
    settings = Settings.from_env(
        {}, env="test", secret_key=TEST_SECRET, issuer=f"http://127.0.0.1:{provider_port}",
        database_url=_database_url(tmp_path_factory),
        redis_url=os.environ.get("IDP_TEST_REDIS_URL", ""),
        argon2_memory_kib=8192, argon2_time_cost=1, key_publish_lead=3600, key_cache_ttl=0,
        backchannel_timeout=5.0, sms_gateway="http", sms_url=sms_platform.url + "/send",
        sms_app_id=SMS_APP_ID, sms_app_secret=SMS_APP_SECRET)
    application = create_app(settings, TESTING=True)
    application.test_client_class = IsolatedClient
    application.extensions["sms_platform_messages"] = \
        sms_platform.server.app.extensions["sms_messages"]  # type: ignore[attr-defined]
    with application.app_context():
        _reset_schema()
        from flask_migrate import upgrade

        upgrade()
        application.extensions["idp.provider"].keys.ensure_keys()
        sa_event.listen(db.engine, "before_cursor_execute", _note_writes)
    WRITES["seen"] = True  # whatever setting up wrote is emptied after the first test
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _reset_schema() -> None:
    """Start from an empty database, so the migrations are what builds the schema."""
    meta = MetaData()
    meta.reflect(bind=db.engine)
    meta.drop_all(bind=db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


KEEP_TABLES = {"signing_key", "alembic_version"}
WRITES = {"seen": False}  # set by any statement that is not a read, in any thread


def _note_writes(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    if not statement.lstrip()[:6].upper().startswith(("SELECT", "PRAGMA", "SHOW", "BEGIN")):
        WRITES["seen"] = True


@functools.cache
def _tables() -> list[Any]:
    meta = MetaData()
    meta.reflect(bind=db.engine)
    return list(meta.sorted_tables)

# Every secret the suite hands out (passwords, SMS codes, codes, tokens, client secrets, ID
# numbers). After each test, no log record at any level and no audit row may contain one.
SECRETS: set[str] = set()


# Short numeric secrets (SMS and TOTP codes) are checked in the test that handed them out only:
# hundreds of random six-digit codes across the run would otherwise match some number in a
# later test's logs by chance.
SHORT_CODES: set[str] = set()


def remember_secret(*values: Any) -> None:
    for value in (str(v) for v in values if v and len(str(v)) >= 6):
        (SHORT_CODES if value.isdigit() and len(value) < 12 else SECRETS).add(value)


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:  # noqa: BLE001 - a broken record is not ours to judge here
            self.lines.append(str(record.msg))


def _leaked(text: str) -> list[str]:
    """Secrets found in text; short numeric ones (SMS codes) only as whole tokens, since six
    digits turn up by chance inside hashes and timestamps."""
    found = [secret for secret in SECRETS if secret in text]
    found += [code for code in SHORT_CODES
              if re.search(rf"(?<![0-9A-Za-z.]){code}(?![0-9A-Za-z])", text)]
    return sorted(found)


@pytest.fixture(autouse=True)
def clean_state(app: Flask) -> Iterator[None]:
    recorder = _Recorder()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    with app.app_context():
        try:
            yield
        finally:
            root.removeHandler(recorder)
            root.setLevel(old_level)
        db.session.rollback()
        audit_rows = db.session.execute(text("SELECT * FROM audit_event")).all()
        leaks = _leaked("\n".join(recorder.lines)) + _leaked(repr(audit_rows))
        db.session.remove()
        if WRITES["seen"]:  # only tests that wrote to the database pay for emptying it
            with db.engine.begin() as conn:
                for table in reversed(_tables()):
                    if table.name not in KEEP_TABLES:
                        conn.execute(table.delete())
            WRITES["seen"] = False
        get_store(app).flush()
        app.extensions["idp.clock"].reset()
        app.extensions["sms_platform_messages"].clear()
        app.extensions["idp.provider"].clients.forget()
        SHORT_CODES.clear()
        assert leaks == [], f"secrets reached the logs or the audit table: {leaks}"


@contextmanager
def app_like(base: Flask, **values: Any) -> Iterator[Flask]:
    """A second provider with the session app's settings but for `values` (another database,
    store, keys …): its own engine, store and caches, disposed afterwards."""
    settings = base.extensions["idp.settings"]
    values.setdefault("secret_key", TEST_SECRET)
    values.setdefault("issuer", settings.issuer)
    values.setdefault("database_url", settings.database_url)
    other = create_app(Settings.from_env({}, env="test", argon2_memory_kib=8192,
                                         argon2_time_cost=1, **values), TESTING=True)
    other.test_client_class = IsolatedClient
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def live_provider(app: Flask, provider_port: int) -> Iterator[LiveServer]:
    server = LiveServer(app, provider_port)
    yield server
    server.stop()


@pytest.fixture
def provider(app: Flask) -> Any:
    return app.extensions["idp.provider"]


@dataclass
class TestUser:
    id: str
    username: str
    password: str
    phone: str | None


@dataclass
class TestClient:
    client_id: str
    client_secret: str | None
    redirect_uri: str


@pytest.fixture
def make_user(app: Flask) -> Any:
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, password: str = PASSWORD, trust_level: int = 2,
             phone: str | None = None, name: str | None = "张三",
             phone_verified: bool = True, id_number: str | None = None,
             accepted_agreements: bool = True) -> TestUser:
        """A citizen account; a level above 2 (or an ID number) is set the only way outside
        verification: an operator override with a reason. It has accepted the agreements in
        force (as every returning user has), unless `accepted_agreements=False`."""
        n = next(counter)
        username = username or f"citizen{n}"
        phone = phone or f"139{secrets.randbelow(10**8):08d}"
        accounts = app.extensions["idp.accounts"]
        remember_secret(password)
        user = accounts.create_user(username=username, password=password, phone=phone,
                                    name=name, phone_verified=phone_verified)
        if trust_level != 2 or id_number:
            from idp.audit.actors import Actor

            app.extensions["idp.identity"].override(
                user, trust_level, reason="test fixture", actor=Actor.operator("tests"),
                number=id_number)
        if accepted_agreements:
            accept_agreements(app, user.id)
        db.session.commit()
        return TestUser(user.id, username, password, phone)

    return make


def accept_agreements(app: Flask, user_id: str) -> None:
    """Rows saying the person accepted the versions in force, as the acceptance page writes
    them (without its audit event: the fixture stands for an earlier visit)."""
    from idp.accounts.models import AgreementAcceptance

    for document, version in app.extensions["idp.brand"].versions().items():
        db.session.add(AgreementAcceptance(user_id=user_id, document=document, version=version))


@pytest.fixture
def change_settings(app: Flask) -> Iterator[Any]:
    """Run one test under other settings (a policy switch); restored afterwards."""
    provider = app.extensions["idp.provider"]
    original = app.extensions["idp.settings"]

    def change(**values: Any) -> Settings:
        changed = replace(original, **values)
        app.extensions["idp.settings"] = provider.settings = changed
        return changed

    yield change
    app.extensions["idp.settings"] = provider.settings = original


@pytest.fixture
def make_client(app: Flask) -> Any:
    def make(redirect_uri: str = "https://rp.example.gov.cn/callback", **kwargs: Any) -> TestClient:
        kwargs.setdefault("name", "业务系统")
        kwargs.setdefault("auth_method", "client_secret_basic")
        kwargs.setdefault("grant_types", ["authorization_code", "refresh_token",
                                          "client_credentials"]
                          if kwargs["auth_method"] != "none"
                          else ["authorization_code", "refresh_token"])
        kwargs.setdefault("first_party", True)
        kwargs.setdefault("redirect_uris", [redirect_uri])
        registered = app.extensions["idp.provider"].clients.register(**kwargs)
        db.session.commit()
        remember_secret(registered.client_secret)
        return TestClient(registered.client.client_id, registered.client_secret,
                          kwargs["redirect_uris"][0])

    return make


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


CAPTCHA_ID_RE = re.compile(r'name="captcha_id" id="captcha-id" value="([^"]+)"')


def captcha_answer(app: Flask, challenge: str) -> str:
    """The answer of a live picture code, read from the provider's store (as a person reads
    the picture): tests solve the captcha, they never turn it off."""
    answer = get_store(app).get("captcha:" + challenge)
    assert answer is not None, "the picture code is not live (used or expired)"
    return answer


def solve_captcha(app: Flask, html: str) -> dict[str, str]:
    """The form fields of the page's picture code, answered."""
    match = CAPTCHA_ID_RE.search(html)
    assert match, "page has no picture code"
    return {"captcha_id": match.group(1), "captcha_answer": captcha_answer(app, match.group(1))}


def fresh_captcha(app: Flask) -> dict[str, str]:
    """A picture code issued by the service and answered, for a POST made without its page."""
    challenge = app.extensions["idp.captchas"].issue(None)
    assert challenge is not None
    return {"captcha_id": challenge, "captcha_answer": captcha_answer(app, challenge)}


class Browser:
    """Drives the provider through Flask's test client the way a browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: TestUser, password: str | None = None, next_url: str = "") -> Any:
        page = self.client.get("/login")
        return self.client.post("/login", data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "identifier": user.username, "password": password or user.password,
            "next": next_url})

    def authorize(self, client: TestClient, pkce: bool = True, **params: str) -> Any:
        """GET /authorize as a business system sends it: with a fresh PKCE S256 challenge
        (every client must send one) unless `pkce=False` or the test gives its own."""
        query = {"response_type": "code", "client_id": client.client_id,
                 "redirect_uri": client.redirect_uri, "scope": "openid profile",
                 "state": "st-" + secrets.token_hex(4), "nonce": "n-" + secrets.token_hex(4)}
        if pkce and "code_challenge" not in params:
            query.update(code_challenge=pkce_pair()[1], code_challenge_method="S256")
        query.update(params)
        return self.client.get("/authorize?" + urlencode(query))

    def code_for(self, client: TestClient, **params: str) -> tuple[str, str]:
        """Run the authorization request with PKCE; return (code, verifier)."""
        verifier, challenge = pkce_pair()
        params.setdefault("code_challenge", challenge)
        params.setdefault("code_challenge_method", "S256")
        response = self.authorize(client, **params)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        query = redirect_params(response)
        assert "code" in query, query
        remember_secret(query["code"], verifier)
        return query["code"], verifier


def redirect_params(response: Any) -> dict[str, str]:
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


def token_request(app: Flask, client: TestClient, **data: str) -> Any:
    response = app.test_client().post("/token", data=data,
                                      auth=(client.client_id, client.client_secret or ""))
    body = response.json or {}
    remember_secret(body.get("access_token"), body.get("refresh_token"), body.get("id_token"))
    return response


def exchange(app: Flask, client: TestClient, code: str, verifier: str) -> Any:
    return token_request(app, client, grant_type="authorization_code", code=code,
                         redirect_uri=client.redirect_uri, code_verifier=verifier)


PLATFORM_APP_ID = "idp-test"
PLATFORM_SECRET = "ctid-test-secret-" + "p" * 32


@pytest.fixture(scope="session")
def platform_simulator() -> Iterator[Any]:
    """The national platform's simulator (realname.platform.simulator) over real HTTP."""
    from realname.platform.simulator import PlatformSimulator

    simulator = PlatformSimulator(PLATFORM_APP_ID, PLATFORM_SECRET, seed=11, people=10,
                                  latency_ms=0)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def national_platform(app: Flask, platform_simulator: Any) -> Iterator[Any]:
    """The provider verifies people through its real HTTP adapter against the simulator;
    retries back off without waiting. Yields the simulator (add people, cause outages)."""
    from realname.platform import HttpPlatform

    identity = app.extensions["idp.identity"]
    original = identity.platform
    platform_simulator.reset()
    adapter = HttpPlatform(platform_simulator.url, PLATFORM_APP_ID, PLATFORM_SECRET,
                           timeout=(1.0, 1.0), retries=2, sleep=lambda seconds: None)
    identity.platform = adapter
    try:
        yield platform_simulator
    finally:
        identity.platform = original
        adapter.close()
        platform_simulator.reset()

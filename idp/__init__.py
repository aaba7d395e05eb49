"""unified-idp: create_app(settings) is the only place that wires the provider together."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_babel import get_locale
from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError

from idp.extensions import babel, csrf, db, get_store, migrate
from idp.http import init_http, request_value
from idp.security.passwords import available_cores
from idp.security.proxies import TrustedProxies
from idp.settings import Settings, SettingsError
from idp.store import StoreUnavailable, create_store

log = logging.getLogger(__name__)
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def _select_locale() -> str:
    from idp.accounts.views import LOCALE_COOKIE

    asked = request_value("ui_locales") or ""
    for tag in asked.split():
        lowered = tag.lower()
        if lowered.startswith("zh"):
            return "zh_Hans_CN"
        if lowered.startswith("en"):
            return "en"
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie == "en":
        return "en"
    if cookie == "zh":
        return "zh_Hans_CN"
    from idp.extensions import get_settings

    return get_settings().default_locale


# Libraries that log secrets at DEBUG (Authlib logs every issued token): never below INFO,
# whatever level an operator gives the root logger.
QUIET_LOGGERS = ("authlib", "joserfc", "urllib3")


def create_app(settings: Settings | None = None, **flask_config: Any) -> Flask:
    settings = settings or Settings.from_env()
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=_database_uri(settings.database_url, app),
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url,
                                                  settings.database_timeout),
        SESSION_COOKIE_NAME="idp_flask",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=3600,
        BABEL_DEFAULT_LOCALE="zh_Hans_CN",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",  # times on pages are Beijing time
        BABEL_TRANSLATION_DIRECTORIES="translations",
        MAX_CONTENT_LENGTH=256 * 1024,
        JSON_AS_ASCII=False,
    )
    app.config.update(settings.extra)
    app.config.update(flask_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    db.init_app(app)
    with app.app_context():
        ping_idle_connections(db.engine)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    store = create_store(settings.redis_url, timeout=settings.redis_timeout)
    if store.kind == "memory":
        log.warning("ephemeral state is in-process (no IDP_REDIS_URL): single process only")
    else:
        _check_redis(store)
    app.extensions["idp.settings"] = settings
    app.extensions["idp.store"] = store
    app.extensions["idp.brand"] = _brand(settings)
    from idp.accounts.signals import EXTENSION, AccountSignals

    app.extensions[EXTENSION] = AccountSignals()  # idp.oauth.ssf listens (issue 12)
    _wire_services(app, settings)
    _wire_lifecycle(app)
    _register_blueprints(app)
    from idp.counter import init_counter

    init_counter(app)
    _wire_personal_data(app, settings)
    from idp.admin import init_admin

    init_admin(app)
    init_http(app, hsts=settings.secure_cookies)
    from idp.oauth.hotpath import HotPaths

    app.wsgi_app = HotPaths(app.wsgi_app, app, hsts=settings.secure_cookies)  # type: ignore[method-assign]
    app.wsgi_app = TrustedProxies(app.wsgi_app, settings.proxy_networks)  # type: ignore[method-assign]
    app.context_processor(lambda: {"get_locale": get_locale, "brand": _brand_view(app)})
    _register_health(app)
    from idp.cli import register_cli

    register_cli(app)
    return app


def _brand(settings: Settings) -> Any:
    from idp.branding import BrandError, load_brand

    try:
        return load_brand(settings.brand_dir or None)
    except BrandError as error:
        raise SettingsError(str(error)) from None


def _brand_view(app: Flask) -> Any:
    """The brand in the page's language, for templates (`brand.region`, `brand.hotline`, …)."""
    from idp.branding import BrandView

    return BrandView(app.extensions["idp.brand"], str(get_locale()))


def _check_redis(store: Any) -> None:
    """Refuse a Redis without GETDEL; warn about settings that lose sessions (deployment.md).
    A Redis that does not answer yet is not fatal: /readyz reports it."""
    try:
        for warning in store.server_warnings():
            log.warning("%s", warning)
    except StoreUnavailable:
        log.warning("Redis does not answer at start; /readyz reports not ready until it does")
    except ValueError as error:
        raise SettingsError(f"IDP_REDIS_URL: {error}") from None


def _engine_options(url: str, timeout: int) -> dict[str, Any]:
    # hide_parameters: a failing statement never writes a phone number or hash into the log.
    # No pre-ping on every checkout (a round trip per request): `ping_idle_connections`
    # checks only connections that sat idle, which is where a restarted server leaves them.
    options: dict[str, Any] = {"pool_pre_ping": False, "hide_parameters": True}
    if url.startswith("postgresql"):
        # A stopped or frozen PostgreSQL answers 503 within seconds instead of holding workers;
        # a request waits at most `timeout` for a pooled connection.
        options["pool_timeout"] = timeout
        options["connect_args"] = {"connect_timeout": timeout,
                                   "options": f"-c statement_timeout={timeout * 1000}"}
    if url.startswith("sqlite:"):
        # Threads of the one embedded process write at once: each write transaction begins
        # IMMEDIATE (the driver issues BEGIN before the first write), so it waits for the write
        # lock instead of failing with "database is locked" on a read-to-write upgrade.
        options["connect_args"] = {"timeout": 30, "isolation_level": "IMMEDIATE"}
    return options


IDLE_PING_AFTER = 2.0  # seconds a pooled connection may sit idle before it is pinged


def ping_idle_connections(engine: Any, idle_after: float = IDLE_PING_AFTER) -> None:
    """Liveness without a round trip per request: a connection taken from the pool is pinged
    only if it sat idle for `idle_after` seconds (a connection in steady use has just proven
    itself). A dead one is replaced before the request sees it (SQLAlchemy's pessimistic
    disconnect handling: DisconnectionError on checkout makes the pool connect anew)."""
    @event.listens_for(engine, "checkin")
    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idp_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop("idp_idle_since", None)
        if since is None or time.monotonic() - since < idle_after:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)  # outside any transaction
        except Exception as error:  # noqa: BLE001 - any failure means: not usable
            raise DisconnectionError() from error


def _database_uri(url: str, app: Flask) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url[len("sqlite:///"):]
        if relative and relative != ":memory:":
            path = os.path.abspath(relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            return "sqlite:///" + path
    return url


def _wire_services(app: Flask, settings: Settings) -> None:
    from idp.accounts.agreements import AgreementService
    from idp.accounts.captcha import Captchas
    from idp.accounts.codes import CodeLimits, SmsCodes
    from idp.accounts.lockout import LoginGuard
    from idp.accounts.mfa import MfaService
    from idp.accounts.services import AccountService
    from idp.accounts.sessions import SessionService
    from idp.accounts.signin import SignIn
    from idp.audit.actors import Actor
    from idp.clock import Clock
    from idp.identity.services import IdentityService
    from idp.oauth.evidence import TokenLoginEvidence
    from idp.oauth.keys import KeyManager
    from idp.oauth.logout import SessionEndHandler
    from idp.oauth.server import Provider, build_server
    from idp.oauth.services import ClientService, CodeService, ConsentService, GrantService
    from idp.oauth.tokens import TokenService
    from idp.security.crypto import KeyedHash, Keyring, derive_key
    from idp.security.passwords import Passwords

    store = get_store(app)
    # design.md "Keys": the cookie secret signs cookies only. Sealing uses a versioned keyring,
    # lookups and pairwise subjects a stable pepper; in development both fall back to keys
    # derived from IDP_SECRET_KEY (which is also how values written before were sealed).
    secret = settings.lookup_pepper or settings.secret_key
    keyring = Keyring.parse(settings.sealing_keys, legacy_secret=settings.secret_key) \
        if settings.sealing_keys else \
        Keyring([("k0", derive_key(settings.secret_key, "keyring:k0"))], settings.secret_key)
    app.extensions["idp.keyring"] = keyring
    # The audit chain head's MAC key lives outside the database (design.md "Actors").
    app.extensions["idp.audit_key"] = derive_key(settings.audit_key or settings.secret_key,
                                                 "audit-head")
    # Each worker process hashes on its share of the cores (`idp serve --workers`).
    cores = available_cores()
    passwords = Passwords(settings.argon2_memory_kib, settings.argon2_time_cost,
                          settings.argon2_parallelism,
                          concurrency=max(1, cores // (settings.workers or cores)))
    clock = Clock()
    guard = LoginGuard(clock, settings.lockout_threshold, settings.lockout_seconds,
                       settings.login_ip_limit)
    fingerprints = _document_fingerprints(settings, secret)
    accounts = AccountService(passwords, guard, keyring.box("id-number"), fingerprints,
                              KeyedHash(secret, "login-subject"),
                              deletion_grace_days=settings.deletion_cooling_off_days)
    sessions = SessionService(store, KeyedHash(secret, "sso-session"),
                              settings.session_idle_ttl, settings.session_max_ttl, clock=clock)
    sms_codes = SmsCodes(store, _sms_gateway(settings), KeyedHash(secret, "sms-code"),
                         CodeLimits(settings.sms_code_ttl, settings.sms_max_tries,
                                    settings.sms_interval, settings.sms_daily_limit,
                                    settings.sms_ip_hourly_limit))
    mfa = MfaService(store, keyring.box("totp"), KeyedHash(secret, "recovery-code"))
    captchas = Captchas(store)  # asked before an SMS is sent (ADR 0013)
    keys = KeyManager(keyring.box("signing-key"), settings.key_publish_lead,
                      retire_after=max(settings.access_token_ttl, settings.id_token_ttl) + 300,
                      cache_ttl=settings.key_cache_ttl)
    tokens = TokenService(keys, settings.issuer, KeyedHash(secret, "pairwise-sub"),
                          settings.access_token_ttl, settings.id_token_ttl,
                          leeway=settings.clock_leeway, clock=clock)
    client_hasher = KeyedHash(secret, "client-secret")
    server = build_server(leeway=settings.clock_leeway)
    server.init_app(app)
    grants = GrantService(settings.refresh_token_ttl, settings.grant_max_ttl, sessions=sessions)
    clients = ClientService(client_hasher, settings.client_cache_ttl, clock=clock,
                            allow_loopback_http=not settings.is_production)
    consents = ConsentService(grants, clients)
    provider = Provider(settings=settings, store=store, server=server, keys=keys, tokens=tokens,
                        codes=CodeService(store, settings.code_ttl), grants=grants,
                        clients=clients, consents=consents, accounts=accounts,
                        sessions=sessions)
    session_end = SessionEndHandler(provider)
    sessions.on_end.append(session_end.queue)
    sessions.after_end.append(session_end.deliver)
    from idp.oauth.ssf import init_ssf

    init_ssf(app, provider)  # account signals become security events (issue 12)
    accounts.on_credentials_reset.append(grants.revoke_all)
    identity = IdentityService(keyring.box("id-number"), fingerprints, _platform(settings),
                               daily_attempts=settings.realname_daily_attempts, store=store,
                               ip_daily_attempts=settings.realname_ip_daily_attempts)
    identity.on_document_removed.append(grants.revoke_all)

    def end_sessions(user_id: str) -> None:
        holder = accounts.get(user_id)
        if holder is not None:
            accounts.end_every_session(holder, Actor.system("identity-case"), clock.seconds())

    identity.on_document_removed.append(end_sessions)
    access = _access(settings, clock)
    app.extensions.update({
        "idp.clock": clock, "idp.accounts": accounts, "idp.sessions": sessions,
        "idp.signin": SignIn(sessions, guard),
        "idp.provider": provider,
        "idp.client_secret_hasher": client_hasher, "idp.sms_codes": sms_codes,
        "idp.captchas": captchas,
        "idp.mfa": mfa, "idp.authorizations": consents, "idp.session_end": session_end,
        "idp.identity": identity, "idp.access": access,
        "idp.login_evidence": TokenLoginEvidence(),
        "idp.agreements": AgreementService(app.extensions["idp.brand"].versions()),
    })


def _wire_lifecycle(app: Flask) -> None:
    """Account deletion, purge, disable and enable (docs/account-lifecycle.md): the accounts
    layer runs them; the higher layers revoke grants and erase what they hold."""
    from idp.accounts.lifecycle import AccountLifecycle
    from idp.oauth.erasure import OAuthErasure

    ext = app.extensions
    grants = ext["idp.provider"].grants
    lifecycle = AccountLifecycle(ext["idp.accounts"], ext["idp.sessions"], ext["idp.sms_codes"],
                                 ext["idp.clock"])
    lifecycle.revoke_grants.append(grants.revoke_all)
    lifecycle.erasers += [ext["idp.identity"].erase_person, OAuthErasure(grants)]
    ext["idp.lifecycle"] = lifecycle


def _wire_personal_data(app: Flask, settings: Settings) -> None:
    """A person's copy of their data (PIPL Art. 45): the accounts layer gathers it, the higher
    layers hand over their parts through its ports (idp.accounts.ports)."""
    from idp.accounts.personal_data import PersonalDataService
    from idp.counter.personal_data import CounterRecordsSource
    from idp.identity.personal_data import IdentityRecordsSource
    from idp.oauth.personal_data import AuthorizationHistorySource

    ext = app.extensions
    ext["idp.personal_data"] = PersonalDataService(
        accounts=ext["idp.accounts"], mfa=ext["idp.mfa"], sessions=ext["idp.sessions"],
        authorizations=ext["idp.authorizations"], history=AuthorizationHistorySource(),
        identity=IdentityRecordsSource(), counter=CounterRecordsSource(), clock=ext["idp.clock"],
        daily_limit=settings.data_copy_daily_limit)


def _access(settings: Settings, clock: Any) -> Any:
    """Access rates (ADR 0009): targets and the live window from settings, checked here
    (idp.settings cannot import the domain that owns their rules)."""
    from idp.access.services import AccessService
    from idp.access.targets import check_live_days, parse_targets

    try:
        targets = parse_targets(settings.access_targets)
        check_live_days(settings.access_live_days)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    return AccessService(clock, live_days=settings.access_live_days, targets=targets,
                         evidence_days=int(settings.token_record_retention_days))


def _document_fingerprints(settings: Settings, secret: str) -> Any:
    """Document fingerprints under IDP_FINGERPRINT_KEYS (rotating: the first is current), or
    one key derived from the lookup pepper; digests written before key ids existed are still
    found (and re-fingerprinted when they are)."""
    from idp.security.crypto import DocumentFingerprints, KeyedHash, derive_key
    from idp.settings import parse_keyring

    keys = parse_keyring(settings.fingerprint_keys) if settings.fingerprint_keys else \
        [("f0", derive_key(secret, "fingerprint:f0"))]
    return DocumentFingerprints(keys, legacy=KeyedHash(secret, "id-number"))


def _platform(settings: Settings) -> Any:
    """The national platform's HTTP adapter, or None when online verification is off."""
    if not settings.realname_url:
        return None
    from realname.platform.adapter import HttpPlatform

    return HttpPlatform(settings.realname_url, settings.realname_app_id,
                        settings.realname_app_secret,
                        timeout=(min(3.05, settings.realname_timeout), settings.realname_timeout),
                        retries=settings.realname_retries)


def _sms_gateway(settings: Settings) -> Any:
    from idp.sms.gateways import HttpGateway, OutboxGateway

    if settings.sms_gateway == "http":
        return HttpGateway(settings.sms_url, settings.sms_app_id, settings.sms_app_secret)
    return OutboxGateway()


def _register_blueprints(app: Flask) -> None:
    from idp.accounts.views import bp as accounts_bp
    from idp.identity.views import bp as identity_bp
    from idp.oauth.views import bp as oauth_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(identity_bp)
    app.register_blueprint(oauth_bp)


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        checks = {"database": False, "store": get_store().ping()}
        try:
            db.session.execute(text("SELECT 1"))
            checks["database"] = True
        except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
            log.exception("readiness: database unreachable")
        ready = all(checks.values())
        return jsonify({"status": "ready" if ready else "not ready", **checks}), (
            200 if ready else 503)

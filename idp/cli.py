"""The `idp` command: database, clients, users, keys and the server (scripted by operators)."""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any, NoReturn, cast

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy import select

from idp.accounts.errors import AccountError
from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.audit.actors import Actor, cli_operator
from idp.extensions import get_settings, get_store
from idp.oauth.server import provider
from idp.oauth.services import AUTH_METHODS, GRANT_TYPES, ClientRegistrationError

DEMO_CLIENT_ID = "demo-business-system"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "Yiwang-Tongban-2026"


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _account(identifier: str) -> User:
    """The account named by username or mobile number, or exit 2 saying there is none."""
    accounts = cast(AccountService, current_app.extensions["idp.accounts"])
    user = accounts.find_by_login(identifier)
    if user is None:
        _fail(f"there is no account with the username or mobile number “{identifier}”")
    return cast(User, user)


@click.group("clients", help="Business systems registered as OpenID Connect clients.")
def clients_group() -> None:
    pass


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--auth-method", type=click.Choice(AUTH_METHODS), default="client_secret_basic",
              show_default=True)
@click.option("--jwks-file", type=click.File("r"))
@click.option("--jwks-uri")
@click.option("--grant-type", "grant_types", multiple=True, type=click.Choice(GRANT_TYPES))
@click.option("--scope", default="openid profile phone", show_default=True)
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--subject-type", type=click.Choice(["public", "pairwise"]), default="public",
              show_default=True)
@click.option("--sector-identifier", help="Share pairwise subjects across one department's "
              "systems (default: the redirect URIs' host).")
@click.option("--id-token-alg", type=click.Choice(["RS256", "ES256"]), default="RS256",
              show_default=True)
@click.option("--first-party", is_flag=True, help="Skip the consent page.")
@click.option("--require-mfa", is_flag=True, help="Every login to this system needs a second "
              "factor (step-up in the same session).")
@click.option("--introspect-for", "introspects_for", multiple=True, metavar="CLIENT_ID",
              help="Act as a resource server: may introspect tokens issued to CLIENT_ID "
              "(repeatable). Without it a client learns only about its own tokens.")
@click.option("--events-uri", help="Push security events (OpenID Shared Signals) to this "
              "https URL (RFC 8935).")
@click.option("--events-poll", is_flag=True, help="The system polls for security events at "
              "/ssf/poll (RFC 8936) instead.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clients_create(name: str, redirect_uris: tuple[str, ...], auth_method: str,
                   jwks_file: Any, jwks_uri: str | None, grant_types: tuple[str, ...],
                   scope: str, post_logout: tuple[str, ...], backchannel_logout_uri: str | None,
                   subject_type: str, sector_identifier: str | None, id_token_alg: str,
                   first_party: bool, require_mfa: bool, introspects_for: tuple[str, ...],
                   events_uri: str | None, events_poll: bool, as_json: bool) -> None:
    jwks = None
    if jwks_file is not None:
        try:
            jwks = json.load(jwks_file)
        except ValueError:
            _fail("the JWKS file is not valid JSON")
    try:
        registered = provider().clients.register(
            name=name, redirect_uris=list(redirect_uris), auth_method=auth_method,
            grant_types=list(grant_types) or None, scope=scope, jwks=jwks, jwks_uri=jwks_uri,
            post_logout_redirect_uris=list(post_logout),
            backchannel_logout_uri=backchannel_logout_uri, subject_type=subject_type,
            sector_identifier=sector_identifier, first_party=first_party,
            id_token_alg=id_token_alg, require_mfa=require_mfa,
            introspects_for=list(introspects_for), events_uri=events_uri,
            events_delivery="poll" if events_poll else None, actor=cli_operator())
    except ClientRegistrationError as exc:
        _fail(str(exc))
        return
    c = registered.client
    out: dict[str, Any] = {"client_id": c.client_id, "name": c.name,
                           "token_endpoint_auth_method": c.auth_method,
                           "redirect_uris": c.redirect_uris, "grant_types": c.grant_types,
                           "scope": c.scope, "subject_type": c.subject_type}
    if c.events_delivery:
        out["events_delivery"] = c.events_delivery
        if c.events_uri:
            out["events_uri"] = c.events_uri
    if registered.client_secret:
        out["client_secret"] = registered.client_secret
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        for key, value in out.items():
            click.echo(f"{key}: {value}")
        if registered.client_secret:
            click.echo("The client secret is shown once; it is stored only as a keyed hash.")


@click.group("users", help="Citizen accounts.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--phone")
@click.option("--name")
@click.option("--trust-level", type=click.Choice(["2", "3", "4", "5"]), default="2",
              show_default=True, help="Above 2 it is an operator override: give --reason.")
@click.option("--id-number", help="公民身份号码 the operator vouches for (sealed at rest; logs "
                                  "in once level >= 3); needs --reason.")
@click.option("--reason", default="", help="Why the operator vouches for the level or number "
                                           "(audited).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def users_create(username: str, password: str, phone: str | None, name: str | None,
                 trust_level: str, id_number: str | None, reason: str, as_json: bool) -> None:
    from idp.extensions import db
    from idp.identity.services import IdentityService

    accounts = cast(AccountService, current_app.extensions["idp.accounts"])
    identity = cast(IdentityService, current_app.extensions["idp.identity"])
    if (trust_level != "2" or id_number) and not reason.strip():
        _fail("a trust level above 2 or an ID number is an operator override: give --reason")
    try:
        user = accounts.create_user(username=username, password=password, phone=phone,
                                    name=name, actor=cli_operator())
        if trust_level != "2" or id_number:
            identity.override(user, int(trust_level), reason=reason, actor=cli_operator(),
                              number=id_number)
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        _fail(str(exc))
    out = {"id": user.id, "username": user.username, "trust_level": user.trust_level}
    click.echo(json.dumps(out, ensure_ascii=False) if as_json else
               f"created account {user.username} ({user.id}) at trust level {user.trust_level}")


@users_group.command("set-trust-level")
@click.option("--username", required=True)
@click.option("--level", type=click.Choice(["2", "3", "4", "5"]), required=True)
@click.option("--reason", required=True, help="Why (audited); levels otherwise come only from "
                                              "verification records.")
@with_appcontext
def users_set_trust_level(username: str, level: str, reason: str) -> None:
    """An operator override of the level derived from verification records (audited)."""
    from idp.extensions import db
    from idp.identity.services import IdentityService

    identity = cast(IdentityService, current_app.extensions["idp.identity"])
    user = _account(username)
    try:
        identity.override(user, int(level), reason=reason, actor=cli_operator())
    except AccountError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"{username} is now at trust level {user.trust_level} (override: {reason.strip()})")


@users_group.command("unlock")
@click.option("--username", required=True, help="Username or mobile number.")
@with_appcontext
def users_unlock(username: str) -> None:
    accounts = cast(AccountService, current_app.extensions["idp.accounts"])
    user = _account(username)
    accounts.unlock(user, actor=cli_operator())
    click.echo(f"{user.username} is unlocked")


@users_group.command("logout")
@click.option("--username", required=True, help="Username or mobile number.")
@with_appcontext
def users_logout(username: str) -> None:
    """End every SSO session of the account (business systems get back-channel logout)."""
    from idp.accounts.sessions import SessionService

    user = _account(username)
    sessions = cast(SessionService, current_app.extensions["idp.sessions"])
    accounts = cast(AccountService, current_app.extensions["idp.accounts"])
    clock = current_app.extensions["idp.clock"]
    # Durable first: every session that exists now is over wherever it is held, and every
    # grant is revoked; then the sessions this process can see end with back-channel logout.
    accounts.end_every_session(user, actor=cli_operator(), now=clock.seconds())
    provider().grants.revoke_all(user.id)
    ended = sessions.end_all(user.id, actor=cli_operator())
    click.echo(f"ended {ended} session(s) of {user.username}")
    if get_store().kind == "memory":
        click.echo("note: without IDP_REDIS_URL a running server keeps its sessions in its own "
                   "memory, out of this command's reach; they are ended all the same and stop "
                   "at their next use, without back-channel logout", err=True)


@users_group.command("disable")
@click.option("--username", required=True, help="Username or mobile number.")
@click.option("--reason", required=True, help="Why (audited; the person is told by SMS that "
                                              "the account was disabled, not why).")
@with_appcontext
def users_disable(username: str, reason: str) -> None:
    """Nobody signs in until `idp users enable`; every session and grant ends at once."""
    _switch_account(username, reason, disable=True)


@users_group.command("enable")
@click.option("--username", required=True, help="Username or mobile number.")
@click.option("--reason", required=True, help="Why (audited).")
@with_appcontext
def users_enable(username: str, reason: str) -> None:
    """Let a disabled account sign in again (its ended sessions and grants stay ended)."""
    _switch_account(username, reason, disable=False)


def _switch_account(username: str, reason: str, *, disable: bool) -> None:
    from idp.accounts.lifecycle import AccountLifecycle

    lifecycle = cast(AccountLifecycle, current_app.extensions["idp.lifecycle"])
    user = _account(username)
    change = lifecycle.disable if disable else lifecycle.enable
    try:
        change(user, actor=cli_operator(), reason=reason)
    except AccountError as exc:
        _fail({"reason_required": "give a --reason that says why (it is audited)",
               "already_disabled": f"{username} is already disabled",
               "not_disabled": f"{username} is not disabled",
               "erased": f"{username} was deleted and erased"}.get(exc.code, str(exc)))
    click.echo(f"{username} is disabled: every session and grant ended" if disable else
               f"{username} is enabled")


@click.group("tokens", help="Tokens, grants and their records.")
def tokens_group() -> None:
    pass


@tokens_group.command("purge")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def tokens_purge(batch: int) -> None:
    """Delete spent and expired refresh tokens, dead grants, expired revocations, old issuance
    records, settled back-channel notices and stale lockout rows (docs/deployment.md)."""
    from datetime import UTC, datetime

    from idp.oauth.retention import Purge

    accounts = cast(AccountService, current_app.extensions["idp.accounts"])
    purge = Purge(get_settings(), accounts.guard)
    removed = purge.run(datetime.now(UTC), batch=batch,
                        progress=lambda name, n: click.echo(f"purge: {name}: {n} removed so far"))
    click.echo("purged " + ", ".join(f"{n} {name}" for name, n in removed.items()))


@click.group("logout", help="Back-channel logout notices owed to business systems.")
def logout_group() -> None:
    pass


@logout_group.command("deliver")
@click.option("--limit", default=200, show_default=True, type=int)
@with_appcontext
def logout_deliver(limit: int) -> None:
    """Send the back-channel logouts still owed (safe to schedule: delivered ones are kept
    from being sent twice, failures are retried up to 10 times)."""
    results = current_app.extensions["idp.session_end"].deliver_pending(limit=limit)
    sent = sum(1 for r in results if r.ok)
    click.echo(f"delivered {sent} of {len(results)} pending back-channel logout(s)")


@click.group("sms", help="Text messages.")
def sms_group() -> None:
    pass


@sms_group.command("outbox")
@click.option("--phone", help="Only messages to this number.")
@click.option("--limit", default=20, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def sms_outbox(phone: str | None, limit: int, as_json: bool) -> None:
    """What the development gateway (IDP_SMS_GATEWAY=outbox) "sent", newest first."""
    from sqlalchemy import select

    from idp.extensions import db
    from idp.sms.models import OutboxMessage

    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if phone:
        query = query.where(OutboxMessage.phone == phone)
    rows = db.session.execute(query).scalars().all()
    if as_json:
        click.echo(json.dumps([{"phone": m.phone, "template": m.template, "text": m.text,
                                "sent_at": m.sent_at.isoformat()} for m in rows],
                              ensure_ascii=False))
        return
    if not rows:
        click.echo("The outbox is empty.")
    for m in rows:
        click.echo(f"{m.sent_at:%Y-%m-%d %H:%M:%S}  {m.phone}  {m.text}")


@click.group("audit", help="The security audit log.")
def audit_group() -> None:
    pass


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first broken record."""
    from idp.audit.services import verify_chain

    broken = verify_chain()
    if broken is not None:
        click.echo(f"audit chain broken at record {broken}", err=True)
        sys.exit(1)
    click.echo("audit chain intact")


@audit_group.command("export")
@click.option("--since", required=True, type=click.DateTime(), help="UTC, e.g. 2026-11-01")
@click.option("--until", required=True, type=click.DateTime(), help="UTC, exclusive")
@click.option("--output", type=click.File("w", lazy=False), default="-", show_default=True)
@with_appcontext
def audit_export(since: Any, until: Any, output: Any) -> None:
    """Write the events in [since, until) as JSON Lines."""
    from idp.audit.services import export_events, record_export

    count = 0
    for line in export_events(since, until):
        output.write(line + "\n")
        count += 1
    record_export(since, until, count, cli_operator())
    click.echo(f"exported {count} events", err=True)


@audit_group.command("purge")
@with_appcontext
def audit_purge() -> None:
    """Delete events older than IDP_AUDIT_RETENTION_DAYS, keeping the chain verifiable."""
    from idp.audit.services import purge_before

    days = get_settings().audit_retention_days
    removed = purge_before(days, cli_operator())
    click.echo(f"removed {removed} events older than {days} days")


@click.group("keys", help="Token-signing keys.")
def keys_group() -> None:
    pass


@keys_group.command("rotate")
@click.option("--alg", type=click.Choice(["RS256", "ES256", "all"]), default="all",
              show_default=True)
@click.option("--activate-in", type=int, default=None,
              help="Seconds the new key is published before it signs "
                   "(default IDP_KEY_PUBLISH_LEAD).")
@with_appcontext
def keys_rotate(alg: str, activate_in: int | None) -> None:
    keys = provider().keys
    keys.ensure_keys()
    for name in (["RS256", "ES256"] if alg == "all" else [alg]):
        key = keys.rotate(name, activate_in)
        click.echo(f"{name}: new key {key.kid} published now, signs from "
                   f"{key.activates_at.isoformat()}")


@keys_group.command("reseal")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def keys_reseal(batch: int) -> None:
    """Re-seal every value sealed at rest (ID numbers, authenticator secrets, signing keys)
    with the first key of IDP_SEALING_KEYS; run after putting a new key first."""
    from idp.reseal import reseal

    done = reseal(current_app.extensions["idp.keyring"], batch=batch,
                  progress=lambda what, n: click.echo(f"reseal: {what}: {n} so far"))
    click.echo("resealed " + ", ".join(f"{n} {what}" for what, n in done.items()))


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    from sqlalchemy import select

    from idp.extensions import db
    from idp.oauth.models import SigningKey

    for key in db.session.execute(select(SigningKey).order_by(SigningKey.activates_at)).scalars():
        click.echo(f"{key.kid}\t{key.alg}\tactivates {key.activates_at.isoformat()}\t"
                   f"expires {key.expires_at.isoformat() if key.expires_at else '-'}")


def ensure_demo_data(app: Flask) -> dict[str, Any] | None:
    """Create the demo business system and citizen once; return their details when created."""
    from idp.extensions import db

    p = provider()
    settings = get_settings(app)
    redirect = settings.demo_redirect_uri
    base = redirect.rsplit("/", 1)[0]
    if p.clients.get(DEMO_CLIENT_ID) is not None:
        _follow_demo_port(redirect, base)
        return None
    registered = p.clients.register(
        name="示例业务系统 (demo business system)", redirect_uris=[redirect],
        auth_method="client_secret_basic",
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
        post_logout_redirect_uris=[base + "/"], client_id=DEMO_CLIENT_ID,
        backchannel_logout_uri=base + "/backchannel-logout", actor=Actor.system("demo"))
    accounts = cast(AccountService, app.extensions["idp.accounts"])
    if accounts.find_by_login(DEMO_USERNAME) is None:
        from idp.identity.services import IdentityService

        demo = accounts.create_user(username=DEMO_USERNAME, password=DEMO_PASSWORD,
                                    phone="13800000000", name="演示用户",
                                    actor=Actor.system("demo"),
                                    phone_verified=True)  # its codes go to the dev outbox
        cast(IdentityService, app.extensions["idp.identity"]).override(
            demo, 3, reason="demo account", actor=Actor.system("demo"))
    db.session.commit()
    return {"client_id": DEMO_CLIENT_ID, "client_secret": registered.client_secret,
            "redirect_uri": redirect, "username": DEMO_USERNAME, "password": DEMO_PASSWORD}


def _follow_demo_port(redirect: str, base: str) -> None:
    """`make run RP_PORT=…` on a database made with another port: the demo business system
    (development data only) moves to the new address instead of refusing every login."""
    from idp.extensions import db
    from idp.oauth.models import Client

    client = db.session.execute(select(Client).where(Client.client_id == DEMO_CLIENT_ID)
                                ).scalar_one()
    if client.redirect_uris != [redirect]:
        client.redirect_uris = [redirect]
        client.post_logout_redirect_uris = [base + "/"]
        client.backchannel_logout_uri = base + "/backchannel-logout"
        db.session.commit()
        provider().clients.forget(DEMO_CLIENT_ID)
        click.echo(f"The demo business system now redirects to {redirect}.")


@click.command("serve", help="Run the provider under granian (default) or gunicorn.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--workers", default=None, type=int, help="Default: IDP_WORKERS, else one per core.")
@click.option("--server", "server_name", type=click.Choice(["granian", "gunicorn"]), default=None,
              help="The WSGI server. Default: IDP_SERVER, else granian.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None,
          server_name: str | None) -> None:
    app: Flask = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():  # prepare, then leave: each request must push its own context
        settings = get_settings()
        workers = workers or settings.workers or (os.cpu_count() or 1)
        if get_store().kind == "memory" and workers > 1:
            _fail("the in-process store (no IDP_REDIS_URL) cannot be shared by several "
                  "workers; use --workers 1 or set IDP_REDIS_URL")
        provider().keys.ensure_keys()
        from idp.audit.services import seal_unsigned_head

        if seal_unsigned_head():
            click.echo("Signed the audit chain head written before heads were signed.")
        if settings.demo_data:
            _announce_demo(app, settings.issuer)
        click.echo(f"Discovery: {settings.issuer}/.well-known/openid-configuration")
        from idp.extensions import db

        db.session.remove()
        db.engine.dispose()  # no pooled connection may cross gunicorn's fork
    if (server_name or settings.server) == "gunicorn":
        _run_gunicorn(app, host, port, workers, settings.threads, settings.graceful_timeout,
                      settings.access_log)
    else:
        _run_granian(host, port, workers, settings.threads, settings.graceful_timeout,
                     settings.access_log)


def _run_granian(host: str, port: int, workers: int, threads: int,
                 graceful_timeout: int, access_log: bool) -> None:
    """granian (a Rust HTTP server) in WSGI mode: each worker process imports `idp.wsgi:app`
    and runs it on `threads` blocking threads. It costs less CPU per request than gunicorn's
    gthread loop (bench/README.md). Its access log (IDP_ACCESS_LOG) is formatted in Python
    for every request, which cost 15–25 % of UserInfo's throughput: off unless asked for."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces

    Granian("idp.wsgi:app", address=host, port=port, interface=Interfaces.WSGI,
            workers=workers, blocking_threads=threads, http=HTTPModes.http1,
            websockets=False, log_access=access_log,
            # The path only: a query string can carry a code or a token.
            log_access_format='%(addr)s "%(method)s %(path)s" %(status)d %(dt_ms).1fms',
            workers_kill_timeout=graceful_timeout, respawn_failed_workers=True).serve()


def _announce_demo(app: Flask, issuer: str) -> None:
    demo = ensure_demo_data(app)
    if demo:
        _write_demo_credentials(app, demo)
        _print_demo(demo)
    else:
        click.echo(f"Demo data exists: client {DEMO_CLIENT_ID}, login {DEMO_USERNAME} / "
                   f"{DEMO_PASSWORD} (the client secret was printed at first start).")


def _write_demo_credentials(app: Flask, demo: dict[str, Any]) -> None:
    """Development only: lets the sample business system (`make run`) use the demo client."""
    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, "demo-client.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"client_id": demo["client_id"], "client_secret": demo["client_secret"]}, f)


def _print_demo(demo: dict[str, Any]) -> None:
    click.echo("Demo data created (shown once):")
    click.echo(f"  business system client_id: {demo['client_id']}")
    click.echo(f"  client_secret:              {demo['client_secret']}")
    click.echo(f"  redirect_uri:               {demo['redirect_uri']}")
    click.echo(f"  demo citizen login:         {demo['username']} / {demo['password']}")
    click.echo(f"  sample business system:     {demo['redirect_uri'].rsplit('/', 1)[0]}/")


def _run_gunicorn(app: Flask, host: str, port: int, workers: int, threads: int,
                  graceful_timeout: int, access_log: bool) -> None:
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("keepalive", 2)  # idle keep-alive connections must not hold a restart
            self.cfg.set("graceful_timeout", graceful_timeout)
            self.cfg.set("accesslog", "-" if access_log else None)
            self.cfg.set("control_socket_disable", True)  # one fixed path would clash
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(M)sms')

        def load(self) -> Flask:
            return app

    _Gunicorn().run()


def _committing(callback: Any) -> Any:
    """A command is a unit of work, like a request: services flush, and the command commits
    once when it finishes (nothing when it fails)."""
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from idp.extensions import db

        result = callback(*args, **kwargs)
        if db.session().in_transaction():
            db.session.commit()
        return result

    run.commits = True  # type: ignore[attr-defined]
    return run


def register_cli(app: Flask) -> None:
    from idp.access.cli import access_group
    from idp.accounts.cli import accounts_group
    from idp.counter.cli import halls_group, staff_group
    from idp.identity.cli import realname_group
    from idp.oauth.ssf.cli import events_group

    for group in (clients_group, users_group, keys_group, sms_group, audit_group,
                  logout_group, tokens_group, realname_group, halls_group, staff_group,
                  access_group, accounts_group, events_group):
        for command in group.commands.values():
            if command.callback is not None and not getattr(command.callback, "commits", False):
                command.callback = _committing(command.callback)
        app.cli.add_command(group)


def main() -> None:
    from idp import create_app
    from idp.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as error:  # a refusal is one sentence and exit 2, never a traceback
        _fail(str(error))
    cli = FlaskGroup(create_app=lambda: create_app(settings), add_default_commands=False,
                     add_version_option=False, load_dotenv=False,
                     help="unified-idp: the unified identity authentication platform.")
    # `serve` sits on the group, not on app.cli: Flask pushes an app context around app.cli
    # commands, and a context left pushed would be shared by every request of a worker.
    cli.add_command(serve)
    cli.main(prog_name="idp")

"""The highest-volume protocol requests, answered below Flask (ADR 0012): an authorization
request with a live SSO session, the code exchange, a refresh, a client_credentials token (the
three with HTTP Basic client authentication), introspection of an access token, and UserInfo
with a bearer token.

Only a request of the common, well-formed shape that succeeds is answered here. Anything else
(no token or a bad one, another authentication method, an unknown or odd parameter, a login,
consent or step-up to show, a store that does not answer) passes to the Flask application
unchanged, which answers it as it always has, refusals and 503s included. So this layer never
refuses anything and never decides differently from the application: it calls the same
services and rules and runs the same prebuilt statements (as `RawStatement`s), and commits its
writes before answering. Where a request cannot be handed back (a code consumed, a commit that
may have happened), the application answers the error instead (`Unanswered`).

What it saves is the per-request machinery these requests do not need: the request context and
its hooks, Werkzeug's and Authlib's request objects, the ORM session, and SQLAlchemy's statement
execution (bench/README.md, "Below Flask").
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636.challenge import (
    CODE_CHALLENGE_PATTERN,
    CODE_VERIFIER_PATTERN,
    compare_s256_code_challenge,
)
from flask import Flask
from itsdangerous import BadSignature
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import OperationalError
from werkzeug.http import parse_cookie

from idp.accounts.assurance import amr_for, session_acr
from idp.accounts.services import _SESSION_ACCOUNT, SessionAccount, _may_sign_in
from idp.accounts.views.common import SESSION_COOKIE
from idp.dbutil import RawStatement, raw_connection
from idp.extensions import db
from idp.http import ANSWER_HEADERS, HEADER_FORBIDDEN, HOT_PATH_ERROR, HSTS, PAGE_HEADERS
from idp.oauth.models import Consent, _now
from idp.oauth.server import (
    _RECORD_ISSUE,
    DESCRIPTION_SAFE,
    _generate,
    access_token_introspection,
    client_credentials_scope,
    provider,
)
from idp.oauth.services import (
    _ACCOUNT_VIEW,
    _CLAIM_REFRESH,
    _FIND_REFRESH,
    _INSERT_GRANT,
    _INSERT_REFRESH,
    SCOPES,
    AccountView,
    CodeData,
    granted_scope,
    refresh_views,
    user_claims,
)
from idp.oauth.tokens import _IS_REVOKED, _USERINFO_ACCOUNT, _revocation_params
from idp.security.crypto import sha256_hex

log = logging.getLogger(__name__)

Answer = tuple[str, list[tuple[str, str]], bytes]

_IS_REVOKED_RAW = RawStatement(_IS_REVOKED)
_USERINFO_RAW = RawStatement(_USERINFO_ACCOUNT)
_RECORD_ISSUE_RAW = RawStatement(_RECORD_ISSUE, columns=(
    "issued_at", "grant_type", "client_id", "user_id", "grant_id", "scope", "jti"))
_FIND_REFRESH_RAW = RawStatement(_FIND_REFRESH)
_ACCOUNT_VIEW_RAW = RawStatement(_ACCOUNT_VIEW)
_SESSION_ACCOUNT_RAW = RawStatement(_SESSION_ACCOUNT)
_CONSENT_SCOPE_RAW = RawStatement(select(Consent.__table__.c.scope).where(
    Consent.__table__.c.user_id == bindparam("user_id"),
    Consent.__table__.c.client_id == bindparam("client_id")))
_INSERT_GRANT_RAW = RawStatement(_INSERT_GRANT, columns=(
    "id", "client_id", "user_id", "sid", "scope", "auth_time", "acr", "amr", "claims",
    "code_hash", "created_at", "revoked_at"))
_CLAIM_REFRESH_RAW = RawStatement(_CLAIM_REFRESH)
_WRITES = {  # what the token responses write, by statement
    id(_INSERT_GRANT): _INSERT_GRANT_RAW,
    id(_RECORD_ISSUE): _RECORD_ISSUE_RAW,
    id(_INSERT_REFRESH): RawStatement(_INSERT_REFRESH, columns=(
        "token_hash", "grant_id", "client_id", "scope", "issued_at", "expires_at", "spent_at")),
}

# On PostgreSQL a token response's writes are one statement (data-modifying CTEs), atomic in
# autocommit: one round trip instead of BEGIN, two or three INSERTs (a refresh: the spend too)
# and COMMIT. The values are the same rows, under a prefix per table.
_T_GRANT, _T_REFRESH, _T_ISSUED = (_INSERT_GRANT.table, _INSERT_REFRESH.table,
                                   _RECORD_ISSUE.table)
_GRANT_COLUMNS = ("id", "client_id", "user_id", "sid", "scope", "auth_time", "acr", "amr",
                  "claims", "code_hash", "created_at", "revoked_at")
_REFRESH_COLUMNS = ("token_hash", "grant_id", "client_id", "scope", "issued_at", "expires_at",
                    "spent_at")
_ISSUED_COLUMNS = ("issued_at", "grant_type", "client_id", "user_id", "grant_id", "scope", "jti")


def _bound(table: Any, prefix: str, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: bindparam(prefix + c, type_=table.c[c].type) for c in columns}


def _selected(table: Any, prefix: str, columns: tuple[str, ...], source: Any) -> Any:
    return select(*_bound(table, prefix, columns).values()).select_from(source)


_CLAIMED = (update(_T_REFRESH)
            .where(_T_REFRESH.c.id == bindparam("token_id"), _T_REFRESH.c.spent_at.is_(None))
            .values(spent_at=bindparam("now")).returning(_T_REFRESH.c.id).cte("claimed"))
_CODE_WRITES_PG = RawStatement(
    insert(_T_ISSUED).values(_bound(_T_ISSUED, "i_", _ISSUED_COLUMNS)).add_cte(
        insert(_T_GRANT).values(_bound(_T_GRANT, "g_", _GRANT_COLUMNS)).cte("g"),
        insert(_T_REFRESH).values(_bound(_T_REFRESH, "r_", _REFRESH_COLUMNS)).cte("r")))
_REFRESH_WRITES_PG = RawStatement(  # inserts only if this request spent the token
    insert(_T_ISSUED).from_select(list(_ISSUED_COLUMNS), _selected(
        _T_ISSUED, "i_", _ISSUED_COLUMNS, _CLAIMED)).add_cte(
        insert(_T_REFRESH).from_select(list(_REFRESH_COLUMNS), _selected(
            _T_REFRESH, "r_", _REFRESH_COLUMNS, _CLAIMED)).cte("r")))
_PREFIXES = {id(_INSERT_GRANT): "g_", id(_INSERT_REFRESH): "r_", id(_RECORD_ISSUE): "i_"}


def _prefixed(writes: list[tuple[Any, dict[str, Any]]]) -> dict[str, Any]:
    """The writes' rows as one statement's parameters (the record's time as SQLAlchemy would
    default it)."""
    params: dict[str, Any] = {}
    for statement, row in writes:
        if statement is _RECORD_ISSUE:
            row = {"issued_at": _now(), **row}
        params.update({_PREFIXES[id(statement)] + k: v for k, v in row.items()})
    return params


MAX_BODY = 16 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded",
              "application/x-www-form-urlencoded; charset=utf-8",
              "application/x-www-form-urlencoded;charset=utf-8")
TOKEN_VALUE = re.compile(r"[A-Za-z0-9_.-]{1,8192}")  # a JWT's characters; anything else: Flask
SCOPE_VALUE = re.compile(r"[a-z_]{1,40}( [a-z_]{1,40}){0,19}")
FIELDS = {  # the parameters each form may carry here, and their shapes
    "introspection": {"token": TOKEN_VALUE, "token_type_hint": re.compile(r"access_token")},
    "client_credentials": {"grant_type": re.compile(r"client_credentials"),
                           "scope": SCOPE_VALUE},
    "authorization_code": {"grant_type": re.compile(r"authorization_code"),
                           "code": re.compile(r"[A-Za-z0-9_-]{20,100}"),
                           "redirect_uri": re.compile(r"[A-Za-z0-9:/._~%?&=+-]{1,2000}"),
                           "code_verifier": CODE_VERIFIER_PATTERN},
    "refresh_token": {"grant_type": re.compile(r"refresh_token"),
                      "refresh_token": re.compile(r"[A-Za-z0-9_-]{20,100}"),
                      "scope": SCOPE_VALUE},
}
AUTHORIZE_FIELDS = {
    "response_type": re.compile(r"code"),
    "client_id": re.compile(r"[A-Za-z0-9_.-]{1,80}"),
    "redirect_uri": re.compile(r"[A-Za-z0-9:/._~%?&=+-]{1,2000}"),
    "scope": SCOPE_VALUE,
    "state": re.compile(r"[\x20-\x7e]{1,512}"),
    "nonce": re.compile(r"[\x20-\x7e]{1,512}"),
    "code_challenge": CODE_CHALLENGE_PATTERN,
    "code_challenge_method": re.compile(r"S256"),
}
AUTHORIZE_REQUIRED = {"response_type", "client_id", "redirect_uri", "scope", "code_challenge",
                      "code_challenge_method"}
# The code response as the view sends it: Authlib's empty 302, the page headers of
# http.security_headers (its body type is text/html), and the Vary Flask adds for the session.
REDIRECT_HEADERS = [("Content-Type", "text/html; charset=utf-8"), *PAGE_HEADERS,
                    ("Vary", "Cookie")]
# Authlib's and the views' headers for these answers (default_json_headers, then the views'
# Cache-Control), in the order Flask sends them; the security headers follow.
PROTOCOL_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store"),
                    ("Pragma", "no-cache")]
USERINFO_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


class Unanswered(Exception):  # noqa: N818 - a signal, not an error of its own
    """A hot path failed where the application must not do the request again: it answers
    with `error` instead (a 503 for a lost store)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(type(error).__name__)
        self.error = error


class _Account(NamedTuple):  # the columns of _USERINFO_ACCOUNT, as user_claims reads them
    id: str
    name: str | None
    username: str | None
    username_chosen: bool
    updated_at: Any
    phone: str | None
    phone_verified: bool


class HotPaths:
    """WSGI middleware in front of the Flask application (inside TrustedProxies)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], flask_app: Flask,
                 hsts: bool) -> None:
        self.app = app
        self.flask_app = flask_app
        self.security = [*ANSWER_HEADERS, *([HSTS] if hsts else [])]
        self.routes: dict[tuple[str, str], Callable[[dict[str, Any]], Answer | None]] = {
            ("GET", "/authorize"): self.authorize,
            ("GET", "/userinfo"): self.userinfo,
            ("POST", "/introspect"): self.introspect,
            ("POST", "/token"): self.token,
        }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        route = self.routes.get((environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")))
        if route is None or (environ.get("QUERY_STRING") and route != self.authorize) or \
                not _headers_clean(environ):
            return self.app(environ, start_response)
        try:
            with self.flask_app.app_context():
                answer = route(environ)
        except Unanswered as failure:
            # The application answers with the error itself (http.raise_hot_path_error).
            environ[HOT_PATH_ERROR] = failure.error
            answer = None
        except Exception as error:  # noqa: BLE001 - the application answers, a 503 included
            # The type only: a driver's message may quote a parameter.
            log.debug("hot path passed %s on to the application (%s)",
                      environ.get("PATH_INFO"), type(error).__name__)
            answer = None
        if answer is None:
            return self.app(environ, start_response)
        status, headers, body = answer
        start_response(status, [*headers, ("Content-Length", str(len(body))), *self.security])
        return [body]

    # --- the authorization endpoint ---
    def authorize(self, environ: dict[str, Any]) -> Answer | None:
        """An authorization request of the plain shape (response_type=code, a registered
        redirect_uri, openid, PKCE S256; no prompt, max_age, acr_values, claims or other
        parameter) from a browser with a live SSO session whose account may sign in, to a
        first-party client or one the person has consented to for these scopes, needing no
        second factor: the code is issued and the browser sent back, as the view does. Any
        other case (a login, consent, step-up or error page) is the view's."""
        if _has_body(environ):
            return None
        params = _query(environ.get("QUERY_STRING", ""))
        if params is None or not set(params) >= AUTHORIZE_REQUIRED or \
                "openid" not in params["scope"].split():
            return None
        cookies = parse_cookie(environ)
        flask_session = cookies.get(self.flask_app.config["SESSION_COOKIE_NAME"])
        if flask_session and not self._plain_flask_session(flask_session):
            return None  # a login or a step-up in progress for some request: the view's
        p = provider()
        client = p.clients.get(params["client_id"])
        if client is None or client.disabled or not client.check_response_type("code") or \
                not client.check_redirect_uri(params["redirect_uri"]) or client.require_mfa:
            return None
        sso = p.sessions.from_cookie(cookies.get(SESSION_COOKIE), touch=True)
        if sso is None:
            return None
        engine = db.engine
        with _connection(engine) as connection:
            row = _SESSION_ACCOUNT_RAW.run(connection, engine.dialect, {"user_id": sso.user_id})
            user = SessionAccount(*row) if row is not None else None
            if not _may_sign_in(user, sso):
                return None
            assert user is not None
            # Authlib keeps only the scopes the client is registered for (in request order);
            # without prompt=consent a first-party client never gets offline_access (the view's
            # rule: services.granted_scope).
            scope = granted_scope(client, client.get_allowed_scope(params["scope"]), set())
            if "openid" not in scope.split():
                return None
            if not client.first_party:
                consent = _CONSENT_SCOPE_RAW.run(connection, engine.dialect,
                                                 {"user_id": user.id,
                                                  "client_id": client.client_id})
                if consent is None or not set(scope.split()) <= set(consent[0].split()):
                    return None
        acr = session_acr(user.trust_level, sso.amr, p.settings.mfa_levels)
        code = p.codes.issue(CodeData(
            client_id=client.client_id, redirect_uri=params["redirect_uri"], scope=scope,
            user_id=user.id, sid=sso.sid, auth_time=sso.auth_time, acr=str(acr),
            amr=amr_for(sso.amr), nonce=params.get("nonce"), claims=None,
            code_challenge=params["code_challenge"], code_challenge_method="S256"))
        p.sessions.add_client(sso, client.client_id)
        answer = [("code", code)] + ([("state", params["state"])] if "state" in params else [])
        return "302 FOUND", [("Location", add_params_to_uri(params["redirect_uri"], answer)),
                             *REDIRECT_HEADERS], b""

    def _plain_flask_session(self, value: str) -> bool:
        """The Flask session cookie carries nothing the authorization view acts on (a login
        asked for by a request, a declined verification); a bad signature is not plain."""
        serializer = self.flask_app.session_interface.get_signing_serializer(  # type: ignore[attr-defined]
            self.flask_app)
        max_age = int(self.flask_app.permanent_session_lifetime.total_seconds())
        try:
            data = serializer.loads(value, max_age=max_age)
        except BadSignature:
            return False
        return isinstance(data, dict) and not ({"login_after", "verify_declined"} & set(data))

    # --- the token side ---
    def userinfo(self, environ: dict[str, Any]) -> Answer | None:
        if _has_body(environ):
            return None  # a form body may carry access_token too: the application decides
        auth = environ.get("HTTP_AUTHORIZATION", "")
        value = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not TOKEN_VALUE.fullmatch(value):
            return None
        p = provider()
        info = p.tokens._signed_access_token(value)
        if info is None or info.grant_id is None:
            return None
        scope = str(info.claims.get("scope", ""))
        if "openid" not in scope.split():
            return None
        with _connection(db.engine) as connection:
            row = _USERINFO_RAW.run(connection, db.engine.dialect, _revocation_params(info))
        if row is None:
            return None
        body = {"sub": info.claims["sub"], **user_claims(_Account(*row), info.claims["scope"])}
        # Flask's JSON: sorted keys, compact, UTF-8 as is, a final newline.
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return "200 OK", USERINFO_HEADERS, (text + "\n").encode()

    def introspect(self, environ: dict[str, Any]) -> Answer | None:
        form = _form(environ, FIELDS["introspection"])
        if form is None or "token" not in form:
            return None
        client = _basic_client(environ, "introspection")
        if client is None:
            return None
        p = provider()
        info = p.tokens._signed_access_token(form["token"])
        if info is None or not (info.claims["client_id"] == client.client_id or
                                info.claims["client_id"] in (client.introspects_for or [])):
            return None
        with _connection(db.engine) as connection:
            revoked = _IS_REVOKED_RAW.run(connection, db.engine.dialect, _revocation_params(info))
        if revoked is None or any(revoked):
            return None
        return "200 OK", PROTOCOL_HEADERS, _authlib_json(access_token_introspection(info.claims))

    def token(self, environ: dict[str, Any]) -> Answer | None:
        grant_type = _grant_type(environ)
        if grant_type is None:
            return None
        form = _form(environ, FIELDS[grant_type])
        if form is None or form.get("grant_type") != grant_type:
            return None
        if grant_type == "refresh_token":
            return self.refresh(environ, form)
        if grant_type == "authorization_code":
            return self.code_exchange(environ, form)
        return self.client_credentials(environ, form)

    def code_exchange(self, environ: dict[str, Any], form: dict[str, str]) -> Answer | None:
        """A code exchanged for tokens. Everything the application checks is checked on the
        code's data read without consuming it (client, redirect_uri, PKCE S256, the account),
        and the tokens are signed; only then is the code consumed (GETDEL: a twin request that
        got it first makes this one pass to the application, which answers as for a replay).
        From there the exchange is this layer's to finish: the grant, refresh token and
        issuance record are written atomically (on PostgreSQL one statement, on SQLite one
        transaction), and a failure is answered by the application as that error (a 503 for a
        lost store), never by exchanging the code again."""
        if set(form) != {"grant_type", "code", "redirect_uri", "code_verifier"}:
            return None
        client = _basic_client(environ, "token")
        if client is None or not client.check_grant_type("authorization_code"):
            return None
        p = provider()
        code_hash = sha256_hex(form["code"])
        peeked = p.codes.store.get("code:" + code_hash)
        data = json.loads(peeked) if peeked is not None else None
        if data is None or data.get("client_id") != client.client_id or \
                data.get("redirect_uri") != form["redirect_uri"] or \
                data.get("code_challenge_method") != "S256" or \
                not isinstance(data.get("code_challenge"), str) or \
                not compare_s256_code_challenge(form["code_verifier"], data["code_challenge"]):
            return None
        engine = db.engine
        with _connection(engine) as connection:
            row = _ACCOUNT_VIEW_RAW.run(connection, engine.dialect, {"user_id": data["user_id"]})
        user = AccountView(*row) if row is not None else None
        if user is None or user.disabled:
            return None
        code = CodeData(**data, code_hash=code_hash)
        grant_id = uuid.uuid4().hex
        writes: list[tuple[Any, dict[str, Any]]] = [(_INSERT_GRANT,
                                                     p.grants.grant_row(grant_id, code))]
        body = _generate(_CodeGrant, client=client, scope=code.scope, info=code,
                         grant_id=grant_id, user=user,
                         include_refresh_token=client.check_grant_type("refresh_token"),
                         execute=lambda statement, params: writes.append((statement, params)))
        if p.codes.store.getdel("code:" + code_hash) is None:
            return None  # a twin request consumed it first
        try:
            if engine.dialect.name == "postgresql" and len(writes) == 3:
                with _connection(engine) as connection:
                    _CODE_WRITES_PG.run(connection, engine.dialect, _prefixed(writes))
            else:  # SQLite, or a client without refresh tokens: the same rows, one transaction
                with _connection(engine, autocommit=False) as connection:
                    for statement, params in writes:
                        _WRITES[id(statement)].run(connection, engine.dialect, params)
                    connection.commit()
        except Exception as error:
            raise Unanswered(_as_outage(error, engine)) from error
        return "200 OK", PROTOCOL_HEADERS, _authlib_json(body)

    def client_credentials(self, environ: dict[str, Any], form: dict[str, str]) -> Answer | None:
        requested = form.get("scope")
        if requested is not None and not set(requested.split()) <= set(SCOPES):
            return None
        client = _basic_client(environ, "token")
        if client is None or not client.check_grant_type("client_credentials"):
            return None
        p = provider()
        scope = client_credentials_scope(client, requested)
        jti = p.tokens.new_jti(None)
        access, expires_in = p.tokens.access_token(client=client, sub=client.client_id,
                                                   scope=scope, grant_id=None, jti=jti)
        with _connection(db.engine) as connection:
            _RECORD_ISSUE_RAW.run(connection, db.engine.dialect, {
                "issued_at": _now(), "grant_type": "client_credentials",
                "client_id": client.client_id, "user_id": None, "grant_id": None,
                "scope": scope, "jti": jti})
            connection.commit()  # the record is durable before the token is answered
        token = {"access_token": access, "token_type": "Bearer", "expires_in": expires_in,
                 "scope": scope}
        return "200 OK", PROTOCOL_HEADERS, _authlib_json(token)

    def refresh(self, environ: dict[str, Any], form: dict[str, str]) -> Answer | None:
        """A refresh token rotated as the application rotates it: found with its grant and
        account; the new tokens signed; then, atomically (on PostgreSQL one statement, on SQLite
        one transaction), the token spent (a concurrent request that spent it first makes this
        one pass to the application, which sees the reuse and revokes the grant), its successor
        and the issuance record written, and committed before the answer. Anything unusual
        writes nothing and passes, so the application decides it on an untouched database.
        Signing comes before the spend, so the row lock is held only for the writes (racing
        refreshes wait on it), and nothing that holds it needs another pooled connection."""
        client = _basic_client(environ, "token")
        if client is None or not client.check_grant_type("refresh_token"):
            return None
        p = provider()
        requested = form.get("scope")
        engine = db.engine
        with _connection(engine) as connection:
            found = _FIND_REFRESH_RAW.mapping(connection, engine.dialect,
                                              {"token_hash": sha256_hex(form["refresh_token"])})
        if found is None:
            return None
        token, grant, user = refresh_views(found)
        if token.client_id != client.client_id or token.spent_at is not None or \
                user.disabled or not p.grants.usable(token, grant, touch=True) or \
                (requested and not set(requested.split()) <= set(grant.scope.split())):
            return None
        writes: list[tuple[Any, dict[str, Any]]] = []
        # RFC 6749 §6: an omitted scope is the scope originally granted.
        body = _generate(_RefreshGrant, client=client, scope=requested or grant.scope,
                         info=grant, grant_id=grant.id, user=user,
                         grant_created=grant.created_at, include_refresh_token=True,
                         execute=lambda statement, params: writes.append((statement, params)))
        spend = {"token_id": token.id, "now": datetime.now(UTC)}
        if engine.dialect.name == "postgresql":
            try:
                with _connection(engine) as connection:
                    spent = _REFRESH_WRITES_PG.count(connection, engine.dialect,
                                                     {**spend, **_prefixed(writes)})
            except Exception as error:
                # Committed or not, nobody can tell: the application must not try again (it
                # would see its own spend as a reuse). It answers 503, as for any lost store.
                raise Unanswered(_as_outage(error, engine)) from error
            return _refreshed(body) if spent == 1 else None
        with _connection(engine, autocommit=False) as connection:
            if _CLAIM_REFRESH_RAW.count(connection, engine.dialect, spend) != 1:
                return None
            for statement, params in writes:
                _WRITES[id(statement)].run(connection, engine.dialect, params)
            try:
                connection.commit()
            except Exception as error:  # as above
                raise Unanswered(_as_outage(error, engine)) from error
        return _refreshed(body)


def _connection(engine: Any, autocommit: bool = True) -> Any:
    """A pooled connection for the hot path's statements, after handing back any connection the
    request's session took (a client or key-set lookup that missed its cache): a request holds
    one pooled connection at a time, so concurrent requests cannot drain the pool between them
    (racing refreshes did: each held two, and some waited out the pool timeout)."""
    db.session.close()
    return raw_connection(engine, autocommit)


def _refreshed(body: dict[str, Any]) -> Answer:
    return "200 OK", PROTOCOL_HEADERS, _authlib_json(body)


class _RefreshGrant:  # what _generate reads of the grant it is called for
    GRANT_TYPE = "refresh_token"


class _CodeGrant:
    GRANT_TYPE = "authorization_code"


def _as_outage(error: Exception, engine: Any) -> Exception:
    """A driver's error as the application meets it through SQLAlchemy (a lost database is
    a 503 there); any other error as it is (a 500)."""
    if isinstance(error, (engine.dialect.loaded_dbapi.Error, OSError)):
        return OperationalError("hot path", None, error)
    return error


def _grant_type(environ: dict[str, Any]) -> str | None:
    """The grant type, peeked at without reading the body twice (it is put back)."""
    if environ.get("CONTENT_TYPE", "").lower() not in FORM_TYPES:
        return None
    body = _body(environ)
    if body is None:
        return None
    for name in ("client_credentials", "refresh_token", "authorization_code"):
        if b"grant_type=" + name.encode() in body:
            return name
    return None


def _query(query: str) -> dict[str, str] | None:
    """An authorization request's parameters, when each is one AUTHORIZE_FIELDS names, once,
    in its shape; else None."""
    if not query.isascii() or len(query) > 8192:
        return None
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    params = dict(pairs)
    if len(params) != len(pairs) or any(
            name not in AUTHORIZE_FIELDS or not AUTHORIZE_FIELDS[name].fullmatch(value)
            for name, value in pairs):
        return None
    return params


def _authlib_json(body: dict[str, Any]) -> bytes:
    """Authlib's Flask answer: flask.json.dumps, i.e. sorted keys, UTF-8 as is."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def _headers_clean(environ: dict[str, Any]) -> bool:
    """No header the application's input guard would refuse (http.refused_input)."""
    return HEADER_FORBIDDEN.isdisjoint("".join(
        [value for key, value in environ.items() if key[:5] == "HTTP_" and type(value) is str]))


def _has_body(environ: dict[str, Any]) -> bool:
    return environ.get("CONTENT_LENGTH", "") not in ("", "0") or \
        "HTTP_TRANSFER_ENCODING" in environ


def _form(environ: dict[str, Any], fields: dict[str, re.Pattern[str]]) -> dict[str, str] | None:
    """The form body when every parameter is one of `fields`, once, in its shape; else None.
    The body is read and put back, so the application can read it again."""
    if environ.get("CONTENT_TYPE", "").lower() not in FORM_TYPES:
        return None
    body = _body(environ)
    if body is None:
        return None
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    form = dict(pairs)
    if len(form) != len(pairs) or any(
            name not in fields or not fields[name].fullmatch(value) for name, value in pairs):
        return None
    return form


def _body(environ: dict[str, Any]) -> bytes | None:
    """The request body, if it is short, complete and ASCII; read once and put back (as
    `idp.body`, and as a fresh stream for the application)."""
    if "idp.body" in environ:
        return environ["idp.body"]
    if "HTTP_TRANSFER_ENCODING" in environ:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "0")
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["idp.body"] = body if len(body) == length and body.isascii() else None
    return environ["idp.body"]


def _basic_client(environ: dict[str, Any], endpoint: str) -> Any:
    """The client that authenticated with a well-formed HTTP Basic header and its registered
    method client_secret_basic (RFC 6749 §2.3.1), if enabled; else None."""
    scheme, _, credentials = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip().encode("ascii"), validate=True)
        raw_id, sep, raw_secret = decoded.decode("utf-8").partition(":")
    except (ValueError, UnicodeError, binascii.Error):
        return None
    client_id, secret = unquote(raw_id), unquote(raw_secret)
    if not sep or not client_id or not secret or not DESCRIPTION_SAFE.fullmatch(client_id):
        return None
    client = provider().clients.get(client_id)
    if client is None or client.disabled or \
            not client.check_endpoint_auth_method("client_secret_basic", endpoint) or \
            not client.check_client_secret(secret):
        return None
    return client

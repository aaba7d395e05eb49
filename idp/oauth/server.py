"""Authlib wiring: grants, client authentication methods and endpoints registered in one list."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import unquote

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app
from flask import request as flask_request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import insert

from idp.accounts.services import AccountService
from idp.accounts.sessions import SessionService
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.dbutil import dialect_insert
from idp.extensions import db
from idp.oauth.keys import KeyManager
from idp.oauth.models import Client, TokenIssued, UsedAssertion, aware
from idp.oauth.services import (
    _INSERT_REFRESH,
    ClientService,
    CodeData,
    CodeService,
    ConsentService,
    GrantService,
    GrantView,
    RefreshView,
    user_claims,
)
from idp.oauth.tokens import AccessTokenInfo, TokenService
from idp.security.crypto import sha256_hex
from idp.settings import Settings
from idp.store import Store

log = logging.getLogger(__name__)
# What RFC 6749 §5.2 allows in an error description (and so what Authlib can quote).
DESCRIPTION_SAFE = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*")
SECRET_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
ALL_METHODS = [*SECRET_METHODS, "none"]


@dataclass
class Provider:
    """Everything the OAuth surface needs, built once per app in create_app."""

    settings: Settings
    store: Store
    server: ProviderServer
    keys: KeyManager
    tokens: TokenService
    codes: CodeService
    grants: GrantService
    clients: ClientService
    consents: ConsentService
    accounts: AccountService
    sessions: SessionService


def provider() -> Provider:
    return cast(Provider, current_app.extensions["idp.provider"])


@dataclass
class Authorizee:
    """The person granting a code, with how and when they authenticated."""

    id: str
    sid: str
    auth_time: int
    acr: str
    amr: list[str]
    nonce: str | None
    claims: dict[str, Any] | None


class _IssuerRequest(FlaskOAuth2Request):
    """The request as seen at the issuer's URL.

    Authlib refuses http URLs outside loopback. TLS ends at the reverse proxy and the settings
    already require an https issuer in production, so the issuer decides, not the proxy hop.
    """

    def __init__(self, request: Any, issuer: str) -> None:
        OAuth2Request.__init__(self, method=request.method,
                               uri=issuer + request.full_path.rstrip("?"),
                               headers=request.headers)
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class ProviderServer(AuthorizationServer):
    def create_oauth2_request(self, request: Any) -> FlaskOAuth2Request:
        return _IssuerRequest(flask_request, provider().settings.issuer)

    def query_client(self, client_id: str) -> Client | None:
        """The client, unless unknown or disabled by an operator: Authlib then answers
        invalid_client at the token, introspection and revocation endpoints, and the
        authorization endpoint shows its error page (nothing is redirected)."""
        client = provider().clients.get(client_id) if client_id else None
        return None if client is None or client.disabled else client

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        return None  # each grant persists what it issues

    def authenticate_client(self, request: Any, methods: list[str],
                            endpoint: str = "token") -> Any:
        check_client_credentials_shape(request)
        return super().authenticate_client(request, methods, endpoint)


def check_client_credentials_shape(request: Any) -> None:
    """RFC 6749 §2.3: a client uses exactly one authentication method per request, and HTTP
    Basic credentials must be well formed (§2.3.1: base64 of "id:secret", form-encoded UTF-8).
    Raised as the RFC's errors, never as a server error."""
    header = request.headers.get("Authorization") or ""
    scheme, _, credentials = header.partition(" ")
    basic = scheme.lower() == "basic"
    form = request.form
    used = [basic, "client_secret" in form, "client_assertion" in form]
    if sum(used) > 1:
        raise InvalidRequestError("The client used more than one authentication method; use "
                                  "exactly one (RFC 6749 section 2.3).")
    if not basic:
        return
    try:
        decoded = base64.b64decode(credentials.strip().encode("ascii"), validate=True)
        client_id, sep, _secret = decoded.decode("utf-8").partition(":")
    except (ValueError, UnicodeError):
        client_id, sep = "", ""
    if not sep or not client_id or not DESCRIPTION_SAFE.fullmatch(unquote(client_id)):
        raise InvalidClientError(status_code=401, description="The HTTP Basic credentials "
                                 "are malformed.")
    if form.get("client_id") not in (None, unquote(client_id)):
        raise InvalidRequestError("The client_id in the body differs from the one in the "
                                  "Authorization header.")


# --- Client authentication: private_key_jwt (RFC 7523 §2.2, OIDC Core §9) ---
class PrivateKeyJwt(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self) -> list[str]:
        issuer = provider().settings.issuer
        return [issuer + "/token", issuer, issuer + flask_request.path]

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        """Authlib quotes joserfc's message (which can carry the assertion's own `kid`) into the
        error description; answer with a fixed one instead (RFC 6749 §5.2 charset)."""
        try:
            token = jwt.decode(assertion, resolve_key)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise InvalidClientError(description="The client assertion is not valid.") from exc
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: jwt.Claims) -> None:
        super().verify_claims(claims)
        max_life = provider().settings.client_assertion_max_lifetime
        if int(claims["exp"]) > int(time.time()) + max_life + self.leeway:
            raise InvalidClientError(description=f"Assertion 'exp' is more than {max_life} "
                                     "seconds ahead.")

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """Once per (client, jti) over the whole acceptance window (exp + leeway), recorded in
        the database and committed at once: a replay cache that a lost store cannot empty."""
        until = datetime.fromtimestamp(int(claims["exp"]) + self.leeway, UTC)
        inserted = db.session.execute(
            dialect_insert(UsedAssertion).values(key=f"{claims['sub']}:{jti}"[:200],
                                                 expires_at=until)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(UsedAssertion.key)).first()
        db.session.commit()
        return inserted is not None

    def resolve_client_public_key(self, client: Client) -> KeySet:
        if client.auth_method != self.CLIENT_AUTH_METHOD:
            raise InvalidClientError(description="The client does not use private_key_jwt.")
        if client.jwks:
            return KeySet.import_key_set(cast(Any, client.jwks))
        return KeySet.import_key_set(cast(Any, _fetch_jwks(cast(str, client.jwks_uri))))


def _fetch_jwks(uri: str) -> dict[str, Any]:
    store = provider().store
    cached = store.get("jwks-uri:" + uri)
    if cached:
        return cast(dict[str, Any], json.loads(cached))
    try:
        response = requests.get(uri, timeout=3)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise InvalidClientError(description="The client's jwks_uri could not be read.") from exc
    store.set("jwks-uri:" + uri, json.dumps(data), 300)
    return cast(dict[str, Any], data)


# --- Grants ---
class S256Only(CodeChallenge):
    """PKCE: S256 only, required of every client, confidential ones included (OAuth 2.1
    §4.1.1, RFC 9700 §2.1.1): so every code is bound to a verifier."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256; plain is refused.",
                                      redirect_uri=redirect_uri)
        if not data.get("code_challenge"):
            raise InvalidRequestError("A PKCE code_challenge (S256) is required.",
                                      redirect_uri=redirect_uri)
        try:
            super().validate_code_challenge(grant, redirect_uri)
        except InvalidRequestError as error:
            error.redirect_uri = redirect_uri
            raise

    def get_authorization_code_challenge(self, authorization_code: CodeData) -> str | None:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: CodeData) -> str | None:
        return authorization_code.code_challenge_method


_RECORD_ISSUE = insert(TokenIssued.__table__)  # built once (Core: no ORM cache-key cost)


def _generate(grant: Any, *, client: Client, scope: str, info: GrantView | CodeData | None,
              grant_id: str | None, user: Any = None, grant_created: Any = None,
              include_refresh_token: bool = False,
              execute: Callable[[Any, dict[str, Any]], Any] | None = None) -> dict[str, Any]:
    """Every token of one response, signed before the caller commits: if signing fails the
    transaction (a spent refresh token, a new grant) rolls back with it. Records the issue.
    The writes go through `execute` (default: the session; the hot paths pass their own
    connection's)."""
    p = provider()
    run = execute or db.session.execute
    user_id = info.user_id if info is not None else None
    sub = p.tokens.subject_for(client, user_id) if user_id else client.client_id
    jti = p.tokens.new_jti(grant_id)
    access, expires_in = p.tokens.access_token(
        client=client, sub=sub, scope=scope, grant_id=grant_id, jti=jti,
        auth_time=info.auth_time if info else None, acr=info.acr if info else None)
    token: dict[str, Any] = {"access_token": access, "token_type": "Bearer",
                             "expires_in": expires_in, "scope": scope}
    if include_refresh_token and grant_id:
        value, row = p.grants.refresh_token_row(grant_id, client.client_id, scope,
                                                grant_created)
        run(_INSERT_REFRESH, row)
        token["refresh_token"] = value
    if info is not None and "openid" in scope.split():
        requested = (info.claims or {}).get("id_token") or {}
        # Only claims the token's scope covers may move into the ID token (user_claims).
        extra = user_claims(user, scope, requested) if user and requested else {}
        token["id_token"] = p.tokens.id_token(
            client=client, sub=sub, auth_time=info.auth_time, acr=info.acr, amr=info.amr,
            sid=info.sid, nonce=getattr(info, "nonce", None), access_token=access,
            extra=extra)
    run(_RECORD_ISSUE, {
        "grant_type": grant.GRANT_TYPE, "client_id": client.client_id, "user_id": user_id,
        "grant_id": grant_id, "scope": scope, "jti": jti})
    return token


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        return None  # generate_authorization_code stores the code as it creates it

    def generate_authorization_code(self) -> str:
        user: Authorizee = self.request.user
        data = self.request.payload.data
        return provider().codes.issue(CodeData(
            client_id=self.client.client_id, redirect_uri=self.request.payload.redirect_uri,
            scope=self.request.scope, user_id=user.id, sid=user.sid, auth_time=user.auth_time,
            acr=user.acr, amr=user.amr, nonce=user.nonce, claims=user.claims,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method")))

    def query_authorization_code(self, code: str, client: Client) -> CodeData | None:
        p = provider()
        data = p.codes.consume(code, client.client_id)
        if data is None and not p.codes.exists(code):
            replayed = p.grants.by_code_hash(sha256_hex(code))
            if replayed is not None and replayed.client_id == client.client_id:
                # RFC 6749 §4.1.2: a replayed code revokes what it produced.
                p.grants.revoke(replayed, tag=Tag.CODE_REPLAYED,
                                actor=Actor.client(client.client_id),
                                ip=flask_request.remote_addr)
        return data

    def delete_authorization_code(self, authorization_code: CodeData) -> None:
        return None  # consumed atomically by query_authorization_code

    def authenticate_user(self, authorization_code: CodeData) -> Any:
        return provider().grants.account(authorization_code.user_id)

    def generate_token(self, user: Any = None, scope: Any = None, grant_type: Any = None,
                       expires_in: Any = None, include_refresh_token: bool = True) -> Any:
        code: CodeData = self.request.authorization_code
        grant_id = uuid.uuid4().hex
        provider().grants.create(grant_id, code)
        return _generate(self, client=self.client, scope=code.scope, info=code,
                         grant_id=grant_id, user=self.request.user,
                         include_refresh_token=include_refresh_token)

    def save_token(self, token: dict[str, Any]) -> None:
        db.session.commit()


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("The client may not use grant_type=refresh_token.")
        self.request.client = client
        value = self.request.form.get("refresh_token")
        if not value:
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        p = provider()
        found = p.grants.find_refresh(value)
        if found is None or found[0].client_id != client.client_id:
            raise InvalidGrantError("The refresh token is invalid.")
        token, grant, user = found
        if token.spent_at is not None:
            self._reused(grant)
        if not p.grants.usable(token, grant, touch=True):
            raise InvalidGrantError("The refresh token has expired or was revoked.")
        scope = self.request.payload.scope
        if scope and not set(scope.split()) <= set(grant.scope.split()):
            raise InvalidScopeError("The requested scope exceeds the original grant.")
        if not p.grants.claim_refresh(token):
            self._reused(grant)  # a concurrent request spent it first
        self.request.refresh_token = token
        self.request.idp_grant_info = grant
        self.request.idp_user = user

    def _reused(self, grant: GrantView) -> None:
        provider().grants.revoke(grant, tag=Tag.REFRESH_REUSED,
                                 actor=Actor.client(grant.client_id),
                                 ip=flask_request.remote_addr)
        raise InvalidGrantError("The refresh token was already used; the grant is revoked.")

    def authenticate_user(self, refresh_token: RefreshView) -> Any:
        # A disabled account's refresh token is a grant that no longer holds: invalid_grant
        # (RFC 6749 §5.2), not Authlib's invalid_request for a grant without a user.
        user = self.request.idp_user
        if user.disabled:
            raise InvalidGrantError("The account can no longer sign in.")
        return user

    def issue_token(self, user: Any, refresh_token: RefreshView) -> dict[str, Any]:
        grant: GrantView = self.request.idp_grant_info
        # RFC 6749 §6: an omitted scope is the scope originally granted, not the last
        # (possibly narrowed) refresh token's.
        scope = self.request.payload.scope or grant.scope
        return _generate(self, client=self.client, scope=scope, info=grant, grant_id=grant.id,
                         user=user, grant_created=grant.created_at, include_refresh_token=True)

    def save_token(self, token: dict[str, Any]) -> None:
        db.session.commit()

    def revoke_old_credential(self, refresh_token: RefreshView) -> None:
        return None  # already spent atomically in validate_token_request


def client_credentials_scope(client: Client, requested: str | None) -> str:
    """A client_credentials token's scope: only scopes the client is registered for (RFC 6749
    §3.3), and never openid (there is no person)."""
    allowed = client.get_allowed_scope(requested or "")
    return " ".join(s for s in allowed.split() if s != "openid")


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_METHODS

    def generate_token(self, user: Any = None, scope: Any = None, grant_type: Any = None,
                       expires_in: Any = None, include_refresh_token: bool = False) -> Any:
        return _generate(self, client=self.client,
                         scope=client_credentials_scope(self.client, scope), info=None,
                         grant_id=None)

    def save_token(self, token: dict[str, Any]) -> None:
        db.session.commit()  # the issuance record; the token itself is a self-contained JWT


# --- Revocation (RFC 7009) and introspection (RFC 7662) ---
@dataclass
class FoundToken:
    kind: str
    client_id: str
    access: AccessTokenInfo | None = None
    refresh: RefreshView | None = None
    grant: GrantView | None = None

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def is_expired(self) -> bool:
        return False  # only live tokens are found

    def is_revoked(self) -> bool:
        return False


def _find_token(value: str, hint: str | None, revoking: bool = False) -> FoundToken | None:
    """The live token `value`. A refresh token whose SSO session has ended (an online grant)
    is not live, but can still be revoked: revoking it ends its grant's access tokens too."""
    p = provider()

    def as_access() -> FoundToken | None:
        info = p.tokens.check_access_token(value)
        return FoundToken("access_token", info.claims["client_id"], access=info) if info else None

    def as_refresh() -> FoundToken | None:
        found = p.grants.find_refresh(value)
        live = p.grants.current if revoking else p.grants.usable
        if found is None or found[0].spent_at is not None or not live(found[0], found[1]):
            return None
        return FoundToken("refresh_token", found[0].client_id, refresh=found[0], grant=found[1])

    order = (as_refresh, as_access) if hint == "refresh_token" else (as_access, as_refresh)
    for finder in order:
        found_token = finder()
        if found_token:
            return found_token
    return None


class UnsupportedTokenType(InvalidRequestError):
    """RFC 7009 §2.2.1: an error response of RFC 6749 §5.2, so 400 (Authlib answers 401)."""

    error = "unsupported_token_type"


def _check_params(request: Any) -> None:
    if "token" not in request.form:
        raise InvalidRequestError("Missing 'token' in request.")
    hint = request.form.get("token_type_hint")
    if hint and hint not in ("access_token", "refresh_token"):  # never quoted back
        raise UnsupportedTokenType("token_type_hint must be access_token or refresh_token.")


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ALL_METHODS

    def check_params(self, request: Any, client: Client) -> None:
        _check_params(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> FoundToken | None:
        return _find_token(token_string, token_type_hint, revoking=True)

    def authenticate_token(self, request: Any, client: Client) -> FoundToken | None:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        # RFC 7009 §2.1: a token of another client is not revoked, and the answer is still 200.
        return token if token and token.check_client(client) else None

    def revoke_token(self, token: FoundToken, request: Any) -> None:
        p = provider()
        if token.refresh is not None and token.grant is not None:
            p.grants.revoke(token.grant, tag=Tag.TOKEN_REVOKED,
                            actor=Actor.client(token.client_id), ip=flask_request.remote_addr)
        elif token.access is not None:
            p.tokens.revoke_access_token(token.access)
            record_event(Tag.TOKEN_REVOKED, actor=Actor.client(token.client_id),
                         client_id=token.client_id, ip=flask_request.remote_addr,
                         data={"jti": token.access.jti})
            db.session.commit()


def access_token_introspection(claims: dict[str, Any]) -> dict[str, Any]:
    """The introspection answer for an active access token (RFC 7662 §2.2)."""
    names = ("client_id", "sub", "scope", "exp", "iat", "acr", "auth_time", "aud", "iss", "jti")
    return {"active": True, "token_type": "Bearer", **{k: claims[k] for k in names if k in claims}}


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = SECRET_METHODS  # RFC 7662 §2.1: only authenticated clients

    def check_params(self, request: Any, client: Client) -> None:
        _check_params(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> FoundToken | None:
        return _find_token(token_string, token_type_hint)

    def check_permission(self, token: FoundToken, client: Client, request: Any) -> bool:
        """A client learns only about its own tokens, unless it is registered as a resource
        server for the token's client (`idp clients create --introspect-for`). Any other
        answer is `active: false` (RFC 7662 §2.2), so foreign tokens stay opaque."""
        return token.check_client(client) or token.client_id in (client.introspects_for or [])

    def introspect_token(self, token: FoundToken) -> dict[str, Any]:
        if token.access is not None:
            return access_token_introspection(token.access.claims)
        assert token.refresh is not None and token.grant is not None
        p = provider()
        client = p.clients.get(token.client_id)
        sub = p.tokens.subject_for(client, token.grant.user_id) if client else None
        return {"active": True, "token_type": "refresh_token", "client_id": token.client_id,
                "sub": sub, "scope": token.refresh.scope, "acr": token.grant.acr,
                "iat": int(aware(token.refresh.issued_at).timestamp()),
                "exp": int(aware(token.refresh.expires_at).timestamp()), "iss": p.settings.issuer}


def build_server(leeway: int = 30) -> ProviderServer:
    server = ProviderServer()
    # The leeway applies both ways (exp, iat, nbf: Authlib's claims registry) and to our
    # furthest-ahead check; the jti replay cache covers exp + leeway.
    server.register_client_auth_method("private_key_jwt", PrivateKeyJwt(leeway=leeway))
    server.register_grant(AuthorizationCodeGrant, [S256Only(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    return server

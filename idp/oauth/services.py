"""OAuth services: client registration, codes, grants and refresh tokens, consent, claims."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol
from urllib.parse import urlparse

from sqlalchemy import ColumnElement, bindparam, insert, literal, not_, select, update

from idp.accounts.models import User
from idp.accounts.ports import AuthorizedApp
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.clock import Clock
from idp.dbutil import insert_ignoring_duplicates
from idp.extensions import db, get_store
from idp.oauth.models import Client, Consent, Grant, RefreshToken, aware
from idp.security.crypto import KeyedHash, random_token, sha256_hex
from idp.store import Store, StoreUnavailable

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
SCOPES = ("openid", "profile", "phone", "offline_access")
# OIDC Core §11: a grant whose scope has it is "offline": its refresh tokens outlive the SSO
# session they were issued in. Without it a grant is "online", tied to that session.
OFFLINE_ACCESS = "offline_access"
# The operators' JSON API (/admin/api): granted only to a confidential client registered with
# it, and honoured only in a client_credentials token. Not advertised in discovery.
ADMIN_SCOPE = "admin"
REGISTRABLE_SCOPES = (*SCOPES, ADMIN_SCOPE)
SECRET_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
SCOPE_CLAIMS = {
    "profile": ("name", "preferred_username", "updated_at"),
    "phone": ("phone_number", "phone_number_verified"),
}
CLAIMS_SUPPORTED = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr",
                    "sid", "at_hash", "azp", "name", "preferred_username", "updated_at",
                    "phone_number", "phone_number_verified")


class ClientRegistrationError(ValueError):
    pass


@dataclass(frozen=True)
class Registered:
    client: Client
    client_secret: str | None


LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


def _check_uri(uri: str, what: str, allow_loopback_http: bool) -> None:
    """Absolute https URLs without fragment or credentials; http only to a loopback host, and
    only outside production (the integration guide's rule)."""
    try:
        parsed = urlparse(uri)
        host = parsed.hostname
    except ValueError:
        raise ClientRegistrationError(f"{what} is not a valid URL: {uri}") from None
    if parsed.scheme not in {"https", "http"} or not host or "#" in uri or \
            parsed.username is not None or any(ord(c) <= 0x20 or c == "\\" for c in uri):
        raise ClientRegistrationError(f"{what} must be an absolute https URL without fragment: "
                                      f"{uri}")
    if parsed.scheme == "http" and not (allow_loopback_http and host in LOOPBACK_HOSTS):
        where = "on a loopback host in development" if allow_loopback_http else "in development"
        raise ClientRegistrationError(f"{what} must use https (http only {where}): {uri}")


class ClientService:
    """Registers clients and looks them up, caching each lookup per process for `cache_ttl`
    seconds: the token, introspection and revocation endpoints read a client per request."""

    def __init__(self, secret_hasher: KeyedHash, cache_ttl: int = 30,
                 allow_loopback_http: bool = True, clock: Clock | None = None) -> None:
        self.secret_hasher = secret_hasher
        self.clock = clock or Clock()
        self.cache_ttl = cache_ttl
        self.allow_loopback_http = allow_loopback_http
        self._cache: dict[str, tuple[float, Client, Any]] = {}

    def register(self, *, name: str, redirect_uris: list[str], auth_method: str,
                 grant_types: list[str] | None = None, scope: str = "openid profile phone",
                 jwks: dict[str, Any] | None = None, jwks_uri: str | None = None,
                 post_logout_redirect_uris: list[str] | None = None,
                 backchannel_logout_uri: str | None = None, subject_type: str = "public",
                 sector_identifier: str | None = None, first_party: bool = False,
                 id_token_alg: str = "RS256", client_id: str | None = None,  # noqa: S107
                 client_secret: str | None = None, actor: Actor | None = None,
                 require_mfa: bool = False,
                 introspects_for: list[str] | None = None, events_uri: str | None = None,
                 events_delivery: str | None = None) -> Registered:
        grant_types = grant_types or ["authorization_code", "refresh_token"]
        self._validate(name, redirect_uris, auth_method, grant_types, scope, jwks, jwks_uri,
                       post_logout_redirect_uris or [], backchannel_logout_uri, subject_type,
                       sector_identifier, id_token_alg)
        events_delivery = self._check_events(events_uri, events_delivery, auth_method)
        secret = None
        if auth_method in {"client_secret_basic", "client_secret_post"}:
            secret = client_secret or random_token(32)
        client = Client(
            client_id=client_id or "c_" + secrets.token_hex(12), name=name,
            secret_hash=self.secret_hasher.digest(secret) if secret else None,
            auth_method=auth_method, redirect_uris=list(redirect_uris),
            post_logout_redirect_uris=list(post_logout_redirect_uris or []),
            grant_types=list(grant_types), scope=" ".join(scope.split()), jwks=jwks,
            jwks_uri=jwks_uri, backchannel_logout_uri=backchannel_logout_uri,
            subject_type=subject_type,
            # Stored at registration (the redirect URIs' host unless given), so that adding a
            # redirect URI later never changes the pairwise `sub` business systems hold.
            sector_identifier=sector_identifier or default_sector(redirect_uris),
            first_party=first_party, id_token_alg=id_token_alg, require_mfa=require_mfa,
            introspects_for=list(introspects_for or []), events_uri=events_uri,
            events_delivery=events_delivery)
        db.session.add(client)
        db.session.flush()
        record_event(Tag.CLIENT_CREATED, actor=actor or Actor.system(), client_id=client.client_id,
                     data={"name": name, "auth_method": auth_method})
        db.session.flush()
        return Registered(client, secret)

    def _validate(self, name: str, redirect_uris: list[str], auth_method: str,
                  grant_types: list[str], scope: str, jwks: dict[str, Any] | None,
                  jwks_uri: str | None, post_logout: list[str], backchannel: str | None,
                  subject_type: str, sector: str | None, alg: str) -> None:
        if not name.strip():
            raise ClientRegistrationError("name must not be empty")
        if auth_method not in AUTH_METHODS:
            raise ClientRegistrationError(f"auth method must be one of {', '.join(AUTH_METHODS)}")
        for grant in grant_types:
            if grant not in GRANT_TYPES:
                raise ClientRegistrationError(f"grant type must be one of {', '.join(GRANT_TYPES)}")
        if "authorization_code" in grant_types and not redirect_uris:
            raise ClientRegistrationError("authorization_code needs at least one redirect URI")
        if auth_method == "none" and "client_credentials" in grant_types:
            raise ClientRegistrationError("a public client cannot use client_credentials")
        if "refresh_token" in grant_types and "authorization_code" not in grant_types:
            raise ClientRegistrationError("refresh_token needs authorization_code")
        loopback = self.allow_loopback_http
        for uri in redirect_uris:
            _check_uri(uri, "redirect URI", loopback)
        for uri in post_logout:
            _check_uri(uri, "post-logout redirect URI", loopback)
        if backchannel:
            _check_uri(backchannel, "back-channel logout URI", loopback)
        unknown = [s for s in scope.split() if s not in REGISTRABLE_SCOPES]
        if unknown:
            raise ClientRegistrationError(f"unknown scope {unknown[0]}; supported: "
                                          f"{' '.join(REGISTRABLE_SCOPES)}")
        if ADMIN_SCOPE in scope.split() and ("client_credentials" not in grant_types or
                                             auth_method == "none"):
            raise ClientRegistrationError("the admin scope needs a confidential client with "
                                          "the client_credentials grant")
        if auth_method == "private_key_jwt":
            if bool(jwks) == bool(jwks_uri):
                raise ClientRegistrationError("private_key_jwt needs exactly one of a JWKS "
                                              "file or a JWKS URI")
            if jwks and not isinstance(jwks.get("keys"), list):
                raise ClientRegistrationError("the JWKS must be an object with a 'keys' list")
            if jwks and any("d" in k for k in jwks["keys"]):
                raise ClientRegistrationError("the JWKS holds a private key; register only "
                                              "public keys")
            if jwks_uri:
                _check_uri(jwks_uri, "JWKS URI", self.allow_loopback_http)
        if subject_type not in {"public", "pairwise"}:
            raise ClientRegistrationError("subject type must be public or pairwise")
        if subject_type == "pairwise" and not sector:
            hosts = {urlparse(u).hostname for u in redirect_uris}
            if len(hosts) > 1:
                raise ClientRegistrationError("pairwise clients whose redirect URIs span hosts "
                                              "need a sector identifier")
        if sector and not re.fullmatch(r"[A-Za-z0-9.:_-]{1,255}", sector):
            raise ClientRegistrationError("sector identifier must be a host or short name")
        if alg not in {"RS256", "ES256"}:
            raise ClientRegistrationError("ID token algorithm must be RS256 or ES256")

    def _check_events(self, uri: str | None, delivery: str | None,
                      auth_method: str) -> str | None:
        """How the client receives security events (idp.oauth.ssf): "push" to an https
        `uri` (the rule of every registered URI), "poll" (a confidential client: the poll
        endpoint authenticates it), or None. A URI alone means push."""
        delivery = delivery or ("push" if uri else None)
        if delivery not in (None, "push", "poll"):
            raise ClientRegistrationError("events delivery must be push or poll")
        if delivery == "push":
            if not uri:
                raise ClientRegistrationError("push delivery of security events needs an "
                                              "events URI")
            _check_uri(uri, "events URI", self.allow_loopback_http)
        elif uri:
            raise ClientRegistrationError("an events URI is for push delivery only")
        if delivery == "poll" and auth_method == "none":
            raise ClientRegistrationError("a public client cannot poll for security events: "
                                          "the poll endpoint authenticates the client")
        return delivery

    def set_events(self, client_id: str, *, events_uri: str | None, delivery: str | None,
                   actor: Actor) -> None:
        """Change how a registered client receives security events; audited. Events already
        queued stay queued and go by the new way."""
        client = self._locked(client_id)
        client.events_delivery = self._check_events(events_uri, delivery, client.auth_method)
        client.events_uri = events_uri if client.events_delivery == "push" else None
        record_event(Tag.CLIENT_EVENTS_CHANGED, actor=actor, client_id=client.client_id,
                     data={"delivery": client.events_delivery, "uri": client.events_uri})
        self._changed(client)

    def get(self, client_id: str) -> Client | None:
        """The client's registration, disabled or not (callers that authenticate a client
        refuse disabled ones: server.query_client). A cached lookup is used only while the
        client's change marker in the store is the one seen when it was cached, so a secret
        rotated or a client disabled on any node stops here at once."""
        cached = self._cache.get(client_id)
        now = time.monotonic()
        version = self._version(client_id) if self.cache_ttl > 0 else None
        if cached is not None and cached[0] > now and cached[2] == version:
            return cached[1]
        client = db.session.execute(
            select(Client).where(Client.client_id == client_id)).scalar_one_or_none()
        if client is not None and self.cache_ttl > 0 and version is not _UNKNOWN:
            db.session.expunge(client)  # read-only from here; no session's commit expires it
            self._cache[client_id] = (now + self.cache_ttl, client, version)
        return client

    def forget(self, client_id: str | None = None) -> None:
        """Drop cached lookups (one client, or all) after a change in this process."""
        if client_id is None:
            self._cache.clear()
        else:
            self._cache.pop(client_id, None)

    @staticmethod
    def _version(client_id: str) -> Any:
        """The client's change marker in the store (None: unchanged lately). A store that does
        not answer yields a marker no cached entry carries: the database decides."""
        try:
            return get_store().get("client-changed:" + client_id)
        except StoreUnavailable:
            return _UNKNOWN

    def _changed(self, client: Client) -> None:
        """A security decision about a client: committed first (design.md "Durability": a
        deliberate commit, as in SessionService.end), then other workers drop their cached
        copy (a new marker, kept longer than any cache entry lives) and this one its own."""
        db.session.commit()
        with contextlib.suppress(StoreUnavailable):  # no cache outlives the TTL anyway
            get_store().set("client-changed:" + client.client_id, random_token(8),
                            self.cache_ttl + 60)
        self.forget(client.client_id)

    # --- operators' changes: each audited and committed before the caches hear of it ---
    def _locked(self, client_id: str) -> Client:
        client = db.session.execute(select(Client).where(Client.client_id == client_id)
                                    .with_for_update()).scalar_one_or_none()
        if client is None:
            raise ClientRegistrationError(f"no client {client_id}")
        return client

    def rotate_secret(self, client_id: str, actor: Actor) -> str:
        """A new client secret, returned once; the old one stops working at once (only a
        keyed hash is stored). Grants and their refresh tokens are kept: the business system
        changes its configuration, not its users' sessions."""
        client = self._locked(client_id)
        if client.auth_method not in SECRET_AUTH_METHODS:
            raise ClientRegistrationError("only clients that authenticate with a client secret "
                                          "have one to rotate")
        secret = random_token(32)
        client.secret_hash = self.secret_hasher.digest(secret)
        record_event(Tag.CLIENT_SECRET_ROTATED, actor=actor, client_id=client.client_id)
        self._changed(client)
        return secret

    def disable(self, client_id: str, actor: Actor) -> int:
        """Refuse the client everywhere from now on and revoke every grant made to it (their
        refresh tokens and access tokens die with them); every access token issued so far
        stays dead even if the client is enabled again. Returns how many grants ended."""
        client = self._locked(client_id)
        client.disabled = True
        client.tokens_valid_after = self.clock.seconds()  # survives a later enable
        ended = revoke_grants(Grant.client_id == client.client_id)
        record_event(Tag.CLIENT_DISABLED, actor=actor, client_id=client.client_id,
                     data={"grants_revoked": ended})
        self._changed(client)
        return ended

    def enable(self, client_id: str, actor: Actor) -> None:
        """Accept the client again; the grants revoked when it was disabled stay revoked."""
        client = self._locked(client_id)
        client.disabled = False
        record_event(Tag.CLIENT_ENABLED, actor=actor, client_id=client.client_id)
        self._changed(client)


_UNKNOWN = object()  # a change marker the store could not tell


def revoke_grants(*where: ColumnElement[bool]) -> int:
    """Revoke every live grant matching `where` (their refresh tokens die with them, and the
    access tokens descended from them: TokenService.is_revoked). Flushes; the caller commits.
    Returns how many grants ended."""
    result = db.session.execute(update(Grant).where(*where, Grant.revoked_at.is_(None))
                                .values(revoked_at=datetime.now(UTC)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def default_sector(redirect_uris: list[str]) -> str | None:
    hosts = sorted({h for h in (urlparse(uri).hostname for uri in redirect_uris) if h})
    return hosts[0] if hosts else None


@dataclass
class CodeData:
    client_id: str
    redirect_uri: str
    scope: str
    user_id: str
    sid: str
    auth_time: int
    acr: str
    amr: list[str]
    nonce: str | None
    claims: dict[str, Any] | None
    code_challenge: str | None
    code_challenge_method: str | None
    code_hash: str = ""

    def get_redirect_uri(self) -> str:  # Authlib AuthorizationCodeMixin
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class CodeService:
    """Authorization codes live in the store; consuming one is a single atomic GETDEL."""

    def __init__(self, store: Store, ttl: int) -> None:
        self.store = store
        self.ttl = ttl

    def issue(self, data: CodeData) -> str:
        code = random_token(32)
        payload = {k: v for k, v in data.__dict__.items() if k != "code_hash"}
        self.store.set("code:" + sha256_hex(code), json.dumps(payload), self.ttl)
        return code

    def consume(self, code: str, client_id: str) -> CodeData | None:
        """The code's data, consumed, if it exists and was issued to `client_id`. A code that
        another client presents is left in place for its own client (RFC 6749 §4.1.3)."""
        code_hash = sha256_hex(code)
        peeked = self.store.get("code:" + code_hash)
        if peeked is None or json.loads(peeked).get("client_id") != client_id:
            return None
        raw = self.store.getdel("code:" + code_hash)
        if raw is None:  # a twin request consumed it between the two steps
            return None
        return CodeData(**json.loads(raw), code_hash=code_hash)

    def exists(self, code: str) -> bool:
        return self.store.get("code:" + sha256_hex(code)) is not None


@dataclass(frozen=True)
class RefreshView:
    """A refresh token as the refresh and introspection paths read it."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("id", "client_id", "scope", "issued_at",
                                          "expires_at", "spent_at")
    id: int
    client_id: str
    scope: str
    issued_at: datetime
    expires_at: datetime
    spent_at: datetime | None


@dataclass(frozen=True)
class GrantView:
    """A grant's columns (what the refresh path and introspection read; ID token inputs)."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("id", "client_id", "user_id", "sid", "scope",
                                          "auth_time", "acr", "amr", "claims", "created_at",
                                          "revoked_at")
    id: str
    client_id: str
    user_id: str
    sid: str | None
    scope: str
    auth_time: int
    acr: str
    amr: list[str]
    claims: dict[str, Any] | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class AccountView:
    """The account columns a refresh reads: whether it may still get tokens, and the ones
    `user_claims` makes claims of."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("id", "disabled", "name", "username",
                                          "username_chosen", "updated_at", "phone",
                                          "phone_verified")
    id: str
    disabled: bool
    name: str | None
    username: str | None
    username_chosen: bool
    updated_at: datetime | None
    phone: str | None
    phone_verified: bool


# Statement objects built once, so that each execution is a compiled-cache hit; on the tables
# (Core), not the mapped classes: the ORM path spent more on cache keys than on the query.
_T_GRANT, _T_REFRESH, _T_USER = Grant.__table__, RefreshToken.__table__, User.__table__
_INSERT_GRANT = insert(_T_GRANT)
_INSERT_REFRESH = insert(_T_REFRESH)
_FIND_REFRESH = (
    select(*(_T_REFRESH.c[c] for c in RefreshView.COLUMNS),
           *(_T_GRANT.c[c].label("g_" + c) for c in GrantView.COLUMNS),
           *(_T_USER.c[c].label("u_" + c) for c in AccountView.COLUMNS))
    .join(_T_GRANT, _T_GRANT.c.id == _T_REFRESH.c.grant_id)
    .join(_T_USER, _T_USER.c.id == _T_GRANT.c.user_id)
    .where(_T_REFRESH.c.token_hash == bindparam("token_hash")))
_ACCOUNT_VIEW = select(*(_T_USER.c[c] for c in AccountView.COLUMNS)).where(
    _T_USER.c.id == bindparam("user_id"))
_CLAIM_REFRESH = (update(_T_REFRESH)
                  .where(_T_REFRESH.c.id == bindparam("token_id"), _T_REFRESH.c.spent_at.is_(None))
                  .values(spent_at=bindparam("now")))


def refresh_views(m: Any) -> tuple[RefreshView, GrantView, AccountView]:
    """The three views of one `_FIND_REFRESH` row (a mapping by column key)."""
    return (RefreshView(*(m[c] for c in RefreshView.COLUMNS)),
            GrantView(*(m["g_" + c] for c in GrantView.COLUMNS)),
            AccountView(*(m["u_" + c] for c in AccountView.COLUMNS)))


def is_offline(scope: str) -> bool:
    return OFFLINE_ACCESS in scope.split()


def without_offline(scope: str) -> str:
    """`scope` without offline_access: what a request gets when the person was not asked."""
    return " ".join(s for s in scope.split() if s != OFFLINE_ACCESS)


def granted_scope(client: Client, scope: str, prompt: set[str]) -> str:
    """The scope a code may carry, from the request's scopes the client may have
    (`Client.get_allowed_scope`). offline_access only when the person consents to it
    explicitly (OIDC Core §11): a client that shows the consent page lists it there (a remembered
    consent covers it only if it included it); a first-party client, which skips the page,
    gets it only with prompt=consent, which then shows the page."""
    if client.first_party and "consent" not in prompt:
        return without_offline(scope)
    return scope


class SessionLiveness(Protocol):
    """Whether an SSO session lives (accounts.sessions.SessionService.alive)."""

    def alive(self, sid: str, touch: bool = False) -> bool: ...


class GrantService:
    def __init__(self, refresh_ttl: int, max_ttl: int,
                 sessions: SessionLiveness | None = None) -> None:
        self.refresh_ttl = refresh_ttl
        self.max_ttl = max_ttl  # absolute lifetime of a grant from its creation
        self.sessions = sessions  # None: grants are not tied to sessions (tools, tests)

    def create(self, grant_id: str, code: CodeData) -> None:
        """Insert the grant a code was exchanged for (the caller commits). A Core statement,
        not an ORM object: nothing reads it back in this request (bench/README.md)."""
        db.session.execute(_INSERT_GRANT, self.grant_row(grant_id, code))

    @staticmethod
    def grant_row(grant_id: str, code: CodeData) -> dict[str, Any]:
        """The row `_INSERT_GRANT` stores for the grant a code is exchanged for."""
        return dict(
            id=grant_id, client_id=code.client_id, user_id=code.user_id, sid=code.sid,
            scope=code.scope, auth_time=code.auth_time, acr=code.acr, amr=code.amr,
            claims=code.claims, code_hash=code.code_hash, created_at=datetime.now(UTC),
            revoked_at=None)

    def refresh_token_row(self, grant_id: str, client_id: str, scope: str,
                          grant_created: datetime | None = None) -> tuple[str, dict[str, Any]]:
        """A new refresh token's value, and the row `_INSERT_REFRESH` stores for it: it lives
        IDP_REFRESH_TOKEN_TTL, and never past the grant's absolute lifetime (IDP_GRANT_MAX_TTL
        from the grant's creation)."""
        value = random_token(32)
        now = datetime.now(UTC)
        end = aware(grant_created or now) + timedelta(seconds=self.max_ttl)
        return value, dict(
            token_hash=sha256_hex(value), grant_id=grant_id, client_id=client_id, scope=scope,
            issued_at=now, expires_at=min(now + timedelta(seconds=self.refresh_ttl), end),
            spent_at=None)

    def current(self, token: RefreshView, grant: GrantView) -> bool:
        """Not revoked, not expired, and the grant within its absolute lifetime (what the
        database decides)."""
        now = datetime.now(UTC)
        return grant.revoked_at is None and aware(token.expires_at) > now and \
            aware(grant.created_at) + timedelta(seconds=self.max_ttl) > now

    def usable(self, token: RefreshView, grant: GrantView, touch: bool = False) -> bool:
        """Current, and, unless the grant is offline (OIDC Core §11), its SSO session still
        alive: an online refresh token ends with the session, by logout or by expiry. With
        `touch` (a refresh) the use counts as activity in that session. Reads the store for
        an online grant."""
        if not self.current(token, grant):
            return False
        if self.sessions is None or is_offline(grant.scope):
            return True
        return grant.sid is not None and self.sessions.alive(grant.sid, touch=touch)

    def find_refresh(self, value: str) -> tuple[RefreshView, GrantView, AccountView] | None:
        """The token with its grant and account, in one round trip of the columns the refresh
        and introspection paths read (no ORM objects: the hot path, bench/README.md)."""
        row = db.session.execute(_FIND_REFRESH, {"token_hash": sha256_hex(value)}).first()
        return None if row is None else refresh_views(row._mapping)

    def account(self, user_id: str) -> AccountView | None:
        """The account a code was issued for, as the code exchange reads it (one narrow row);
        None if it is gone or disabled: a disabled account gets no tokens."""
        row = db.session.execute(_ACCOUNT_VIEW, {"user_id": user_id}).first()
        view = AccountView(*row) if row is not None else None
        return view if view is not None and not view.disabled else None

    def claim_refresh(self, token: RefreshView) -> bool:
        """Mark the token spent; False if another request spent it first (atomic)."""
        result = db.session.execute(_CLAIM_REFRESH,
                                    {"token_id": token.id, "now": datetime.now(UTC)})
        return result.rowcount == 1  # type: ignore[attr-defined]

    def by_code_hash(self, code_hash: str) -> Grant | None:
        return db.session.execute(
            select(Grant).where(Grant.code_hash == code_hash)).scalar_one_or_none()

    def revoke(self, grant: Grant | GrantView, *, tag: Tag, actor: Actor,
               ip: str | None = None) -> None:
        """Revoke a grant and everything descended from it, then commit."""
        db.session.execute(update(Grant).where(Grant.id == grant.id, Grant.revoked_at.is_(None))
                           .values(revoked_at=datetime.now(UTC)))
        record_event(tag, actor=actor, user_id=grant.user_id, client_id=grant.client_id, ip=ip,
                     data={"grant": grant.id})
        db.session.commit()

    def revoke_all(self, user_id: str, client_id: str | None = None) -> None:
        """Every live grant of an account (optionally: to one client), and its tokens; then
        commit (credentials changed, consent withdrawn)."""
        where = [Grant.user_id == user_id, Grant.revoked_at.is_(None)]
        if client_id:
            where.append(Grant.client_id == client_id)
        db.session.execute(update(Grant).where(*where).values(revoked_at=datetime.now(UTC)))
        db.session.flush()

    def revoke_for_session(self, sid: str) -> None:
        """The end of an SSO session ends the online grants made in it (their refresh tokens
        die with them); offline ones (scope offline_access, OIDC Core §11) live on until the
        person withdraws the authorisation, or their credentials or the client change. The
        caller's transaction commits it together with the end of the session."""
        padded = literal(" ").concat(Grant.scope).concat(" ")
        db.session.execute(update(Grant).where(
            Grant.sid == sid, Grant.revoked_at.is_(None),
            not_(padded.contains(f" {OFFLINE_ACCESS} ", autoescape=True)))
            .values(revoked_at=datetime.now(UTC)))


class ConsentService:
    """Consents per person and client; also the account page's Authorizations port."""

    def __init__(self, grants: GrantService | None = None,
                 clients: ClientService | None = None) -> None:
        self.grants = grants
        self.clients = clients

    def list_for(self, user_id: str) -> list[AuthorizedApp]:
        rows = db.session.execute(
            select(Consent, Client.name).join(Client, Client.client_id == Consent.client_id)
            .where(Consent.user_id == user_id).order_by(Consent.granted_at.desc())).all()
        return [AuthorizedApp(c.client_id, name, c.scope.split(), aware(c.granted_at))
                for c, name in rows]

    def revoke(self, user_id: str, client_id: str, ip: str | None) -> bool:
        """Withdraw consent: the next login asks again, and every grant to the client dies."""
        consent = db.session.get(Consent, (user_id, client_id))
        if consent is None:
            return False
        db.session.delete(consent)
        if self.grants is not None:
            self.grants.revoke_all(user_id, client_id=client_id)
        record_event(Tag.CONSENT_REVOKED, actor=Actor.citizen(user_id), user_id=user_id,
                     client_id=client_id, ip=ip)
        db.session.flush()
        return True

    def client_names(self, client_ids: list[str]) -> dict[str, str]:
        if not client_ids:
            return {}
        rows = db.session.execute(select(Client.client_id, Client.name)
                                  .where(Client.client_id.in_(client_ids))).all()
        return {cid: name for cid, name in rows}

    def covers(self, user_id: str, client_id: str, scope: str) -> bool:
        consent = db.session.get(Consent, (user_id, client_id))
        return consent is not None and set(scope.split()) <= set(consent.scope.split())

    def remember(self, user_id: str, client_id: str, scope: str) -> None:
        """Record (or widen) a consent. An upsert: two "Allow" clicks racing each other both
        succeed, and the scopes of both end up in the one row."""
        now = datetime.now(UTC)
        insert_ignoring_duplicates(Consent, ["user_id", "client_id"], user_id=user_id,
                                   client_id=client_id, scope=scope, granted_at=now)
        consent = db.session.execute(
            select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id)
            .with_for_update().execution_options(populate_existing=True)).scalar_one()
        consent.scope = " ".join(sorted(set(consent.scope.split()) | set(scope.split())))
        consent.granted_at = now
        record_event(Tag.CONSENT_GRANTED, actor=Actor.citizen(user_id), user_id=user_id,
                     client_id=client_id, data={"scope": scope})
        db.session.flush()

    def deny(self, user_id: str, client_id: str) -> None:
        record_event(Tag.CONSENT_DENIED, actor=Actor.citizen(user_id), user_id=user_id,
                     client_id=client_id)
        db.session.flush()


class ClaimsSource(Protocol):
    """What claims are made of: an account, or the narrow rows the hot paths read."""

    @property
    def name(self) -> str | None: ...
    @property
    def username(self) -> str | None: ...
    @property
    def username_chosen(self) -> bool: ...
    @property
    def updated_at(self) -> datetime | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def phone_verified(self) -> bool: ...


def user_claims(user: ClaimsSource, scope: str,
                requested: dict[str, Any] | None = None) -> dict[str, Any]:
    """Claims about `user` for a grant of `scope`. `requested` (the claims parameter) may pick
    among them, e.g. to place them in the ID token, but never adds one that the granted (and
    so registered and consented) scopes do not cover (OIDC Core §5.5)."""
    allowed: set[str] = set()
    for s in scope.split():
        allowed.update(SCOPE_CLAIMS.get(s, ()))
    names = allowed if requested is None else {k for k in requested if k in allowed}
    values: dict[str, Any] = {
        # A username the platform made up is nobody's preferred name (accounts.models).
        "name": user.name,
        "preferred_username": user.username if user.username_chosen else None,
        "updated_at": int(aware(user.updated_at).timestamp()) if user.updated_at else None,
        "phone_number": ("+86" + user.phone) if user.phone else None,
        "phone_number_verified": bool(user.phone_verified) if user.phone else None,
    }
    return {k: values[k] for k in sorted(names) if k in values and values[k] is not None}


MAX_CLAIMS_LENGTH = 4096


def parse_claims_request(raw: str | None) -> dict[str, Any] | None:
    """The `claims` request parameter (OIDC Core §5.5); raises ValueError when malformed, too
    long, or nested deeper than the specification's shape allows."""
    if not raw:
        return None
    if len(raw) > MAX_CLAIMS_LENGTH:
        raise ValueError("claims is too long")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError("claims is nested too deeply") from None
    if not isinstance(value, dict) or any(k not in {"id_token", "userinfo"} for k in value):
        raise ValueError("claims must be an object with id_token and/or userinfo members")
    for member in value.values():
        if member is not None and not isinstance(member, dict):
            raise ValueError("claims members must be objects")
        for request in (member or {}).values():
            if request is not None and not isinstance(request, dict):
                raise ValueError("each requested claim must be null or an object")
            if _depth(request) > 3:
                raise ValueError("claims is nested too deeply")
    return value


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (iterative: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((child, depth) for child in
                         (item.values() if isinstance(item, dict) else item))
    return deepest

"""OAuth tables: clients (业务系统的接入凭据), grants, refresh tokens, consents, signing keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from flask import current_app
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.security.crypto import KeyedHash


def _now() -> datetime:
    return datetime.now(UTC)


def client_secret_hasher() -> KeyedHash:
    return cast(KeyedHash, current_app.extensions["idp.client_secret_hasher"])


class Client(db.Model):  # type: ignore[name-defined]
    """A registered relying party. Implements the methods Authlib's ClientMixin asks for."""

    __tablename__ = "oauth_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    auth_method: Mapped[str] = mapped_column(String(40))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(500))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(500))
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500))
    subject_type: Mapped[str] = mapped_column(String(20), default="public")
    sector_identifier: Mapped[str | None] = mapped_column(String(255))
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    id_token_alg: Mapped[str] = mapped_column(String(10), default="RS256")
    require_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    # Resource-server role: the client_ids whose tokens this client may introspect.
    introspects_for: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A disabled client is refused everywhere (authorize, token, introspection, revocation)
    # and its access tokens stop at once (TokenService.is_revoked); an operator re-enables it.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Access tokens issued at or before this moment (unix seconds) are dead, whatever happens
    # to the client later: set when it is disabled, so enabling it again never revives a
    # client_credentials token (those belong to no grant that could carry the revocation).
    tokens_valid_after: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"))
    # Security events (OpenID Shared Signals, idp.oauth.ssf): "push" to events_uri (RFC 8935),
    # "poll" at /ssf/poll (RFC 8936), or None: the system receives none.
    events_uri: Mapped[str | None] = mapped_column(String(500))
    events_delivery: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    # --- Authlib ClientMixin ---
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OpenID Connect requires redirect_uri on every request

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes the client is registered for, in request order; others are
        ignored. `offline_access` also needs the refresh_token grant (OIDC Core §11: it asks
        for a refresh token), else it is ignored too."""
        if not scope:
            return ""
        allowed = set(self.scope.split())
        if "refresh_token" not in self.grant_types:
            allowed.discard("offline_access")
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.secret_hash:
            return False
        return client_secret_hasher().matches(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @property
    def is_public(self) -> bool:
        return self.auth_method == "none"


class Grant(db.Model):  # type: ignore[name-defined]
    """One authorisation: every token descended from one code shares it, and dies with it."""

    __tablename__ = "oauth_grant"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(80), index=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    sid: Mapped[str | None] = mapped_column(String(40), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    auth_time: Mapped[int] = mapped_column(Integer)
    acr: Mapped[str] = mapped_column(String(20))
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(db.Model):  # type: ignore[name-defined]
    __tablename__ = "oauth_refresh_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("oauth_grant.id", ondelete="CASCADE"),
                                          index=True)
    client_id: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(500))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    spent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TokenIssued(db.Model):  # type: ignore[name-defined]
    """One row per access token issued (client_credentials included): who, which client,
    which grant, when, and the token's `jti`; never the token. What an investigation needs;
    `idp tokens purge` removes rows past IDP_TOKEN_RECORD_RETENTION_DAYS."""

    __tablename__ = "token_issued"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                index=True)
    grant_type: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(80), index=True)
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    grant_id: Mapped[str | None] = mapped_column(String(40), index=True)
    jti: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(500))


class UsedAssertion(db.Model):  # type: ignore[name-defined]
    """A private_key_jwt assertion already used (client, jti) until it expires: the replay
    cache is durable, so a lost Redis never lets an assertion be used twice."""

    __tablename__ = "oauth_used_assertion"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class RevokedToken(db.Model):  # type: ignore[name-defined]
    """An access token revoked before it expired (RFC 7009), by `jti`. Durable: a lost cache
    never makes it active again; `idp tokens purge` removes it once it has expired."""

    __tablename__ = "oauth_revoked_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class LogoutNotice(db.Model):  # type: ignore[name-defined]
    """A back-channel logout owed to one business system for one ended session: queued in
    the same transaction that ends the session's grants, delivered after it commits, and
    retried (`idp logout deliver`) until the business system answers 200. A sender first
    claims it (`claimed_until`, a lease longer than the POST can take), so two senders on
    different nodes never both send it."""

    __tablename__ = "backchannel_notice"
    __table_args__ = (UniqueConstraint("sid", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Consent(db.Model):  # type: ignore[name-defined]
    """What a person agreed to share with one business system (remembered per scope set)."""

    __tablename__ = "oauth_consent"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    scope: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SigningKey(db.Model):  # type: ignore[name-defined]
    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(10))
    private_sealed: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    activates_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SecurityEvent(db.Model):  # type: ignore[name-defined]
    """A Security Event Token (RFC 8417) owed to one business system, queued in the same
    transaction as the account change it reports (idp.oauth.ssf), then pushed in `id` order
    per client (`idp events deliver`) or polled (/ssf/poll). `payload` is the SET's claims,
    naming the person only by the `sub` this system already knows; it is signed each time it
    is sent, with the keys current then, so a system that was down for longer than a retired
    key is published still gets SETs it can verify. A pusher first claims the event
    (`claimed_until`, a lease longer than the POST can take), as for back-channel notices."""

    __tablename__ = "security_event"
    __table_args__ = (
        Index("ix_security_event_client_status", "client_id", "status", "id"),
        Index("ix_security_event_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    client_id: Mapped[str] = mapped_column(String(80))
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def aware(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)

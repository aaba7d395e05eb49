"""Token minting and checking: RFC 9068 JWT access tokens, ID tokens, logout tokens, subjects."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import bindparam, exists, select

from idp.accounts.models import User
from idp.clock import Clock
from idp.extensions import db
from idp.oauth.keys import KeyManager
from idp.oauth.models import Client, Grant, RevokedToken
from idp.security.crypto import KeyedHash, random_token

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass(frozen=True)
class AccessTokenInfo:
    claims: dict[str, Any]

    @property
    def jti(self) -> str:
        return str(self.claims["jti"])

    @property
    def grant_id(self) -> str | None:
        head = self.jti.split(".", 1)[0]
        return None if head == "cc" else head


def half_hash(value: str, alg: str) -> str:
    """at_hash / c_hash: left half of the SHA-256 digest (both RS256 and ES256 use SHA-256)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


class TokenService:
    def __init__(self, keys: KeyManager, issuer: str, pairwise: KeyedHash,
                 access_ttl: int, id_ttl: int, leeway: int = 0,
                 clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.keys = keys
        self.leeway = leeway  # a token minted by a node whose clock runs behind
        self.issuer = issuer
        self.pairwise = pairwise
        self.access_ttl = access_ttl
        self.id_ttl = id_ttl

    # --- subjects ---
    def subject_for(self, client: Client, user_id: str) -> str:
        if client.subject_type != "pairwise":
            return user_id
        sector = sector_of(client)
        return self.pairwise.digest(f"{sector}|{user_id}")[:43]

    # --- signing ---
    def _sign(self, claims: dict[str, Any], alg: str, typ: str = "JWT") -> str:
        key = self.keys.signing_key(alg)
        header = {"alg": alg, "kid": key.kid, "typ": typ}
        return jwt.encode(header, claims, key, algorithms=[alg])

    def access_token(self, *, client: Client, sub: str, scope: str, grant_id: str | None,
                     auth_time: int | None = None, acr: str | None = None,
                     jti: str | None = None) -> tuple[str, int]:
        now = self.clock.seconds()
        jti = jti or self.new_jti(grant_id)
        claims: dict[str, Any] = {"iss": self.issuer, "sub": sub, "aud": client.client_id,
                                  "client_id": client.client_id, "iat": now,
                                  "exp": now + self.access_ttl, "jti": jti, "scope": scope}
        if auth_time is not None:
            claims["auth_time"] = auth_time
        if acr is not None:
            claims["acr"] = acr
        return self._sign(claims, "RS256", typ="at+jwt"), self.access_ttl

    @staticmethod
    def new_jti(grant_id: str | None) -> str:
        """`<grant id>.<random>` (`cc.<random>` for client_credentials): revocation of the
        grant reaches every access token descended from it."""
        return f"{grant_id or 'cc'}.{random_token(12)}"

    def id_token(self, *, client: Client, sub: str, auth_time: int, acr: str, amr: list[str],
                 sid: str | None, nonce: str | None, access_token: str | None,
                 extra: dict[str, Any] | None = None) -> str:
        now = self.clock.seconds()
        alg = client.id_token_alg
        claims: dict[str, Any] = {"iss": self.issuer, "sub": sub, "aud": client.client_id,
                                  "azp": client.client_id, "iat": now, "exp": now + self.id_ttl,
                                  "auth_time": auth_time, "acr": acr, "amr": amr}
        if sid:
            claims["sid"] = sid
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            claims["at_hash"] = half_hash(access_token, alg)
        for name, value in (extra or {}).items():
            claims.setdefault(name, value)
        return self._sign(claims, alg)

    def decode_id_token(self, token: str) -> dict[str, Any] | None:
        """An ID token this provider issued (typ JWT, one audience, an azp), expired or not:
        what `id_token_hint` must be. Access and logout tokens are refused."""
        claims = self.decode(token, check_exp=False, typ="JWT")
        if claims is None or "events" in claims or "scope" in claims or \
                not isinstance(claims.get("aud"), str) or claims.get("azp") != claims["aud"]:
            return None
        return claims

    def logout_token(self, *, client: Client, sub: str, sid: str) -> str:
        now = self.clock.seconds()
        claims = {"iss": self.issuer, "aud": client.client_id, "iat": now, "exp": now + 120,
                  "jti": random_token(16), "sub": sub, "sid": sid,
                  "events": {BACKCHANNEL_EVENT: {}}}
        return self._sign(claims, client.id_token_alg, typ="logout+jwt")

    def security_event_token(self, *, client: Client, claims: dict[str, Any]) -> str:
        """A Security Event Token (RFC 8417) for `client`, signed like its ID tokens and
        explicitly typed (SSF 1.0 §4.1.1: typ secevent+jwt; no `sub`, no `exp`)."""
        return self._sign(claims, client.id_token_alg, typ="secevent+jwt")

    # --- checking ---
    def decode(self, token: str, *, check_exp: bool = True,
               typ: str | None = None) -> dict[str, Any] | None:
        """Verify a token this provider signed; None if forged, foreign, of another type than
        `typ` (header), or (optionally) expired."""
        if len(token) > 8192 or token.count(".") != 2:
            return None
        try:
            decoded = jwt.decode(token, self.keys.verify_set(), algorithms=["RS256", "ES256"])
        except (JoseError, ValueError, TypeError, KeyError):
            return None
        if typ is not None and decoded.header.get("typ") != typ:
            return None
        claims = dict(decoded.claims)
        if claims.get("iss") != self.issuer:
            return None
        if check_exp and int(claims.get("exp", 0)) + self.leeway <= self.clock.seconds():
            return None
        return claims

    def check_access_token(self, token: str) -> AccessTokenInfo | None:
        """Authoritative check: signature, type, expiry, and revocation as the database records
        it (the token's own `jti`, or its grant): no cache can forget a revocation."""
        info = self._signed_access_token(token)
        return None if info is None or self.is_revoked(info) else info

    def _signed_access_token(self, token: str) -> AccessTokenInfo | None:
        """An access token this provider signed, unexpired, with the claims revocation reads;
        revocation itself is the caller's check."""
        claims = self.decode(token, typ="at+jwt") if token.count(".") == 2 else None
        if claims is None or "jti" not in claims or "client_id" not in claims:
            return None
        return AccessTokenInfo(claims)

    def is_revoked(self, info: AccessTokenInfo) -> bool:
        """Revoked by `jti`, through its grant, or because an operator disabled its client
        (now, or at any time after the token was issued): one round trip to the database,
        never a cache."""
        return any(db.session.execute(_IS_REVOKED, _revocation_params(info)).one())

    def account_for_userinfo(self, token: str) -> tuple[AccessTokenInfo, Any] | None:
        """UserInfo's whole check in one round trip: the token verified, then the columns the
        claims are made of, read only if no revocation applies (the same ones as
        `is_revoked`), the grant is live and the account not disabled. None otherwise."""
        info = self._signed_access_token(token)
        if info is None or info.grant_id is None:
            return None
        row = db.session.execute(_USERINFO_ACCOUNT, _revocation_params(info)).first()
        return (info, row) if row is not None else None

    def revoke_access_token(self, info: AccessTokenInfo) -> None:
        """Record the revocation (the caller commits); revoking twice is harmless."""
        if db.session.get(RevokedToken, info.jti) is None:
            db.session.add(RevokedToken(
                jti=info.jti, client_id=str(info.claims["client_id"]),
                expires_at=datetime.fromtimestamp(int(info.claims["exp"]), UTC)))


# Each way an access token can be revoked, as an EXISTS clause (true: revoked): by its `jti`,
# by its client (disabled, or its tokens cut off at or after the token's `iat`), or by its
# grant. Built once with bound parameters, so each request reuses the compiled statement.
_T_REVOKED, _T_CLIENT, _T_GRANT, _T_USER = (RevokedToken.__table__, Client.__table__,
                                            Grant.__table__, User.__table__)
_REVOCATIONS = (
    exists().where(_T_REVOKED.c.jti == bindparam("jti")),
    exists().where(_T_CLIENT.c.client_id == bindparam("client_id"),
                   _T_CLIENT.c.disabled.is_(True)
                   | (_T_CLIENT.c.tokens_valid_after >= bindparam("iat"))),
    exists().where(_T_GRANT.c.id == bindparam("grant_id"), _T_GRANT.c.revoked_at.is_not(None)),
)
_IS_REVOKED = select(*_REVOCATIONS)
_USERINFO_ACCOUNT = (
    select(_T_USER.c.id, _T_USER.c.name, _T_USER.c.username, _T_USER.c.username_chosen,
           _T_USER.c.updated_at,
           _T_USER.c.phone, _T_USER.c.phone_verified)
    .join(_T_GRANT, _T_GRANT.c.user_id == _T_USER.c.id)
    .where(_T_GRANT.c.id == bindparam("grant_id"), _T_USER.c.disabled.is_(False),
           *(~revoked for revoked in _REVOCATIONS)))


def _revocation_params(info: AccessTokenInfo) -> dict[str, Any]:
    return {"jti": info.jti, "client_id": str(info.claims["client_id"]),
            "iat": int(info.claims.get("iat", 0)), "grant_id": info.grant_id}


def sector_of(client: Client) -> str:
    """The sector a pairwise subject is computed for: stored at registration (migration 0005
    filled it in for clients registered before)."""
    return client.sector_identifier or client.client_id

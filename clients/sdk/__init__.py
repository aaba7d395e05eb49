"""Python SDK for business systems: discovery, code + PKCE, token checks with python-jose,
security events (OpenID Shared Signals) received and verified."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from jose import jws, jwt
from jose.exceptions import JOSEError

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class TokenError(Exception):
    """A token from the provider failed verification."""


class SecurityEventError(TokenError):
    """A Security Event Token failed verification; `err` is the RFC 8935 §2.4 error code a
    push endpoint answers with (invalid_request, invalid_key, invalid_issuer,
    invalid_audience)."""

    def __init__(self, err: str, description: str) -> None:
        super().__init__(description)
        self.err = err
        self.description = description


class ProviderError(Exception):
    """The provider answered with an OAuth error (`error`, `error_description`)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('error')}: {body.get('error_description')}")
        self.status = status
        self.error = body.get("error")
        self.body = body


def make_pkce() -> tuple[str, str]:
    """Return (code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


@dataclass
class OidcClient:
    issuer: str
    client_id: str
    client_secret: str | None = None
    redirect_uri: str | None = None
    auth_method: str = "client_secret_basic"
    private_jwk: dict[str, Any] | None = None  # for private_key_jwt
    http: requests.Session = field(default_factory=requests.Session)
    leeway: int = 30
    # Seconds since the epoch, for a SET's iat and a client assertion's times: the business
    # system's clock (a test shares the provider's test clock; ID tokens use python-jose's).
    clock: Callable[[], float] = time.time
    _config: dict[str, Any] | None = None
    _jwks: dict[str, Any] | None = None

    # --- discovery ---
    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            url = self.issuer + "/.well-known/openid-configuration"
            response = self.http.get(url, timeout=10)
            response.raise_for_status()
            config = response.json()
            if config.get("issuer") != self.issuer:
                raise TokenError("discovery issuer does not match the configured issuer")
            self._config = config
        return self._config

    def jwks(self, refresh: bool = False) -> dict[str, Any]:
        if self._jwks is None or refresh:
            response = self.http.get(self.config["jwks_uri"], timeout=10)
            response.raise_for_status()
            self._jwks = response.json()
        return self._jwks

    # --- front channel ---
    def authorization_url(self, *, state: str, nonce: str, code_challenge: str,
                          scope: str = "openid profile", **extra: str) -> str:
        params = {"response_type": "code", "client_id": self.client_id,
                  "redirect_uri": self.redirect_uri or "", "scope": scope, "state": state,
                  "nonce": nonce, "code_challenge": code_challenge,
                  "code_challenge_method": "S256", **extra}
        return self.config["authorization_endpoint"] + "?" + urlencode(params)

    def end_session_url(self, *, id_token_hint: str, post_logout_redirect_uri: str | None = None,
                        state: str | None = None) -> str:
        params = {"id_token_hint": id_token_hint, "client_id": self.client_id}
        if post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
        if state:
            params["state"] = state
        return self.config["end_session_endpoint"] + "?" + urlencode(params)

    # --- back channel ---
    def _client_auth(self, endpoint: str, data: dict[str, str]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.auth_method == "client_secret_basic":
            kwargs["auth"] = (self.client_id, self.client_secret or "")
        elif self.auth_method == "client_secret_post":
            data.update(client_id=self.client_id, client_secret=self.client_secret or "")
        elif self.auth_method == "private_key_jwt":
            data.update(client_assertion_type="urn:ietf:params:oauth:client-assertion-type:"
                        "jwt-bearer", client_assertion=self.client_assertion(endpoint))
        else:
            data["client_id"] = self.client_id
        return kwargs

    def client_assertion(self, audience: str) -> str:
        if not self.private_jwk:
            raise ValueError("private_key_jwt needs private_jwk")
        now = int(self.clock())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": audience,
                  "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}
        headers = {"kid": self.private_jwk.get("kid")} if self.private_jwk.get("kid") else None
        return jwt.encode(claims, self.private_jwk, algorithm=self.private_jwk.get("alg", "RS256"),
                          headers=headers)

    def _post(self, endpoint: str, data: dict[str, str]) -> dict[str, Any]:
        url = self.config[endpoint]
        kwargs = self._client_auth(url, data)
        response = self.http.post(url, data=data, timeout=10, **kwargs)
        body = response.json() if response.content else {}
        if response.status_code != 200:
            raise ProviderError(response.status_code, body)
        return body

    def exchange_code(self, code: str, code_verifier: str) -> dict[str, Any]:
        return self._post("token_endpoint", {"grant_type": "authorization_code", "code": code,
                                             "redirect_uri": self.redirect_uri or "",
                                             "code_verifier": code_verifier})

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        return self._post("token_endpoint", {"grant_type": "refresh_token",
                                             "refresh_token": refresh_token})

    def client_credentials(self, scope: str | None = None) -> dict[str, Any]:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        return self._post("token_endpoint", data)

    def revoke(self, token: str, hint: str | None = None) -> None:
        data = {"token": token}
        if hint:
            data["token_type_hint"] = hint
        self._post("revocation_endpoint", data)

    def introspect(self, token: str) -> dict[str, Any]:
        return self._post("introspection_endpoint", {"token": token})

    def userinfo(self, access_token: str) -> dict[str, Any]:
        response = self.http.get(self.config["userinfo_endpoint"], timeout=10,
                                 headers={"Authorization": "Bearer " + access_token})
        if response.status_code != 200:
            raise ProviderError(response.status_code, response.json())
        return response.json()

    # --- verification (python-jose: independent of the provider's joserfc) ---
    def _decode(self, token: str, **options: Any) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise TokenError(f"malformed token: {exc}") from exc
        kid = header.get("kid")
        keys = [k for k in self.jwks()["keys"] if k.get("kid") == kid]
        if not keys:  # the provider may have rotated: fetch once more
            keys = [k for k in self.jwks(refresh=True)["keys"] if k.get("kid") == kid]
        if not keys:
            raise TokenError("no provider key matches the token's kid")
        try:
            return jwt.decode(token, keys[0], algorithms=["RS256", "ES256"],
                              audience=self.client_id, issuer=self.issuer,
                              options={"leeway": self.leeway, **options})
        except JOSEError as exc:
            raise TokenError(str(exc)) from exc

    def verify_id_token(self, id_token: str, *, nonce: str | None = None,
                        access_token: str | None = None) -> dict[str, Any]:
        claims = self._decode(id_token, verify_at_hash=False)
        if nonce is not None and claims.get("nonce") != nonce:
            raise TokenError("nonce mismatch")
        if access_token is not None and claims.get("at_hash") != _half_hash(access_token):
            raise TokenError("at_hash mismatch")
        for name in ("sub", "iat", "exp", "auth_time"):
            if name not in claims:
                raise TokenError(f"ID token lacks {name}")
        return claims

    def verify_logout_token(self, logout_token: str) -> dict[str, Any]:
        """OpenID Connect Back-Channel Logout 1.0 §2.6 validation."""
        if jwt.get_unverified_header(logout_token).get("typ") != "logout+jwt":
            raise TokenError("logout token typ must be logout+jwt")
        claims = self._decode(logout_token)
        if BACKCHANNEL_EVENT not in (claims.get("events") or {}):
            raise TokenError("logout token lacks the back-channel logout event")
        if "nonce" in claims:
            raise TokenError("logout token must not contain nonce")
        if not claims.get("sid") and not claims.get("sub"):
            raise TokenError("logout token needs sid or sub")
        if not claims.get("jti"):
            raise TokenError("logout token needs jti")
        return claims


    def verify_security_event(self, token: str) -> dict[str, Any]:
        """A Security Event Token (RFC 8417) as OpenID SSF 1.0 §4 profiles it: explicitly
        typed secevent+jwt, signed by one of the provider's keys (JWKS), issued by this
        issuer for this client (`aud`), with `jti`, an `iat` not ahead of the clock (beyond
        the leeway), `sub_id` and one event; no `sub` and no `exp`. Returns the claims; raises
        SecurityEventError (a TokenError) naming the RFC 8935 error code otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise SecurityEventError("invalid_request", "the SET is not a JWT") from exc
        if header.get("typ") != "secevent+jwt":
            raise SecurityEventError("invalid_request", "the SET's typ must be secevent+jwt")
        kid = header.get("kid")
        keys = [k for k in self.jwks()["keys"] if k.get("kid") == kid] or \
            [k for k in self.jwks(refresh=True)["keys"] if k.get("kid") == kid]
        if not keys:
            raise SecurityEventError("invalid_key", "no provider key matches the SET's kid")
        try:
            claims = json.loads(jws.verify(token, keys[0], algorithms=["RS256", "ES256"]))
        except (JOSEError, ValueError) as exc:
            raise SecurityEventError("invalid_key", "the SET's signature is not valid") \
                from exc
        if not isinstance(claims, dict):
            raise SecurityEventError("invalid_request", "the SET's claims are not an object")
        self._check_security_event(claims)
        return claims

    def _check_security_event(self, claims: dict[str, Any]) -> None:
        if claims.get("iss") != self.issuer:
            raise SecurityEventError("invalid_issuer", "the SET was issued by another issuer")
        audience = claims.get("aud")
        if self.client_id not in (audience if isinstance(audience, list) else [audience]):
            raise SecurityEventError("invalid_audience", "the SET is for another audience")
        iat = claims.get("iat")
        if not isinstance(iat, int) or isinstance(iat, bool) or \
                iat > int(self.clock()) + self.leeway:
            raise SecurityEventError("invalid_request", "the SET's iat is missing or ahead "
                                     "of the clock")
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise SecurityEventError("invalid_request", "the SET lacks a jti")
        events = claims.get("events")
        if not isinstance(events, dict) or not events or \
                not all(isinstance(v, dict) for v in events.values()):
            raise SecurityEventError("invalid_request", "the SET carries no event")
        if not isinstance(claims.get("sub_id"), dict) or "format" not in claims["sub_id"]:
            raise SecurityEventError("invalid_request", "the SET lacks a sub_id")
        if "sub" in claims or "exp" in claims:
            raise SecurityEventError("invalid_request", "a SET carries neither sub nor exp "
                                     "(SSF 1.0 section 4.1)")


def security_event_subject(claims: dict[str, Any]) -> str | None:
    """The `sub` of a verified SET's `iss_sub` subject: the same `sub` the business system
    received in the person's ID tokens (pairwise where it is pairwise)."""
    subject = claims.get("sub_id") or {}
    return subject.get("sub") if subject.get("format") == "iss_sub" else None


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)

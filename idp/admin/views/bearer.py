"""The JSON API's authentication (RFC 6750): a bearer access token this provider issued by
client_credentials with the `admin` scope, checked by the provider's own token service
(signature, type, issuer, expiry, revocation, and a client that is still enabled)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, jsonify, request
from werkzeug.wrappers import Response

from idp.audit.actors import Actor
from idp.oauth.server import provider
from idp.oauth.services import ADMIN_SCOPE
from idp.oauth.tokens import AccessTokenInfo

REALM = "admin"
View = Callable[..., Response]


def api_error(error: str, description: str, status: int,
              challenge: bool = False, **extra: Any) -> Response:
    """An RFC 6749 §5.2-shaped JSON error; on 401/403 the RFC 6750 §3 challenge too."""
    response = jsonify({"error": error, "error_description": description, **extra})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if challenge:
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="{REALM}", error="{error}", error_description="{description}"'
            + (f', scope="{ADMIN_SCOPE}"' if error == "insufficient_scope" else ""))
    return response


def _presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def check_bearer() -> AccessTokenInfo | Response:
    """The token's verified claims, or the RFC 6750 answer: 401 without a token (a bare
    challenge) or with an invalid one; 403 for a token without the admin scope or one a
    person's login produced (the API acts for a system, never on a person's behalf)."""
    value = _presented_token()
    if not value:
        response = api_error("invalid_request", "No bearer access token was sent.", 401)
        response.headers["WWW-Authenticate"] = f'Bearer realm="{REALM}"'
        return response
    info = provider().tokens.check_access_token(value)
    if info is None or info.claims.get("aud") != info.claims.get("client_id"):
        return api_error("invalid_token", "The access token is invalid, expired or revoked.",
                         401, challenge=True)
    if info.grant_id is not None or ADMIN_SCOPE not in str(info.claims.get("scope", "")).split():
        return api_error("insufficient_scope", "The token lacks the admin scope of a "
                         "client_credentials grant.", 403, challenge=True)
    return info


def bearer_required(view: View) -> View:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        checked = check_bearer()
        if isinstance(checked, Response):
            return checked
        g.api_token = checked
        return view(*args, **kwargs)

    return wrapper


def api_actor() -> Actor:
    """Changes made through the API are audited as the calling client."""
    info: AccessTokenInfo = g.api_token
    return Actor.client(str(info.claims["client_id"]))

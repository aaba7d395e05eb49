"""HTTP endpoints of the provider: discovery, JWKS, authorize, token, userinfo, logout."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import (
    Blueprint,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from idp.accounts.assurance import amr_for, has_mfa, level_needs_mfa, session_acr
from idp.accounts.labels import consent_items
from idp.accounts.services import SessionAccount
from idp.accounts.sessions import SsoSession
from idp.accounts.views import (
    SESSION_COOKIE,
    clear_session_cookie,
    current_sso,
    form_expired_page,
)
from idp.audit.actors import Actor
from idp.dbutil import autocommit_unit
from idp.extensions import csrf
from idp.http import error_page, error_response
from idp.oauth.models import Client
from idp.oauth.server import DESCRIPTION_SAFE, Authorizee, provider
from idp.oauth.services import (
    CLAIMS_SUPPORTED,
    SCOPE_CLAIMS,
    SCOPES,
    granted_scope,
    is_offline,
    parse_claims_request,
)
from idp.oauth.services import user_claims as release_claims
from realname import TrustLevel

bp = Blueprint("oauth", __name__)
TRUST_LEVELS = tuple(level.acr for level in TrustLevel)


# --- Discovery and keys ---
@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    iss = provider().settings.issuer
    doc = {
        "issuer": iss,
        "authorization_endpoint": iss + "/authorize",
        "token_endpoint": iss + "/token",
        "userinfo_endpoint": iss + "/userinfo",
        "jwks_uri": iss + "/jwks",
        "revocation_endpoint": iss + "/revoke",
        "introspection_endpoint": iss + "/introspect",
        "end_session_endpoint": iss + "/logout",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                  "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "PS256"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic",
                                                       "client_secret_post", "private_key_jwt",
                                                       "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post",
                                                          "private_key_jwt"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "acr_values_supported": list(TRUST_LEVELS),
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["zh-CN", "en"],
        "claims_locales_supported": ["zh-CN"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "authorization_response_iss_parameter_supported": False,
    }
    response = jsonify(doc)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/jwks")
def jwks() -> Response:
    response = jsonify(provider().keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# --- Authorization endpoint ---
def _error_page(error: str, description: str, status: int = 400,
                client: Client | None = None) -> Response:
    """A refused request that cannot go back to the business system: what happened, the way
    home (and to the system's site when the client is known), the error code small."""
    return error_page(status, error, _(
        "The business system sent a request this platform cannot accept, so you were not sent "
        "back to it."), heading=_("Request refused"), description=description,
        back=_site_of(client))


def _site_of(client: Client | None) -> tuple[str, str] | None:
    """(address, name) of a known business system's site: the origin of its first registered
    redirect URI (an address its operators registered, never one from the request)."""
    if client is None or client.disabled:
        return None
    for uri in client.redirect_uris:
        parts = urlsplit(uri)
        if parts.scheme in ("https", "http") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}/", client.name
    return None


def _redirect_error(redirect_uri: str, error: str, description: str) -> Response:
    params = [("error", error), ("error_description", description)]
    if request.values.get("state"):
        params.append(("state", request.values["state"]))
    return redirect(add_params_to_uri(redirect_uri, params), 302)


def _oauth_error(error: OAuth2Error) -> Response:
    """Redirect only when the client and redirect_uri were verified (RFC 6749 §4.1.2.1)."""
    if error.redirect_uri:
        error.state = request.values.get("state")
        status, body, headers = error()
        return Response(body, status=status, headers=headers)
    client_id = request.values.get("client_id")
    return _error_page(error.error, error.get_error_description() or error.error,
                       client=provider().clients.get(client_id) if client_id else None)


def _request_key() -> str:
    items = sorted((k, v) for k, v in request.args.items(multi=True))
    return hashlib.sha256(urlencode(items).encode()).hexdigest()[:32]


def requested_acrs(acr_values: str | None, claims: dict[str, Any] | None) -> list[str]:
    """Every acr the request names: `acr_values`, and the `acr` member of the claims
    parameter's id_token object (`value` or `values`), read alike (OIDC Core §5.5.1.1).
    Malformed members count as values we do not know."""
    wanted = (acr_values or "").split()
    acr_claim = ((claims or {}).get("id_token") or {}).get("acr")
    if isinstance(acr_claim, dict):
        values = acr_claim.get("values", [])
        values = values if isinstance(values, list) else [values]
        if "value" in acr_claim:
            values = [*values, acr_claim["value"]]
        wanted += [v if isinstance(v, str) else "?" for v in values]
    return wanted


def target_level(wanted: list[str], trust_level: int) -> int | None | bool:
    """The level to assert for the requested acrs: the highest requested one the account
    reaches (ADR 0005: values are minimums; unknown ones are ignored). None when nothing was
    requested; False when nothing requested can be met."""
    if not wanted:
        return None
    reachable = [int(v) for v in wanted if v in TRUST_LEVELS and int(v) <= trust_level]
    return max(reachable) if reachable else False


# Parameters Authlib may quote in an error description. RFC 6749 §5.2 allows there only
# printable ASCII without '"' and '\\', so a value outside that set is refused here, before
# Authlib sees it (it would raise instead of answering). Free-form parameters (state, nonce,
# login_hint, claims …) are never quoted and stay free.
QUOTED_PARAMETERS = ("response_type", "grant_type", "redirect_uri", "scope", "client_id",
                     "token_type_hint", "code_challenge_method", "response_mode",
                     "client_assertion_type")


def odd_parameter() -> str | None:
    """The first parameter whose value an RFC error description could not quote, if any."""
    for name in QUOTED_PARAMETERS:
        for value in request.values.getlist(name):
            if len(value) > 2048 or not DESCRIPTION_SAFE.fullmatch(value):
                return name
    return None


def _refuse_odd_parameter() -> Response | None:
    name = odd_parameter()
    if name is None:
        return None
    return error_response(400, "invalid_request",
                          _("The request contains characters that are not allowed."),
                          f"The {name} parameter has characters that are not allowed.")


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt  # relying parties may POST authorization requests; the consent form checks CSRF
def authorize() -> Response:
    p = provider()
    refused = _refuse_odd_parameter()
    if refused is not None:
        return refused
    try:
        grant = p.server.get_consent_grant(end_user=None)
    except OAuth2Error as exc:
        return _oauth_error(exc)
    for name, error in (("request", "request_not_supported"),
                        ("request_uri", "request_uri_not_supported"),
                        ("registration", "registration_not_supported")):
        if name in request.values:
            return _redirect_error(grant.redirect_uri, error, f"'{name}' is not supported.")
    redirect_uri: str = grant.redirect_uri
    client: Client = grant.client
    values = request.values

    prompt = set(values.get("prompt", "").split())
    if "none" in prompt and len(prompt) > 1:
        return _redirect_error(redirect_uri, "invalid_request",
                               "prompt=none cannot be combined with other values.")
    max_age = values.get("max_age")
    if max_age is not None and not re.fullmatch(r"[0-9]{1,9}", max_age):
        return _redirect_error(redirect_uri, "invalid_request", "max_age must be an integer.")
    if max_age == "0":
        prompt.add("login")  # OIDC Core §3.1.2.1: max_age=0 is prompt=login
    try:
        claims = parse_claims_request(values.get("claims"))
    except ValueError:
        return _redirect_error(redirect_uri, "invalid_request", "claims is not valid JSON.")

    if request.method == "GET":
        autocommit_unit()  # reads only: the consent decision, which writes, is a POST
    sso = current_sso(touch=True)
    user = p.accounts.session_account(sso)
    if user is None:
        sso = None
    now = p.tokens.clock.seconds()
    key = _request_key()
    login_after = session.get("login_after", {})
    # A login made in answer to this very request satisfies prompt=login and max_age (else
    # max_age=0 would send the person back to the login page forever). It is told apart by
    # the session's authentication count, not by comparing clocks: the login may have been
    # served by another node whose clock differs.
    asked_at = login_after.get(key)
    fresh = sso is not None and asked_at is not None and (
        sso.sid != asked_at[0] or sso.auth_count > asked_at[1])
    leeway = p.settings.clock_leeway
    needs_login = sso is None or (not fresh and (
        "login" in prompt or (max_age is not None and
                              now - sso.auth_time > int(max_age) + leeway)))
    if needs_login:
        if "none" in prompt:
            return _redirect_error(redirect_uri, "login_required", "The person must log in.")
        session["login_after"] = {key: [sso.sid, sso.auth_count] if sso else ["", 0]}
        params: dict[str, Any] = {"next": request.full_path}
        for name in ("login_hint", "ui_locales"):
            if values.get(name):
                params[name] = values[name]
        return redirect(url_for("accounts.login", **params))
    assert sso is not None and user is not None

    wanted = requested_acrs(values.get("acr_values"), claims)
    target = target_level(wanted, user.trust_level)
    declined = session.pop("verify_declined", None) == request.full_path
    if target is False:
        # Levels are raised by verification (ADR 0005): the person is sent to verify and comes
        # back to this very request, unless they cannot interact or already declined.
        known = sorted(int(v) for v in wanted if v in TRUST_LEVELS)
        if "none" in prompt or declined or not known:
            return _redirect_error(redirect_uri, "unmet_authentication_requirements",
                                   "The account's trust level is below the requested acr.")
        return redirect(url_for("identity.verify", level=known[0], next=request.full_path))
    mfa_levels = p.settings.mfa_levels
    if not has_mfa(sso.amr) and (client.require_mfa or (
            target is not None and level_needs_mfa(target, mfa_levels))):
        if "none" in prompt:
            return _redirect_error(redirect_uri, "interaction_required",
                                   "A second factor is required.")
        return redirect(url_for("accounts.second_factor", next=request.full_path))

    scope = granted_scope(client, grant.request.scope or "", prompt)
    grant.request.scope = scope  # what the code carries
    if "openid" not in scope.split():
        return _redirect_error(redirect_uri, "invalid_scope", "The openid scope is required.")
    # The consent page: for a client that is not first-party, unless a remembered consent
    # covers every scope; for a first-party one, only to ask for offline_access (OIDC Core §11).
    if client.first_party:
        ask = is_offline(scope)
    else:
        ask = "consent" in prompt or not p.consents.covers(user.id, client.client_id, scope)
    if ask:
        if "none" in prompt:
            return _redirect_error(redirect_uri, "consent_required",
                                   "The person has not consented to this client.")
        decision = request.form.get("decision") if request.method == "POST" else None
        if decision is None:
            return _consent_page(client, user, scope)
        try:
            validate_csrf(request.form.get("csrf_token"))
        except (ValidationError, CSRFError):
            return form_expired_page(request.full_path)
        if decision != "allow":
            p.consents.deny(user.id, client.client_id)
            return _redirect_error(redirect_uri, "access_denied", "The person declined.")
        p.consents.remember(user.id, client.client_id, scope)

    # The level this session may assert: never one whose policy needs a factor it lacks.
    acr = session_acr(user.trust_level, sso.amr, mfa_levels)
    authorizee = Authorizee(id=user.id, sid=sso.sid, auth_time=sso.auth_time,
                            acr=str(acr), amr=amr_for(sso.amr),
                            nonce=values.get("nonce"), claims=claims)
    response = _authorization_response(grant, authorizee)
    p.sessions.add_client(sso, client.client_id)
    session.pop("login_after", None)
    return response


def _authorization_response(grant: Any, authorizee: Authorizee) -> Response:
    """The code response for a request `get_consent_grant` has already validated: Authlib's
    `create_authorization_response` would parse and validate the whole request again."""
    p = provider()
    try:
        args = grant.create_authorization_response(grant.redirect_uri, authorizee)
        response: Response = p.server.handle_response(*args)
    except OAuth2Error as error:
        error.state = request.values.get("state")
        response = p.server.handle_error_response(grant.request, error)
    grant.execute_hook("after_authorization_response", response)
    return response


def _consent_page(client: Client, user: SessionAccount, scope: str) -> Response:
    # Each requested scope in words: what it is, what it is used for, the claims it releases.
    # The claims parameter releases nothing beyond these scopes (services.user_claims), so the
    # page lists the scopes alone.
    items = consent_items(scope.split(), SCOPE_CLAIMS)
    # The whole account, for the name the page greets the person by (display_name); the
    # narrow SessionAccount of the hot path lacks it.
    person = provider().accounts.get(user.id)
    if person is None:  # removed since the session was read: log in again
        return redirect(url_for("accounts.login", next=request.full_path))
    return make_response(render_template("consent.html", client=client, user=person,
                                         items=items, action=request.full_path))


# --- Token, revocation, introspection ---
@bp.post("/token")
@csrf.exempt
def token() -> Response:
    if request.form.get("grant_type") == "client_credentials":
        autocommit_unit()  # one write: the issuance record
    response: Response = _refuse_odd_parameter() or provider().server.create_token_response()
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/revoke")
@csrf.exempt
def revoke() -> Response:
    response: Response = _refuse_odd_parameter() or \
        provider().server.create_endpoint_response("revocation")
    return response


@bp.post("/introspect")
@csrf.exempt
def introspect() -> Response:
    autocommit_unit()  # reads only
    response: Response = _refuse_odd_parameter() or \
        provider().server.create_endpoint_response("introspection")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- UserInfo ---
def _bearer_error(error: str, description: str, status: int) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["WWW-Authenticate"] = (f'Bearer error="{error}", '
                                            f'error_description="{description}"')
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo() -> Response:
    p = provider()
    auth = request.headers.get("Authorization", "")
    value = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    if value is not None and request.form.get("access_token"):
        return _bearer_error("invalid_request", "Send the access token in one place only.", 400)
    if value is None and request.method == "POST":
        value = request.form.get("access_token")  # RFC 6750 §2.2
    if not value:
        response = _bearer_error("invalid_request", "No access token was sent.", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="userinfo"'
        return response
    autocommit_unit()  # reads only
    found = p.tokens.account_for_userinfo(value)
    if found is None:
        return _bearer_error("invalid_token", "The access token is invalid or expired.", 401)
    info, user = found
    if "openid" not in str(info.claims.get("scope", "")).split():
        return _bearer_error("insufficient_scope", "The token lacks the openid scope.", 403)
    # Every claim the token's scope covers; the claims parameter can add none (OIDC Core §5.5).
    body = {"sub": info.claims["sub"], **release_claims(user, info.claims["scope"])}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) ---
@dataclass(frozen=True)
class LogoutRequest:
    """A validated logout request: the business system that sent it when known (by
    `id_token_hint` or `client_id`), the `post_logout_redirect_uri` when it is registered for
    that system, and the hint's claims."""

    client: Client | None
    target: str | None
    hint: dict[str, Any] | None


def _logout_request() -> LogoutRequest | Response:
    """Validate id_token_hint, client_id and post_logout_redirect_uri (RP-Initiated Logout
    §2-3); the error page if they are bad. A post_logout_redirect_uri without a hint or a
    client_id cannot be checked against any registration: it is dropped, never followed."""
    p = provider()
    values = request.values
    hint_claims = None
    client_id = values.get("client_id")
    if values.get("id_token_hint"):
        hint_claims = p.tokens.decode_id_token(values["id_token_hint"])
        if hint_claims is None:
            return _error_page("invalid_request", _("The logout request is not valid."))
        hint_client = hint_claims["aud"]
        if client_id and client_id != hint_client:
            return _error_page("invalid_request", _("The logout request is not valid."))
        client_id = hint_client
    client = p.clients.get(client_id) if client_id else None
    if client_id and client is None:
        return _error_page("invalid_request", _("The logout request is not valid."))
    target = values.get("post_logout_redirect_uri")
    if target and client is not None and target not in client.post_logout_redirect_uris:
        return _error_page("invalid_request", _("The logout return address is not registered."))
    return LogoutRequest(client, target if client is not None else None, hint_claims)


def _finish_logout(sso: SsoSession | None, logout: LogoutRequest) -> Response:
    if sso is not None:
        provider().sessions.end(sso.sid, actor=Actor.citizen(sso.user_id), ip=request.remote_addr)
    if logout.target:
        params = [("state", request.values["state"])] if request.values.get("state") else []
        response = redirect(add_params_to_uri(logout.target, params), 302)
    else:
        client = logout.client
        back = client.post_logout_redirect_uris[0] if client and \
            client.post_logout_redirect_uris else None
        response = make_response(render_template("logged_out.html", client=client, back=back))
    clear_session_cookie(response)
    return response


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt  # a cross-site navigation from the business system; confirmation is CSRF-checked
def end_session() -> Response:
    """With an id_token_hint of the current session: logout at once. Otherwise the person
    confirms first (RP-Initiated Logout §2: the hint is what shows the person asked)."""
    logout = _logout_request()
    if isinstance(logout, Response):
        return logout
    sso = current_sso(touch=False)
    if sso is None:
        return _finish_logout(None, logout)
    if logout.hint is not None and logout.hint.get("sid") == sso.sid:
        return _finish_logout(sso, logout)
    fields = {k: request.values[k] for k in ("post_logout_redirect_uri", "state", "client_id",
                                             "id_token_hint", "ui_locales")
              if request.values.get(k)}
    if logout.client is not None:
        fields.setdefault("client_id", logout.client.client_id)
    return make_response(render_template("logout_confirm.html", fields=fields,
                                         client=logout.client))


@bp.post("/logout/confirm")
def end_session_confirmed() -> Response:
    logout = _logout_request()
    if isinstance(logout, Response):
        return logout
    if request.form.get("decision") != "logout":
        return redirect(url_for("accounts.home"))
    return _finish_logout(current_sso(touch=False), logout)


__all__ = ["bp", "SESSION_COOKIE"]

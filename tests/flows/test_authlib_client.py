"""A third-party OpenID Connect client (Authlib's requests client) against the live provider.

Acceptance 2 of the foundation issue: code + PKCE, refresh, userinfo, revocation,
introspection, private_key_jwt and RP-initiated logout, by discovery alone.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

REDIRECT = "https://rp.example.gov.cn/callback"


def _discover(issuer: str) -> dict:
    return requests.get(issuer + "/.well-known/openid-configuration", timeout=5).json()


def _browser_login_and_get_code(config: dict, authorize_url: str, user) -> str:
    """What a person's browser does: follow to the login page, sign in, come back with a code."""
    browser = requests.Session()
    response = browser.get(authorize_url, allow_redirects=False)
    assert response.status_code == 302
    login_page = browser.get(config["issuer"] + response.headers["Location"])
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page.text).group(1)
    next_url = re.search(r'name="next"[^>]*value="([^"]+)"', login_page.text).group(1)
    posted = browser.post(config["issuer"] + "/login", allow_redirects=False, data={
        "csrf_token": csrf, "identifier": user.username, "password": user.password,
        "next": next_url.replace("&amp;", "&")})
    assert posted.status_code == 303
    back = browser.get(config["issuer"] + posted.headers["Location"], allow_redirects=False)
    location = back.headers["Location"]
    assert location.startswith(REDIRECT), location
    _browser_login_and_get_code.browser = browser  # type: ignore[attr-defined]
    return location


def _verify_id_token(config: dict, id_token: str, client_id: str, nonce: str) -> dict:
    keys = KeySet.import_key_set(requests.get(config["jwks_uri"], timeout=5).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    claims = CodeIDToken(token.claims, token.header,
                         options={"iss": {"essential": True, "value": config["issuer"]}},
                         params={"nonce": nonce, "client_id": client_id})
    claims.validate(leeway=30)
    return dict(claims)


@pytest.fixture
def rp(live_provider, make_client):
    return make_client(redirect_uri=REDIRECT,
                       post_logout_redirect_uris=["https://rp.example.gov.cn/logged-out"])


def test_code_pkce_refresh_userinfo_introspect_revoke_and_logout(live_provider, rp, make_user):
    user = make_user(trust_level=3)
    config = _discover(live_provider.url)
    session = OAuth2Session(rp.client_id, rp.client_secret, scope="openid profile phone",
                            redirect_uri=REDIRECT, code_challenge_method="S256")
    verifier = "v" * 64
    url, state = session.create_authorization_url(config["authorization_endpoint"],
                                                  code_verifier=verifier, nonce="nonce-1")
    callback = _browser_login_and_get_code(config, url, user)
    token = session.fetch_token(config["token_endpoint"], authorization_response=callback,
                                code_verifier=verifier)
    claims = _verify_id_token(config, token["id_token"], rp.client_id, "nonce-1")
    assert claims["acr"] == "3"

    info = session.get(config["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["phone_number"].startswith("+86")

    refreshed = session.refresh_token(config["token_endpoint"])
    assert refreshed["refresh_token"] != token["refresh_token"]

    introspected = session.introspect_token(config["introspection_endpoint"],
                                            token=refreshed["access_token"]).json()
    assert introspected["active"] is True and introspected["sub"] == claims["sub"]

    session.revoke_token(config["revocation_endpoint"], refreshed["refresh_token"],
                         token_type_hint="refresh_token")
    after = session.introspect_token(config["introspection_endpoint"],
                                     token=refreshed["access_token"]).json()
    assert after == {"active": False}

    browser = _browser_login_and_get_code.browser  # type: ignore[attr-defined]
    logout = browser.get(config["end_session_endpoint"], allow_redirects=False, params={
        "id_token_hint": token["id_token"], "state": state,
        "post_logout_redirect_uri": "https://rp.example.gov.cn/logged-out"})
    assert logout.status_code == 302
    assert parse_qs(urlparse(logout.headers["Location"]).query) == {"state": [state]}


def test_private_key_jwt_client(live_provider, make_client, make_user):
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-1", "alg": "RS256"}, private=True)
    rp = make_client(redirect_uri=REDIRECT, auth_method="private_key_jwt",
                     jwks={"keys": [key.as_dict(private=False)]})
    user = make_user()
    config = _discover(live_provider.url)
    session = OAuth2Session(rp.client_id, key, scope="openid profile", redirect_uri=REDIRECT,
                            token_endpoint_auth_method="private_key_jwt",
                            code_challenge_method="S256")
    # Authlib signs assertions valid for an hour by default; this provider accepts at most
    # five minutes (docs/integration-guide.md), which Authlib lets a client set as a claim.
    session.register_client_auth_method(PrivateKeyJWT(
        config["token_endpoint"], claims={"exp": int(time.time()) + 120}))
    verifier = "w" * 64
    url, _ = session.create_authorization_url(config["authorization_endpoint"],
                                              code_verifier=verifier, nonce="n2")
    callback = _browser_login_and_get_code(config, url, user)
    token = session.fetch_token(config["token_endpoint"], authorization_response=callback,
                                code_verifier=verifier)
    assert _verify_id_token(config, token["id_token"], rp.client_id, "n2")["sub"] == user.id

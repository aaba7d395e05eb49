"""UserInfo endpoint (OIDC Core §5.3, §5.4, §5.5; RFC 6750 §2.1-2.2, §3.1).

Covers GET/POST with the Bearer header and the access_token form field, the claims released
per scope and per `claims` request, the error answers for missing, invalid, revoked,
client-credentials and openid-less tokens, no-store caching, and `sub` agreeing with the ID
token.
"""

from __future__ import annotations

from idp.accounts.models import User
from idp.extensions import db
from idp.oauth.models import aware
from tests.integration.helpers import refresh, revoke, tokens_for

INVALID_TOKEN = {"error": "invalid_token",
                 "error_description": "The access token is invalid or expired."}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_get_with_bearer_header_returns_profile_claims(app, browser, make_user, make_client):
    user, client = make_user(name="李四"), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid profile")
    response = browser.client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    updated_at = int(aware(db.session.get(User, user.id).updated_at).timestamp())
    assert response.json == {"sub": user.id, "name": "李四", "preferred_username": user.username,
                             "updated_at": updated_at}


def test_post_with_bearer_header_is_answered_like_get(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid profile")
    got = browser.client.get("/userinfo", headers=bearer(tokens["access_token"]))
    posted = browser.client.post("/userinfo", headers=bearer(tokens["access_token"]))
    assert posted.status_code == 200
    assert posted.json == got.json


def test_post_with_access_token_form_field_rfc6750_2_2(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid profile")
    response = browser.client.post("/userinfo", data={"access_token": tokens["access_token"]})
    assert response.status_code == 200
    assert response.json["sub"] == user.id
    assert response.json["preferred_username"] == user.username


def test_phone_scope_releases_phone_claims_and_nothing_else(app, browser, make_user,
                                                           make_client):
    user, client = make_user(phone="13912345678"), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid phone")
    response = browser.client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.json == {"sub": user.id, "phone_number": "+8613912345678",
                             "phone_number_verified": True}


def test_openid_scope_alone_releases_only_sub(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid")
    response = browser.client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.json == {"sub": user.id}


def test_claims_request_never_releases_phone_number_without_phone_scope_oidc_5_5(
        app, browser, make_user, make_client):
    """The person consented to scopes, not to claims named in the request: the claims
    parameter cannot widen what the scopes release."""
    user, client = make_user(phone="13987654321"), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid",
                        claims='{"userinfo": {"phone_number": {"essential": true}}}')
    assert tokens["scope"] == "openid"
    response = browser.client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.json == {"sub": user.id}


def test_phone_number_verified_follows_the_account_not_the_presence_of_a_number(
        app, browser, make_user, make_client):
    unverified = make_user(phone="13987650000", phone_verified=False)
    client = make_client()
    tokens = tokens_for(app, browser, unverified, client, scope="openid phone")
    response = browser.client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.json["phone_number_verified"] is False


def test_missing_token_is_401_with_bearer_challenge_without_error_code_rfc6750_3_1(browser):
    response = browser.client.get("/userinfo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="userinfo"'
    assert response.headers["Cache-Control"] == "no-store"


def test_garbage_token_is_401_invalid_token(browser):
    response = browser.client.get("/userinfo", headers=bearer("not-a-token"))
    assert response.status_code == 401
    assert response.json == INVALID_TOKEN
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_tampered_token_is_401_invalid_token(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    access = tokens_for(app, browser, user, client)["access_token"]
    head, payload, signature = access.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    response = browser.client.get("/userinfo", headers=bearer(f"{head}.{payload}.{flipped}"))
    assert response.status_code == 401
    assert response.json == INVALID_TOKEN


def test_revoked_access_token_is_401_invalid_token(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    access = tokens_for(app, browser, user, client)["access_token"]
    assert browser.client.get("/userinfo", headers=bearer(access)).status_code == 200
    assert revoke(app, client, access).status_code == 200
    response = browser.client.get("/userinfo", headers=bearer(access))
    assert response.status_code == 401
    assert response.json == INVALID_TOKEN


def test_client_credentials_token_has_no_user_and_is_401_invalid_token(app, browser,
                                                                       make_client):
    client = make_client()
    granted = app.test_client().post("/token", data={"grant_type": "client_credentials",
                                                     "scope": "openid profile"},
                                     auth=(client.client_id, client.client_secret))
    assert granted.status_code == 200, granted.json
    response = browser.client.get("/userinfo", headers=bearer(granted.json["access_token"]))
    assert response.status_code == 401
    assert response.json == INVALID_TOKEN


def test_token_without_openid_scope_is_403_insufficient_scope(app, browser, make_user,
                                                              make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid profile")
    narrowed = refresh(app, client, tokens["refresh_token"], scope="profile")
    assert narrowed.status_code == 200, narrowed.json
    assert narrowed.json["scope"] == "profile"
    assert "id_token" not in narrowed.json
    response = browser.client.get("/userinfo", headers=bearer(narrowed.json["access_token"]))
    assert response.status_code == 403
    assert response.json["error"] == "insufficient_scope"
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="insufficient_scope"')


def test_userinfo_response_is_not_cached(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    response = browser.client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_sub_equals_the_id_token_sub_oidc_5_3_2(app, provider, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    id_claims = provider.tokens.decode(tokens["id_token"])
    response = browser.client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.json["sub"] == id_claims["sub"] == user.id

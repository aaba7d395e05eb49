"""Token introspection (RFC 7662 §2.1 request, §2.2 response, §4 security; RFC 9068 §2.2).

Covers the members returned for active access and refresh tokens, the bare {"active": false}
for unknown, garbage, spent, forged and expired tokens, and which clients may introspect.
"""

from __future__ import annotations

import time

from joserfc import jwt
from joserfc.jwk import RSAKey

from idp.extensions import db
from idp.oauth.models import RefreshToken, aware
from idp.oauth.tokens import TokenService
from idp.security.crypto import sha256_hex
from tests.integration.helpers import introspect, refresh, tokens_for

INACTIVE = {"active": False}


def refresh_row(value: str) -> RefreshToken:
    db.session.expire_all()
    row = db.session.query(RefreshToken).filter_by(token_hash=sha256_hex(value)).one()
    return row


def test_active_access_token_shows_its_claims(app, provider, browser, make_user, make_client):
    user, client = make_user(trust_level=3), make_client()
    tokens = tokens_for(app, browser, user, client, scope="openid profile")
    claims = provider.tokens.decode(tokens["access_token"])
    response = introspect(app, client, tokens["access_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "active": True, "token_type": "Bearer", "client_id": client.client_id, "sub": user.id,
        "scope": "openid profile", "exp": claims["iat"] + 600, "iat": claims["iat"],
        "acr": "3", "auth_time": claims["auth_time"], "aud": client.client_id,
        "iss": provider.settings.issuer, "jti": claims["jti"]}


def test_active_refresh_token_shows_client_sub_scope_times_and_acr(app, provider, browser,
                                                                   make_user, make_client):
    user, client = make_user(trust_level=4), make_client()
    before = int(time.time())
    tokens = tokens_for(app, browser, user, client, scope="openid phone")
    after = int(time.time())
    row = refresh_row(tokens["refresh_token"])
    response = introspect(app, client, tokens["refresh_token"])
    assert response.status_code == 200
    assert response.json == {
        "active": True, "token_type": "refresh_token", "client_id": client.client_id,
        # A level-4 account signed in with a password only: level 4 needs a second factor, so
        # the grant carries the highest level the session may assert (assurance.session_acr).
        "sub": user.id, "scope": "openid phone", "acr": "3",
        "iat": int(aware(row.issued_at).timestamp()),
        "exp": int(aware(row.expires_at).timestamp()), "iss": provider.settings.issuer}
    assert before <= response.json["iat"] <= after
    assert response.json["exp"] - response.json["iat"] in {provider.settings.refresh_token_ttl,
                                                           provider.settings.refresh_token_ttl - 1}


def test_refresh_token_times_are_utc_epoch_seconds_whatever_the_local_time_zone(
        app, provider, browser, make_user, make_client, china_standard_time):
    """RFC 7662 §2.2: iat and exp are seconds since the epoch, independent of the server's zone."""
    user, client = make_user(), make_client()
    before = int(time.time())
    tokens = tokens_for(app, browser, user, client)
    after = int(time.time())
    response = introspect(app, client, tokens["refresh_token"])
    assert before <= response.json["iat"] <= after
    ttl = provider.settings.refresh_token_ttl
    assert before + ttl - 1 <= response.json["exp"] <= after + ttl


def test_unknown_token_is_exactly_inactive(app, make_client):
    client = make_client()
    response = introspect(app, client, "no-such-token")
    assert response.status_code == 200
    assert response.json == INACTIVE


def test_garbage_jwt_shaped_token_is_exactly_inactive(app, make_client):
    client = make_client()
    assert introspect(app, client, "aaa.bbb.ccc").json == INACTIVE


def test_spent_refresh_token_is_inactive(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    rotated = refresh(app, client, tokens["refresh_token"])
    assert rotated.status_code == 200, rotated.json
    assert introspect(app, client, tokens["refresh_token"]).json == INACTIVE
    assert introspect(app, client, rotated.json["refresh_token"]).json["active"] is True


def test_public_client_cannot_introspect_rfc7662_2_1(app, browser, make_user, make_client):
    user, confidential = make_user(), make_client()
    public = make_client(auth_method="none")
    tokens = tokens_for(app, browser, user, confidential)
    response = app.test_client().post("/introspect", data={"token": tokens["access_token"],
                                                           "client_id": public.client_id})
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert "active" not in response.json


def test_bad_client_secret_is_401_invalid_client(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)
    response = app.test_client().post("/introspect", data={"token": tokens["access_token"]},
                                      auth=(client.client_id, "wrong"))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_client_secret_post_authenticates(app, browser, make_user, make_client):
    user = make_user()
    client = make_client(auth_method="client_secret_post")
    browser.login(user)
    code, verifier = browser.code_for(client)
    form = {"client_id": client.client_id, "client_secret": client.client_secret}
    issued = app.test_client().post("/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri,
        "code_verifier": verifier, **form})
    assert issued.status_code == 200, issued.json
    response = app.test_client().post("/introspect",
                                      data={"token": issued.json["access_token"], **form})
    assert response.status_code == 200
    assert response.json["active"] is True
    assert response.json["client_id"] == client.client_id


def test_token_signed_with_another_key_is_inactive(app, provider, browser, make_user,
                                                   make_client):
    user, client = make_user(), make_client()
    access = tokens_for(app, browser, user, client)["access_token"]
    genuine = jwt.decode(access, provider.keys.verify_set(), algorithms=["RS256"])
    stranger = RSAKey.generate_key(2048, parameters={"kid": genuine.header["kid"]},
                                   private=True)
    forged = jwt.encode(dict(genuine.header), dict(genuine.claims), stranger,
                        algorithms=["RS256"])
    assert forged.split(".")[:2] == access.split(".")[:2]
    assert introspect(app, client, forged).json == INACTIVE


def test_expired_access_token_is_inactive(app, provider, browser, make_user, make_client):
    user, client = make_user(), make_client()
    genuine = provider.tokens.decode(tokens_for(app, browser, user, client)["access_token"])
    expired_minter = TokenService(provider.keys, provider.settings.issuer,
                                  provider.tokens.pairwise, access_ttl=-60, id_ttl=600)
    expired, _ = expired_minter.access_token(
        client=provider.clients.get(client.client_id), sub=user.id, scope="openid profile",
        grant_id=genuine["jti"].split(".")[0], auth_time=genuine["auth_time"], acr="2")
    claims = provider.tokens.decode(expired, check_exp=False)
    assert claims["exp"] < time.time()
    assert introspect(app, client, expired).json == INACTIVE


def test_expired_token_signed_with_the_current_key_is_inactive(app, provider, make_client):
    client = make_client()
    now = int(time.time())
    key = provider.keys.signing_key("RS256")
    claims = {"iss": provider.settings.issuer, "sub": client.client_id,
              "aud": client.client_id, "client_id": client.client_id, "iat": now - 700,
              "exp": now - 100, "jti": "cc.expired", "scope": "profile"}
    token = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}, claims, key,
                       algorithms=["RS256"])
    assert introspect(app, client, token).json == INACTIVE
    still_valid = dict(claims, exp=now + 300, jti="cc.valid")
    fresh = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}, still_valid, key,
                       algorithms=["RS256"])
    assert introspect(app, client, fresh).json["active"] is True

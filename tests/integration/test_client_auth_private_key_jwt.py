"""private_key_jwt client authentication (RFC 7523 §2.2, §3; OIDC Core §9)."""

from __future__ import annotations

import time
import uuid

import pytest
from flask import Flask
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.conftest import LiveServer

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def client_key():
    return RSAKey.generate_key(2048, parameters={"kid": "rp-key-1", "alg": "RS256"}, private=True)


def _assertion(key, client_id, aud, *, exp_in=60, jti=None, alg="RS256", **extra):
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + exp_in,
              "jti": jti or uuid.uuid4().hex, **extra}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def _cc(app, client_id, assertion):
    return app.test_client().post("/token", data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion})


@pytest.fixture
def pkjwt_client(app, make_client, client_key):
    return make_client(auth_method="private_key_jwt",
                       jwks={"keys": [client_key.as_dict(private=False)]})


def _token_url(app):
    return app.extensions["idp.settings"].issuer + "/token"


def test_assertion_with_token_endpoint_audience_authenticates(app, pkjwt_client, client_key):
    response = _cc(app, pkjwt_client.client_id,
                   _assertion(client_key, pkjwt_client.client_id, _token_url(app)))
    assert response.status_code == 200, response.json


def test_assertion_with_issuer_audience_authenticates(app, pkjwt_client, client_key):
    issuer = app.extensions["idp.settings"].issuer
    response = _cc(app, pkjwt_client.client_id,
                   _assertion(client_key, pkjwt_client.client_id, issuer))
    assert response.status_code == 200


def test_reused_jti_is_invalid_client(app, pkjwt_client, client_key):
    assertion = _assertion(client_key, pkjwt_client.client_id, _token_url(app), jti="once")
    assert _cc(app, pkjwt_client.client_id, assertion).status_code == 200
    replay = _cc(app, pkjwt_client.client_id, assertion)
    assert replay.status_code == 401 or replay.status_code == 400
    assert replay.json["error"] == "invalid_client"


def test_assertion_expiring_more_than_five_minutes_ahead_is_invalid_client(app, pkjwt_client,
                                                                          client_key):
    response = _cc(app, pkjwt_client.client_id,
                   _assertion(client_key, pkjwt_client.client_id, _token_url(app), exp_in=600))
    assert response.json["error"] == "invalid_client"


def test_expired_assertion_is_invalid_client(app, pkjwt_client, client_key):
    response = _cc(app, pkjwt_client.client_id,
                   _assertion(client_key, pkjwt_client.client_id, _token_url(app), exp_in=-120))
    assert response.json["error"] == "invalid_client"


def test_wrong_audience_is_invalid_client(app, pkjwt_client, client_key):
    response = _cc(app, pkjwt_client.client_id,
                   _assertion(client_key, pkjwt_client.client_id, "https://elsewhere/token"))
    assert response.json["error"] == "invalid_client"


def test_assertion_signed_by_another_key_is_invalid_client(app, pkjwt_client):
    other = RSAKey.generate_key(2048, parameters={"kid": "rp-key-1"}, private=True)
    response = _cc(app, pkjwt_client.client_id,
                   _assertion(other, pkjwt_client.client_id, _token_url(app)))
    assert response.json["error"] == "invalid_client"


def test_issuer_must_equal_subject(app, pkjwt_client, client_key):
    response = _cc(app, pkjwt_client.client_id,
                   _assertion(client_key, pkjwt_client.client_id, _token_url(app),
                              iss="someone-else"))
    assert response.json["error"] == "invalid_client"


def test_secret_client_cannot_authenticate_with_an_assertion(app, make_client, client_key):
    secret_client = make_client()
    response = _cc(app, secret_client.client_id,
                   _assertion(client_key, secret_client.client_id, _token_url(app)))
    assert response.json["error"] == "invalid_client"


def test_client_jwks_by_uri_with_es256(app, make_client):
    key = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "alg": "ES256"}, private=True)
    jwks_app = Flask("jwks")
    jwks_app.add_url_rule("/jwks.json", "jwks", lambda: {"keys": [key.as_dict(private=False)]})
    server = LiveServer(jwks_app)
    try:
        client = make_client(auth_method="private_key_jwt", jwks_uri=server.url + "/jwks.json")
        response = _cc(app, client.client_id,
                       _assertion(key, client.client_id, _token_url(app), alg="ES256"))
        assert response.status_code == 200, response.json
    finally:
        server.stop()


def test_private_key_jwt_authenticates_the_code_exchange(app, browser, make_user, pkjwt_client,
                                                        client_key):
    user = make_user()
    browser.login(user)
    code, verifier = browser.code_for(pkjwt_client)
    response = app.test_client().post("/token", data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": pkjwt_client.redirect_uri, "code_verifier": verifier,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": _assertion(client_key, pkjwt_client.client_id, _token_url(app))})
    assert response.status_code == 200 and "id_token" in response.json

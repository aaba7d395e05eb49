"""Token endpoint, authorization_code grant (RFC 6749 §4.1.3-4.1.4, §5.2; RFC 7636 §4.6)."""

from __future__ import annotations

from tests.conftest import exchange, token_request


def test_code_exchange_returns_tokens_with_oidc_claims(app, browser, make_user, make_client):
    user, client = make_user(trust_level=3), make_client()
    browser.login(user)
    code, verifier = browser.code_for(client, nonce="n-123")
    response = exchange(app, client, code, verifier)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["token_type"] == "Bearer"
    assert set(body) >= {"access_token", "refresh_token", "id_token", "expires_in", "scope"}
    assert response.headers["Cache-Control"] == "no-store"
    claims = app.extensions["idp.provider"].tokens.decode(body["id_token"])
    assert claims["nonce"] == "n-123"
    assert claims["acr"] == "3"
    assert claims["amr"] == ["pwd"]
    assert claims["sub"] == user.id
    assert claims["aud"] == client.client_id
    assert {"iss", "exp", "iat", "auth_time", "sid", "at_hash"} <= set(claims)


def test_replayed_code_fails_and_revokes_tokens_issued_from_it(app, browser, make_user,
                                                              make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    code, verifier = browser.code_for(client)
    first = exchange(app, client, code, verifier).json
    replay = exchange(app, client, code, verifier)
    assert replay.status_code == 400
    assert replay.json["error"] == "invalid_grant"
    introspect = app.test_client().post("/introspect", data={"token": first["access_token"]},
                                        auth=(client.client_id, client.client_secret))
    assert introspect.json == {"active": False}
    refresh = token_request(app, client, grant_type="refresh_token",
                            refresh_token=first["refresh_token"])
    assert refresh.json["error"] == "invalid_grant"


def test_wrong_pkce_verifier_is_invalid_grant(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    code, _ = browser.code_for(client)
    response = exchange(app, client, code, "x" * 50)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


def test_client_registered_for_es256_gets_es256_id_tokens(app, browser, make_user, make_client):
    from joserfc import jws

    user, client = make_user(), make_client(id_token_alg="ES256")
    browser.login(user)
    code, verifier = browser.code_for(client)
    body = exchange(app, client, code, verifier).json
    header = jws.extract_compact(body["id_token"].encode()).headers()
    assert header["alg"] == "ES256"
    claims = app.extensions["idp.provider"].tokens.decode(body["id_token"])
    assert claims["aud"] == client.client_id


def test_claims_request_puts_requested_claims_into_the_id_token(app, browser, make_user,
                                                               make_client):
    user, client = make_user(name="李四"), make_client()
    browser.login(user)
    code, verifier = browser.code_for(client, scope="openid profile",
                                      claims='{"id_token": {"name": {"essential": true}}}')
    body = exchange(app, client, code, verifier).json
    claims = app.extensions["idp.provider"].tokens.decode(body["id_token"])
    assert claims["name"] == "李四"
    assert "phone_number" not in claims and "preferred_username" not in claims


def test_claims_request_never_adds_a_claim_outside_the_granted_scope_oidc_5_5(
        app, browser, make_user, make_client):
    """The claims parameter picks among what the consented scopes cover; it releases nothing
    else, essential or not, into either the ID token or UserInfo."""
    user, client = make_user(name="李四"), make_client()
    browser.login(user)
    code, verifier = browser.code_for(client, scope="openid", claims=(
        '{"id_token": {"phone_number": null, "name": {"essential": true}},'
        ' "userinfo": {"phone_number": {"essential": true}}}'))
    body = exchange(app, client, code, verifier).json
    claims = app.extensions["idp.provider"].tokens.decode(body["id_token"])
    assert not {"phone_number", "name", "phone_number_verified"} & set(claims)
    info = browser.client.get("/userinfo",
                              headers={"Authorization": "Bearer " + body["access_token"]})
    assert info.json == {"sub": user.id}


def test_profile_claims_stay_out_of_the_id_token_when_an_access_token_is_issued(
        app, browser, make_user, make_client):
    """OIDC Core §5.4: scope claims are returned from UserInfo."""
    user, client = make_user(), make_client()
    browser.login(user)
    code, verifier = browser.code_for(client, scope="openid profile phone")
    body = exchange(app, client, code, verifier).json
    claims = app.extensions["idp.provider"].tokens.decode(body["id_token"])
    assert "name" not in claims and "phone_number" not in claims

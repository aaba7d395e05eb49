"""Token endpoint, refresh_token grant (RFC 6749 §6, §10.4; OAuth 2.0 Security BCP §4.14)."""

from __future__ import annotations

from tests.conftest import exchange, token_request


def _tokens(app, browser, make_user, make_client, **client_kwargs):
    user, client = make_user(), make_client(**client_kwargs)
    browser.login(user)
    code, verifier = browser.code_for(client, scope="openid profile phone")
    return client, exchange(app, client, code, verifier).json


def _introspect(app, client, token):
    return app.test_client().post("/introspect", data={"token": token},
                                  auth=(client.client_id, client.client_secret)).json


def test_refresh_rotates_the_refresh_token_and_issues_a_new_id_token(app, browser, make_user,
                                                                     make_client):
    client, first = _tokens(app, browser, make_user, make_client)
    response = token_request(app, client, grant_type="refresh_token",
                             refresh_token=first["refresh_token"])
    assert response.status_code == 200
    second = response.json
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    old = app.extensions["idp.provider"].tokens.decode(first["id_token"])
    new = app.extensions["idp.provider"].tokens.decode(second["id_token"])
    assert new["sub"] == old["sub"] and new["auth_time"] == old["auth_time"]
    assert new["sid"] == old["sid"]


def test_reusing_a_spent_refresh_token_revokes_the_whole_grant(app, browser, make_user,
                                                               make_client):
    client, first = _tokens(app, browser, make_user, make_client)
    second = token_request(app, client, grant_type="refresh_token",
                           refresh_token=first["refresh_token"]).json
    reuse = token_request(app, client, grant_type="refresh_token",
                          refresh_token=first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json["error"] == "invalid_grant"
    # every token descended from the same authorization is now dead
    assert _introspect(app, client, second["access_token"]) == {"active": False}
    assert _introspect(app, client, first["access_token"]) == {"active": False}
    after = token_request(app, client, grant_type="refresh_token",
                          refresh_token=second["refresh_token"])
    assert after.json["error"] == "invalid_grant"


def test_refresh_may_narrow_the_scope(app, browser, make_user, make_client):
    client, first = _tokens(app, browser, make_user, make_client)
    narrowed = token_request(app, client, grant_type="refresh_token",
                             refresh_token=first["refresh_token"], scope="openid profile").json
    assert narrowed["scope"] == "openid profile"


def test_refresh_may_not_widen_the_scope_and_the_token_survives(app, browser, make_user,
                                                                make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    code, verifier = browser.code_for(client, scope="openid")
    first = exchange(app, client, code, verifier).json
    wider = token_request(app, client, grant_type="refresh_token",
                          refresh_token=first["refresh_token"], scope="openid phone")
    assert wider.status_code == 400 and wider.json["error"] == "invalid_scope"
    ok = token_request(app, client, grant_type="refresh_token",
                       refresh_token=first["refresh_token"])
    assert ok.status_code == 200


def test_another_clients_refresh_token_is_invalid_grant(app, browser, make_user, make_client):
    _, first = _tokens(app, browser, make_user, make_client)
    other = make_client(redirect_uri="https://other.example.gov.cn/cb")
    response = token_request(app, other, grant_type="refresh_token",
                             refresh_token=first["refresh_token"])
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_unknown_refresh_token_is_invalid_grant(app, make_client):
    client = make_client()
    response = token_request(app, client, grant_type="refresh_token", refresh_token="nope")
    assert response.json["error"] == "invalid_grant"


def test_missing_refresh_token_is_invalid_request(app, make_client):
    response = token_request(app, make_client(), grant_type="refresh_token")
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


def test_public_client_refreshes_with_client_id_only(app, browser, make_user, make_client):
    user, client = make_user(), make_client(auth_method="none")
    browser.login(user)
    code, verifier = browser.code_for(client)
    first = app.test_client().post("/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri,
        "code_verifier": verifier, "client_id": client.client_id}).json
    response = app.test_client().post("/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "client_id": client.client_id})
    assert response.status_code == 200 and "refresh_token" in response.json


def test_client_without_refresh_grant_gets_no_refresh_token(app, browser, make_user, make_client):
    user, client = make_user(), make_client(grant_types=["authorization_code"])
    browser.login(user)
    code, verifier = browser.code_for(client)
    assert "refresh_token" not in exchange(app, client, code, verifier).json

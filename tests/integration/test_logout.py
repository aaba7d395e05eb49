"""RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 (end_session_endpoint, logout_token)."""

from __future__ import annotations

import pytest
from flask import Flask, request
from joserfc import jws

from tests.conftest import LiveServer, csrf_from, exchange, redirect_params, token_request


@pytest.fixture
def receiver():
    """A business system's back-channel logout endpoint that records what it receives."""
    received: list[str] = []
    rp = Flask("receiver")

    @rp.post("/bc")
    def bc():
        received.append(request.form["logout_token"])
        return "", 200

    server = LiveServer(rp)
    server.received = received
    yield server
    server.stop()


def _login_to(app, browser, client, user=None):
    code, verifier = browser.code_for(client)
    return exchange(app, client, code, verifier).json


def test_logout_with_id_token_hint_redirects_to_registered_uri_with_state(
        app, browser, make_user, make_client):
    user = make_user()
    client = make_client(post_logout_redirect_uris=["https://rp.example.gov.cn/bye"])
    browser.login(user)
    tokens = _login_to(app, browser, client)
    response = browser.client.get("/logout", query_string={
        "id_token_hint": tokens["id_token"], "state": "s-1",
        "post_logout_redirect_uri": "https://rp.example.gov.cn/bye"})
    assert response.status_code == 302
    assert response.headers["Location"] == "https://rp.example.gov.cn/bye?state=s-1"
    assert "idp_sso=;" in response.headers["Set-Cookie"]
    # after logout, prompt=none answers login_required
    assert redirect_params(browser.authorize(client, prompt="none"))["error"] == "login_required"


def test_logout_revokes_the_sessions_refresh_tokens(app, browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    tokens = _login_to(app, browser, client)
    browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    response = token_request(app, client, grant_type="refresh_token",
                             refresh_token=tokens["refresh_token"])
    assert response.json["error"] == "invalid_grant"


def test_unregistered_post_logout_redirect_uri_gets_an_error_page_and_no_logout(
        app, browser, make_user, make_client):
    user = make_user()
    client = make_client(post_logout_redirect_uris=["https://rp.example.gov.cn/bye"])
    browser.login(user)
    tokens = _login_to(app, browser, client)
    response = browser.client.get("/logout", query_string={
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"})
    assert response.status_code == 400 and "Location" not in response.headers
    assert "code" in redirect_params(browser.authorize(client, prompt="none",
                                                       code_challenge="a" * 43,
                                                       code_challenge_method="S256"))


def test_forged_id_token_hint_gets_an_error_page(browser, make_user):
    browser.login(make_user())
    response = browser.client.get("/logout", query_string={"id_token_hint": "a.b.c"})
    assert response.status_code == 400


def test_logout_without_hint_asks_for_confirmation_then_logs_out(app, browser, make_user,
                                                                 make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    page = browser.client.get("/logout")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    done = browser.client.post("/logout/confirm", data={"csrf_token": csrf_from(html),
                                                        "decision": "logout"})
    assert done.status_code == 200
    assert redirect_params(browser.authorize(client, prompt="none"))["error"] == "login_required"


def test_logout_confirmation_requires_csrf(browser, make_user):
    user = make_user()
    browser.login(user)
    response = browser.client.post("/logout/confirm", data={"decision": "logout"})
    assert response.status_code == 400


def test_backchannel_logout_token_goes_to_every_client_of_the_session(
        app, browser, make_user, make_client, receiver, live_provider):
    user = make_user()
    with_bc = make_client(backchannel_logout_uri=receiver.url + "/bc")
    other_bc = make_client(redirect_uri="https://b.example.gov.cn/cb",
                           backchannel_logout_uri=receiver.url + "/bc")
    without_bc = make_client(redirect_uri="https://c.example.gov.cn/cb")
    browser.login(user)
    first = _login_to(app, browser, with_bc)
    _login_to(app, browser, other_bc)
    _login_to(app, browser, without_bc)
    browser.client.get("/logout", query_string={"id_token_hint": first["id_token"]})
    assert len(receiver.received) == 2
    tokens = app.extensions["idp.provider"].tokens
    id_claims = tokens.decode(first["id_token"])
    audiences = set()
    for raw in receiver.received:
        header = jws.extract_compact(raw.encode()).headers()
        assert header["typ"] == "logout+jwt"
        claims = tokens.decode(raw)
        assert claims["sid"] == id_claims["sid"]
        assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
        assert "nonce" not in claims and claims["jti"]
        audiences.add(claims["aud"])
    assert audiences == {with_bc.client_id, other_bc.client_id}

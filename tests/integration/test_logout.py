"""RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 (end_session_endpoint, logout_token)."""

from __future__ import annotations

import re

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


# --- RP-Initiated Logout 1.0 §2-3: client_id in place of id_token_hint ---
BYE = "https://rp.example.gov.cn/bye"


def _confirm(browser, page):
    """Press "Log out" on the confirmation page, sending what the page carries."""
    html = page.get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    fields["decision"] = "logout"
    return browser.client.post("/logout/confirm", data=fields)


def _signed_in(browser, client) -> bool:
    return "code" in redirect_params(browser.authorize(client, prompt="none"))


def test_logout_with_client_id_asks_to_confirm_then_returns_to_the_registered_uri_with_state(
        browser, make_user, make_client):
    client = make_client(name="不动产登记系统", post_logout_redirect_uris=[BYE])
    browser.login(make_user())
    page = browser.client.get("/logout", query_string={
        "client_id": client.client_id, "post_logout_redirect_uri": BYE, "state": "s-2"})
    assert page.status_code == 200 and "Location" not in page.headers
    html = page.get_data(as_text=True)
    assert "“不动产登记系统”请求您退出登录。" in html
    assert _signed_in(browser, client)  # nothing happened before the person confirmed
    done = _confirm(browser, page)
    assert done.status_code == 302 and done.headers["Location"] == BYE + "?state=s-2"
    assert not _signed_in(browser, client)


def test_logout_with_client_id_and_no_session_returns_at_once(browser, make_client):
    client = make_client(post_logout_redirect_uris=[BYE])
    response = browser.client.get("/logout", query_string={
        "client_id": client.client_id, "post_logout_redirect_uri": BYE, "state": "s-3"})
    assert response.status_code == 302 and response.headers["Location"] == BYE + "?state=s-3"


def test_post_logout_redirect_uri_not_registered_for_the_client_id_gets_an_error_page(
        browser, make_user, make_client):
    client = make_client(post_logout_redirect_uris=[BYE])
    other = make_client(redirect_uri="https://b.example.gov.cn/cb",
                        post_logout_redirect_uris=["https://b.example.gov.cn/bye"])
    browser.login(make_user())
    response = browser.client.get("/logout", query_string={
        "client_id": client.client_id, "post_logout_redirect_uri": "https://b.example.gov.cn/bye"})
    assert response.status_code == 400 and "Location" not in response.headers
    assert "退出后的返回地址未登记。" in response.get_data(as_text=True)
    assert _signed_in(browser, client) and _signed_in(browser, other)


def test_client_id_that_differs_from_the_hints_client_gets_an_error_page(
        app, browser, make_user, make_client):
    client = make_client(post_logout_redirect_uris=[BYE])
    other = make_client(redirect_uri="https://b.example.gov.cn/cb")
    browser.login(make_user())
    tokens = _login_to(app, browser, client)
    response = browser.client.get("/logout", query_string={
        "id_token_hint": tokens["id_token"], "client_id": other.client_id})
    assert response.status_code == 400 and "Location" not in response.headers
    assert _signed_in(browser, client)


def test_unknown_client_id_gets_an_error_page(browser, make_user, make_client):
    client = make_client()
    browser.login(make_user())
    response = browser.client.get("/logout", query_string={"client_id": "c_nobody"})
    assert response.status_code == 400 and "Location" not in response.headers
    assert _signed_in(browser, client)


def test_post_logout_redirect_uri_without_hint_or_client_id_is_never_followed(
        browser, make_user, make_client):
    """The address cannot be checked against any registration: the person confirms, is logged
    out and stays on the platform's page (no 400: the logout itself is legitimate)."""
    client = make_client(post_logout_redirect_uris=[BYE])
    browser.login(make_user())
    page = browser.client.get("/logout", query_string={
        "post_logout_redirect_uri": BYE, "state": "s-4"})
    assert page.status_code == 200 and "Location" not in page.headers
    assert "请求您退出登录" not in page.get_data(as_text=True)
    done = _confirm(browser, page)
    assert done.status_code == 200 and "Location" not in done.headers
    html = done.get_data(as_text=True)
    assert "您已退出统一身份认证平台。" in html and BYE not in html
    assert not _signed_in(browser, client)
    # without a session there is nothing to confirm, and still no redirect
    again = browser.client.get("/logout", query_string={"post_logout_redirect_uri": BYE})
    assert again.status_code == 200 and "Location" not in again.headers


def test_id_token_hint_of_another_session_asks_to_confirm(app, make_user, make_client):
    from tests.conftest import Browser

    user, client = make_user(), make_client(post_logout_redirect_uris=[BYE])
    earlier, browser = Browser(app.test_client()), Browser(app.test_client())
    earlier.login(user)
    old = _login_to(app, earlier, client)
    browser.login(user)
    page = browser.client.get("/logout", query_string={
        "id_token_hint": old["id_token"], "post_logout_redirect_uri": BYE})
    assert page.status_code == 200 and 'value="logout"' in page.get_data(as_text=True)
    assert _signed_in(browser, client)
    assert _confirm(browser, page).headers["Location"] == BYE
    assert not _signed_in(browser, client) and _signed_in(earlier, client)


def test_logged_out_page_links_back_to_the_business_system_and_the_platform(
        browser, make_user, make_client):
    client = make_client(name="公积金查询",
                         post_logout_redirect_uris=[BYE, "https://rp.example.gov.cn/bye2"])
    browser.login(make_user())
    page = browser.client.get("/logout", query_string={"client_id": client.client_id})
    html = _confirm(browser, page).get_data(as_text=True)
    assert f'<a href="{BYE}" id="back-to-client">返回公积金查询</a>' in html
    assert '<a href="/" id="platform-home">前往统一身份认证平台首页</a>' in html


def test_logged_out_page_of_a_business_system_without_a_return_address_links_home_only(
        app, browser, make_user, make_client):
    client = make_client(name="公积金查询")
    browser.login(make_user())
    tokens = _login_to(app, browser, client)
    html = browser.client.get("/logout", query_string={
        "id_token_hint": tokens["id_token"]}).get_data(as_text=True)
    assert "您已退出统一身份认证平台。" in html
    assert 'id="back-to-client"' not in html and "返回公积金查询" not in html
    assert '<a href="/" id="platform-home">' in html


def test_logged_out_page_without_a_known_business_system_links_home_only(browser, make_user):
    browser.login(make_user())
    html = _confirm(browser, browser.client.get("/logout")).get_data(as_text=True)
    assert 'id="back-to-client"' not in html and '<a href="/" id="platform-home">' in html

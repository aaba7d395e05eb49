"""Refresh tokens online and offline (OpenID Connect Core §11, Keycloak-like).

A refresh token is tied to the SSO session it was issued in ("online"): it stops when that
session ends, by logout or by expiry. With `offline_access` requested and consented to
explicitly, the grant is "offline": it outlives the session, and ends only when the person
withdraws the authorisation on /account, an operator ends their sessions or disables the
client, their password changes, or a spent refresh token is reused.
"""

from __future__ import annotations

import json
from typing import Any

from idp.audit.actors import Actor
from idp.extensions import db, get_store
from tests.conftest import (
    Browser,
    csrf_from,
    exchange,
    pkce_pair,
    redirect_params,
    token_request,
)
from tests.integration.citizens import csrf, sid_of, text_of

OFFLINE_SCOPE = "openid profile phone offline_access"
OFFLINE_ITEM = 'data-scope="offline_access"'


def _client(make_client, **kwargs) -> Any:
    return make_client(scope=OFFLINE_SCOPE, **kwargs)


def _consent_page(browser: Browser, client: Any, **params: str):
    """The consent page for `params`, and the verifier of its PKCE challenge."""
    verifier, challenge = pkce_pair()
    page = browser.authorize(client, code_challenge=challenge, code_challenge_method="S256",
                             **params)
    assert page.status_code == 200 and 'name="decision"' in text_of(page), page.status_code
    return page, verifier


def _allow(app, browser: Browser, client: Any, page, verifier: str) -> dict:
    allowed = browser.client.post(page.request.full_path, data={
        "csrf_token": csrf_from(text_of(page)), "decision": "allow"})
    code = redirect_params(allowed)["code"]
    response = exchange(app, client, code, verifier)
    assert response.status_code == 200, response.json
    return dict(response.json)


def _offline_tokens(app, browser: Browser, client: Any) -> dict:
    """The person consents on the page that lists offline_access; the tokens."""
    page, verifier = _consent_page(browser, client, scope=OFFLINE_SCOPE)
    assert OFFLINE_ITEM in text_of(page)
    tokens = _allow(app, browser, client, page, verifier)
    assert tokens["scope"] == OFFLINE_SCOPE
    return tokens


def _online_tokens(app, browser: Browser, client: Any, **params: str) -> dict:
    code, verifier = browser.code_for(client, **params)
    response = exchange(app, client, code, verifier)
    assert response.status_code == 200, response.json
    return dict(response.json)


def _refresh(app, client: Any, tokens: dict):
    return token_request(app, client, grant_type="refresh_token",
                         refresh_token=tokens["refresh_token"])


def _works(app, client: Any, tokens: dict) -> dict:
    """Refresh once; the new tokens (the old refresh token is spent)."""
    response = _refresh(app, client, tokens)
    assert response.status_code == 200, response.json
    return dict(response.json)


def _refused(app, client: Any, tokens: dict) -> None:
    response = _refresh(app, client, tokens)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


def _logout(browser: Browser, tokens: dict) -> None:
    response = browser.client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert response.status_code == 200


def test_refresh_token_without_offline_access_stops_working_after_rp_initiated_logout(
        app, browser, make_user, make_client):
    user, client = make_user(), _client(make_client)
    browser.login(user)
    tokens = _online_tokens(app, browser, client, scope="openid profile")
    tokens = _works(app, client, tokens)
    _logout(browser, tokens)
    _refused(app, client, tokens)


def test_offline_refresh_token_keeps_working_after_logout_until_revoked_on_the_account_page(
        app, browser, make_user, make_client):
    user, client = make_user(), _client(make_client, first_party=False, name="公积金查询")
    browser.login(user)
    tokens = _offline_tokens(app, browser, client)
    _logout(browser, tokens)
    tokens = _works(app, client, tokens)
    assert tokens["scope"] == OFFLINE_SCOPE
    browser.login(user)
    withdrawn = browser.client.post(f"/account/apps/{client.client_id}/revoke",
                                    data={"csrf_token": csrf(browser)})
    assert withdrawn.status_code == 303
    _refused(app, client, tokens)


def test_online_refresh_token_stops_when_the_session_expires_and_offline_one_does_not(
        app, browser, make_user, make_client):
    user, client = make_user(), _client(make_client, first_party=False)
    browser.login(user)
    offline = _offline_tokens(app, browser, client)
    online = _online_tokens(app, browser, client, scope="openid profile")
    # the session unused for its idle lifetime: it has expired, nothing ended it
    store, key = get_store(app), "sso:" + sid_of(browser)
    data = json.loads(store.get(key))
    data["last_seen"] -= app.extensions["idp.sessions"].idle_ttl
    store.set(key, json.dumps(data), 3600)
    _refused(app, client, online)
    _works(app, client, offline)


def test_a_refresh_counts_as_activity_in_the_session_of_an_online_token(
        app, browser, make_user, make_client):
    """Keycloak's rule: refreshing an online token keeps its SSO session from idling out."""
    user, client = make_user(), make_client()
    browser.login(user)
    tokens = _online_tokens(app, browser, client)
    clock, idle = app.extensions["idp.clock"], app.extensions["idp.sessions"].idle_ttl
    clock.advance(idle - 60)
    tokens = _works(app, client, tokens)
    clock.advance(idle - 60)  # idle for 2 × 29 minutes, but refreshed in between
    tokens = _works(app, client, tokens)
    clock.advance(idle)
    _refused(app, client, tokens)


def test_first_party_client_without_prompt_consent_does_not_get_offline_access(
        app, browser, make_user, make_client):
    user, client = make_user(), _client(make_client)  # first party: no consent page
    browser.login(user)
    tokens = _online_tokens(app, browser, client, scope=OFFLINE_SCOPE)
    assert tokens["scope"] == "openid profile phone"
    _logout(browser, tokens)
    _refused(app, client, tokens)


def test_first_party_client_with_prompt_consent_shows_the_page_and_gets_offline_access(
        app, browser, make_user, make_client):
    user, client = make_user(), _client(make_client, name="粤省事")
    browser.login(user)
    page, verifier = _consent_page(browser, client, scope=OFFLINE_SCOPE, prompt="consent")
    assert OFFLINE_ITEM in text_of(page) and "粤省事" in text_of(page)
    tokens = _allow(app, browser, client, page, verifier)
    assert tokens["scope"] == OFFLINE_SCOPE
    _logout(browser, tokens)
    tokens = _works(app, client, tokens)
    # the person can withdraw it on /account, like any other authorisation
    browser.login(user)
    assert "粤省事" in text_of(browser.client.get("/account"))
    withdrawn = browser.client.post(f"/account/apps/{client.client_id}/revoke",
                                    data={"csrf_token": csrf(browser)})
    assert withdrawn.status_code == 303
    _refused(app, client, tokens)


def test_first_party_client_with_prompt_consent_and_no_offline_access_skips_the_page(
        app, browser, make_user, make_client):
    user, client = make_user(), _client(make_client)
    browser.login(user)
    tokens = _online_tokens(app, browser, client, prompt="consent", scope="openid profile")
    assert tokens["scope"] == "openid profile"


def test_remembered_consent_without_offline_access_does_not_cover_a_request_with_it(
        app, browser, make_user, make_client):
    user, client = make_user(), _client(make_client, first_party=False)
    browser.login(user)
    page, verifier = _consent_page(browser, client, scope="openid profile")
    assert OFFLINE_ITEM not in text_of(page)
    _allow(app, browser, client, page, verifier)
    # remembered for these scopes: no page
    assert "code" in redirect_params(browser.authorize(client, scope="openid profile"))
    # offline_access is asked for on the page, even though the rest was consented to
    page, _verifier = _consent_page(browser, client, scope=OFFLINE_SCOPE)
    assert OFFLINE_ITEM in text_of(page)
    # and prompt=none cannot get it without the person
    params = redirect_params(browser.authorize(client, scope=OFFLINE_SCOPE, prompt="none"))
    assert params["error"] == "consent_required"


def test_remembered_consent_with_offline_access_covers_a_later_request(
        app, browser, make_user, make_client):
    user, client = make_user(), _client(make_client, first_party=False)
    browser.login(user)
    _offline_tokens(app, browser, client)
    tokens = _online_tokens(app, browser, client, scope=OFFLINE_SCOPE)
    assert tokens["scope"] == OFFLINE_SCOPE


def test_offline_access_is_ignored_for_a_client_without_the_refresh_token_grant(
        app, browser, make_user, make_client):
    user = make_user()
    client = _client(make_client, first_party=False, grant_types=["authorization_code"])
    browser.login(user)
    page, verifier = _consent_page(browser, client, scope=OFFLINE_SCOPE, prompt="consent")
    assert OFFLINE_ITEM not in text_of(page)
    tokens = _allow(app, browser, client, page, verifier)
    assert tokens["scope"] == "openid profile phone" and "refresh_token" not in tokens


def test_offline_access_is_ignored_for_a_client_not_registered_for_it(
        app, browser, make_user, make_client):
    user, client = make_user(), make_client(first_party=False, scope="openid profile")
    browser.login(user)
    page, verifier = _consent_page(browser, client, scope="openid profile offline_access")
    assert OFFLINE_ITEM not in text_of(page)
    tokens = _allow(app, browser, client, page, verifier)
    assert tokens["scope"] == "openid profile"
    _logout(browser, tokens)
    _refused(app, client, tokens)


def test_the_end_of_every_session_by_an_operator_revokes_offline_grants(
        app, browser, make_user, make_client):
    """`idp users logout`: every session and every grant of the account, offline ones too."""
    user, client = make_user(), _client(make_client, first_party=False)
    browser.login(user)
    tokens = _offline_tokens(app, browser, client)
    result = app.test_cli_runner().invoke(args=["users", "logout", "--username", user.username])
    assert result.exit_code == 0, result.output
    _refused(app, client, tokens)


def test_disabling_the_client_revokes_offline_grants(app, browser, make_user, make_client,
                                                     provider):
    user, client = make_user(), _client(make_client, first_party=False)
    browser.login(user)
    tokens = _offline_tokens(app, browser, client)
    _logout(browser, tokens)
    provider.clients.disable(client.client_id, Actor.operator("op-1"))
    db.session.commit()
    provider.clients.enable(client.client_id, Actor.operator("op-1"))
    db.session.commit()
    _refused(app, client, tokens)


def test_a_password_change_revokes_offline_grants(app, browser, make_user, make_client,
                                                  provider):
    user, client = make_user(), _client(make_client, first_party=False)
    browser.login(user)
    tokens = _offline_tokens(app, browser, client)
    _logout(browser, tokens)
    provider.accounts.change_password(provider.accounts.get(user.id), "Another-Horse-93",
                                      ip=None)
    db.session.commit()
    _refused(app, client, tokens)


def test_reusing_a_spent_offline_refresh_token_revokes_the_grant(app, browser, make_user,
                                                                 make_client):
    user, client = make_user(), _client(make_client, first_party=False)
    browser.login(user)
    first = _offline_tokens(app, browser, client)
    second = _works(app, client, first)
    _refused(app, client, first)  # reuse
    _refused(app, client, second)  # the whole grant is gone


def test_introspection_reports_an_online_refresh_token_inactive_once_its_session_ended(
        app, browser, make_user, make_client):
    user, client = make_user(), _client(make_client, first_party=False)
    browser.login(user)
    offline = _offline_tokens(app, browser, client)
    online = _online_tokens(app, browser, client, scope="openid profile")
    get_store(app).delete("sso:" + sid_of(browser))  # expired: gone from the store
    auth = (client.client_id, client.client_secret or "")
    http = app.test_client()
    assert http.post("/introspect", data={"token": online["refresh_token"]},
                     auth=auth).json == {"active": False}
    answer = http.post("/introspect", data={"token": offline["refresh_token"]}, auth=auth).json
    assert answer["active"] is True and answer["scope"] == OFFLINE_SCOPE
    # revoking the dead online token still ends its grant's access tokens (RFC 7009 §2.1)
    assert http.post("/revoke", data={"token": online["refresh_token"]}, auth=auth).json == {}
    assert http.post("/introspect", data={"token": online["access_token"]},
                     auth=auth).json == {"active": False}

"""Step-up authentication (OIDC Core §3.1.2.1 acr_values; §3.1.2.6 interaction_required): a
business system that requires a second factor, or a requested trust level whose policy does
(IDP_MFA_ACR_LEVELS "4 5"), sends a password-only session to the second step, and the same SSO
session then carries "mfa" in its amr.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.conftest import exchange, last_code, pkce_pair, redirect_params
from tests.integration.citizens import (
    second_factor,
    send_mfa_sms,
    sid_of,
    sso_cookie,
)


def _pkce():
    verifier, challenge = pkce_pair()
    return verifier, {"code_challenge": challenge, "code_challenge_method": "S256"}


def _mfa_next(response):
    """The `next` of a redirect to the second step (None if it went elsewhere)."""
    location = urlparse(response.headers.get("Location", ""))
    if location.path != "/login/mfa":
        return None
    return parse_qs(location.query)["next"][0]


def _claims(app, tokens):
    return app.extensions["idp.provider"].tokens.decode(tokens["id_token"])


def test_a_client_requiring_mfa_sends_a_password_session_to_the_second_step(browser, make_user,
                                                                            make_client):
    user, client = make_user(), make_client(require_mfa=True)
    browser.login(user)
    _, pkce = _pkce()
    response = browser.authorize(client, state="st-up", **pkce)
    assert response.status_code == 302
    next_url = _mfa_next(response)
    assert next_url is not None
    assert next_url.startswith("/authorize?") and "state=st-up" in next_url
    assert urlparse(next_url).path == "/authorize"


def test_after_an_sms_second_factor_the_same_session_gets_a_code_with_mfa(
        app, browser, make_user, make_client, sms_platform):
    user, client = make_user(), make_client(require_mfa=True)
    browser.login(user)
    cookie_before, sid_before = sso_cookie(browser), sid_of(browser)
    verifier, pkce = _pkce()
    next_url = _mfa_next(browser.authorize(client, **pkce))
    page = browser.client.get("/login/mfa", query_string={"next": next_url})
    assert page.status_code == 200
    assert send_mfa_sms(browser, next_url).status_code == 200
    done = second_factor(browser, "sms", last_code(sms_platform, user.phone, "mfa"), next_url)
    assert done.status_code == 303 and done.headers["Location"] == next_url
    assert sso_cookie(browser) == cookie_before  # the session was stepped up, not replaced
    params = redirect_params(browser.client.get(next_url))
    assert "code" in params
    tokens = exchange(app, client, params["code"], verifier).json
    claims = _claims(app, tokens)
    assert claims["sid"] == sid_before
    assert claims["amr"] == ["mfa", "pwd", "sms"]


def test_a_stepped_up_session_is_not_asked_again(app, browser, make_user, make_client,
                                                 sms_platform):
    user, client = make_user(), make_client(require_mfa=True)
    browser.login(user)
    next_url = _mfa_next(browser.authorize(client, **_pkce()[1]))
    send_mfa_sms(browser, next_url)
    second_factor(browser, "sms", last_code(sms_platform, user.phone, "mfa"), next_url)
    again = browser.authorize(client, **_pkce()[1])
    assert "code" in redirect_params(again)


def test_a_wrong_step_up_code_leaves_the_session_password_only(app, browser, make_user,
                                                               make_client, sms_platform):
    user, client = make_user(), make_client(require_mfa=True)
    browser.login(user)
    next_url = _mfa_next(browser.authorize(client, **_pkce()[1]))
    send_mfa_sms(browser, next_url)
    code = last_code(sms_platform, user.phone, "mfa")
    refused = second_factor(browser, "sms", f"{(int(code) + 1) % 10**6:06d}", next_url)
    assert refused.status_code == 400
    assert _mfa_next(browser.authorize(client, **_pkce()[1])) is not None


def test_acr_values_4_demands_a_second_factor_for_a_level_4_account(browser, make_user,
                                                                   make_client):
    user, client = make_user(trust_level=4), make_client()
    browser.login(user)
    response = browser.authorize(client, acr_values="4", **_pkce()[1])
    assert _mfa_next(response) is not None


def test_acr_4_requested_in_the_claims_parameter_also_demands_it(browser, make_user,
                                                                make_client):
    user, client = make_user(trust_level=4), make_client()
    browser.login(user)
    claims = '{"id_token": {"acr": {"essential": true, "values": ["4"]}}}'
    response = browser.authorize(client, claims=claims, **_pkce()[1])
    assert _mfa_next(response) is not None


def test_acr_values_4_after_the_second_factor_issues_acr_4_and_mfa(app, browser, make_user,
                                                                  make_client, sms_platform):
    user, client = make_user(trust_level=4), make_client()
    browser.login(user)
    verifier, pkce = _pkce()
    next_url = _mfa_next(browser.authorize(client, acr_values="4", **pkce))
    send_mfa_sms(browser, next_url)
    second_factor(browser, "sms", last_code(sms_platform, user.phone, "mfa"), next_url)
    params = redirect_params(browser.client.get(next_url))
    claims = _claims(app, exchange(app, client, params["code"], verifier).json)
    assert claims["acr"] == "4" and "mfa" in claims["amr"]


def test_prompt_none_when_a_second_factor_is_needed_answers_interaction_required(
        browser, make_user, make_client):
    user = make_user(trust_level=4)
    needs_mfa, plain = make_client(require_mfa=True), make_client()
    browser.login(user)
    for client, extra in ((needs_mfa, {}), (plain, {"acr_values": "4"})):
        params = redirect_params(browser.authorize(client, prompt="none", state="pn", **extra,
                                                   **_pkce()[1]))
        assert params["error"] == "interaction_required"
        assert params["state"] == "pn"


def test_a_client_without_require_mfa_and_acr_3_does_not_ask(app, browser, make_user,
                                                             make_client):
    user, client = make_user(trust_level=3), make_client()
    browser.login(user)
    verifier, pkce = _pkce()
    params = redirect_params(browser.authorize(client, acr_values="3", **pkce))
    assert "code" in params
    claims = _claims(app, exchange(app, client, params["code"], verifier).json)
    assert claims["amr"] == ["pwd"] and claims["acr"] == "3"

"""A business system asking for a higher acr than the account has: the person is sent through
verification and back in one flow (ADR 0008), or the system hears it cannot be met."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

from tests.conftest import csrf_from, exchange, last_code, pkce_pair, redirect_params
from tests.identity.verify import two_element, with_photo
from tests.integration.citizens import second_factor, send_mfa_sms, text_of

LI_SI = ("李四", "11010519491231002X")


def _pkce():
    verifier, challenge = pkce_pair()
    return verifier, {"code_challenge": challenge, "code_challenge_method": "S256"}


def _verification_redirect(response):
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = urlparse(response.headers["Location"])
    assert location.path == "/account/identity"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    return query["level"], query["next"]


def _claims(app, tokens):
    return app.extensions["idp.provider"].tokens.decode(tokens["id_token"])


def test_acr_above_the_account_level_sends_the_person_to_verify_for_the_lowest_level_asked(
        browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    level, back = _verification_redirect(browser.authorize(client, acr_values="4 3"))
    assert level == "3" and back.startswith("/authorize?")
    page = text_of(browser.client.get("/account/identity?" +
                                      urlencode({"level": level, "next": back})))
    assert 'id="asked-level"' in page and 'id="cancel"' in page


def test_going_back_without_verifying_answers_unmet_authentication_requirements(
        browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    _, back = _verification_redirect(browser.authorize(client, acr_values="3", state="s1"))
    page = browser.client.get("/account/identity?" + urlencode({"level": "3", "next": back}))
    cancelled = browser.client.post("/account/identity/cancel", data={
        "csrf_token": csrf_from(text_of(page)), "next": back})
    assert cancelled.headers["Location"] == back
    params = redirect_params(browser.client.get(back))
    assert params["error"] == "unmet_authentication_requirements" and params["state"] == "s1"
    # declining counts for that one answer: the next request is offered verification again
    _verification_redirect(browser.client.get(back))


def test_prompt_none_and_unknown_levels_are_unmet_without_a_detour(browser, make_user,
                                                                   make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    for extra in ({"acr_values": "3", "prompt": "none"}, {"acr_values": "urn:other:loa"}):
        params = redirect_params(browser.authorize(client, **extra))
        assert params["error"] == "unmet_authentication_requirements", extra


def test_an_essential_acr_in_claims_also_leads_to_verification(browser, make_user,
                                                               make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    claims = '{"id_token": {"acr": {"essential": true, "values": ["3"]}}}'
    level, _ = _verification_redirect(browser.authorize(client, claims=claims))
    assert level == "3"


def test_verifying_to_level_3_returns_to_the_request_and_issues_acr_3(
        app, browser, make_user, make_client, national_platform):
    national_platform.add_person(*LI_SI)
    user, client = make_user(), make_client()
    browser.login(user)
    verifier, pkce = _pkce()
    level, back = _verification_redirect(browser.authorize(client, acr_values="3", **pkce))
    query = f"?level={level}"
    answer = two_element(browser, *LI_SI, query=query, next=back, level=level)
    assert answer.status_code == 303 and answer.headers["Location"] == back
    params = redirect_params(browser.client.get(back))
    tokens = exchange(app, client, params["code"], verifier).json
    assert _claims(app, tokens)["acr"] == "3"
    assert user  # the same account, no second login


def test_level_4_by_face_then_a_second_factor_issues_acr_4_in_one_flow(
        app, browser, make_user, make_client, national_platform, sms_platform):
    national_platform.add_person(*LI_SI)
    user, client = make_user(), make_client()
    browser.login(user)
    verifier, pkce = _pkce()
    level, back = _verification_redirect(browser.authorize(client, acr_values="4", **pkce))
    assert level == "4"
    answer = with_photo(browser, national_platform.portrait(LI_SI[1]), name=LI_SI[0],
                        number=LI_SI[1], next=back, level=level)
    assert answer.headers["Location"] == back
    # level 4 needs a second factor in this session (IDP_MFA_ACR_LEVELS): asked next
    mfa = browser.client.get(back)
    assert urlparse(mfa.headers["Location"]).path == "/login/mfa"
    next_url = parse_qs(urlparse(mfa.headers["Location"]).query)["next"][0]
    send_mfa_sms(browser, next_url)
    second_factor(browser, "sms", last_code(sms_platform, user.phone, "mfa"), next_url)
    params = redirect_params(browser.client.get(back))
    claims = _claims(app, exchange(app, client, params["code"], verifier).json)
    assert claims["acr"] == "4" and "mfa" in claims["amr"]

"""Authorization endpoint (RFC 6749 §4.1.1-4.1.2.1, OIDC Core §3.1.2, RFC 7636 §4.4)."""

from __future__ import annotations

from urllib.parse import urlparse

from idp.extensions import db
from tests.conftest import pkce_pair, redirect_params


def test_unknown_client_gets_error_page_and_never_a_redirect(browser):
    response = browser.client.get("/authorize?response_type=code&client_id=nope"
                                  "&redirect_uri=https://evil.example/cb&scope=openid&state=s")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "invalid_client" in response.get_data(as_text=True)


def test_unregistered_redirect_uri_gets_error_page_and_never_a_redirect(browser, make_client):
    client = make_client()
    response = browser.authorize(client, redirect_uri="https://rp.example.gov.cn/callback/evil")
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_redirect_uri_must_match_exactly_not_by_prefix_or_case(browser, make_client):
    client = make_client(redirect_uri="https://rp.example.gov.cn/cb")
    for variant in ("https://rp.example.gov.cn/cb/", "https://RP.example.gov.cn/cb",
                    "https://rp.example.gov.cn/cb?x=1"):
        assert browser.authorize(client, redirect_uri=variant).status_code == 400


def test_missing_redirect_uri_gets_error_page(browser, make_client):
    client = make_client()
    response = browser.client.get(f"/authorize?response_type=code&client_id={client.client_id}"
                                  "&scope=openid")
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unsupported_response_type_is_redirected_with_state(browser, make_client):
    client = make_client()
    response = browser.authorize(client, response_type="token", state="keep-me")
    assert response.status_code == 302
    params = redirect_params(response)
    assert params["error"] == "unsupported_response_type"
    assert params["state"] == "keep-me"
    assert "error_description" in params


def test_plain_pkce_is_refused(browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    response = browser.authorize(client, code_challenge="a" * 43, code_challenge_method="plain")
    assert redirect_params(response)["error"] == "invalid_request"


def test_pkce_without_method_is_refused_because_default_is_plain(browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    response = browser.authorize(client, code_challenge="a" * 43)
    assert redirect_params(response)["error"] == "invalid_request"


def test_public_client_must_send_pkce(browser, make_user, make_client):
    user, client = make_user(), make_client(auth_method="none")
    browser.login(user)
    params = redirect_params(browser.authorize(client, pkce=False, state="s1"))
    assert params == {"error": "invalid_request",
                      "error_description": "A PKCE code_challenge (S256) is required.",
                      "state": "s1"}


def test_confidential_client_without_pkce_is_refused_with_state(browser, make_user, make_client):
    """OAuth 2.1 §4.1.1, RFC 9700 §2.1.1: PKCE is required of confidential clients too."""
    user = make_user()
    for client in (make_client(), make_client(first_party=False),
                   make_client(auth_method="client_secret_post")):
        browser.login(user)
        response = browser.authorize(client, pkce=False, state="s2")
        assert response.status_code == 302
        assert response.headers["Location"].startswith(client.redirect_uri + "?")
        assert redirect_params(response) == {
            "error": "invalid_request",
            "error_description": "A PKCE code_challenge (S256) is required.", "state": "s2"}


def test_confidential_client_without_pkce_is_refused_before_login(browser, make_client):
    """The refusal does not wait for a login: nothing is shown to the person."""
    client = make_client()
    params = redirect_params(browser.authorize(client, pkce=False, prompt="none", state="s3"))
    assert params["error"] == "invalid_request" and params["state"] == "s3"


def test_prompt_none_without_session_answers_login_required(browser, make_client):
    client = make_client()
    params = redirect_params(browser.authorize(client, prompt="none", state="abc"))
    assert params == {"error": "login_required", "error_description": params["error_description"],
                      "state": "abc"}


def test_no_session_sends_the_person_to_the_login_page(browser, make_client):
    client = make_client()
    response = browser.authorize(client, login_hint="13900000000", ui_locales="en")
    location = urlparse(response.headers["Location"])
    assert location.path == "/login"
    page = browser.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="13900000000"' in page
    assert "Log in" in page and "登录" not in page.split("</header>")[1]


def test_login_returns_the_person_to_the_authorization_request(browser, make_user, make_client):
    user, client = make_user(), make_client()
    verifier, challenge = pkce_pair()
    first = browser.authorize(client, code_challenge=challenge, code_challenge_method="S256",
                              state="round-trip")
    next_url = redirect_params(first)["next"]
    logged_in = browser.login(user, next_url=next_url)
    assert logged_in.status_code == 303
    assert logged_in.headers["Location"] == next_url
    final = browser.client.get(next_url)
    params = redirect_params(final)
    assert params["state"] == "round-trip" and "code" in params


def test_prompt_login_forces_a_fresh_login_even_with_a_session(browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    response = browser.authorize(client, prompt="login")
    assert urlparse(response.headers["Location"]).path == "/login"
    browser.login(user, next_url=redirect_params(response)["next"])
    again = browser.client.get(redirect_params(response)["next"])
    assert "code" in redirect_params(again)


def test_max_age_zero_forces_login_and_auth_time_is_in_the_id_token(app, browser, make_user,
                                                                     make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    verifier, challenge = pkce_pair()
    response = browser.authorize(client, max_age="0", code_challenge=challenge,
                                 code_challenge_method="S256")
    assert urlparse(response.headers["Location"]).path == "/login"
    next_url = redirect_params(response)["next"]
    browser.login(user, next_url=next_url)
    code = redirect_params(browser.client.get(next_url))["code"]
    from tests.conftest import exchange

    tokens = exchange(app, client, code, verifier).json
    claims = app.extensions["idp.provider"].tokens.decode(tokens["id_token"])
    assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= claims["iat"]


def test_invalid_max_age_is_invalid_request(browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    assert redirect_params(browser.authorize(client, max_age="soon"))["error"] == \
        "invalid_request"


def test_prompt_none_combined_with_login_is_invalid_request(browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    assert redirect_params(browser.authorize(client, prompt="none login"))["error"] == \
        "invalid_request"


def test_acr_values_above_the_account_level_leads_to_verification_not_a_code(
        browser, make_user, make_client):
    """ADR 0008: the person is offered verification; with prompt=none the answer is unmet."""
    user, client = make_user(trust_level=3), make_client()
    browser.login(user)
    response = browser.authorize(client, acr_values="4 5", state="z")
    assert response.headers["Location"].startswith("/account/identity?level=4&next=")
    params = redirect_params(browser.authorize(client, acr_values="4 5", state="z",
                                               prompt="none"))
    assert params["error"] == "unmet_authentication_requirements"
    assert params["state"] == "z"


def test_acr_values_at_or_below_the_account_level_is_granted(browser, make_user, make_client):
    user, client = make_user(trust_level=4), make_client()
    browser.login(user)
    code, _ = browser.code_for(client, acr_values="3")
    assert code


def test_essential_acr_in_claims_request_is_enforced(browser, make_user, make_client):
    user, client = make_user(trust_level=2), make_client()
    browser.login(user)
    claims = '{"id_token": {"acr": {"essential": true, "values": ["3"]}}}'
    params = redirect_params(browser.authorize(client, claims=claims, prompt="none"))
    assert params["error"] == "unmet_authentication_requirements"
    assert browser.authorize(client, claims=claims).headers["Location"].startswith(
        "/account/identity?level=3")


def test_malformed_claims_parameter_is_invalid_request(browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    assert redirect_params(browser.authorize(client, claims="{not json"))["error"] == \
        "invalid_request"


def test_request_objects_are_refused_as_not_supported(browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    assert redirect_params(browser.authorize(client, request="eyJ.x.y"))["error"] == \
        "request_not_supported"


def test_scopes_unknown_or_not_allowed_for_the_client_are_dropped(app, browser, make_user,
                                                                  make_client):
    """OIDC Core §3.1.2.1: unrecognised scope values are ignored."""
    user, client = make_user(), make_client(scope="openid profile")
    browser.login(user)
    code, verifier = browser.code_for(client, scope="openid profile phone admin")
    from tests.conftest import exchange

    assert exchange(app, client, code, verifier).json["scope"] == "openid profile"


def test_authorization_without_openid_scope_is_refused(browser, make_user, make_client):
    user, client = make_user(), make_client()
    browser.login(user)
    verifier, challenge = pkce_pair()
    response = browser.authorize(client, scope="profile", code_challenge=challenge,
                                 code_challenge_method="S256")
    assert redirect_params(response)["error"] == "invalid_scope"


def test_third_party_client_shows_consent_then_remembers_it(browser, make_user, make_client):
    user, client = make_user(), make_client(first_party=False, name="不动产登记系统")
    browser.login(user)
    page = browser.authorize(client, scope="openid phone")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "不动产登记系统" in html and "手机号码" in html
    assert page.headers["Cache-Control"] == "no-store"
    from tests.conftest import csrf_from

    verifier, challenge = pkce_pair()
    query = {"scope": "openid phone", "code_challenge": challenge,
             "code_challenge_method": "S256", "state": "c1"}
    url = browser.authorize(client, **query).request.full_path
    allowed = browser.client.post(url, data={"csrf_token": csrf_from(html), "decision": "allow"})
    assert "code" in redirect_params(allowed)
    # remembered: the same scopes need no second consent
    again = browser.authorize(client, scope="openid phone", code_challenge=challenge,
                              code_challenge_method="S256")
    assert "code" in redirect_params(again)
    # asking for more shows the page again
    assert browser.authorize(client, scope="openid phone profile").status_code == 200


def test_consent_denied_redirects_access_denied(browser, make_user, make_client):
    user, client = make_user(), make_client(first_party=False)
    browser.login(user)
    page = browser.authorize(client, state="d1")
    from tests.conftest import csrf_from

    response = browser.client.post(page.request.full_path, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "decision": "deny"})
    params = redirect_params(response)
    assert params["error"] == "access_denied" and params["state"] == "d1"


def test_consent_post_without_csrf_token_is_refused(browser, make_user, make_client):
    user, client = make_user(), make_client(first_party=False)
    browser.login(user)
    page = browser.authorize(client)
    response = browser.client.post(page.request.full_path, data={"decision": "allow"})
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_prompt_none_without_consent_answers_consent_required(browser, make_user, make_client):
    user, client = make_user(), make_client(first_party=False)
    browser.login(user)
    assert redirect_params(browser.authorize(client, prompt="none"))["error"] == \
        "consent_required"


def test_prompt_consent_shows_the_page_even_when_remembered(app, browser, make_user,
                                                            make_client):
    user, client = make_user(), make_client(first_party=False)
    app.extensions["idp.provider"].consents.remember(user.id, client.client_id, "openid profile")
    db.session.commit()  # the test's own unit of work (services only flush)
    browser.login(user)
    assert browser.authorize(client, prompt="consent").status_code == 200

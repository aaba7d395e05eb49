"""Forgotten password (找回密码): an SMS code to the registered number, then a new password that
ends every SSO session and revokes every grant of the account (OWASP ASVS 4.0 §3.3.3, §2.5.x),
with a notice to the number, and answers that never reveal whether a number is registered.
"""

from __future__ import annotations

from idp.audit.tags import Tag
from idp.extensions import get_store
from tests.conftest import (
    Browser,
    exchange,
    last_code,
    redirect_params,
    sms_messages,
    token_request,
)
from tests.integration.citizens import (
    IF_REGISTERED,
    POLICY,
    WRONG_CODE,
    WRONG_LOGIN,
    audit_events,
    error_of,
    notice_of,
    problems_of,
    reset_password,
    send_reset_code,
    sid_of,
    sso_cookie,
    text_of,
)
from tests.integration.helpers import offline_tokens_for

NEW_PASSWORD = "Autumn-Leaf-2027"


def _browser(app):
    return Browser(app.test_client())


def _tokens(app, browser, client):
    code, verifier = browser.code_for(client)
    response = exchange(app, client, code, verifier)
    assert response.status_code == 200
    return response.json


def _refresh(app, client, tokens):
    return token_request(app, client, grant_type="refresh_token",
                         refresh_token=tokens["refresh_token"])


def _reset(app, user, sms_platform, password=NEW_PASSWORD):
    browser = _browser(app)
    sent = send_reset_code(browser, user.phone)
    assert sent.status_code == 200
    return reset_password(browser, last_code(sms_platform, user.phone, "reset"), password)


def test_a_reset_code_is_sent_to_a_registered_number(app, make_user, sms_platform):
    user = make_user()
    response = send_reset_code(_browser(app), user.phone)
    assert response.status_code == 200
    assert notice_of(response) == IF_REGISTERED
    [message] = sms_messages(sms_platform, user.phone)
    assert message["template"] == "reset" and len(message["params"]["code"]) == 6
    assert 'name="r-code"' in text_of(response)


def test_an_unknown_number_gets_the_same_answer_and_a_notice_instead_of_a_code(
        app, make_user, sms_platform):
    """No enumeration: the page is the same, and both numbers get one SMS through the same
    gateway call (so the timing is alike); the unknown one is told it has no account."""
    user = make_user()
    known = send_reset_code(_browser(app), user.phone)
    unknown = send_reset_code(_browser(app), "13711112222")
    assert unknown.status_code == known.status_code == 200
    assert notice_of(unknown) == notice_of(known) == IF_REGISTERED
    [notice] = sms_messages(sms_platform, "13711112222")
    assert notice["template"] == "no_account" and notice["params"] == {}
    assert 'name="r-code"' in text_of(unknown)


def test_resetting_changes_the_password_and_is_audited(app, make_user, sms_platform):
    user = make_user()
    response = _reset(app, user, sms_platform)
    assert response.status_code == 200
    assert "<h1>密码已重置</h1>" in text_of(response)
    old = _browser(app).login(user)
    assert old.status_code == 400 and error_of(old) == WRONG_LOGIN
    assert _browser(app).login(user, password=NEW_PASSWORD).status_code == 303
    [reset] = audit_events(Tag.PASSWORD_RESET.value, user.id)
    assert reset.actor == "citizen:" + user.id


def test_the_number_gets_a_password_reset_notice(app, make_user, sms_platform):
    user = make_user()
    _reset(app, user, sms_platform)
    templates = [m["template"] for m in sms_messages(sms_platform, user.phone)]
    assert templates == ["reset", "password_reset_done"]


def test_resetting_ends_every_sso_session_of_the_account(app, make_user, make_client,
                                                         sms_platform):
    user, client = make_user(), make_client()
    first, second = _browser(app), _browser(app)
    first.login(user)
    second.login(user)
    sids = {sid_of(first), sid_of(second)}
    _reset(app, user, sms_platform)
    for browser in (first, second):
        params = redirect_params(browser.authorize(client, prompt="none"))
        assert params["error"] == "login_required"
    ended = {e.data["sid"] for e in audit_events(Tag.LOGOUT.value, user.id)}
    assert ended == sids
    assert app.extensions["idp.sessions"].for_user(user.id) == []


def test_resetting_revokes_every_refresh_token_even_of_sessions_already_gone(
        app, make_user, make_client, sms_platform):
    user, other = make_user(), make_client(redirect_uri="https://b.example.gov.cn/cb")
    client = make_client(scope="openid profile offline_access")
    live = _browser(app)
    live.login(user)
    live_tokens = [_tokens(app, live, client), _tokens(app, live, other)]
    expired = _browser(app)
    expired_tokens = offline_tokens_for(app, expired, user, client)
    get_store(app).delete("sso:" + sid_of(expired))  # that session timed out long ago
    still_valid = _refresh(app, client, expired_tokens)
    # an offline grant (OIDC Core §11) outlives its session until revoked
    assert still_valid.status_code == 200
    _reset(app, user, sms_platform)
    for owner, tokens in ((client, live_tokens[0]), (other, live_tokens[1]),
                          (client, still_valid.json)):
        response = _refresh(app, owner, tokens)
        assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_the_refresh_token_rotated_before_the_reset_is_revoked(app, make_user, make_client,
                                                               sms_platform):
    user, client = make_user(), make_client()
    browser = _browser(app)
    browser.login(user)
    tokens = _tokens(app, browser, client)
    rotated = _refresh(app, client, tokens).json
    _reset(app, user, sms_platform)
    response = _refresh(app, client, rotated)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_the_resetting_browser_is_left_signed_out(app, make_user, make_client, sms_platform):
    user, client = make_user(), make_client()
    browser = _browser(app)
    browser.login(user)
    send_reset_code(browser, user.phone)
    response = reset_password(browser, last_code(sms_platform, user.phone, "reset"),
                              NEW_PASSWORD)
    assert "idp_sso=;" in response.headers["Set-Cookie"]
    assert sso_cookie(browser) is None
    assert redirect_params(browser.authorize(client, prompt="none"))["error"] == \
        "login_required"


def test_a_wrong_code_changes_nothing(app, make_user, sms_platform):
    user = make_user()
    browser = _browser(app)
    send_reset_code(browser, user.phone)
    code = last_code(sms_platform, user.phone, "reset")
    response = reset_password(browser, f"{(int(code) + 1) % 10**6:06d}", NEW_PASSWORD)
    assert response.status_code == 400 and error_of(response) == WRONG_CODE
    assert _browser(app).login(user).status_code == 303
    assert audit_events(Tag.PASSWORD_RESET.value) == []


def test_an_unknown_number_cannot_reset_anything(app, sms_platform):
    browser = _browser(app)
    send_reset_code(browser, "13711112222")
    response = reset_password(browser, "123456", NEW_PASSWORD)
    assert response.status_code == 400 and error_of(response) == WRONG_CODE


def test_the_new_password_must_meet_the_policy(app, make_user, sms_platform):
    user = make_user()
    browser = _browser(app)
    send_reset_code(browser, user.phone)
    code = last_code(sms_platform, user.phone, "reset")
    response = reset_password(browser, code, "Xy-" + user.phone)
    assert response.status_code == 400
    assert problems_of(response) == [POLICY["contains_phone"]]
    assert _browser(app).login(user).status_code == 303
    # the code was not spent on the refused password
    assert reset_password(browser, code, NEW_PASSWORD).status_code == 200

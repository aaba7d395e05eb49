"""Second factors: TOTP enrolment (RFC 6238) with one-time recovery codes, the second step of
a password login, replay refusal, SMS as a second factor, lockout of wrong codes, and the
authentication methods each login reports in the ID token (RFC 8176 amr values).
"""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import func, select

from idp.accounts.models import RecoveryCode, User
from idp.audit.tags import Tag
from idp.extensions import db
from tests.conftest import Browser, exchange, last_code, redirect_params, sms_messages
from tests.integration.citizens import (
    LOCKED_RE,
    WRONG_CODE,
    audit_events,
    clear_wait,
    csrf,
    enrol_totp,
    error_of,
    lock_subject,
    locked_until,
    next_totp,
    second_factor,
    send_mfa_sms,
    sso_cookie,
    text_of,
)


def _enrolled(app, make_user, phone=None):
    """A person with an authenticator app; returns (user, secret, recovery codes)."""
    user = make_user(phone=phone) if phone else make_user()
    browser = Browser(app.test_client())
    browser.login(user)
    enrolled = enrol_totp(browser)
    return user, enrolled.secret, enrolled.recovery_codes


def _fresh_browser(app):
    return Browser(app.test_client())


def _id_token_amr(app, browser, client):
    code, verifier = browser.code_for(client)
    tokens = exchange(app, client, code, verifier).json
    return app.extensions["idp.provider"].tokens.decode(tokens["id_token"])["amr"]


def test_enrolment_page_shows_a_qr_code_named_for_screen_readers_and_the_key(browser, make_user):
    browser.login(make_user())
    response = browser.client.get("/account/totp")
    assert response.status_code == 200
    page = text_of(response)
    assert re.search(r'<div class="qr" role="img" aria-label="用于认证器应用的二维码">'
                     r'(<\?xml[^>]*>\s*)?<svg [^>]*xmlns="http://www.w3.org/2000/svg"'
                     r'.*?<path .*?</svg></div>', page, re.S)
    assert re.search(r'<code id="totp-key">[A-Z2-7]{32}</code>', page)


def test_enrolment_page_requires_login(browser):
    response = browser.client.get("/account/totp")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")


def test_confirming_with_a_code_turns_totp_on_and_shows_ten_recovery_codes(app, browser,
                                                                            make_user):
    user = make_user()
    browser.login(user)
    enrolled = enrol_totp(browser)
    assert len(enrolled.recovery_codes) == 10
    assert len(set(enrolled.recovery_codes)) == 10
    assert all(len(c) == 11 and c[5] == "-" for c in enrolled.recovery_codes)
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.totp_secret_sealed and enrolled.secret not in stored.totp_secret_sealed
    assert len(audit_events(Tag.TOTP_ENROLLED.value, user.id)) == 1
    [issued] = audit_events(Tag.RECOVERY_CODES_ISSUED.value, user.id)
    assert issued.data == {"count": 10}
    account = text_of(browser.client.get("/account"))
    assert "剩余恢复码：10 个" in account


def test_a_wrong_confirmation_code_leaves_totp_off(app, browser, make_user):
    user = make_user()
    browser.login(user)
    page = text_of(browser.client.get("/account/totp"))
    secret = page.split('id="totp-key">')[1].split("<")[0]
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 10**6:06d}"
    response = browser.client.post("/account/totp", data={"csrf_token": csrf(browser),
                                                          "code": wrong})
    assert response.status_code == 400
    assert error_of(response) == WRONG_CODE
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret_sealed is None
    assert audit_events(Tag.TOTP_ENROLLED.value, user.id) == []


def test_password_login_then_asks_for_the_second_factor_without_a_session(app, make_user):
    user, _, _ = _enrolled(app, make_user)
    signed_in_before = len(audit_events(Tag.LOGIN_SUCCESS.value, user.id))
    browser = _fresh_browser(app)
    response = browser.login(user)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/mfa"
    assert "idp_sso" not in response.headers.get("Set-Cookie", "")
    assert sso_cookie(browser) is None
    page = browser.client.get("/login/mfa")
    assert page.status_code == 200 and 'name="method" value="totp"' in text_of(page)
    assert len(audit_events(Tag.LOGIN_SUCCESS.value, user.id)) == signed_in_before


def test_the_right_totp_code_signs_in_and_amr_is_mfa_otp_pwd(app, make_user, make_client):
    user, secret, _ = _enrolled(app, make_user)
    client = make_client()
    browser = _fresh_browser(app)
    browser.login(user)
    response = second_factor(browser, "totp", next_totp(secret))
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert sso_cookie(browser) is not None
    assert _id_token_amr(app, browser, client) == ["mfa", "otp", "pwd"]
    [success] = audit_events(Tag.MFA_SUCCESS.value, user.id)
    assert success.data == {"method": "totp"}


def test_the_second_step_returns_to_the_authorization_request(app, make_user, make_client):
    user, secret, _ = _enrolled(app, make_user)
    client = make_client()
    browser = _fresh_browser(app)
    first = browser.authorize(client, code_challenge="a" * 43, code_challenge_method="S256")
    next_url = redirect_params(first)["next"]
    assert browser.login(user, next_url=next_url).headers["Location"] == "/login/mfa"
    done = second_factor(browser, "totp", next_totp(secret))
    assert done.status_code == 303 and done.headers["Location"] == next_url
    assert "code" in redirect_params(browser.client.get(next_url))


def test_a_totp_code_already_used_is_refused(app, make_user):
    user, secret, _ = _enrolled(app, make_user)
    code = next_totp(secret)
    first = _fresh_browser(app)
    first.login(user)
    assert second_factor(first, "totp", code).status_code == 303
    replay = _fresh_browser(app)
    replay.login(user)
    response = second_factor(replay, "totp", code)
    assert response.status_code == 400
    assert error_of(response) == WRONG_CODE
    assert sso_cookie(replay) is None
    assert len(audit_events(Tag.MFA_FAILURE.value, user.id)) == 1


def test_the_enrolment_code_cannot_be_used_again_to_log_in(app, make_user):
    user = make_user()
    enrolling = _fresh_browser(app)
    enrolling.login(user)
    page = text_of(enrolling.client.get("/account/totp"))
    secret = page.split('id="totp-key">')[1].split("<")[0]
    code = pyotp.TOTP(secret).now()
    assert enrolling.client.post("/account/totp", data={"csrf_token": csrf(enrolling),
                                                        "code": code}).status_code == 200
    browser = _fresh_browser(app)
    browser.login(user)
    assert second_factor(browser, "totp", code).status_code == 400


def test_a_recovery_code_works_once_and_only_once(app, make_user, make_client):
    user, _, codes = _enrolled(app, make_user)
    first = _fresh_browser(app)
    first.login(user)
    response = second_factor(first, "recovery", codes[0])
    assert response.status_code == 303
    assert _id_token_amr(app, first, make_client()) == ["mfa", "otp", "pwd"]
    again = _fresh_browser(app)
    again.login(user)
    refused = second_factor(again, "recovery", codes[0])
    assert refused.status_code == 400 and error_of(refused) == WRONG_CODE
    assert len(audit_events(Tag.RECOVERY_CODE_USED.value, user.id)) == 1
    assert "剩余恢复码：9 个" in text_of(first.client.get("/account"))


def test_a_recovery_code_is_accepted_in_capitals_and_without_the_dash(app, make_user):
    user, _, codes = _enrolled(app, make_user)
    browser = _fresh_browser(app)
    browser.login(user)
    assert second_factor(browser, "recovery", codes[1].replace("-", "").upper()).status_code \
        == 303


def test_with_an_authenticator_app_sms_is_not_a_second_factor_by_default(app, make_user,
                                                                          sms_platform):
    """ADR 0006: once TOTP is enrolled, SMS (the weaker factor) no longer finishes a login
    unless IDP_SMS_WITH_TOTP says so; neither a code nor a sign-in comes of asking."""
    user, _, _ = _enrolled(app, make_user)
    browser = _fresh_browser(app)
    browser.login(user)
    page = browser.client.get("/login/mfa")
    assert 'id="send-sms"' not in text_of(page)
    sent = send_mfa_sms(browser)
    assert sent.status_code == 400
    assert sms_messages(sms_platform, user.phone) == []
    refused = second_factor(browser, "sms", "123456")
    assert refused.status_code == 400 and sso_cookie(browser) is None


def test_an_sms_code_as_second_factor_gives_amr_with_sms_and_mfa(app, make_user, make_client,
                                                                  sms_platform,
                                                                  change_settings):
    change_settings(sms_with_totp=True)
    user, _, _ = _enrolled(app, make_user)
    browser = _fresh_browser(app)
    browser.login(user)
    sent = send_mfa_sms(browser)
    assert sent.status_code == 200
    assert 'name="method" value="sms"' in text_of(sent)
    code = last_code(sms_platform, user.phone, "mfa")
    response = second_factor(browser, "sms", code)
    assert response.status_code == 303
    assert _id_token_amr(app, browser, make_client()) == ["mfa", "pwd", "sms"]
    [success] = audit_events(Tag.MFA_SUCCESS.value, user.id)
    assert success.data == {"method": "sms"}


def test_five_wrong_second_factor_codes_lock_the_account(app, make_user):
    user, secret, _ = _enrolled(app, make_user)
    subject = lock_subject(app, user)
    browser = _fresh_browser(app)
    browser.login(user)
    wrong = f"{(int(next_totp(secret)) + 1) % 10**6:06d}"
    told = []
    for _ in range(5):
        response = second_factor(browser, "totp", wrong)
        assert response.status_code == 400
        told.append(error_of(response))
        clear_wait(app, subject)
    assert told[:4] == [WRONG_CODE] * 4
    assert LOCKED_RE.match(told[4] or ""), told[4]
    right = second_factor(browser, "totp", next_totp(secret))
    assert right.status_code == 400 and LOCKED_RE.match(error_of(right) or "")
    assert sso_cookie(browser) is None
    assert len(audit_events(Tag.MFA_FAILURE.value, user.id)) == 5
    # the lock also stops the first step
    assert LOCKED_RE.match(error_of(_fresh_browser(app).login(user)) or "")


def test_a_lock_by_wrong_second_factor_codes_is_audited(app, make_user):
    """docs/events.md: accounts:user:locked whenever the failure threshold is reached."""
    user, secret, _ = _enrolled(app, make_user)
    subject = lock_subject(app, user)
    browser = _fresh_browser(app)
    browser.login(user)
    wrong = f"{(int(next_totp(secret)) + 1) % 10**6:06d}"
    for _ in range(5):
        second_factor(browser, "totp", wrong)
        clear_wait(app, subject)
    until = locked_until(app, subject)  # the account is locked ...
    locked = audit_events(Tag.ACCOUNT_LOCKED.value, user.id)  # ... and the log must say so
    assert [e.data for e in locked] == [{"until": until}]


def test_removing_totp_removes_the_recovery_codes_and_the_second_step(app, make_user):
    user = make_user()
    browser = _fresh_browser(app)
    browser.login(user)
    enrolled = enrol_totp(browser)
    # Removing needs a recent sign-in with the app itself (the session after enrolling is
    # still password-only): sign in again with both factors, then remove.
    asked = browser.client.post("/account/totp", data={"csrf_token": csrf(browser),
                                                       "step": "remove"})
    assert asked.status_code == 303 and asked.headers["Location"].startswith("/login?")
    browser.login(user)
    assert second_factor(browser, "totp", next_totp(enrolled.secret)).status_code == 303
    response = browser.client.post("/account/totp", data={"csrf_token": csrf(browser),
                                                          "step": "remove"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account#security"
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret_sealed is None
    left = db.session.execute(select(func.count()).select_from(RecoveryCode)
                              .where(RecoveryCode.user_id == user.id)).scalar_one()
    assert left == 0
    assert len(audit_events(Tag.TOTP_REMOVED.value, user.id)) == 1
    again = _fresh_browser(app)
    assert again.login(user).headers["Location"] == "/"
    assert sso_cookie(again) is not None


def test_the_second_step_without_a_pending_login_goes_back_to_login(browser):
    response = browser.client.get("/login/mfa")
    assert response.status_code == 303 and response.headers["Location"] == "/login"

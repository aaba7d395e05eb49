"""The assurance rules (ADR 0006, idp/accounts/assurance.py) through the pages and the protocol:
`mfa` only for a knowledge and a possession factor, enrolment grants nothing, sensitive
changes need a recent sign-in with the account's factors, acr 4/5 only with `mfa`, a step-up
never counts a factor twice, and a password change ends other sessions and every grant.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from idp.accounts.models import RecoveryCode, User
from idp.audit.tags import Tag
from idp.extensions import db, get_store
from idp.oauth.models import Grant
from tests.conftest import (
    Browser,
    LiveServer,
    exchange,
    last_code,
    pkce_pair,
    redirect_params,
    remember_secret,
    sms_messages,
)
from tests.conftest import TestUser as Citizen  # not `TestUser`: pytest would collect it
from tests.integration.citizens import (
    LOCKED_RE,
    RECOVERY_RE,
    TOTP_KEY_RE,
    Enrolled,
    any_captcha,
    audit_events,
    captcha_of,
    clear_wait,
    csrf,
    enrol_totp,
    error_of,
    lock_subject,
    next_totp,
    notice_of,
    second_factor,
    send_mfa_sms,
    sid_of,
    sso_cookie,
    text_of,
)
from tests.integration.helpers import introspect, refresh

NOT_FOR_THIS_STEP = "此步骤不能使用该方式。"
WRONG_CURRENT = "当前密码不正确。"
REAUTH_NOTICE = "为保障账户安全，请重新登录后继续。"
NO_USABLE_FACTOR = ("该服务需要第二重验证，但您的账户没有可用的验证方式。请在“我的账户”页面添加身份"
                    "验证器，或到服务大厅窗口办理。")
REAUTH_MAX_AGE = 300  # IDP_REAUTH_MAX_AGE's default, which the test settings keep
NEW_PASSWORD = "Winter-Snow-2028"
WRONG_PASSWORD = "Wrong-Horse-1"
ERROR_LEAD_RE = re.compile(r'<p role="alert" id="error-lead">(.*?)</p>', re.S)


# --- helpers ---
def _browser(app: Flask) -> Browser:
    return Browser(app.test_client())


def _pkce() -> tuple[str, dict[str, str]]:
    verifier, challenge = pkce_pair()
    remember_secret(verifier)
    return verifier, {"code_challenge": challenge, "code_challenge_method": "S256"}


def _mfa_next(response: Any) -> str | None:
    """The `next` of a redirect to the second step (None if it went elsewhere)."""
    location = urlparse(response.headers.get("Location", ""))
    if response.status_code not in (302, 303) or location.path != "/login/mfa":
        return None
    return parse_qs(location.query)["next"][0]


def _sso(app: Flask, browser: Browser) -> Any:
    return app.extensions["idp.sessions"].get(sid_of(browser))


def _decode(app: Flask, token: str) -> dict[str, Any]:
    claims = app.extensions["idp.provider"].tokens.decode(token)
    assert claims is not None
    return dict(claims)


def _tokens(app: Flask, browser: Browser, client: Any, **params: str) -> dict[str, Any]:
    """The code flow with PKCE in the browser's current session; the token response."""
    code, verifier = browser.code_for(client, **params)
    response = exchange(app, client, code, verifier)
    assert response.status_code == 200, response.json
    return dict(response.json)


def _finish(app: Flask, browser: Browser, client: Any, next_url: str,
            verifier: str) -> dict[str, Any]:
    """Back at the authorization request after a second step: its code, exchanged."""
    params = redirect_params(browser.client.get(next_url))
    assert "code" in params, params
    remember_secret(params["code"])
    response = exchange(app, client, params["code"], verifier)
    assert response.status_code == 200, response.json
    return dict(response.json)


def _sms_login(browser: Browser, sms_platform: LiveServer, user: Citizen) -> Any:
    """Log in with a code sent to the registered number (/login/sms)."""
    page = browser.client.get("/login/sms")
    token = csrf(browser)
    sent = browser.client.post("/login/sms", data={"p-csrf_token": token, "step": "send",
                                                   "p-phone": user.phone, "p-next": "",
                                                   **captcha_of(browser, page)})
    assert sent.status_code == 200, error_of(sent)
    code = last_code(sms_platform, user.phone, "login")
    return browser.client.post("/login/sms", data={"c-csrf_token": token, "step": "code",
                                                   "c-code": code, "c-next": ""})


def _allow_next_sms(app: Flask, phone: str) -> None:
    """As if the minute between two codes to one number had passed."""
    get_store(app).delete("sms-gap:" + phone)


def _enrolled_elsewhere(app: Flask, user: Citizen) -> Enrolled:
    """Turn the authenticator app on for `user` in another browser."""
    other = _browser(app)
    assert other.login(user).status_code == 303
    enrolled = enrol_totp(other)
    remember_secret(enrolled.secret, *enrolled.recovery_codes)
    return enrolled


def _enrol_here(browser: Browser) -> Enrolled:
    enrolled = enrol_totp(browser)
    remember_secret(enrolled.secret, *enrolled.recovery_codes)
    return enrolled


def _totp(secret: str) -> str:
    code = next_totp(secret)
    remember_secret(code)
    return code


def _page_methods(response: Any) -> dict[str, object]:
    """What the second-step page offers: the form's method and the links to other methods."""
    page = text_of(response)
    form = re.search(r'<input type="hidden" name="method" value="([a-z]*)">', page)
    assert form, "no second-step form"
    return {"form": form.group(1), "send_sms": 'id="send-sms"' in page,
            "totp": "method=totp" in page, "recovery": 'id="use-recovery"' in page,
            "password": 'id="use-password"' in page}


def _user_row(user: Citizen) -> User:
    db.session.expire_all()
    row = db.session.get(User, user.id)
    assert row is not None
    return row


def _recovery_hashes(user: Citizen) -> set[str]:
    db.session.expire_all()
    return set(db.session.execute(select(RecoveryCode.code_hash)
                                  .where(RecoveryCode.user_id == user.id)).scalars())


def _age_sign_in(app: Flask, browser: Browser, seconds: int) -> None:
    """Move the session's sign-in `seconds` into the past, as if that time had passed."""
    store, sessions = get_store(app), app.extensions["idp.sessions"]
    key = "sso:" + sid_of(browser)
    raw = store.get(key)
    assert raw is not None
    data = json.loads(raw)
    data["auth_time"] -= seconds
    store.set(key, json.dumps(data), sessions.idle_ttl)


def _reauth_params(response: Any) -> dict[str, str]:
    assert response.status_code == 303, response.status_code
    assert urlparse(response.headers["Location"]).path == "/login"
    return redirect_params(response)


# --- a. SMS login: the same kind twice is never mfa ---
def test_an_sms_login_asked_for_mfa_is_offered_only_the_password(app, browser, make_user,
                                                                 make_client, sms_platform):
    user, client = make_user(), make_client(require_mfa=True)
    done = _sms_login(browser, sms_platform, user)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert _sso(app, browser).amr == ["sms"]
    next_url = _mfa_next(browser.authorize(client, **_pkce()[1]))
    assert next_url is not None
    page = browser.client.get("/login/mfa", query_string={"next": next_url})
    assert page.status_code == 200
    assert _page_methods(page) == {"form": "password", "send_sms": False, "totp": False,
                                   "recovery": False, "password": False}
    asked_sms = browser.client.get("/login/mfa", query_string={"next": next_url,
                                                               "method": "sms"})
    assert _page_methods(asked_sms)["form"] == "password"


def test_an_sms_login_cannot_use_sms_again_as_its_second_factor(app, browser, make_user,
                                                                make_client, sms_platform):
    user, client = make_user(), make_client(require_mfa=True)
    _sms_login(browser, sms_platform, user)
    next_url = _mfa_next(browser.authorize(client, **_pkce()[1]))
    assert next_url is not None
    _allow_next_sms(app, user.phone)
    refused = [
        second_factor(browser, "sms", "123456", next_url),
        send_mfa_sms(browser, next_url),
        browser.client.post("/login/mfa", data={"csrf_token": csrf(browser), "step": "send",
                                                "method": "sms", "next": next_url}),
    ]
    assert [r.status_code for r in refused] == [400, 400, 400]
    assert [error_of(r) for r in refused] == [NOT_FOR_THIS_STEP] * 3
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)] == ["login"]
    assert _sso(app, browser).amr == ["sms"]
    assert audit_events(Tag.MFA_SUCCESS.value, user.id) == []
    assert audit_events(Tag.MFA_FAILURE.value, user.id) == []
    assert _mfa_next(browser.authorize(client, **_pkce()[1])) is not None


def test_an_sms_login_completed_with_the_password_gets_mfa_pwd_sms(app, browser, make_user,
                                                                   make_client, sms_platform):
    user, client = make_user(trust_level=4), make_client(require_mfa=True)
    _sms_login(browser, sms_platform, user)
    cookie = sso_cookie(browser)
    verifier, pkce = _pkce()
    next_url = _mfa_next(browser.authorize(client, **pkce))
    assert next_url is not None
    done = second_factor(browser, "password", user.password, next_url)
    assert done.status_code == 303 and done.headers["Location"] == next_url
    assert sso_cookie(browser) == cookie  # stepped up, not replaced
    claims = _decode(app, _finish(app, browser, client, next_url, verifier)["id_token"])
    assert claims["amr"] == ["mfa", "pwd", "sms"]
    assert claims["acr"] == "4"


def test_an_sms_login_finished_with_the_authenticator_app_is_not_mfa(app, browser, make_user,
                                                                     make_client,
                                                                     sms_platform):
    user = make_user(trust_level=4)
    enrolled = _enrolled_elsewhere(app, user)
    needs_mfa, plain = make_client(require_mfa=True), make_client()
    pending = _sms_login(browser, sms_platform, user)
    assert pending.status_code == 303 and pending.headers["Location"] == "/login/mfa"
    assert _page_methods(browser.client.get("/login/mfa"))["send_sms"] is False
    done = second_factor(browser, "totp", _totp(enrolled.secret))
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert _sso(app, browser).amr == ["otp", "sms"]
    next_url = _mfa_next(browser.authorize(needs_mfa, **_pkce()[1]))
    assert next_url is not None
    page = browser.client.get("/login/mfa", query_string={"next": next_url})
    assert _page_methods(page) == {"form": "password", "send_sms": False, "totp": False,
                                   "recovery": False, "password": False}
    claims = _decode(app, _tokens(app, browser, plain)["id_token"])
    assert claims["amr"] == ["otp", "sms"] and claims["acr"] == "3"


def test_an_sms_login_with_an_app_cannot_finish_with_sms_even_when_policy_allows(
        app, browser, make_user, sms_platform, change_settings):
    change_settings(sms_with_totp=True)
    user = make_user()
    _enrolled_elsewhere(app, user)
    _sms_login(browser, sms_platform, user)
    page = browser.client.get("/login/mfa")
    assert _page_methods(page) == {"form": "totp", "send_sms": False, "totp": False,
                                   "recovery": True, "password": False}
    page = browser.client.get("/login/mfa", query_string={"method": "recovery"})
    assert _page_methods(page) == {"form": "recovery", "send_sms": False, "totp": True,
                                   "recovery": False, "password": False}
    _allow_next_sms(app, user.phone)
    sent = send_mfa_sms(browser)
    refused = second_factor(browser, "sms", "123456")
    assert (sent.status_code, error_of(sent)) == (400, NOT_FOR_THIS_STEP)
    assert (refused.status_code, error_of(refused)) == (400, NOT_FOR_THIS_STEP)
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)] == ["login"]
    assert sso_cookie(browser) is None


# --- b. Enrolling the app grants nothing ---
def test_enrolling_the_app_leaves_the_session_password_only(app, browser, make_user,
                                                            make_client):
    user = make_user(trust_level=4)
    needs_mfa, plain = make_client(require_mfa=True), make_client()
    browser.login(user)
    before = _sso(app, browser)
    _enrol_here(browser)
    after = _sso(app, browser)
    assert (after.sid, after.amr, after.auth_time) == (before.sid, ["pwd"], before.auth_time)
    assert _mfa_next(browser.authorize(needs_mfa, **_pkce()[1])) is not None
    assert _mfa_next(browser.authorize(plain, acr_values="4", **_pkce()[1])) is not None


def test_a_token_issued_after_enrolment_without_step_up_says_pwd_and_acr_3(app, browser,
                                                                           make_user,
                                                                           make_client):
    user, client = make_user(trust_level=4), make_client()
    browser.login(user)
    _enrol_here(browser)
    tokens = _tokens(app, browser, client)
    claims = _decode(app, tokens["id_token"])
    assert claims["amr"] == ["pwd"] and claims["acr"] == "3"
    assert _decode(app, tokens["access_token"])["acr"] == "3"


def test_after_enrolment_a_step_up_with_the_app_gives_mfa_and_acr_4(app, browser, make_user,
                                                                    make_client):
    user, client = make_user(trust_level=4), make_client()
    browser.login(user)
    enrolled = _enrol_here(browser)
    verifier, pkce = _pkce()
    next_url = _mfa_next(browser.authorize(client, acr_values="4", **pkce))
    assert next_url is not None
    page = browser.client.get("/login/mfa", query_string={"next": next_url})
    assert _page_methods(page) == {"form": "totp", "send_sms": False, "totp": False,
                                   "recovery": True, "password": False}
    done = second_factor(browser, "totp", _totp(enrolled.secret), next_url)
    assert done.status_code == 303 and done.headers["Location"] == next_url
    claims = _decode(app, _finish(app, browser, client, next_url, verifier)["id_token"])
    assert claims["amr"] == ["mfa", "otp", "pwd"] and claims["acr"] == "4"


# --- c. Sensitive changes need a recent sign-in with the account's factors ---
@dataclass
class Case:
    """One person and the browser whose session tries a sensitive change."""

    app: Flask
    browser: Browser
    user: Citizen
    sms_platform: LiveServer
    enrolled: Enrolled | None = None
    again: tuple[str, str] | None = None  # the second factor used to sign in again
    kept: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    name: str
    needs_app: bool
    prepare: Callable[[Case], None]  # while the session may still make the change
    attempts: Callable[[Case], list[tuple[Any, str]]]  # (response, the `next` it must name)
    unchanged: Callable[[Case], None]
    redo: Callable[[Case], Any]
    done: Callable[[Case, Any], None]


def _enrol_prepare(case: Case) -> None:
    page = case.browser.client.get("/account/totp")
    assert page.status_code == 200
    match = TOTP_KEY_RE.search(text_of(page))
    assert match
    case.kept["key"] = match.group(1)
    remember_secret(match.group(1))


def _enrol_post(case: Case) -> Any:
    code = pyotp.TOTP(case.kept["key"]).now()
    remember_secret(code)
    return case.browser.client.post("/account/totp", data={"csrf_token": csrf(case.browser),
                                                           "code": code})


def _enrol_attempts(case: Case) -> list[tuple[Any, str]]:
    return [(case.browser.client.get("/account/totp"), "/account/totp"),
            (_enrol_post(case), "/account")]


def _enrol_unchanged(case: Case) -> None:
    assert _user_row(case.user).totp_secret_sealed is None
    assert audit_events(Tag.TOTP_ENROLLED.value, case.user.id) == []
    assert _recovery_hashes(case.user) == set()


def _enrol_done(case: Case, response: Any) -> None:
    assert response.status_code == 200
    listed = RECOVERY_RE.search(text_of(response))
    assert listed
    codes = re.findall(r"<code>([a-z0-9-]+)</code>", listed.group(1))
    remember_secret(*codes)
    assert len(codes) == 10
    assert _user_row(case.user).totp_secret_sealed is not None
    assert len(audit_events(Tag.TOTP_ENROLLED.value, case.user.id)) == 1


def _keep_recovery_codes(case: Case) -> None:
    case.kept["codes"] = _recovery_hashes(case.user)
    assert len(case.kept["codes"]) == 10


def _remove_post(case: Case) -> Any:
    return case.browser.client.post("/account/totp", data={"csrf_token": csrf(case.browser),
                                                           "step": "remove"})


def _remove_unchanged(case: Case) -> None:
    assert _user_row(case.user).totp_secret_sealed is not None
    assert _recovery_hashes(case.user) == case.kept["codes"]
    assert audit_events(Tag.TOTP_REMOVED.value, case.user.id) == []


def _remove_done(case: Case, response: Any) -> None:
    assert response.status_code == 303
    assert response.headers["Location"] == "/account#security"
    assert _user_row(case.user).totp_secret_sealed is None
    assert _recovery_hashes(case.user) == set()
    assert len(audit_events(Tag.TOTP_REMOVED.value, case.user.id)) == 1


def _codes_post(case: Case) -> Any:
    return case.browser.client.post("/account/recovery-codes",
                                    data={"csrf_token": csrf(case.browser)})


def _codes_unchanged(case: Case) -> None:
    assert _recovery_hashes(case.user) == case.kept["codes"]
    assert len(audit_events(Tag.RECOVERY_CODES_ISSUED.value, case.user.id)) == 1


def _codes_done(case: Case, response: Any) -> None:
    assert response.status_code == 200
    listed = RECOVERY_RE.search(text_of(response))
    assert listed
    codes = re.findall(r"<code>([a-z0-9-]+)</code>", listed.group(1))
    remember_secret(*codes)
    assert len(codes) == 10
    now = _recovery_hashes(case.user)
    assert len(now) == 10 and now.isdisjoint(case.kept["codes"])
    assert len(audit_events(Tag.RECOVERY_CODES_ISSUED.value, case.user.id)) == 2


def _password_prepare(case: Case) -> None:
    case.kept["hash"] = _user_row(case.user).password_hash
    remember_secret(NEW_PASSWORD)


def _password_post(case: Case) -> Any:
    return case.browser.client.post("/account/password", data={
        "csrf_token": csrf(case.browser), "current": case.user.password,
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def _password_attempts(case: Case) -> list[tuple[Any, str]]:
    return [(case.browser.client.get("/account/password"), "/account/password"),
            (_password_post(case), "/account")]


def _password_unchanged(case: Case) -> None:
    assert _user_row(case.user).password_hash == case.kept["hash"]
    assert audit_events(Tag.PASSWORD_CHANGED.value, case.user.id) == []
    assert audit_events(Tag.LOGIN_FAILURE.value, case.user.id) == []  # nothing was checked


def _password_done(case: Case, response: Any) -> None:
    assert response.status_code == 303
    assert response.headers["Location"] == "/account#security"
    assert _user_row(case.user).password_hash != case.kept["hash"]
    assert len(audit_events(Tag.PASSWORD_CHANGED.value, case.user.id)) == 1


def _phone_prepare(case: Case) -> None:
    """Codes to the old and the new number (sent by the service: only the change is under
    test here)."""
    codes = case.app.extensions["idp.sms_codes"]
    new_phone = f"137{secrets.randbelow(10**8):08d}"
    _allow_next_sms(case.app, case.user.phone or "")
    assert codes.send(case.user.phone, "phone_old", "127.0.0.1").ok
    assert codes.send(new_phone, "phone_new", "127.0.0.1").ok
    db.session.commit()  # the test's own unit of work (services only flush)
    case.kept.update(new_phone=new_phone,
                     old_code=last_code(case.sms_platform, case.user.phone or "", "phone_old"),
                     new_code=last_code(case.sms_platform, new_phone, "phone_new"),
                     sent=len(sms_messages(case.sms_platform, case.user.phone or "")))


def _phone_post(case: Case) -> Any:
    return case.browser.client.post("/account/phone", data={
        "csrf_token": csrf(case.browser), "step": "change", "new_phone": case.kept["new_phone"],
        "old_code": case.kept["old_code"], "new_code": case.kept["new_code"]})


def _phone_attempts(case: Case) -> list[tuple[Any, str]]:
    _allow_next_sms(case.app, case.user.phone or "")
    send_old = case.browser.client.post("/account/phone", data={  # refused before the captcha
        "csrf_token": csrf(case.browser), "step": "send_old", **any_captcha(case.browser)})
    return [(case.browser.client.get("/account/phone"), "/account/phone"),
            (send_old, "/account"), (_phone_post(case), "/account")]


def _phone_unchanged(case: Case) -> None:
    row = _user_row(case.user)
    assert row.phone == case.user.phone
    assert audit_events(Tag.PHONE_CHANGED.value, case.user.id) == []
    assert len(sms_messages(case.sms_platform, case.user.phone or "")) == case.kept["sent"]


def _phone_done(case: Case, response: Any) -> None:
    assert response.status_code == 303
    assert response.headers["Location"] == "/account#profile"
    assert _user_row(case.user).phone == case.kept["new_phone"]
    assert len(audit_events(Tag.PHONE_CHANGED.value, case.user.id)) == 1


ENROL = Change("enrol the app", False, _enrol_prepare, _enrol_attempts, _enrol_unchanged,
               _enrol_post, _enrol_done)
REMOVE = Change("remove the app", True, _keep_recovery_codes,
                lambda case: [(_remove_post(case), "/account")], _remove_unchanged,
                _remove_post, _remove_done)
NEW_CODES = Change("new recovery codes", True, _keep_recovery_codes,
                   lambda case: [(_codes_post(case), "/account")], _codes_unchanged,
                   _codes_post, _codes_done)
PASSWORD = Change("change the password", False, _password_prepare, _password_attempts,
                  _password_unchanged, _password_post, _password_done)
PHONE = Change("change the phone", False, _phone_prepare, _phone_attempts, _phone_unchanged,
               _phone_post, _phone_done)
CHANGES = [ENROL, REMOVE, NEW_CODES, PASSWORD, PHONE]


def _sign_in_again(case: Case, refused: Any) -> None:
    """Follow the refusal to the login page, sign in again (with the app when enrolled)."""
    params = _reauth_params(refused)
    page = case.browser.client.get(refused.headers["Location"])
    assert page.status_code == 200
    assert notice_of(page) == REAUTH_NOTICE
    assert f'value="{case.user.username}"' in text_of(page)
    answer = case.browser.login(case.user, next_url=params["next"])
    if case.again is not None:
        assert answer.status_code == 303 and answer.headers["Location"] == "/login/mfa"
        answer = second_factor(case.browser, *case.again)
    assert answer.status_code == 303 and answer.headers["Location"] == params["next"]


def _check_refused(case: Case, change: Change) -> None:
    """Every way into the change is sent to sign in again, and nothing changes."""
    sid = sid_of(case.browser)
    for response, back in change.attempts(case):
        assert _reauth_params(response) == {"next": back, "reauth": "1",
                                            "login_hint": case.user.username}
    change.unchanged(case)
    assert sid_of(case.browser) == sid
    assert case.browser.client.get("/account").status_code == 200  # still signed in


def _stale_case(app, make_user, sms_platform, change: Change) -> Case:
    user = make_user()
    case = Case(app, _browser(app), user, sms_platform)
    if change.needs_app:
        case.enrolled = _enrolled_elsewhere(app, user)
        case.browser.login(user)
        assert second_factor(case.browser, "totp", _totp(case.enrolled.secret)).status_code \
            == 303
        assert _sso(app, case.browser).amr == ["mfa", "otp", "pwd"]
        case.again = ("recovery", case.enrolled.recovery_codes[0])  # the app's code is spent
    else:
        case.browser.login(user)
    return case


@pytest.mark.parametrize("change", CHANGES, ids=[c.name for c in CHANGES])
def test_a_sign_in_older_than_the_reauth_age_must_be_renewed_before_a_change(
        app, make_user, sms_platform, change):
    case = _stale_case(app, make_user, sms_platform, change)
    change.prepare(case)
    _age_sign_in(app, case.browser, REAUTH_MAX_AGE + 1)
    _check_refused(case, change)


@pytest.mark.parametrize("change", CHANGES, ids=[c.name for c in CHANGES])
def test_after_signing_in_again_the_change_works(app, make_user, sms_platform, change):
    case = _stale_case(app, make_user, sms_platform, change)
    change.prepare(case)
    _age_sign_in(app, case.browser, REAUTH_MAX_AGE + 1)
    [*_, (last, _back)] = change.attempts(case)
    _sign_in_again(case, last)
    change.done(case, change.redo(case))


def test_the_reauth_age_is_the_configured_one(app, make_user, sms_platform, change_settings):
    case = _stale_case(app, make_user, sms_platform, PASSWORD)
    _age_sign_in(app, case.browser, 120)
    assert case.browser.client.get("/account/password").status_code == 200
    change_settings(reauth_max_age=60)
    assert _reauth_params(case.browser.client.get("/account/password")) == {
        "next": "/account/password", "reauth": "1", "login_hint": case.user.username}


def _without_app_case(app, make_user, sms_platform, change_settings, kind: str) -> Case:
    """A fresh session of a person with the app, whose sign-in did not use the app."""
    user = make_user()
    case = Case(app, _browser(app), user, sms_platform)
    if kind == "enrolled in this session":
        case.browser.login(user)
        case.enrolled = _enrol_here(case.browser)
        assert _sso(app, case.browser).amr == ["pwd"]
    else:  # password and an SMS code, where IDP_SMS_WITH_TOTP allows it
        change_settings(sms_with_totp=True)
        case.enrolled = _enrolled_elsewhere(app, user)
        case.browser.login(user)
        assert send_mfa_sms(case.browser).status_code == 200
        done = second_factor(case.browser, "sms", last_code(sms_platform, user.phone, "mfa"))
        assert done.status_code == 303
        assert _sso(app, case.browser).amr == ["mfa", "pwd", "sms"]
    case.again = ("totp", _totp(case.enrolled.secret))
    return case


CHANGES_WITH_APP = [REMOVE, NEW_CODES, PASSWORD, PHONE]
WITHOUT_APP = ["enrolled in this session", "password and sms"]


@pytest.mark.parametrize("kind", WITHOUT_APP)
@pytest.mark.parametrize("change", CHANGES_WITH_APP, ids=[c.name for c in CHANGES_WITH_APP])
def test_a_session_without_the_app_must_sign_in_with_it_before_a_change(
        app, make_user, sms_platform, change_settings, change, kind):
    case = _without_app_case(app, make_user, sms_platform, change_settings, kind)
    change.prepare(case)
    _check_refused(case, change)
    [*_, (last, _back)] = change.attempts(case)
    _sign_in_again(case, last)
    assert _sso(app, case.browser).amr == ["mfa", "otp", "pwd"]
    change.done(case, change.redo(case))


# --- d. Requested acr, and acr 4/5 only with mfa ---
ACR_VALUE_4 = '{"id_token": {"acr": {"essential": true, "value": "4"}}}'


def test_an_essential_acr_value_in_the_claims_parameter_steps_up_like_acr_values(
        app, browser, make_user, make_client):
    user, client = make_user(trust_level=4), make_client()
    browser.login(user)
    by_claims = _mfa_next(browser.authorize(client, claims=ACR_VALUE_4, **_pkce()[1]))
    by_values = _mfa_next(browser.authorize(client, acr_values="4", **_pkce()[1]))
    assert by_claims is not None and by_values is not None
    assert urlparse(by_claims).path == "/authorize"
    assert "claims=" in by_claims


def test_an_essential_acr_value_with_prompt_none_answers_interaction_required(
        browser, make_user, make_client):
    user, client = make_user(trust_level=4), make_client()
    browser.login(user)
    response = browser.authorize(client, claims=ACR_VALUE_4, prompt="none", state="pn",
                                 **_pkce()[1])
    assert response.status_code == 302
    params = redirect_params(response)
    assert (params["error"], params["state"]) == ("interaction_required", "pn")
    assert "code" not in params


def test_a_level_3_account_asking_acr_4_never_gets_a_code(browser, make_user, make_client):
    """It is sent to verification (ADR 0008), or told unmet when it cannot interact."""
    user, client = make_user(trust_level=3), make_client()
    browser.login(user)
    for request in ({"claims": ACR_VALUE_4},
                    {"claims": '{"id_token": {"acr": {"essential": true, "values": ["4"]}}}'},
                    {"acr_values": "4"}):
        response = browser.authorize(client, state="lv3", **request, **_pkce()[1])
        assert response.status_code == 302, request
        assert response.headers["Location"].startswith("/account/identity?level=4"), request
        params = redirect_params(browser.authorize(client, state="lv3", prompt="none",
                                                   **request, **_pkce()[1]))
        assert (params["error"], params["state"]) == \
            ("unmet_authentication_requirements", "lv3"), request
        assert "code" not in params


def _acr_everywhere(app: Flask, client: Any, tokens: dict[str, Any]) -> dict[str, Any]:
    """The acr of the ID token, the access token, both introspections and a refreshed ID
    token."""
    access, refresh_token = tokens["access_token"], tokens["refresh_token"]
    seen_access = introspect(app, client, access).json
    seen_refresh = introspect(app, client, refresh_token,
                              token_type_hint="refresh_token").json
    assert seen_access["active"] is True and seen_refresh["active"] is True
    renewed = refresh(app, client, refresh_token)
    assert renewed.status_code == 200, renewed.json
    remember_secret(renewed.json["access_token"], renewed.json["refresh_token"],
                    renewed.json["id_token"])
    return {"id_token": _decode(app, tokens["id_token"])["acr"],
            "access_token": _decode(app, access)["acr"],
            "introspection": seen_access["acr"], "refresh_introspection": seen_refresh["acr"],
            "refreshed_id_token": _decode(app, renewed.json["id_token"])["acr"]}


@pytest.mark.parametrize("level", [4, 5])
def test_acr_4_and_5_are_not_issued_to_a_password_only_session(app, browser, make_user,
                                                               make_client, level):
    user, client = make_user(trust_level=level), make_client()
    browser.login(user)
    tokens = _tokens(app, browser, client)
    assert _decode(app, tokens["id_token"])["amr"] == ["pwd"]
    assert _acr_everywhere(app, client, tokens) == dict.fromkeys(
        ("id_token", "access_token", "introspection", "refresh_introspection",
         "refreshed_id_token"), "3")


@pytest.mark.parametrize("level", [4, 5])
def test_acr_4_and_5_are_issued_after_a_step_up(app, browser, make_user, make_client,
                                                sms_platform, level):
    user, client = make_user(trust_level=level), make_client()
    browser.login(user)
    verifier, pkce = _pkce()
    next_url = _mfa_next(browser.authorize(client, acr_values=str(level), **pkce))
    assert next_url is not None
    assert send_mfa_sms(browser, next_url).status_code == 200
    done = second_factor(browser, "sms", last_code(sms_platform, user.phone, "mfa"), next_url)
    assert done.status_code == 303 and done.headers["Location"] == next_url
    tokens = _finish(app, browser, client, next_url, verifier)
    assert _decode(app, tokens["id_token"])["amr"] == ["mfa", "pwd", "sms"]
    assert _acr_everywhere(app, client, tokens) == dict.fromkeys(
        ("id_token", "access_token", "introspection", "refresh_introspection",
         "refreshed_id_token"), str(level))


# --- e. A step-up never accepts the same factor twice ---
def test_a_password_session_cannot_step_up_with_the_password(app, browser, make_user,
                                                             make_client):
    user, client = make_user(), make_client(require_mfa=True)
    browser.login(user)
    before = _sso(app, browser)
    next_url = _mfa_next(browser.authorize(client, **_pkce()[1]))
    assert next_url is not None
    page = browser.client.get("/login/mfa", query_string={"next": next_url,
                                                          "method": "password"})
    assert _page_methods(page) == {"form": "sms", "send_sms": True, "totp": False,
                                   "recovery": False, "password": False}
    refused = second_factor(browser, "password", user.password, next_url)
    assert (refused.status_code, error_of(refused)) == (400, NOT_FOR_THIS_STEP)
    after = _sso(app, browser)
    assert (after.amr, after.auth_time) == (["pwd"], before.auth_time)
    assert len(audit_events(Tag.LOGIN_SUCCESS.value, user.id)) == 1
    assert audit_events(Tag.MFA_SUCCESS.value, user.id) == []
    assert _mfa_next(browser.authorize(client, **_pkce()[1])) is not None


def test_with_an_app_sms_cannot_step_up_a_password_session(app, browser, make_user,
                                                           make_client, sms_platform):
    user, client = make_user(), make_client(require_mfa=True)
    browser.login(user)
    _enrol_here(browser)
    next_url = _mfa_next(browser.authorize(client, **_pkce()[1]))
    assert next_url is not None
    page = browser.client.get("/login/mfa", query_string={"next": next_url})
    assert _page_methods(page) == {"form": "totp", "send_sms": False, "totp": False,
                                   "recovery": True, "password": False}
    sent = send_mfa_sms(browser, next_url)
    refused = second_factor(browser, "sms", "123456", next_url)
    assert (sent.status_code, error_of(sent)) == (400, NOT_FOR_THIS_STEP)
    assert (refused.status_code, error_of(refused)) == (400, NOT_FOR_THIS_STEP)
    assert sms_messages(sms_platform, user.phone) == []
    assert _sso(app, browser).amr == ["pwd"]


def test_with_sms_with_totp_sms_may_step_up_a_password_session(app, browser, make_user,
                                                               make_client, sms_platform,
                                                               change_settings):
    change_settings(sms_with_totp=True)
    user, client = make_user(), make_client(require_mfa=True)
    browser.login(user)
    _enrol_here(browser)
    verifier, pkce = _pkce()
    next_url = _mfa_next(browser.authorize(client, **pkce))
    assert next_url is not None
    page = browser.client.get("/login/mfa", query_string={"next": next_url})
    assert _page_methods(page) == {"form": "totp", "send_sms": True, "totp": False,
                                   "recovery": True, "password": False}
    assert send_mfa_sms(browser, next_url).status_code == 200
    done = second_factor(browser, "sms", last_code(sms_platform, user.phone, "mfa"), next_url)
    assert done.status_code == 303 and done.headers["Location"] == next_url
    claims = _decode(app, _finish(app, browser, client, next_url, verifier)["id_token"])
    assert claims["amr"] == ["mfa", "pwd", "sms"]


def test_a_step_up_without_a_usable_factor_says_so_instead_of_looping(app, browser, make_user,
                                                                      make_client):
    user, client = make_user(phone_verified=False), make_client(require_mfa=True)
    browser.login(user)
    next_url = _mfa_next(browser.authorize(client, **_pkce()[1]))
    assert next_url is not None
    response = browser.client.get("/login/mfa", query_string={"next": next_url})
    assert response.status_code == 400
    assert "Location" not in response.headers
    lead = ERROR_LEAD_RE.search(text_of(response))
    assert lead and lead.group(1) == NO_USABLE_FACTOR
    assert _sso(app, browser).amr == ["pwd"]


# --- f. A password change ends other sessions, revokes grants, and is throttled ---
def _change_password(browser: Browser, current: str, new: str = NEW_PASSWORD) -> Any:
    remember_secret(new)
    return browser.client.post("/account/password", data={
        "csrf_token": csrf(browser), "current": current, "password": new, "confirm": new})


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, make_user,
                                                                          sms_platform):
    user, someone = make_user(), make_user()
    here, there, theirs = _browser(app), _browser(app), _browser(app)
    for browser, person in ((here, user), (there, user), (theirs, someone)):
        assert browser.login(person).status_code == 303
    kept, ended, other = sid_of(here), sid_of(there), sid_of(theirs)
    before = _sso(app, here)
    response = _change_password(here, user.password)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account#security"
    assert notice_of(here.client.get("/account")) == "密码已修改。 已退出其他 1 个会话。"
    sessions = app.extensions["idp.sessions"]
    assert sessions.get(ended) is None
    assert sessions.get(kept) is not None and sessions.get(other) is not None
    assert sid_of(here) == kept
    after = _sso(app, here)  # a new password proves nothing about this sign-in
    assert (after.amr, after.auth_time) == (before.amr, before.auth_time)
    assert here.client.get("/account").status_code == 200
    assert there.client.get("/account").status_code == 303
    assert theirs.client.get("/account").status_code == 200
    [logout] = audit_events(Tag.LOGOUT.value, user.id)
    assert logout.data["sid"] == ended and logout.actor == "citizen:" + user.id
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)] == \
        ["password_changed"]


def test_changing_the_password_revokes_every_grant_of_the_account(app, make_user,
                                                                  make_client):
    user, someone = make_user(), make_user()
    first, second = make_client(), make_client()
    here, theirs = _browser(app), _browser(app)
    here.login(user)
    theirs.login(someone)
    mine = [(first, _tokens(app, here, first)), (second, _tokens(app, here, second))]
    their = _tokens(app, theirs, first)
    assert _change_password(here, user.password).status_code == 303
    for client, tokens in mine:
        refused = refresh(app, client, tokens["refresh_token"])
        assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
        assert introspect(app, client, tokens["access_token"]).json == {"active": False}
        assert introspect(app, client, tokens["refresh_token"]).json == {"active": False}
    db.session.expire_all()
    grants = db.session.execute(select(Grant).where(Grant.user_id == user.id)).scalars().all()
    assert len(grants) == 2 and all(g.revoked_at is not None for g in grants)
    assert introspect(app, first, their["access_token"]).json["active"] is True
    # the session that changed the password stays, and a new authorization works
    assert "access_token" in _tokens(app, here, first)


def test_wrong_current_passwords_lock_the_account_like_login(app, make_user):
    user = make_user()
    browser = _browser(app)
    browser.login(user)
    subject = lock_subject(app, user)
    hash_before = _user_row(user).password_hash
    told = []
    for _ in range(5):
        clear_wait(app, subject)
        response = _change_password(browser, WRONG_PASSWORD)
        assert response.status_code == 400
        told.append(error_of(response))
    assert told[:4] == [WRONG_CURRENT] * 4
    assert LOCKED_RE.match(told[4] or ""), told[4]
    right = _change_password(browser, user.password)
    assert right.status_code == 400 and LOCKED_RE.match(error_of(right) or "")
    assert _user_row(user).password_hash == hash_before
    assert audit_events(Tag.PASSWORD_CHANGED.value, user.id) == []
    failures = audit_events(Tag.LOGIN_FAILURE.value, user.id)
    assert [e.data for e in failures] == [{"reason": "bad_current_password", "failures": n}
                                         for n in range(1, 6)]
    assert len(audit_events(Tag.ACCOUNT_LOCKED.value, user.id)) == 1
    login = _browser(app).login(user)
    assert login.status_code == 400 and LOCKED_RE.match(error_of(login) or "")

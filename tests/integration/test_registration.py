"""Self-service registration (自助注册) with a mobile number proven by an SMS code: the code
reaches the number through the SMS platform, the password policy is enforced with every reason
shown, and nothing is created unless both the code and the password are right.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from idp.accounts.models import User
from idp.audit.tags import Tag
from idp.extensions import db, get_store
from tests.conftest import Browser, csrf_from, last_code, sms_messages
from tests.integration.citizens import (
    CODE_SENT,
    NOT_SENT,
    POLICY,
    TOO_SOON,
    WRONG_CODE,
    audit_events,
    create_account,
    error_of,
    notice_of,
    problems_of,
    register,
    send_register_code,
    sso_cookie,
    text_of,
)

PHONE = "13712345678"
PASSWORD = "Spring-Rain-2026"


def _user(phone: str) -> User | None:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.phone == phone)).scalar_one_or_none()


def _user_count() -> int:
    db.session.expire_all()
    return int(db.session.execute(select(func.count()).select_from(User)).scalar_one())


def test_registration_page_asks_for_a_mobile_number(browser):
    response = browser.client.get("/register")
    assert response.status_code == 200
    page = text_of(response)
    assert 'name="p-phone"' in page and 'name="step" value="send"' in page
    assert 'name="r-password"' not in page


def test_sending_a_code_delivers_a_six_digit_register_code_to_the_number(browser,
                                                                         sms_platform):
    response = send_register_code(browser, PHONE)
    assert response.status_code == 200
    assert notice_of(response) == CODE_SENT
    [message] = sms_messages(sms_platform, PHONE)
    assert message["template"] == "register"
    assert re.fullmatch(r"\d{6}", message["params"]["code"])
    page = text_of(response)
    assert "137****5678" in page and 'name="r-code"' in page


def test_the_right_code_creates_a_verified_account_signs_in_and_is_audited(browser,
                                                                           sms_platform):
    response = register(browser, sms_platform, PHONE, PASSWORD, name="李四")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    user = _user(PHONE)
    assert user is not None
    assert user.phone_verified is True and user.name == "李四" and user.trust_level == 2
    assert sso_cookie(browser) is not None
    account = browser.client.get("/account")
    # the page names the person; the username the platform made up is never shown
    assert account.status_code == 200 and "李四" in text_of(account)
    assert user.username_chosen is False and user.username not in text_of(account)
    [registered] = audit_events(Tag.USER_REGISTERED.value)
    assert registered.user_id == user.id and registered.actor == "citizen:" + user.id
    assert len(audit_events(Tag.USER_CREATED.value, user.id)) == 1


def test_the_new_password_logs_in(app, browser, sms_platform):
    register(browser, sms_platform, PHONE, PASSWORD)
    other = app.test_client()
    page = other.get("/login")
    response = other.post("/login", data={"csrf_token": csrf_from(text_of(page)),
                                          "identifier": PHONE, "password": PASSWORD})
    assert response.status_code == 303


@pytest.mark.parametrize(("password", "reasons"), [
    ("Ab-" + PHONE, ["contains_phone"]),
    ("Ab-1x", ["too_short"]),
    ("onlylowercase", ["too_few_classes"]),
    ("Password123", ["common"]),
    ("P@ssw0rd", ["common"]),
    ("kqz", ["too_short", "too_few_classes"]),
])
def test_a_password_breaking_the_policy_shows_every_reason_and_creates_nothing(
        browser, sms_platform, password, reasons):
    send_register_code(browser, PHONE)
    code = last_code(sms_platform, PHONE, "register")
    response = create_account(browser, code, password)
    assert response.status_code == 400
    assert problems_of(response) == [POLICY[r] for r in reasons]
    assert _user(PHONE) is None
    assert sso_cookie(browser) is None
    # the code was not spent on the refused attempt
    assert create_account(browser, code, PASSWORD).status_code == 303


def test_a_wrong_code_is_refused_and_creates_nothing(browser, sms_platform):
    send_register_code(browser, PHONE)
    code = last_code(sms_platform, PHONE, "register")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = create_account(browser, wrong, PASSWORD)
    assert response.status_code == 400
    assert error_of(response) == WRONG_CODE
    assert _user(PHONE) is None
    assert audit_events(Tag.USER_REGISTERED.value) == []


def test_an_expired_code_is_refused(app, browser, sms_platform):
    send_register_code(browser, PHONE)
    code = last_code(sms_platform, PHONE, "register")
    get_store(app).delete(f"sms-code:register:{PHONE}")
    response = create_account(browser, code, PASSWORD)
    assert response.status_code == 400 and error_of(response) == WRONG_CODE
    assert _user(PHONE) is None


def test_different_passwords_in_the_two_fields_are_refused(browser, sms_platform):
    send_register_code(browser, PHONE)
    code = last_code(sms_platform, PHONE, "register")
    response = create_account(browser, code, PASSWORD, confirm=PASSWORD + "x")
    assert response.status_code == 400
    assert "两次输入的密码不一致。" in text_of(response)
    assert _user(PHONE) is None


def test_creating_without_a_sent_code_is_refused(browser):
    browser.client.get("/register")
    response = create_account(browser, "123456", PASSWORD)
    assert response.status_code == 200  # the phone step: no number was proven yet
    assert 'name="p-phone"' in text_of(response)
    assert _user_count() == 0


def test_a_registered_number_gets_the_same_page_and_a_notice_instead_of_a_code(
        app, browser, sms_platform, make_user):
    """No enumeration: registering a taken number answers exactly as a free one does; the
    owner's phone is told it already has an account, and no code exists to finish with."""
    make_user(phone=PHONE)
    taken = send_register_code(browser, PHONE)
    free = send_register_code(Browser(app.test_client()), "13811112222")
    assert taken.status_code == free.status_code == 200
    assert notice_of(taken) == notice_of(free) == CODE_SENT
    assert error_of(taken) is None
    [notice] = sms_messages(sms_platform, PHONE)
    assert notice["template"] == "register_exists" and notice["params"] == {}
    response = create_account(browser, "123456", PASSWORD)
    assert response.status_code == 400 and error_of(response) == WRONG_CODE
    assert _user_count() == 1


def test_a_second_code_within_a_minute_is_refused_and_only_one_is_delivered(browser,
                                                                            sms_platform):
    assert send_register_code(browser, PHONE).status_code == 200
    again = send_register_code(browser, PHONE)
    assert again.status_code == 400
    assert error_of(again) == TOO_SOON
    assert len(sms_messages(sms_platform, PHONE)) == 1


class CountingGateway:
    def __init__(self, inner):
        self.inner = inner
        self.calls: list[str] = []

    def send(self, phone, template, params):
        self.calls.append(phone)
        return self.inner.send(phone, template, params)


def test_a_failed_delivery_is_reported_and_releases_the_one_minute_gap(app, browser,
                                                                       sms_platform,
                                                                       monkeypatch):
    codes = app.extensions["idp.sms_codes"]
    counting = CountingGateway(codes.gateway)
    monkeypatch.setattr(codes, "gateway", counting)
    failing = "13999999999"
    first = send_register_code(browser, failing)
    assert first.status_code == 400
    assert error_of(first) == NOT_SENT
    assert get_store(app).get(f"sms-gap:{failing}") is None
    second = send_register_code(browser, failing)
    assert error_of(second) == NOT_SENT  # not "too soon": the gateway was tried again
    assert counting.calls == [failing, failing]
    assert sms_messages(sms_platform, failing) == []
    assert get_store(app).get(f"sms-code:register:{failing}") is None

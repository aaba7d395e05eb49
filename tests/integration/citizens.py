"""Helpers for the citizen-account tests: pages and their messages, registration, second
factors, lockout keys in the store, and reading the audit log."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask, request
from sqlalchemy import select

from idp.accounts.models import LoginGuardRow
from idp.audit.models import AuditEvent
from idp.extensions import db
from tests.conftest import (
    Browser,
    LiveServer,
    TestUser,
    csrf_from,
    fresh_captcha,
    last_code,
    solve_captcha,
)

ERROR_RE = re.compile(r'<p class="error" role="alert" id="(?:login-)?error">(.*?)</p>', re.S)
NOTICE_RE = re.compile(r'<p class="notice" role="status" id="notice">(.*?)</p>', re.S)
PROBLEMS_RE = re.compile(r'<div class="error" role="alert" id="problems">.*?<ul>(.*?)</ul>',
                         re.S)
TOTP_KEY_RE = re.compile(r'<code id="totp-key">([A-Z2-7]+)</code>')
RECOVERY_RE = re.compile(r'<ul class="codes" id="recovery-codes">(.*?)</ul>', re.S)

# Messages in the default language (Simplified Chinese), as the pages show them.
WRONG_LOGIN = "用户名、手机号码、身份证号码或密码不正确。"
WRONG_CODE = "验证码错误或已过期。"
LOCKED_RE = re.compile(r"^失败次数过多，请于 (.+) 后再试，或通过“找回密码”重置密码。$")
WAIT_RE = re.compile(r"^请等待 (\d+) 秒后再试。$")
CODE_SENT = "验证码已发送，5分钟内有效。"
TOO_SOON = "验证码发送不足1分钟，请稍后再试。"
NOT_SENT = "验证码发送失败，请稍后再试。"
ALREADY_REGISTERED = "该手机号码已注册，请直接登录，或使用“找回密码”。"
IF_REGISTERED = "如果该号码已注册，验证码已发送至该号码。"
POLICY = {
    "too_short": "至少8个字符。",
    "too_few_classes": "须包含小写字母、大写字母、数字、符号中的至少三类。",
    "contains_phone": "不得包含手机号码。",
    "common": "该密码过于常见。",
}


def text_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


def error_of(response: Any) -> str | None:
    match = ERROR_RE.search(text_of(response))
    return html.unescape(match.group(1)).strip() if match else None


def notice_of(response: Any) -> str | None:
    match = NOTICE_RE.search(text_of(response))
    return html.unescape(match.group(1)).strip() if match else None


def problems_of(response: Any) -> list[str]:
    match = PROBLEMS_RE.search(text_of(response))
    if not match:
        return []
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1))]


def csrf(browser: Browser) -> str:
    """A CSRF token of the browser's session; every form of the session accepts it."""
    return csrf_from(text_of(browser.client.get("/login")))


def sso_cookie(browser: Browser) -> str | None:
    cookie = browser.client.get_cookie("idp_sso")
    return cookie.value if cookie is not None and cookie.value else None


def sid_of(browser: Browser) -> str:
    cookie = sso_cookie(browser)
    assert cookie, "the browser has no SSO session"
    return cookie.split(".", 1)[0]


def location_path(response: Any) -> str:
    return str(response.headers["Location"]).split("?", 1)[0].split("#", 1)[0]


# --- registration and recovery ---
def captcha_of(browser: Browser, page: Any) -> dict[str, str]:
    """The picture code of a page the browser was shown, answered (tests/conftest.py)."""
    return solve_captcha(browser.client.application, text_of(page))


def any_captcha(browser: Browser) -> dict[str, str]:
    """A live picture code answered, for a POST made without showing its page first."""
    return fresh_captcha(browser.client.application)


def send_register_code(browser: Browser, phone: str) -> Any:
    page = browser.client.get("/register")
    return browser.client.post("/register", data={
        "p-csrf_token": csrf(browser), "step": "send", "p-phone": phone,
        **captcha_of(browser, page)})


def create_account(browser: Browser, code: str, password: str, confirm: str | None = None,
                   name: str = "李四") -> Any:
    return browser.client.post("/register", data={
        "r-csrf_token": csrf(browser), "step": "create", "r-code": code, "r-password": password,
        "r-confirm": password if confirm is None else confirm, "r-name": name, "r-agree": "y"})


def register(browser: Browser, sms_platform: LiveServer, phone: str, password: str,
             name: str = "李四") -> Any:
    sent = send_register_code(browser, phone)
    assert sent.status_code == 200, error_of(sent)
    return create_account(browser, last_code(sms_platform, phone, "register"), password,
                          name=name)


def send_reset_code(browser: Browser, phone: str) -> Any:
    page = browser.client.get("/recover")
    return browser.client.post("/recover", data={
        "p-csrf_token": csrf(browser), "step": "send", "p-phone": phone,
        **captcha_of(browser, page)})


def reset_password(browser: Browser, code: str, password: str) -> Any:
    return browser.client.post("/recover", data={
        "r-csrf_token": csrf(browser), "step": "reset", "r-code": code, "r-password": password,
        "r-confirm": password})


# --- second factors ---
@dataclass
class Enrolled:
    secret: str
    recovery_codes: list[str]
    page: str


def enrol_totp(browser: Browser) -> Enrolled:
    """Turn on an authenticator app for the signed-in person with the current code."""
    setup = browser.client.get("/account/totp")
    assert setup.status_code == 200
    match = TOTP_KEY_RE.search(text_of(setup))
    assert match, "no TOTP key on the page"
    secret = match.group(1)
    done = browser.client.post("/account/totp", data={
        "csrf_token": csrf(browser), "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, error_of(done)
    listed = RECOVERY_RE.search(text_of(done))
    assert listed, "no recovery codes on the page"
    codes = re.findall(r"<code>([a-z0-9-]+)</code>", listed.group(1))
    return Enrolled(secret, codes, text_of(setup))


def next_totp(secret: str) -> str:
    """A code of the next time step: later than one used now, and within the ±1 step window."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def second_factor(browser: Browser, method: str, code: str, next_url: str = "") -> Any:
    data = {"csrf_token": csrf(browser), "method": method, "code": code}
    if next_url:
        data["next"] = next_url
    return browser.client.post("/login/mfa", data=data)


def send_mfa_sms(browser: Browser, next_url: str = "") -> Any:
    data = {"csrf_token": csrf(browser), "step": "send"}
    if next_url:
        data["next"] = next_url
    return browser.client.post("/login/mfa", data=data)


# --- lockout ---
def lock_subject(app: Flask, user: TestUser | None, identifier: str = "") -> str:
    accounts = app.extensions["idp.accounts"]
    return "acct:" + user.id if user else accounts.lock_subject(identifier, None)


def clear_wait(app: Flask, subject: str) -> None:
    """Let the growing delay between attempts pass (the clock moves; nothing is deleted)."""
    row = db.session.get(LoginGuardRow, subject, populate_existing=True)
    clock = app.extensions["idp.clock"]
    if row is not None and row.wait_until and row.wait_until > clock.seconds():
        clock.advance(row.wait_until - clock.seconds())


def expire_lock(app: Flask, subject: str) -> None:
    """Let the lock period run out: the lock and the failure window end together."""
    app.extensions["idp.clock"].advance(app.extensions["idp.accounts"].guard.lock_seconds)


def locked_until(app: Flask, subject: str) -> int:
    value = app.extensions["idp.accounts"].guard.locked_until(subject)
    assert value, f"{subject} is not locked"
    return int(value)


def locked_message(until: int) -> str:
    return f"失败次数过多，请于 {lock_time_text(until)} 后再试，或通过“找回密码”重置密码。"


def lock_time_text(until: int) -> str:
    """The retry time as the locked message shows it: Babel's short format, Beijing time."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    return format_datetime(datetime.fromtimestamp(until, UTC), "short",
                           tzinfo=ZoneInfo("Asia/Shanghai"), locale="zh_Hans_CN")


# --- audit ---
def audit_events(tag: str | None = None, user_id: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if tag is not None:
        query = query.where(AuditEvent.tag == tag)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    return list(db.session.execute(query).scalars())


# --- a business system's back-channel logout endpoint ---
@pytest.fixture
def receiver() -> Iterator[LiveServer]:
    """Records the logout tokens it receives (OpenID Connect Back-Channel Logout 1.0)."""
    received: list[str] = []
    rp = Flask("receiver")

    @rp.post("/bc")
    def bc() -> tuple[str, int]:
        received.append(request.form["logout_token"])
        return "", 200

    server = LiveServer(rp)
    server.received = received  # type: ignore[attr-defined]
    yield server
    server.stop()

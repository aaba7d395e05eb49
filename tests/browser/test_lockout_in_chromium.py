"""Real Chromium: repeated wrong passwords lock the account; the page says until when and how
to recover, and the right password is refused until the lock ends."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.integration.citizens import clear_wait, expire_lock

pytestmark = pytest.mark.browser


def _try(page, identifier: str, password: str) -> str:
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    page.click("button[type=submit]")
    return page.locator("#login-error").inner_text()


def test_five_wrong_passwords_lock_the_account_until_a_stated_time(app, page, live_provider,
                                                                  make_user):
    user = make_user(username="zhaoliu")
    subject = "acct:" + user.id
    page.goto(live_provider.url + "/login")
    for _ in range(4):
        clear_wait(app, subject)  # as if the growing delay had passed
        assert _try(page, "zhaoliu", "Wrong-Guess-123") == \
            "用户名、手机号码、身份证号码或密码不正确。"
    clear_wait(app, subject)
    locked = _try(page, "zhaoliu", "Wrong-Guess-123")
    assert re.fullmatch(r"失败次数过多，请于 \S+ \S+ 后再试，或通过“找回密码”重置密码。", locked)
    shot(page, "locked-zh")
    assert _try(page, "zhaoliu", user.password) == locked  # the right password is refused too
    expect(page.locator("a", has_text="找回密码")).to_be_visible()
    expire_lock(app, subject)  # the lock ends
    page.fill("#identifier", "zhaoliu")
    page.fill("#password", user.password)
    page.click("button[type=submit]")
    # pages name the person (make_user's name), not the username
    expect(page.locator("body")).to_contain_text("当前登录账户：张三。")

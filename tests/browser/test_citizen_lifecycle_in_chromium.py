"""Real Chromium: register with SMS, enrol TOTP, SSO into two systems, see them on /account,
end a session (the system hears it over the back channel), recover a forgotten password.
Once in Chinese, once in English."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sample_rp, shot
from tests.conftest import captcha_answer, last_code

pytestmark = pytest.mark.browser

TEXT = {
    "zh": {"register": "注册", "send": "发送验证码", "create": "注册账户", "turn_on": "开启",
           "saved": "我已保存", "continue": "继续", "end": "结束", "recover": "找回密码",
           "set_password": "设置新密码", "log_in": "登录", "reset_done": "密码已重置",
           "allow": "同意", "signed_out": "未登录", "wait": r"^\d+ 秒后可重新发送$"},
    "en": {"register": "Register", "send": "Send code", "create": "Create account",
           "turn_on": "Turn on", "saved": "I have saved them", "continue": "Continue",
           "end": "End", "recover": "Forgot password", "set_password": "Set the new password",
           "log_in": "Log in", "reset_done": "Password changed", "allow": "Allow",
           "signed_out": "未登录", "wait": r"^Send again in \d+ seconds$"},
}


def _context_page(chromium: Browser, lang: str) -> Page:
    context = chromium.new_context(locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _choose_language(page: Page, lang: str) -> None:
    if lang == "en":
        page.click("text=English")


def _solve_captcha(app, page: Page) -> None:
    """Type the picture code as a person reading it would (the answer from the store), once
    the picture has really loaded."""
    expect(page.locator("#captcha-image")).to_have_js_property("complete", True)
    assert page.locator("#captcha-image").evaluate("img => img.naturalWidth") == 160
    page.fill("#captcha-answer", captcha_answer(app, page.locator("#captcha-id").input_value()))


def _totp_code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_register_enrol_sso_account_page_end_session_and_recover(
        app, chromium, live_provider, make_client, sms_platform, lang):
    t = TEXT[lang]
    phone = "1370000000" + ("1" if lang == "zh" else "2")
    password, new_password = "Lingnan-Spring-2026", "Pearl-River-Delta-9"
    social, _social_app = sample_rp(live_provider, make_client, "社保业务系统", first_party=True)
    housing, housing_app = sample_rp(live_provider, make_client, "公积金业务系统",
                                     first_party=False)
    first = _context_page(chromium, lang)
    second = _context_page(chromium, lang)
    try:
        # 1. register from the first business system's login
        first.goto(social.url + "/")
        first.click("#login")
        _choose_language(first, lang)
        first.click("#register-link")
        expect(first.locator("h1")).to_have_text(t["register"])
        first.fill("#p-phone", phone)
        _solve_captcha(app, first)
        first.click(f"button:has-text('{t['send']}')")
        first.fill("#r-code", last_code(sms_platform, phone, "register"))
        first.fill("#r-password", password)
        first.fill("#r-confirm", password)
        first.fill("#r-name", "王小明")
        first.check("#r-agree")
        shot(first, f"register-{lang}")
        first.click(f"button:has-text('{t['create']}')")
        expect(first.locator("#who")).to_have_text("王小明")

        # 2. enrol TOTP on the account page
        first.goto(live_provider.url + "/account")
        first.click("#enrol-totp")
        secret = first.locator("#totp-key").inner_text()
        shot(first, f"totp-{lang}")
        first.fill("#code", _totp_code(secret))
        first.click(f"button:has-text('{t['turn_on']}')")
        expect(first.locator("#recovery-codes li")).to_have_count(10)
        recovery_code = first.locator("#recovery-codes li").first.inner_text()
        first.click(f"text={t['saved']}")

        # 3. another browser: one sign-in (password + TOTP), two business systems
        second.goto(social.url + "/")
        second.click("#login")
        _choose_language(second, lang)
        second.fill("#identifier", phone)
        second.fill("#password", password)
        second.click("button[type=submit]")
        second.fill("#code", _totp_code(secret, offset=30))
        shot(second, f"mfa-{lang}")
        second.click(f"button:has-text('{t['continue']}')")
        expect(second.locator("#who")).to_have_text("王小明")
        assert "mfa" in second.locator("#status").inner_text()
        second.goto(housing.url + "/")
        second.click("#login")
        second.click("button[value=allow]")
        expect(second.locator("#who")).to_have_text("王小明")

        # 4. both systems on /account; end the first browser's session from here
        second.goto(live_provider.url + "/account")
        mine = second.locator("tr.session-row", has=second.locator("em"))
        expect(mine.locator(".session-clients")).to_have_text("社保业务系统, 公积金业务系统")
        expect(second.locator("tr.session-row")).to_have_count(2)
        shot(second, f"account-{lang}")
        other = second.locator("tr.session-row", has_not=second.locator("em"))
        other.locator("button.end-session").click()
        expect(second.locator("tr.session-row")).to_have_count(1)
        first.goto(social.url + "/")
        expect(first.locator("#status")).to_contain_text(t["signed_out"])

        # 5. forgotten password, from the login page (a minute after the last code)
        app.extensions["idp.store"].delete("sms-gap:" + phone)
        first.goto(live_provider.url + "/login")
        first.click(f"text={t['recover']}")
        first.fill("#p-phone", phone)
        _solve_captcha(app, first)
        first.click(f"button:has-text('{t['send']}')")
        # the send button counts down until another code may be sent (send-code.js)
        expect(first.locator("button[data-wait]")).to_have_text(re.compile(t["wait"]))
        expect(first.locator("button[data-wait]")).to_be_disabled()
        first.fill("#r-code", last_code(sms_platform, phone, "reset"))
        first.fill("#r-password", new_password)
        first.fill("#r-confirm", new_password)
        first.click(f"button:has-text('{t['set_password']}')")
        expect(first.locator("h1")).to_have_text(t["reset_done"])
        shot(first, f"recovered-{lang}")
        # the reset ended every session: the second browser's systems heard about it too
        assert len(housing_app.extensions["rp_state"].logout_tokens) == 1
        first.click(f"a:has-text('{t['log_in']}')")
        first.fill("#identifier", phone)
        first.fill("#password", new_password)
        first.click("button[type=submit]")
        # (the authenticator's next code is a time step away: use a recovery code instead)
        first.click("#use-recovery")
        first.fill("#code", recovery_code)
        first.click(f"button:has-text('{t['continue']}')")
        expect(first.locator("h1")).to_have_text("统一身份认证平台" if lang == "zh" else
                                                 "Unified Identity Authentication Platform")
    finally:
        first.context.close()
        second.context.close()
        social.stop()
        housing.stop()

"""Real Chromium: login, consent, SSO across two business systems, logout with back-channel."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sample_rp, shot

pytestmark = pytest.mark.browser


def test_sso_across_two_business_systems_then_logout_reaches_both(
        page, live_provider, make_client, make_user):
    user = make_user(username="zhangsan", name="张三", trust_level=3)
    social, social_app = sample_rp(live_provider, make_client, "社保业务系统", first_party=True)
    housing, housing_app = sample_rp(live_provider, make_client, "公积金业务系统",
                                     first_party=False)
    try:
        page.goto(social.url + "/")
        page.click("#login")
        expect(page.locator("h1")).to_have_text("登录")
        shot(page, "login-zh")
        page.fill("#identifier", "zhangsan")
        page.fill("#password", user.password)
        page.click("button[type=submit]")
        expect(page.locator("#who")).to_have_text("张三")

        # the second business system: no login form, only its consent page
        page.goto(housing.url + "/")
        page.click("#login")
        expect(page.locator("h1")).to_contain_text("公积金业务系统")
        shot(page, "consent-zh")
        page.click("button[value=allow]")
        expect(page.locator("#who")).to_have_text("张三")

        # log out from the first; the second hears it over the back channel
        page.goto(social.url + "/")
        page.click("#logout")
        expect(page.locator("#status")).to_contain_text("未登录")
        assert len(housing_app.extensions["rp_state"].logout_tokens) == 1
        page.goto(housing.url + "/")
        expect(page.locator("#status")).to_contain_text("未登录")
        # and a new login at the second asks for the password again
        page.click("#login")
        expect(page.locator("h1")).to_have_text("登录")
    finally:
        social.stop()
        housing.stop()


def test_login_in_english_and_the_error_does_not_reveal_whether_the_account_exists(
        page, live_provider, make_user):
    user = make_user(username="lisi")
    page.goto(live_provider.url + "/login")
    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Log in")
    page.fill("#identifier", "lisi")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    known = page.locator("#login-error").inner_text()
    page.fill("#identifier", "nobody-here")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    unknown = page.locator("#login-error").inner_text()
    assert known == unknown == "The username, mobile number, ID number or password is incorrect."
    shot(page, "login-error-en")
    page.fill("#identifier", "lisi")
    page.fill("#password", user.password)
    page.click("button[type=submit]")
    # pages name the person (make_user's name), not the username
    expect(page.locator("body")).to_contain_text("Signed in as 张三.")

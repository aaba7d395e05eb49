"""Real Chromium: login, consent, SSO across two business systems, logout with back-channel."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from clients.sample_rp import create_rp
from tests.conftest import LiveServer, free_port

CHROMIUM = os.environ.get("IDP_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium "
                    "(or set IDP_TEST_CHROMIUM)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _rp(live_provider, make_client, name: str, first_party: bool):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = make_client(redirect_uri=base + "/callback", name=name, first_party=first_party,
                         post_logout_redirect_uris=[base + "/"],
                         backchannel_logout_uri=base + "/backchannel-logout")
    app = create_rp(issuer=live_provider.url, client_id=client.client_id,
                    client_secret=client.client_secret, base_url=base, name=name)
    return LiveServer(app, port), app


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sso_across_two_business_systems_then_logout_reaches_both(
        page, live_provider, make_client, make_user):
    user = make_user(username="zhangsan", name="张三", trust_level=3)
    social, social_app = _rp(live_provider, make_client, "社保业务系统", first_party=True)
    housing, housing_app = _rp(live_provider, make_client, "公积金业务系统", first_party=False)
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
    assert known == unknown == "The username, mobile number or password is incorrect."
    shot(page, "login-error-en")
    page.fill("#identifier", "lisi")
    page.fill("#password", user.password)
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("Signed in as lisi.")

"""Real Chromium: online verification to levels 3 and 4 against the national platform's
simulator, and a business system requiring level 4 getting acr 4 in one flow (issue 8)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sample_rp, shot
from tests.conftest import last_code

pytestmark = pytest.mark.browser

LI_SI = ("李四", "11010519491231002X")
ZHAO_LIU = ("赵六", "441802199003072318")


def _login(page, base, user):
    page.goto(base + "/login")
    page.fill("#identifier", user.username)
    page.fill("#password", user.password)
    page.click("button[type=submit]")


def test_a_citizen_raises_their_level_to_3_then_4_online(page, live_provider, make_user,
                                                         national_platform, tmp_path):
    national_platform.add_person(*LI_SI)
    user = make_user(name=None)
    _login(page, live_provider.url, user)
    page.goto(live_provider.url + "/account")
    page.click("#verify-identity")
    expect(page.locator("h1")).to_have_text("实名核验")
    expect(page.locator("#trust-level")).to_have_text("2")
    shot(page, "identity-level-2-zh")
    page.fill("#two-name", LI_SI[0])
    page.fill("#two-id-number", LI_SI[1])
    page.click("#two-element button[type=submit]")
    expect(page.locator("#notice")).to_contain_text("3")
    expect(page.locator("#trust-level")).to_have_text("3")
    expect(page.locator("#masked-number")).to_have_text("1101**********002X")
    assert LI_SI[1] not in page.content()

    photo = tmp_path / "face.png"
    photo.write_bytes(national_platform.portrait(LI_SI[1]))
    page.set_input_files("#face-photo", str(photo))
    shot(page, "identity-level-3-zh")
    page.click("#real-person button[type=submit]")
    expect(page.locator("#trust-level")).to_have_text("4")
    expect(page.locator("#history tbody tr")).to_have_count(2)
    shot(page, "identity-level-4-zh")


def test_a_business_system_requiring_level_4_gets_acr_4_after_verification_and_mfa(
        page, live_provider, make_client, make_user, national_platform, sms_platform,
        tmp_path):
    national_platform.add_person(*ZHAO_LIU)
    user = make_user(name=None)
    rp, _ = sample_rp(live_provider, make_client, "不动产登记系统", first_party=True)
    photo = tmp_path / "face.png"
    photo.write_bytes(national_platform.portrait(ZHAO_LIU[1]))
    try:
        page.goto(rp.url + "/login?acr_values=4")
        page.fill("#identifier", user.username)
        page.fill("#password", user.password)
        page.click("button[type=submit]")
        expect(page.locator("#asked-level")).to_contain_text("4")
        page.fill("#real-name", ZHAO_LIU[0])
        page.fill("#real-id-number", ZHAO_LIU[1])
        page.set_input_files("#real-photo", str(photo))
        shot(page, "identity-step-up-zh")
        page.click("#real-person button[type=submit]")
        # level 4 needs a second factor in this session: the SMS step, then back to the system
        page.click("#send-sms")
        page.fill("#code", last_code(sms_platform, user.phone, "mfa"))
        page.click("button.primary")
        expect(page.locator("#status")).to_contain_text("acr 4")
        assert "mfa" in page.locator("#status").inner_text()
        shot(page, "rp-acr-4")
    finally:
        rp.stop()


def test_going_back_without_verifying_tells_the_business_system_its_acr_is_unmet(
        page, live_provider, make_client, make_user, national_platform):
    user = make_user()
    rp, _ = sample_rp(live_provider, make_client, "公积金业务系统", first_party=True)
    try:
        page.goto(rp.url + "/login?acr_values=3")
        page.fill("#identifier", user.username)
        page.fill("#password", user.password)
        page.click("button[type=submit]")
        page.click("#cancel")
        expect(page.locator("#error")).to_contain_text("unmet_authentication_requirements")
    finally:
        rp.stop()


def test_an_outage_of_the_national_platform_is_explained_and_changes_nothing(
        page, live_provider, make_user, national_platform):
    national_platform.add_person(*LI_SI)
    national_platform.set_outage("down")
    user = make_user()
    _login(page, live_provider.url, user)
    page.goto(live_provider.url + "/account/identity")
    page.fill("#two-name", LI_SI[0])
    page.fill("#two-id-number", LI_SI[1])
    page.click("#two-element button[type=submit]")
    expect(page.locator("#error")).to_contain_text("柜台")
    expect(page.locator("#trust-level")).to_have_text("2")
    shot(page, "identity-outage-zh")


def test_the_camera_takes_the_photo_and_sends_it_to_the_platform(
        chromium, live_provider, make_user, national_platform):
    """Chromium's fake camera (a generated test pattern, no real face): the photo taken in the
    page reaches the national platform, which finds no matching face. Proves the camera path
    end to end without a person in front of it."""
    from tests.browser.conftest import CHROMIUM

    national_platform.add_person(*LI_SI)
    user = make_user()
    # a second Chromium of the same Playwright, with the fake camera
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
    context = browser.new_context(locale="zh-CN", permissions=["camera"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        _login(page, live_provider.url, user)
        page.goto(live_provider.url + "/account/identity")
        page.fill("#real-name", LI_SI[0])
        page.fill("#real-id-number", LI_SI[1])
        page.click("#camera-start")
        expect(page.locator("#camera")).to_be_visible()
        expect(page.locator("#camera-view")).to_have_js_property("readyState", 4)
        page.click("#camera-take")
        expect(page.locator("#camera")).to_be_hidden()  # hidden once the photo is in
        assert page.locator("#real-photo").evaluate("input => input.files.length") == 1
        shot(page, "identity-camera-zh")
        page.click("#real-person button[type=submit]")
        expect(page.locator("#error")).to_contain_text("比对不一致")
        (asked,) = national_platform.transactions()
        assert (asked["endpoint"], asked["result"]) == ("real-person", "no_match")
        assert asked["score"] < 0.8
    finally:
        context.close()
        browser.close()

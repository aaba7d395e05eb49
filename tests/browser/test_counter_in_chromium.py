"""Real Chromium at the counter (实名核验窗口): a new clerk enrols an authenticator app, signs
in with it and verifies a citizen in person to level 5 while the national platform is down; a
supervisor resolves the case two accounts opened over one ID number (issue 8)."""

from __future__ import annotations

import json

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from idp.accounts.models import User
from idp.extensions import db
from idp.identity.models import IdentityCase
from tests.browser.conftest import shot
from tests.conftest import Browser, remember_secret
from tests.counter.conftest import ensure_hall
from tests.identity.verify import two_element

pytestmark = pytest.mark.browser

ZHOU = ("周敏", "44180219850615402X")
LI_SI = ("李四", "11010519491231002X")
NEW_PASSWORD = "Counter-Window-88!"


def _code(app, secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(app.extensions["idp.clock"].now() + 30 * steps)


def _staff_login(page, app, base: str, username: str, password: str, secret: str) -> None:
    page.goto(base + "/counter/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.fill("#code", _code(app, secret, 1))
    page.click("button[type=submit]")


def test_a_new_clerk_enrols_totp_and_verifies_a_citizen_in_person_to_level_5(
        app, page, live_provider, make_user, national_platform):
    national_platform.set_outage("down")  # the counter does not need the national platform
    ensure_hall(app)
    created = app.test_cli_runner().invoke(args=[
        "staff", "create", "--username", "clerk-wang", "--hall", "QY-ZWFW", "--role", "clerk",
        "--name", "王窗口", "--json"])
    assert created.exit_code == 0, created.output
    issued = json.loads(created.output)
    remember_secret(issued["one_time_password"], NEW_PASSWORD)
    citizen = make_user(name="周敏")

    page.goto(issued["enrolment_link"].replace(app.extensions["idp.settings"].issuer,
                                               live_provider.url))
    secret = page.locator("#totp-key").inner_text().replace(" ", "")
    page.fill("#one_time_password", issued["one_time_password"])
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.fill("#code", _code(app, secret))
    shot(page, "counter-enrol-zh")
    page.click("button[type=submit]")

    _staff_login(page, app, live_provider.url, "clerk-wang", NEW_PASSWORD, secret)
    expect(page.locator("h1")).to_have_text("查找办事人")
    page.select_option("#kind", "phone")
    page.fill("#query", citizen.phone)
    page.select_option("#purpose", "verification")
    page.fill("#detail", "现场实名核验")
    page.click("form[action='/counter/'] button[type=submit]")
    expect(page.locator("#trust-level")).to_have_text("2")
    page.select_option("#v-document_type", "id-number")
    page.fill("#v-number", ZHOU[1])
    page.fill("#v-name", ZHOU[0])
    page.fill("#v-valid_until", "2035-06-30")
    page.check("#v-photo_compared")
    shot(page, "counter-person-zh")
    page.click("#verify button[type=submit]")
    expect(page.locator("#trust-level")).to_have_text("5")
    expect(page.locator("#p-number")).to_have_text("4418**********402X")
    assert ZHOU[1] not in page.content()
    shot(page, "counter-verified-zh")
    db.session.expire_all()
    assert db.session.get(User, citizen.id).trust_level == 5


def test_a_supervisor_resolves_the_case_of_one_id_number_on_two_accounts(
        app, page, live_provider, make_user, make_staff, national_platform):
    national_platform.add_person(*LI_SI)
    holder, claimant = make_user(), make_user()
    for user in (holder, claimant):
        browser = Browser(app.test_client())
        browser.login(user)
        two_element(browser, *LI_SI)
    case = db.session.execute(select(IdentityCase)).scalar_one()
    supervisor = make_staff("supervisor", signed_in=False)

    _staff_login(page, app, live_provider.url, supervisor.username, supervisor.password,
                 supervisor.secret)
    page.goto(live_provider.url + "/counter/cases")
    row = page.locator(f"#case-{case.id}")
    expect(row).to_contain_text("1101**********002X")
    expect(page.locator(f"#case-{case.id}-name")).to_contain_text("李四")  # as proven
    shot(page, "counter-cases-zh")
    row.locator("input[value=transfer]").check()
    row.locator("textarea").fill("本人持身份证到窗口，核对无误")
    row.locator("button[type=submit]").click()
    expect(page.locator("#no-cases")).to_be_visible()
    page.goto(live_provider.url + "/counter/report")
    page.click("text=English")
    expect(page.locator("h1")).to_contain_text("report")
    shot(page, "counter-report-en")
    db.session.expire_all()
    assert db.session.get(User, claimant.id).trust_level == 3
    assert db.session.get(User, holder.id).trust_level == 2


def test_assisted_registration_prints_a_slip_and_the_person_activates_and_signs_in(
        app, chromium, live_provider, make_staff):
    clerk = make_staff("clerk", signed_in=False)
    desk = chromium.new_context(locale="zh-CN")
    page = desk.new_page()
    page.set_default_timeout(10_000)
    try:
        _staff_login(page, app, live_provider.url, clerk.username, clerk.password, clerk.secret)
        page.goto(live_provider.url + "/counter/register")
        page.select_option("#document_type", "id-number")
        page.fill("#number", ZHOU[1])
        page.fill("#name", ZHOU[0])
        page.fill("#valid_until", "2035-06-30")
        page.check("#photo_compared")
        shot(page, "counter-register-zh")
        page.click("form[action='/counter/register'] button[type=submit]")
        expect(page.locator("#slip")).to_be_visible()
        username = page.locator("#slip-username").inner_text()
        code = page.locator("#activation-code").inner_text()
        remember_secret(code)
        assert ZHOU[1] not in page.content()
        shot(page, "counter-slip-zh")
        page.emulate_media(media="print")
        shot(page, "counter-slip-print")
    finally:
        desk.close()

    person = chromium.new_context(locale="zh-CN")
    page = person.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_provider.url + "/activate")
        page.fill("#identifier", username)
        page.fill("#code", code)
        page.fill("#password", NEW_PASSWORD)
        page.fill("#confirm", NEW_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#notice")).to_be_visible()
        page.goto(live_provider.url + "/login")
        page.fill("#identifier", ZHOU[1])  # a verified person may sign in with the ID number
        page.fill("#password", NEW_PASSWORD)
        page.click("button[type=submit]")
        # the first sign-in of an account made at the counter asks for the agreements
        expect(page.locator("h1")).to_have_text("用户服务协议和隐私政策")
        page.check("#agree")
        page.click("#accept")
        expect(page.locator("h1")).not_to_have_text("用户服务协议和隐私政策")
        page.goto(live_provider.url + "/account")
        expect(page.locator("#trust-level")).to_have_text("5")
    finally:
        person.close()

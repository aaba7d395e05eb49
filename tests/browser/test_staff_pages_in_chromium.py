"""The staff consoles' inner pages in real Chromium, checked as the citizen pages are
(test_pages_in_chromium.py): in Chinese, in English and on a 375×667 phone, axe-core finds no
serious or critical problem at 1280 wide, the `lang` attribute names the language shown, nothing
but a wide table's own box scrolls sideways on the phone, and each page's screenshot is kept in
docs/screenshots/<page>-<zh|en|mobile>.png (docs/accessibility.md).

One staff member signs in once per console and variant and walks its pages the way they work
(forms filled, buttons pressed); each page is checked as a subtest, so one page's problem does
not hide the next one's. Fixtures only make the citizens, clients and staff a walk starts from;
the catalogue goes in through the console's own import page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from idp.audit.actors import Actor
from idp.extensions import db
from tests.admin.catalogue import DEPARTMENTS, ITEMS, systems_csv
from tests.browser.test_pages_in_chromium import VARIANTS, photograph_and_check
from tests.conftest import LiveServer, remember_secret
from tests.counter.conftest import StaffMember, id_number
from tests.integration.helpers import tokens_for

pytestmark = pytest.mark.browser


@dataclass
class Console:
    """A staff member's browser, signed in to one console, in one variant."""

    page: Page
    base: str
    variant: str
    subtests: pytest.Subtests

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def check(self, name: str) -> None:
        """The page as it is now: screenshot, `lang`, axe or reflow (a subtest of its own)."""
        with self.subtests.test(page=name):
            photograph_and_check(self.page, name, self.variant)


@pytest.fixture
def staff_browser(variant: str, chromium: Browser, live_provider: LiveServer
                  ) -> Iterator[Callable[[], Page]]:
    """new() → a page in a fresh browser context of the variant (Chinese, English chosen with
    the banner's language switch, or the phone)."""
    locale, viewport, _lang, _axe = VARIANTS[variant]
    contexts = []

    def new() -> Page:
        context = chromium.new_context(locale=locale, viewport=viewport,
                                       is_mobile=variant == "mobile",
                                       has_touch=variant == "mobile")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if variant == "en":
            page.goto(live_provider.url + "/lang/en?next=/")
        return page

    try:
        yield new
    finally:
        for context in contexts:
            context.close()


def _sign_in(page: Page, app: Flask, base: str, console: str, member: StaffMember) -> None:
    """Username, password and the authenticator's code on one form (the next step's code:
    make_staff enrolled with the previous one)."""
    page.goto(f"{base}/{console}/login")
    page.fill("#username", member.username)
    page.fill("#password", member.password)
    page.fill("#code", pyotp.TOTP(member.secret).at(app.extensions["idp.clock"].now() + 30))
    page.click("main form button[type=submit]")
    expect(page.locator("#sign-out")).to_be_visible()


def _give_reason(page: Page, prefix: str = "") -> None:
    page.select_option(f"#{prefix}purpose", "verification")
    page.fill(f"#{prefix}detail", "现场实名核验")


def _fill_document(page: Page, number: str, name: str, prefix: str = "") -> None:
    page.select_option(f"#{prefix}document_type", "id-number")
    page.fill(f"#{prefix}number", number)
    page.fill(f"#{prefix}name", name)
    page.fill(f"#{prefix}valid_until", "2035-06-30")
    page.check(f"#{prefix}photo_compared")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_counter_workbench_page_is_accessible_in_its_language_and_photographed(
        variant: str, app: Flask, live_provider: LiveServer, staff_browser: Callable[[], Page],
        make_staff: Any, make_user: Any, citizen_with_document: Any,
        subtests: pytest.Subtests) -> None:
    holder = citizen_with_document(name="张三")  # proven at another hall
    claimant = make_user(name="李梅")
    operator = make_staff("operator", signed_in=False, name="王运维")  # sees every page
    base = live_provider.url
    desk = Console(staff_browser(), base, variant, subtests)
    page = desk.page
    _sign_in(page, app, base, "counter", operator)

    expect(page.locator("#query")).to_be_focused()
    desk.check("counter-search")

    page.select_option("#kind", "phone")
    page.fill("#query", "13700000000")
    _give_reason(page)
    page.click("form[action='/counter/'] button[type=submit]")
    expect(page.locator("#register-link")).to_be_visible()
    desk.check("counter-search-not-found")

    desk.go(f"/counter/person/{claimant.id}")  # by link: the reason is asked first
    expect(page.locator("#purpose")).to_be_focused()
    desk.check("counter-open")

    _give_reason(page)
    page.click(f"form[action='/counter/person/{claimant.id}/open'] button[type=submit]")
    expect(page.locator("#trust-level")).to_have_text("2")
    expect(page.locator("#recover-needs-verification")).to_be_visible()
    desk.check("counter-person")

    _fill_document(page, holder.id_number, "张三", prefix="v-")  # the holder's document
    page.click("#verify button[type=submit]")
    expect(page.locator("#verify .error")).to_contain_text("案件编号" if variant != "en"
                                                           else "Case No.")
    desk.check("counter-verify-refused")

    _fill_document(page, id_number(), "李梅", prefix="v-")
    page.click("#verify button[type=submit]")
    expect(page.locator("#verified")).to_be_visible()
    expect(page.locator("#trust-level")).to_have_text("5")
    expect(page.locator("#r-reset_password")).to_be_visible()  # in-person recovery now allowed
    desk.check("counter-verified")

    page.fill("#s-reason", "本人来电称手机遗失，要求停用")
    page.click("#disable-account")
    expect(page.locator("#p-status")).to_be_visible()
    expect(page.locator("#enable-account")).to_be_visible()
    desk.check("counter-person-disabled")

    desk.go("/counter/register")
    desk.check("counter-register")
    _fill_document(page, id_number(), "周敏")
    page.click("form[action='/counter/register'] button[type=submit]")
    expect(page.locator("#slip")).to_be_visible()
    remember_secret(page.locator("#activation-code").inner_text())
    desk.check("counter-slip")

    desk.go("/counter/cases")
    expect(page.locator("section.case")).to_have_count(1)
    desk.check("counter-cases")

    desk.go("/counter/report")
    expect(page.locator("#report .report-row")).to_have_count(2)  # and the fixture's
    desk.check("counter-report")

    desk.go("/counter/staff")
    expect(page.locator(f"tr[data-username='{operator.username}']")).to_be_visible()
    desk.check("counter-staff")

    page.fill("#username", f"clerk-a11y-{variant}")
    page.fill("#display_name", "陈窗口")
    page.select_option("#role", "clerk")
    page.click("form[action='/counter/staff'] button.primary")
    one_time_password = page.locator("#one-time-password").inner_text()
    link = page.locator("#enrolment-link").inner_text()
    remember_secret(one_time_password)  # (the link alone opens nothing: docs/counter.md)
    desk.check("counter-staff-created")

    newcomer = Console(staff_browser(), base, variant, subtests)  # the new clerk's browser
    newcomer.page.goto(link.replace(app.extensions["idp.settings"].issuer, base))
    expect(newcomer.page.locator("#totp-key")).to_be_visible()
    newcomer.check("counter-enrol")


def _upload(page: Page, kind: str, name: str, text: str) -> None:
    page.select_option("#kind", kind)
    page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv",
                                          "buffer": text.encode()}])
    page.uncheck("#dry_run")
    page.click("#import")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_operators_console_page_is_accessible_in_its_language_and_photographed(
        variant: str, app: Flask, live_provider: LiveServer, staff_browser: Callable[[], Page],
        make_staff: Any, make_user: Any, make_client: Any, change_settings: Any,
        browser: Any, subtests: pytest.Subtests) -> None:
    change_settings(access_refresh_seconds=0)  # every page shows the latest logins
    ga = make_client(redirect_uri="https://gaj.example.gov.cn/cb", name="公安厅政务服务系统")
    qy = make_client(redirect_uri="https://qy.example.gov.cn/cb", name="清远市政务服务系统")
    operator = make_staff("operator", signed_in=False, name="李运维")
    base = live_provider.url
    console = Console(staff_browser(), base, variant, subtests)
    page = console.page
    _sign_in(page, app, base, "admin", operator)

    console.go("/admin/imports")
    console.check("admin-imports")
    _upload(page, "departments", "departments.csv", DEPARTMENTS)
    expect(page.locator("#notice")).to_be_visible()
    console.check("admin-imports-done")
    _upload(page, "items", "items.csv", ITEMS)
    expect(page.locator("#notice")).to_be_visible()
    _upload(page, "systems", "systems.csv", systems_csv(ga.client_id, qy.client_id))
    expect(page.locator("#notice")).to_be_visible()
    _upload(page, "items", "items-bad.csv",
            "code,name,type,department_code,level,division_code\n"
            "X-1,,licensing,NOPE,province,440000\nX-2,某事项,unknown,GDGA,city,999999\n")
    expect(page.locator("#rejected tbody tr")).to_have_count(2)
    console.check("admin-imports-rejected")

    citizen = make_user()
    for client in (ga, qy, qy):  # SSO logins (in a test client) make two systems live
        tokens_for(app, browser, citizen, client)
    app.extensions["idp.access"].snapshot(actor=Actor.operator("tests"))  # a trend point
    db.session.commit()

    console.go("/admin/systems")
    expect(page.locator("#systems tr.system")).to_have_count(4)
    console.check("admin-systems")

    console.go("/admin/systems/SYS-GA1")
    expect(page.locator("#system-status")).to_have_attribute("data-status", "live")
    console.check("admin-system")

    console.go(f"/admin/clients/{ga.client_id}")
    expect(page.locator("#logins-chart rect.day")).to_have_count(30)
    console.check("admin-client")

    console.go("/admin/systems/new")
    console.check("admin-system-new")
    page.fill("#code", f"QY-RSJ-{variant.upper()}")
    page.fill("#name", "清远市社保服务系统")
    page.fill("#department", "QYZS")
    page.fill("#contact", "市人社局信息科 0763-3362000")
    page.fill("#items", "QY-2")
    page.fill("#redirect_uris", "https://rsj.example.gov.cn/callback")
    page.click("#register")
    remember_secret(page.locator("#client-secret").inner_text())
    console.check("admin-system-registered")

    console.go("/admin/access")
    expect(page.locator("#city-chart")).to_be_visible()
    expect(page.locator("#trend-cities")).to_be_visible()
    console.check("admin-access")

    console.go("/admin/access/city/441800")
    expect(page.locator("#follow-up")).to_be_visible()
    console.check("admin-access-city")

    console.go("/admin/access/department/GDGA")
    expect(page.locator("table#follow-up-licensing")).to_be_visible()
    console.check("admin-access-department")

    month = app.extensions["idp.access"].today().strftime("%Y-%m")
    page.fill("#month", month)
    page.locator("form.filters button[type=submit]").click()
    expect(page.locator("#as-of")).to_contain_text(month)
    console.check("admin-access-department-month")

    if variant != "mobile":  # the monthly bulletin (月度通报) is printed on A4, not read on a phone
        console.go("/admin/access")
        page.emulate_media(media="print")
        expect(page.locator("#bulletin-title")).to_be_visible()
        console.check("admin-bulletin")


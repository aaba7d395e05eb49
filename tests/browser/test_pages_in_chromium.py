"""Every citizen page in real Chromium, in Chinese, in English and on a 375×667 phone: axe-core
finds no serious or critical WCAG 2.1 A/AA problem (nor best-practice one), the `lang` attribute
names the language shown, nothing overflows sideways on the phone, and each page's screenshot is
kept in docs/screenshots/<page>-<zh|en|mobile>.png (docs/accessibility.md).

Each page is reached the way a person reaches it (forms filled, buttons pressed); fixtures only
make the accounts and business systems that the journey starts from. The counter and console
are checked here at their sign-in pages; their inner pages, the same way, in
test_staff_pages_in_chromium.py."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, expect

from idp.accounts.models import User
from idp.extensions import db
from tests.browser.accessibility import (
    BACKGROUND_JS,
    axe_violations,
    blocking,
    contrast,
    describe,
    parse_rgb,
)
from tests.browser.conftest import ARTIFACTS
from tests.conftest import LiveServer, captcha_answer, last_code, pkce_pair
from tests.conftest import TestUser as Person

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DOCS_SHOTS = ROOT / "docs" / "screenshots"
AXE_REPORTS = ARTIFACTS / "axe"
NEW_PASSWORD = "Pearl-River-Delta-9"
QR_NAME = {"zh-CN": "用于认证器应用的二维码", "en": "QR code for your authenticator app"}

# name → (browser locale, viewport, the `lang` the page must declare, run axe)
VARIANTS: dict[str, tuple[str, dict[str, int], str, bool]] = {
    "zh": ("zh-CN", {"width": 1280, "height": 800}, "zh-CN", True),
    "en": ("en-US", {"width": 1280, "height": 800}, "en", True),
    "mobile": ("zh-CN", {"width": 375, "height": 667}, "zh-CN", False),
}


@dataclass
class Visit:
    """One person's browser on the provider, with the fixtures a journey starts from."""

    page: Page
    base: str
    app: Flask
    make_user: Callable[..., Person]
    make_client: Callable[..., Any]
    sms_platform: LiveServer
    lang: str  # the `lang` the pages must declare

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def log_in(self, user: Person, expect_path: str = "/") -> None:
        self.go("/login")
        self.page.fill("#identifier", user.username)
        self.page.fill("#password", user.password)
        self.page.click("form button[type=submit]")
        expect(self.page).to_have_url(self.base + expect_path)

    def signed_in(self, **user: Any) -> Person:
        person = self.make_user(**user)
        self.log_in(person)
        return person

    def answer_captcha(self) -> None:
        """Type the picture code's digits, as a person reads them off the picture."""
        challenge = self.page.locator("#captcha-id").first.get_attribute("value")
        assert challenge, "the page shows no picture code"
        self.page.locator("#captcha-answer").first.fill(captcha_answer(self.app, challenge))


def new_phone() -> str:
    return f"137{secrets.randbelow(10**8):08d}"


def enrol_totp(app: Flask, person: Person) -> None:
    """An authenticator app turned on earlier (the fixture stands for a past visit)."""
    mfa = app.extensions["idp.mfa"]
    user = db.session.get(User, person.id)
    enrolment = mfa.start_totp(user)
    assert mfa.confirm_totp(user, pyotp.TOTP(enrolment.secret).now(), None)
    db.session.commit()


# --- how each page is reached ---
def home_signed_out(v: Visit) -> None:
    v.go("/")
    expect(v.page.locator("a.button.primary")).to_be_visible()


def home_signed_in(v: Visit) -> None:
    v.signed_in(name="林晓")
    v.go("/")
    expect(v.page.locator("main")).to_contain_text("林晓")


def login(v: Visit) -> None:
    v.go("/login")
    expect(v.page.locator("#identifier")).to_be_focused()


def login_error(v: Visit) -> None:
    person = v.make_user()
    v.go("/login")
    v.page.fill("#identifier", person.username)
    v.page.fill("#password", "Not-The-Password-1")
    v.page.click("form button[type=submit]")
    expect(v.page.locator("#login-error")).to_be_visible()


def login_sms(v: Visit) -> None:
    v.go("/login/sms")
    expect(v.page.locator("#captcha-image")).to_be_visible()


def login_sms_code(v: Visit) -> None:
    person = v.make_user(phone=new_phone())
    v.go("/login/sms")
    v.page.fill("#p-phone", person.phone or "")
    v.answer_captcha()
    v.page.locator("form:has(#p-phone) button[type=submit]").click()
    expect(v.page.locator("#c-code")).to_be_visible()


def second_factor(v: Visit) -> None:
    person = v.make_user()
    enrol_totp(v.app, person)
    v.log_in(person, expect_path="/login/mfa")
    expect(v.page.locator("#code")).to_be_visible()


def register(v: Visit) -> None:
    v.go("/register")
    expect(v.page.locator("#p-phone")).to_be_visible()


def register_code(v: Visit) -> None:
    v.go("/register")
    v.page.fill("#p-phone", new_phone())
    v.answer_captcha()
    v.page.locator("form:has(#p-phone) button[type=submit]").click()
    expect(v.page.locator("#r-code")).to_be_visible()


def recover(v: Visit) -> None:
    v.go("/recover")
    expect(v.page.locator("#p-phone")).to_be_visible()


def _recover_code(v: Visit) -> Person:
    person = v.make_user(phone=new_phone())
    v.go("/recover")
    v.page.fill("#p-phone", person.phone or "")
    v.answer_captcha()
    v.page.locator("form:has(#p-phone) button[type=submit]").click()
    expect(v.page.locator("#r-code")).to_be_visible()
    return person


def recover_code(v: Visit) -> None:
    _recover_code(v)


def recovered(v: Visit) -> None:
    person = _recover_code(v)
    v.page.fill("#r-code", last_code(v.sms_platform, person.phone or "", "reset"))
    v.page.fill("#r-password", NEW_PASSWORD)
    v.page.fill("#r-confirm", NEW_PASSWORD)
    v.page.locator("form:has(#r-code) button[type=submit]").click()
    expect(v.page.locator("#notice")).to_be_visible()


def agreements_accept(v: Visit) -> None:
    person = v.make_user(accepted_agreements=False)
    v.log_in(person, expect_path="/agreements/accept")
    expect(v.page.locator("#accept")).to_be_visible()


def agreement(v: Visit) -> None:
    v.go("/agreements/terms")
    expect(v.page.locator("#agreement-version")).to_be_visible()


def consent(v: Visit) -> None:
    client = v.make_client(name="公积金业务系统", first_party=False)
    v.signed_in()
    v.go("/authorize?" + urlencode({
        "response_type": "code", "client_id": client.client_id,
        "redirect_uri": client.redirect_uri, "scope": "openid profile phone",
        "state": "st-a11y", "nonce": "n-a11y", "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256"}))
    expect(v.page.locator("button[value=allow]")).to_be_visible()


def account(v: Visit) -> None:
    v.signed_in()
    v.go("/account")
    expect(v.page.locator("#security")).to_be_visible()


def identity(v: Visit) -> None:
    v.signed_in()
    v.go("/account/identity")
    expect(v.page.locator("#trust-level")).to_have_text("2")


def phone(v: Visit) -> None:
    v.signed_in()
    v.go("/account/phone")
    expect(v.page.locator("#captcha-answer")).to_be_visible()


def password(v: Visit) -> None:
    v.signed_in()
    v.go("/account/password")
    expect(v.page.locator("#current")).to_be_visible()


def totp(v: Visit) -> None:
    v.signed_in()
    v.go("/account/totp")
    expect(v.page.locator("#totp-key")).to_be_visible()
    expect(v.page.get_by_role("img", name=QR_NAME[v.lang], exact=True)).to_be_visible()


def recovery_codes(v: Visit) -> None:
    totp(v)
    v.page.fill("#code", pyotp.TOTP(v.page.locator("#totp-key").inner_text()).now())
    v.page.locator("form button.primary").click()
    expect(v.page.locator("#recovery-codes li")).to_have_count(10)


def logout_confirm(v: Visit) -> None:
    v.signed_in()
    v.go("/logout")
    expect(v.page.locator("button[value=logout]")).to_be_visible()


def logged_out(v: Visit) -> None:
    logout_confirm(v)
    v.page.click("button[value=logout]")
    expect(v.page.locator("button[value=logout]")).to_have_count(0)
    assert [c for c in v.page.context.cookies() if c["name"] == "idp_sso" and c["value"]] == []


def error_not_found(v: Visit) -> None:
    response = v.go("/no-such-page")
    assert response is not None and response.status == 404


def error_refused(v: Visit) -> None:
    response = v.go("/authorize?" + urlencode({
        "response_type": "code", "client_id": "no-such-client",
        "redirect_uri": "https://rp.example.gov.cn/callback", "scope": "openid"}))
    assert response is not None and response.status == 400


def form_expired(v: Visit) -> None:
    person = v.make_user()
    v.go("/login")
    v.page.fill("#identifier", person.username)
    v.page.fill("#password", person.password)
    v.page.context.clear_cookies(name="idp_flask")  # the form outlived its session
    with v.page.expect_response(lambda r: r.request.method == "POST") as answer:
        v.page.click("form button[type=submit]")
    assert answer.value.status == 400


def activate(v: Visit) -> None:
    v.go("/activate")
    expect(v.page.locator("#identifier")).to_be_visible()


def counter_login(v: Visit) -> None:
    v.go("/counter/login")
    expect(v.page.locator("#username")).to_be_visible()


def admin_login(v: Visit) -> None:
    v.go("/admin/login")
    expect(v.page.locator("#username")).to_be_visible()


PAGES: dict[str, Callable[[Visit], None]] = {
    "home": home_signed_out, "home-signed-in": home_signed_in, "login": login,
    "login-error": login_error, "login-sms": login_sms, "login-sms-code": login_sms_code,
    "mfa": second_factor, "register": register, "register-code": register_code,
    "recover": recover, "recover-code": recover_code, "recovered": recovered,
    "agreements-accept": agreements_accept, "agreement": agreement, "consent": consent,
    "account": account, "identity": identity, "phone": phone, "password": password,
    "totp": totp, "recovery-codes": recovery_codes, "logout-confirm": logout_confirm,
    "logged-out": logged_out, "error-404": error_not_found, "error-refused": error_refused,
    "form-expired": form_expired, "activate": activate, "counter-login": counter_login,
    "admin-login": admin_login,
}


@pytest.fixture
def visit(variant: str, app: Flask, chromium: Browser, live_provider: LiveServer,
          make_user: Any, make_client: Any, sms_platform: LiveServer) -> Iterator[Visit]:
    locale, viewport, lang, _axe = VARIANTS[variant]
    context = chromium.new_context(locale=locale, viewport=viewport,
                                   is_mobile=variant == "mobile", has_touch=variant == "mobile")
    page = context.new_page()
    page.set_default_timeout(10_000)
    if variant == "en":  # the language switch in the banner, as a person would use it
        page.goto(live_provider.url + "/lang/en?next=/")
    try:
        yield Visit(page, live_provider.url, app, make_user, make_client, sms_platform, lang)
    finally:
        context.close()


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_every_citizen_page_is_accessible_in_its_language_and_photographed(
        name: str, variant: str, visit: Visit) -> None:
    PAGES[name](visit)
    photograph_and_check(visit.page, name, variant)


def photograph_and_check(page: Page, name: str, variant: str) -> None:
    """Keep the page's screenshot in docs/screenshots/<name>-<variant>.png, then check it: the
    `lang` it declares; at 1280 wide no serious or critical axe finding; on the phone nothing
    wider than the screen (a wide table scrolls inside its own box, not the page)."""
    _locale, viewport, lang, run_axe = VARIANTS[variant]
    page.wait_for_load_state("load")
    DOCS_SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS_SHOTS / f"{name}-{variant}.png"), full_page=True,
                    animations="disabled")

    assert page.locator("html").get_attribute("lang") == lang, f"{name}: lang attribute"
    if run_axe:
        found = blocking(axe_violations(page, AXE_REPORTS / f"{name}-{variant}.json"))
        assert found == [], (f"{name} ({variant}, {page.url}): axe found serious or critical "
                             f"problems:\n{describe(found)}")
    else:
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= viewport["width"], (
            f"{name}: the page is {overflow}px wide on a {viewport['width']}px phone "
            "(WCAG 1.4.10: content reflows without sideways scrolling); sticking out: "
            f"{page.evaluate(STICKING_OUT_JS)}")
        unreachable = page.evaluate(UNREACHABLE_SCROLLERS_JS)
        assert unreachable == [], (f"{name}: boxes that scroll sideways but that the keyboard "
                                   f"cannot reach or that have no name (WCAG 2.1.1): {unreachable}")


# Boxes that scroll sideways (a wide table on the phone) without a tab stop and a name, so a
# keyboard user could not scroll them and a screen reader would not say what they hold.
UNREACHABLE_SCROLLERS_JS = """() => [...document.body.querySelectorAll('*')]
  .filter(el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)
                && el.scrollWidth > el.clientWidth)
  .filter(el => el.tabIndex < 0
                || !(el.getAttribute('aria-labelledby') || el.getAttribute('aria-label')))
  .map(el => el.outerHTML.slice(0, 100))"""


# The innermost elements that reach past the right edge of the window, outside any box that
# scrolls or clips sideways (what to fix when a page is wider than the phone). Absolutely
# positioned ones are always named: a scrolling box holds them only if it is positioned too.
STICKING_OUT_JS = """() => {
  const width = document.documentElement.clientWidth, out = [];
  const past = el => el.getBoundingClientRect().right > width;
  const contained = el => {
    if (['absolute', 'fixed'].includes(getComputedStyle(el).position)) return false;
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement)
      if (getComputedStyle(node).overflowX !== 'visible') return true;
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    if (!past(el) || contained(el) || [...el.children].some(past)) continue;
    const cls = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls}`
             + ` (right edge ${Math.round(el.getBoundingClientRect().right)}px)`);
  }
  return out.slice(0, 8);
}"""


def _tab_to(page: Page, selector: str) -> Locator:
    """Press Tab until `selector` has the focus (as a keyboard user would), at most 40 times."""
    target = page.locator(selector)
    for _ in range(40):
        if target.evaluate("el => el === document.activeElement"):
            return target
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.outerHTML"
                             ".slice(0, 60)"))


@pytest.mark.parametrize("selector", [
    "#identifier", "#password", "form button.primary", "a#register-link",
    "nav.lang a[lang=en]",  # on the banner: a white ring
    ".footer a[href^=tel]",  # on the page background
])
def test_the_focus_ring_stands_out_three_to_one_from_what_is_behind_it(
        selector: str, page: Page, live_provider: LiveServer) -> None:
    """WCAG 1.4.11 (non-text contrast), which axe does not measure: the outline each control
    gets when the keyboard reaches it, against the colour behind it."""
    page.goto(live_provider.url + "/login")
    target = _tab_to(page, selector)
    style, width, colour = target.evaluate("el => { const s = getComputedStyle(el); return "
                                           "[s.outlineStyle, s.outlineWidth, s.outlineColor]; }")
    assert style == "solid" and float(width.removesuffix("px")) >= 2, (style, width)
    ratio = contrast(parse_rgb(colour), parse_rgb(target.evaluate(BACKGROUND_JS)))
    assert ratio >= 3, f"{selector}: focus outline {colour} is {ratio:.2f}:1"


@pytest.mark.parametrize("path", ["/login", "/register", "/activate", "/counter/login"])
def test_text_field_edges_stand_out_three_to_one(
        path: str, page: Page, live_provider: LiveServer) -> None:
    """WCAG 1.4.11: the edge of each text field against the card behind it. (Checkboxes keep
    Chromium's own drawing, whose #767676 edge is 4.5:1 on white.)"""
    page.goto(live_provider.url + path)
    fields = page.locator("main input[type=text], main input[type=password]")
    assert fields.count() >= 2
    for i in range(fields.count()):
        field = fields.nth(i)
        colour = field.evaluate("el => getComputedStyle(el).borderTopColor")
        ratio = contrast(parse_rgb(colour), parse_rgb(field.evaluate(BACKGROUND_JS)))
        assert ratio >= 3, f"{path}: field {i} edge {colour} is {ratio:.2f}:1"


def test_the_keyboard_goes_through_the_login_form_in_reading_order(
        page: Page, live_provider: LiveServer) -> None:
    page.goto(live_provider.url + "/login")
    order = [_focused(page)]  # the name field has the focus on arrival (autofocus)
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || "
                                   "document.activeElement.getAttribute('href') || "
                                   "document.activeElement.textContent.trim()"))
    assert order[:3] == ["identifier", "password", "登录"]
    assert [o.split("?")[0] for o in order[3:]] == ["/login/sms", "/recover", "register-link"]


def test_the_skip_link_is_the_first_stop_and_leads_into_the_page(
        page: Page, live_provider: LiveServer) -> None:
    """WCAG 2.4.1: a keyboard user passes the banner in one step."""
    page.goto(live_provider.url + "/agreements/terms")  # a page without autofocus
    skip = page.locator("a.skip-link")
    hidden = skip.bounding_box()
    assert hidden is not None and hidden["y"] < 0  # out of sight until it is needed
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("跳至主要内容")
    shown = skip.bounding_box()
    assert shown is not None and shown["y"] >= 0
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")

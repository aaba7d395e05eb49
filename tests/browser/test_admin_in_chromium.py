"""Real Chromium in the operators' console (issue 9): an operator signs in with TOTP, registers
a business system with its client, the system's first SSO login makes it live, and the access
page shows the tables, the chart with its target lines and the drill-down. The screenshots of
these pages are kept in docs/screenshots/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect

from clients.sample_rp import create_rp
from tests.browser.conftest import ARTIFACTS, shot
from tests.conftest import LiveServer, free_port, remember_secret

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "docs" / "samples"
DOCS_SHOTS = ROOT / "docs" / "screenshots"


def _docs_shot(page, name: str) -> None:
    """A screenshot for the test artifacts, copied into docs/screenshots (issue 9 asks for
    one of each page in the docs)."""
    shot(page, name)
    DOCS_SHOTS.mkdir(exist_ok=True)
    shutil.copyfile(ARTIFACTS / f"{name}.png", DOCS_SHOTS / f"{name}.png")


def _import_samples(app) -> None:
    runner = app.test_cli_runner()
    for kind, name in (("departments", "departments"), ("items", "items"),
                       ("items", "items-gbk"), ("systems", "systems")):
        result = runner.invoke(args=["access", "import", kind, str(SAMPLES / f"{name}.csv")])
        assert result.exit_code == 0, result.output


def test_an_operator_registers_a_system_whose_first_login_makes_it_live_and_reads_the_rates(
        app, chromium, live_provider, make_staff, make_user, change_settings):
    change_settings(access_refresh_seconds=0)  # the page looks right after the login
    _import_samples(app)
    operator = make_staff("operator", signed_in=False)
    citizen = make_user(name="林晓")
    port = free_port()
    rp_base = f"http://127.0.0.1:{port}"

    console = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = console.new_page()
    page.set_default_timeout(10_000)
    rp = None
    try:
        page.goto(live_provider.url + "/admin/login")
        page.fill("#username", operator.username)
        page.fill("#password", operator.password)
        page.fill("#code", pyotp.TOTP(operator.secret).at(
            app.extensions["idp.clock"].now() + 30))
        page.click("form button[type=submit]")
        page.goto(live_provider.url + "/admin/systems/new")
        page.fill("#code", "QY-RSJ-SBFW")
        page.fill("#name", "清远市社保服务系统")
        page.fill("#department", "QY-RSJ")
        page.fill("#contact", "市人社局信息科 0763-3362000")
        page.fill("#items", "QY-RSJ-GG-0001\nQY-GAJ-GG-0001")
        page.fill("#redirect_uris", rp_base + "/callback")
        page.check("#first_party")
        _docs_shot(page, "admin-register-system")
        page.click("form button.primary")
        client_id = page.locator("#client-id").inner_text().strip()
        secret = page.locator("#client-secret").inner_text().strip()
        remember_secret(secret)

        # the system's first SSO login, in a citizen's browser
        rp = LiveServer(create_rp(issuer=live_provider.url, client_id=client_id,
                                  client_secret=secret, base_url=rp_base,
                                  name="清远市社保服务系统"), port)
        person = chromium.new_context(locale="zh-CN")
        citizen_page = person.new_page()
        citizen_page.goto(rp_base + "/login")
        citizen_page.fill("#identifier", citizen.username)
        citizen_page.fill("#password", citizen.password)
        citizen_page.click("button[type=submit]")
        expect(citizen_page.locator("#who")).to_have_text("林晓")
        person.close()

        page.goto(live_provider.url + "/admin/systems/QY-RSJ-SBFW")
        expect(page.locator("#system-status")).to_have_attribute("data-status", "live")
        _docs_shot(page, "admin-system-live")

        snapshot = app.test_cli_runner().invoke(args=["access", "snapshot"])
        assert snapshot.exit_code == 0, snapshot.output  # this month's point of the trend
        page.goto(live_provider.url + "/admin/access")
        expect(page.locator("#provincial-rates")).to_be_visible()
        expect(page.locator("#trend-cities")).to_be_visible()
        expect(page.locator("#city-rates")).to_contain_text("清远市")
        chart = page.locator("#cities svg").first
        expect(chart).to_be_visible()
        assert chart.locator(".target").count() >= 1  # the 90% target line
        _docs_shot(page, "admin-access")
        page.emulate_media(media="print")
        _docs_shot(page, "admin-access-print")
        page.emulate_media(media="screen")

        page.goto(live_provider.url + "/admin/access/city/441800")
        expect(page.locator("body")).to_contain_text("英德市")
        _docs_shot(page, "admin-access-city")
    finally:
        console.close()
        if rp is not None:
            rp.stop()

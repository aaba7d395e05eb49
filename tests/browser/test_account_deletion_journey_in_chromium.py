"""Issue 12, acceptance 1, in real Chromium: a person known to a business system asks for
their account to be deleted (after a fresh second factor), cancels by signing in during the
cooling-off period, asks again; when the period is over (the test clock moved) the purge job
erases them, the business system receives `account-purged` for the `sub` it knows, and the
same ID number can be verified again by a new account."""

from __future__ import annotations

import json

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from idp.accounts.models import User
from idp.extensions import db
from tests.browser.conftest import sample_rp, shot
from tests.conftest import sms_messages

pytestmark = pytest.mark.browser

PERSON = ("钱七", "440103196108277452")
RISC = "https://schemas.openid.net/secevent/risc/event-type/"


def _log_in(page: Page, base: str, identifier: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    page.click("form button[type=submit]")


def _second_factor(page: Page, recovery_code: str) -> None:
    """The account has an authenticator app: after the password, one of its recovery codes."""
    expect(page.locator("#use-recovery")).to_be_visible()
    page.click("#use-recovery")
    page.fill("#code", recovery_code)
    page.click("form:has(#code) button[type=submit]")


def _ask_for_deletion(page: Page, base: str) -> None:
    """From /account, in a session that proved both factors moments ago: confirm."""
    page.goto(base + "/account")
    page.click("#delete-account")
    expect(page.locator("#confirm-delete")).to_be_visible()
    page.check("#understood")
    page.click("#confirm-delete")
    expect(page.locator("#how-to-cancel")).to_be_visible()


def test_delete_cancel_delete_purge_tells_the_business_system_and_frees_the_id_number(
        page, app, live_provider, make_client, make_user, national_platform, sms_platform):
    base = live_provider.url
    national_platform.add_person(*PERSON)
    person = make_user(name=PERSON[0], trust_level=3, id_number=PERSON[1])
    mfa, user = app.extensions["idp.mfa"], db.session.get(User, person.id)
    enrolment = mfa.start_totp(user)
    codes = mfa.confirm_totp(user, pyotp.TOTP(enrolment.secret).now(), None)
    db.session.commit()  # an authenticator app turned on at an earlier visit
    rp, rp_app = sample_rp(live_provider, make_client, "社保业务系统", first_party=True,
                           events=True)
    try:
        # The business system knows the person: a login through it.
        page.goto(rp.url + "/")
        page.click("#login")
        page.fill("#identifier", person.username)
        page.fill("#password", person.password)
        page.click("button[type=submit]")
        _second_factor(page, codes[0])
        expect(page.locator("#who")).to_have_text(PERSON[0])
        sub = json.loads(page.locator("#id-token-claims").inner_text())["sub"]

        _ask_for_deletion(page, base)
        shot(page, "deletion-requested-zh")
        db.session.expire_all()
        assert db.session.get(User, person.id).deletion_requested_at is not None

        # A day later the person signs in: the platform offers to cancel, and they do.
        app.extensions["idp.clock"].advance(86400)
        _log_in(page, base, person.username, person.password)
        _second_factor(page, codes[1])
        expect(page.locator("#deletion-question")).to_be_visible()
        page.click("#cancel-deletion")
        expect(page).to_have_url(base + "/")
        db.session.expire_all()
        assert db.session.get(User, person.id).deletion_requested_at is None

        # They ask again; the cooling-off period (15 days) then passes.
        _ask_for_deletion(page, base)
        app.extensions["idp.clock"].advance(15 * 86400 + 60)
        runner = app.test_cli_runner()
        purged = runner.invoke(args=["accounts", "purge-deleted"])
        assert purged.exit_code == 0, purged.output
        again = runner.invoke(args=["accounts", "purge-deleted"])  # safe to run twice
        assert again.exit_code == 0, again.output
        delivered = runner.invoke(args=["events", "deliver"])
        assert delivered.exit_code == 0, delivered.output

        erased = db.session.get(User, person.id, populate_existing=True)
        assert erased.purged_at is not None and erased.name is None and erased.phone is None
        assert erased.id_number_hash is None and erased.password_hash is None

        # The business system received account-purged for the sub it knows, last.
        events = rp_app.extensions["rp_state"].security_events
        kinds = [next(iter(e["events"])) for e in events]
        assert kinds[-1] == RISC + "account-purged", kinds
        purged_event = events[-1]
        assert purged_event["sub_id"] == {"format": "iss_sub", "iss": base, "sub": sub}
        assert all(e["sub_id"]["sub"] == sub for e in events)
        page.goto(rp.url + "/")
        shot(page, "deletion-rp-events-zh")

        # Each step was told to the person's phone, the last one before the number was erased.
        notices = [m["template"] for m in sms_messages(sms_platform, person.phone)]
        assert notices == ["deletion_requested", "deletion_cancelled", "deletion_requested",
                           "account_purged"], notices

        # The erased person can no longer sign in (the same words as a wrong password).
        _log_in(page, base, person.phone, person.password)
        expect(page.locator("#login-error")).to_have_text(
            "用户名、手机号码、身份证号码或密码不正确。")

        # The same ID number verifies again, for a new account.
        newcomer = make_user(name=None)
        _log_in(page, base, newcomer.username, newcomer.password)
        page.goto(base + "/account/identity")
        page.fill("#two-name", PERSON[0])
        page.fill("#two-id-number", PERSON[1])
        page.click("#two-element button[type=submit]")
        expect(page.locator("#trust-level")).to_have_text("3")
        expect(page.locator("#masked-number")).to_have_text("4401**********7452")
        holder = db.session.execute(select(User).where(User.id == newcomer.id)).scalar_one()
        assert holder.id_number_hash is not None
    finally:
        rp.stop()

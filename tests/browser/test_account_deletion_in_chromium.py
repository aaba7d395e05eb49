"""Account deletion in real Chromium, in Chinese, in English and on a phone: the deletion page,
the page after confirming, and the question asked at sign-in during the cooling-off period
pass the same checks as every citizen page (axe, `lang`, no sideways overflow) and are
photographed into docs/screenshots/; cancelling there signs the person in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from idp.accounts.models import User
from idp.extensions import db
from tests.browser.test_pages_in_chromium import (  # noqa: F401 - `visit` is a fixture
    VARIANTS,
    Visit,
    photograph_and_check,
    visit,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_deleting_then_cancelling_at_sign_in(variant: str, visit: Visit) -> None:  # noqa: F811
    person = visit.signed_in(phone_verified=False)  # no second factor: the password suffices
    visit.go("/account")
    visit.page.click("#delete-account")
    expect(visit.page.locator("#confirm-delete")).to_be_visible()
    photograph_and_check(visit.page, "account-delete", variant)

    visit.page.check("#understood")
    visit.page.click("#confirm-delete")
    expect(visit.page.locator("#how-to-cancel")).to_be_visible()
    photograph_and_check(visit.page, "account-delete-requested", variant)

    visit.app.extensions["idp.clock"].advance(86400)
    visit.log_in(person, expect_path="/login/deletion")
    expect(visit.page.locator("#deletion-question")).to_be_visible()
    photograph_and_check(visit.page, "deletion-pending", variant)

    visit.page.click("#cancel-deletion")
    expect(visit.page).to_have_url(visit.base + "/")
    db.session.expire_all()
    assert db.session.get(User, person.id).deletion_requested_at is None

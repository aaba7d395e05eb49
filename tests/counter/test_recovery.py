"""In-person recovery (现场找回): only after this clerk verified the person in this visit; a
new password by activation slip, no second factors, or a new mobile number; the person's
sessions and grants end."""

from __future__ import annotations

import re

import pyotp

from idp.extensions import db
from tests import conftest
from tests.conftest import Browser, remember_secret
from tests.counter.conftest import error_of, text_of
from tests.integration.citizens import audit_events, csrf

CODE_RE = re.compile(r'<span class="code" id="activation-code">([A-Z0-9-]+)</span>')


def _signed_in_citizen(app, citizen_with_document):
    citizen = citizen_with_document()
    browser = Browser(app.test_client())
    assert browser.login(citizen).status_code == 303
    assert browser.client.get("/account").status_code == 200
    return citizen, browser


def test_recovery_needs_this_clerks_verification_in_this_visit(app, make_staff,
                                                              citizen_with_document):
    clerk, citizen = make_staff("clerk"), citizen_with_document()
    clerk.open_record(citizen.id)
    page = text_of(clerk.client.get(f"/counter/person/{citizen.id}"))
    assert 'id="recover-needs-verification"' in page  # verified elsewhere, not by this clerk
    refused = clerk.post(f"/counter/person/{citizen.id}/recover", {"r-reset_password": "y"})
    assert refused.status_code == 400
    assert error_of(refused) == ("请先在本页为其进行现场核验：找回业务须由您本人在30分钟内"
                                 "核验通过。")
    assert audit_events("counter:recovery:completed") == []


def test_a_verification_older_than_thirty_minutes_no_longer_allows_recovery(
        app, make_staff, citizen_with_document):
    clerk, citizen = make_staff("clerk"), citizen_with_document()
    clerk.open_record(citizen.id)
    assert clerk.verify(citizen.id, citizen.id_number).status_code == 200
    clock = app.extensions["idp.clock"]
    for _ in range(4):  # 32 minutes, the workbench kept alive
        clock.advance(8 * 60)
        clerk.open_record(citizen.id)
    refused = clerk.post(f"/counter/person/{citizen.id}/recover", {"r-reset_password": "y"})
    assert refused.status_code == 400


def test_in_person_recovery_resets_the_password_and_ends_the_persons_sessions(
        app, make_staff, citizen_with_document):
    clerk = make_staff("clerk")
    citizen, browser = _signed_in_citizen(app, citizen_with_document)
    clerk.open_record(citizen.id)
    assert clerk.verify(citizen.id, citizen.id_number).status_code == 200
    done = clerk.post(f"/counter/person/{citizen.id}/recover", {"r-reset_password": "y"})
    assert done.status_code == 303 and "/counter/slip/" in done.headers["Location"]
    slip = text_of(clerk.client.get(done.headers["Location"]))
    code = CODE_RE.search(slip).group(1)
    remember_secret(code)
    assert "您的密码已在窗口重置" in slip
    # The person's session is over, and the old password no longer works.
    assert browser.client.get("/account").status_code == 303
    assert Browser(app.test_client()).login(citizen).status_code == 400
    [recovery] = audit_events("counter:recovery:completed")
    assert recovery.data["actions"] == ["password"]
    assert recovery.actor == f"staff:{clerk.id}@{clerk.hall}"
    assert [e.actor for e in audit_events("accounts:password:reset")] == [recovery.actor]
    # The slip's code sets a new password.
    fresh = Browser(app.test_client())
    fresh.client.get("/activate")
    remember_secret("Brand-New-Pass-42")
    assert fresh.client.post("/activate", data={
        "csrf_token": csrf(fresh), "identifier": citizen.username, "code": code,
        "password": "Brand-New-Pass-42", "confirm": "Brand-New-Pass-42"}).status_code == 200
    renewed = conftest.TestUser(citizen.id, citizen.username, "Brand-New-Pass-42", None)
    assert Browser(app.test_client()).login(renewed).status_code == 303


def test_in_person_recovery_removes_the_second_factors(app, make_staff,
                                                       citizen_with_document):
    clerk, citizen = make_staff("clerk"), citizen_with_document()
    mfa = app.extensions["idp.mfa"]
    user = app.extensions["idp.accounts"].get(citizen.id)
    enrolment = mfa.start_totp(user)
    mfa.confirm_totp(user, pyotp.TOTP(enrolment.secret).now(), None)
    db.session.commit()
    clerk.open_record(citizen.id)
    assert '<dd id="p-totp">已开启</dd>' in text_of(
        clerk.client.get(f"/counter/person/{citizen.id}"))
    clerk.verify(citizen.id, citizen.id_number)
    done = clerk.post(f"/counter/person/{citizen.id}/recover", {"r-remove_factors": "y"})
    assert done.status_code == 303
    db.session.expire_all()
    user = app.extensions["idp.accounts"].get(citizen.id)
    assert not mfa.has_totp(user) and mfa.recovery_codes_left(user) == 0
    assert [e.actor for e in audit_events("accounts:totp:removed")] == \
        [f"staff:{clerk.id}@{clerk.hall}"]


def test_in_person_recovery_changes_the_mobile_number(app, make_staff, citizen_with_document):
    clerk, citizen = make_staff("clerk"), citizen_with_document()
    clerk.open_record(citizen.id)
    clerk.verify(citizen.id, citizen.id_number)
    done = clerk.post(f"/counter/person/{citizen.id}/recover", {"r-new_phone": "13812345678"})
    assert done.status_code == 303
    db.session.expire_all()
    assert app.extensions["idp.accounts"].get(citizen.id).phone == "13812345678"
    [changed] = audit_events("accounts:phone:changed")
    assert changed.data == {"via": "counter"}
    assert len(audit_events("accounts:sessions:ended", user_id=citizen.id)) == 1


def test_a_taken_mobile_number_changes_nothing(app, make_staff, make_user,
                                               citizen_with_document):
    clerk, citizen, other = make_staff("clerk"), citizen_with_document(), make_user()
    clerk.open_record(citizen.id)
    clerk.verify(citizen.id, citizen.id_number)
    refused = clerk.post(f"/counter/person/{citizen.id}/recover", {
        "r-new_phone": other.phone, "r-reset_password": "y"})
    assert refused.status_code == 400
    assert error_of(refused) == "该手机号码已被其他账户注册。"
    assert audit_events("counter:recovery:completed") == []
    assert audit_events("accounts:password:reset") == []

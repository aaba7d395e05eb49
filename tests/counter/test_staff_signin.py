"""Staff sign-in: password and authenticator code together, the citizens' durable lockout,
the 10-minute idle timeout, the hall's IP allow-list, enrolment, and a store outage."""

from __future__ import annotations

import re

import pyotp

from idp.accounts.models import LoginGuardRow
from idp.audit.actors import cli_operator
from idp.extensions import db
from idp.store import StoreUnavailable
from tests.conftest import remember_secret
from tests.counter.conftest import HALL, STAFF_PASSWORD, error_of, notice_of, text_of
from tests.integration.citizens import audit_events, clear_wait, lock_time_text

WRONG = "用户名、密码或验证码不正确。如尚未完成注册，请先使用注册链接。"


def test_a_staff_member_with_both_factors_reaches_the_workbench(make_staff):
    clerk = make_staff("clerk")
    page = clerk.client.get("/counter/")
    assert page.status_code == 200
    assert f"员工{clerk.username[-4:]}" in text_of(page)
    [login] = audit_events("counter:staff:login")
    assert login.actor == f"staff:{clerk.id}@{HALL}"
    cookie = clerk.client.get_cookie("idp_counter", path="/counter")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"


def test_staff_without_a_confirmed_authenticator_cannot_sign_in(make_staff):
    pending = make_staff("clerk", enrolled=False, signed_in=False)
    answer = pending.login(code="123456")
    assert answer.status_code == 400
    assert error_of(answer) == WRONG
    assert pending.client.get_cookie("idp_counter", path="/counter") is None
    assert pending.client.get("/counter/").status_code == 303


def test_a_wrong_code_is_refused_even_with_the_right_password(make_staff):
    clerk = make_staff("clerk", signed_in=False)
    wrong = pyotp.TOTP(pyotp.random_base32()).now()
    answer = clerk.login(code=wrong if wrong != clerk.code() else "000000")
    assert answer.status_code == 400 and error_of(answer) == WRONG
    [failure] = audit_events("counter:staff:login_failed")
    assert failure.data == {"staff": clerk.id, "reason": "bad_credentials"}


def test_a_used_code_cannot_sign_in_twice(make_staff):
    clerk = make_staff("clerk", signed_in=False)
    code = clerk.code()
    assert clerk.login(code=code).status_code == 303
    clerk.client.delete_cookie("idp_counter", path="/counter")
    assert error_of(clerk.login(code=code)) == WRONG


def test_wrong_passwords_lock_the_staff_account_like_a_citizens(app, make_staff):
    clerk = make_staff("clerk", signed_in=False)
    threshold = app.extensions["idp.accounts"].guard.threshold
    for _ in range(threshold):
        clear_wait(app, "staff:" + clerk.id)
        last = clerk.login(password="Wrong-Password-1")
    row = db.session.get(LoginGuardRow, "staff:" + clerk.id, populate_existing=True)
    assert row is not None and row.locked_until
    assert error_of(last) == \
        f"失败次数过多，请于 {lock_time_text(row.locked_until)} 后再试，或请大厅管理员协助。"
    # Locked: even the right password and code are refused, and the lock is durable.
    answer = clerk.login()
    assert answer.status_code == 400
    assert clerk.client.get_cookie("idp_counter", path="/counter") is None
    assert len(audit_events("counter:staff:locked")) == 1


def test_the_workbench_session_ends_after_ten_idle_minutes(app, make_staff):
    clerk = make_staff("clerk")
    clock = app.extensions["idp.clock"]
    clock.advance(9 * 60)
    assert clerk.client.get("/counter/").status_code == 200  # activity restarts the count
    clock.advance(9 * 60)
    assert clerk.client.get("/counter/").status_code == 200
    clock.advance(10 * 60)
    ended = clerk.client.get("/counter/")
    assert ended.status_code == 303
    assert ended.headers["Location"].endswith("/counter/login?expired=1")
    page = clerk.client.get(ended.headers["Location"])
    assert notice_of(page) == "工作台会话已结束，请重新登录。"


def test_the_workbench_session_ends_after_ten_hours_whatever_the_activity(app, make_staff):
    clerk = make_staff("clerk")
    clock = app.extensions["idp.clock"]
    for _ in range(66):  # 9.9 hours, never idle for more than 9 minutes
        clock.advance(9 * 60)
        assert clerk.client.get("/counter/").status_code == 200
    clock.advance(9 * 60)
    assert clerk.client.get("/counter/").status_code == 303


def test_a_store_outage_refuses_the_workbench_instead_of_letting_anyone_in(app, make_staff,
                                                                          monkeypatch):
    clerk = make_staff("clerk")
    store = app.extensions["idp.store"]

    def down(*args, **kwargs):
        raise StoreUnavailable("test")

    monkeypatch.setattr(store, "get", down)
    answer = clerk.client.get("/counter/")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]


def test_sign_in_from_outside_the_halls_network_is_refused(app, make_staff):
    clerk = make_staff("clerk", hall="QY-LAN", ip_allow=("10.20.0.0/16",), signed_in=False)
    outside = clerk.login(REMOTE_ADDR="192.0.2.7")
    assert outside.status_code == 400
    assert error_of(outside) == "本大厅工作台只接受来自大厅内部网络的登录。"
    assert clerk.client.get_cookie("idp_counter", path="/counter") is None
    [refusal] = audit_events("counter:staff:ip_refused")
    assert refusal.ip == "192.0.2.7" and refusal.data["at"] == "login"
    inside = clerk.login(code=clerk.code(1), REMOTE_ADDR="10.20.3.4")
    assert inside.status_code == 303


def test_a_session_used_from_outside_the_halls_network_is_refused_and_ended(app, make_staff):
    clerk = make_staff("clerk", hall="QY-LAN2", ip_allow=("10.30.0.0/16",), signed_in=False)
    assert clerk.login(REMOTE_ADDR="10.30.1.1").status_code == 303
    assert clerk.client.get("/counter/", environ_base={"REMOTE_ADDR": "10.30.1.1"}
                            ).status_code == 200
    moved = clerk.client.get("/counter/", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert moved.status_code == 403
    again = clerk.client.get("/counter/", environ_base={"REMOTE_ADDR": "10.30.1.1"})
    assert again.status_code == 303  # the session was ended, not only this request refused


def test_sign_out_ends_the_session(make_staff):
    clerk = make_staff("clerk")
    out = clerk.post("/counter/logout", {})
    assert out.status_code == 303
    assert clerk.client.get("/counter/").status_code == 303
    assert len(audit_events("counter:staff:logout")) == 1


def test_a_disabled_staff_members_session_ends_at_once(app, make_staff):
    clerk = make_staff("clerk")
    member = app.extensions["idp.counter"].staff.get(clerk.id)
    app.extensions["idp.counter"].staff.disable(member, actor=cli_operator())
    db.session.commit()
    assert clerk.client.get("/counter/").status_code == 303
    assert error_of(clerk.login(code=clerk.code(1))) == WRONG


def test_enrolment_by_link_sets_the_password_and_the_authenticator(app, make_staff):
    pending = make_staff("clerk", enrolled=False, signed_in=False)
    token = _fresh_enrolment(app, pending)
    page = pending.client.get(f"/counter/enrol/{token}")
    assert page.status_code == 200
    secret = re.search(r'<code id="totp-key">([A-Z2-7]+)</code>', text_of(page)).group(1)
    form = {"csrf_token": pending.csrf(f"/counter/enrol/{token}"),
            "one_time_password": pending.password, "password": STAFF_PASSWORD,
            "confirm": STAFF_PASSWORD,
            "code": pyotp.TOTP(secret).at(app.extensions["idp.clock"].now() - 30)}
    done = pending.client.post(f"/counter/enrol/{token}", data=form)
    assert done.status_code == 303
    pending.secret, pending.password = secret, STAFF_PASSWORD
    assert pending.login().status_code == 303
    # The link works once.
    assert pending.client.get(f"/counter/enrol/{token}").status_code == 404


def test_enrolment_needs_the_one_time_password_as_well_as_the_link(app, make_staff):
    pending = make_staff("clerk", enrolled=False, signed_in=False)
    token = _fresh_enrolment(app, pending)
    page = pending.client.get(f"/counter/enrol/{token}")
    secret = re.search(r'<code id="totp-key">([A-Z2-7]+)</code>', text_of(page)).group(1)
    answer = pending.client.post(f"/counter/enrol/{token}", data={
        "csrf_token": pending.csrf(f"/counter/enrol/{token}"),
        "one_time_password": "not-the-password", "password": STAFF_PASSWORD,
        "confirm": STAFF_PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert answer.status_code == 400
    assert error_of(answer) == "一次性密码不正确。"
    assert not app.extensions["idp.counter"].staff.get(pending.id).enrolled


def _fresh_enrolment(app, pending) -> str:
    """A new enrolment for the staff member (the fixture keeps no link): the one-time
    password goes to the test's staff member, the link's token is returned."""
    member = app.extensions["idp.counter"].staff.get(pending.id)
    credentials = app.extensions["idp.counter"].staff.reissue_enrolment(member, cli_operator())
    db.session.commit()
    remember_secret(credentials.password, credentials.token)
    pending.password = credentials.password
    return credentials.token


def test_the_workbench_speaks_english_on_request(app):
    client = app.test_client()
    client.set_cookie("idp_lang", "en")
    page = text_of(client.get("/counter/login"))
    assert "Counter workbench sign-in" in page and "Authenticator code" in page
    assert "窗口工作台登录" in text_of(app.test_client().get("/counter/login"))

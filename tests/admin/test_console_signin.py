"""Console sign-in: only operators (staff with the operator role and a confirmed
authenticator app) get in, on a cookie of the console's own; the idle timeout on the
injectable clock; the durable sign-out; the hall's network; pages never cached."""

from __future__ import annotations

from idp.audit.actors import cli_operator
from idp.extensions import db
from tests.admin.conftest import error_of, notice_of, text_of
from tests.counter.conftest import HALL
from tests.integration.citizens import audit_events

WRONG = "用户名、密码或验证码不正确。"
OPERATORS_ONLY = "运维控制台仅供省级运维人员使用。您的工作人员账户请登录窗口工作台。"


def test_an_operator_with_password_and_code_reaches_the_console(make_operator):
    operator = make_operator()
    page = operator.get("/admin/systems")
    assert page.status_code == 200
    assert f"员工{operator.member.username[-4:]}" in text_of(page)
    cookie = operator.client.get_cookie("idp_admin", path="/admin")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert cookie.path == "/admin"
    [signed_in] = audit_events("admin:console:signed_in")
    assert signed_in.actor == f"staff:{operator.id}@{HALL}"


def test_a_clerk_with_the_right_password_and_code_is_refused_with_a_clear_page(make_operator):
    clerk = make_operator("clerk", signed_in=False)
    answer = clerk.login()
    assert answer.status_code == 403
    assert error_of(answer) == OPERATORS_ONLY
    assert clerk.client.get_cookie("idp_admin", path="/admin") is None
    assert clerk.get("/admin/systems").status_code == 303
    [refused] = audit_events("admin:console:refused")
    assert refused.data == {"role": "clerk"}


def test_supervisors_and_hall_administrators_are_refused_too(make_operator):
    for role in ("supervisor", "hall_admin"):
        member = make_operator(role, signed_in=False)
        assert member.login().status_code == 403
        assert member.client.get_cookie("idp_admin", path="/admin") is None


def test_an_operator_without_a_confirmed_authenticator_cannot_sign_in(make_operator):
    pending = make_operator(enrolled=False, signed_in=False)
    answer = pending.login(code="123456")
    assert answer.status_code == 400
    assert error_of(answer) == WRONG
    assert pending.client.get_cookie("idp_admin", path="/admin") is None


def test_the_right_password_with_a_wrong_code_is_refused(make_operator):
    operator = make_operator(signed_in=False)
    wrong = "000000" if operator.member.code() != "000000" else "111111"
    answer = operator.login(code=wrong)
    assert answer.status_code == 400 and error_of(answer) == WRONG
    [failure] = audit_events("counter:staff:login_failed")
    assert failure.data == {"staff": operator.id, "reason": "bad_credentials"}


def test_a_workbench_session_does_not_open_the_console_nor_the_reverse(make_staff,
                                                                       make_operator):
    at_the_counter = make_staff("operator")  # signed in to /counter only
    token = at_the_counter.client.get_cookie("idp_counter", path="/counter").value
    at_the_counter.client.set_cookie("idp_admin", token, path="/admin")
    assert at_the_counter.client.get("/admin/systems").status_code == 303
    operator = make_operator()
    console = operator.client.get_cookie("idp_admin", path="/admin").value
    operator.client.set_cookie("idp_counter", console, path="/counter")
    assert operator.client.get("/counter/").status_code == 303


def test_the_console_session_ends_after_ten_idle_minutes(app, make_operator):
    operator = make_operator()
    clock = app.extensions["idp.clock"]
    clock.advance(9 * 60)
    assert operator.get("/admin/systems").status_code == 200  # activity restarts the count
    clock.advance(9 * 60)
    assert operator.get("/admin/systems").status_code == 200
    clock.advance(10 * 60)
    answer = operator.get("/admin/systems")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/admin/login?expired=1"
    assert notice_of(operator.get(answer.headers["Location"])) == "控制台会话已结束，请重新登录。"


def test_signing_out_ends_the_session_durably(app, make_operator):
    operator = make_operator()
    cookie = operator.client.get_cookie("idp_admin", path="/admin").value
    answer = operator.post("/admin/logout")
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/login?out=1"
    assert operator.client.get_cookie("idp_admin", path="/admin") is None
    # The old cookie replayed: refused, even were the store to hold the session again.
    app.extensions["idp.clock"].advance(1)
    operator.client.set_cookie("idp_admin", cookie, path="/admin")
    assert operator.get("/admin/systems").status_code == 303
    assert len(audit_events("admin:console:signed_out")) == 1


def test_disabling_an_operator_ends_their_console_session(app, make_operator):
    operator = make_operator()
    staff = app.extensions["idp.counter"].staff
    staff.disable(staff.get(operator.id), actor=cli_operator())
    db.session.commit()
    assert operator.get("/admin/systems").status_code == 303


def test_outside_the_halls_network_the_console_refuses(app, make_operator):
    operator = make_operator(hall="QY-NET", ip_allow=("10.20.0.0/16",), signed_in=False)
    answer = operator.login(REMOTE_ADDR="10.20.1.5")
    assert answer.status_code == 303
    away = operator.get("/admin/systems", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert away.status_code == 403
    assert error_of(away) == "控制台只接受来自本大厅网络的连接。"
    assert operator.get("/admin/systems",
                        environ_base={"REMOTE_ADDR": "10.20.1.5"}).status_code == 303


def test_console_pages_are_never_cached(make_operator):
    operator = make_operator(signed_in=False)
    assert operator.get("/admin/login").headers["Cache-Control"] == "no-store"
    operator.login()
    for path in ("/admin/systems", "/admin/access", "/admin/imports", "/admin/systems/new"):
        answer = operator.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == "no-store", path


def test_console_forms_refuse_a_post_without_the_csrf_token(make_operator):
    operator = make_operator()
    answer = operator.client.post("/admin/logout")
    assert answer.status_code == 400
    assert operator.get("/admin/systems").status_code == 200  # still signed in


def test_the_console_speaks_english_after_the_language_switch(make_operator):
    operator = make_operator()
    operator.get("/lang/en?next=/admin/systems")
    page = text_of(operator.get("/admin/systems"))
    assert "Business systems" in page and "业务系统" not in page.split("<main", 1)[1]

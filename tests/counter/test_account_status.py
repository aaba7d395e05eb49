"""Disabling and re-enabling a citizen's account at the workbench (docs/counter.md): for
supervisors and operators only, on a record opened with a reason, with a reason of its own,
audited with the staff member and hall; re-enabling needs this staff member's in-person
verification of the person in this visit."""

from __future__ import annotations

from idp.accounts.models import User
from idp.audit.tags import Tag
from idp.extensions import db
from tests.conftest import Browser, sms_messages
from tests.counter.conftest import error_of, notice_of, text_of
from tests.integration.citizens import audit_events


def _disabled(user_id: str) -> bool:
    db.session.expire_all()
    return bool(db.session.get(User, user_id).disabled)


def _disable(member, user_id: str, reason: str = "本人来电称手机丢失，要求停用"):
    return member.post(f"/counter/person/{user_id}/disable", {"s-reason": reason})


def _enable(member, user_id: str, reason: str = "本人持身份证到窗口核实"):
    return member.post(f"/counter/person/{user_id}/enable", {"s-reason": reason})


def test_a_supervisor_disables_an_account_with_a_reason(app, make_staff, citizen_with_document,
                                                        sms_platform):
    supervisor, citizen = make_staff("supervisor"), citizen_with_document()
    browser = Browser(app.test_client())
    assert browser.login(citizen).status_code == 303
    supervisor.open_record(citizen.id)
    page = text_of(supervisor.client.get(f"/counter/person/{citizen.id}"))
    assert '<section id="account-status" class="no-print">' in page
    assert 'id="disable-account">停用账号</button>' in page
    done = _disable(supervisor, citizen.id, "冒用嫌疑，证件号 441802199003071234")
    assert (done.status_code, done.headers["Location"]) == (303, f"/counter/person/{citizen.id}")
    shown = supervisor.client.get(done.headers["Location"])
    assert notice_of(shown) == "账号已停用，该办事人的所有会话均已结束。"
    assert '<dd id="p-status">已停用</dd>' in text_of(shown)
    assert 'id="enable-account">恢复账号</button>' in text_of(shown)
    assert _disabled(citizen.id)
    assert browser.client.get("/account").status_code == 303  # the person's session ended
    [event] = audit_events(Tag.ACCOUNT_DISABLED.value, citizen.id)
    assert event.actor == f"staff:{supervisor.id}@{supervisor.hall}"
    assert event.data == {"reason": "冒用嫌疑，证件号 […]"}
    assert [m["template"] for m in sms_messages(sms_platform, citizen.phone)][-1] == \
        "account_disabled"


def test_re_enabling_needs_this_staff_members_verification_in_this_visit(
        app, make_staff, citizen_with_document):
    supervisor, citizen = make_staff("supervisor"), citizen_with_document()
    supervisor.open_record(citizen.id)
    assert _disable(supervisor, citizen.id).status_code == 303
    refused = _enable(supervisor, citizen.id)
    assert refused.status_code == 400
    assert error_of(refused) == ("请先在本页对办事人进行现场核验：恢复账号须由您本人在30分钟内"
                                 "对其现场核验通过。")
    assert _disabled(citizen.id)
    assert supervisor.verify(citizen.id, citizen.id_number).status_code == 200
    done = _enable(supervisor, citizen.id)
    assert done.status_code == 303
    assert notice_of(supervisor.client.get(done.headers["Location"])) == "账号已恢复使用。"
    assert not _disabled(citizen.id)
    [event] = audit_events(Tag.ACCOUNT_ENABLED.value, citizen.id)
    assert event.actor == f"staff:{supervisor.id}@{supervisor.hall}"
    assert event.data == {"reason": "本人持身份证到窗口核实"}
    app.extensions["idp.clock"].advance(1)
    assert Browser(app.test_client()).login(citizen).status_code == 303


def test_a_reason_is_required(app, make_staff, citizen_with_document):
    supervisor, citizen = make_staff("supervisor"), citizen_with_document()
    supervisor.open_record(citizen.id)
    refused = _disable(supervisor, citizen.id, "")
    assert refused.status_code == 400
    assert '<p class="field-error" id="s-reason-error">请填写理由。</p>' in text_of(refused)
    assert not _disabled(citizen.id)
    assert audit_events(Tag.ACCOUNT_DISABLED.value) == []


def test_clerks_and_hall_administrators_cannot_disable(app, make_staff,
                                                       citizen_with_document):
    clerk, admin, citizen = make_staff("clerk"), make_staff("hall_admin"), \
        citizen_with_document()
    clerk.open_record(citizen.id)
    page = text_of(clerk.client.get(f"/counter/person/{citizen.id}"))
    assert 'id="account-status"' not in page
    for member in (clerk, admin):
        refused = _disable(member, citizen.id)
        assert refused.status_code == 403
        assert "您的角色无权访问此页面。" in text_of(refused)
    assert not _disabled(citizen.id)


def test_the_record_must_be_opened_with_a_reason_first(app, make_staff, citizen_with_document):
    supervisor, citizen = make_staff("supervisor"), citizen_with_document()
    answer = _disable(supervisor, citizen.id)
    assert answer.status_code == 200
    assert 'name="purpose"' in text_of(answer)  # the page asking why the record is opened
    assert not _disabled(citizen.id)


def test_disabling_twice_is_explained(app, make_staff, citizen_with_document):
    supervisor, other, citizen = make_staff("supervisor"), make_staff("supervisor"), \
        citizen_with_document()
    supervisor.open_record(citizen.id)
    other.open_record(citizen.id)
    assert _disable(supervisor, citizen.id).status_code == 303
    late = _disable(other, citizen.id)  # the page was open before the first one acted
    assert late.status_code == 400
    assert error_of(late) == "该账号已处于停用状态。"
    assert len(audit_events(Tag.ACCOUNT_DISABLED.value)) == 1


def test_the_record_shows_a_pending_deletion(app, make_staff, citizen_with_document):
    supervisor, citizen = make_staff("supervisor"), citizen_with_document()
    app.extensions["idp.lifecycle"].request_deletion(db.session.get(User, citizen.id), None)
    supervisor.open_record(citizen.id)
    page = text_of(supervisor.client.get(f"/counter/person/{citizen.id}"))
    assert '<dt>注销</dt><dd id="p-deletion">本人已申请注销；除非本人登录取消，账号将于 ' in page


def test_the_section_speaks_english(app, make_staff, citizen_with_document):
    supervisor, citizen = make_staff("supervisor"), citizen_with_document()
    supervisor.client.set_cookie("idp_lang", "en")
    supervisor.open_record(citizen.id)
    page = text_of(supervisor.client.get(f"/counter/person/{citizen.id}"))
    assert "<h2>Account status</h2>" in page
    assert 'id="disable-account">Disable the account</button>' in page

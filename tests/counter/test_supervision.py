"""Supervisors: the daily report per clerk and hall, and the open-case queue. Hall
administrators: the staff of their own hall. Clerks see neither."""

from __future__ import annotations

import re
from datetime import date, timedelta

from idp.extensions import db
from tests.conftest import remember_secret
from tests.counter.conftest import HALL, OTHER_HALL, error_of, id_number, notice_of, text_of
from tests.integration.citizens import audit_events


def _counts(page: str, staff_id: str) -> dict[str, int]:
    row = re.search(rf'<tr class="report-row" data-staff="{staff_id}">(.*?)</tr>', page, re.S)
    assert row, f"no report row for {staff_id}"
    return {c: int(v) for c, v in re.findall(r'data-column="(\w+)">(\d+)<', row.group(1))}


def test_a_clerk_cannot_see_the_report_or_the_case_queue(make_staff):
    clerk = make_staff("clerk")
    for path in ("/counter/report", "/counter/cases", "/counter/staff"):
        answer = clerk.client.get(path)
        assert answer.status_code == 403, path
        assert error_of(answer) == "您的角色无权访问此页面。"


def test_a_hall_administrator_does_no_desk_work(make_staff, make_user):
    admin, citizen = make_staff("hall_admin"), make_user()
    assert admin.client.get("/counter/").status_code == 403
    assert admin.client.get(f"/counter/person/{citizen.id}").status_code == 403


def test_the_daily_report_counts_each_clerks_work(app, make_staff, make_user,
                                                  citizen_with_document):
    clerk, supervisor = make_staff("clerk"), make_staff("supervisor")
    elsewhere = make_staff("clerk", hall=OTHER_HALL)
    first, second, other = make_user(), make_user(), make_user()
    clerk.open_record(first.id)
    clerk.open_record(second.id)
    assert clerk.verify(first.id, id_number()).status_code == 200
    assert clerk.verify(second.id, id_number(), photo=False).status_code == 400
    registered = clerk.post("/counter/register", {
        "document_type": "id-number", "number": id_number(), "name": "钱七",
        "valid_until": "2036-01-01", "photo_compared": "y"})
    assert registered.status_code == 303, error_of(registered)
    elsewhere.open_record(other.id)

    page = supervisor.client.get("/counter/report")
    assert page.status_code == 200
    assert _counts(text_of(page), clerk.id) == {
        "viewed": 2, "verified": 2, "refused": 1, "registered": 1, "recovered": 0}
    assert f'data-staff="{elsewhere.id}"' not in text_of(page)  # another hall's clerk
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    earlier = supervisor.client.get(f"/counter/report?day={yesterday}")
    assert 'id="report-empty"' in text_of(earlier)


def test_an_operator_sees_every_hall_in_the_report(make_staff, make_user):
    operator = make_staff("operator")
    here, there = make_staff("clerk"), make_staff("clerk", hall=OTHER_HALL)
    here.open_record(make_user().id)
    there.open_record(make_user().id)
    page = text_of(operator.client.get("/counter/report"))
    assert _counts(page, here.id)["viewed"] == 1 and _counts(page, there.id)["viewed"] == 1
    only = text_of(operator.client.get(f"/counter/report?hall={OTHER_HALL}"))
    assert f'data-staff="{here.id}"' not in only and f'data-staff="{there.id}"' in only


def test_a_supervisor_decides_an_open_case_with_a_note(app, make_staff, make_user,
                                                      citizen_with_document):
    clerk, supervisor = make_staff("clerk"), make_staff("supervisor")
    holder, claimant = citizen_with_document(), make_user()
    clerk.open_record(claimant.id)
    clerk.verify(claimant.id, holder.id_number)
    [case] = app.extensions["idp.identity"].cases("open")
    queue = text_of(supervisor.client.get("/counter/cases"))
    assert f'id="case-{case.id}"' in queue and holder.username in queue
    assert claimant.username in queue and holder.id_number not in queue
    no_note = supervisor.post(f"/counter/cases/{case.id}", {"decision": "transfer", "note": ""})
    assert no_note.status_code == 400
    assert app.extensions["idp.identity"].cases("open") != []
    decided = supervisor.post(f"/counter/cases/{case.id}", {
        "decision": "transfer", "note": "申请人持身份证原件到场，原账户系冒用"})
    assert decided.status_code == 303
    assert notice_of(supervisor.client.get(decided.headers["Location"])) == \
        f"案件 {case.id} 已处理。"
    accounts = app.extensions["idp.accounts"]
    db.session.expire_all()
    assert accounts.get(claimant.id).trust_level == 5
    assert accounts.get(holder.id).trust_level == 2
    [resolved] = audit_events("identity:case:resolved")
    assert resolved.actor == f"staff:{supervisor.id}@{HALL}"


def test_a_supervisor_does_not_see_cases_opened_at_another_hall(app, make_staff, make_user,
                                                              citizen_with_document):
    there = make_staff("clerk", hall=OTHER_HALL)
    supervisor = make_staff("supervisor")
    holder, claimant = citizen_with_document(), make_user()
    there.open_record(claimant.id)
    there.verify(claimant.id, holder.id_number)
    [case] = app.extensions["idp.identity"].cases("open")
    assert 'id="no-cases"' in text_of(supervisor.client.get("/counter/cases"))
    refused = supervisor.post(f"/counter/cases/{case.id}", {"decision": "keep", "note": "x"})
    assert refused.status_code == 403


def test_a_hall_administrator_creates_and_disables_clerks_of_their_hall(app, make_staff):
    admin = make_staff("hall_admin")
    page = text_of(admin.client.get("/counter/staff"))
    assert 'value="operator"' not in page and 'value="hall_admin"' not in page
    created = admin.post("/counter/staff", {"username": "qy.clerk9", "display_name": "孙八",
                                            "role": "clerk", "hall": HALL})
    assert created.status_code == 200
    text = text_of(created)
    password = re.search(r'<code id="one-time-password">([^<]+)</code>', text).group(1)
    link = re.search(r'<code id="enrolment-link">([^<]+)</code>', text).group(1)
    remember_secret(password, link.rsplit("/", 1)[1])
    assert "/counter/enrol/" in link
    member = app.extensions["idp.counter"].staff.by_username("qy.clerk9")
    assert (member.role, member.hall_code, member.enrolled) == ("clerk", HALL, False)
    operator_role = admin.post("/counter/staff", {"username": "qy.op", "role": "operator",
                                                  "hall": HALL})
    assert operator_role.status_code == 400
    assert app.extensions["idp.counter"].staff.by_username("qy.op") is None
    disabled = admin.post(f"/counter/staff/{member.id}/disable", {})
    assert disabled.status_code == 303
    db.session.expire_all()
    assert app.extensions["idp.counter"].staff.by_username("qy.clerk9").disabled


def test_a_hall_administrator_cannot_manage_another_halls_staff(make_staff):
    admin, there = make_staff("hall_admin"), make_staff("clerk", hall=OTHER_HALL)
    assert admin.post(f"/counter/staff/{there.id}/disable", {}).status_code == 403
    assert there.client.get("/counter/").status_code == 200


def test_a_new_enrolment_signs_the_staff_member_out_until_they_enrol_again(app, make_staff):
    admin, clerk = make_staff("hall_admin"), make_staff("clerk")
    issued = admin.post(f"/counter/staff/{clerk.id}/reissue", {})
    assert issued.status_code == 200
    page = text_of(issued)
    remember_secret(re.search(r'<code id="one-time-password">([^<]+)</code>', page).group(1),
                    re.search(r'/counter/enrol/([^<]+)</code>', page).group(1))
    assert clerk.client.get("/counter/").status_code == 303
    assert clerk.login(code=clerk.code(1)).status_code == 400  # the old factors are gone
    assert len(audit_events("counter:staff:enrolment_issued")) == 1

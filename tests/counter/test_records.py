"""Finding a person and opening their record: a reason every time, in the audit log with the
staff member and hall (PIPL); masked data only, except the explicit, audited reveal; never
a clerk's own record."""

from __future__ import annotations

import re

from tests.conftest import remember_secret
from tests.counter.conftest import HALL, error_of, id_number, text_of
from tests.integration.citizens import audit_events


def test_opening_a_record_without_a_reason_is_refused(make_staff, make_user):
    clerk, citizen = make_staff("clerk"), make_user()
    asked = clerk.client.get(f"/counter/person/{citizen.id}")
    assert asked.status_code == 200
    assert citizen.username not in text_of(asked)  # nothing of the person before a reason
    assert 'name="purpose"' in text_of(asked)
    no_reason = clerk.post(f"/counter/person/{citizen.id}/open", {"purpose": ""})
    assert no_reason.status_code == 400
    other_without_words = clerk.post(f"/counter/person/{citizen.id}/open",
                                     {"purpose": "other", "detail": "  "})
    assert other_without_words.status_code == 400
    assert "请说明事由。" in text_of(other_without_words)
    assert audit_events("counter:record:viewed") == []
    assert citizen.username not in text_of(clerk.client.get(f"/counter/person/{citizen.id}"))


def test_opening_a_record_with_a_reason_is_audited_with_staff_hall_and_reason(make_staff,
                                                                             make_user):
    clerk, citizen = make_staff("clerk"), make_user()
    opened = clerk.open_record(citizen.id, purpose="complaint", detail="群众来电投诉")
    assert opened.status_code == 303
    page = clerk.client.get(f"/counter/person/{citizen.id}")
    assert page.status_code == 200 and citizen.username in text_of(page)
    [viewed] = audit_events("counter:record:viewed")
    assert viewed.actor == f"staff:{clerk.id}@{HALL}"
    assert viewed.user_id == citizen.id
    assert viewed.data == {"purpose": "complaint", "reason": "群众来电投诉"}


def test_a_search_by_id_number_logs_the_search_and_the_opening(make_staff,
                                                              citizen_with_document):
    clerk, citizen = make_staff("clerk"), citizen_with_document()
    found = clerk.post("/counter/", {"kind": "id-number", "query": citizen.id_number.lower(),
                                     "purpose": "verification", "detail": ""})
    assert found.status_code == 303
    assert found.headers["Location"].endswith(f"/counter/person/{citizen.id}")
    [searched] = audit_events("counter:record:searched")
    assert searched.data == {"by": "id-number", "found": True, "purpose": "verification",
                             "reason": ""}
    assert [e.user_id for e in audit_events("counter:record:viewed")] == [citizen.id]


def test_a_search_by_mobile_number_finds_the_account(make_staff, make_user):
    clerk, citizen = make_staff("clerk"), make_user()
    found = clerk.post("/counter/", {"kind": "phone", "query": citizen.phone,
                                     "purpose": "service", "detail": ""})
    assert found.headers["Location"].endswith(f"/counter/person/{citizen.id}")


def test_a_search_that_finds_nobody_offers_assisted_registration(make_staff):
    clerk, number = make_staff("clerk"), id_number()
    answer = clerk.post("/counter/", {"kind": "id-number", "query": number,
                                      "purpose": "service", "detail": ""})
    assert answer.status_code == 400
    assert error_of(answer) == "没有账户使用该证件或手机号码。"
    assert 'id="register-link"' in text_of(answer)
    assert number not in text_of(answer)  # the typed number is not sent back
    [searched] = audit_events("counter:record:searched")
    assert searched.data["found"] is False and searched.user_id is None


def test_a_number_typed_into_the_reason_is_not_kept(make_staff, make_user):
    clerk, citizen, number = make_staff("clerk"), make_user(), id_number()
    clerk.open_record(citizen.id, purpose="other", detail=f"核对 {number} 的材料")
    [viewed] = audit_events("counter:record:viewed")
    assert viewed.data["reason"] == "核对 […] 的材料"


def test_the_record_shows_the_masked_profile_and_who_verified_where(make_staff,
                                                                   citizen_with_document):
    clerk, citizen = make_staff("clerk"), citizen_with_document()
    clerk.open_record(citizen.id)
    page = text_of(clerk.client.get(f"/counter/person/{citizen.id}"))
    number = citizen.id_number
    assert number not in page
    assert f"{number[:4]}{'*' * 10}{number[-4:]}" in page
    assert f"{citizen.phone[:3]}****{citizen.phone[-4:]}" in page and citizen.phone not in page
    assert re.search(r'<strong id="trust-level">5</strong>', page)
    assert "窗口现场核验" in page and "SW-ZWFW" in page  # how, and at which hall


def test_the_full_number_is_shown_only_on_an_explicit_reveal_with_a_reason(make_staff,
                                                                          citizen_with_document):
    clerk, citizen = make_staff("clerk"), citizen_with_document()
    clerk.open_record(citizen.id)
    refused = clerk.post(f"/counter/person/{citizen.id}/reveal", {"x-reason": ""})
    assert refused.status_code == 400 and citizen.id_number not in text_of(refused)
    shown = clerk.post(f"/counter/person/{citizen.id}/reveal", {"x-reason": "打印不动产证明"})
    assert shown.status_code == 200
    assert re.search(rf'<span class="revealed" id="revealed-number">{citizen.id_number}</span>',
                     text_of(shown))
    [revealed] = audit_events("identity:document:revealed")
    assert revealed.actor == f"staff:{clerk.id}@{HALL}"
    assert revealed.data == {"reason": "打印不动产证明"}
    assert citizen.id_number not in text_of(clerk.client.get(f"/counter/person/{citizen.id}"))


def test_a_clerk_cannot_open_their_own_record(make_staff, citizen_with_document):
    citizen = citizen_with_document()
    clerk = make_staff("clerk", id_number=citizen.id_number)
    by_search = clerk.post("/counter/", {"kind": "id-number", "query": citizen.id_number,
                                         "purpose": "service", "detail": ""})
    assert by_search.status_code == 403
    assert error_of(by_search) == "不能为本人核验或办理本人账户业务，请由其他同事办理。"
    assert clerk.client.get(f"/counter/person/{citizen.id}").status_code == 403
    assert clerk.open_record(citizen.id).status_code == 403
    assert audit_events("counter:record:viewed") == []


def test_a_clerk_cannot_verify_themselves_onto_an_unverified_account(make_staff, make_user):
    number = id_number()
    clerk = make_staff("clerk", id_number=number)  # the clerk's own number, no account yet
    own_new_account = make_user()
    clerk.open_record(own_new_account.id)
    answer = clerk.verify(own_new_account.id, number)
    assert answer.status_code == 400
    assert error_of(answer) == "不能为本人核验或办理本人账户业务，请由其他同事办理。"
    [refusal] = audit_events("counter:verification:refused")
    assert refusal.data["result"] == "own_record"
    assert audit_events("identity:verification:succeeded") == []


def test_no_counter_page_shows_a_full_id_number_except_the_reveal(app, make_staff, make_user,
                                                                  citizen_with_document):
    clerk, supervisor = make_staff("clerk"), make_staff("supervisor")
    holder, claimant, newcomer = citizen_with_document(), make_user(), id_number()
    pages = [clerk.post("/counter/", {"kind": "id-number", "query": holder.id_number,
                                      "purpose": "service", "detail": ""})]
    pages.append(clerk.client.get(f"/counter/person/{holder.id}"))
    pages.append(clerk.verify(holder.id, holder.id_number))  # verified again, in person
    clerk.open_record(claimant.id)
    pages.append(clerk.verify(claimant.id, holder.id_number))  # opens a case
    pages.append(clerk.post("/counter/register", {
        "document_type": "id-number", "number": holder.id_number, "name": "张三",
        "valid_until": "2036-01-01", "photo_compared": "y"}))  # already registered
    registered = clerk.post("/counter/register", {
        "document_type": "id-number", "number": newcomer, "name": "周九",
        "valid_until": "2036-01-01", "photo_compared": "y"})
    slip = clerk.client.get(registered.headers["Location"])
    remember_secret(*re.findall(r'id="activation-code">([A-Z0-9-]+)<', text_of(slip)))
    pages += [slip, supervisor.client.get("/counter/cases"),
              supervisor.client.get("/counter/report")]
    for page in pages:
        for number in (holder.id_number, newcomer):
            assert number not in text_of(page), page.request.path


def test_an_expired_form_on_a_post_only_action_offers_the_page_it_came_from(make_staff,
                                                                            citizen_with_document):
    """A stale CSRF token on a POST-only action: nothing changes, and "try again" leads back
    to the page the form was on (not to a GET the action does not answer)."""
    clerk, citizen = make_staff("clerk"), citizen_with_document()
    clerk.open_record(citizen.id)
    record = f"/counter/person/{citizen.id}"
    answer = clerk.client.post(f"{record}/reveal", data={"csrf_token": "stale",
                                                         "x-reason": "核对"},
                               headers={"Referer": "http://localhost" + record})
    assert answer.status_code == 400
    assert f'href="{record}"' in text_of(answer)
    foreign = clerk.client.post(f"{record}/reveal", data={"csrf_token": "stale"},
                                headers={"Referer": "https://evil.example/counter/"})
    assert 'href="/"' in text_of(foreign)

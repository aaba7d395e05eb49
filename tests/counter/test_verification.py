"""In-person verification (身份核验): level 5 with staff, hall and time; every refusal
explained, audited, and granting nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from idp.extensions import db
from idp.identity.models import Verification
from tests.counter.conftest import HALL, error_of, id_number, text_of
from tests.integration.citizens import audit_events


def _records(user_id: str) -> list[Verification]:
    db.session.expire_all()
    return list(db.session.execute(select(Verification).where(
        Verification.user_id == user_id)).scalars())


def _level(app, user_id: str) -> int:
    db.session.expire_all()
    return app.extensions["idp.accounts"].get(user_id).trust_level


def test_a_verification_in_person_records_level_five_with_staff_hall_and_time(app, make_staff,
                                                                             make_user):
    clerk, citizen, number = make_staff("clerk"), make_user(name="李四"), id_number()
    clerk.open_record(citizen.id)
    done = clerk.verify(citizen.id, number, name="李四")
    assert done.status_code == 200, error_of(done)
    assert "现场核验通过：可信等级 5" in text_of(done)
    assert number not in text_of(done)
    assert _level(app, citizen.id) == 5
    [record] = _records(citizen.id)
    assert (record.method, record.level, record.result) == ("counter", 5, "verified")
    assert (record.staff_id, record.hall_code) == (clerk.id, HALL)
    assert record.actor == f"staff:{clerk.id}@{HALL}"
    assert record.evidence["photo_compared"] is True and record.evidence["source"] == "typed"


def test_an_expired_document_is_explained_and_grants_nothing(app, make_staff, make_user):
    clerk, citizen = make_staff("clerk"), make_user()
    clerk.open_record(citizen.id)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    answer = clerk.verify(citizen.id, id_number(), valid_until=yesterday)
    assert answer.status_code == 400
    assert error_of(answer) == "证件已过期或未填写有效期。只能受理在有效期内的证件。"
    assert _records(citizen.id) == [] and _level(app, citizen.id) == 2
    [refusal] = audit_events("counter:verification:refused")
    assert refusal.data["result"] == "expired_document"
    assert refusal.actor == f"staff:{clerk.id}@{HALL}"


def test_a_photo_not_compared_is_explained_and_grants_nothing(app, make_staff, make_user):
    clerk, citizen = make_staff("clerk"), make_user()
    clerk.open_record(citizen.id)
    answer = clerk.verify(citizen.id, id_number(), photo=False)
    assert answer.status_code == 400
    assert error_of(answer) == \
        "请核对证件照片与办事人本人是否相符，然后勾选确认。本次未作任何记录。"
    assert _records(citizen.id) == [] and _level(app, citizen.id) == 2


def test_an_invalid_number_is_explained_with_the_reason(app, make_staff, make_user):
    clerk, citizen = make_staff("clerk"), make_user()
    clerk.open_record(citizen.id)
    number = id_number()
    wrong_check = number[:-1] + ("0" if number[-1] != "0" else "1")
    answer = clerk.verify(citizen.id, wrong_check)
    assert answer.status_code == 400
    assert error_of(answer) == "证件号码无效。校验码不符，可能有字符输入错误。"
    assert wrong_check not in text_of(answer)
    assert _records(citizen.id) == [] and _level(app, citizen.id) == 2


def test_an_undated_document_can_be_long_term(app, make_staff, make_user):
    clerk, citizen = make_staff("clerk"), make_user()
    clerk.open_record(citizen.id)
    done = clerk.verify(citizen.id, id_number(), valid_until="", **{"v-long_term": "y"})
    assert done.status_code == 200, error_of(done)
    [record] = _records(citizen.id)
    assert record.evidence["valid_until"] == "9999-12-31"


def test_a_card_readers_json_is_accepted_instead_of_typing(app, make_staff, make_user):
    clerk, citizen, number = make_staff("clerk"), make_user(name="王五"), id_number()
    clerk.open_record(citizen.id)
    card = {"type": "id-number", "idNumber": number, "name": "王五", "validEnd": "20301231",
            "address": "广东省清远市清城区某路1号", "photo": "iVBORw0KGgo="}
    done = clerk.verify(citizen.id, "", name="", valid_until="",
                        **{"v-card_json": json.dumps(card, ensure_ascii=False)})
    assert done.status_code == 200, error_of(done)
    [record] = _records(citizen.id)
    assert record.evidence["source"] == "card_reader"
    assert "广东省清远市" not in json.dumps(record.evidence, ensure_ascii=False)


def test_a_typed_number_that_differs_from_the_card_reader_is_refused(app, make_staff,
                                                                    make_user):
    clerk, citizen = make_staff("clerk"), make_user()
    clerk.open_record(citizen.id)
    card = {"number": id_number(), "name": "张三", "valid_until": "2031-01-01"}
    answer = clerk.verify(citizen.id, id_number(), **{"v-card_json": json.dumps(card)})
    assert answer.status_code == 400
    assert error_of(answer) == "手工输入的号码与读卡器读取的不一致。"
    assert _records(citizen.id) == []


def test_unreadable_card_reader_data_is_explained(make_staff, make_user):
    clerk, citizen = make_staff("clerk"), make_user()
    clerk.open_record(citizen.id)
    answer = clerk.verify(citizen.id, "", **{"v-card_json": "{not json"})
    assert error_of(answer) == "读卡器数据不是JSON对象。"


def test_a_document_held_by_another_account_opens_a_case_and_links_nothing(
        app, make_staff, make_user, citizen_with_document):
    clerk, holder, claimant = make_staff("clerk"), citizen_with_document(), make_user()
    clerk.open_record(claimant.id)
    answer = clerk.verify(claimant.id, holder.id_number)
    assert answer.status_code == 400
    [case] = app.extensions["idp.identity"].cases("open")
    assert error_of(answer) == (f"该证件已属于另一个账户，已立案（案件编号 {case.id}），"
                                "由主管决定证件归属。两个账户均未作任何更改。")
    assert _level(app, claimant.id) == 2 and _level(app, holder.id) == 5

"""The JSON API's import: a list of records keyed by the CSV columns, checked exactly like a
CSV file (all or nothing, idempotent), each rejected record named by its position."""

from __future__ import annotations

from idp.access.models import Department, ServiceItem
from idp.extensions import db
from tests.access.conftest import DEPARTMENTS, OPERATOR, count, import_csv


def _problems(report):
    return [(r.row, r.key, [code for code, _ in r.problems]) for r in report.rejected]


def test_records_import_like_csv_rows_and_again_change_nothing(access):
    records = [{"code": "SW-HF", "name": "海丰县政务服务数据管理局", "level": "县级",
                "division_code": 441521},
               {"code": "SW-RS", "name": "汕尾市人力资源和社会保障局", "level": "city",
                "division_code": "441500"}]
    report = access.import_records("departments", records, actor=OPERATOR, source="api")
    assert (report.ok, report.encoding, report.created, report.written) == \
        (True, None, 2, True)
    again = access.import_records("departments", records, actor=OPERATOR)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert db.session.get(Department, "SW-HF").division_code == "441521"


def test_each_bad_record_is_named_by_position_and_nothing_is_written(access):
    assert import_csv(access, "departments", DEPARTMENTS).ok
    records = [
        {"code": "I1", "name": "好事项", "type": "licensing", "department_code": "GDGA",
         "level": "province", "division_code": "440000"},
        {"code": "I2", "name": "缺字段", "type": "licensing"},
        {"code": "I3", "name": "多字段", "type": "licensing", "department_code": "GDGA",
         "level": "province", "division_code": "440000", "owner": "x"},
        {"code": "I4", "name": ["不是字符串"], "type": "licensing", "department_code": "GDGA",
         "level": "province", "division_code": "440000"},
        "not an object",
        {"code": "I1", "name": "重复", "type": "other", "department_code": "GDGA",
         "level": "province", "division_code": "440000"},
    ]
    report = access.import_records("items", records, actor=OPERATOR)
    assert _problems(report) == [(2, "I2", ["missing_field"]), (3, "I3", ["unknown_field"]),
                                 (4, "I4", ["bad_value"]), (5, None, ["not_an_object"]),
                                 (6, "I1", ["duplicate_code"])]
    assert report.rejected[0].reasons == [
        "missing field(s) department_code, level, division_code"]
    assert count(ServiceItem) == 0


def test_systems_take_item_and_client_lists(access, catalogue, make_client):
    client = make_client().client_id
    report = access.import_records("systems", [{
        "code": "N1", "name": "新系统", "department_code": "GDGA", "contact": None,
        "status": "testing", "item_codes": ["GA-L4", "GA-S4"], "client_ids": [client]}],
        actor=OPERATOR)
    assert (report.ok, report.created) == (True, 1)
    assert access.systems.item_codes("N1") == ["GA-L4", "GA-S4"]
    assert access.systems.system_of_client(client) == "N1"


def test_a_body_that_is_not_a_list_is_refused(access):
    report = access.import_records("items", {"code": "x"}, actor=OPERATOR)  # type: ignore
    assert _problems(report) == [(0, None, ["not_a_list"])]

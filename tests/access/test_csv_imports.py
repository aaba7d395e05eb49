"""Acceptance 4 and the CSV formats of docs/access-rates.md: good files import, re-importing
changes nothing, every bad row is reported by row and reason with nothing written (all or
nothing), GBK exports are read, a file in no known encoding is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from idp.access.models import BusinessSystem, Department, ServiceItem, SystemClient, system_item
from idp.extensions import db
from tests.access.conftest import DEPARTMENTS, ITEMS, OPERATOR, count, import_csv
from tests.integration.citizens import audit_events

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
TABLES = (Department, ServiceItem, BusinessSystem, SystemClient, system_item)


def _dump() -> list[list[tuple]]:
    db.session.expire_all()
    dumps = []
    for model in TABLES:
        table = getattr(model, "__table__", model)
        dumps.append(sorted(tuple(row) for row in db.session.execute(select(table))))
    return dumps


def _problems(report) -> list[tuple[int, str | None, list[str]]]:
    return [(r.row, r.key, [code for code, _ in r.problems]) for r in report.rejected]


@pytest.fixture
def catalogue_base(access):
    assert import_csv(access, "departments", DEPARTMENTS).ok
    assert import_csv(access, "items", ITEMS).ok


def test_a_good_file_imports_and_reports_what_it_created(access):
    report = import_csv(access, "departments", DEPARTMENTS)
    assert (report.ok, report.written, report.encoding, report.rows, report.created,
            report.updated, report.unchanged) == (True, True, "utf-8", 7, 7, 0, 0)
    department = db.session.get(Department, "QCZW")
    assert (department.name, department.level, department.division_code) == \
        ("清远市清城区政务服务数据管理局", "county", "441802")
    item_report = import_csv(access, "items", ITEMS)
    assert (item_report.created, item_report.rows) == (23, 23)
    item = db.session.get(ServiceItem, "GA-L1")
    assert (item.item_type, item.level) == ("licensing", "province")  # 行政许可 → licensing
    assert db.session.get(ServiceItem, "SJ-C1").level == "city"  # 市级 → city
    [event, _] = audit_events("access:catalogue:imported")
    assert event.data == {"kind": "departments", "source": "departments.csv",
                          "encoding": "utf-8", "rows": 7, "created": 7, "updated": 0,
                          "unchanged": 0, "skipped": 0}


def test_importing_the_same_files_again_changes_nothing(access, catalogue):
    before = _dump()
    for kind, text in (("departments", DEPARTMENTS), ("items", ITEMS)):
        report = import_csv(access, kind, text)
        assert (report.created, report.updated, report.unchanged) == (0, 0, report.rows)
    systems = access.import_csv("systems", _systems_file(catalogue), actor=OPERATOR)
    assert (systems.created, systems.updated, systems.unchanged) == (0, 0, 8)
    db.session.commit()
    assert _dump() == before


def _systems_file(catalogue) -> bytes:
    from tests.access.conftest import SYSTEMS

    return SYSTEMS.format(**{k: c.client_id for k, c in catalogue.clients.items()}).encode()


def test_a_changed_row_is_updated_and_the_others_left_alone(access, catalogue_base):
    changed = ITEMS.replace("GA-L2,出入境通行证签发,licensing",
                            "GA-L2,往来港澳通行证签发,licensing")
    report = import_csv(access, "items", changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 22)
    assert db.session.get(ServiceItem, "GA-L2").name == "往来港澳通行证签发"


BAD_DEPARTMENTS = [
    ("X1,某部门,province,44000\n", [(2, "X1", ["bad_division"])]),
    ("X1,某部门,province,441899\n", [(2, "X1", ["bad_division"])]),
    ("X1,某部门,city,350100\n", [(2, "X1", ["bad_division"])]),
    ("X1,某部门,county,441800\n", [(2, "X1", ["level_mismatch"])]),
    ("X1,某部门,乡镇级,441802\n", [(2, "X1", ["bad_level"])]),
    ("X1,,county,441802\n", [(2, "X1", ["empty_value"])]),
    ("X 1,某部门,county,441802\n", [(2, "X 1", ["bad_code"])]),
    ("X1,某部门,county\n", [(2, "X1", ["wrong_field_count"])]),
    ("X1,甲,county,441802\nX2,乙,county,441802\nX1,丙,county,441802\n",
     [(4, "X1", ["duplicate_code"])]),
]


@pytest.mark.parametrize(("rows", "rejected"), BAD_DEPARTMENTS)
def test_each_bad_department_row_is_reported_by_row_and_reason_and_nothing_is_written(
        access, rows, rejected):
    good = "G1,清远市公安局,city,441800\n"
    report = import_csv(access, "departments", "code,name,level,division_code\n" + good + rows)
    shifted = [(row + 1, key, codes) for row, key, codes in rejected]  # after the good row
    assert _problems(report) == shifted
    assert report.written is False and count(Department) == 0
    assert audit_events("access:catalogue:imported") == []


BAD_ITEMS = [
    ("I1,某事项,licensing,NOPE,province,440000", ["unknown_department"]),
    ("I1,某事项,审批,GDGA,province,440000", ["bad_type"]),
    ("I1,某事项,licensing,GDGA,province,", ["bad_division"]),
    ("I1,某事项,licensing,QCZW,county,441881", ["outside_department"]),  # another county
    ("I1,某事项,licensing,QYGA,county,441521", ["outside_department"]),  # another city
    ("GA-L1,重复事项,licensing,GDGA,province,440000", ["duplicate_code"]),
]


@pytest.mark.parametrize(("row", "codes"), BAD_ITEMS)
def test_each_bad_item_row_is_reported_by_row_and_reason_and_nothing_is_written(
        access, row, codes):
    assert import_csv(access, "departments", DEPARTMENTS).ok
    before = _dump()
    report = import_csv(access, "items", ITEMS + row + "\n")
    assert _problems(report) == [(25, row.split(",")[0], codes)]
    assert report.rejected[0].reasons and all(report.rejected[0].reasons)  # for people too
    assert report.written is False and _dump() == before


def test_every_rejected_row_of_a_file_is_reported_at_once(access, catalogue_base):
    bad = ("code,name,type,department_code,level,division_code\n"
           "N1,新事项,licensing,GDGA,province,440000\n"
           "N2,新事项,permit,GDGA,province,440000\n"
           "\n"
           "N3,新事项,licensing,NOPE,county,441899\n")
    report = import_csv(access, "items", bad)
    assert _problems(report) == [(3, "N2", ["bad_type"]),
                                 (5, "N3", ["unknown_department", "bad_division"])]
    assert report.rejected[1].reasons[0] == "there is no department NOPE (import departments " \
        "first)"
    assert db.session.get(ServiceItem, "N1") is None  # all or nothing


def test_bad_system_rows_name_unknown_items_clients_and_statuses(access, catalogue,
                                                                  make_client):
    free = make_client().client_id
    taken = catalogue.clients["a"].client_id
    before = _dump()
    text = ("code,name,department_code,contact,status,item_codes,client_ids\n"
            f"N1,新系统一,GDGA,,connected,GA-L1;NO-SUCH,{free}\n"
            f"N2,新系统二,GDGA,,live,GA-L1,\n"
            f"N3,新系统三,GDGA,,connected,GA-L1,{taken}\n"
            f"N4,新系统四,GDGA,,connected,GA-L1,no-such-client\n"
            f"N5,新系统五,GDGA,,已接入,GA-L1,{free}\n")
    report = import_csv(access, "systems", text)
    assert _problems(report) == [(2, "N1", ["unknown_item"]), (3, "N2", ["bad_status"]),
                                 (4, "N3", ["client_taken"]), (5, "N4", ["unknown_client"]),
                                 (6, "N5", ["client_taken"])]
    assert "belongs to system S-A" in report.rejected[2].reasons[0]
    assert _dump() == before


@pytest.mark.parametrize(("header", "code"), [
    ("code,name,level", "wrong_header"),  # a column missing
    ("code,name,type,department_code,level,division_code", "wrong_header"),  # an items file
    ("code,name,level,division_code,division_code", "wrong_header"),
])
def test_a_wrong_header_refuses_the_whole_file(access, header, code):
    report = import_csv(access, "departments", header + "\nX1,某部门,county,441802\n")
    assert _problems(report) == [(1, None, [code])]
    assert report.encoding == "utf-8"
    assert report.written is False and count(Department) == 0


def test_an_empty_file_is_refused(access):
    report = access.import_csv("departments", b"\r\n\r\n", actor=OPERATOR)
    assert _problems(report) == [(0, None, ["empty_file"])]


def test_a_gbk_export_with_chinese_headers_and_terms_is_read(access):
    text = ("部门编码,部门名称,层级,行政区划代码\r\n"
            "SW-HF,海丰县政务服务数据管理局,县级,441521\r\n"
            "SW-RS,汕尾市人力资源和社会保障局,市级,441500\r\n")
    report = access.import_csv("departments", text.encode("gbk"), actor=OPERATOR)
    assert (report.ok, report.encoding, report.created) == (True, "gb18030", 2)
    assert db.session.get(Department, "SW-HF").name == "海丰县政务服务数据管理局"


def test_utf8_with_a_byte_order_mark_is_read(access):
    report = access.import_csv("departments", "\ufeff".encode() + DEPARTMENTS.encode(),
                               actor=OPERATOR)
    assert (report.ok, report.encoding, report.created) == (True, "utf-8-sig", 7)


def test_a_gbk_row_pasted_into_a_utf8_file_is_rejected_by_line(access):
    raw = (DEPARTMENTS.encode() + "X9,汕尾市公安局,city,441500\n".encode("gbk")
           + "X8,汕尾市教育局,city,441500\n".encode())
    report = access.import_csv("departments", raw, actor=OPERATOR)
    assert (report.encoding, _problems(report)) == ("utf-8", [(9, None, ["bad_encoding"])])
    assert count(Department) == 0


def test_a_utf8_row_in_a_gbk_file_is_rejected_by_line(access):
    raw = ("code,name,level,division_code\n" + "X1,海丰县财政局,county,441521\n"
           + "X2,海丰县教育局,county,441521\n").encode("gbk") + \
        "X3,海丰县卫健局,county,441521\n".encode()
    report = access.import_csv("departments", raw, actor=OPERATOR)
    assert (report.encoding, _problems(report)) == ("gb18030", [(4, None, ["bad_encoding"])])


@pytest.mark.parametrize("raw", ["code,name\n".encode("utf-16"),
                                 "code,name,level,division_code\n".encode("utf-16-le")])
def test_a_utf16_or_binary_file_is_refused(access, raw):
    report = access.import_csv("departments", raw, actor=OPERATOR)
    assert _problems(report) == [(0, None, ["bad_encoding"])]


def test_a_dry_run_counts_and_writes_nothing(access):
    report = access.import_csv("departments", DEPARTMENTS.encode(), actor=OPERATOR,
                               dry_run=True)
    assert (report.ok, report.written, report.created) == (True, False, 7)
    db.session.commit()
    assert count(Department) == 0 and audit_events("access:catalogue:imported") == []


def test_skip_bad_imports_the_good_rows_and_still_lists_the_bad(access):
    report = import_csv(access, "departments", DEPARTMENTS + "X1,某部门,county,441800\n",
                        skip_bad=True)
    assert (report.written, report.created, _problems(report)) == \
        (True, 7, [(9, "X1", ["level_mismatch"])])
    assert count(Department) == 7
    [event] = audit_events("access:catalogue:imported")
    assert event.data["skipped"] == 1


def test_a_systems_import_dates_status_changes_replaces_items_and_only_adds_clients(
        access, catalogue, make_client):
    extra = make_client().client_id
    text = ("code,name,department_code,contact,status,item_codes\n"
            "S-G,英德市业务系统,YDZW,,connected,YD-1;YD-2\n")
    report = import_csv(access, "systems", text)  # no client_ids column: clients untouched
    assert (report.updated, report.unchanged) == (1, 0)
    system = access.systems.get("S-G")
    assert system.status_dates["connected"] == access.today().isoformat()
    assert access.systems.item_codes("S-G") == ["YD-1", "YD-2"]
    with_client = text.replace("item_codes\n", "item_codes,client_ids\n").replace(
        "YD-1;YD-2\n", f"YD-1;YD-2,{extra}\n")
    assert import_csv(access, "systems", with_client).updated == 1
    assert access.systems.view("S-G").clients == (extra,)
    assert import_csv(access, "systems", text).unchanged == 1  # a listed client stays


def test_a_client_listed_for_two_systems_in_one_file_is_rejected(access, catalogue_base,
                                                                  make_client):
    client = make_client().client_id
    text = ("code,name,department_code,contact,status,item_codes,client_ids\n"
            f"N1,系统一,GDGA,,registered,GA-L1,{client}\n"
            f"N2,系统二,GDGA,,registered,GA-L2,{client}\n")
    report = import_csv(access, "systems", text)
    assert _problems(report) == [(3, "N2", ["client_taken"])]


def test_the_documented_sample_files_import_cleanly(access):
    reports = [access.import_csv(kind, (SAMPLES / name).read_bytes(), actor=OPERATOR,
                                 source=name)
               for kind, name in (("departments", "departments.csv"), ("items", "items.csv"),
                                  ("items", "items-gbk.csv"), ("systems", "systems.csv"))]
    assert [(r.ok, r.encoding, r.created) for r in reports] == [
        (True, "utf-8", 12), (True, "utf-8", 23), (True, "gb18030", 7),
        (True, "utf-8-sig", 10)]
    report = access.report()
    assert report.get("city:441500").items == 7
    assert report.get("dept:GD-GAT:licensing").declared == 2

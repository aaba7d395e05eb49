"""Imports in the console: a CSV upload with a dry run, the counts created / updated /
unchanged, and every rejected row with its line and reasons; nothing written when any row
is rejected; GBK exports read as such."""

from __future__ import annotations

import re

from idp.access.models import Department, ServiceItem
from idp.extensions import db
from tests.admin.catalogue import DEPARTMENTS, ITEMS, upload
from tests.admin.conftest import error_of, notice_of, text_of
from tests.counter.conftest import HALL
from tests.integration.citizens import audit_events


def counts(answer) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'<dd data-count="(\w+)">(\d+)</dd>',
                                             text_of(answer))}


def rejected(answer) -> list[tuple[str, list[str]]]:
    rows = re.findall(r'<tr data-row="(\d+)">(.*?)</tr>', text_of(answer), re.S)
    return [(row, re.findall(r'data-problem="([\w-]+)"', body)) for row, body in rows]


def test_a_dry_run_counts_and_writes_nothing_then_the_import_writes(make_operator):
    operator = make_operator()
    dry = upload(operator, "departments", DEPARTMENTS, dry_run=True)
    assert dry.status_code == 200
    assert notice_of(dry) == "试运行：所有行均可导入；未写入任何内容。"
    assert counts(dry) == {"rows": 5, "created": 5, "updated": 0, "unchanged": 0}
    assert db.session.query(Department).count() == 0
    done = upload(operator, "departments", DEPARTMENTS)
    assert done.status_code == 200 and notice_of(done) == "已导入。"
    assert db.session.query(Department).count() == 5
    renamed = DEPARTMENTS.replace("广东省公安厅", "广东省公安厅（新）")
    again = upload(operator, "departments", renamed)
    assert counts(again) == {"rows": 5, "created": 0, "updated": 1, "unchanged": 4}
    [first, _second] = audit_events("access:catalogue:imported")
    assert first.actor == f"staff:{operator.id}@{HALL}"
    assert first.data["source"] == "departments.csv"


def test_bad_rows_are_listed_by_line_and_reason_and_nothing_is_written(make_operator):
    operator = make_operator()
    upload(operator, "departments", DEPARTMENTS)
    bad = ITEMS + ("X-1,未知部门的事项,licensing,NO-DEPT,province,440000\n"
                   "P-L1,重复的编码,licensing,GDGA,province,440000\n"
                   "X-2,类型错误,permit,GDGA,province,440000\n")
    answer = upload(operator, "items", bad)
    assert answer.status_code == 400
    assert error_of(answer) == "15 行中有 3 行被拒绝：未写入任何内容。请更正后重新导入。"
    assert rejected(answer) == [("14", ["unknown_department"]), ("15", ["duplicate_code"]),
                                ("16", ["bad_type"])]
    page = text_of(answer)  # each reason named in the page's language, then the detail
    assert "<strong>部门不存在</strong>" in page and "<strong>编码重复</strong>" in page
    assert "<strong>事项类型无效</strong>" in page
    assert db.session.query(ServiceItem).count() == 0
    assert [e.data["kind"] for e in audit_events("access:catalogue:imported")] == ["departments"]


def test_a_gbk_export_is_read_as_gbk(make_operator):
    operator = make_operator()
    answer = upload(operator, "departments", DEPARTMENTS.encode("gbk"), filename="部门.csv")
    assert answer.status_code == 200
    assert "(gb18030)" in text_of(answer)
    assert db.session.get(Department, "GDGA").name == "广东省公安厅"


def test_uploading_without_a_file_says_so(make_operator):
    operator = make_operator()
    answer = operator.post("/admin/imports", {"kind": "items"},
                           content_type="multipart/form-data")
    assert answer.status_code == 400
    assert error_of(answer) == "请选择要上传的 CSV 文件。"

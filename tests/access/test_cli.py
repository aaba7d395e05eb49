"""`idp access`: import with exit 0, or exit 2 listing every rejected row with nothing
written; report as a table, CSV or JSON, now or for a stored month; snapshot twice; rollup;
the follow-up list; a declared status."""

from __future__ import annotations

import csv
import io
import json

from idp.access.cli import access_group
from idp.access.models import Department, ServiceItem
from idp.access.snapshots import month_of
from tests.access.conftest import DEPARTMENTS, ITEMS, count
from tests.integration.citizens import audit_events


def _run(app, *args: str):
    return app.test_cli_runner().invoke(access_group, list(args))


def _file(tmp_path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_import_reports_counts_and_exits_0(app, access, tmp_path):
    done = _run(app, "import", "departments", _file(tmp_path, "departments.csv", DEPARTMENTS))
    assert done.exit_code == 0, done.output
    assert done.output == ("departments.csv (utf-8): 7 departments rows: 7 created, "
                           "0 updated, 0 unchanged\n")
    items = _run(app, "import", "items", _file(tmp_path, "事项.csv", ITEMS, "gbk"), "--json")
    assert items.exit_code == 0, items.output
    report = json.loads(items.output)
    assert (report["encoding"], report["created"], report["rejected"]) == ("gb18030", 23, [])
    assert count(ServiceItem) == 23
    [event, _] = audit_events("access:catalogue:imported")
    assert event.actor.startswith("operator:")


def test_import_with_rejected_rows_exits_2_listing_them_and_writes_nothing(app, access,
                                                                           tmp_path):
    bad = DEPARTMENTS + "X1,某部门,county,441800\nX2,某部门,乡镇,441802\n"
    done = _run(app, "import", "departments", _file(tmp_path, "d.csv", bad))
    assert done.exit_code == 2
    lines = done.output.splitlines()
    assert lines[0] == ("d.csv (utf-8): 9 departments rows: 0 created, 0 updated, 0 unchanged"
                        " (nothing written)")
    assert lines[1] == "Error: 2 of 9 rows rejected: nothing written"
    assert lines[2].startswith("  row 9 (X1): level_mismatch: level county does not match")
    assert lines[3].startswith("  row 10 (X2): bad_level: level '乡镇' is not one of")
    assert count(Department) == 0 and audit_events("access:catalogue:imported") == []


def test_import_of_the_wrong_kind_of_file_exits_2_naming_the_header(app, access, tmp_path):
    done = _run(app, "import", "departments", _file(tmp_path, "items.csv", ITEMS))
    assert done.exit_code == 2
    assert done.output == (
        "items.csv (utf-8): not imported\n"
        "Error: items.csv was refused: nothing written\n"
        "  line 1: wrong_header: not a departments file: unknown column(s) type, "
        "department_code (expected code,name,level,division_code)\n")
    utf16 = _run(app, "import", "items", _file(tmp_path, "x.csv", ITEMS, "utf-16"))
    assert utf16.exit_code == 2
    assert utf16.output.splitlines()[-1].startswith("  file: bad_encoding: the file is UTF-16")


def test_import_dry_run_and_skip_bad(app, access, tmp_path):
    path = _file(tmp_path, "d.csv", DEPARTMENTS + "X1,某部门,county,441800\n")
    dry = _run(app, "import", "departments", path, "--dry-run", "--skip-bad")
    assert dry.exit_code == 2 and "(dry run: nothing written)" in dry.output
    assert count(Department) == 0
    skipped = _run(app, "import", "departments", path, "--skip-bad")
    assert skipped.exit_code == 2
    assert "Error: 1 of 8 rows rejected: the other rows were imported" in skipped.output
    assert count(Department) == 7  # committed before exiting


def test_report_prints_a_table_csv_and_json(app, access, evidence, catalogue):
    catalogue.login("a")
    table = _run(app, "report", "--counties")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith("Access rates (接入率), as of ")
    [dept] = [line for line in lines if "广东省公安厅 行政许可" in line]
    assert dept.split()[2:] == ["4", "3", "75.00%", "2", "50.00%", "100%", "50"]
    [county] = [line for line in lines if line.strip().startswith("清城区")]
    assert county.split()[1:] == ["2", "1", "50.00%", "0", "0.00%", "90%", "90"]

    rows = list(csv.DictReader(io.StringIO(_run(app, "report", "--format", "csv").output)))
    [city] = [r for r in rows if r["scope"] == "city:441800"]
    assert (city["items"], city["declared"], city["verified"], city["gap"]) == \
        ("8", "3", "0", "90.0")
    data = json.loads(_run(app, "report", "--format", "json").output)
    assert (data["live_days"], data["targets"], data["month"]) == (
        30, "province.licensing=100 province.public_service=50 city=90", None)
    assert len(data["rates"]) == len(rows)


def test_report_of_a_stored_month_and_of_a_month_never_stored(app, access, catalogue):
    month = month_of(access.today())
    missing = _run(app, "report", "--month", month)
    assert missing.exit_code == 2
    assert missing.output == (f"Error: no figures are stored for {month} "
                              f"(idp access snapshot --month {month})\n")
    assert _run(app, "report", "--month", "2026/01").exit_code == 2
    first = _run(app, "snapshot")
    assert first.exit_code == 0 and first.output.startswith("stored ")
    assert _run(app, "snapshot", "--month", month).output == first.output  # safe twice
    stored = _run(app, "report", "--month", month, "--format", "json")
    assert json.loads(stored.output)["month"] == month
    assert f"stored for {month}" in _run(app, "report", "--month", month).output


def test_rollup_counts_the_logins_of_the_days_asked_for(app, access, catalogue):
    catalogue.login("a")
    catalogue.login("c")
    done = _run(app, "rollup", "--days", "3")
    assert done.exit_code == 0, done.output
    assert "2 client-days, 2 logins (2 rows written, 0 removed)" in done.output
    again = _run(app, "rollup")
    assert "2 client-days, 2 logins (0 rows written, 0 removed)" in again.output
    assert _run(app, "rollup", "--days", "0").exit_code == 2


def test_follow_up_lists_pending_items_and_dropped_systems(app, access, catalogue):
    done = _run(app, "follow-up", "county:441521")
    assert done.exit_code == 0, done.output
    out = done.output
    assert "Items not connected (2):" in out
    assert "S-H 海丰县业务系统 (海丰县政务服务数据管理局): connected, last login never" in out
    assert "without logins in the last 30 days (1):" in out
    data = json.loads(_run(app, "follow-up", "county:441521", "--json", "--limit",
                           "1").output)
    assert (data["unconnected"], len(data["items"]), data["dropped"][0]["code"]) == \
        (2, 1, "S-H")
    unknown = _run(app, "follow-up", "city:999900")
    assert unknown.exit_code == 2 and unknown.output.startswith("Error: 'city:999900' names")


def test_status_declares_a_status_and_refuses_live(app, access, catalogue):
    done = _run(app, "status", "S-G", "testing")
    assert done.exit_code == 0
    assert done.output == f"S-G: testing since {access.today().isoformat()}\n"
    assert _run(app, "status", "S-G", "live").exit_code == 2
    missing = _run(app, "status", "S-X", "testing")
    assert missing.exit_code == 2 and missing.output == \
        "Error: there is no business system S-X\n"

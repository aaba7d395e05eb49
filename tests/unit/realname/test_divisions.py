"""The shipped GB/T 2260 data: history included, read once, and well formed."""

from __future__ import annotations

from realname.documents import division, divisions
from realname.documents.reference import nationality_by_alpha3, nationality_by_numeric


def test_data_holds_current_and_abolished_codes():
    table = divisions()
    assert len(table) > 7000
    assert table["441802"].name == "广东省清远市清城区" and table["441802"].current
    assert table["440524"].until == "199212" and not table["440524"].current
    assert sum(1 for d in table.values() if not d.current) > 3000


def test_region_names_are_full_names():
    assert division("441800").name == "广东省清远市"
    assert division("110105").name == "北京市朝阳区"
    assert division("999999") is None


def test_data_is_read_once_and_shared():
    assert divisions() is divisions()


def test_every_row_is_six_digits_with_a_name_and_revisions_in_order():
    for code, found in divisions().items():
        assert len(code) == 6 and code.isdigit()
        assert found.name
        assert len(found.since) == 6 and found.since.isdigit()
        assert found.until is None or found.since <= found.until


def test_every_code_has_its_province_in_the_data():
    table = divisions()
    assert all(code[:2] + "0000" in table for code in table)


def test_nationalities_are_found_by_letters_and_by_number():
    assert nationality_by_alpha3("KAZ").numeric == "398"
    assert nationality_by_numeric("398").alpha3 == "KAZ"
    assert nationality_by_numeric("728").alpha3 == "SSD"  # assigned after the 2011 list
    assert nationality_by_alpha3("CHN").name_zh == "中国"

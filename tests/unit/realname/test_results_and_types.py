"""The result object, the reason table and the document types (the public surface)."""

from __future__ import annotations

import json

import pytest

from realname.documents import REASONS, CheckResult, DocumentType, Reason, check


def test_every_reason_is_explained_in_english_and_chinese():
    assert set(REASONS) == {reason.value for reason in Reason}
    for explanation in REASONS.values():
        assert explanation.en.isascii() and explanation.en.endswith(".")
        assert not explanation.zh.isascii() and explanation.zh.endswith("。")


def test_every_document_type_has_both_display_names():
    for kind in DocumentType:
        assert kind.name_en and kind.name_en.isascii()
        assert kind.name_zh and not kind.name_zh.isascii()
    assert DocumentType("tw-travel-permit").name_zh == "台湾居民来往大陆通行证"


def test_check_takes_the_cli_name_or_the_enum_and_refuses_unknown_types():
    assert check("id-number", "11010519491231002X") == \
        check(DocumentType.ID_NUMBER, "11010519491231002X")
    with pytest.raises(ValueError):
        check("library-card", "123")


def test_result_is_frozen():
    result = check("id-number", "11010519491231002X")
    with pytest.raises(AttributeError):
        result.valid = False  # type: ignore[misc]


def test_to_dict_is_json_with_the_reason_explained():
    found = check("id-number", "110105194912310021").to_dict()
    assert json.loads(json.dumps(found, ensure_ascii=False)) == found
    assert found["reason"] == "bad_check_digit"
    assert found["reason_zh"] == REASONS["bad_check_digit"].zh
    valid = check("id-number", "11010519491231002X").to_dict()
    assert (valid["birth_date"], valid["sex"], valid["reason_en"]) == ("1949-12-31", "F", None)


def test_reason_is_a_plain_string():
    reason = check("id-number", "110105194912310021").reason
    assert type(reason) is str


def test_repr_does_not_show_the_number_or_the_birth_date():
    text = repr(check("id-number", "11010519491231002X"))
    assert "11010519491231002X" not in text and "1949" not in text
    assert "valid=True" in text


def test_a_result_can_be_built_for_a_reason_code_given_as_text():
    result = CheckResult(False, DocumentType.PASSPORT, reason="bad_length")
    assert result.explanation is REASONS["bad_length"]

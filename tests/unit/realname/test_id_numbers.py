"""Citizen ID numbers (GB 11643-1999) and residence permits: conversion, routing, dates."""

from __future__ import annotations

from datetime import date

import pytest

from realname.documents import (
    DocumentType,
    check,
    check_id_number,
    check_residence_permit,
    convert_15_to_18,
)
from realname.documents.checksums import mod11_2


def _number(body17: str) -> str:
    return body17 + mod11_2(body17)


def test_15_digit_number_becomes_18_digits_with_19_and_a_check_digit():
    # Check digit by hand: weighted sum of 44052419800101001 is 196, 196 mod 11 = 9 -> "3".
    assert convert_15_to_18("440524800101001") == "440524198001010013"
    result = check_id_number("440524800101001")
    assert result.valid
    assert result.normalised == "440524198001010013"
    assert result.birth_date == date(1980, 1, 1)
    assert result.sex == "M"


def test_converting_something_other_than_15_digits_is_an_error():
    with pytest.raises(ValueError):
        convert_15_to_18("44052480010100X")


def test_15_digit_number_with_impossible_date_is_refused():
    assert check_id_number("440524800230001").reason == "bad_birth_date"


def test_lower_case_x_is_read_as_the_check_character_x():
    result = check_id_number("11010519491231002x")
    assert result.valid and result.normalised == "11010519491231002X"


def test_full_width_digits_from_a_chinese_input_method_are_accepted():
    typed = "１１０１０５１９４９１２３１００２Ｘ"
    assert check_id_number(typed).normalised == "11010519491231002X"


def test_abolished_division_code_is_still_accepted():
    # 440524 潮阳县 was listed 1983-1992 and abolished since; numbers keep their code.
    result = check_id_number("440524188001010014")
    assert result.valid
    assert result.region_name == "广东省汕头市潮阳县"


def test_unknown_division_code_is_refused_even_with_a_right_check_digit():
    number = _number("11019919491231002")
    assert check_id_number(number).reason == "unknown_region"


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_residence_permit_number_is_reported_as_a_residence_permit(prefix):
    number = _number(prefix + "19900101004")
    as_id = check_id_number(number)
    assert not as_id.valid
    assert as_id.document_type is DocumentType.RESIDENCE_PERMIT
    assert as_id.reason == "is_residence_permit"
    assert as_id.normalised == number
    assert check_residence_permit(number).valid


def test_residence_permit_with_a_bad_check_digit_keeps_the_permits_reason():
    number = _number("81000019900101004")[:-1] + "0"
    result = check_id_number(number)
    assert (result.document_type, result.reason) == (DocumentType.RESIDENCE_PERMIT,
                                                      "bad_check_digit")


def test_other_codes_starting_81_are_not_provinces_of_citizens():
    assert check_id_number(_number("81010019900101004")).reason == "bad_province"


def test_citizen_number_is_not_a_residence_permit():
    assert check_residence_permit("11010519491231002X").reason == "not_residence_permit"


def test_birth_date_today_is_accepted_and_tomorrow_refused():
    today = date(2026, 11, 30)
    born_today = _number("11010520261130001")
    born_tomorrow = _number("11010520261201001")
    assert check("id-number", born_today, today=today).valid
    assert check("id-number", born_tomorrow, today=today).reason == "birth_date_in_future"


def test_births_from_1850_on_are_accepted():
    assert check_id_number(_number("11010518500101001")).birth_date == date(1850, 1, 1)
    assert check_id_number(_number("11010518491231001")).reason == "birth_date_too_early"


def test_sex_is_read_from_the_17th_digit():
    assert check_id_number(_number("11010519491231001")).sex == "M"
    assert check_id_number(_number("11010519491231002")).sex == "F"


@pytest.mark.parametrize(("number", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("11010519491231002", "bad_length"),
    ("1101051949123100XX", "bad_characters"),
    ("11010549123100X", "bad_characters"),
])
def test_malformed_numbers_are_refused_with_a_reason(number, reason):
    result = check_id_number(number)
    assert (result.valid, result.reason) == (False, reason)

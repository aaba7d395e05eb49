"""The first realname API (idp imports it) keeps working on top of the new checks."""

from __future__ import annotations

from realname import (
    TrustLevel,
    identifiers,
    is_valid_credit_code,
    is_valid_id_number,
    mask_id_number,
)


def test_id_number_with_correct_check_digit_is_valid():
    assert is_valid_id_number("11010519491231002X")
    # GB 11643-1999's own example: born 1880, address code since abolished. The first version
    # refused it (births before 1900); the new checks accept it.
    assert is_valid_id_number("440524188001010014")


def test_id_number_with_wrong_check_digit_is_invalid():
    assert not is_valid_id_number("110105194912310021")


def test_id_number_with_impossible_birth_date_is_invalid():
    assert not is_valid_id_number("110105194902300020")  # 30 February, right check digit


def test_is_valid_id_number_still_wants_18_characters():
    assert not is_valid_id_number("110105491231002")  # valid 15-digit form: use check()


def test_id_number_is_masked_to_first_and_last_four():
    assert mask_id_number("44010119900101123x") == "4401**********123X"


def test_credit_code_check_character_is_verified():
    assert is_valid_credit_code("91350100M000100Y43")
    assert not is_valid_credit_code("91350100M000100Y44")
    assert not is_valid_credit_code("91350100M000100YI3")  # I is not in the alphabet


def test_trust_levels_carry_their_acr_value():
    assert TrustLevel.CERTIFICATE_OR_COUNTER.acr == "5"
    assert [level.acr for level in TrustLevel] == ["2", "3", "4", "5"]


def test_realname_identifiers_still_exports_the_first_helpers():
    assert identifiers.is_valid_id_number is is_valid_id_number
    assert identifiers.mask_id_number("11010519491231002X") == "1101**********002X"

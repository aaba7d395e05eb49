"""Password policy (GB/T 22239-2019 8.1.4.1 identity authentication; NIST SP 800-63B §5.1.1.2
blocklist of common passwords): every broken rule is reported by its reason code, in rule order.
"""

from __future__ import annotations

import pytest

from idp.security.password_policy import (
    MAX_LENGTH,
    MIN_LENGTH,
    common_passwords,
    password_problems,
)

GOOD = "Correct-Horse-9"


def test_a_good_password_has_no_problems():
    assert password_problems(GOOD) == []
    assert password_problems(GOOD, phone="13912345678", username="citizen1") == []


def test_seven_characters_are_too_short_and_eight_are_enough():
    assert MIN_LENGTH == 8
    assert password_problems("Ab1-xyz") == ["too_short"]
    assert password_problems("Ab1-wxyz") == []


def test_more_than_128_characters_are_too_long():
    assert MAX_LENGTH == 128
    assert password_problems("Ab1-" + "x" * 124) == []
    assert password_problems("Ab1-" + "x" * 125) == ["too_long"]


# Examples outside the common-password lists, so that only the class rule speaks.
@pytest.mark.parametrize("password", ["kqzxvwmtrj", "KQZXVWMTRJ", "8264917350", "!@#$%^&*()",
                                      "kqzxvWMTRJ", "kqzxv82649", "KQZXV-----"])
def test_fewer_than_three_character_classes_are_refused(password):
    assert password_problems(password) == ["too_few_classes"]


@pytest.mark.parametrize("password", ["kqzXVW826", "kqzXVW-!?", "kqz826-!?", "KQZ826-!?"])
def test_any_three_character_classes_are_enough(password):
    assert password_problems(password) == []


def test_a_password_containing_the_phone_number_is_refused():
    assert password_problems("Ab-13912345678", phone="13912345678") == ["contains_phone"]
    assert password_problems("Ab-13912345678", phone="13800000000") == []
    assert password_problems("Ab-13912345678") == []


def test_a_password_containing_the_username_is_refused_whatever_the_case():
    assert password_problems("Xx-Citizen7-9", username="citizen7") == ["contains_username"]
    assert password_problems("Xx-CITIZEN7-9", username="Citizen7") == ["contains_username"]
    assert password_problems("Xx-Citizen7-9", username="other") == []


def test_usernames_shorter_than_three_characters_are_not_searched():
    assert password_problems("Xx-ab-Horse-9", username="ab") == []


@pytest.mark.parametrize("password", ["Password123", "P@ssw0rd", "Admin@123", "Welcome@123",
                                      "Qq5201314", "Zaq12wsx"])
def test_common_passwords_are_refused_whatever_the_case(password):
    assert password.lower() in common_passwords()
    assert password_problems(password) == ["common"]


def test_the_common_password_list_is_read_without_its_comment_lines():
    listed = common_passwords()
    assert "123456" in listed and "password" in listed
    assert not any(entry.startswith("#") for entry in listed)


def test_every_broken_rule_is_reported_in_rule_order():
    assert password_problems("1391234", phone="1391234") == ["too_short", "too_few_classes",
                                                             "contains_phone"]
    assert password_problems("123456", phone="13912345678") == ["too_short", "too_few_classes",
                                                               "common"]
    assert password_problems("citizen1", username="citizen1") == ["too_few_classes",
                                                                  "contains_username"]

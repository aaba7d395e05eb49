"""Travel permits, foreign permanent residence cards and passports: accepted forms."""

from __future__ import annotations

from datetime import date

from realname.documents import (
    check_foreign_permanent_residence,
    check_hk_macau_travel_permit,
    check_passport,
    check_tw_travel_permit,
)
from realname.documents.checksums import icao_check, mod11_2


def test_hk_macau_permit_keeps_the_lifelong_number_across_renewals():
    first = check_hk_macau_travel_permit("H1234567800")
    renewed = check_hk_macau_travel_permit("H1234567801")
    card_2013 = check_hk_macau_travel_permit("H12345678")
    assert first.normalised == renewed.normalised == card_2013.normalised == "H12345678"
    assert (first.region_code, check_hk_macau_travel_permit("M12345678").region_code) == \
        ("810000", "820000")


def test_hk_macau_permit_of_ten_characters_is_refused():
    assert check_hk_macau_travel_permit("H123456780").reason == "bad_length"


def test_tw_permit_legacy_forms_give_the_8_digit_lifelong_number():
    for typed in ("12345678", "1234567803", "1234567803(B)", "1234567803（B）", "1234567803B",
                  "1234567803(7)"):
        result = check_tw_travel_permit(typed)
        assert (result.valid, result.normalised) == (True, "12345678"), typed


def test_tw_permit_with_a_bracket_but_no_office_is_refused():
    assert check_tw_travel_permit("1234567803()").reason == "bad_format"


def test_foreign_2023_number_uses_mod_11_2_and_a_numeric_nationality():
    body = "94484019850615001"
    assert check_foreign_permanent_residence(body + mod11_2(body)).nationality == "USA"
    today = date(1985, 6, 14)
    assert check_foreign_permanent_residence(body + mod11_2(body), today=today).reason == \
        "birth_date_in_future"


def test_foreign_2023_number_must_start_with_9():
    body = "84484019850615001"
    assert check_foreign_permanent_residence(body + mod11_2(body)).reason == "bad_format"


def test_foreign_2017_number_with_ambiguous_century_has_no_birth_date():
    ambiguous = "USA44011006150"  # born 1910-06-15 or 2010-06-15
    result = check_foreign_permanent_residence(ambiguous + icao_check(ambiguous))
    assert result.valid and result.birth_date is None
    clear = "USA44018506150"  # 2085 is in the future, so 1985
    assert check_foreign_permanent_residence(clear + icao_check(clear)).birth_date == \
        date(1985, 6, 15)


def test_foreign_2017_number_of_a_stateless_holder_is_accepted():
    body = "XXA11009012310"
    assert check_foreign_permanent_residence(body + icao_check(body)).nationality == "XXA"


def test_icao_check_digit_matches_doc_9303_example():
    # ICAO Doc 9303 part 3 worked example: document number L898902C3 has check digit 6.
    assert icao_check("L898902C3") == "6"
    assert icao_check("L898902C<") == icao_check("L898902C0")


def test_chinese_passport_rule_applies_only_when_asked():
    assert check_passport("G12345678").valid  # the generic rule
    assert check_passport("G12345678", "CHN").reason == "bad_format"
    assert check_passport("e12345678", "chn").normalised == "E12345678"


def test_passport_number_may_have_17_characters_but_not_18():
    assert check_passport("A" * 17).valid
    assert check_passport("A" * 18).reason == "bad_length"

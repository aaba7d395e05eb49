"""Unified social credit codes (GB 32100-2015) and the organisation codes inside them."""

from __future__ import annotations

import pytest

from realname.documents import DEPARTMENTS, check_credit_code, organisation_category
from realname.documents.checksums import credit_code_check, org_code_check


def _code(first17: str) -> str:
    return first17 + credit_code_check(first17)


def _body(org8: str) -> str:
    return org8 + org_code_check(org8)


@pytest.mark.parametrize(("department", "category"), [
    (d, c) for d, (_, categories) in DEPARTMENTS.items() for c in categories])
def test_every_department_and_category_in_the_table_is_accepted(department, category):
    code = _code(department + category + "440100" + _body("MA59XY0K"))
    assert check_credit_code(code).valid


def test_category_of_another_department_is_refused():
    # 5 民政 has no category 4; 3 司法行政 does.
    assert check_credit_code(_code("54440100" + _body("MA59XY0K"))).reason == \
        "unknown_organisation_category"
    assert check_credit_code(_code("34440100" + _body("MA59XY0K"))).valid


def test_organisation_code_check_x_and_0_cases():
    assert org_code_check("D2143569") == "X"  # 11 - 1 = 10
    bodies = [f"{n:08d}" for n in range(200)]
    assert "0" in {org_code_check(b) for b in bodies}  # 11 - 0 = 11 is written 0
    for body in bodies:
        assert org_code_check(body) in "0123456789X"


def test_individual_business_is_not_held_to_the_organisation_code_check():
    wrong = "1" if org_code_check("L1234567") != "1" else "2"
    body = "L1234567" + wrong  # a locally allocated body, not a GB 11714 code
    assert check_credit_code(_code("91440100" + body)).reason == "bad_org_code_check"
    assert check_credit_code(_code("92440100" + body)).valid


def test_national_level_registering_authority_is_accepted():
    result = check_credit_code(_code("11100000" + _body("00001234")))
    assert result.valid and result.region_code == "100000"


def test_abolished_registering_authority_is_accepted_and_unknown_refused():
    assert check_credit_code(_code("91230702" + _body("MA000000"))).valid
    assert check_credit_code(_code("91230799" + _body("MA000000"))).reason == \
        "unknown_registering_authority"


def test_organisation_category_names_the_department_and_category():
    assert organisation_category("91350100M000100Y43") == ("工商", "企业")
    assert organisation_category("N2350100M000100Y43") == ("农业", "村级集体经济组织")
    assert organisation_category("B1") is None

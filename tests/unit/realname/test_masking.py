"""Masking: ID numbers keep four and four, other documents two and two, codes stay public."""

from __future__ import annotations

import pytest

from realname.documents import DocumentType, mask, mask_id_number


@pytest.mark.parametrize(("kind", "number", "shown"), [
    ("id-number", "44010119900101123x", "4401**********123X"),
    ("id-number", "440524800101001", "4405*******1001"),
    ("hk-macau-tw-residence-permit", "810000199001010043", "8100**********0043"),
    ("foreign-permanent-residence", "94484019850615001X", "9448**********001X"),
    ("foreign-permanent-residence", "USA440185061504", "US***********04"),
    ("hk-macau-travel-permit", "H1234567801", "H1*******01"),
    ("tw-travel-permit", "12345678", "12****78"),
    ("passport", "e12345678", "E1*****78"),
    ("passport", "AB12", "****"),
    ("credit-code", "91350100m000100y43", "91350100M000100Y43"),
])
def test_each_document_is_masked_by_its_rule(kind, number, shown):
    assert mask(kind, number) == shown
    assert mask(DocumentType(kind), number) == shown


def test_masking_never_reveals_an_id_numbers_birth_date():
    masked = mask("id-number", "11010519491231002X")
    assert "19491231" not in masked and "491231" not in masked


def test_mask_id_number_is_the_id_number_rule():
    assert mask_id_number("44010119900101123x") == "4401**********123X"
    assert mask_id_number("1234") == "****"


def test_unknown_document_type_cannot_be_masked():
    with pytest.raises(ValueError):
        mask("library-card", "12345")

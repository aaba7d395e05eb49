"""Identity document numbers: one check() for every type, one result, masking."""

from __future__ import annotations

from realname.documents.credit_codes import DEPARTMENTS, check_credit_code, organisation_category
from realname.documents.dispatch import check, is_valid_credit_code, is_valid_id_number
from realname.documents.id_numbers import (
    EARLIEST_BIRTH,
    check_id_number,
    check_residence_permit,
    convert_15_to_18,
)
from realname.documents.masking import mask, mask_id_number
from realname.documents.passports import check_passport
from realname.documents.permits import (
    check_foreign_permanent_residence,
    check_hk_macau_travel_permit,
    check_tw_travel_permit,
)
from realname.documents.reference import Division, division, divisions
from realname.documents.result import REASONS, CheckResult, Explanation, Reason
from realname.documents.types import DocumentType

__all__ = [
    "DEPARTMENTS",
    "EARLIEST_BIRTH",
    "REASONS",
    "CheckResult",
    "Division",
    "DocumentType",
    "Explanation",
    "Reason",
    "check",
    "check_credit_code",
    "check_foreign_permanent_residence",
    "check_hk_macau_travel_permit",
    "check_id_number",
    "check_passport",
    "check_residence_permit",
    "check_tw_travel_permit",
    "convert_15_to_18",
    "division",
    "divisions",
    "is_valid_credit_code",
    "is_valid_id_number",
    "mask",
    "mask_id_number",
    "organisation_category",
]

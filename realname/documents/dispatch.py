"""The one entry point: check any document's number by its type."""

from __future__ import annotations

from datetime import date

from realname.documents.checksums import clean
from realname.documents.credit_codes import check_credit_code
from realname.documents.id_numbers import check_id_number, check_residence_permit
from realname.documents.passports import check_passport
from realname.documents.permits import (
    check_foreign_permanent_residence,
    check_hk_macau_travel_permit,
    check_tw_travel_permit,
)
from realname.documents.result import CheckResult
from realname.documents.types import DocumentType


def check(document_type: DocumentType | str, number: str, *,
          today: date | None = None) -> CheckResult:
    """Check `number` as a document of `document_type` (a DocumentType or its CLI name such as
    "id-number"). A wrong number is a result (valid=False with a reason), never an exception;
    an unknown document type is a programming error and raises ValueError. `today` bounds
    dates of birth (default: the system date)."""
    kind = DocumentType(document_type)
    if kind is DocumentType.ID_NUMBER:
        return check_id_number(number, today=today)
    if kind is DocumentType.RESIDENCE_PERMIT:
        return check_residence_permit(number, today=today)
    if kind is DocumentType.FOREIGN_PERMANENT_RESIDENCE:
        return check_foreign_permanent_residence(number, today=today)
    if kind is DocumentType.CREDIT_CODE:
        return check_credit_code(number)
    if kind is DocumentType.HK_MACAU_TRAVEL_PERMIT:
        return check_hk_macau_travel_permit(number)
    if kind is DocumentType.TW_TRAVEL_PERMIT:
        return check_tw_travel_permit(number)
    return check_passport(number)


def is_valid_id_number(value: str) -> bool:
    """An 18-character 公民身份号码 that passes check_id_number. A 15-digit first-generation
    number is refused here, as it always was: callers of this function store what they were
    given, so they must be given the 18-character form (check_id_number converts it)."""
    result = check_id_number(value)
    return result.valid and len(clean(value)) == 18


def is_valid_credit_code(value: str) -> bool:
    """A 统一社会信用代码 that passes check_credit_code (GB 32100-2015)."""
    return check_credit_code(value).valid

"""公民身份号码 (GB 11643-1999) and the 港澳台居民居住证 numbers built the same way."""

from __future__ import annotations

import re
from datetime import date

from realname.documents.checksums import clean, mod11_2
from realname.documents.reference import RESIDENCE_PERMIT_REGIONS, division, is_province
from realname.documents.result import CheckResult, Reason, Sex, refused
from realname.documents.types import DocumentType

# GB 11643-1999 gives 440524188001010014 (born 1880) as its own example, so births before 1900
# are real. First-generation cards (1984 on) went to people then alive, the oldest of whom were
# born in the 1870s; 1850 leaves room for them and still catches typed years such as 1085.
EARLIEST_BIRTH = date(1850, 1, 1)
# Province-level codes that never start a citizen's number: 台湾省 (710000) has no household
# registration on the mainland; 81/82/83 start the residence permits (routed, not refused).
_NOT_CITIZEN_PROVINCES = {"71", "81", "82", "83"}

_ID18 = re.compile(r"\d{17}[\dX]")
_ID15 = re.compile(r"\d{15}")


def convert_15_to_18(number: str) -> str:
    """A first-generation 15-digit number (GB 11643-1989) in its 18-digit form: "19" goes in
    front of the two-digit year and the MOD 11-2 check digit is appended. (Nobody born before
    1900 kept a 15-digit number through the 1999 conversion, so the century is always 19.)"""
    if not _ID15.fullmatch(number):
        raise ValueError("not a 15-digit number")
    body = number[:6] + "19" + number[6:]
    return body + mod11_2(body)


def check_id_number(number: str, *, today: date | None = None) -> CheckResult:
    """A 公民身份号码 (GB 11643-1999).

    Checked in this order: 18 characters (17 digits and a digit or X; a lower-case x and
    spaces are accepted) or a 15-digit first-generation number, converted to 18 digits;
    numbers starting 810000/820000/830000 are residence permits (refused with the document
    type RESIDENCE_PERMIT and reason `is_residence_permit`, or the permit's own reason if it
    fails its checks); the first two digits are a province-level code; the six-digit address
    code is a GB/T 2260 code, current or abolished (a number keeps the code it was issued
    under); the ISO 7064 MOD 11-2 check digit; a real date of birth between 1850-01-01 and
    today. The 17th digit gives the sex (odd: M)."""
    kind = DocumentType.ID_NUMBER
    value = clean(number)
    if not value:
        return refused(kind, Reason.EMPTY)
    if len(value) not in (15, 18):
        return refused(kind, Reason.BAD_LENGTH)
    if len(value) == 15:
        if not _ID15.fullmatch(value):
            return refused(kind, Reason.BAD_CHARACTERS)
        value = convert_15_to_18(value)
    elif not _ID18.fullmatch(value):
        return refused(kind, Reason.BAD_CHARACTERS)
    elif value[:6] in RESIDENCE_PERMIT_REGIONS:
        permit = check_residence_permit(value, today=today)
        if not permit.valid:
            return permit
        return CheckResult(False, permit.document_type, permit.normalised,
                           Reason.IS_RESIDENCE_PERMIT, permit.region_code, permit.region_name,
                           permit.birth_date, permit.sex)
    if value[:2] in _NOT_CITIZEN_PROVINCES or not is_province(value[:2]):
        return refused(kind, Reason.BAD_PROVINCE, value)
    found = division(value[:6])
    if found is None:
        return refused(kind, Reason.UNKNOWN_REGION, value)
    return _check_body(kind, value, found.code, found.name, today)


def check_residence_permit(number: str, *, today: date | None = None) -> CheckResult:
    """A 港澳台居民居住证 number (2018 on): the citizen-number structure with the address code
    810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan), the MOD 11-2 check digit and a real
    date of birth between 1850-01-01 and today."""
    kind = DocumentType.RESIDENCE_PERMIT
    value = clean(number)
    if not value:
        return refused(kind, Reason.EMPTY)
    if len(value) != 18:
        return refused(kind, Reason.BAD_LENGTH)
    if not _ID18.fullmatch(value):
        return refused(kind, Reason.BAD_CHARACTERS)
    region = RESIDENCE_PERMIT_REGIONS.get(value[:6])
    if region is None:
        return refused(kind, Reason.NOT_RESIDENCE_PERMIT, value)
    return _check_body(kind, value, value[:6], region, today)


def _check_body(kind: DocumentType, value: str, region_code: str, region_name: str,
                today: date | None) -> CheckResult:
    """Check digit and date of birth of an 18-character number whose address code is known."""
    if mod11_2(value[:17]) != value[17]:
        return refused(kind, Reason.BAD_CHECK_DIGIT, value)
    born, problem = birth_date(value[6:14], today)
    if born is None:
        return refused(kind, problem or Reason.BAD_BIRTH_DATE, value)
    return CheckResult(True, kind, value, None, region_code, region_name, born,
                       sex_from_digit(value[16]))


def birth_date(yyyymmdd: str, today: date | None = None) -> tuple[date | None, Reason | None]:
    """A date of birth written YYYYMMDD, or why it cannot be one."""
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None, Reason.BAD_BIRTH_DATE
    if born > (today or date.today()):
        return None, Reason.BIRTH_DATE_IN_FUTURE
    if born < EARLIEST_BIRTH:
        return None, Reason.BIRTH_DATE_TOO_EARLY
    return born, None


def sex_from_digit(digit: str) -> Sex:
    """GB 11643-1999 §4.4: odd sequence digits are given to men, even ones to women."""
    return "M" if int(digit) % 2 else "F"

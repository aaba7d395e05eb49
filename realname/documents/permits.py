"""Travel permits for Hong Kong, Macao and Taiwan residents, and foreigners' residence cards."""

from __future__ import annotations

import re
from datetime import date

from realname.documents.checksums import clean, icao_check, mod11_2
from realname.documents.id_numbers import birth_date, sex_from_digit
from realname.documents.reference import (
    division,
    is_province,
    nationality_by_alpha3,
    nationality_by_numeric,
)
from realname.documents.result import CheckResult, Reason, refused
from realname.documents.types import DocumentType

_HK_MACAU = re.compile(r"[HM]\d{8}(\d{2})?")
_HK_MACAU_REGIONS = {"H": "810000", "M": "820000"}
_TW_CURRENT = re.compile(r"\d{8}")
_TW_LEGACY = re.compile(r"\d{10}(\([0-9A-Z]\)|[A-Z])?")
_TAIWAN = "710000"
_FPR_2017 = re.compile(r"[A-Z]{3}\d{12}")
_FPR_2023 = re.compile(r"9\d{16}[\dX]")
_NOT_FPR_PROVINCES = {"71", "81", "82", "83"}


def check_hk_macau_travel_permit(number: str) -> CheckResult:
    """A 港澳居民来往内地通行证 (回乡证) number.

    The Ministry of Public Security's numbering rule (1999 card, published 2010) gives 11
    characters: H (Hong Kong) or M (Macao), the holder's 8-digit lifelong number (终身号) and a
    2-digit issue count (00 on the first card, 01 after the first renewal, ...). The 2013 card
    prints the 9-character H/M + 8 digits as the number and the issue count apart. Both forms
    are accepted; `normalised` is the 9-character lifelong form, which does not change when the
    card is renewed. There is no check character, so nothing more can be verified offline."""
    kind = DocumentType.HK_MACAU_TRAVEL_PERMIT
    value = clean(number)
    if not value:
        return refused(kind, Reason.EMPTY)
    if len(value) not in (9, 11):
        return refused(kind, Reason.BAD_LENGTH)
    if not _HK_MACAU.fullmatch(value):
        return refused(kind, Reason.BAD_FORMAT if value[1:].isdigit() else Reason.BAD_CHARACTERS)
    region = _HK_MACAU_REGIONS[value[0]]
    found = division(region)
    return CheckResult(True, kind, value[:9], None, region, found.name if found else None)


def check_tw_travel_permit(number: str) -> CheckResult:
    """A 台湾居民来往大陆通行证 (台胞证) number.

    Since 2008-09-25 (一人一号、终身不变) and on the 2015 card the number is the holder's
    8-digit lifelong number (台胞终身号). Books issued 1992-2008 carried it followed by a 2-digit
    issue count and, until 2006 in Fujian, Jiangsu and Shanghai (and later at the Hong Kong and
    Macao offices), the issuing office's letter or digit in brackets, e.g. 1234567801(B). Those
    legacy forms (10 digits, optionally with the bracketed or bare office character) are
    accepted; `normalised` is the 8-digit lifelong number. There is no check character."""
    kind = DocumentType.TW_TRAVEL_PERMIT
    value = clean(number)
    if not value:
        return refused(kind, Reason.EMPTY)
    if not (_TW_CURRENT.fullmatch(value) or _TW_LEGACY.fullmatch(value)):
        legacy_suffix = len(value) > 10 and value[:10].isdigit()
        if len(value) not in (8, 10) and not legacy_suffix:
            return refused(kind, Reason.BAD_LENGTH)
        return refused(kind, Reason.BAD_FORMAT)
    found = division(_TAIWAN)
    return CheckResult(True, kind, value[:8], None, _TAIWAN, found.name if found else None)


def check_foreign_permanent_residence(number: str, *, today: date | None = None) -> CheckResult:
    """A 外国人永久居留身份证 number, in either format.

    2023 card (issued from 2023-12-01, 18 characters, modelled on the citizen number): "9";
    the province-level code of the accepting authority (2 digits); the nationality as a
    3-digit GB/T 2659 (ISO 3166-1) number; the date of birth YYYYMMDD; a 3-digit sequence
    (odd: M); the ISO 7064 MOD 11-2 check character. All of it is checked.

    2017 card (15 characters; the 2004 card used the same scheme): the nationality as 3
    letters (ISO 3166-1 alpha-3, or ICAO's XXA/XXB/XXC/XXX); the accepting authority's
    province and city codes (4 digits: the division code less its last two zeros); the date
    of birth YYMMDD; one sequence digit; a check digit computed as in ICAO Doc 9303 (weights
    7-3-1) over the first 14 characters. The check-digit rule is that of the implementations
    we could find, not of a published specification. The two-digit year is ambiguous, so
    `birth_date` is filled only when one century gives a possible date; `sex` is left empty."""
    kind = DocumentType.FOREIGN_PERMANENT_RESIDENCE
    value = clean(number)
    if not value:
        return refused(kind, Reason.EMPTY)
    if len(value) == 18:
        return _fpr_2023(value, today)
    if len(value) == 15:
        return _fpr_2017(value, today)
    return refused(kind, Reason.BAD_LENGTH)


def _fpr_2023(value: str, today: date | None) -> CheckResult:
    kind = DocumentType.FOREIGN_PERMANENT_RESIDENCE
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return refused(kind, Reason.BAD_CHARACTERS)
    if not _FPR_2023.fullmatch(value):
        return refused(kind, Reason.BAD_FORMAT)
    province = value[1:3]
    if province in _NOT_FPR_PROVINCES or not is_province(province):
        return refused(kind, Reason.BAD_PROVINCE, value)
    nationality = nationality_by_numeric(value[3:6])
    if nationality is None:
        return refused(kind, Reason.UNKNOWN_NATIONALITY, value)
    if mod11_2(value[:17]) != value[17]:
        return refused(kind, Reason.BAD_CHECK_DIGIT, value)
    born, problem = birth_date(value[6:14], today)
    if born is None:
        return refused(kind, problem or Reason.BAD_BIRTH_DATE, value)
    region = division(province + "0000")
    return CheckResult(True, kind, value, None, province + "0000", region.name if region else None,
                       born, sex_from_digit(value[16]), nationality.alpha3)


def _fpr_2017(value: str, today: date | None) -> CheckResult:
    kind = DocumentType.FOREIGN_PERMANENT_RESIDENCE
    if not re.fullmatch(r"[A-Z0-9]{15}", value):
        return refused(kind, Reason.BAD_CHARACTERS)
    if not _FPR_2017.fullmatch(value):
        return refused(kind, Reason.BAD_FORMAT)
    nationality = nationality_by_alpha3(value[:3])
    if nationality is None:
        return refused(kind, Reason.UNKNOWN_NATIONALITY, value)
    region = division(value[3:7] + "00")
    if region is None:
        return refused(kind, Reason.UNKNOWN_REGION, value)
    if icao_check(value[:14]) != value[14]:
        return refused(kind, Reason.BAD_CHECK_DIGIT, value)
    possible = [born for century in ("19", "20")
                if (born := birth_date(century + value[7:13], today)[0]) is not None]
    if not possible:
        # 19YY is never in the future nor before 1850, so only an impossible date gets here.
        return refused(kind, Reason.BAD_BIRTH_DATE, value)
    return CheckResult(True, kind, value, None, region.code, region.name,
                       possible[0] if len(possible) == 1 else None, None, nationality.alpha3)


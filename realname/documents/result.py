"""The one result of every document check, and the stable reason codes it may carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from realname.documents.types import DocumentType

Sex = Literal["M", "F"]


class Reason(StrEnum):
    """Why a number was refused: stable machine codes (views and the CLI map them to text)."""

    EMPTY = "empty"
    BAD_LENGTH = "bad_length"
    BAD_CHARACTERS = "bad_characters"
    BAD_FORMAT = "bad_format"
    BAD_CHECK_DIGIT = "bad_check_digit"
    BAD_BIRTH_DATE = "bad_birth_date"
    BIRTH_DATE_IN_FUTURE = "birth_date_in_future"
    BIRTH_DATE_TOO_EARLY = "birth_date_too_early"
    BAD_PROVINCE = "bad_province"
    UNKNOWN_REGION = "unknown_region"
    IS_RESIDENCE_PERMIT = "is_residence_permit"
    NOT_RESIDENCE_PERMIT = "not_residence_permit"
    UNKNOWN_NATIONALITY = "unknown_nationality"
    UNKNOWN_REGISTRATION_DEPARTMENT = "unknown_registration_department"
    UNKNOWN_ORGANISATION_CATEGORY = "unknown_organisation_category"
    UNKNOWN_REGISTERING_AUTHORITY = "unknown_registering_authority"
    BAD_ORG_CODE_CHECK = "bad_org_code_check"


@dataclass(frozen=True, slots=True)
class Explanation:
    en: str
    zh: str


REASONS: Mapping[str, Explanation] = MappingProxyType({
    Reason.EMPTY: Explanation("No number was entered.", "未填写证件号码。"),
    Reason.BAD_LENGTH: Explanation(
        "The number has the wrong number of characters for this document.",
        "号码位数不符合该证件的规定。"),
    Reason.BAD_CHARACTERS: Explanation(
        "The number contains characters this document never uses.",
        "号码含有该证件不使用的字符。"),
    Reason.BAD_FORMAT: Explanation(
        "The characters are not in the order this document uses.",
        "号码的组成不符合该证件的格式。"),
    Reason.BAD_CHECK_DIGIT: Explanation(
        "The check character does not match: a character was probably mistyped.",
        "校验码不符，可能有字符输入错误。"),
    Reason.BAD_BIRTH_DATE: Explanation(
        "The date of birth in the number is not a real date.",
        "号码中的出生日期不是有效日期。"),
    Reason.BIRTH_DATE_IN_FUTURE: Explanation(
        "The date of birth in the number is in the future.",
        "号码中的出生日期晚于今天。"),
    Reason.BIRTH_DATE_TOO_EARLY: Explanation(
        "The date of birth in the number is before 1850.",
        "号码中的出生日期早于1850年。"),
    Reason.BAD_PROVINCE: Explanation(
        "The first two digits are not a province, autonomous region or municipality.",
        "前两位不是省、自治区、直辖市代码。"),
    Reason.UNKNOWN_REGION: Explanation(
        "The address code is not a GB/T 2260 administrative division code, past or present.",
        "地址码不是现行或历史上的行政区划代码（GB/T 2260）。"),
    Reason.IS_RESIDENCE_PERMIT: Explanation(
        "This is the number of a residence permit for Hong Kong, Macao or Taiwan residents, "
        "not a citizen ID number.",
        "这是港澳台居民居住证号码，不是公民身份号码。"),
    Reason.NOT_RESIDENCE_PERMIT: Explanation(
        "A residence permit number for Hong Kong, Macao or Taiwan residents begins with "
        "810000, 820000 or 830000.",
        "港澳台居民居住证号码以810000、820000或830000开头。"),
    Reason.UNKNOWN_NATIONALITY: Explanation(
        "The nationality code is not a known country or region code.",
        "国籍代码不是已知的国家或地区代码。"),
    Reason.UNKNOWN_REGISTRATION_DEPARTMENT: Explanation(
        "The first character is not a registration-management department code.",
        "第1位不是登记管理部门代码。"),
    Reason.UNKNOWN_ORGANISATION_CATEGORY: Explanation(
        "The second character is not an organisation category of that department.",
        "第2位不是该登记管理部门的机构类别代码。"),
    Reason.UNKNOWN_REGISTERING_AUTHORITY: Explanation(
        "Characters 3 to 8 are not the division code of a registering authority.",
        "第3至8位不是登记管理机关行政区划码。"),
    Reason.BAD_ORG_CODE_CHECK: Explanation(
        "The organisation code inside it (characters 9 to 17) fails its own check.",
        "其中的组织机构代码（第9至17位）校验不符。"),
})


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What a check found. `normalised` is the canonical form (upper case, no spaces, a
    15-digit ID number as 18 digits, a travel permit's lifelong number) whenever the number
    could be read; the other fields are filled where the document carries them.

    The repr never shows the number or the date of birth (they are personal data)."""

    valid: bool
    document_type: DocumentType
    normalised: str | None = None
    reason: str | None = None
    region_code: str | None = None
    region_name: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    nationality: str | None = None  # ISO 3166-1 alpha-3 (foreign permanent residence cards)

    def __post_init__(self) -> None:
        if isinstance(self.reason, Reason):  # stored as the plain code, as JSON will carry it
            object.__setattr__(self, "reason", self.reason.value)

    def __repr__(self) -> str:
        return (f"CheckResult(valid={self.valid}, document_type={self.document_type.value!r}, "
                f"reason={self.reason!r})")

    @property
    def explanation(self) -> Explanation | None:
        return REASONS.get(self.reason) if self.reason else None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: enum and date values as strings, with the reason explained."""
        explanation = self.explanation
        return {
            "valid": self.valid,
            "document_type": self.document_type.value,
            "normalised": self.normalised,
            "reason": self.reason,
            "reason_en": explanation.en if explanation else None,
            "reason_zh": explanation.zh if explanation else None,
            "region_code": self.region_code,
            "region_name": self.region_name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "nationality": self.nationality,
        }


def refused(document_type: DocumentType, reason: Reason, normalised: str | None = None,
            ) -> CheckResult:
    return CheckResult(False, document_type, normalised=normalised, reason=reason)

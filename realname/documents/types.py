"""The identity documents realname knows, with the names people and the CLI use for them."""

from __future__ import annotations

from enum import StrEnum


class DocumentType(StrEnum):
    """One member per document; the value is the stable name used on the CLI and in storage."""

    ID_NUMBER = "id-number"  # 公民身份号码 (GB 11643-1999)
    CREDIT_CODE = "credit-code"  # 统一社会信用代码 (GB 32100-2015)
    RESIDENCE_PERMIT = "hk-macau-tw-residence-permit"  # 港澳台居民居住证
    HK_MACAU_TRAVEL_PERMIT = "hk-macau-travel-permit"  # 港澳居民来往内地通行证 (回乡证)
    TW_TRAVEL_PERMIT = "tw-travel-permit"  # 台湾居民来往大陆通行证 (台胞证)
    FOREIGN_PERMANENT_RESIDENCE = "foreign-permanent-residence"  # 外国人永久居留身份证
    PASSPORT = "passport"  # 护照 (format only)

    @property
    def name_zh(self) -> str:
        return _NAMES[self][0]

    @property
    def name_en(self) -> str:
        return _NAMES[self][1]


_NAMES: dict[DocumentType, tuple[str, str]] = {
    DocumentType.ID_NUMBER: ("公民身份号码", "Citizen ID number"),
    DocumentType.CREDIT_CODE: ("统一社会信用代码", "Unified social credit code"),
    DocumentType.RESIDENCE_PERMIT: (
        "港澳台居民居住证",
        "Residence permit for Hong Kong, Macao and Taiwan residents",
    ),
    DocumentType.HK_MACAU_TRAVEL_PERMIT: (
        "港澳居民来往内地通行证",
        "Mainland travel permit for Hong Kong and Macao residents",
    ),
    DocumentType.TW_TRAVEL_PERMIT: (
        "台湾居民来往大陆通行证",
        "Mainland travel permit for Taiwan residents",
    ),
    DocumentType.FOREIGN_PERMANENT_RESIDENCE: (
        "外国人永久居留身份证",
        "Foreign permanent resident ID card",
    ),
    DocumentType.PASSPORT: ("护照", "Passport"),
}

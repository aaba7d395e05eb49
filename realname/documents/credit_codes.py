"""统一社会信用代码 of legal persons and other organisations (GB 32100-2015)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from realname.documents.checksums import (
    CREDIT_CODE_ALPHABET,
    clean,
    credit_code_check,
    org_code_check,
)
from realname.documents.reference import NATIONAL_LEVEL, division
from realname.documents.result import CheckResult, Reason, refused
from realname.documents.types import DocumentType

# 登记管理部门代码 (1st character) -> (department, {机构类别代码 (2nd character): category}).
# GB 32100-2015 §4.1 names 1 机构编制, 5 民政, 9 工商 and Y 其他; the other departments and their
# categories were assigned since by the national code centre (全国组织机构统一社会信用代码数据
# 服务中心), whose published table this copies.
DEPARTMENTS: Mapping[str, tuple[str, Mapping[str, str]]] = MappingProxyType({
    "1": ("机构编制", {"1": "机关", "2": "事业单位",
                   "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": ("司法行政", {"1": "律师执业机构", "2": "公证处", "3": "基层法律服务所",
                   "4": "司法鉴定机构", "5": "仲裁委员会", "9": "其他"}),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": ("旅游", {"1": "外国旅游部门常驻代表机构",
                 "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"}),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织",
                 "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
})
# 个体工商户 were never in the GB 11714 organisation-code system (they held no 组织机构代码证);
# registration authorities gave them bodies from code-centre blocks (which pass GB 11714) or by
# local rules (which need not), so for them a failing body check proves nothing.
NO_ORG_CODE = {"92"}
_ALPHABET = set(CREDIT_CODE_ALPHABET)


def check_credit_code(code: str) -> CheckResult:
    """A 统一社会信用代码 (GB 32100-2015).

    Checked in this order: 18 characters from the 31-character alphabet (digits and capital
    letters without I, O, S, V, Z; spaces and lower case accepted); the MOD 31 check character
    (18th); the registration-management department (1st) and its organisation category (2nd)
    from DEPARTMENTS; the registering authority (3rd-8th), which is 100000 (national level) or
    a GB/T 2260 code, current or abolished; and, except for 个体工商户 (92), the GB 11714-1997
    check character of the organisation code in 9th-17th. region_code/region_name name the
    registering authority's division."""
    kind = DocumentType.CREDIT_CODE
    value = clean(code)
    if not value:
        return refused(kind, Reason.EMPTY)
    if len(value) != 18:
        return refused(kind, Reason.BAD_LENGTH)
    if not set(value) <= _ALPHABET:
        return refused(kind, Reason.BAD_CHARACTERS)
    if credit_code_check(value[:17]) != value[17]:
        return refused(kind, Reason.BAD_CHECK_DIGIT, value)
    department = DEPARTMENTS.get(value[0])
    if department is None:
        return refused(kind, Reason.UNKNOWN_REGISTRATION_DEPARTMENT, value)
    if value[1] not in department[1]:
        return refused(kind, Reason.UNKNOWN_ORGANISATION_CATEGORY, value)
    authority = value[2:8]
    if authority == NATIONAL_LEVEL:
        region_name: str | None = "全国"
    else:
        found = division(authority) if authority.isdigit() else None
        if found is None:
            return refused(kind, Reason.UNKNOWN_REGISTERING_AUTHORITY, value)
        region_name = found.name
    if value[:2] not in NO_ORG_CODE and org_code_check(value[8:16]) != value[16]:
        return refused(kind, Reason.BAD_ORG_CODE_CHECK, value)
    return CheckResult(True, kind, value, None, authority, region_name)


def organisation_category(code: str) -> tuple[str, str] | None:
    """(department, category) in Chinese for a code's first two characters, if known."""
    value = clean(code)
    department = DEPARTMENTS.get(value[:1])
    if department is None or len(value) < 2 or value[1] not in department[1]:
        return None
    return department[0], department[1][value[1]]

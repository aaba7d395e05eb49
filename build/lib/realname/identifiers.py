"""Citizen ID numbers (GB 11643-1999) and unified social credit codes (GB 32100-2015)."""

from __future__ import annotations

import re
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")

_CC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_CC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def is_valid_id_number(value: str) -> bool:
    """18-character 公民身份号码: a real date of birth and the ISO 7064 MOD 11-2 check digit."""
    value = value.strip().upper()
    if not _ID_RE.match(value):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > date.today():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def mask_id_number(value: str) -> str:
    """Shown masked: the first four and last four characters only (4401**********123X)."""
    value = value.strip().upper()
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def is_valid_credit_code(value: str) -> bool:
    """18-character 统一社会信用代码 with its MOD 31 check character (GB 32100-2015)."""
    value = value.strip().upper()
    if not _CC_RE.match(value):
        return False
    total = sum(_CC_CHARS.index(c) * w for c, w in zip(value[:17], _CC_WEIGHTS, strict=True))
    return _CC_CHARS[(31 - total % 31) % 31] == value[17]

"""Passport numbers: their format only (no issuing state publishes a way to check them)."""

from __future__ import annotations

import re

from realname.documents.checksums import clean
from realname.documents.result import CheckResult, Reason, refused
from realname.documents.types import DocumentType

_ANY = re.compile(r"[A-Z0-9]{5,17}")
# 中华人民共和国普通护照: E + 8 digits (electronic passports from 2012), then E + a letter +
# 7 digits once the digit-only series ran out. The older G series was last issued in 2012 and
# has expired since, so it is not accepted as a Chinese passport.
_CHINESE_ORDINARY = re.compile(r"E(\d{8}|[A-Z]\d{7})")


def check_passport(number: str, issuing_state: str | None = None) -> CheckResult:
    """A passport number, format only.

    Exactly what is checked, after removing spaces and upper-casing: 5 to 17 characters, each
    a digit or a Latin letter (no check digit is verified: the ICAO one lives in the
    machine-readable zone, not in the number people type). With issuing_state "CHN" the number
    must be a Chinese ordinary passport's: E and 8 digits, or E, one letter and 7 digits."""
    kind = DocumentType.PASSPORT
    value = clean(number)
    if not value:
        return refused(kind, Reason.EMPTY)
    if issuing_state is not None and issuing_state.upper() == "CHN":
        if len(value) != 9:
            return refused(kind, Reason.BAD_LENGTH)
        if not _CHINESE_ORDINARY.fullmatch(value):
            return refused(kind, Reason.BAD_FORMAT)
        return CheckResult(True, kind, value)
    if not 5 <= len(value) <= 17:
        return refused(kind, Reason.BAD_LENGTH)
    if not _ANY.fullmatch(value):
        return refused(kind, Reason.BAD_CHARACTERS)
    return CheckResult(True, kind, value)

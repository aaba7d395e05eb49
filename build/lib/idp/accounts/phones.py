"""Mainland mobile numbers, normalised before any check: full-width digits, spaces, dashes and
the +86 / 0086 country prefix are folded, so limits and uniqueness apply to one spelling."""

from __future__ import annotations

import re
import unicodedata

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
SEPARATORS = re.compile(r"[\s\-().\u00a0\u3000]")


def normalize_phone(raw: str | None) -> str:
    """The canonical 11-digit form of what a person typed, or what they typed (cleaned) when
    it is not a mobile number; check the result with `is_mobile`."""
    if not raw:
        return ""
    text = SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    else:
        if len(text) == 13 and text.startswith("86"):
            text = text[2:]
    return text


def is_mobile(value: str | None) -> bool:
    """An already normalised mainland mobile number (ASCII digits only)."""
    return bool(value) and PHONE_RE.fullmatch(value or "") is not None

"""What an identity-card reader hands the workbench: one JSON object, read into the same
fields a clerk would type. Accepted shape (docs/counter.md):

    {"type": "id-number", "number": "...", "name": "...", "valid_until": "2030-01-01"}

`type` is a realname DocumentType value (default "id-number"); `valid_until` is YYYY-MM-DD,
YYYYMMDD, or "长期" / "long-term" for a card valid without limit. Common reader spellings are
accepted as aliases (`id_number`, `idNumber`, `certNo`; `validUntil`, `validEnd`,
`expiry`; `document_type`). Every other key (photo, address, issuing authority, …) is ignored
and never stored."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from realname.documents import DocumentType

MAX_LENGTH = 64 * 1024  # a reader's photo in base64 fits; nothing larger is read
LONG_TERM = date(9999, 12, 31)  # 长期: the card carries no end date
LONG_TERM_WORDS = {"长期", "long-term", "longterm", "permanent"}
ALIASES = {
    "type": ("type", "document_type", "documentType"),
    "number": ("number", "id_number", "idNumber", "certNo"),
    "name": ("name",),
    "valid_until": ("valid_until", "validUntil", "validEnd", "expiry"),
}


@dataclass(frozen=True)
class CardData:
    document_type: str
    number: str
    name: str
    valid_until: date


class CardReaderError(ValueError):
    """`code`: too_large, not_json, unknown_type, missing_number, missing_name, bad_date."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _pick(data: dict[str, object], field: str) -> str:
    for name in ALIASES[field]:
        value = data.get(name)
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return ""


def parse_date(value: str) -> date | None:
    """YYYY-MM-DD, YYYY.MM.DD, YYYYMMDD, or a long-term word; None if unreadable."""
    text = value.strip()
    if text.lower() in LONG_TERM_WORDS:
        return LONG_TERM
    match = re.fullmatch(r"(\d{4})[-./]?(\d{2})[-./]?(\d{2})", text)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def parse(text: str) -> CardData:
    if len(text) > MAX_LENGTH:
        raise CardReaderError("too_large")
    try:
        data = json.loads(text)
    except ValueError:
        raise CardReaderError("not_json") from None
    if not isinstance(data, dict):
        raise CardReaderError("not_json")
    kind = _pick(data, "type") or DocumentType.ID_NUMBER.value
    if kind not in {t.value for t in DocumentType}:
        raise CardReaderError("unknown_type")
    number, name = _pick(data, "number"), _pick(data, "name")
    if not number:
        raise CardReaderError("missing_number")
    if not name:
        raise CardReaderError("missing_name")
    valid_until = parse_date(_pick(data, "valid_until"))
    if valid_until is None:
        raise CardReaderError("bad_date")
    return CardData(kind, number, " ".join(name.split()), valid_until)

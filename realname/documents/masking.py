"""How each document's number is shown to people: masked, never in full."""

from __future__ import annotations

from realname.documents.checksums import clean
from realname.documents.types import DocumentType

# Characters kept at each end. Citizen ID numbers (15 or 18 digits), residence permits and
# 18-digit foreign permanent residence cards keep four and four, as ID numbers have always been
# shown (4401**********123X): the province and city, and three sequence digits with the check
# digit, never the full date of birth. Other documents keep two and two, so at least half of a
# 9-character permit or passport number stays hidden. Numbers too short for that are all stars.
_KEEP_LONG = 4
_KEEP_SHORT = 2
_ID_SHAPED = {DocumentType.ID_NUMBER, DocumentType.RESIDENCE_PERMIT}


def mask(document_type: DocumentType | str, number: str) -> str:
    """The number as it may be shown, e.g. 4401**********123X, H1*****78, E1*****78.

    Spaces are removed and letters upper-cased first; the number does not have to be valid.
    A unified social credit code is returned unmasked: it identifies an organisation, not a
    person, and is public (printed on the business licence and published in the national
    enterprise credit information system)."""
    kind = DocumentType(document_type)
    value = clean(number)
    if kind is DocumentType.CREDIT_CODE:
        return value
    long_form = kind in _ID_SHAPED or len(value) == 18
    keep = _KEEP_LONG if long_form else _KEEP_SHORT
    if len(value) <= 2 * keep:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def mask_id_number(value: str) -> str:
    """Shown masked: the first four and last four characters only (4401**********123X)."""
    return mask(DocumentType.ID_NUMBER, value)

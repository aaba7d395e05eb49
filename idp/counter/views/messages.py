"""What a clerk is told: every verification, registration and recovery outcome explained in
the clerk's language, and the document as read (typed, or from a card reader's JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.counter.cardreader import LONG_TERM, CardReaderError, parse, parse_date
from idp.counter.forms import DocumentForm
from idp.counter.views.common import chinese
from realname.documents import REASONS

CARD_ERRORS = {
    "too_large": _l("The card reader data is too large."),
    "not_json": _l("The card reader data is not a JSON object."),
    "unknown_type": _l("The card reader named a document type the workbench does not know."),
    "missing_number": _l("The card reader data has no document number."),
    "missing_name": _l("The card reader data has no name."),
    "bad_date": _l("The card reader data has no readable validity date."),
}

OUTCOMES = {
    "wrong_type": _l("This kind of document cannot prove a person's identity at the counter."),
    "name_mismatch": _l("Enter the name exactly as printed on the document."),
    "expired_document": _l("The document has expired, or its validity date is missing. Only a "
                           "document that is still valid can be accepted."),
    "photo_not_compared": _l("Compare the photo on the document with the person in front of "
                             "you, then tick the box. Nothing was recorded."),
    "different_document": _l("This account is already verified with a different document. "
                             "Check that this is the right person's account; changing the "
                             "document of an account needs an operator."),
    "own_record": _l("You cannot verify yourself or act on your own account. Ask a "
                     "colleague."),
    "own": _l("You cannot verify yourself or act on your own account. Ask a colleague."),
    "invalid_phone": _l("Enter an 11-digit mobile number, or leave it empty."),
    "phone_taken": _l("This mobile number is already registered to another account. Leave it "
                      "empty, or use another number."),
    "not_verified": _l("First verify the person in person on this page: recovery needs your "
                       "own successful verification of them made within the last 30 "
                       "minutes."),
    "nothing_chosen": _l("Choose at least one action."),
    "exists": _l("This mobile number is already registered to another account."),
    "too_many_attempts": _l("Too many attempts for this account today."),
}


# Disabling and re-enabling an account (AccountLifecycle's refusals, and the counter's rule).
STATUS_MESSAGES = {
    "not_verified": _l("First verify the person in person on this page: re-enabling an "
                       "account needs your own successful verification of them made within "
                       "the last 30 minutes."),
    "already_disabled": _l("The account is already disabled."),
    "not_disabled": _l("The account is not disabled."),
    "erased": _l("This account was deleted at the person's request and erased."),
    "reason_required": _l("Give a reason."),
}


@dataclass(frozen=True)
class DocumentInput:
    document_type: str
    number: str
    name: str
    valid_until: date | None
    source: str  # typed | card_reader


def document_input(form: DocumentForm) -> tuple[DocumentInput | None, str | None]:
    """The document from the form: the card reader's JSON when given (typed fields, if also
    filled, must agree with it), else the typed fields."""
    typed_number = (form.number.data or "").strip().upper().replace(" ", "")
    typed_name = " ".join((form.name.data or "").split())
    raw = (form.card_json.data or "").strip()
    if raw:
        try:
            card = parse(raw)
        except CardReaderError as error:
            return None, str(CARD_ERRORS[error.code])
        if typed_number and typed_number != card.number.upper().replace(" ", ""):
            return None, _("The typed number differs from what the card reader read.")
        if typed_name and typed_name != card.name:
            return None, _("The typed name differs from what the card reader read.")
        return DocumentInput(card.document_type, card.number, card.name, card.valid_until,
                             "card_reader"), None
    if not typed_number:
        return None, _("Enter the document number, or paste the card reader data.")
    if not typed_name:
        return None, str(OUTCOMES["name_mismatch"])
    valid_until = LONG_TERM if form.long_term.data else \
        parse_date(form.valid_until.data or "")
    return DocumentInput(form.document_type.data or "", typed_number, typed_name, valid_until,
                         "typed"), None


def invalid_number(reason: str | None) -> str:
    explanation = REASONS.get(reason or "")
    text = (explanation.zh if chinese() else explanation.en) if explanation else ""
    return _("The document number is not valid. %(explanation)s", explanation=text).strip()


def outcome_message(code: str, details: dict[str, Any], case_id: int | None = None) -> str:
    if code == "invalid_number":
        return invalid_number(details.get("reason"))
    if code == "case_opened":
        return _("This document already belongs to another account. Case No. %(case)s was "
                 "opened: a supervisor will decide which account keeps it. Nothing was changed "
                 "on either account.", case=case_id)
    message = OUTCOMES.get(code)
    return str(message) if message is not None else \
        _("The request could not be completed (%(code)s).", code=code)

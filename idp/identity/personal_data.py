"""The person's verification records and identity claims for their copy of their data (PIPL
Art. 45): the accounts layer's `IdentityRecords` port. Masked numbers only; the clerk or
operator behind a record is left out (the hall names the counter)."""

from __future__ import annotations

from sqlalchemy import select

from idp.accounts.personal_data import utc
from idp.accounts.ports import ClaimEntry, VerificationEntry
from idp.extensions import db
from idp.identity.models import IdentityCase, Verification
from idp.identity.views import METHOD_NAMES, RESULT_NAMES


def _method(method: str) -> str:
    return str(METHOD_NAMES.get(method, method))


class IdentityRecordsSource:
    def verifications_of(self, user_id: str) -> list[VerificationEntry]:
        rows = db.session.execute(select(Verification).where(Verification.user_id == user_id)
                                  .order_by(Verification.id)).scalars()
        return [VerificationEntry(
            at=utc(r.created_at), method=r.method,
            method_label=_method(r.method), level=r.level, result=r.result,
            result_label=str(RESULT_NAMES.get(r.result, r.result)),
            document_type=r.document_type, masked_number=r.masked_number,
            hall_code=r.hall_code, transaction_id=r.transaction_id, score=r.score,
            document_valid_until=(r.evidence or {}).get("valid_until"),
            revoked_at=utc(r.revoked_at)) for r in rows]

    def claims_of(self, user_id: str) -> list[ClaimEntry]:
        """Cases the person opened by proving a document another account held. Cases where
        the person's account is the holder are the claimant's data (their name, their proof)
        and stay out; what they did to this account is in its own records and audit."""
        rows = db.session.execute(select(IdentityCase).where(IdentityCase.claimant_id == user_id)
                                  .order_by(IdentityCase.id)).scalars()
        return [ClaimEntry(
            opened_at=utc(c.opened_at), document_type=c.document_type,
            masked_number=c.masked_number, name=c.name, method=c.method,
            method_label=_method(c.method), level=c.level, status=c.status,
            resolution=c.resolution, resolved_at=utc(c.resolved_at)) for c in rows]

"""Verification records (核验记录) and identity cases: what a trust level is derived from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db


def _now() -> datetime:
    return datetime.now(UTC)


# How a record was made, and the most it may grant (identity.levels lists the rules).
ONLINE_TWO_ELEMENT = "online_two_element"  # name + ID number confirmed by the national platform
ONLINE_REAL_PERSON = "online_real_person"  # ... plus a face image matched by the platform
COUNTER = "counter"  # in person at a service hall: document read, photo compared by a clerk
OVERRIDE = "override"  # an operator set the level, with a reason
CASE_TRANSFER = "case_transfer"  # a supervisor moved a disputed document to this account

VERIFIED = "verified"  # the only result that grants anything


class Verification(db.Model):  # type: ignore[name-defined]
    """One attempt to establish who an account belongs to, successful or not. Rows are never
    updated except to revoke them, or to erase the person's data from them when their deleted
    account is purged (IdentityService.erase_person); the account's trust level is derived
    from the rows."""

    __tablename__ = "identity_verification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    method: Mapped[str] = mapped_column(String(24))
    level: Mapped[int] = mapped_column(SmallInteger)  # what it grants if `result` is verified
    # verified | invalid | no_match | not_found | face_mismatch | unavailable | conflict
    result: Mapped[str] = mapped_column(String(24))
    document_type: Mapped[str | None] = mapped_column(String(40))
    fingerprint: Mapped[str | None] = mapped_column(String(100), index=True)
    masked_number: Mapped[str | None] = mapped_column(String(40))
    transaction_id: Mapped[str | None] = mapped_column(String(80))  # the platform's
    score: Mapped[float | None] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(160))  # Actor.label of who made it
    staff_id: Mapped[str | None] = mapped_column(String(36))
    hall_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)  # an override's or revocation's reason
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # never the number itself
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdentityCase(db.Model):  # type: ignore[name-defined]
    """A document number proven on one account while another account holds it: nothing is
    linked until a supervisor decides (案件: transfer the document, or keep it where it is)."""

    __tablename__ = "identity_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="duplicate_document")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    claimant_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    holder_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    document_type: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(100))
    sealed_number: Mapped[str] = mapped_column(Text)  # to link it if the case is decided so
    masked_number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(100))  # as the claimant proved it
    method: Mapped[str] = mapped_column(String(24))  # how the claimant proved it
    level: Mapped[int] = mapped_column(SmallInteger)  # what that proof would have granted
    transaction_id: Mapped[str | None] = mapped_column(String(80))
    opened_by: Mapped[str] = mapped_column(String(160))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    resolution: Mapped[str | None] = mapped_column(String(16))  # transferred | kept
    resolved_by: Mapped[str | None] = mapped_column(String(160))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)

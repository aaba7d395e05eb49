"""Counter-workbench tables: service halls, staff accounts and one-time activation codes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db

# Roles, from least to most: what each may do is `idp.counter.roles`.
CLERK, SUPERVISOR, HALL_ADMIN, OPERATOR = "clerk", "supervisor", "hall_admin", "operator"
ROLES = (CLERK, SUPERVISOR, HALL_ADMIN, OPERATOR)

# What an activation code is for: a new account made at the counter, or a password reset
# after an in-person check.
ACTIVATE, RESET = "activate", "reset"


def _uuid() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


class ServiceHall(db.Model):  # type: ignore[name-defined]
    """A service hall (行政服务中心) where counters verify people in person."""

    __tablename__ = "service_hall"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    division_code: Mapped[str] = mapped_column(String(6))  # GB/T 2260
    # CIDRs the hall's workstations connect from; empty = no restriction.
    ip_allowlist: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class StaffAccount(db.Model):  # type: ignore[name-defined]
    """A counter staff member: separate from citizen accounts, bound to one hall, and never
    signed in without a confirmed authenticator app."""

    __tablename__ = "staff_account"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    hall_code: Mapped[str] = mapped_column(ForeignKey("service_hall.code"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret_sealed: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                                default=0)
    enrolment_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolment_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The staff member's own citizen account and ID-number fingerprint: a clerk never acts
    # on their own record.
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    id_fingerprint: Mapped[str | None] = mapped_column(String(100))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Workbench sessions begun before this moment (unix seconds) are over: signing out
    # or being disabled is decided here, durably, so a store restored from an older copy
    # cannot bring a session back.
    sessions_valid_after: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"))

    @property
    def enrolled(self) -> bool:
        return self.totp_secret_sealed is not None and not self.must_change_password


class ActivationCode(db.Model):  # type: ignore[name-defined]
    """A one-time code printed on an activation slip: the person sets their own password with
    it at /activate. Stored as a keyed hash; the plain code is shown once."""

    __tablename__ = "activation_code"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    issued_by: Mapped[str | None] = mapped_column(
        ForeignKey("staff_account.id", ondelete="SET NULL"))
    hall_code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

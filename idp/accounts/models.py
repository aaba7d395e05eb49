"""The natural-person account (自然人账户)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db


def _uuid() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


class User(db.Model):  # type: ignore[name-defined]
    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # False for a username the platform made up at self-registration ("u" + hex): pages then
    # show the person's name or masked phone instead, never a name they did not choose.
    username_chosen: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # 可信等级 2..5, derived from the account's verification records (identity.services
    # recompute is its only writer) and stored here for readers such as the token endpoint.
    trust_level: Mapped[int] = mapped_column(SmallInteger, default=2)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # The verified identity document (公民身份号码, or another document for people without
    # one): sealed at rest, found by a keyed fingerprint (`kid.hex`, older keys re-fingerprinted
    # when found), shown masked (design.md). One document per account, one account per document.
    id_number_sealed: Mapped[str | None] = mapped_column(Text)
    id_number_hash: Mapped[str | None] = mapped_column(String(100), unique=True)
    id_document_type: Mapped[str | None] = mapped_column(String(40))  # realname DocumentType
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_secret_sealed: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                                default=0)
    # Sessions created at or before this moment (unix seconds) are over, wherever they are
    # held: `idp users logout` reaches sessions in a store it cannot see.
    sessions_valid_after: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"))
    # 注销账号 (docs/account-lifecycle.md): when the person asked for the account to be deleted
    # (the cooling-off period runs from here; cancelling clears it), and when the purge job
    # erased it. An erased row stays, without personal data, so that audit rows and the
    # subjects business systems hold still name an account id that leads to nobody.
    deletion_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                                   index=True)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                 onupdate=_now)


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    """One-time second-factor recovery codes (shown once, stored as keyed hashes)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginGuardRow(db.Model):  # type: ignore[name-defined]
    """Login failure state of one subject (an account, a typed identifier's keyed hash, or
    `ip:<address>`): durable, so losing the cache never lifts a lock (accounts.lockout)."""

    __tablename__ = "login_guard"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    slots: Mapped[int] = mapped_column(Integer, default=0)  # attempts reserved in the window
    failures: Mapped[int] = mapped_column(Integer, default=0)  # failures settled in the window
    window_start: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    wait_until: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    locked_until: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"))


class AgreementAcceptance(db.Model):  # type: ignore[name-defined]
    """A person accepted a version of a document (用户服务协议, 隐私政策) of idp.branding."""

    __tablename__ = "agreement_acceptance"
    __table_args__ = (UniqueConstraint("user_id", "document", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    document: Mapped[str] = mapped_column(String(20))  # terms | privacy
    version: Mapped[str] = mapped_column(String(32))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

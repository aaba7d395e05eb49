"""Second factors: TOTP enrolment and checks, one-time recovery codes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from idp.accounts.models import RecoveryCode, User
from idp.accounts.signals import CREDENTIAL_CHANGE, announce
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db
from idp.security import totp
from idp.security.crypto import KeyedHash, SealingBox
from idp.store import Store

RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ENROLMENT_TTL = 600


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


class MfaService:
    def __init__(self, store: Store, box: SealingBox, hasher: KeyedHash) -> None:
        self.store = store
        self.box = box
        self.hasher = hasher

    # --- TOTP ---
    def has_totp(self, user: User) -> bool:
        return user.totp_secret_sealed is not None

    def start_totp(self, user: User) -> Enrolment:
        """A new secret, kept sealed in the store until the person proves it with a code."""
        secret = totp.new_secret()
        self.store.set("totp-pending:" + user.id, self.box.seal(secret), ENROLMENT_TTL)
        uri = totp.provisioning_uri(secret, user.username)
        return Enrolment(secret, uri, totp.qr_svg(uri))

    def pending_totp(self, user: User) -> Enrolment | None:
        sealed = self.store.get("totp-pending:" + user.id)
        if sealed is None:
            return None
        secret = self.box.open(sealed)
        uri = totp.provisioning_uri(secret, user.username)
        return Enrolment(secret, uri, totp.qr_svg(uri))

    def confirm_totp(self, user: User, code: str, ip: str | None) -> list[str] | None:
        """Turn the pending secret on if `code` matches; returns fresh recovery codes."""
        pending = self.store.get("totp-pending:" + user.id)
        if pending is None:
            return None
        step = totp.matching_step(self.box.open(pending), code, after_step=0)
        if step is None:
            return None
        self.store.delete("totp-pending:" + user.id)
        user.totp_secret_sealed, user.totp_last_step = pending, step
        record_event(Tag.TOTP_ENROLLED, actor=Actor.citizen(user.id), user_id=user.id, ip=ip)
        announce(user.id, CREDENTIAL_CHANGE, credential_type="app", change_type="create",
                 by="citizen")
        return self.issue_recovery_codes(user, ip)

    def check_totp(self, user: User, code: str) -> bool:
        """True once per time step: a code already used is refused (atomic compare-and-set)."""
        if user.totp_secret_sealed is None:
            return False
        db.session.refresh(user, ["totp_last_step"])
        step = totp.matching_step(self.box.open(user.totp_secret_sealed), code,
                                  after_step=user.totp_last_step)
        if step is None:
            return False
        moved = db.session.execute(
            update(User).where(User.id == user.id, User.totp_last_step < step)
            .values(totp_last_step=step))
        return moved.rowcount == 1  # type: ignore[attr-defined]

    def remove_totp(self, user: User, actor: Actor, ip: str | None) -> None:
        user.totp_secret_sealed, user.totp_last_step = None, 0
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        record_event(Tag.TOTP_REMOVED, actor=actor, user_id=user.id, ip=ip)
        announce(user.id, CREDENTIAL_CHANGE, credential_type="app", change_type="delete",
                 by=actor.kind)
        db.session.flush()

    def record_result(self, user: User, method: str, ok: bool, ip: str | None) -> None:
        record_event(Tag.MFA_SUCCESS if ok else Tag.MFA_FAILURE, actor=Actor.citizen(user.id),
                     user_id=user.id, ip=ip, data={"method": method})
        db.session.flush()

    # --- recovery codes ---
    def issue_recovery_codes(self, user: User, ip: str | None, count: int = 10) -> list[str]:
        """Replace the person's recovery codes; the plain codes are returned once, only here."""
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
                 for _ in range(count)]
        for code in codes:
            db.session.add(RecoveryCode(user_id=user.id, code_hash=self.hasher.digest(code)))
        record_event(Tag.RECOVERY_CODES_ISSUED, actor=Actor.citizen(user.id), user_id=user.id,
                     ip=ip, data={"count": count})
        db.session.flush()
        return [f"{c[:5]}-{c[5:]}" for c in codes]

    def use_recovery_code(self, user: User, code: str, ip: str | None) -> bool:
        normalized = code.strip().lower().replace("-", "").replace(" ", "")
        used = db.session.execute(
            update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                       RecoveryCode.code_hash == self.hasher.digest(normalized),
                                       RecoveryCode.used_at.is_(None))
            .values(used_at=datetime.now(UTC)))
        if used.rowcount != 1:  # type: ignore[attr-defined]
            return False  # nothing matched, nothing changed
        record_event(Tag.RECOVERY_CODE_USED, actor=Actor.citizen(user.id), user_id=user.id, ip=ip)
        db.session.flush()
        return True

    def recovery_codes_left(self, user: User) -> int:
        return len(db.session.execute(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                          RecoveryCode.used_at.is_(None))).all())

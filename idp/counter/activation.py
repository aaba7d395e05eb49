"""One-time activation codes (激活码): printed on a slip at the counter, redeemed by the person
at /activate to set their own password. Single use, expiring, throttled like a login."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from idp.accounts.lockout import Gate
from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.clock import Clock
from idp.counter.models import ACTIVATE, ActivationCode, StaffAccount
from idp.extensions import db
from idp.security.crypto import KeyedHash, SealingBox
from idp.store import Store

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper and typed
LENGTH = 12  # 60 bits, behind the lockout
SLIP_TTL = 600  # seconds the plain code waits for its slip page to show it once


def normalise(code: str) -> str:
    text = unicodedata.normalize("NFKC", code).upper()
    return "".join(c for c in text if c.isalnum())


def grouped(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class Redemption:
    """`outcome`: activated, weak_password (with `problems`), refused (with `gate`), invalid."""

    outcome: str
    user: User | None = None
    problems: list[str] = field(default_factory=list)
    gate: Gate | None = None


class ActivationCodes:
    def __init__(self, accounts: AccountService, hasher: KeyedHash, store: Store,
                 slip_box: SealingBox, clock: Clock, ttl: int = 7 * 24 * 3600) -> None:
        self.accounts = accounts
        self.hasher = hasher
        self.store = store
        self.slip_box = slip_box
        self.clock = clock
        self.ttl = ttl

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def issue(self, user: User, *, purpose: str, staff: StaffAccount,
              ip: str | None) -> tuple[ActivationCode, str]:
        """A new code for the account; any earlier unused code of the account stops working.
        The plain code is returned once (and kept sealed for the slip page, briefly)."""
        now = self.now()
        db.session.execute(update(ActivationCode).where(
            ActivationCode.user_id == user.id, ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None)).values(revoked_at=now))
        plain = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        row = ActivationCode(user_id=user.id, code_hash=self.hasher.digest(plain),
                             purpose=purpose, issued_by=staff.id, hall_code=staff.hall_code,
                             created_at=now, expires_at=now + timedelta(seconds=self.ttl))
        db.session.add(row)
        db.session.flush()
        record_event(Tag.COUNTER_ACTIVATION_ISSUED, actor=Actor.staff(staff.id, staff.hall_code),
                     user_id=user.id, ip=ip,
                     data={"purpose": purpose, "slip": row.id,
                           "expires_at": row.expires_at.isoformat()})
        self.store.set("slip:" + row.id, self.slip_box.seal(plain), SLIP_TTL)
        return row, grouped(plain)

    def take_for_slip(self, code_id: str) -> str | None:
        """The plain code for its slip page: once, and only shortly after issue."""
        sealed = self.store.getdel("slip:" + code_id)
        return grouped(self.slip_box.open(sealed)) if sealed else None

    def get(self, code_id: str) -> ActivationCode | None:
        return db.session.get(ActivationCode, code_id)

    def outstanding(self, user: User) -> ActivationCode | None:
        row = db.session.execute(select(ActivationCode).where(
            ActivationCode.user_id == user.id, ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None)).order_by(ActivationCode.created_at.desc())
        ).scalars().first()
        return row if row is not None and self._live(row) else None

    def _live(self, row: ActivationCode) -> bool:
        expires = row.expires_at if row.expires_at.tzinfo else \
            row.expires_at.replace(tzinfo=UTC)
        return row.used_at is None and row.revoked_at is None and expires > self.now()

    def redeem(self, identifier: str, code: str, password: str, ip: str | None) -> Redemption:
        """Set the account's password with its code. The password rules are checked first
        (they tell nothing about the code); then the code, behind a lockout of its own, so a
        guesser can neither lock the person's login nor learn which half was wrong."""
        user = self.accounts.find_by_login(identifier)
        problems = self.accounts.password_problems(password, user)
        if problems:
            return Redemption("weak_password", user, problems=problems)
        subject = "activation:" + (user.id if user else
                                   self.accounts.lock_subject(identifier, None))
        guard = self.accounts.guard
        gate = guard.enter(subject, ip)
        if not gate.allowed:
            if gate.reason == "wait" and gate.slot is not None:
                gate = self._failed(subject, user, ip, "too_soon")
            return Redemption("refused", gate=gate)
        row = self._matching(user, code)
        if user is None or row is None or user.disabled:
            after = self._failed(subject, user, ip, "bad_code")
            return Redemption("refused", gate=after) if not after.allowed else \
                Redemption("invalid")
        used = db.session.execute(update(ActivationCode).where(
            ActivationCode.id == row.id, ActivationCode.used_at.is_(None))
            .values(used_at=self.now()))
        if used.rowcount != 1:  # type: ignore[attr-defined]
            return Redemption("invalid")  # a twin request used it first
        guard.succeeded(subject)
        actor = Actor.citizen(user.id)
        self.accounts.set_password(user, password, actor=actor, tag=Tag.PASSWORD_RESET, ip=ip)
        self.accounts.credentials_changed(user.id)
        record_event(Tag.COUNTER_ACTIVATION_USED, actor=actor, user_id=user.id, ip=ip,
                     data={"purpose": row.purpose, "slip": row.id,
                           "activated": row.purpose == ACTIVATE})
        db.session.flush()
        return Redemption("activated", user)

    def _matching(self, user: User | None, code: str) -> ActivationCode | None:
        plain = normalise(code)
        if user is None or len(plain) != LENGTH:
            return None
        row = db.session.execute(select(ActivationCode).where(
            ActivationCode.user_id == user.id,
            ActivationCode.code_hash == self.hasher.digest(plain))).scalar_one_or_none()
        return row if row is not None and self._live(row) else None

    def _failed(self, subject: str, user: User | None, ip: str | None, reason: str) -> Gate:
        record_event(Tag.COUNTER_ACTIVATION_FAILED, actor=Actor.anonymous(),
                     user_id=user.id if user else None, ip=ip, data={"reason": reason})
        after = self.accounts.guard.failed(subject, ip)
        db.session.commit()
        return after

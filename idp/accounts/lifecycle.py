"""An account's end: deletion (注销账号) with a cooling-off period, the purge that erases a
deleted account, and disabling / re-enabling by operators and counter supervisors
(docs/account-lifecycle.md).

Each change ends the account's access durably first (`sessions_valid_after`, every grant
revoked, the business systems told through `accounts.signals`), commits, and only then ends the
live sessions with back-channel logout and sends the SMS notice, as the password reset does.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update

from idp.accounts.codes import SmsCodes
from idp.accounts.errors import AccountError
from idp.accounts.models import AgreementAcceptance, LoginGuardRow, RecoveryCode, User
from idp.accounts.services import AccountService
from idp.accounts.sessions import SessionService
from idp.accounts.signals import ACCOUNT_DISABLED, ACCOUNT_ENABLED, ACCOUNT_PURGED, announce
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.clock import Clock
from idp.extensions import db

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")
# An erased account's username: random, and never one a person could type or choose
# (services.USERNAME_RE wants a letter first), so no login and no registration can reach it.
ERASED_USERNAME_PREFIX = "#erased-"
LONG_NUMBER = re.compile(r"[0-9]{6,}[0-9Xx]*")
PURGE_JOB = "purge-deleted"


def clean_reason(text: str) -> str:
    """A free-text reason as the audit log keeps it: one line, at most 200 characters, long
    digit runs (an ID or phone number typed by mistake) removed (as docs/counter.md does)."""
    return LONG_NUMBER.sub("[…]", " ".join(text.split()))[:200]


def beijing_date(moment: datetime) -> str:
    """A date as an SMS names it: 2026年12月31日, in Beijing time."""
    local = moment.astimezone(BEIJING)
    return f"{local.year}年{local.month}月{local.day}日"


@dataclass
class PurgeReport:
    erased: list[str] = field(default_factory=list)  # account ids, in the order erased
    skipped: int = 0  # claimed by a concurrent run, or cancelled, between listing and claiming


class AccountLifecycle:
    def __init__(self, accounts: AccountService, sessions: SessionService, sms: SmsCodes,
                 clock: Clock) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.sms = sms
        self.clock = clock
        # Called with an account id inside the transaction that ends the account's access
        # (deletion requested, account disabled): higher layers revoke every grant (flush only).
        self.revoke_grants: list[Callable[[str], object]] = []
        # Called with an account id inside the purge's transaction, after the account row was
        # erased: higher layers erase what they hold about the person (verification records,
        # consents, ...). Flush only; the purge commits.
        self.erasers: list[Callable[[str], object]] = []

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    # --- deletion (注销) ---
    def pending_deletion(self, user: User) -> bool:
        """A deletion was requested and its cooling-off period still runs."""
        due = self.accounts.deletion_due(user)
        return due is not None and due > self.now()

    def due_if_requested_now(self) -> datetime:
        return self.now() + self.accounts.deletion_grace

    def request_deletion(self, user: User, ip: str | None) -> datetime:
        """The person asks for the account to be deleted: every session and grant ends at once,
        the account is erased when the cooling-off period is over unless they cancel by signing
        in. Commits; returns the moment of erasure."""
        actor = Actor.citizen(user.id)
        claimed = db.session.execute(
            update(User).where(User.id == user.id, User.deletion_requested_at.is_(None),
                               User.purged_at.is_(None), User.disabled.is_(False))
            .values(deletion_requested_at=self.now())
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()
            raise AccountError("not_possible", "a deletion is already pending, or the account "
                               "is disabled")
        db.session.refresh(user)
        due = self.accounts.deletion_due(user)
        assert due is not None
        self._end_access(user, actor)  # business systems hear "sessions revoked"
        record_event(Tag.DELETION_REQUESTED, actor=actor, user_id=user.id, ip=ip,
                     data={"erase_after": due.isoformat(timespec="seconds")})
        self._finish(user, actor, ip, "deletion_requested", {"date": beijing_date(due)})
        return due

    def cancel_deletion(self, user: User, ip: str | None) -> bool:
        """The person, signing in during the cooling-off period, keeps their account. False
        when there is nothing to cancel (the period ended meanwhile: the account is gone).
        Commits."""
        cancelled = db.session.execute(
            update(User).where(User.id == user.id, User.deletion_requested_at.is_not(None),
                               User.deletion_requested_at > self.now() -
                               self.accounts.deletion_grace, User.purged_at.is_(None))
            .values(deletion_requested_at=None).execution_options(synchronize_session=False))
        if cancelled.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()
            return False
        db.session.refresh(user)
        record_event(Tag.DELETION_CANCELLED, actor=Actor.citizen(user.id), user_id=user.id,
                     ip=ip)
        db.session.commit()
        if user.phone:
            self.sms.deliver(user.phone, "deletion_cancelled", {})
        return True

    # --- disabling (停用) ---
    def disable(self, user: User, *, actor: Actor, reason: str, ip: str | None = None) -> None:
        """Nobody signs in to the account until it is enabled again; its sessions and grants
        end at once (tokens stop working). Commits."""
        reason = self._reason(reason)
        self._switch(user, disabled=True)
        self._end_access(user, actor)
        announce(user.id, ACCOUNT_DISABLED)
        record_event(Tag.ACCOUNT_DISABLED, actor=actor, user_id=user.id, ip=ip,
                     data={"reason": reason})
        self._finish(user, actor, ip, "account_disabled", {})

    def enable(self, user: User, *, actor: Actor, reason: str, ip: str | None = None) -> None:
        """The account may sign in again; what ended when it was disabled stays ended (old
        sessions, revoked grants). Commits."""
        reason = self._reason(reason)
        self._switch(user, disabled=False)
        announce(user.id, ACCOUNT_ENABLED)
        record_event(Tag.ACCOUNT_ENABLED, actor=actor, user_id=user.id, ip=ip,
                     data={"reason": reason})
        db.session.commit()
        if user.phone:
            self.sms.deliver(user.phone, "account_enabled", {})

    @staticmethod
    def _reason(text: str) -> str:
        reason = clean_reason(text)
        if not reason:
            raise AccountError("reason_required", "give a reason (it is audited)")
        return reason

    @staticmethod
    def _switch(user: User, *, disabled: bool) -> None:
        """Flip `disabled` with one conditional UPDATE, so two operators acting at once record
        one change, and an erased account is never touched."""
        changed = db.session.execute(
            update(User).where(User.id == user.id, User.disabled.is_(not disabled),
                               User.purged_at.is_(None)).values(disabled=disabled)
            .execution_options(synchronize_session=False))
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()
            db.session.refresh(user)
            if user.purged_at is not None:
                raise AccountError("erased", "this account was deleted and erased")
            raise AccountError("already_disabled" if disabled else "not_disabled",
                               "the account is already disabled" if disabled else
                               "the account is not disabled")
        db.session.refresh(user)

    # --- shared steps ---
    def _end_access(self, user: User, actor: Actor) -> None:
        """Durably, in the caller's transaction: every session of the account is over wherever
        it is held (end_every_session announces "sessions revoked" to business systems), and
        every grant (refresh and access tokens) is revoked."""
        self.accounts.end_every_session(user, actor, self.clock.seconds())
        for revoke in self.revoke_grants:
            revoke(user.id)
        db.session.flush()

    def _finish(self, user: User, actor: Actor, ip: str | None, notice: str,
                params: dict[str, str]) -> None:
        """Commit the durable part, then end the live sessions (back-channel logout to their
        business systems) and send the person the SMS notice."""
        db.session.commit()
        self.sessions.end_all(user.id, actor=actor, ip=ip)
        if user.phone:
            self.sms.deliver(user.phone, notice, params)

    # --- the purge (`idp accounts purge-deleted`) ---
    def due_for_purge(self) -> list[str]:
        """Accounts whose deletion's cooling-off period is over and that are not erased yet,
        oldest request first."""
        cutoff = self.now() - self.accounts.deletion_grace
        return list(db.session.execute(
            select(User.id).where(User.deletion_requested_at.is_not(None),
                                  User.deletion_requested_at <= cutoff,
                                  User.purged_at.is_(None))
            .order_by(User.deletion_requested_at, User.id)).scalars())

    def purge_due(self, progress: Callable[[int, int], Any] | None = None) -> PurgeReport:
        """Erase every account due, each in its own transaction (an interrupted run leaves
        whole accounts erased or untouched; the next run carries on)."""
        due = self.due_for_purge()
        db.session.rollback()  # the listing's transaction: each claim starts afresh
        report = PurgeReport()
        for user_id in due:
            if self.purge(user_id):
                report.erased.append(user_id)
            else:
                report.skipped += 1
            if progress is not None:
                progress(len(report.erased), len(due))
        return report

    def purge(self, user_id: str) -> bool:
        """Erase one account whose cooling-off period is over; False if it is not due (any
        more) or another run claimed it first. The claim is a conditional UPDATE in the same
        transaction as the erasure: a concurrent run waits for this one's row and then finds
        it erased (PostgreSQL), or waits for the write lock (SQLite)."""
        now = self.now()
        claimed = db.session.execute(
            update(User).where(User.id == user_id, User.purged_at.is_(None),
                               User.deletion_requested_at.is_not(None),
                               User.deletion_requested_at <= now - self.accounts.deletion_grace)
            .values(purged_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()
            return False
        user = db.session.get(User, user_id, populate_existing=True)
        assert user is not None
        # First, while the account is whole: business systems are told (their listener reads
        # which systems know the person and each one's `sub`), and the person gets the notice
        # on the phone that is about to be erased.
        announce(user.id, ACCOUNT_PURGED)
        if user.phone:
            self.sms.deliver(user.phone, "account_purged", {})
        self._erase(user)
        for eraser in self.erasers:
            eraser(user.id)
        record_event(Tag.ACCOUNT_PURGED, actor=Actor.system(PURGE_JOB), user_id=user.id,
                     data={"requested_at": _iso(user.deletion_requested_at)})
        db.session.commit()
        log.info("account %s erased (deletion requested %s)", user.id,
                 _iso(user.deletion_requested_at))
        return True

    def _erase(self, user: User) -> None:
        """Every personal field of the account row, and the rows of this layer that belong to
        the person. The row keeps its id (audit rows and business systems' subjects name it)."""
        typed = [value for value in (user.phone, user.username, self._id_number(user)) if value]
        subjects = ["acct:" + user.id] + [self.accounts.lock_subject(v, None) for v in typed]
        user.username = ERASED_USERNAME_PREFIX + secrets.token_hex(16)
        user.username_chosen = False
        user.name = user.phone = None
        user.phone_verified = False
        user.password_hash = user.password_changed_at = None
        user.totp_secret_sealed, user.totp_last_step = None, 0
        # The sealed number and its fingerprint: the number may register again.
        user.id_number_sealed = user.id_number_hash = user.id_document_type = None
        user.disabled = True
        user.sessions_valid_after = self.clock.seconds()
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        db.session.execute(delete(AgreementAcceptance)
                           .where(AgreementAcceptance.user_id == user.id))
        db.session.execute(delete(LoginGuardRow).where(LoginGuardRow.subject.in_(subjects)))
        db.session.flush()

    def _id_number(self, user: User) -> str | None:
        """The citizen ID number people type to log in (other documents are not login names)."""
        if user.id_number_sealed is None or user.id_document_type not in (None, "id-number"):
            return None
        return self.accounts.id_box.open(user.id_number_sealed)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat(
        timespec="seconds")

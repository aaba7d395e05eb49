"""Assisted registration (协助注册) for people without a smartphone, and in-person recovery
(现场找回) after a clerk verified the person: both end with a one-time activation slip."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from idp.accounts.errors import AccountError
from idp.accounts.mfa import MfaService
from idp.accounts.models import User
from idp.accounts.phones import is_mobile, normalize_phone
from idp.accounts.services import AccountService
from idp.accounts.sessions import SessionService
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.counter.activation import ActivationCodes
from idp.counter.desk import CounterDesk
from idp.counter.errors import CounterError
from idp.counter.models import ACTIVATE, RESET, ActivationCode, StaffAccount
from idp.extensions import db
from realname.documents import DocumentType, check


def unusable_password() -> str:
    """A password nobody knows (the person sets theirs with the activation code)."""
    return "Aa1-" + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Registration:
    """`outcome`: registered, existing (the document belongs to `user` already), own,
    invalid_phone, phone_taken, or a verification code (invalid_number, wrong_type,
    name_mismatch, expired_document, photo_not_compared, …)."""

    outcome: str
    user: User | None = None
    slip: ActivationCode | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recovery:
    actions: list[str]
    slip: ActivationCode | None = None


class AssistedService:
    def __init__(self, accounts: AccountService, mfa: MfaService, sessions: SessionService,
                 desk: CounterDesk, codes: ActivationCodes) -> None:
        self.accounts = accounts
        self.mfa = mfa
        self.sessions = sessions
        self.desk = desk
        self.codes = codes

    # --- registration ---
    def precheck(self, staff: StaffAccount, *, document_type: str, number: str, name: str,
                 valid_until: date | None, photo_compared: bool) -> Registration | None:
        """What stops a registration before anything is written, in the order the
        identity service checks a verification; None when nothing does."""
        result = check(document_type, number)
        if not result.valid or result.normalised is None:
            return Registration("invalid_number", details={"reason": result.reason})
        if result.document_type == DocumentType.CREDIT_CODE:
            return Registration("wrong_type")
        if not " ".join(name.split()):
            return Registration("name_mismatch")
        if valid_until is None or valid_until < self.desk.identity.today():
            return Registration("expired_document")
        if not photo_compared:
            return Registration("photo_not_compared")
        if self.desk.is_own_document(staff, document_type, result.normalised):
            return Registration("own")
        holder = self.desk.identity.find_by_document(result.normalised, document_type)
        if holder is not None:
            return Registration("existing", user=holder)
        return None

    def register(self, staff: StaffAccount, *, document_type: str, number: str, name: str,
                 valid_until: date | None, photo_compared: bool, phone: str | None,
                 source: str, ip: str | None) -> Registration:
        """A verified account (level 5) for the person at the desk, and its activation slip."""
        refused = self.precheck(staff, document_type=document_type, number=number, name=name,
                                valid_until=valid_until, photo_compared=photo_compared)
        if refused is not None:
            return refused
        if phone:
            phone = normalize_phone(phone)
            if not is_mobile(phone):
                return Registration("invalid_phone")
            if self.accounts.find_by_login(phone) is not None:
                return Registration("phone_taken")
        actor = Actor.staff(staff.id, staff.hall_code)
        try:
            user = self.accounts.create_user(
                username="u" + secrets.token_hex(5), password=unusable_password(),
                phone=phone or None, name=" ".join(name.split()), actor=actor,
                phone_verified=False)
        except AccountError as error:  # a twin request registered the phone first
            return Registration("phone_taken" if error.code == "exists" else error.code)
        outcome = self.desk.verify(staff, user, document_type=document_type, number=number,
                                   name=name, valid_until=valid_until,
                                   photo_compared=photo_compared, source=source, ip=ip)
        if not outcome.ok:
            # Only a twin registration of the same document gets here (the prechecks passed):
            # nothing of this attempt is kept.
            db.session.rollback()
            return Registration(outcome.code, details=outcome.details)
        slip, _ = self.codes.issue(user, purpose=ACTIVATE, staff=staff, ip=ip)
        record_event(Tag.COUNTER_REGISTRATION, actor=actor, user_id=user.id, ip=ip,
                     data={"document_type": document_type, "phone": bool(phone),
                           "slip": slip.id, "source": source})
        db.session.flush()
        return Registration("registered", user=user, slip=slip)

    # --- recovery ---
    def recover(self, staff: StaffAccount, user: User, *, reset_password: bool,
                remove_factors: bool, new_phone: str | None, ip: str | None) -> Recovery:
        """After this clerk verified the person in person (within the visit): any of a new
        password (by activation slip), no second factors, a new mobile number. Every grant is
        revoked and every session of the person ends."""
        if self.desk.is_own(staff, user):
            raise CounterError("own_record", "staff cannot act on their own account")
        if self.desk.verified_recently(staff, user) is None:
            raise CounterError("not_verified", "verify the person in person first")
        if not (reset_password or remove_factors or new_phone):
            raise CounterError("nothing_chosen", "choose at least one action")
        actor = Actor.staff(staff.id, staff.hall_code)
        actions: list[str] = []
        if new_phone:  # first: the one step that may be refused, before anything changed
            try:
                self.accounts.change_phone(user, new_phone, actor=actor, ip=ip, via="counter")
            except AccountError as error:
                raise CounterError(error.code, str(error)) from None
            actions.append("phone")
        if remove_factors:
            self.mfa.remove_totp(user, actor=actor, ip=ip)
            actions.append("factors")
        slip = None
        if reset_password:
            self.accounts.set_password(user, unusable_password(), actor=actor,
                                       tag=Tag.PASSWORD_RESET, ip=ip)
            slip, _ = self.codes.issue(user, purpose=RESET, staff=staff, ip=ip)
            actions.append("password")
        record_event(Tag.COUNTER_RECOVERY, actor=actor, user_id=user.id, ip=ip,
                     data={"actions": actions, "slip": slip.id if slip else None})
        # Durable first (design.md): sessions over wherever they are held, grants revoked;
        # then the live sessions end with back-channel logout (which commits).
        self.accounts.end_every_session(user, actor, self.codes.clock.seconds())
        self.accounts.credentials_changed(user.id)
        db.session.flush()
        self.sessions.end_all(user.id, actor=actor, ip=ip)
        return Recovery(actions, slip)

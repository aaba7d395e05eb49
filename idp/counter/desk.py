"""The clerk's desk: find a person, open their record with a stated reason (audited, PIPL),
read the masked profile, and record an in-person verification (身份核验)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from idp.accounts.mfa import MfaService
from idp.accounts.models import User
from idp.accounts.phones import is_mobile, normalize_phone
from idp.accounts.services import AccountService
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.clock import Clock
from idp.counter.models import ServiceHall, StaffAccount
from idp.extensions import db
from idp.identity.models import COUNTER, VERIFIED, IdentityCase, Verification
from idp.identity.services import IdentityService, VerifyOutcome
from realname.documents import DocumentType, check

PHONE = "phone"  # a search by mobile number; every other search kind is a DocumentType value
# Why a record is opened (业务办理 / 身份核验 / 账户找回 / 投诉处理 / 其他); "other" needs words.
PURPOSES = ("service", "verification", "recovery", "complaint", "other")
RECENT_VERIFICATION = timedelta(minutes=30)  # in-person recovery follows a check this fresh
LONG_NUMBER = re.compile(r"[0-9]{6,}[0-9Xx]*")


def masked_phone(phone: str | None) -> str | None:
    return f"{phone[:3]}****{phone[-4:]}" if phone else None


def clean_reason(text: str) -> str:
    """The free-text reason as the audit log keeps it: one line, at most 200 characters, and
    long digit runs (a number typed into the reason by mistake) removed."""
    return LONG_NUMBER.sub("[…]", " ".join(text.split()))[:200]


@dataclass(frozen=True)
class RecordLine:
    """One verification record as a clerk sees it: masked numbers only."""

    at: datetime
    method: str
    level: int
    result: str
    document_type: str | None
    masked_number: str | None
    staff: str | None  # display name (username) of the clerk who made it
    hall: str | None
    revoked: bool


@dataclass(frozen=True)
class Profile:
    user: User
    document_type: str | None
    masked_number: str | None
    masked_phone: str | None
    level: int
    records: list[RecordLine]
    has_totp: bool
    open_cases: list[IdentityCase]


class CounterDesk:
    def __init__(self, accounts: AccountService, identity: IdentityService, mfa: MfaService,
                 clock: Clock) -> None:
        self.accounts = accounts
        self.identity = identity
        self.mfa = mfa
        self.clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    # --- finding ---
    def find(self, kind: str, query: str) -> User | None:
        """By mobile number, or by a document number (exact, after normalisation)."""
        if kind == PHONE:
            phone = normalize_phone(query)
            return self.accounts.find_by_login(phone) if is_mobile(phone) else None
        return self.identity.find_by_document(query, kind)

    # --- a clerk's own account ---
    def is_own(self, staff: StaffAccount, user: User) -> bool:
        if staff.user_id is not None and staff.user_id == user.id:
            return True
        if staff.id_fingerprint is None or not user.id_number_sealed:
            return False
        number = self.identity.box.open(user.id_number_sealed)
        kind = self.identity.document_type(user) or DocumentType.ID_NUMBER.value
        return staff.id_fingerprint in self.identity.fingerprints.candidates(
            self.identity.document_key(kind, number))

    def is_own_document(self, staff: StaffAccount, kind: str, number: str) -> bool:
        if staff.id_fingerprint is None:
            return False
        result = check(kind, number)
        if not result.valid or result.normalised is None:
            return False
        return staff.id_fingerprint in self.identity.fingerprints.candidates(
            self.identity.document_key(result.document_type.value, result.normalised))

    # --- opening a record (PIPL: who saw whose data, and why) ---
    def searched(self, staff: StaffAccount, *, kind: str, found: User | None, purpose: str,
                 detail: str, ip: str | None) -> None:
        record_event(Tag.COUNTER_RECORD_SEARCHED, actor=_actor(staff),
                     user_id=found.id if found else None, ip=ip,
                     data={"by": kind, "found": found is not None, "purpose": purpose,
                           "reason": clean_reason(detail)})
        db.session.flush()

    def open_record(self, staff: StaffAccount, user: User, *, purpose: str, detail: str,
                    ip: str | None) -> None:
        record_event(Tag.COUNTER_RECORD_VIEWED, actor=_actor(staff), user_id=user.id, ip=ip,
                     data={"purpose": purpose, "reason": clean_reason(detail)})
        db.session.flush()

    def profile(self, user: User) -> Profile:
        rows = self.identity.records(user)
        staff_ids = {r.staff_id for r in rows if r.staff_id}
        names = {s.id: s.display_name or s.username for s in db.session.execute(
            select(StaffAccount).where(StaffAccount.id.in_(staff_ids))).scalars()} \
            if staff_ids else {}
        halls = {h.code: h.name for h in db.session.execute(select(ServiceHall)).scalars()} \
            if rows else {}
        lines = [RecordLine(r.created_at, r.method, r.level, r.result, r.document_type,
                            r.masked_number, names.get(r.staff_id or ""),
                            halls.get(r.hall_code or "", r.hall_code), r.revoked_at is not None)
                 for r in reversed(rows)]
        cases = db.session.execute(select(IdentityCase).where(
            IdentityCase.status == "open",
            (IdentityCase.claimant_id == user.id) | (IdentityCase.holder_id == user.id))
        ).scalars()
        return Profile(user, self.identity.document_type(user), self.identity.masked_number(user),
                       masked_phone(user.phone), user.trust_level, lines,
                       self.mfa.has_totp(user), list(cases))

    # --- in-person verification ---
    def verify(self, staff: StaffAccount, user: User, *, document_type: str, number: str,
               name: str, valid_until: date | None, photo_compared: bool, source: str,
               ip: str | None) -> VerifyOutcome:
        """The identity service's checks and record; every refusal is audited with its code
        (the daily report counts them). A clerk's own document is refused before anything."""
        if self.is_own(staff, user) or self.is_own_document(staff, document_type, number):
            outcome = VerifyOutcome("own_record", user.trust_level)
        elif document_type == DocumentType.CREDIT_CODE.value:
            outcome = VerifyOutcome("wrong_type", user.trust_level)
        else:
            outcome = self.identity.verify_in_person(
                user, document_type=document_type, number=number, name=name,
                valid_until=valid_until, photo_compared=photo_compared, actor=_actor(staff),
                staff_id=staff.id, hall_code=staff.hall_code, ip=ip, source=source)
        if not outcome.ok:
            record_event(Tag.COUNTER_VERIFICATION_REFUSED, actor=_actor(staff), user_id=user.id,
                         ip=ip, data={"result": outcome.code, "document_type": document_type,
                                      "source": source, "case": outcome.case_id,
                                      "reason": outcome.details.get("reason")})
            db.session.flush()
        return outcome

    def verified_recently(self, staff: StaffAccount, user: User) -> Verification | None:
        """This clerk's successful in-person verification of this person in this visit."""
        since = self.now() - RECENT_VERIFICATION
        return db.session.execute(select(Verification).where(
            Verification.user_id == user.id, Verification.method == COUNTER,
            Verification.result == VERIFIED, Verification.staff_id == staff.id,
            Verification.revoked_at.is_(None), Verification.created_at >= since)
            .order_by(Verification.id.desc())).scalars().first()


def _actor(staff: StaffAccount) -> Actor:
    return Actor.staff(staff.id, staff.hall_code)

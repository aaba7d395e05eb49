"""Real-name verification: online through the national platform, in person at a counter, and
operator overrides; each leaves a record, and the account's trust level is derived from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from idp.accounts.assurance import METHOD_MAX_LEVEL, derive_trust_level
from idp.accounts.errors import AccountError
from idp.accounts.models import User
from idp.accounts.signals import ASSURANCE_LEVEL_CHANGE, announce
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db
from idp.identity.models import (
    CASE_TRANSFER,
    COUNTER,
    ONLINE_REAL_PERSON,
    ONLINE_TWO_ELEMENT,
    OVERRIDE,
    VERIFIED,
    IdentityCase,
    Verification,
)
from idp.security.crypto import DocumentFingerprints, SealingBox
from idp.store import Store
from realname import TrustLevel
from realname.documents import CheckResult, DocumentType, check, mask
from realname.platform import IdentityPlatform, Outcome, PlatformResult

ID_NUMBER = DocumentType.ID_NUMBER.value
# Platform answers that say something about the person (and so count against the daily limit);
# an outage says nothing and does not.
FAILED_RESULTS = ("no_match", "not_found", "face_mismatch")


@dataclass(frozen=True)
class VerifyOutcome:
    """What an attempt came to. `code` is stable (views map it to a message): verified,
    invalid_number, wrong_type, no_match, not_found, face_mismatch, bad_image, case_opened,
    different_document, unavailable, not_configured, too_many_attempts, expired_document,
    photo_not_compared, name_mismatch, already_at_level."""

    code: str
    level: int  # the account's level after the attempt
    case_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.code == VERIFIED


@dataclass(frozen=True)
class Proof:
    """A document number someone proved for an account, and how."""

    document: CheckResult
    name: str
    method: str
    level: int
    actor: Actor
    transaction_id: str | None = None
    score: float | None = None
    staff_id: str | None = None
    hall_code: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


class IdentityService:
    def __init__(self, box: SealingBox, fingerprints: DocumentFingerprints,
                 platform: IdentityPlatform | None, *, daily_attempts: int = 5,
                 store: Store | None = None, ip_daily_attempts: int = 20,
                 today: Callable[[], date] | None = None) -> None:
        self.box = box
        self.fingerprints = fingerprints
        self.platform = platform
        self.daily_attempts = daily_attempts
        # Failed answers per client address and day, across accounts: registering accounts
        # is cheap, so the per-account limit alone would let one network use the platform
        # as an oracle for name and number pairs.
        self.store = store
        self.ip_daily_attempts = ip_daily_attempts
        self.today = today or (lambda: datetime.now(UTC).date())
        # Called with an account id when a supervisor took a document away from it: higher
        # layers end its sessions and revoke its grants.
        self.on_document_removed: list[Callable[[str], object]] = []

    # --- reading ---
    def records(self, user: User) -> list[Verification]:
        return list(db.session.execute(
            select(Verification).where(Verification.user_id == user.id)
            .order_by(Verification.id)).scalars())

    def level(self, user: User) -> int:
        return derive_trust_level((r.method, r.level, r.result, r.revoked_at is not None)
                                  for r in self.records(user))

    def document_key(self, document_type: str, normalised: str) -> str:
        """What is fingerprinted: an ID number alone (so people log in with it), other
        documents with their type in front."""
        return normalised if document_type == ID_NUMBER else f"{document_type}:{normalised}"

    def find_by_document(self, number: str, document_type: str = ID_NUMBER) -> User | None:
        """The account holding a document, whatever key fingerprinted it (then re-fingerprinted
        under the current key)."""
        result = check(document_type, number)
        if not result.valid or result.normalised is None:
            return None
        key = self.document_key(result.document_type.value, result.normalised)
        candidates = self.fingerprints.candidates(key)
        user = db.session.execute(
            select(User).where(User.id_number_hash.in_(candidates))).scalar_one_or_none()
        if user is not None and user.id_number_hash != candidates[0]:
            user.id_number_hash = candidates[0]
            db.session.flush()
        return user

    def holds(self, user: User, number: str, document_type: str = ID_NUMBER) -> bool:
        """Whether this account is the one holding this document (a clerk's own account)."""
        found = self.find_by_document(number, document_type)
        return found is not None and found.id == user.id

    def document_type(self, user: User) -> str | None:
        return user.id_document_type or (ID_NUMBER if user.id_number_sealed else None)

    def masked_number(self, user: User) -> str | None:
        if not user.id_number_sealed:
            return None
        return mask(self.document_type(user) or ID_NUMBER, self.box.open(user.id_number_sealed))

    def stored_id_number(self, user: User) -> str | None:
        """The account's own citizen ID number, for a check the person asked for (never shown)."""
        if not user.id_number_sealed or self.document_type(user) != ID_NUMBER:
            return None
        return self.box.open(user.id_number_sealed)

    def region_code(self, user: User) -> str | None:
        """The six-digit division code the account's ID number was issued under."""
        number = self.stored_id_number(user)
        return number[:6] if number else None

    def reveal_number(self, user: User, *, actor: Actor, reason: str,
                      ip: str | None = None) -> str | None:
        """The full number, for a clerk who asks with a reason; audited (PIPL)."""
        if not reason.strip():
            raise AccountError("reason_required", "a reason is required")
        if not user.id_number_sealed:
            return None
        record_event(Tag.RECORD_REVEALED, actor=actor, user_id=user.id, ip=ip,
                     data={"reason": reason.strip()[:200]})
        db.session.flush()
        return self.box.open(user.id_number_sealed)

    # --- online (self-service) ---
    def verify_online(self, user: User, *, name: str, id_number: str,
                      image: bytes | None = None, image_type: str | None = None,
                      ip: str | None = None) -> VerifyOutcome:
        """Two-element check (level 3), or with a face image the real-person check (level 4)."""
        wanted = int(TrustLevel.REAL_PERSON if image else TrustLevel.AUTHORITATIVE_MATCH)
        method = ONLINE_REAL_PERSON if image else ONLINE_TWO_ELEMENT
        name = " ".join(name.split())
        document = check(ID_NUMBER, id_number)
        if not document.valid or document.normalised is None:
            return VerifyOutcome("invalid_number", user.trust_level,
                                 details={"reason": document.reason})
        if not name:
            return VerifyOutcome("name_mismatch", user.trust_level)
        if user.trust_level >= wanted:
            return VerifyOutcome("already_at_level", user.trust_level)
        refused = self._different_document(user, ID_NUMBER, document.normalised)
        if refused is not None:
            return refused
        if self.platform is None:
            return VerifyOutcome("not_configured", user.trust_level)
        if self._failures_today(user) >= self.daily_attempts or self._network_spent(ip):
            return VerifyOutcome("too_many_attempts", user.trust_level)
        answer = self.platform.check_real_person(name, document.normalised, image,
                                                 image_type or "image/jpeg") if image \
            else self.platform.check_name_and_number(name, document.normalised)
        proof = Proof(document, name, method, wanted, Actor.citizen(user.id),
                      transaction_id=answer.transaction_id, score=answer.score)
        if answer.outcome != Outcome.MATCH:
            return self._failed(user, proof, answer, ip)
        return self._accept(user, proof, ip)

    def _network_spent(self, ip: str | None) -> bool:
        if self.store is None or not ip:
            return False
        return int(self.store.get(f"verify-ip:{ip}") or 0) >= self.ip_daily_attempts

    def _failed(self, user: User, proof: Proof, answer: PlatformResult,
                ip: str | None) -> VerifyOutcome:
        code = _failure_code(answer)
        if code in FAILED_RESULTS and self.store is not None and ip:
            self.store.incr(f"verify-ip:{ip}", 24 * 3600)
        self._record(user, proof, result=code)
        record_event(Tag.VERIFICATION_FAILED, actor=proof.actor, user_id=user.id, ip=ip,
                     data={"method": proof.method, "result": code,
                           "transaction_id": proof.transaction_id,
                           "attempts": answer.attempts})
        db.session.flush()
        return VerifyOutcome(code, user.trust_level)

    def _failures_today(self, user: User) -> int:
        since = datetime.now(UTC) - timedelta(days=1)
        return int(db.session.execute(
            select(func.count()).select_from(Verification).where(
                Verification.user_id == user.id,
                Verification.method.in_((ONLINE_TWO_ELEMENT, ONLINE_REAL_PERSON)),
                Verification.result.in_(FAILED_RESULTS),
                Verification.created_at >= since)).scalar_one())

    # --- in person (counter) ---
    def verify_in_person(self, user: User, *, document_type: str, number: str, name: str,
                         valid_until: date | None, photo_compared: bool, actor: Actor,
                         staff_id: str, hall_code: str, ip: str | None = None,
                         source: str = "typed") -> VerifyOutcome:
        """A clerk read the document and compared its photo with the person: level 5."""
        document = check(document_type, number)
        if not document.valid or document.normalised is None:
            return VerifyOutcome("invalid_number", user.trust_level,
                                 details={"reason": document.reason,
                                          "type": document.document_type.value})
        name = " ".join(name.split())
        if not name:
            return VerifyOutcome("name_mismatch", user.trust_level)
        if valid_until is None or valid_until < self.today():
            return VerifyOutcome("expired_document", user.trust_level)
        if not photo_compared:
            return VerifyOutcome("photo_not_compared", user.trust_level)
        refused = self._different_document(user, document.document_type.value,
                                           document.normalised)
        if refused is not None:
            return refused
        proof = Proof(document, name, COUNTER, int(TrustLevel.CERTIFICATE_OR_COUNTER), actor,
                      staff_id=staff_id, hall_code=hall_code,
                      evidence={"valid_until": valid_until.isoformat(), "photo_compared": True,
                                "source": source,
                                "name_changed": bool(user.name and user.name != name)})
        return self._accept(user, proof, ip)

    # --- shared ---
    def _different_document(self, user: User, document_type: str,
                            normalised: str) -> VerifyOutcome | None:
        """An account holds at most one document; proving another one is refused."""
        if not user.id_number_sealed:
            return None
        if self.document_type(user) == document_type and \
                self.box.open(user.id_number_sealed) == normalised:
            return None
        return VerifyOutcome("different_document", user.trust_level)

    def _accept(self, user: User, proof: Proof, ip: str | None) -> VerifyOutcome:
        """Link the document and record the proof; or, when another account holds the
        document, open a case and link nothing."""
        document = proof.document
        key = self.document_key(document.document_type.value, document.normalised or "")
        holder = self.find_by_document(document.normalised or "", document.document_type.value)
        if holder is None or holder.id == user.id:
            try:
                with db.session.begin_nested():
                    self._link(user, document, key, proof.name)
            except IntegrityError:
                # Another account linked the same document after we looked (a concurrent
                # verification committed first): that account is the holder now.
                holder = self.find_by_document(document.normalised or "",
                                               document.document_type.value)
            else:
                holder = None
        if holder is not None and holder.id != user.id:
            case = self._open_case(user, holder, proof, key)
            self._record(user, proof, result="conflict")
            record_event(Tag.CASE_OPENED, actor=proof.actor, user_id=user.id, ip=ip,
                         data={"case": case.id, "holder": holder.id, "method": proof.method})
            db.session.flush()
            return VerifyOutcome("case_opened", user.trust_level, case_id=case.id)
        self._record(user, proof, result=VERIFIED)
        level = self.recompute(user)
        record_event(Tag.VERIFICATION_SUCCEEDED, actor=proof.actor, user_id=user.id, ip=ip,
                     data={"method": proof.method, "level": level,
                           "document_type": document.document_type.value,
                           "transaction_id": proof.transaction_id})
        db.session.flush()
        return VerifyOutcome(VERIFIED, level, details=dict(proof.evidence))

    def _link(self, user: User, document: CheckResult, key: str, name: str) -> None:
        user.id_number_sealed = self.box.seal(document.normalised or "")
        user.id_number_hash = self.fingerprints.digest(key)
        user.id_document_type = document.document_type.value
        if name:
            user.name = name  # the name the authority or the document confirmed
        db.session.flush()

    def _record(self, user: User, proof: Proof, *, result: str) -> Verification:
        document = proof.document
        key = self.document_key(document.document_type.value, document.normalised or "")
        row = Verification(
            user_id=user.id, method=proof.method, level=proof.level, result=result,
            document_type=document.document_type.value,
            fingerprint=self.fingerprints.digest(key),
            masked_number=mask(document.document_type.value, document.normalised or ""),
            transaction_id=proof.transaction_id, score=proof.score, actor=proof.actor.label,
            staff_id=proof.staff_id, hall_code=proof.hall_code,
            evidence=proof.evidence or None)
        db.session.add(row)
        db.session.flush()
        return row

    def recompute(self, user: User) -> int:
        """Derive the account's level from its records and store it for readers: the only
        writer of `user_account.trust_level`. A change is announced to the business systems
        that know the person (CAEP assurance-level-change)."""
        previous, user.trust_level = user.trust_level, self.level(user)
        # An erased account says nothing more: account-purged was its last event.
        if previous is not None and previous != user.trust_level and user.purged_at is None:
            announce(user.id, ASSURANCE_LEVEL_CHANGE, previous_level=previous,
                     current_level=user.trust_level)
        db.session.flush()
        return user.trust_level

    # --- operators ---
    def override(self, user: User, level: int, *, reason: str, actor: Actor,
                 number: str | None = None, document_type: str = ID_NUMBER) -> int:
        """An operator sets the level outright (a correction, a suspected fraud, or accounts
        carried over from an older system, with the document the operator vouches for); the
        reason is required and audited, and later verifications count again from here."""
        if level not in tuple(int(t) for t in TrustLevel):
            raise AccountError("invalid_trust_level", "trust level must be 2, 3, 4 or 5")
        if not reason.strip():
            raise AccountError("reason_required", "a reason is required for an override")
        row = Verification(user_id=user.id, method=OVERRIDE, level=level, result=VERIFIED,
                           actor=actor.label, reason=reason.strip()[:500])
        if number is not None:
            document = check(document_type, number)
            if not document.valid or document.normalised is None:
                said = document.explanation
                raise AccountError("invalid_id_number", "the document number is not valid: " +
                                   (said.en[0].lower() + said.en[1:].rstrip(".") if said
                                    else str(document.reason)))
            if self._different_document(user, document.document_type.value,
                                        document.normalised) is not None:
                raise AccountError("different_document", "the account holds another document")
            key = self.document_key(document.document_type.value, document.normalised)
            holder = self.find_by_document(document.normalised, document.document_type.value)
            if holder is not None and holder.id != user.id:
                raise AccountError("exists", "another account holds this document")
            self._link(user, document, key, user.name or "")
            row.document_type = document.document_type.value
            row.fingerprint = self.fingerprints.digest(key)
            row.masked_number = mask(document.document_type.value, document.normalised)
        db.session.add(row)
        db.session.flush()
        previous = user.trust_level
        self.recompute(user)
        record_event(Tag.TRUST_LEVEL_SET, actor=actor, user_id=user.id,
                     data={"level": level, "previous": previous, "reason": reason.strip()[:200]})
        db.session.flush()
        return user.trust_level

    # --- cases ---
    def _open_case(self, claimant: User, holder: User, proof: Proof,
                   key: str) -> IdentityCase:
        existing = db.session.execute(select(IdentityCase).where(
            IdentityCase.claimant_id == claimant.id, IdentityCase.status == "open",
            IdentityCase.fingerprint.in_(self.fingerprints.candidates(key)))).scalars().first()
        if existing is not None:
            return existing
        case = IdentityCase(claimant_id=claimant.id, holder_id=holder.id,
                            document_type=proof.document.document_type.value,
                            fingerprint=self.fingerprints.digest(key),
                            sealed_number=self.box.seal(proof.document.normalised or ""),
                            masked_number=mask(proof.document.document_type.value,
                                               proof.document.normalised or ""),
                            name=proof.name, method=proof.method,
                            level=min(proof.level, METHOD_MAX_LEVEL.get(proof.method, 2)),
                            transaction_id=proof.transaction_id, opened_by=proof.actor.label)
        db.session.add(case)
        db.session.flush()
        return case

    def cases(self, status: str = "open") -> list[IdentityCase]:
        return list(db.session.execute(select(IdentityCase).where(IdentityCase.status == status)
                                       .order_by(IdentityCase.id)).scalars())

    def open_case_for(self, user: User) -> IdentityCase | None:
        return db.session.execute(select(IdentityCase).where(
            IdentityCase.claimant_id == user.id, IdentityCase.status == "open")
        ).scalars().first()

    def resolve_case(self, case_id: int, *, decision: str, note: str,
                     actor: Actor) -> IdentityCase:
        """`transfer`: the document leaves the holder's account (its records revoked, its level
        recomputed, its sessions and grants ended) and is linked to the claimant at the level
        the claimant proved. `keep`: the holder keeps it; the claimant stays as they were."""
        if decision not in ("transfer", "keep"):
            raise AccountError("invalid_decision", "decision must be transfer or keep")
        if not note.strip():
            raise AccountError("reason_required", "a note is required to decide a case")
        case = db.session.get(IdentityCase, case_id)
        if case is None or case.status != "open":
            raise AccountError("no_such_case", "no open case with this number")
        claimant = db.session.get(User, case.claimant_id)
        if claimant is None:
            raise AccountError("no_such_case", "the claimant's account no longer exists")
        if decision == "transfer":
            self._transfer(case, claimant, actor)
        case.status, case.resolution = "resolved", "transferred" if decision == "transfer" \
            else "kept"
        case.resolved_by, case.resolved_at = actor.label, datetime.now(UTC)
        case.note = note.strip()[:1000]
        record_event(Tag.CASE_RESOLVED, actor=actor, user_id=claimant.id,
                     data={"case": case.id, "resolution": case.resolution,
                           "holder": case.holder_id})
        db.session.flush()
        return case

    def _transfer(self, case: IdentityCase, claimant: User, actor: Actor) -> None:
        number = self.box.open(case.sealed_number)
        document = check(case.document_type, number)
        holder = db.session.get(User, case.holder_id) if case.holder_id else None
        if holder is not None and holder.id != claimant.id:
            self._unlink(holder, actor, reason=f"case {case.id}")
        refused = self._different_document(claimant, case.document_type, number)
        if refused is not None:
            raise AccountError("different_document",
                               "the claimant's account already holds another document")
        key = self.document_key(case.document_type, number)
        self._link(claimant, document, key, case.name or claimant.name or "")
        proof = Proof(document, case.name or "", CASE_TRANSFER, case.level, actor,
                      transaction_id=case.transaction_id,
                      evidence={"case": case.id, "proved_by": case.method})
        self._record(claimant, proof, result=VERIFIED)
        self.recompute(claimant)

    # --- erasure ---
    def erase_person(self, user_id: str) -> None:
        """The purge of a deleted account (accounts.lifecycle): its verification records keep
        only what the halls' work statistics count (method, level, result, staff, hall, time;
        counter/reports.py) and lose everything about the person and their document (the
        fingerprint, masked number, document type, platform transaction, score, evidence,
        reason), and grant nothing any more; the cases the person opened as claimant are
        deleted (they hold their sealed number and name). Flushes; the purge commits."""
        now = datetime.now(UTC)
        db.session.execute(update(Verification).where(Verification.user_id == user_id).values(
            document_type=None, fingerprint=None, masked_number=None, transaction_id=None,
            score=None, evidence=None, reason=None,
            revoked_at=func.coalesce(Verification.revoked_at, now)))
        db.session.execute(delete(IdentityCase).where(IdentityCase.claimant_id == user_id))
        user = db.session.get(User, user_id)
        if user is not None:
            self.recompute(user)

    def _unlink(self, user: User, actor: Actor, *, reason: str) -> None:
        now = datetime.now(UTC)
        for row in self.records(user):
            if row.revoked_at is None and row.method != OVERRIDE:
                row.revoked_at, row.reason = now, reason
        user.id_number_sealed = user.id_number_hash = user.id_document_type = None
        db.session.flush()
        self.recompute(user)
        record_event(Tag.DOCUMENT_REMOVED, actor=actor, user_id=user.id,
                     data={"reason": reason, "level": user.trust_level})
        for listener in self.on_document_removed:
            listener(user.id)


def _failure_code(answer: PlatformResult) -> str:
    if answer.outcome == Outcome.NO_MATCH:
        return "face_mismatch" if answer.reason == "face_mismatch" else "no_match"
    if answer.outcome == Outcome.NOT_FOUND:
        return "not_found"
    if answer.reason == "bad_image":
        return "bad_image"
    return "unavailable"

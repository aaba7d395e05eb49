"""Account services: create and register accounts, check passwords with lockout, recover."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from idp.accounts.errors import AccountError
from idp.accounts.lockout import Gate, LoginGuard
from idp.accounts.models import User
from idp.accounts.phones import is_mobile, normalize_phone
from idp.accounts.sessions import SsoSession
from idp.accounts.signals import CREDENTIAL_CHANGE, IDENTIFIER_CHANGED, SESSIONS_REVOKED, announce
from idp.audit.actors import Actor
from idp.audit.models import AuditEvent
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db
from idp.security.crypto import DocumentFingerprints, KeyedHash, SealingBox
from idp.security.password_policy import describe_problems, password_problems
from idp.security.passwords import Passwords
from realname import TrustLevel, is_valid_id_number

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$")
FLOOR_LEVEL = int(TrustLevel.SELF_DECLARED)


def login_identifier(typed: str) -> str:
    """What a person typed to log in, in one spelling: NFKC (full-width letters and digits),
    trimmed, and a mobile number in its canonical 11 digits."""
    text = unicodedata.normalize("NFKC", typed).strip()
    phone = normalize_phone(text)
    return phone if is_mobile(phone) else text


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    gate: Gate


@dataclass(frozen=True)
class SessionAccount:
    """What the authorization endpoint reads of the account a session signs in."""

    id: str
    username: str
    trust_level: int
    disabled: bool
    sessions_valid_after: int | None


_T_USER = User.__table__
_SESSION_ACCOUNT = select(*(_T_USER.c[name] for name in (
    "id", "username", "trust_level", "disabled", "sessions_valid_after"))).where(
    _T_USER.c.id == bindparam("user_id"))


def _may_sign_in(account: User | SessionAccount | None, session: SsoSession) -> bool:
    """The one rule: the account exists, is not disabled, and its sessions were not all ended
    after this one began."""
    if account is None or account.disabled:
        return False
    return account.sessions_valid_after is None or session.created > account.sessions_valid_after


class AccountService:
    def __init__(self, passwords: Passwords, guard: LoginGuard, id_box: SealingBox,
                 id_hasher: DocumentFingerprints, login_hasher: KeyedHash, *,
                 deletion_grace_days: int = 15) -> None:
        self.passwords = passwords
        self.guard = guard
        self.id_box = id_box
        self.id_hasher = id_hasher
        self.login_hasher = login_hasher
        # IDP_DELETION_COOLING_OFF_DAYS: a deletion request's cooling-off period (lifecycle).
        self.deletion_grace = timedelta(days=deletion_grace_days)
        # Called with an account id when its credentials were reset: higher layers revoke
        # every grant (refresh token) the account holds.
        self.on_credentials_reset: list[Callable[[str], object]] = []

    # --- creating accounts ---
    def create_user(self, *, username: str, password: str, phone: str | None = None,
                    name: str | None = None, actor: Actor | None = None,
                    phone_verified: bool = False) -> User:
        """A self-declared (level 2) account; identity documents and levels come only from
        verification records (idp.identity)."""
        if not USERNAME_RE.fullmatch(username):
            raise AccountError("invalid_username",
                               "a username is 3 to 64 letters, digits, '_', '.' or '-', "
                               "starting with a letter")
        if phone is not None:
            phone = normalize_phone(phone)
            if not is_mobile(phone):
                raise AccountError("invalid_phone",
                                   "a mobile number is 11 digits starting with 1 (mainland "
                                   "China)")
        problems = password_problems(password, phone=phone, username=username)
        if problems:
            raise AccountError("weak_password", describe_problems(problems))
        same = [User.username == username] + ([User.phone == phone] if phone else [])
        if db.session.execute(select(User.id).where(or_(*same))).first():
            raise AccountError("exists", "an account with this username or phone already exists")
        user = User(username=username, phone=phone, name=name, trust_level=FLOOR_LEVEL,
                    password_hash=self.passwords.hash(password), phone_verified=phone_verified,
                    password_changed_at=datetime.now(UTC))
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError:  # a twin request created the same username or phone first
            db.session.rollback()
            raise AccountError("exists", "an account with this username or phone already "
                               "exists") from None
        record_event(Tag.USER_CREATED, actor=actor or Actor.citizen(user.id), user_id=user.id)
        return user

    def register(self, *, phone: str, password: str, name: str | None, ip: str | None,
                 username: str | None = None) -> User:
        """Self-service registration (自助注册) after the phone was proven by an SMS code. A
        person who chooses no username gets one made up, which pages never show
        (`username_chosen`); they sign in with their mobile number."""
        phone = normalize_phone(phone)
        if self.find_by_login(phone) is not None:
            raise AccountError("exists", "this mobile number is already registered")
        if username and db.session.execute(
                select(User.id).where(User.username == username)).first():
            raise AccountError("username_taken", "this username is already taken")
        user = self.create_user(username=username or "u" + secrets.token_hex(5),
                                password=password, phone=phone,
                                name=(name or "").strip() or None, actor=None,
                                phone_verified=True)
        user.username_chosen = bool(username)
        record_event(Tag.USER_REGISTERED, actor=Actor.citizen(user.id), user_id=user.id, ip=ip)
        db.session.flush()
        return user

    # --- finding people ---
    def find_by_login(self, identifier: str) -> User | None:
        """By mobile number, username, or (for verified accounts) citizen ID number."""
        identifier = login_identifier(identifier)
        if is_mobile(identifier):
            where = User.phone == identifier
        elif len(identifier) == 18 and is_valid_id_number(identifier):
            where = User.id_number_hash.in_(self.id_hasher.candidates(identifier.upper())) & \
                (User.trust_level >= int(TrustLevel.AUTHORITATIVE_MATCH))
        else:
            where = User.username == identifier
        return db.session.execute(select(User).where(where)).scalar_one_or_none()

    def get(self, user_id: str) -> User | None:
        return db.session.get(User, user_id)

    def session_user(self, session: SsoSession | None) -> User | None:
        """The account a session signs in, if the session still may: the account exists, is
        not disabled, and its sessions were not all ended after this one began."""
        user = self.get(session.user_id) if session is not None else None
        return user if session is not None and _may_sign_in(user, session) else None

    def session_account(self, session: SsoSession | None) -> SessionAccount | None:
        """`session_user`'s answer as the five columns the authorization endpoint reads, in
        one narrow row instead of the whole account (its hot path: bench/README.md)."""
        if session is None:
            return None
        row = db.session.execute(_SESSION_ACCOUNT, {"user_id": session.user_id}).first()
        account = SessionAccount(*row) if row is not None else None
        return account if _may_sign_in(account, session) else None

    def end_every_session(self, user: User, actor: Actor, now: int) -> None:
        """Durably end every session of the account, including those in a store this process
        cannot reach (the caller commits)."""
        user.sessions_valid_after = now
        record_event(Tag.SESSIONS_ENDED, actor=actor, user_id=user.id)
        announce(user.id, SESSIONS_REVOKED, by=actor.kind)

    def deletion_due(self, user: User) -> datetime | None:
        """When a requested deletion erases the account (the end of its cooling-off period,
        on the injectable clock's time line); None when no deletion is pending."""
        requested = user.deletion_requested_at
        if requested is None or user.purged_at is not None:
            return None
        return (requested if requested.tzinfo else requested.replace(tzinfo=UTC)) + \
            self.deletion_grace

    def closed(self, user: User) -> bool:
        """The account cannot sign in at all: disabled, erased, or its deletion's cooling-off
        period is over (treated as gone until the purge erases it)."""
        if user.disabled or user.purged_at is not None:
            return True
        due = self.deletion_due(user)
        return due is not None and due.timestamp() <= self.guard.clock.now()

    def masked_id_number(self, user: User) -> str | None:
        """The account's verified document number, masked (4401**********123X)."""
        from realname.documents import mask

        return mask(user.id_document_type or "id-number", self.id_box.open(
            user.id_number_sealed)) if user.id_number_sealed else None

    def lock_subject(self, identifier: str, user: User | None) -> str:
        return "acct:" + user.id if user else "who:" + self.login_hasher.digest(
            login_identifier(identifier).lower())

    # --- passwords ---
    def authenticate(self, identifier: str, password: str, ip: str | None) -> LoginResult:
        """Check a password behind the lockout gate; the same answers whether or not the
        account exists."""
        user = self.find_by_login(identifier)
        return self._guarded_check(user, self.lock_subject(identifier, user), password, ip,
                                   "bad_credentials")

    def check_current_password(self, user: User, password: str, ip: str | None) -> LoginResult:
        """A signed-in person re-typing their password (to change it, or to step up): the
        same lockout, delays and audit as login."""
        return self._guarded_check(user, self.lock_subject(user.username, user), password, ip,
                                   "bad_current_password")

    def _guarded_check(self, user: User | None, subject: str, password: str, ip: str | None,
                       reason: str) -> LoginResult:
        gate = self.guard.enter(subject, ip)
        if not gate.allowed:
            return LoginResult(None, self.refused(subject, user, gate, ip))
        check = self.passwords.verify(user.password_hash if user else None, password)
        if check.ok and user is not None and not self.closed(user):
            self.guard.succeeded(subject)
            if check.needs_rehash:
                user.password_hash = self.passwords.hash(password)
                db.session.flush()
            return LoginResult(user, gate)
        record_event(Tag.LOGIN_FAILURE, actor=Actor.anonymous(), user_id=user.id if user else None,
                     ip=ip, data={"reason": reason, "failures": gate.slot})
        after = self.attempt_failed(subject, user, ip)
        return LoginResult(None, after if after.reason == "locked" else Gate(True))

    def refused(self, subject: str, user: User | None, gate: Gate, ip: str | None) -> Gate:
        """An attempt the gate refused; one made too soon still uses its failure slot."""
        if gate.reason != "wait" or gate.slot is None:
            return gate
        record_event(Tag.LOGIN_FAILURE, actor=Actor.anonymous(), user_id=user.id if user else None,
                     ip=ip, data={"reason": "too_soon", "failures": gate.slot})
        return self.attempt_failed(subject, user, ip)

    def attempt_failed(self, subject: str, user: User | None, ip: str | None) -> Gate:
        """Settle a wrong password or code: the slot stays taken; a new lock is audited once."""
        after = self.guard.failed(subject, ip)
        if after.new_lock and user is not None:
            record_event(Tag.ACCOUNT_LOCKED, actor=Actor.system(), user_id=user.id, ip=ip,
                         data={"until": after.retry_at})
        db.session.commit()
        return after

    def password_problems(self, password: str, user: User | None = None,
                          phone: str | None = None, username: str | None = None) -> list[str]:
        return password_problems(password, phone=phone or (user.phone if user else None),
                                 username=username or (user.username if user else None))

    def set_password(self, user: User, password: str, *, actor: Actor, tag: Tag,
                     ip: str | None) -> None:
        problems = self.password_problems(password, user)
        if problems:
            raise AccountError("weak_password", describe_problems(problems))
        user.password_hash = self.passwords.hash(password)
        user.password_changed_at = datetime.now(UTC)
        self.guard.unlock(self.lock_subject(user.username, user))
        record_event(tag, actor=actor, user_id=user.id, ip=ip)
        announce(user.id, CREDENTIAL_CHANGE, credential_type="password", change_type="update",
                 by=actor.kind)
        db.session.flush()

    def reset_password(self, user: User, password: str, ip: str | None) -> None:
        """Forgotten password: new password, and every grant of the account revoked."""
        self.set_password(user, password, actor=Actor.citizen(user.id), tag=Tag.PASSWORD_RESET,
                          ip=ip)
        self.credentials_changed(user.id)

    def change_password(self, user: User, password: str, ip: str | None) -> None:
        """A signed-in person's new password; every grant of the account is revoked, as on
        recovery (the caller ends the person's other sessions)."""
        self.set_password(user, password, actor=Actor.citizen(user.id), tag=Tag.PASSWORD_CHANGED,
                          ip=ip)
        self.credentials_changed(user.id)

    def credentials_changed(self, user_id: str) -> None:
        for listener in self.on_credentials_reset:
            listener(user_id)

    def check_password(self, user: User, password: str) -> bool:
        return self.passwords.verify(user.password_hash, password).ok

    def unlock(self, user: User, actor: Actor) -> None:
        self.guard.unlock(self.lock_subject(user.username, user))
        record_event(Tag.ACCOUNT_UNLOCKED, actor=actor, user_id=user.id)
        db.session.flush()

    # --- phone ---
    def change_phone(self, user: User, new_phone: str, *, actor: Actor, ip: str | None,
                     via: str) -> None:
        """Replace the mobile number; `via` says how it was proven (old_phone | counter)."""
        new_phone = normalize_phone(new_phone)
        if not is_mobile(new_phone):
            raise AccountError("invalid_phone", "phone must be an 11-digit mainland mobile number")
        if self.find_by_login(new_phone) is not None:
            raise AccountError("exists", "this mobile number is already registered")
        user.phone, user.phone_verified = new_phone, True
        record_event(Tag.PHONE_CHANGED, actor=actor, user_id=user.id, ip=ip, data={"via": via})
        announce(user.id, IDENTIFIER_CHANGED)  # never the number itself
        db.session.flush()

    def recent_sign_ins(self, user_id: str, limit: int = 30) -> list[AuditEvent]:
        """The person's last sign-in events (successes, failures, second factors)."""
        tags = [t.value for t in (Tag.LOGIN_SUCCESS, Tag.LOGIN_FAILURE, Tag.MFA_SUCCESS,
                                  Tag.MFA_FAILURE, Tag.ACCOUNT_LOCKED)]
        return list(db.session.execute(
            select(AuditEvent).where(AuditEvent.user_id == user_id, AuditEvent.tag.in_(tags))
            .order_by(AuditEvent.seq.desc()).limit(limit)).scalars())

    # --- audit helpers for views ---


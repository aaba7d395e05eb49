"""Service halls and staff accounts: creation, enrolment (new password and a mandatory
authenticator app), sign-in behind the same durable lockout as citizens, and disabling."""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from idp.accounts.lockout import Gate, LoginGuard
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.clock import Clock
from idp.counter.errors import CounterError
from idp.counter.models import ROLES, ServiceHall, StaffAccount
from idp.extensions import db
from idp.identity.services import IdentityService
from idp.security import totp
from idp.security.crypto import KeyedHash, SealingBox
from idp.security.password_policy import password_problems
from idp.security.passwords import Passwords
from realname.documents import DocumentType, check, division

HALL_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,31}$")
STAFF_USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")
PENDING_TOTP_TTL = 900  # seconds an enrolment page's secret waits for its first code


def division_problem(code: str) -> str | None:
    """Why a GB/T 2260 division code cannot name a hall's area, or None."""
    if not re.fullmatch(r"[0-9]{6}", code):
        return "the division code must be 6 digits (GB/T 2260), e.g. 441800"
    found = division(code)
    if found is None:
        return f"{code} is not a GB/T 2260 division code"
    if not found.current:
        return f"{code} ({found.name}) was abolished; use the current division code"
    return None


def parse_allowlist(cidrs: list[str] | tuple[str, ...]) -> list[str]:
    try:
        return [str(ipaddress.ip_network(c.strip(), strict=False)) for c in cidrs if c.strip()]
    except ValueError:
        raise CounterError("invalid_cidr", "IP allow-list entries must be networks in CIDR "
                           "form, e.g. 10.20.0.0/16") from None


def ip_allowed(hall: ServiceHall | None, ip: str | None) -> bool:
    """A hall without an allow-list accepts any address; with one, only addresses inside."""
    if hall is None:
        return False
    if not hall.ip_allowlist:
        return True
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(c, strict=False) for c in hall.ip_allowlist)


@dataclass(frozen=True)
class Credentials:
    """What a new or reset staff member receives once: a one-time password and the token of
    the enrolment link (/counter/enrol/<token>). Neither is stored in the clear."""

    staff: StaffAccount
    password: str
    token: str


@dataclass(frozen=True)
class StaffLogin:
    staff: StaffAccount | None
    gate: Gate  # why not, when staff is None: credentials (allowed), locked, wait, ip_limit
    network_refused: bool = False


@dataclass(frozen=True)
class PendingTotp:
    secret: str
    uri: str
    qr_svg: str
    sealed: str  # what the enrolling browser keeps and hands back


class StaffService:
    def __init__(self, passwords: Passwords, guard: LoginGuard, totp_box: SealingBox,
                 pending_box: SealingBox, hasher: KeyedHash, clock: Clock,
                 identity: IdentityService, enrolment_ttl: int = 72 * 3600) -> None:
        self.passwords = passwords
        self.guard = guard
        self.totp_box = totp_box
        self.pending_box = pending_box
        self.hasher = hasher
        self.clock = clock
        self.identity = identity
        self.enrolment_ttl = enrolment_ttl

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    # --- halls ---
    def create_hall(self, *, code: str, name: str, division_code: str,
                    ip_allowlist: list[str] | tuple[str, ...] = (),
                    actor: Actor) -> ServiceHall:
        code, name = code.strip(), " ".join(name.split())
        if not HALL_CODE_RE.fullmatch(code):
            raise CounterError("invalid_hall_code", "a hall code is 2-32 letters, digits or "
                               "'-', starting with a letter or digit")
        if not name or len(name) > 100:
            raise CounterError("invalid_name", "a hall needs a name of at most 100 characters")
        problem = division_problem(division_code.strip())
        if problem:
            raise CounterError("invalid_division", problem)
        networks = parse_allowlist(ip_allowlist)
        if db.session.get(ServiceHall, code) is not None:
            raise CounterError("exists", f"a hall with code {code} already exists")
        hall = ServiceHall(code=code, name=name, division_code=division_code.strip(),
                           ip_allowlist=networks or None, created_at=self.now())
        db.session.add(hall)
        db.session.flush()
        record_event(Tag.COUNTER_HALL_CREATED, actor=actor,
                     data={"hall": code, "division": hall.division_code,
                           "ip_allowlist": networks})
        return hall

    def hall(self, code: str) -> ServiceHall | None:
        return db.session.get(ServiceHall, code)

    def halls(self) -> list[ServiceHall]:
        return list(db.session.execute(select(ServiceHall).order_by(ServiceHall.code))
                    .scalars())

    # --- staff ---
    def get(self, staff_id: str) -> StaffAccount | None:
        return db.session.get(StaffAccount, staff_id)

    def by_username(self, username: str) -> StaffAccount | None:
        name = unicodedata.normalize("NFKC", username).strip().lower()
        return db.session.execute(select(StaffAccount).where(StaffAccount.username == name)
                                  ).scalar_one_or_none()

    def in_hall(self, hall_code: str | None) -> list[StaffAccount]:
        query = select(StaffAccount).order_by(StaffAccount.hall_code, StaffAccount.username)
        if hall_code is not None:
            query = query.where(StaffAccount.hall_code == hall_code)
        return list(db.session.execute(query).scalars())

    def create_staff(self, *, username: str, hall_code: str, role: str, actor: Actor,
                     display_name: str | None = None,
                     id_number: str | None = None) -> Credentials:
        username = unicodedata.normalize("NFKC", username).strip().lower()
        if not STAFF_USERNAME_RE.fullmatch(username):
            raise CounterError("invalid_username", "a staff username is 3-64 lower-case "
                               "letters, digits, '_', '.', '-', starting with a letter")
        if role not in ROLES:
            raise CounterError("invalid_role", "role must be one of " + ", ".join(ROLES))
        if self.hall(hall_code) is None:
            raise CounterError("no_such_hall", f"no hall with code {hall_code}")
        if self.by_username(username) is not None:
            raise CounterError("exists", f"a staff account {username} already exists")
        staff = StaffAccount(username=username, role=role, hall_code=hall_code,
                             display_name=" ".join((display_name or "").split())[:100] or None,
                             must_change_password=True, totp_last_step=0, disabled=False,
                             created_at=self.now())
        if id_number:
            self._bind_own_identity(staff, id_number)
        db.session.add(staff)
        db.session.flush()
        credentials = self._issue_enrolment(staff)
        record_event(Tag.COUNTER_STAFF_CREATED, actor=actor,
                     data={"staff": staff.id, "username": username, "role": role,
                           "hall": hall_code, "own_account": staff.user_id})
        return credentials

    def _bind_own_identity(self, staff: StaffAccount, id_number: str) -> None:
        """Remember the staff member's own ID number (as a fingerprint) and citizen account,
        so that they never act on it at a counter."""
        result = check(DocumentType.ID_NUMBER.value, id_number)
        if not result.valid or result.normalised is None:
            raise CounterError("invalid_id_number", "the ID number is not valid: "
                               f"{result.explanation.en if result.explanation else ''}")
        key = self.identity.document_key(DocumentType.ID_NUMBER.value, result.normalised)
        staff.id_fingerprint = self.identity.fingerprints.digest(key)
        own = self.identity.find_by_document(result.normalised)
        staff.user_id = own.id if own is not None else None

    def reissue_enrolment(self, staff: StaffAccount, actor: Actor) -> Credentials:
        """A lost phone or forgotten password: new one-time password and enrolment link; the
        old password and authenticator stop working and every session ends."""
        staff.totp_secret_sealed, staff.totp_last_step = None, 0
        credentials = self._issue_enrolment(staff)
        record_event(Tag.COUNTER_STAFF_ENROLMENT_ISSUED, actor=actor,
                     data={"staff": staff.id, "hall": staff.hall_code})
        return credentials

    def _issue_enrolment(self, staff: StaffAccount) -> Credentials:
        password, token = secrets.token_urlsafe(12), secrets.token_urlsafe(32)
        staff.password_hash = self.passwords.hash(password)
        staff.must_change_password = True
        staff.enrolment_token_hash = self.hasher.digest(token)
        staff.enrolment_expires_at = self.now() + timedelta(seconds=self.enrolment_ttl)
        db.session.flush()
        return Credentials(staff, password, token)

    def disable(self, staff: StaffAccount, actor: Actor) -> None:
        staff.disabled = True
        staff.sessions_valid_after = self.clock.seconds()
        staff.enrolment_token_hash = staff.enrolment_expires_at = None
        record_event(Tag.COUNTER_STAFF_DISABLED, actor=actor,
                     data={"staff": staff.id, "hall": staff.hall_code})
        db.session.flush()

    # --- enrolment ---
    def enrolling(self, token: str) -> StaffAccount | None:
        """The staff member an enrolment link belongs to, while it is valid."""
        if not token or len(token) > 100:
            return None
        staff = db.session.execute(select(StaffAccount).where(
            StaffAccount.enrolment_token_hash == self.hasher.digest(token))).scalar_one_or_none()
        if staff is None or staff.disabled or staff.enrolment_expires_at is None:
            return None
        expires = staff.enrolment_expires_at
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        return staff if expires > self.now() else None

    def new_pending_totp(self, staff: StaffAccount) -> PendingTotp:
        """A fresh secret for the enrolment page. It is not stored: the enrolling browser
        keeps it sealed (bound to the staff member and the time) and hands it back with the
        first code, so whoever else opens the link sees a different secret."""
        secret = totp.new_secret()
        sealed = self.pending_box.seal(json.dumps({"secret": secret, "staff": staff.id,
                                                   "at": self.clock.seconds()}))
        return self._pending(staff, secret, sealed)

    def open_pending_totp(self, staff: StaffAccount, sealed: str | None) -> PendingTotp | None:
        """The pending secret a browser handed back, if it is this staff member's and fresh."""
        if not sealed:
            return None
        try:
            data = json.loads(self.pending_box.open(sealed))
        except Exception:  # a tampered, foreign or old-key value is no pending enrolment
            return None
        if data.get("staff") != staff.id or \
                self.clock.seconds() - int(data.get("at", 0)) > PENDING_TOTP_TTL:
            return None
        return self._pending(staff, str(data["secret"]), sealed)

    @staticmethod
    def _pending(staff: StaffAccount, secret: str, sealed: str) -> PendingTotp:
        uri = totp.provisioning_uri(secret, f"counter-{staff.username}")
        return PendingTotp(secret, uri, totp.qr_svg(uri), sealed)

    def enrol(self, staff: StaffAccount, *, one_time_password: str, new_password: str,
              code: str, pending: PendingTotp | None,
              ip: str | None) -> tuple[str, list[str] | Gate | None]:
        """Set the staff member's own password and turn on their authenticator app. Returns
        ("enrolled", None) or why not: ("weak_password", problems), ("refused", gate),
        ("credentials", None), ("code", None), ("expired", None)."""
        problems = password_problems(new_password, username=staff.username)
        if problems:
            return "weak_password", problems
        subject = "staff:" + staff.id
        gate = self.guard.enter(subject, ip)
        if not gate.allowed:
            return "refused", self._settle_refused(subject, staff, gate, ip)
        if not self.passwords.verify(staff.password_hash, one_time_password).ok:
            self._failed(subject, staff, ip, "bad_one_time_password")
            return "credentials", None
        self.guard.succeeded(subject)
        if pending is None:
            return "expired", None
        step = totp.matching_step(pending.secret, code, after_step=0, now=self.clock.now())
        if step is None:
            return "code", None
        staff.password_hash = self.passwords.hash(new_password)
        staff.must_change_password = False
        staff.totp_secret_sealed = self.totp_box.seal(pending.secret)
        staff.totp_last_step = step
        staff.enrolment_token_hash = staff.enrolment_expires_at = None
        record_event(Tag.COUNTER_STAFF_ENROLLED, actor=Actor.staff(staff.id, staff.hall_code),
                     ip=ip, data={"staff": staff.id})
        db.session.flush()
        return "enrolled", None

    # --- sign-in ---
    def authenticate(self, username: str, password: str, code: str,
                     ip: str | None) -> StaffLogin:
        """Password and authenticator code together, behind the durable lockout. The answer is
        the same for an unknown username, a wrong password or code, a disabled account and a
        staff member who has not finished enrolment."""
        staff = self.by_username(username)
        subject = "staff:" + staff.id if staff else \
            "staff-who:" + self.hasher.digest(username.strip().lower())
        gate = self.guard.enter(subject, ip)
        if not gate.allowed:
            return StaffLogin(None, self._settle_refused(subject, staff, gate, ip))
        password_ok = self.passwords.verify(staff.password_hash if staff else None,
                                            password).ok
        if not (password_ok and staff is not None and not staff.disabled and staff.enrolled
                and self.check_totp(staff, code)):
            return StaffLogin(None, self._failed(subject, staff, ip, "bad_credentials"))
        self.guard.succeeded(subject)
        if not ip_allowed(self.hall(staff.hall_code), ip):
            self.ip_refused(staff, ip, "login")
            return StaffLogin(None, Gate(True), network_refused=True)
        staff.last_login_at = self.now()
        record_event(Tag.COUNTER_STAFF_LOGIN, actor=Actor.staff(staff.id, staff.hall_code),
                     ip=ip, data={"role": staff.role})
        db.session.flush()
        return StaffLogin(staff, gate)

    def ip_refused(self, staff: StaffAccount, ip: str | None, where: str) -> None:
        """A staff member reached the workbench from outside their hall's allow-list."""
        record_event(Tag.COUNTER_STAFF_IP_REFUSED, actor=Actor.staff(staff.id, staff.hall_code),
                     ip=ip, data={"hall": staff.hall_code, "at": where[:100]})
        db.session.flush()

    def logged_out(self, staff: StaffAccount, ip: str | None) -> None:
        """Signing out ends every workbench session of the member, decided in the database
        and committed before the store forgets the session (a deliberate commit, as in
        SessionService.end)."""
        staff.sessions_valid_after = self.clock.seconds()
        record_event(Tag.COUNTER_STAFF_LOGOUT, actor=Actor.staff(staff.id, staff.hall_code),
                     ip=ip)
        db.session.commit()

    def check_totp(self, staff: StaffAccount, code: str) -> bool:
        """Once per time step: a code already used is refused (atomic compare-and-set)."""
        if staff.totp_secret_sealed is None:
            return False
        db.session.refresh(staff, ["totp_last_step"])
        step = totp.matching_step(self.totp_box.open(staff.totp_secret_sealed), code,
                                  after_step=staff.totp_last_step, now=self.clock.now())
        if step is None:
            return False
        moved = db.session.execute(
            update(StaffAccount).where(StaffAccount.id == staff.id,
                                       StaffAccount.totp_last_step < step)
            .values(totp_last_step=step))
        return moved.rowcount == 1  # type: ignore[attr-defined]

    def _settle_refused(self, subject: str, staff: StaffAccount | None, gate: Gate,
                        ip: str | None) -> Gate:
        """An attempt the gate refused; one made too soon still uses its failure slot."""
        if gate.reason != "wait" or gate.slot is None:
            return gate
        return self._failed(subject, staff, ip, "too_soon")

    def _failed(self, subject: str, staff: StaffAccount | None, ip: str | None,
                reason: str) -> Gate:
        """A wrong credential: the slot stays taken; committed at once (accounts.lockout)."""
        record_event(Tag.COUNTER_STAFF_LOGIN_FAILED, actor=Actor.anonymous(), ip=ip,
                     data={"staff": staff.id if staff else None, "reason": reason})
        after = self.guard.failed(subject, ip)
        if after.new_lock and staff is not None:
            record_event(Tag.COUNTER_STAFF_LOCKED, actor=Actor.system(), ip=ip,
                         data={"staff": staff.id, "until": after.retry_at})
        db.session.commit()
        return after if after.reason == "locked" else Gate(True)

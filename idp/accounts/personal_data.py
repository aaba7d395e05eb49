"""A copy of everything the platform holds about one person (个人信息副本, PIPL Art. 45),
made on request, at most `daily_limit` times in 24 hours, each copy audited.

What it holds is gathered here from the accounts layer's own tables, the SSO sessions in the
store and the audit log, and from the higher layers through ports (idp.accounts.ports):
verification records (idp.identity), authorisations (idp.oauth), service halls and activation
codes (idp.counter). Every part is reduced to what its person may see: no password hash, no
authenticator secret or recovery code, no token, code or session secret, no full document
number, and nothing of another person (a staff member or operator is named by their kind and
service hall only; the event data of the audit log is never copied, only the sign-in method and
device). docs/personal-data.md explains each choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import overload

from sqlalchemy import select

from idp.accounts.assurance import METHOD_FACTORS
from idp.accounts.devices import device_label
from idp.accounts.mfa import MfaService
from idp.accounts.models import AgreementAcceptance, User
from idp.accounts.ports import (
    ActivationEntry,
    AuthorizationHistory,
    Authorizations,
    AuthorizedApp,
    ClaimEntry,
    CounterRecords,
    GrantEntry,
    IdentityRecords,
    VerificationEntry,
)
from idp.accounts.services import AccountService
from idp.accounts.sessions import SessionService
from idp.audit.actors import Actor
from idp.audit.models import AuditEvent
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.clock import Clock
from idp.extensions import db

WINDOW = timedelta(hours=24)
FORMATS = ("json", "html")
SIGN_IN_TAGS = (Tag.LOGIN_SUCCESS.value, Tag.LOGIN_FAILURE.value, Tag.MFA_SUCCESS.value,
                Tag.MFA_FAILURE.value, Tag.ACCOUNT_LOCKED.value)
# Whose address an event may show: the person's own, or that of someone trying their account.
# A counter's or an operator's workstation address is not the person's data.
ADDRESS_OF = ("citizen", "anonymous")


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite hands them back naive, written in UTC)."""
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Allowance:
    """How many copies the person made in the last 24 hours, and when the next one may be made
    if none is left."""

    limit: int
    made: int
    retry_at: datetime | None

    @property
    def allowed(self) -> bool:
        return self.made < self.limit

    @property
    def left(self) -> int:
        return max(0, self.limit - self.made)


@dataclass(frozen=True)
class Profile:
    account_id: str
    username: str | None  # only a username the person chose (accounts.models)
    name: str | None
    phone: str | None  # in full: it is the person's own (docs/personal-data.md)
    phone_verified: bool
    trust_level: int
    document_type: str | None
    masked_number: str | None
    created_at: datetime
    updated_at: datetime
    password_changed_at: datetime | None
    authenticator_app: bool
    recovery_codes_left: int


@dataclass(frozen=True)
class AuditEntry:
    """An audit event about the account, as its person sees it."""

    at: datetime
    tag: str
    actor: str  # the kind only: citizen, staff, operator, client, system, anonymous
    hall_code: str | None  # where counter staff acted
    ip: str | None  # only where the person (or someone trying their account) acted
    client_id: str | None
    methods: list[str]  # amr values a sign-in or second step used
    device: str | None  # "Chrome · Windows"; never the raw user-agent string


@dataclass(frozen=True)
class SessionEntry:
    started_at: datetime
    last_active_at: datetime
    ip: str | None
    device: str | None
    client_ids: list[str]
    this_browser: bool


@dataclass(frozen=True)
class AgreementEntry:
    document: str
    version: str
    accepted_at: datetime


@dataclass(frozen=True)
class PersonalData:
    generated_at: datetime
    profile: Profile
    verifications: list[VerificationEntry]
    claims: list[ClaimEntry]
    sign_ins: list[AuditEntry]
    activity: list[AuditEntry]
    sessions: list[SessionEntry]
    consents: list[AuthorizedApp]
    grants: list[GrantEntry]
    agreements: list[AgreementEntry]
    activation_codes: list[ActivationEntry]
    client_names: dict[str, str]  # client_id → business system name, for every id above
    hall_names: dict[str, str]  # hall code → service hall name, for every code above


def _audit_entry(event: AuditEvent) -> AuditEntry:
    kind, _, rest = event.actor.partition(":")
    data = event.data or {}
    methods: list[str] = []
    if event.tag == Tag.LOGIN_SUCCESS.value:
        methods = [str(m) for m in data.get("amr") or []]
    elif event.tag in (Tag.MFA_SUCCESS.value, Tag.MFA_FAILURE.value):
        factor = METHOD_FACTORS.get(str(data.get("method")))
        methods = [factor] if factor else []
    elif event.tag == Tag.LOGIN_FAILURE.value:
        methods = ["pwd"]
    device = data.get("device") if event.tag == Tag.LOGIN_SUCCESS.value else None
    return AuditEntry(at=utc(event.at), tag=event.tag, actor=kind,
                      hall_code=rest.rpartition("@")[2] if kind == "staff" and "@" in rest
                      else None,
                      ip=event.ip if kind in ADDRESS_OF else None, client_id=event.client_id,
                      methods=methods, device=str(device) if device else None)


class PersonalDataService:
    def __init__(self, *, accounts: AccountService, mfa: MfaService, sessions: SessionService,
                 authorizations: Authorizations, history: AuthorizationHistory,
                 identity: IdentityRecords, counter: CounterRecords | None, clock: Clock,
                 daily_limit: int) -> None:
        self.accounts = accounts
        self.mfa = mfa
        self.sessions = sessions
        self.authorizations = authorizations
        self.history = history
        self.identity = identity
        self.counter = counter
        self.clock = clock
        self.daily_limit = daily_limit

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    # --- the limit: counted from the audit log, so it is durable and needs no table ---
    def allowance(self, user: User) -> Allowance:
        made = [utc(at) for at in db.session.execute(
            select(AuditEvent.at).where(AuditEvent.user_id == user.id,
                                        AuditEvent.tag == Tag.DATA_COPY_GENERATED.value,
                                        AuditEvent.at > self.now() - WINDOW)
            .order_by(AuditEvent.at)).scalars()]
        retry_at = made[len(made) - self.daily_limit] + WINDOW \
            if len(made) >= self.daily_limit else None
        return Allowance(self.daily_limit, len(made), retry_at)

    def reserve(self, user: User) -> Allowance:
        """The allowance, with the account's row locked until the request commits, so two
        requests at once cannot both take the last copy (PostgreSQL; the embedded SQLite
        serves one process, where the window between count and audit row is a few ms)."""
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
        return self.allowance(user)

    def generated(self, user: User, fmt: str, ip: str | None) -> None:
        """Audit a copy handed out (the caller commits with the request)."""
        record_event(Tag.DATA_COPY_GENERATED, actor=Actor.citizen(user.id), user_id=user.id,
                     ip=ip, data={"format": fmt})
        db.session.flush()

    # --- the copy ---
    def collect(self, user: User, current_sid: str | None = None) -> PersonalData:
        events = [_audit_entry(e) for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.user_id == user.id)
            .order_by(AuditEvent.seq.desc())).scalars()]
        live = sorted(self.sessions.for_user(user.id), key=lambda s: -s.last_seen)
        sessions = [SessionEntry(
            started_at=datetime.fromtimestamp(s.created, UTC),
            last_active_at=datetime.fromtimestamp(s.last_seen, UTC), ip=s.ip,
            device=device_label(s.user_agent), client_ids=list(s.clients),
            this_browser=s.sid == current_sid) for s in live]
        grants = self.history.grants_of(user.id)
        verifications = self.identity.verifications_of(user.id)
        codes = self.counter.activation_codes_of(user.id) if self.counter else []
        sign_ins = [e for e in events if e.tag in SIGN_IN_TAGS]
        activity = [e for e in events if e.tag not in SIGN_IN_TAGS]
        client_ids = {c for s in sessions for c in s.client_ids} | \
            {e.client_id for e in events if e.client_id}
        halls = {v.hall_code for v in verifications if v.hall_code} | \
            {e.hall_code for e in events if e.hall_code} | {c.hall_code for c in codes}
        return PersonalData(
            generated_at=self.now(), profile=self._profile(user),
            verifications=verifications, claims=self.identity.claims_of(user.id),
            sign_ins=sign_ins, activity=activity, sessions=sessions,
            consents=self.authorizations.list_for(user.id), grants=grants,
            agreements=[AgreementEntry(a.document, a.version, utc(a.accepted_at))
                        for a in db.session.execute(
                            select(AgreementAcceptance)
                            .where(AgreementAcceptance.user_id == user.id)
                            .order_by(AgreementAcceptance.accepted_at,
                                      AgreementAcceptance.id)).scalars()],
            activation_codes=codes,
            client_names=self.authorizations.client_names(sorted(client_ids)),
            hall_names=self.counter.hall_names(sorted(halls)) if self.counter else {})

    def _profile(self, user: User) -> Profile:
        masked = self.accounts.masked_id_number(user)
        return Profile(
            account_id=user.id, username=user.username if user.username_chosen else None,
            name=user.name, phone=user.phone, phone_verified=bool(user.phone_verified),
            trust_level=user.trust_level,
            document_type=(user.id_document_type or "id-number") if masked else None,
            masked_number=masked, created_at=utc(user.created_at),
            updated_at=utc(user.updated_at), password_changed_at=utc(user.password_changed_at),
            authenticator_app=self.mfa.has_totp(user),
            recovery_codes_left=self.mfa.recovery_codes_left(user))

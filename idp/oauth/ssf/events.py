"""Account changes as Security Event Tokens (RFC 8417, OpenID SSF 1.0): the RISC and CAEP event
each change becomes, which business systems hear of it, and the SET queued for each of them in
the change's own transaction."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select, union

from idp.accounts import signals
from idp.accounts.signals import AccountSignal
from idp.extensions import db
from idp.oauth.models import Client, Consent, Grant, SecurityEvent
from idp.oauth.server import Provider

RISC = "https://schemas.openid.net/secevent/risc/event-type/"
CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
# Each account change and the event type it is sent as. Two follow the specifications where
# the names would not: a phone change is RISC `recovery-information-changed`, since
# RISC `identifier-changed` must name the old number in the subject (personal data) and is
# for the provider authoritative over the identifier (the carrier, not this platform); and
# "every session ended" is CAEP `session-revoked`, since RISC `sessions-revoked` is
# deprecated in its favour (RISC 1.0 §2.11).
EVENT_TYPES = {
    signals.ACCOUNT_DISABLED: RISC + "account-disabled",
    signals.ACCOUNT_ENABLED: RISC + "account-enabled",
    signals.ACCOUNT_PURGED: RISC + "account-purged",
    signals.IDENTIFIER_CHANGED: RISC + "recovery-information-changed",
    signals.CREDENTIAL_CHANGE: CAEP + "credential-change",
    signals.SESSIONS_REVOKED: CAEP + "session-revoked",
    signals.ASSURANCE_LEVEL_CHANGE: CAEP + "assurance-level-change",
}
EVENTS_SUPPORTED = tuple(EVENT_TYPES.values())
# CAEP 1.0 assurance-level-change: a namespace agreed with the receivers (integration guide):
# the trust levels (可信等级) 2-5 this provider asserts in `acr`.
TRUST_LEVEL_NAMESPACE = "urn:gd:gov:idp:trust-level"
DISABLED_REASONS = ("hijacking", "bulk-account")  # RISC 1.0 §2.3: the only values defined
CREDENTIAL_TYPES = ("password", "pin", "x509", "fido2-platform", "fido2-roaming", "fido-u2f",
                    "verifiable-credential", "phone-voice", "phone-sms", "app")
CHANGE_TYPES = ("create", "revoke", "update", "delete")
# CAEP 1.0 §2 `initiating_entity`, from the kind of actor the accounts layer names (`by`).
INITIATORS = {"citizen": "user", "staff": "admin", "operator": "admin", "client": "system",
              "system": "system"}
PUSH, POLL = "push", "poll"
PUSH_METHOD, POLL_METHOD = "urn:ietf:rfc:8935", "urn:ietf:rfc:8936"
QUEUED = "idp.security_events.queued"  # session.info: push clients with events this unit


def event_of(signal: AccountSignal, now: int) -> tuple[str, dict[str, Any]]:
    """The event type URI and its event object. Only the members the specifications define
    are copied from the signal's details, each checked, so nothing else (and nothing
    personal) can reach a business system through them."""
    details, body = signal.details, {}
    if signal.kind == signals.ACCOUNT_DISABLED and details.get("reason") in DISABLED_REASONS:
        body["reason"] = details["reason"]
    elif signal.kind == signals.CREDENTIAL_CHANGE:
        body["credential_type"] = _one_of(details, "credential_type", CREDENTIAL_TYPES)
        body["change_type"] = _one_of(details, "change_type", CHANGE_TYPES)
    elif signal.kind == signals.ASSURANCE_LEVEL_CHANGE:
        current, previous = int(details["current_level"]), int(details["previous_level"])
        if current == previous:
            raise ValueError("an assurance level change needs two different levels")
        body.update(namespace=TRUST_LEVEL_NAMESPACE, current_level=str(current),
                    previous_level=str(previous),
                    change_direction="increase" if current > previous else "decrease")
    if signal.kind in (signals.CREDENTIAL_CHANGE, signals.SESSIONS_REVOKED,
                       signals.ASSURANCE_LEVEL_CHANGE):  # CAEP 1.0 §2: optional claims
        body["event_timestamp"] = now
        if details.get("by") in INITIATORS:
            body["initiating_entity"] = INITIATORS[details["by"]]
    return EVENT_TYPES[signal.kind], body


def _one_of(details: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = details.get(name)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def receivers(user_id: str) -> list[Client]:
    """The business systems that know the person and take events: any grant (live, revoked
    or expired, while its row is kept) or a stored consent. Disabled ones too: their events
    wait, and reach them if an operator enables them again."""
    knows = union(select(Grant.client_id).where(Grant.user_id == user_id),
                  select(Consent.client_id).where(Consent.user_id == user_id)).subquery()
    return list(db.session.execute(
        select(Client).where(Client.client_id.in_(select(knows.c.client_id)),
                             Client.events_delivery.is_not(None))
        .order_by(Client.client_id)).scalars())


class EventQueue:
    """The listener of account signals (idp.accounts.signals): one SET per business system
    that knows the person, added to the caller's transaction (flushed; the caller commits),
    so an event exists if and only if the change committed."""

    def __init__(self, provider: Provider) -> None:
        self.p = provider

    def __call__(self, signal: AccountSignal) -> None:
        clients = receivers(signal.user_id)
        if not clients:
            return
        now = self.p.tokens.clock.seconds()
        uri, body = event_of(signal, now)
        txn = uuid.uuid4().hex  # SSF 1.0 §4.1.9: the one change behind every SET it caused
        for client in clients:
            jti = uuid.uuid4().hex
            claims = {"iss": self.p.settings.issuer, "jti": jti, "iat": now,
                      "aud": client.client_id, "txn": txn,
                      "sub_id": {"format": "iss_sub", "iss": self.p.settings.issuer,
                                 "sub": self.p.tokens.subject_for(client, signal.user_id)},
                      "events": {uri: body}}
            db.session.add(SecurityEvent(client_id=client.client_id, jti=jti, kind=signal.kind,
                                         payload=json.dumps(claims, separators=(",", ":")),
                                         status="pending", attempts=0))
        db.session.flush()
        pushed = {c.client_id for c in clients if c.events_delivery == PUSH and c.events_uri}
        if pushed:
            db.session.info.setdefault(QUEUED, set()).update(pushed)

"""SMS one-time codes: 6 digits, 5 minutes, single use, limited tries and limited sending.

Every limit is enforced atomically in the store, so parallel requests cannot exceed it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from idp.accounts.phones import normalize_phone
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db
from idp.security.crypto import KeyedHash
from idp.sms.gateways import SmsGateway
from idp.store import Store

DAY = 86400
HOUR = 3600


@dataclass(frozen=True)
class CodeLimits:
    ttl: int = 300
    max_tries: int = 5
    interval: int = 60
    daily: int = 10
    ip_hourly: int = 30


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    reason: str | None = None  # too_soon | daily_limit | ip_limit | gateway
    retry_after: int | None = None


class SmsCodes:
    def __init__(self, store: Store, gateway: SmsGateway, hasher: KeyedHash,
                 limits: CodeLimits) -> None:
        self.store = store
        self.gateway = gateway
        self.hasher = hasher
        self.limits = limits

    def _key(self, purpose: str, phone: str) -> str:
        return f"sms-code:{purpose}:{phone}"

    def send(self, phone: str, purpose: str, ip: str | None, *,
             notice: str | None = None) -> SendOutcome:
        """Send a code for `purpose`, under every sending limit. With `notice`, the same limits
        and the same single gateway call deliver that notice template instead and no code is
        stored: the caller's answer and timing are then the same whether or not the number has
        an account (registration of a taken number; login or recovery for an unknown one)."""
        phone = normalize_phone(phone)
        limits = self.limits
        if ip and self.store.incr(f"sms-ip:{ip}", HOUR) > limits.ip_hourly:
            return SendOutcome(False, "ip_limit")
        if not self.store.add(f"sms-gap:{phone}", "1", limits.interval):
            return SendOutcome(False, "too_soon", limits.interval)
        if self.store.incr(f"sms-day:{phone}", DAY) > limits.daily:
            return SendOutcome(False, "daily_limit")
        if notice is None:
            code = f"{secrets.randbelow(10**6):06d}"
            self.store.set(self._key(purpose, phone),
                           self.hasher.digest(f"{purpose}|{phone}|{code}"), limits.ttl)
            self.store.delete(self._key(purpose, phone) + ":tries")
            result = self.gateway.send(phone, purpose, {"code": code})
        else:
            self.store.delete(self._key(purpose, phone))  # no code stands for this number now
            result = self.gateway.send(phone, notice, {})
        record_event(Tag.SMS_CODE_SENT, actor=Actor.anonymous(), ip=ip,
                     data={"purpose": purpose, "phone": phone[:3] + "****" + phone[-4:],
                           "notice": notice, "delivered": result.success,
                           "error": result.error})
        db.session.flush()
        if not result.success:
            self.store.delete(self._key(purpose, phone), f"sms-gap:{phone}")
            return SendOutcome(False, "gateway")
        return SendOutcome(True)

    def deliver(self, phone: str, template: str, params: dict[str, str]) -> bool:
        """A notification (no code): best effort."""
        return self.gateway.send(phone, template, params).success

    def check(self, phone: str, purpose: str, code: str) -> bool:
        """True once for the right code; each wrong try counts, and the code dies at the limit."""
        phone = normalize_phone(phone)
        key = self._key(purpose, phone)
        tries = self.store.incr(key + ":tries", self.limits.ttl)  # a try is reserved first
        if tries > self.limits.max_tries:
            return False
        stored = self.store.get(key)
        candidate = code.strip()
        right = stored is not None and len(candidate) == 6 and candidate.isdigit() and \
            self.hasher.matches(f"{purpose}|{phone}|{candidate}", stored)
        if right:
            return self.store.getdel(key) is not None  # single use, even against a twin
        if tries >= self.limits.max_tries:
            self.store.delete(key)  # the last allowed try was wrong: the code dies
        return False

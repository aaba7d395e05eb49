"""Login failure handling (登录失败处理): per-account and per-IP counters held in the store.

A failure slot is reserved atomically before the password is checked, so parallel wrong
attempts cannot record more failures than the threshold. Counters key on the account when it
exists and on a keyed hash of what was typed when it does not, so both behave alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from idp.store import Store


@dataclass(frozen=True)
class Gate:
    allowed: bool
    reason: str | None = None  # locked | wait | ip_limit
    retry_at: int | None = None  # unix seconds
    new_lock: bool = False  # this attempt is the one that locked the subject
    slot: int | None = None  # the failure slot an allowed attempt holds (1 … threshold)


def delay_after(failures: int) -> int:
    """Growing delay before the next try: none after the first failure, then 2, 4, 8 s …"""
    return 0 if failures < 2 else min(2 ** (failures - 1), 60)


class LoginGuard:
    def __init__(self, store: Store, threshold: int, lock_seconds: int, ip_limit: int) -> None:
        self.store = store
        self.threshold = threshold
        self.lock_seconds = lock_seconds
        self.ip_limit = ip_limit

    def locked_until(self, subject: str) -> int | None:
        value = self.store.get(f"lock:{subject}")
        return int(value) if value else None

    def enter(self, subject: str, ip: str | None) -> Gate:
        """Ask to try a credential; a granted attempt holds one failure slot until settled."""
        until = self.locked_until(subject)
        if until:
            return Gate(False, "locked", until)
        if ip and int(self.store.get(f"fail-ip:{ip}") or 0) >= self.ip_limit:
            return Gate(False, "ip_limit", int(time.time()) + self.lock_seconds)
        slot = self.store.incr(f"fail:{subject}", self.lock_seconds)
        if slot > self.threshold:
            # The slot holders lock the subject as they fail (and audit it once).
            return Gate(False, "locked", self.locked_until(subject) or
                        int(time.time()) + self.lock_seconds)
        wait = self.store.get(f"wait:{subject}")
        if wait:
            # Too soon after a failure: the attempt is not checked, and counts as a failure,
            # so any mix of parallel and hasty attempts records exactly `threshold` failures.
            return Gate(False, "wait", int(wait), slot=slot)
        return Gate(True, slot=slot)

    def failed(self, subject: str, ip: str | None) -> Gate:
        """The attempt was wrong: its slot stays taken. Returns what the person is told."""
        if ip:
            self.store.incr(f"fail-ip:{ip}", self.lock_seconds)
        failures = int(self.store.get(f"fail:{subject}") or 0)
        if failures >= self.threshold:
            until, created = self._lock(subject)
            return Gate(False, "locked", until, new_lock=created)
        delay = delay_after(failures)
        if delay:
            retry = int(time.time()) + delay
            self.store.set(f"wait:{subject}", str(retry), delay)
            return Gate(False, "wait", retry)
        return Gate(True)

    def succeeded(self, subject: str) -> None:
        self.store.delete(f"fail:{subject}", f"wait:{subject}")

    def unlock(self, subject: str) -> None:
        self.store.delete(f"fail:{subject}", f"wait:{subject}", f"lock:{subject}")

    def _lock(self, subject: str) -> tuple[int, bool]:
        """Lock (once: SET NX); returns the lock's end and whether this call set it."""
        until = int(time.time()) + self.lock_seconds
        created = self.store.add(f"lock:{subject}", str(until), self.lock_seconds)
        return (until if created else self.locked_until(subject) or until), created

"""Login failure handling (登录失败处理): per-subject and per-IP counters, delays and locks, held
durably in the database (`login_guard`), so a lost or restarted cache can neither lift a lock
nor restart a count from zero (ADR 0006).

A failure slot is reserved atomically (one upsert) before the secret is checked, and committed
at once, so parallel wrong attempts cannot record more failures than the threshold. Subjects
are the account when it exists and a keyed hash of what was typed when it does not, so both
behave alike; client addresses are subjects of their own (`ip:<address>`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, delete, select, update

from idp.accounts.models import LoginGuardRow
from idp.clock import Clock
from idp.dbutil import dialect_insert
from idp.extensions import db


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
    def __init__(self, clock: Clock, threshold: int, lock_seconds: int, ip_limit: int) -> None:
        self.clock = clock
        self.threshold = threshold
        self.lock_seconds = lock_seconds
        self.ip_limit = ip_limit

    # --- reading ---
    def _row(self, subject: str) -> LoginGuardRow | None:
        return db.session.execute(
            select(LoginGuardRow).where(LoginGuardRow.subject == subject)
            .execution_options(populate_existing=True)).scalar_one_or_none()

    def locked_until(self, subject: str) -> int | None:
        row = self._row(subject)
        now = self.clock.seconds()
        return row.locked_until if row and row.locked_until and row.locked_until > now else None

    def _ip_refused(self, ip: str | None, now: int) -> bool:
        row = self._row("ip:" + ip) if ip else None
        return row is not None and row.window_start > now - self.lock_seconds and \
            row.failures >= self.ip_limit

    # --- the attempt ---
    def enter(self, subject: str, ip: str | None) -> Gate:
        """Ask to try a credential; a granted attempt holds one failure slot until settled.
        The reservation is committed before the caller checks anything."""
        now = self.clock.seconds()
        until = self.locked_until(subject)
        if until:
            db.session.commit()
            return Gate(False, "locked", until)
        if self._ip_refused(ip, now):
            db.session.commit()
            return Gate(False, "ip_limit", now + self.lock_seconds)
        slots, wait_until = self._reserve(subject, now)
        db.session.commit()
        if slots > self.threshold:
            # The slot holders lock the subject as they fail (and audit it once).
            return Gate(False, "locked", self.locked_until(subject) or now + self.lock_seconds)
        if wait_until and wait_until > now:
            # Too soon after a failure: the attempt is not checked, and counts as a failure,
            # so any mix of parallel and hasty attempts records exactly `threshold` failures.
            return Gate(False, "wait", wait_until, slot=slots)
        return Gate(True, slot=slots)

    def _reserve(self, subject: str, now: int) -> tuple[int, int | None]:
        """One atomic upsert: a slot in the current window (a new window when the last one
        has passed)."""
        table = LoginGuardRow.__table__
        stale = table.c.window_start <= now - self.lock_seconds
        statement = dialect_insert(LoginGuardRow).values(
            subject=subject, slots=1, failures=0, window_start=now)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.subject],
            set_={"slots": case((stale, 1), else_=table.c.slots + 1),
                  "failures": case((stale, 0), else_=table.c.failures),
                  "window_start": case((stale, now), else_=table.c.window_start)},
        ).returning(table.c.slots, table.c.wait_until)
        slots, wait_until = db.session.execute(statement).one()
        return int(slots), wait_until

    def failed(self, subject: str, ip: str | None) -> Gate:
        """The attempt was wrong: its slot stays taken. Returns what the person is told."""
        now = self.clock.seconds()
        if ip:
            self._count_ip_failure(ip, now)
        row = self._row(subject)
        failures = min(row.slots, self.threshold) if row else 1
        if row is not None:
            row.failures = failures
        if failures >= self.threshold:
            until, created = self._lock(subject, now)
            return Gate(False, "locked", until, new_lock=created)
        delay = delay_after(failures)
        if delay and row is not None:
            row.wait_until = now + delay
            return Gate(False, "wait", now + delay)
        return Gate(True)

    def _count_ip_failure(self, ip: str, now: int) -> None:
        table = LoginGuardRow.__table__
        stale = table.c.window_start <= now - self.lock_seconds
        statement = dialect_insert(LoginGuardRow).values(
            subject="ip:" + ip, slots=0, failures=1, window_start=now)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.subject],
            set_={"failures": case((stale, 1), else_=table.c.failures + 1),
                  "window_start": case((stale, now), else_=table.c.window_start)}))

    def _lock(self, subject: str, now: int) -> tuple[int, bool]:
        """Lock (once: only the attempt that finds it unlocked sets it); returns the lock's end
        and whether this call set it."""
        until = now + self.lock_seconds
        result = db.session.execute(
            update(LoginGuardRow).where(
                LoginGuardRow.subject == subject,
                (LoginGuardRow.locked_until.is_(None)) | (LoginGuardRow.locked_until <= now))
            .values(locked_until=until))
        created = result.rowcount == 1  # type: ignore[attr-defined]
        return (until if created else self.locked_until(subject) or until), created

    def succeeded(self, subject: str) -> None:
        """Release the attempt's slot and clear the failures, committed at once when there was
        something to release: a request that fails after the right password (Redis down while
        the session is made) must not leave its slot held, or retries during an outage would
        lock the account. Settling again (the sign-in settles what the check settled) changes
        no row and commits nothing."""
        result = db.session.execute(update(LoginGuardRow).where(
            LoginGuardRow.subject == subject,
            (LoginGuardRow.slots != 0) | (LoginGuardRow.failures != 0)
            | LoginGuardRow.wait_until.is_not(None))
            .values(slots=0, failures=0, wait_until=None))
        if result.rowcount:  # type: ignore[attr-defined]
            db.session.commit()

    def unlock(self, subject: str) -> None:
        db.session.execute(delete(LoginGuardRow).where(LoginGuardRow.subject == subject))

    def purge(self, older_than: int) -> int:
        """Rows whose window, delay and lock have all passed (`idp tokens purge`)."""
        result = db.session.execute(delete(LoginGuardRow).where(
            LoginGuardRow.window_start < older_than,
            (LoginGuardRow.locked_until.is_(None)) | (LoginGuardRow.locked_until < older_than)))
        return int(result.rowcount)  # type: ignore[attr-defined]

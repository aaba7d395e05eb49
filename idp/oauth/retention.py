"""Retention: `idp tokens purge` removes what no longer decides anything, in batches, each
committed on its own (safe to schedule, to interrupt and to run beside traffic).

- refresh tokens spent or expired more than IDP_TOKEN_RETENTION_DAYS ago;
- grants revoked, or past their absolute lifetime, more than that long ago, with their tokens;
- access-token revocations whose token has expired (an expired token is refused anyway);
- the token issuance log past IDP_TOKEN_RECORD_RETENTION_DAYS;
- back-channel notices delivered (or given up) more than IDP_TOKEN_RETENTION_DAYS ago;
- security events delivered (or given up) and queued more than that long ago;
- lockout rows whose window and lock have passed.
Authorization codes live in the store and expire there on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select

from idp.accounts.lockout import LoginGuard
from idp.extensions import db
from idp.oauth.logout import MAX_ATTEMPTS
from idp.oauth.models import (
    Grant,
    LogoutNotice,
    RefreshToken,
    RevokedToken,
    SecurityEvent,
    TokenIssued,
    UsedAssertion,
)
from idp.settings import Settings

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Purge:
    settings: Settings
    guard: LoginGuard

    def run(self, now: datetime, batch: int = 1000,
            progress: Progress | None = None) -> dict[str, int]:
        cutoff = now - timedelta(days=self.settings.token_retention_days)
        grant_end = now - timedelta(seconds=self.settings.grant_max_ttl) - \
            timedelta(days=self.settings.token_retention_days)
        dead_grants = select(Grant.id).where(or_(Grant.revoked_at < cutoff,
                                                 Grant.created_at < grant_end))
        steps: list[tuple[str, Any, Any]] = [
            ("refresh tokens", RefreshToken.id,
             or_(RefreshToken.spent_at < cutoff, RefreshToken.expires_at < cutoff,
                 RefreshToken.grant_id.in_(dead_grants))),
            ("grants", Grant.id, Grant.id.in_(dead_grants)),
            ("revoked access tokens", RevokedToken.jti, RevokedToken.expires_at < now),
            ("used client assertions", UsedAssertion.key, UsedAssertion.expires_at < now),
            ("token issuance records", TokenIssued.id, TokenIssued.issued_at < now - timedelta(
                days=self.settings.token_record_retention_days)),
            ("back-channel notices", LogoutNotice.id,
             or_(LogoutNotice.delivered_at < cutoff,
                 (LogoutNotice.attempts >= MAX_ATTEMPTS) & (LogoutNotice.created_at < cutoff))),
            ("security events", SecurityEvent.id,
             (SecurityEvent.status != "pending") & (SecurityEvent.created_at < cutoff)),
        ]
        removed: dict[str, int] = {}
        for name, key, where in steps:
            removed[name] = self._in_batches(key, where, batch, name, progress)
        lock_rows = self.guard.purge(int(now.timestamp()) - self.guard.lock_seconds)
        db.session.commit()
        removed["lockout rows"] = lock_rows
        if progress:
            progress("lockout rows", lock_rows)
        self._vacuum()
        return removed

    @staticmethod
    def _vacuum() -> None:
        """On PostgreSQL, make the space of the deleted rows reusable now (VACUUM does not
        block traffic), so that the tables stay the same size under steady load instead of
        waiting for autovacuum's thresholds."""
        engine = db.engine
        if engine.dialect.name != "postgresql":
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in (RefreshToken, Grant, RevokedToken, TokenIssued, LogoutNotice,
                          UsedAssertion, SecurityEvent):
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {table.__tablename__}")

    @staticmethod
    def _in_batches(key: Any, where: Any, batch: int, name: str,
                    progress: Progress | None) -> int:
        table = key.class_
        total = 0
        while True:
            ids = [row[0] for row in db.session.execute(select(key).where(where).limit(batch))]
            if not ids:
                return total
            db.session.execute(delete(table).where(key.in_(ids)))
            db.session.commit()
            total += len(ids)
            if progress:
                progress(name, total)

"""Login evidence for the access rates (idp.access.ports.LoginEvidence): completed SSO logins
per client and Beijing-time day, counted from the token issuance records in one GROUP BY.
The token endpoint does nothing extra; the rollup reads what it already writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, cast, func, literal_column, select

from idp.extensions import db
from idp.oauth.models import TokenIssued

LOGIN_GRANT = "authorization_code"  # one row per code redeemed: one completed SSO login


def _beijing_day(dialect: str) -> Any:
    """The Beijing-time calendar day of issued_at, spelled for the database at hand."""
    if dialect == "postgresql":
        # timestamptz → local time at Asia/Shanghai (UTC+8 all year since 1991) → date
        # (literals, not bound parameters: GROUP BY must repeat the very same expression)
        return cast(func.timezone(literal_column("'Asia/Shanghai'"), TokenIssued.issued_at),
                    Date)
    # SQLite keeps the UTC wall time as text: shift it by eight hours, keep the date part
    return func.date(TokenIssued.issued_at, literal_column("'+8 hours'"))


class TokenLoginEvidence:
    """Counts access tokens issued for the authorization_code grant; `since` and `until`
    bound issued_at (indexed) half-open."""

    def daily_logins(self, since: datetime,
                     until: datetime) -> Iterable[tuple[str, date, int]]:
        dialect = db.session.get_bind().dialect.name
        day = _beijing_day(dialect).label("day")
        rows = db.session.execute(
            select(TokenIssued.client_id, day, func.count())
            .where(TokenIssued.grant_type == LOGIN_GRANT,
                   TokenIssued.issued_at >= _utc(since), TokenIssued.issued_at < _utc(until))
            .group_by(TokenIssued.client_id, day))
        return [(client_id, value if isinstance(value, date) else date.fromisoformat(value),
                 int(count)) for client_id, value, count in rows]


def _utc(moment: datetime) -> datetime:
    """SQLite compares the stored UTC text: bind UTC, whatever zone the caller used."""
    if moment.tzinfo is None:
        raise ValueError("login evidence bounds must be aware datetimes")
    return moment.astimezone(UTC)

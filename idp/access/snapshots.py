"""Monthly snapshots (月度通报): every scope's figures stored per month, safe to store twice,
and the trend of one scope read back from them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select

from idp.access.errors import AccessError
from idp.access.models import MonthlySnapshot
from idp.access.ports import BEIJING
from idp.access.rates import Report, from_snapshot
from idp.dbutil import dialect_insert
from idp.extensions import db

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class TrendPoint:
    month: str
    items: int
    declared: int
    verified: int
    target: float

    @property
    def declared_rate(self) -> float | None:
        return round(100 * self.declared / self.items, 2) if self.items else None

    @property
    def verified_rate(self) -> float | None:
        return round(100 * self.verified / self.items, 2) if self.items else None

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month, "items": self.items, "declared": self.declared,
                "verified": self.verified, "declared_rate": self.declared_rate,
                "verified_rate": self.verified_rate, "target": self.target}


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(month: str) -> str:
    year, number = (int(p) for p in month.split("-"))
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


def check_month(month: str) -> str:
    if not MONTH_RE.fullmatch(month):
        raise AccessError("bad_month", f"a month is written YYYY-MM, not {month!r}")
    return month


def store(report: Report, month: str, today: date) -> int:
    """Store the report's figures as the month's (replacing what the month held). Only the
    current month, or the previous one (a run just after month end), can be stored: the
    figures are today's."""
    current = month_of(today)
    if check_month(month) not in (current, previous_month(current)):
        raise AccessError("bad_month", f"only {previous_month(current)} or {current} can be "
                          f"stored today: figures are computed from today's state")
    taken = datetime.now(UTC)
    rows = [{"month": month, "scope": r.scope, "name": r.name, "items": r.items,
             "declared": r.declared, "verified": r.verified, "target": r.target,
             "taken_at": taken} for r in report]
    stmt = dialect_insert(MonthlySnapshot)
    stmt = stmt.on_conflict_do_update(
        index_elements=["month", "scope"],
        set_={k: stmt.excluded[k] for k in ("name", "items", "declared", "verified",
                                                     "target", "taken_at")})
    for start in range(0, len(rows), 1000):
        db.session.execute(stmt, rows[start:start + 1000])
    db.session.execute(delete(MonthlySnapshot).where(
        MonthlySnapshot.month == month, MonthlySnapshot.scope.not_in([r.scope for r in report])))
    db.session.flush()
    return len(rows)


def stored(month: str) -> Report | None:
    rows = db.session.execute(
        select(MonthlySnapshot.scope, MonthlySnapshot.name, MonthlySnapshot.items,
               MonthlySnapshot.declared, MonthlySnapshot.verified, MonthlySnapshot.target,
               MonthlySnapshot.taken_at)
        .where(MonthlySnapshot.month == check_month(month))).all()
    if not rows:
        return None
    taken = max(r[6] for r in rows)
    taken = taken if taken.tzinfo else taken.replace(tzinfo=UTC)  # SQLite: naive UTC
    return from_snapshot(month, taken.astimezone(BEIJING).date(), [r[:6] for r in rows])


def trend(scope: str, last_month: str, months: int) -> list[TrendPoint]:
    first = last_month
    for _ in range(months - 1):
        first = previous_month(first)
    rows = db.session.execute(
        select(MonthlySnapshot.month, MonthlySnapshot.items, MonthlySnapshot.declared,
               MonthlySnapshot.verified, MonthlySnapshot.target)
        .where(MonthlySnapshot.scope == scope, MonthlySnapshot.month.between(first, last_month))
        .order_by(MonthlySnapshot.month)).all()
    return [TrendPoint(*row) for row in rows]

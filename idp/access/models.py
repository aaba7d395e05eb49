"""Departments, service items, business systems and the evidence that a system is live."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db


def _now() -> datetime:
    return datetime.now(UTC)


# Department and item levels (层级), and item types (事项类型) as the seeds name them.
PROVINCE, CITY, COUNTY = "province", "city", "county"
LEVELS = (PROVINCE, CITY, COUNTY)
LICENSING, PUBLIC_SERVICE, OTHER = "licensing", "public_service", "other"  # 行政许可 / 公共服务
ITEM_TYPES = (LICENSING, PUBLIC_SERVICE, OTHER)
# A business system's declared status; "live" is never declared: it is proven by logins.
REGISTERED, TESTING, CONNECTED, RETIRED = "registered", "testing", "connected", "retired"
STATUSES = (REGISTERED, TESTING, CONNECTED, RETIRED)


class Department(db.Model):  # type: ignore[name-defined]
    """A government department (部门) at one level of one division."""

    __tablename__ = "access_department"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ServiceItem(db.Model):  # type: ignore[name-defined]
    """A catalogue item (事项) a department handles, at a level of a division."""

    __tablename__ = "access_item"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    item_type: Mapped[str] = mapped_column(String(16))
    department_code: Mapped[str] = mapped_column(ForeignKey("access_department.code"),
                                                 index=True)
    level: Mapped[str] = mapped_column(String(16))
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                 onupdate=_now)


# Which items a system handles (many-to-many), and which OAuth clients belong to a system
# (a client belongs to at most one system).
system_item = Table(
    "access_system_item", db.metadata,
    Column("system_id", ForeignKey("access_system.id", ondelete="CASCADE"), primary_key=True),
    Column("item_code", ForeignKey("access_item.code", ondelete="CASCADE"), primary_key=True),
    Index("ix_access_system_item_item_code", "item_code"),
)


class BusinessSystem(db.Model):  # type: ignore[name-defined]
    """A business system (业务系统) of a department: its declared status with the dates it
    changed, its contact, its clients and the items it handles."""

    __tablename__ = "access_system"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # stable key for imports
    name: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str] = mapped_column(ForeignKey("access_department.code"),
                                                 index=True)
    contact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=REGISTERED)
    # The last Beijing day one of its clients completed an SSO login (from access_client_day,
    # kept by the rollup and by attaching or detaching clients): live = not retired and
    # last_login_day within the live window.
    last_login_day: Mapped[date | None] = mapped_column(Date)
    # status -> ISO date it was entered, e.g. {"registered": "2026-11-01", "connected": …}
    status_dates: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                 onupdate=_now)


class SystemClient(db.Model):  # type: ignore[name-defined]
    """An OAuth client that belongs to a business system (one system per client)."""

    __tablename__ = "access_system_client"

    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_client.client_id", ondelete="CASCADE"), primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("access_system.id", ondelete="CASCADE"),
                                           index=True)


class ClientDay(db.Model):  # type: ignore[name-defined]
    """Completed SSO logins (authorization codes redeemed) of one client on one Beijing-time
    day: the evidence that a system is live. Counts only, no personal data; rolled up from the
    token issuance records, so the token endpoint does nothing extra."""

    __tablename__ = "access_client_day"
    # The live window and the rollup read days in a range across every client.
    __table_args__ = (Index("ix_access_client_day_day", "day"),)

    client_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    logins: Mapped[int] = mapped_column(Integer, default=0)


class AccessState(db.Model):  # type: ignore[name-defined]
    """One row: how far login evidence has been rolled up without a gap (a refresh starts
    there), and the catalogue's version, drawn afresh by every change to departments, items,
    systems, their items or clients, so computed figures can be reused until it moves. A
    random value, never a counter: a version bumped in a transaction that rolled back, or in
    a database emptied and refilled, never comes back to match figures computed from it."""

    __tablename__ = "access_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    version: Mapped[str] = mapped_column(String(32))
    rolled_through: Mapped[date | None] = mapped_column(Date)  # None: never rolled up
    rolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MonthlySnapshot(db.Model):  # type: ignore[name-defined]
    """One month's figures for one scope (a provincial department and item type, a city, a
    county), stored by `idp access snapshot` for the trend chart (safe to run twice)."""

    __tablename__ = "access_snapshot"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)  # e.g. city:441800
    items: Mapped[int] = mapped_column(Integer)
    declared: Mapped[int] = mapped_column(Integer)  # items connected on paper (or live)
    verified: Mapped[int] = mapped_column(Integer)  # items with a live system
    # The scope's name and target as they were that month (a department renamed or a target
    # changed later does not rewrite the bulletin already sent).
    name: Mapped[str] = mapped_column(String(200), default="")
    target: Mapped[float] = mapped_column(Float)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

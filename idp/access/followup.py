"""The follow-up list (督办清单) of one scope: the items no live system handles, with the systems
responsible for each, and the systems declared connected that no longer show logins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import exists, func, select

from idp.access.evidence import Window, as_date, is_live, not_live
from idp.access.models import CONNECTED, BusinessSystem, Department, ServiceItem, system_item
from idp.access.rates import Rate
from idp.access.scopes import parse_scope
from idp.extensions import db

BATCH = 1000


@dataclass(frozen=True)
class SystemSummary:
    """A business system as a follow-up list or a system list shows it."""

    code: str
    name: str
    department_code: str
    department_name: str
    status: str  # declared: registered | testing | connected | retired
    live: bool
    last_login_day: date | None  # None: never logged in here
    contact: str | None = None

    @property
    def effective_status(self) -> str:
        return "live" if self.live else self.status

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "department_code": self.department_code,
                "department_name": self.department_name, "status": self.status,
                "live": self.live, "effective_status": self.effective_status,
                "last_login_day": self.last_login_day.isoformat()
                if self.last_login_day else None, "contact": self.contact}


@dataclass(frozen=True)
class PendingItem:
    """An item of the scope that no live system handles (not connected, verified sense)."""

    code: str
    name: str
    item_type: str
    department_code: str
    department_name: str
    division_code: str
    systems: list[SystemSummary] = field(default_factory=list)  # empty: no system at all

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "item_type": self.item_type,
                "department_code": self.department_code,
                "department_name": self.department_name, "division_code": self.division_code,
                "systems": [s.to_dict() for s in self.systems]}


@dataclass(frozen=True)
class FollowUp:
    scope: str
    as_of: date
    rate: Rate | None
    items: list[PendingItem]  # at most `limit`, by department and code
    unconnected: int  # all of them, however many `items` shows
    dropped: list[SystemSummary]  # declared connected, no login in the live window

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "as_of": self.as_of.isoformat(),
                "rate": self.rate.to_dict() if self.rate else None,
                "unconnected": self.unconnected, "items": [i.to_dict() for i in self.items],
                "dropped": [s.to_dict() for s in self.dropped]}


def follow_up(key: str, window: Window, rate: Rate | None,
              limit: int | None = None) -> FollowUp:
    scope = parse_scope(key)
    in_scope = scope.items_where()
    served = exists(select(system_item.c.item_code)
                    .join(BusinessSystem, BusinessSystem.id == system_item.c.system_id)
                    .where(system_item.c.item_code == ServiceItem.code, is_live(window)))
    pending = (select(ServiceItem.code, ServiceItem.name, ServiceItem.item_type,
                      ServiceItem.department_code, Department.name, ServiceItem.division_code)
               .join(Department, Department.code == ServiceItem.department_code)
               .where(in_scope, ~served))
    total = db.session.execute(select(func.count()).select_from(pending.subquery())).scalar_one()
    rows = db.session.execute(pending.order_by(ServiceItem.department_code, ServiceItem.code)
                              .limit(limit)).all()
    systems = _systems_of([r[0] for r in rows])
    items = [PendingItem(code, name, item_type, dept, dept_name, division,
                         systems.get(code, []))
             for code, name, item_type, dept, dept_name, division in rows]
    handles_scope = exists(select(system_item.c.item_code)
                           .join(ServiceItem, ServiceItem.code == system_item.c.item_code)
                           .join(Department, Department.code == ServiceItem.department_code)
                           .where(system_item.c.system_id == BusinessSystem.id, in_scope))
    dropped = [_summary(row) for row in db.session.execute(
        _summaries().where(BusinessSystem.status == CONNECTED,
                           not_live(window), handles_scope)
        .order_by(BusinessSystem.code))]
    return FollowUp(scope.key, window.today, rate, items, int(total), dropped)


def _summaries() -> Any:
    return (select(BusinessSystem.code, BusinessSystem.name, BusinessSystem.department_code,
                   Department.name.label("department_name"), BusinessSystem.status,
                   BusinessSystem.last_login_day, BusinessSystem.contact)
            .join(Department, Department.code == BusinessSystem.department_code))


def _summary(row: Any, live: bool = False) -> SystemSummary:
    return SystemSummary(row.code, row.name, row.department_code, row.department_name,
                         row.status, live, as_date(row.last_login_day), row.contact)


def _systems_of(item_codes: list[str]) -> dict[str, list[SystemSummary]]:
    """The systems handling each item (none of them live, or the item would not be pending),
    retired ones included: the list says who was responsible."""
    found: dict[str, list[SystemSummary]] = {}
    for start in range(0, len(item_codes), BATCH):
        batch = item_codes[start:start + BATCH]
        query = (_summaries().add_columns(system_item.c.item_code)
                 .join(system_item, system_item.c.system_id == BusinessSystem.id)
                 .where(system_item.c.item_code.in_(batch))
                 .order_by(system_item.c.item_code, BusinessSystem.code))
        for row in db.session.execute(query):
            found.setdefault(row.item_code, []).append(_summary(row))
    return found

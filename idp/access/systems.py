"""Business systems (业务系统): registration, the declared status and its dates, the OAuth
clients that belong to each, the items each handles, and the list operators read."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import case, column, delete, exists, func, insert, or_, select, table

from idp.access import state
from idp.access.errors import AccessError
from idp.access.evidence import (
    Evidence,
    Window,
    as_date,
    is_live,
    logins_in,
    not_live,
    update_last_login_days,
)
from idp.access.followup import SystemSummary
from idp.access.models import (
    REGISTERED,
    STATUSES,
    BusinessSystem,
    Department,
    ServiceItem,
    SystemClient,
    system_item,
)
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db

CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
# The OAuth client table, by name: access sits below idp.oauth and never imports it; the
# foreign key of access_system_client already ties the two tables together.
oauth_client = table("oauth_client", column("client_id"), column("name"))


@dataclass(frozen=True)
class SystemView(SystemSummary):
    """A system with what its page shows: clients, items, dates, logins in the window."""

    status_dates: dict[str, str] | None = None
    clients: tuple[str, ...] = ()
    item_count: int = 0
    logins_in_window: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "status_dates": dict(self.status_dates or {}),
                "clients": list(self.clients), "item_count": self.item_count,
                "logins_in_window": self.logins_in_window}


@dataclass(frozen=True)
class SystemPage:
    systems: list[SystemView]
    total: int  # matching systems, however many this page shows


class SystemService:
    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence

    # --- changes (each flushed and audited; the caller commits) ---

    def create(self, *, code: str, name: str, department_code: str, actor: Actor,
               contact: str | None = None, item_codes: Iterable[str] = (),
               client_ids: Iterable[str] = (), status: str = REGISTERED) -> BusinessSystem:
        code, name, client_ids = code.strip(), name.strip(), list(client_ids)
        if not CODE_RE.fullmatch(code):
            raise AccessError("bad_code", "a system code is 1-64 letters, digits, '.', '_' "
                              "or '-', starting with a letter or digit")
        if db.session.execute(select(BusinessSystem.id).where(BusinessSystem.code == code)
                              ).first() is not None:
            raise AccessError("duplicate_code", f"a business system {code} already exists")
        self._check(name, department_code, status)
        items = self._known_items(item_codes)
        for client_id in client_ids:
            self._check_client(client_id, None)
        today = self.evidence.today().isoformat()
        system = BusinessSystem(code=code, name=name, department_code=department_code,
                                contact=(contact or "").strip() or None, status=status,
                                status_dates={REGISTERED: today, status: today})
        db.session.add(system)
        db.session.flush()
        self._set_items(system, items)
        for client_id in client_ids:
            self._attach(system, client_id)
        state.bump()
        record_event(Tag.ACCESS_SYSTEM_CREATED, actor=actor,
                     data={"system": code, "department": department_code, "status": status,
                           "items": len(items), "clients": sorted(client_ids)})
        return system

    def update(self, code: str, *, actor: Actor, name: str | None = None,
               department_code: str | None = None, contact: str | None = None,
               item_codes: Iterable[str] | None = None) -> BusinessSystem:
        """Change what is given (None leaves a field; contact "" clears it; item_codes
        replaces the set of items)."""
        system = self.get(code)
        changed: dict[str, Any] = {}
        self._check(name.strip() if name is not None else system.name,
                    department_code or system.department_code, system.status)
        for attr, value in (("name", name), ("department_code", department_code),
                            ("contact", contact)):
            if value is None:
                continue
            value = (value.strip() or None) if attr == "contact" else value.strip()
            if getattr(system, attr) != value:
                changed[attr] = value
                setattr(system, attr, value)
        if item_codes is not None:
            added, removed = self._set_items(system, self._known_items(item_codes))
            if added or removed:
                changed["items"] = {"added": added, "removed": removed}
        db.session.flush()
        if changed:
            state.bump()
            record_event(Tag.ACCESS_SYSTEM_UPDATED, actor=actor,
                         data={"system": code, "changed": sorted(changed),
                               "items_added": len(changed.get("items", {}).get("added", [])),
                               "items_removed": len(changed.get("items", {}).get("removed",
                                                                                  []))})
        return system

    def set_status(self, code: str, status: str, *, actor: Actor) -> BusinessSystem:
        """Declare a status (registered, testing, connected, retired) and record the day it
        was entered. "live" is never declared: logins prove it."""
        if status == "live":
            raise AccessError("bad_status", "live is proven by SSO logins, never declared")
        if status not in STATUSES:
            raise AccessError("bad_status", f"status must be one of {', '.join(STATUSES)}")
        system = self.get(code)
        if system.status == status:
            return system
        previous = system.status
        system.status = status
        system.status_dates = {**(system.status_dates or {}),
                               status: self.evidence.today().isoformat()}
        db.session.flush()
        state.bump()
        record_event(Tag.ACCESS_SYSTEM_STATUS, actor=actor,
                     data={"system": code, "status": status, "previous": previous})
        return system

    def attach_client(self, code: str, client_id: str, *, actor: Actor) -> None:
        system = self.get(code)
        if self._attach(system, client_id):
            state.bump()
            record_event(Tag.ACCESS_CLIENT_ATTACHED, actor=actor, client_id=client_id,
                         data={"system": code})

    def detach_client(self, client_id: str, *, actor: Actor) -> None:
        link = db.session.get(SystemClient, client_id)
        if link is None:
            raise AccessError("unknown_client", f"client {client_id} belongs to no system")
        system = db.session.get(BusinessSystem, link.system_id)
        db.session.delete(link)
        db.session.flush()
        update_last_login_days(systems=[link.system_id])
        state.bump()
        record_event(Tag.ACCESS_CLIENT_DETACHED, actor=actor, client_id=client_id,
                     data={"system": system.code if system else None})

    # --- reading ---

    def get(self, code: str) -> BusinessSystem:
        system = db.session.execute(select(BusinessSystem).where(BusinessSystem.code == code)
                                    ).scalar_one_or_none()
        if system is None:
            raise AccessError("unknown_system", f"there is no business system {code}")
        return system

    def system_of_client(self, client_id: str) -> str | None:
        return db.session.execute(
            select(BusinessSystem.code).join(SystemClient,
                                             SystemClient.system_id == BusinessSystem.id)
            .where(SystemClient.client_id == client_id)).scalar_one_or_none()

    def view(self, code: str) -> SystemView:
        page = self.search(code=code, limit=1)
        if not page.systems:
            raise AccessError("unknown_system", f"there is no business system {code}")
        return page.systems[0]

    def item_codes(self, code: str) -> list[str]:
        return list(db.session.execute(
            select(system_item.c.item_code).where(system_item.c.system_id == self.get(code).id)
            .order_by(system_item.c.item_code)).scalars())

    def search(self, *, department_code: str | None = None, city: str | None = None,
             status: str | None = None, query: str | None = None, code: str | None = None,
             limit: int = 100, offset: int = 0) -> SystemPage:
        """Systems by code, filtered: department; city (division prefix of the department,
        e.g. 441800); status, where "live" means proven live and a declared status means
        that status and not live; a search in code and name."""
        window = self.evidence.window()
        where: list[Any] = []
        if code is not None:
            where.append(BusinessSystem.code == code)
        if department_code:
            where.append(BusinessSystem.department_code == department_code)
        if city:
            where.append(Department.division_code.between(city[:4] + "00", city[:4] + "99"))
        if status == "live":
            where.append(is_live(window))
        elif status:
            where += [BusinessSystem.status == status, not_live(window)]
        if query:
            pattern = f"%{query.strip()}%"
            where.append(or_(BusinessSystem.code.ilike(pattern),
                             BusinessSystem.name.ilike(pattern)))
        base = (select(BusinessSystem.id)
                .join(Department, Department.code == BusinessSystem.department_code)
                .where(*where))
        total = db.session.execute(select(func.count()).select_from(base.subquery())
                                   ).scalar_one()
        rows = db.session.execute(self._views(window).where(*where)
                                  .order_by(BusinessSystem.code).limit(limit).offset(offset))
        systems = [self._view(row) for row in rows]
        clients = self._clients([s.code for s in systems])
        return SystemPage([_with_clients(s, clients.get(s.code, ())) for s in systems],
                          int(total))

    def client_days(self, client_id: str, days: int = 30) -> list[tuple[Any, int]]:
        return self.evidence.client_days(client_id, days)

    # --- helpers ---

    def _views(self, window: Window) -> Any:
        item_count = (select(func.count()).select_from(system_item)
                      .where(system_item.c.system_id == BusinessSystem.id).scalar_subquery())
        return (select(BusinessSystem.code, BusinessSystem.name, BusinessSystem.department_code,
                       Department.name.label("department_name"), BusinessSystem.status,
                       case((is_live(window), True), else_=False).label("live"),
                       BusinessSystem.last_login_day, BusinessSystem.contact,
                       BusinessSystem.status_dates, item_count.label("item_count"),
                       logins_in(window).label("logins"))
                .join(Department, Department.code == BusinessSystem.department_code))

    @staticmethod
    def _view(row: Any) -> SystemView:
        return SystemView(row.code, row.name, row.department_code, row.department_name,
                          row.status, bool(row.live), as_date(row.last_login_day), row.contact,
                          dict(row.status_dates or {}), (), int(row.item_count),
                          int(row.logins))

    @staticmethod
    def _clients(codes: list[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        if codes:
            for code, client_id in db.session.execute(
                    select(BusinessSystem.code, SystemClient.client_id)
                    .join(SystemClient, SystemClient.system_id == BusinessSystem.id)
                    .where(BusinessSystem.code.in_(codes)).order_by(SystemClient.client_id)):
                found.setdefault(code, []).append(client_id)
        return {code: tuple(ids) for code, ids in found.items()}

    @staticmethod
    def _check(name: str, department_code: str, status: str) -> None:
        if not name or len(name) > 200:
            raise AccessError("bad_name", "a system name is 1-200 characters")
        if db.session.get(Department, department_code) is None:
            raise AccessError("unknown_department", f"there is no department {department_code}")
        if status not in STATUSES:
            raise AccessError("bad_status", f"status must be one of {', '.join(STATUSES)}")

    @staticmethod
    def _known_items(item_codes: Iterable[str]) -> list[str]:
        wanted = sorted({c.strip() for c in item_codes if c.strip()})
        known: set[str] = set()
        for start in range(0, len(wanted), 1000):
            known.update(db.session.execute(select(ServiceItem.code).where(
                ServiceItem.code.in_(wanted[start:start + 1000]))).scalars())
        missing = [c for c in wanted if c not in known]
        if missing:
            raise AccessError("unknown_item", "no such item: " + ", ".join(missing[:10]))
        return wanted

    @staticmethod
    def _set_items(system: BusinessSystem, codes: list[str]) -> tuple[list[str], list[str]]:
        current = set(db.session.execute(select(system_item.c.item_code).where(
            system_item.c.system_id == system.id)).scalars())
        added, removed = sorted(set(codes) - current), sorted(current - set(codes))
        if removed:
            db.session.execute(delete(system_item).where(system_item.c.system_id == system.id,
                                                         system_item.c.item_code.in_(removed)))
        if added:
            db.session.execute(insert(system_item),
                               [{"system_id": system.id, "item_code": c} for c in added])
        return added, removed

    @staticmethod
    def _check_client(client_id: str, system_id: int | None) -> SystemClient | None:
        """The client's current link (None when free); AccessError when there is no such
        client or it belongs to another system."""
        if not db.session.execute(select(exists().where(
                oauth_client.c.client_id == client_id))).scalar():
            raise AccessError("unknown_client", f"there is no client {client_id}")
        link = db.session.get(SystemClient, client_id)
        if link is not None and link.system_id != system_id:
            other = db.session.get(BusinessSystem, link.system_id)
            raise AccessError("client_taken", f"client {client_id} already belongs to system "
                              f"{other.code if other else link.system_id}")
        return link

    def _attach(self, system: BusinessSystem, client_id: str) -> bool:
        """Attach a client; False when it already belongs to this system."""
        if self._check_client(client_id, system.id) is not None:
            return False
        db.session.add(SystemClient(client_id=client_id, system_id=system.id))
        db.session.flush()
        update_last_login_days(systems=[system.id])
        return True


def _with_clients(view: SystemView, clients: tuple[str, ...]) -> SystemView:
    return replace(view, clients=clients)

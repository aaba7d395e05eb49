"""Writing checked records: what each would change (created / updated / unchanged), then the
changes in bulk. Imports add and update; they never delete (retire a system instead)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, update

from idp.access import state
from idp.access.evidence import update_last_login_days
from idp.access.models import (
    REGISTERED,
    BusinessSystem,
    Department,
    ServiceItem,
    SystemClient,
    system_item,
)
from idp.extensions import db

BATCH = 5000
Step = tuple[str, dict[str, Any]]  # ("created" | "updated" | "unchanged", record)
FIELDS = {"departments": ("name", "level", "division_code"),
          "items": ("name", "item_type", "department_code", "level", "division_code"),
          "systems": ("name", "department_code", "contact", "status")}
MODELS: dict[str, Any] = {"departments": Department, "items": ServiceItem,
                          "systems": BusinessSystem}


def plan(kind: str, records: list[dict[str, Any]]) -> list[Step]:
    existing = _existing(kind, [r["code"] for r in records])
    steps: list[Step] = []
    for record in records:
        before = existing.get(record["code"])
        if before is None:
            steps.append(("created", record))
        elif any(before[f] != record[f] for f in FIELDS[kind]) or (kind == "systems" and (
                set(record["item_codes"]) != before["item_codes"]
                or not set(record["client_ids"]) <= before["client_ids"])):
            steps.append(("updated", {**record, "_before": before}))
        else:
            steps.append(("unchanged", record))
    return steps


def _existing(kind: str, codes: list[str]) -> dict[str, dict[str, Any]]:
    model = MODELS[kind]
    columns = [model.code, *(getattr(model, f) for f in FIELDS[kind])]
    if kind == "systems":
        columns += [BusinessSystem.id, BusinessSystem.status_dates]
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(codes), BATCH):
        for row in db.session.execute(select(*columns).where(
                model.code.in_(codes[start:start + BATCH]))):
            found[row.code] = dict(row._mapping)
    if kind == "systems" and found:
        ids = {values["id"]: values for values in found.values()}
        for values in found.values():
            values["item_codes"], values["client_ids"] = set(), set()
        for system_id, code in _pairs(system_item.c.system_id, system_item.c.item_code,
                                      list(ids)):
            ids[system_id]["item_codes"].add(code)
        for system_id, client in _pairs(SystemClient.system_id, SystemClient.client_id,
                                        list(ids)):
            ids[system_id]["client_ids"].add(client)
    return found


def _pairs(key: Any, value: Any, ids: list[int]) -> Iterator[tuple[int, str]]:
    for start in range(0, len(ids), BATCH):
        yield from db.session.execute(select(key, value).where(
            key.in_(ids[start:start + BATCH])))


def write(kind: str, steps: list[Step], *, today: date) -> None:
    created = [r for action, r in steps if action == "created"]
    updated = [r for action, r in steps if action == "updated"]
    if created or updated:
        state.bump()
    if kind == "systems":
        _write_systems(created, updated, today.isoformat())
    else:
        model = MODELS[kind]
        keep = ("code", *FIELDS[kind])
        for start in range(0, len(created), BATCH):
            db.session.execute(insert(model), [{k: r[k] for k in keep}
                                               for r in created[start:start + BATCH]])
        for start in range(0, len(updated), BATCH):  # ORM bulk UPDATE by primary key
            db.session.execute(update(model), [{k: r[k] for k in keep}
                                               for r in updated[start:start + BATCH]])
    db.session.flush()


def _write_systems(created: list[dict[str, Any]], updated: list[dict[str, Any]],
                   today: str) -> None:
    links: list[dict[str, Any]] = []
    clients: list[dict[str, Any]] = []
    for record in created:
        system = BusinessSystem(code=record["code"], name=record["name"],
                                department_code=record["department_code"],
                                contact=record["contact"], status=record["status"],
                                status_dates={REGISTERED: today, record["status"]: today})
        db.session.add(system)
        db.session.flush()
        links += [{"system_id": system.id, "item_code": c} for c in record["item_codes"]]
        clients += [{"system_id": system.id, "client_id": c} for c in record["client_ids"]]
    for record in updated:
        before = record["_before"]
        system_id = before["id"]
        values = {f: record[f] for f in FIELDS["systems"]}
        if record["status"] != before["status"]:
            values["status_dates"] = {**(before["status_dates"] or {}), record["status"]: today}
        db.session.execute(update(BusinessSystem).where(BusinessSystem.id == system_id)
                           .values(**values))
        wanted = set(record["item_codes"])
        gone = sorted(before["item_codes"] - wanted)
        if gone:
            db.session.execute(delete(system_item).where(system_item.c.system_id == system_id,
                                                         system_item.c.item_code.in_(gone)))
        links += [{"system_id": system_id, "item_code": c}
                  for c in sorted(wanted - before["item_codes"])]
        clients += [{"system_id": system_id, "client_id": c}
                    for c in sorted(set(record["client_ids"]) - before["client_ids"])]
    for start in range(0, len(links), BATCH):
        db.session.execute(insert(system_item), links[start:start + BATCH])
    for start in range(0, len(clients), BATCH):
        db.session.execute(insert(SystemClient), clients[start:start + BATCH])
    if clients:
        db.session.flush()
        update_last_login_days(systems={c["system_id"] for c in clients})

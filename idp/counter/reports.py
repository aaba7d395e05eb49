"""The supervisors' daily report: per clerk and hall, for one day in Beijing time, what the
audit log and the verification records say was done at the counters."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from idp.audit.models import AuditEvent
from idp.audit.tags import Tag
from idp.counter.models import ServiceHall, StaffAccount
from idp.extensions import db
from idp.identity.models import COUNTER, VERIFIED, Verification

BEIJING = ZoneInfo("Asia/Shanghai")
COUNTED = {Tag.COUNTER_RECORD_VIEWED.value: "viewed",
           Tag.COUNTER_VERIFICATION_REFUSED.value: "refused",
           Tag.COUNTER_REGISTRATION.value: "registered",
           Tag.COUNTER_RECOVERY.value: "recovered"}
COLUMNS = ("viewed", "verified", "refused", "registered", "recovered")


@dataclass
class ReportRow:
    staff_id: str
    staff_name: str
    hall_code: str
    hall_name: str
    counts: dict[str, int]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a Beijing calendar day starts and ends."""
    start = datetime.combine(day, time(0), BEIJING).astimezone(UTC)
    return start, start + timedelta(days=1)


def beijing_today(now: datetime) -> date:
    return now.astimezone(BEIJING).date()


def staff_of(label: str) -> tuple[str, str] | None:
    """(staff id, hall) from an actor label `staff:<id>@<hall>`."""
    if not label.startswith("staff:") or "@" not in label:
        return None
    staff_id, hall = label[len("staff:"):].split("@", 1)
    return staff_id, hall


def daily_report(day: date, hall_code: str | None) -> list[ReportRow]:
    """One row per staff member who did anything that day (in `hall_code`, or every hall)."""
    start, end = day_bounds(day)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(COLUMNS, 0))
    events = db.session.execute(select(AuditEvent.tag, AuditEvent.actor).where(
        AuditEvent.tag.in_(list(COUNTED)), AuditEvent.at >= start, AuditEvent.at < end,
        AuditEvent.actor.startswith("staff:")))
    for tag, actor in events:
        who = staff_of(actor)
        if who is not None and (hall_code is None or who[1] == hall_code):
            counts[who][COUNTED[tag]] += 1
    verified = select(Verification.staff_id, Verification.hall_code).where(
        Verification.method == COUNTER, Verification.result == VERIFIED,
        Verification.created_at >= start, Verification.created_at < end)
    if hall_code is not None:
        verified = verified.where(Verification.hall_code == hall_code)
    for staff_id, hall in db.session.execute(verified):
        if staff_id and hall:
            counts[(staff_id, hall)]["verified"] += 1
    return _rows(counts)


def _rows(counts: dict[tuple[str, str], dict[str, int]]) -> list[ReportRow]:
    ids = {staff_id for staff_id, _ in counts}
    staff = {s.id: s for s in db.session.execute(
        select(StaffAccount).where(StaffAccount.id.in_(ids))).scalars()} if ids else {}
    halls = {h.code: h.name for h in db.session.execute(select(ServiceHall)).scalars()}
    rows = [ReportRow(staff_id, _name(staff.get(staff_id), staff_id), hall,
                      halls.get(hall, hall), numbers)
            for (staff_id, hall), numbers in counts.items()]
    return sorted(rows, key=lambda r: (r.hall_code, r.staff_name))


def _name(staff: StaffAccount | None, fallback: str) -> str:
    if staff is None:
        return fallback
    return f"{staff.display_name} ({staff.username})" if staff.display_name else staff.username


def totals(rows: list[ReportRow]) -> dict[str, int]:
    return {column: sum(r.counts[column] for r in rows) for column in COLUMNS}

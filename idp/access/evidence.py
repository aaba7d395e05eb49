"""The evidence that a business system is live: completed SSO logins per client and Beijing
day (access_client_day), rolled up from the LoginEvidence port, and the live window over them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, text, update

from idp.access import state
from idp.access.models import RETIRED, AccessState, BusinessSystem, ClientDay, SystemClient
from idp.access.ports import BEIJING, LoginEvidence, beijing_midnight
from idp.clock import Clock
from idp.dbutil import dialect_insert
from idp.extensions import db

BATCH = 1000  # rows per INSERT … ON CONFLICT statement, codes per IN list
UPSERT_ARRAYS = text(
    "INSERT INTO access_client_day (client_id, day, logins) "
    "SELECT * FROM unnest(CAST(:clients AS varchar[]), CAST(:days AS date[]), "
    "CAST(:logins AS integer[])) "
    "ON CONFLICT (client_id, day) DO UPDATE SET logins = EXCLUDED.logins")


@dataclass(frozen=True)
class Window:
    """The live window: the `days` Beijing days ending today, today included."""

    today: date
    days: int

    @property
    def first(self) -> date:
        return self.today - timedelta(days=self.days - 1)


@dataclass(frozen=True)
class RollupResult:
    first_day: date
    last_day: date
    client_days: int  # rows the evidence gave for those days
    logins: int
    written: int  # rows inserted or changed
    removed: int  # rows of those days the evidence no longer supports

    def to_dict(self) -> dict[str, Any]:
        return {"first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
                "client_days": self.client_days, "logins": self.logins,
                "written": self.written, "removed": self.removed}


class Evidence:
    """Rolls login evidence up into access_client_day and answers which systems are live."""

    def __init__(self, clock: Clock, live_days: int, evidence_days: int | None = None) -> None:
        self.clock = clock
        self.live_days = live_days
        self.evidence_days = evidence_days  # how far back the source keeps its records

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock.now(), BEIJING).date()

    def window(self) -> Window:
        return Window(self.today(), self.live_days)

    def rollup(self, evidence: LoginEvidence, days: int) -> RollupResult:
        """Recompute the last `days` Beijing days (today included) from the evidence: the
        rows of those days become exactly what the evidence says (idempotent; other days are
        untouched). Days older than the source keeps records for are never recomputed, so
        purging token records never erases the counts already rolled up."""
        if days < 1:
            raise ValueError("roll up at least one day")
        if self.evidence_days is not None:
            days = min(days, max(1, self.evidence_days - 1))
        mark = state.locked()
        today = self.today()
        first = today - timedelta(days=days - 1)
        since, until = beijing_midnight(first), beijing_midnight(today + timedelta(days=1))
        found: dict[tuple[str, date], int] = {}
        for client_id, day, logins in evidence.daily_logins(since, until):
            if first <= day <= today and logins > 0:
                found[(client_id, day)] = found.get((client_id, day), 0) + int(logins)
        existing = {(row.client_id, row.day): row.logins for row in db.session.execute(
            select(ClientDay.client_id, ClientDay.day, ClientDay.logins)
            .where(ClientDay.day.between(first, today)))}
        # sorted: concurrent rollups touch rows in one order (no deadlock between them)
        changed = [{"client_id": c, "day": d, "logins": n} for (c, d), n in sorted(found.items())
                   if existing.get((c, d)) != n]
        stale = sorted(key for key in existing if key not in found)
        self._upsert(changed)
        self._remove(stale)
        if days >= self.live_days:  # a full rollup (cron) re-derives every system's day
            update_last_login_days()
        else:  # a count that changed never moves a last login day; a new or lost day may
            _advance_last_login_days([key for key in found if key not in existing])
            if stale:
                update_last_login_days(clients={client for client, _ in stale})
        self._advance(mark, first, today)
        db.session.flush()
        return RollupResult(first, today, len(found), sum(found.values()), len(changed),
                            len(stale))

    def refresh(self, evidence: LoginEvidence, max_age: float = 0) -> RollupResult | None:
        """The cheap rollup run before a report: from the last day rolled up (recomputed: it
        may have been partial) to today, at least yesterday and today; a missed cron run
        heals itself. On first use: the whole live window. Nothing (None) when the last
        rollup is less than `max_age` seconds old."""
        mark = state.read()
        if mark is not None and mark.rolled_at is not None and max_age > 0:
            rolled = mark.rolled_at if mark.rolled_at.tzinfo else \
                mark.rolled_at.replace(tzinfo=UTC)
            if 0 <= self.clock.now() - rolled.timestamp() < max_age:
                return None
        through = as_date(mark.rolled_through) if mark is not None else None
        if through is None:
            return self.rollup(evidence, self.live_days)
        return self.rollup(evidence, max(2, (self.today() - through).days + 1))

    def _advance(self, mark: AccessState, first: date, today: date) -> None:
        """Move the mark to today when this rollup joins on to what was rolled up before
        (the first time: when it covers the live window)."""
        through = as_date(mark.rolled_through)
        joins = (first <= self.window().first if through is None
                 else first <= through + timedelta(days=1))
        if joins and (through is None or through <= today):
            mark.rolled_through = today
            mark.rolled_at = datetime.fromtimestamp(self.clock.now(), UTC)

    def _upsert(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if db.session.get_bind().dialect.name == "postgresql":
            # one statement per 10,000 rows: three arrays unnested server-side
            for start in range(0, len(rows), 10 * BATCH):
                batch = rows[start:start + 10 * BATCH]
                db.session.execute(UPSERT_ARRAYS, {"clients": [r["client_id"] for r in batch],
                                                   "days": [r["day"] for r in batch],
                                                   "logins": [r["logins"] for r in batch]})
            return
        stmt = dialect_insert(ClientDay)
        stmt = stmt.on_conflict_do_update(index_elements=["client_id", "day"],
                                          set_={"logins": stmt.excluded["logins"]})
        for start in range(0, len(rows), BATCH):
            db.session.execute(stmt, rows[start:start + BATCH])

    def _remove(self, keys: list[tuple[str, date]]) -> None:
        by_day: dict[date, list[str]] = defaultdict(list)
        for client_id, day in keys:
            by_day[day].append(client_id)
        for day, clients in by_day.items():
            for start in range(0, len(clients), BATCH):
                db.session.execute(delete(ClientDay).where(
                    ClientDay.day == day, ClientDay.client_id.in_(clients[start:start + BATCH])))

    # --- queries the rates, the follow-up list and the system list build on ---

    def live_system_ids(self, window: Window | None = None) -> Select[Any]:
        """SELECT of the ids of live systems."""
        return select(BusinessSystem.id).where(is_live(window or self.window()))

    def client_days(self, client_id: str, days: int) -> list[tuple[date, int]]:
        """The client's logins on each of the last `days` Beijing days, oldest first, days
        without logins included as 0."""
        today = self.today()
        first = today - timedelta(days=days - 1)
        counts = dict(db.session.execute(
            select(ClientDay.day, ClientDay.logins)
            .where(ClientDay.client_id == client_id, ClientDay.day.between(first, today)))
            .all())
        return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0))
                for i in range(days)]


def is_live(window: Window) -> Any:
    """Whether a BusinessSystem is live: not retired, and one of its clients completed an SSO
    login during the window (a column test: the rollup keeps last_login_day)."""
    return and_(BusinessSystem.status != RETIRED, BusinessSystem.last_login_day >= window.first)


def not_live(window: Window) -> Any:
    """The negation of is_live, NULLs included."""
    return or_(BusinessSystem.status == RETIRED, BusinessSystem.last_login_day.is_(None),
               BusinessSystem.last_login_day < window.first)


def update_last_login_days(*, clients: Iterable[str] | None = None,
                           systems: Iterable[int] | None = None) -> None:
    """Recompute access_system.last_login_day from access_client_day for the systems of
    these clients, these systems, or (both None) every system: per client one backward
    probe of the (client_id, day) primary key."""
    per_client = (select(func.max(ClientDay.day))
                  .where(ClientDay.client_id == SystemClient.client_id).scalar_subquery())
    last = (select(func.max(per_client)).where(SystemClient.system_id == BusinessSystem.id)
            .scalar_subquery())
    statement = (update(BusinessSystem)  # evidence, not an edit: updated_at stays
                 .values(last_login_day=last, updated_at=BusinessSystem.updated_at)
                 .execution_options(synchronize_session=False))
    _expire_last_login_days()
    if clients is None and systems is None:
        db.session.execute(statement)
        return
    for batch in _batches(_systems_of(clients or ()) | set(systems or ())):
        db.session.execute(statement.where(BusinessSystem.id.in_(batch)))


def _advance_last_login_days(new_days: Iterable[tuple[str, date]]) -> None:
    """Days that gained their first login move their systems' last login day forward."""
    latest: dict[date, set[str]] = defaultdict(set)
    by_client: dict[str, date] = {}
    for client_id, day in new_days:
        by_client[client_id] = max(day, by_client.get(client_id, day))
    for client_id, day in by_client.items():
        latest[day].add(client_id)
    if latest:
        _expire_last_login_days()
    for day, clients in sorted(latest.items()):
        for batch in _batches(_systems_of(clients)):
            db.session.execute(
                update(BusinessSystem)
                .where(BusinessSystem.id.in_(batch),
                       or_(BusinessSystem.last_login_day.is_(None),
                           BusinessSystem.last_login_day < day))
                .values(last_login_day=day, updated_at=BusinessSystem.updated_at)
                .execution_options(synchronize_session=False))


def _systems_of(clients: Iterable[str]) -> set[int]:
    wanted = set(clients)
    if len(wanted) > 10 * BATCH:  # most of them: one pass over the links is cheaper
        return {system_id for client_id, system_id in db.session.execute(
            select(SystemClient.client_id, SystemClient.system_id)) if client_id in wanted}
    found: set[int] = set()
    for batch in _batches(wanted):
        found.update(db.session.execute(select(SystemClient.system_id).where(
            SystemClient.client_id.in_(batch))).scalars())
    return found


def _batches(values: set[Any]) -> Iterator[list[Any]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), BATCH):
        yield ordered[start:start + BATCH]


def _expire_last_login_days() -> None:
    """The UPDATEs bypass the identity map: systems loaded before re-read the column."""
    for held in list(db.session.identity_map.values()):
        if isinstance(held, BusinessSystem):
            db.session.expire(held, ["last_login_day"])


def logins_in(window: Window) -> Any:
    """A correlated scalar subquery: BusinessSystem's logins during the window."""
    return (select(func.coalesce(func.sum(ClientDay.logins), 0))
            .join(SystemClient, SystemClient.client_id == ClientDay.client_id)
            .where(SystemClient.system_id == BusinessSystem.id,
                   ClientDay.day.between(window.first, window.today))
            .scalar_subquery())


def as_date(value: Any) -> date | None:
    """A date column value as a date (SQLite returns aggregates over dates as text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


"""The access domain's one service: what the console, the JSON API and `idp access` call.
Built once in create_app with the clock and the settings; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from idp.access import state
from idp.access.evidence import Evidence, RollupResult, Window
from idp.access.followup import FollowUp, follow_up
from idp.access.imports import Importer, ImportReport
from idp.access.models import Department
from idp.access.ports import LoginEvidence
from idp.access.rates import Rate, Report, compute
from idp.access.scopes import parse_scope
from idp.access.snapshots import TrendPoint, month_of, store, stored, trend
from idp.access.systems import SystemService
from idp.access.targets import Targets, check_live_days
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.clock import Clock
from idp.extensions import db


class AccessService:
    """Business systems, the catalogue, the evidence of live systems and the access rates.

    `live_days` (IDP_ACCESS_LIVE_DAYS): the Beijing days, today included, in which one SSO
    login proves a system live. `targets` (IDP_ACCESS_TARGETS). `evidence_days`: how long
    the login evidence is kept at its source (IDP_TOKEN_RECORD_RETENTION_DAYS); a rollup
    never recomputes older days."""

    def __init__(self, clock: Clock, *, live_days: int = 30, targets: Targets | None = None,
                 evidence_days: int | None = None) -> None:
        self.targets = targets or Targets()
        self.evidence = Evidence(clock, check_live_days(live_days), evidence_days)
        self.systems = SystemService(self.evidence)
        self.importer = Importer(self.evidence)
        self._cached: tuple[Any, frozenset[int], Report] | None = None

    @property
    def live_days(self) -> int:
        return self.evidence.live_days

    def today(self) -> date:
        """Today in Beijing time, by the injectable clock."""
        return self.evidence.today()

    def window(self) -> Window:
        return self.evidence.window()

    # --- evidence ---

    def rollup(self, evidence: LoginEvidence, days: int) -> RollupResult:
        """Recompute the per-client daily logins of the last `days` days (idempotent)."""
        return self.evidence.rollup(evidence, days)

    def refresh(self, evidence: LoginEvidence, *, max_age: float = 0) -> RollupResult | None:
        """The rollup to run before showing figures: yesterday and today (further back when
        the last rollup is older). With `max_age`, nothing (None) when the last rollup is
        younger than that many seconds: pages can refresh on every view without each view
        re-reading two days of token records."""
        return self.evidence.refresh(evidence, max_age)

    def client_days(self, client_id: str, days: int = 30) -> list[tuple[date, int]]:
        return self.evidence.client_days(client_id, days)

    # --- rates ---

    def report(self) -> Report:
        """Every rate now, from the evidence rolled up so far (call refresh first). Computed
        once per catalogue version, day and set of live systems, and reused (read-only)
        while none of them changes: checking costs two small queries."""
        window = self.window()
        live_ids = self.evidence.live_system_ids(window)
        key = (state.stamp(), window.first, window.today)
        live = frozenset(db.session.execute(live_ids).scalars())
        cached = self._cached
        if cached is not None and key[0] is not None and cached[0] == key and \
                cached[1] == live:
            return cached[2]
        report = compute(window, self.targets)
        self._cached = (key, live, report)
        return report

    def stored_report(self, month: str) -> Report | None:
        """The figures stored for a month (YYYY-MM), or None when none were."""
        return stored(month)

    def rate(self, scope: str) -> Rate | None:
        parse_scope(scope)
        return self.report().get(scope)

    def follow_up(self, scope: str, *, limit: int | None = None,
                  report: Report | None = None) -> FollowUp:
        """The follow-up list (督办清单) of a scope key (e.g. city:441800); AccessError
        "unknown_scope" for a key that names none. Pass the report already computed to
        save computing it again."""
        window = self.window()
        rate = (report or self.report()).get(parse_scope(scope).key)
        return follow_up(scope, window, rate, limit)

    def snapshot(self, month: str | None = None, *, actor: Actor) -> int:
        """Store every scope's current figures as the month's (default: this month; the
        previous month is accepted too). Safe to run twice. Returns the scopes stored."""
        month = month or month_of(self.today())
        count = store(self.report(), month, self.today())
        record_event(Tag.ACCESS_SNAPSHOT, actor=actor, data={"month": month, "scopes": count})
        return count

    def trend(self, scope: str, months: int = 12) -> list[TrendPoint]:
        """A scope's stored months, oldest first, over the `months` months ending now."""
        parse_scope(scope)
        return trend(scope, month_of(self.today()), months)

    # --- catalogue ---

    def departments(self, level: str | None = None) -> list[Department]:
        query = select(Department).order_by(Department.code)
        if level:
            query = query.where(Department.level == level)
        return list(db.session.execute(query).scalars())

    def import_csv(self, kind: str, raw: bytes, *, actor: Actor, source: str = "",
                   dry_run: bool = False, skip_bad: bool = False) -> ImportReport:
        """Import departments, items or systems from a CSV file's bytes (UTF-8 or GBK)."""
        return self.importer.import_csv(kind, raw, actor=actor, source=source,
                                        dry_run=dry_run, skip_bad=skip_bad)

    def import_records(self, kind: str, records: Sequence[Any], *, actor: Actor,
                       source: str = "api", dry_run: bool = False,
                       skip_bad: bool = False) -> ImportReport:
        """The same import from JSON records (a list of objects keyed by the CSV columns)."""
        return self.importer.import_records(kind, records, actor=actor, source=source,
                                            dry_run=dry_run, skip_bad=skip_bad)


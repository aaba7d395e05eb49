"""Importing the catalogue (departments, items) and business systems from CSV or JSON:
every record checked, all or nothing, idempotent, one audit event per import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import column, select, table

from idp.access.evidence import Evidence
from idp.access.imports.checks import CHECKS, Context
from idp.access.imports.reading import (
    COLUMNS,
    FileRefused,
    Record,
    read_csv,
    read_records,
    split_list,
)
from idp.access.imports.writing import plan, write
from idp.access.models import BusinessSystem, Department, ServiceItem, SystemClient
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db

KINDS = tuple(COLUMNS)
BATCH = 5000
oauth_client = table("oauth_client", column("client_id"))  # by name: access is below oauth


@dataclass(frozen=True)
class RejectedRow:
    """A record that cannot be imported. `row` is the CSV line it starts on (the header is
    line 1) or the JSON record's position from 1; 0 means the file as a whole."""

    row: int
    key: str | None  # the record's code, when it has one
    problems: tuple[tuple[str, str], ...]  # (code, message)

    @property
    def reasons(self) -> list[str]:
        return [message for _, message in self.problems]

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "code": self.key,
                "problems": [{"code": c, "message": m} for c, m in self.problems]}


@dataclass
class ImportReport:
    kind: str
    source: str
    encoding: str | None  # utf-8, utf-8-sig or gb18030 for CSV; None for JSON
    dry_run: bool = False
    skip_bad: bool = False
    rows: int = 0  # records read (blank lines aside)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    written: bool = False  # whether anything reached the database
    refused: bool = False  # the file as a whole could not be read (encoding, header)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "encoding": self.encoding,
                "dry_run": self.dry_run, "skip_bad": self.skip_bad, "rows": self.rows,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": [r.to_dict() for r in self.rejected], "written": self.written,
                "refused": self.refused}


class Importer:
    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence  # for the day a status is entered

    def import_csv(self, kind: str, raw: bytes, *, actor: Actor, source: str = "",
                   dry_run: bool = False, skip_bad: bool = False) -> ImportReport:
        report = ImportReport(_kind(kind), source, None, dry_run, skip_bad)
        try:
            report.encoding, records = read_csv(kind, raw)
        except FileRefused as refused:
            report.encoding, report.refused = refused.encoding, True
            report.rejected.append(RejectedRow(refused.line, None,
                                               ((refused.code, str(refused)),)))
            return report
        return self._run(report, records, actor)

    def import_records(self, kind: str, records: Sequence[Any], *, actor: Actor,
                       source: str = "api", dry_run: bool = False,
                       skip_bad: bool = False) -> ImportReport:
        """The JSON API's import: a list of objects keyed by the CSV columns."""
        report = ImportReport(_kind(kind), source, None, dry_run, skip_bad)
        if not isinstance(records, list):
            report.refused = True
            report.rejected.append(RejectedRow(0, None, (("not_a_list", "the body must be a "
                                                          "JSON list of records"),)))
            return report
        return self._run(report, read_records(kind, records), actor)

    def _run(self, report: ImportReport, records: list[Record], actor: Actor) -> ImportReport:
        kind = report.kind
        report.rows = len(records)
        ctx = _context(kind, records)
        good: list[dict[str, Any]] = []
        first_row: dict[str, int] = {}
        client_row: dict[str, int] = {}
        for record in records:
            problems = list(record.problems)
            clean = CHECKS[kind](record, ctx, problems) if not problems else \
                {"code": record.values.get("code")}
            code = clean.get("code") or None
            if code and code in first_row:
                problems.append(("duplicate_code", f"code {code} is also on row "
                                 f"{first_row[code]}"))
            elif code:
                first_row[code] = record.row
            for client in clean.get("client_ids") or ():
                if client_row.setdefault(client, record.row) != record.row:
                    problems.append(("client_taken", f"client {client} is also listed on row "
                                     f"{client_row[client]}"))
            if problems:
                report.rejected.append(RejectedRow(record.row, code, tuple(problems)))
            else:
                good.append(clean)
        if report.rejected and not report.skip_bad:
            return report
        steps = plan(kind, good)
        for action, _ in steps:
            setattr(report, action, getattr(report, action) + 1)
        if report.dry_run:
            return report
        write(kind, steps, today=self.evidence.today())
        report.written = True
        record_event(Tag.ACCESS_IMPORTED, actor=actor, data={
            "kind": kind, "source": report.source, "encoding": report.encoding,
            "rows": report.rows, "created": report.created, "updated": report.updated,
            "unchanged": report.unchanged, "skipped": len(report.rejected)})
        return report


def _kind(kind: str) -> str:
    if kind not in COLUMNS:
        raise ValueError(f"unknown import kind {kind!r} (one of {', '.join(COLUMNS)})")
    return kind


def _context(kind: str, records: list[Record]) -> Context:
    departments = {code: (level, division) for code, level, division in db.session.execute(
        select(Department.code, Department.level, Department.division_code))}
    ctx = Context(departments)
    if kind != "systems":
        return ctx
    items = sorted({c for r in records for c in split_list(r.values.get("item_codes", ""))})
    clients = sorted({c for r in records for c in split_list(r.values.get("client_ids", ""))})
    for start in range(0, len(items), BATCH):
        ctx.items.update(db.session.execute(select(ServiceItem.code).where(
            ServiceItem.code.in_(items[start:start + BATCH]))).scalars())
    if clients:
        ctx.clients.update(db.session.execute(select(oauth_client.c.client_id).where(
            oauth_client.c.client_id.in_(clients))).scalars())
        ctx.client_system = dict(db.session.execute(
            select(SystemClient.client_id, BusinessSystem.code)
            .join(BusinessSystem, BusinessSystem.id == SystemClient.system_id)
            .where(SystemClient.client_id.in_(clients))).all())
    return ctx

"""record_event(): append one event to the hash chain in the caller's transaction."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update

from idp.audit.actors import Actor
from idp.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from idp.audit.tags import Tag
from idp.extensions import db

GENESIS = "0" * 64
# Keys that must never reach the log, whatever a caller passes.
FORBIDDEN_KEYS = {"password", "secret", "client_secret", "code", "token", "access_token",
                  "refresh_token", "id_token", "otp", "id_number"}


def _scrub(value: Any) -> Any:
    """Drop forbidden keys at any depth."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in FORBIDDEN_KEYS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _digest(prev_hash: str, row: dict[str, Any]) -> str:
    body = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _canonical(event: AuditEvent) -> dict[str, Any]:
    # PostgreSQL answers in the session's time zone and SQLite without one: hash UTC always.
    stamp = event.at.astimezone(UTC) if event.at.tzinfo else event.at
    at = stamp.replace(tzinfo=None).isoformat(timespec="microseconds")
    return {"seq": event.seq, "at": at,
            "tag": event.tag, "actor": event.actor, "user_id": event.user_id,
            "client_id": event.client_id, "ip": event.ip, "data": event.data}


def _lock_chain_on_sqlite() -> None:
    """SQLite ignores SELECT … FOR UPDATE. The embedded database's connections begin their
    write transactions IMMEDIATE (idp/__init__.py), so a no-op write here takes the database's
    write lock before the head is read: appends are serialised by SQLite itself, with no
    Python lock that a thread waiting for SQLite could hold (and so deadlock)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(AuditHead).where(AuditHead.id == 1)
                           .values(seq=AuditHead.seq))


def record_event(tag: Tag, *, actor: Actor, user_id: str | None = None,
                 client_id: str | None = None, ip: str | None = None,
                 data: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event. The caller commits; the head row lock keeps the chain linear."""
    _lock_chain_on_sqlite()
    clean = _scrub(data or {})
    head = db.session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        db.session.add(head)
    event = AuditEvent(seq=head.seq + 1, at=datetime.now(UTC), tag=tag.value, actor=actor.label,
                       user_id=user_id, client_id=client_id, ip=ip, data=clean,
                       prev_hash=head.hash, hash="")
    event.hash = _digest(head.hash, _canonical(event))
    head.seq, head.hash = event.seq, event.hash
    head.mac = _head_mac(head.seq, head.hash)
    db.session.add(event)
    db.session.flush()
    return event


def _head_mac(seq: int, digest: str) -> str:
    key = current_app.extensions["idp.audit_key"]
    return hmac.new(key, f"{seq}|{digest}".encode(), hashlib.sha256).hexdigest()


def seal_unsigned_head() -> bool:
    """Sign a chain head written before heads were signed (an upgraded installation); run at
    start by `idp serve`. A signed head is never re-signed."""
    head = db.session.get(AuditHead, 1)
    if head is None or head.mac is not None:
        return False
    head.mac = _head_mac(head.seq, head.hash)
    db.session.commit()
    return True


def verify_chain() -> int | None:
    """Walk the chain; return the seq of the first broken record, or None if intact.

    After a retention purge the walk starts from the checkpoint the purge left."""
    checkpoint = db.session.get(AuditCheckpoint, 1)
    prev = checkpoint.hash if checkpoint else GENESIS
    expected_seq = (checkpoint.seq if checkpoint else 0) + 1
    for event in db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
        if event.seq != expected_seq or event.prev_hash != prev or \
                _digest(prev, _canonical(event)) != event.hash:
            return event.seq
        prev, expected_seq = event.hash, event.seq + 1
    # The head must close the chain and carry a valid MAC: events rewritten (hashes recomputed)
    # or cut off at the end leave a head that only the key could re-seal.
    head = db.session.get(AuditHead, 1)
    if head is None:
        return None if expected_seq == (checkpoint.seq + 1 if checkpoint else 1) else \
            expected_seq - 1
    if head.seq != expected_seq - 1 or head.hash != prev or head.mac is None or \
            not hmac.compare_digest(head.mac, _head_mac(head.seq, head.hash)):
        return head.seq
    return None


def export_events(since: datetime, until: datetime) -> Iterator[str]:
    """The events with since <= at < until (UTC), one JSON object per line, chain included."""
    rows = db.session.execute(
        select(AuditEvent).where(AuditEvent.at >= since.replace(tzinfo=UTC),
                                 AuditEvent.at < until.replace(tzinfo=UTC))
        .order_by(AuditEvent.seq)).scalars()
    for event in rows:
        yield json.dumps({**_canonical(event), "prev_hash": event.prev_hash,
                          "hash": event.hash}, ensure_ascii=False, default=str)


def record_export(since: datetime, until: datetime, count: int, actor: Actor) -> None:
    record_event(Tag.AUDIT_EXPORTED, actor=actor,
                 data={"since": since.isoformat(), "until": until.isoformat(), "count": count})
    db.session.commit()


def purge_before(days: int, actor: Actor) -> int:
    """Delete events older than `days`, recording a checkpoint so the rest still verifies."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    last = db.session.execute(
        select(AuditEvent).where(AuditEvent.at < cutoff).order_by(AuditEvent.seq.desc())
        .limit(1)).scalar_one_or_none()
    if last is None:
        return 0
    result = db.session.execute(delete(AuditEvent).where(AuditEvent.seq <= last.seq))
    removed = result.rowcount  # type: ignore[attr-defined]
    checkpoint = db.session.get(AuditCheckpoint, 1)
    if checkpoint is None:
        db.session.add(AuditCheckpoint(id=1, seq=last.seq, hash=last.hash))
    else:
        checkpoint.seq, checkpoint.hash = last.seq, last.hash
    record_event(Tag.AUDIT_PURGED, actor=actor, data={"through_seq": last.seq,
                                                                "removed": removed})
    db.session.commit()
    return int(removed)

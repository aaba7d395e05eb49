"""Delivering queued Security Event Tokens: push (RFC 8935) in order per business system with
retries and backoff, safe to run on several nodes at once; poll (RFC 8936); per-system counts."""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db
from idp.oauth.models import Client, SecurityEvent
from idp.oauth.server import Provider
from idp.oauth.ssf.events import POLL, PUSH

log = logging.getLogger(__name__)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# Retries: 30 s after the first failure, doubling to at most an hour between attempts; given
# up after 200 attempts, about eight days: longer than the longest public holiday (国庆 week),
# so a system switched off over a holiday still gets every event, in order, when it is back.
BACKOFF_FIRST, BACKOFF_MAX, MAX_ATTEMPTS = 30, 3600, 200
PER_CLIENT = 20  # events sent to one business system per run (the next run sends more)
SENDERS = 8  # business systems served at once, per run
PREPARE = 10.0  # seconds a claim allows for committing it and signing the SETs
# RFC 8935 §2.4 error codes that refuse the SET itself: sending it again cannot succeed.
# (authentication_failed and access_denied concern the receiver's own setup: retried.)
REFUSALS = ("invalid_request", "invalid_key", "invalid_issuer", "invalid_audience")
MAX_POLL = 100  # SETs in one poll answer
_PRINTABLE = re.compile(r"[^A-Za-z0-9 .,:;()_/'+-]")


def backoff(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** min(max(attempts - 1, 0), 20))


@dataclass(frozen=True)
class Outcome:
    """What one POST achieved: delivered (202), refused for good (RFC 8935 error), failed for
    now (retried later), or not attempted (an earlier SET of the system failed first, or the
    claim ran out before its turn)."""

    event_id: int
    delivered: bool = False
    refused: bool = False
    attempted: bool = True
    error: str | None = None


@dataclass(frozen=True)
class _Job:
    client_id: str
    uri: str
    events: list[tuple[int, str, str, int]]  # (id, jti, signed SET, attempts so far)


@dataclass
class Report:
    delivered: int = 0
    refused: int = 0
    failed: int = 0
    not_attempted: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(SecurityEvent.status == PENDING,
                or_(SecurityEvent.claimed_until.is_(None), SecurityEvent.claimed_until < now))


class Pusher:
    """Sends each push business system its pending SETs, oldest first, one after another:
    a later SET never leaves while an earlier one is pending for the same system."""

    def __init__(self, provider: Provider) -> None:
        self.p = provider
        self.clock = provider.tokens.clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def _per_post(self) -> float:
        return 2 * self.p.settings.backchannel_timeout  # connect, then the answer

    def deliver(self, *, limit: int = 500, client_ids: Iterable[str] | None = None,
                ignore_backoff: bool = False) -> Report:
        """One run: claim (committed first, so a run on another node skips what this one
        holds), sign, POST, settle, commit. A system whose oldest pending SET is claimed by
        another run, or is waiting for its retry time (unless `ignore_backoff`), is skipped
        whole. SETs are delivered at least once: a run that dies after a POST but before
        settling leaves the SET to be sent again once its claim ends (receivers deduplicate
        by `jti`)."""
        now, started = self._now(), time.monotonic()
        heads = self._due(now, limit, client_ids, ignore_backoff)
        if not heads:
            return Report()
        rounds = math.ceil(len(heads) / SENDERS)
        lease = PREPARE + rounds * PER_CLIENT * self._per_post() + self.p.settings.clock_leeway
        until = now + timedelta(seconds=lease)
        jobs = [job for job in (self._claim(client, ids, now, until) for client, ids in heads)
                if job is not None]
        db.session.commit()  # the claims, before anything is sent
        start_by = started + lease - self.p.settings.clock_leeway - self._per_post()
        report = Report()
        for job, outcomes in zip(jobs, self._send(jobs, start_by), strict=True):
            for outcome in outcomes:
                self._settle(job, outcome, until)
                report.outcomes.append(outcome)
        db.session.commit()
        for outcome in report.outcomes:
            if outcome.delivered:
                report.delivered += 1
            elif outcome.refused:
                report.refused += 1
            elif outcome.attempted:
                report.failed += 1
            else:
                report.not_attempted += 1
        return report

    # --- choosing and claiming ---
    def _due(self, now: datetime, limit: int, client_ids: Iterable[str] | None,
             ignore_backoff: bool) -> list[tuple[Client, list[int]]]:
        """Push systems whose oldest pending SET is free and due, with the ids of their
        pending SETs in order (at most PER_CLIENT each, `limit` in all)."""
        query = (select(SecurityEvent.client_id, func.min(SecurityEvent.id))
                 .join(Client, Client.client_id == SecurityEvent.client_id)
                 .where(SecurityEvent.status == PENDING, Client.events_delivery == PUSH,
                        Client.events_uri.is_not(None), Client.disabled.is_(False))
                 .group_by(SecurityEvent.client_id).order_by(func.min(SecurityEvent.id)))
        if client_ids is not None:
            query = query.where(SecurityEvent.client_id.in_(list(client_ids)))
        chosen: list[tuple[Client, list[int]]] = []
        for client_id, head_id in db.session.execute(query).all():
            if limit <= 0:
                break
            head = db.session.get(SecurityEvent, head_id)
            if head is None or (head.claimed_until is not None and
                                _aware(head.claimed_until) >= now):
                continue  # another run holds this system's queue
            if not ignore_backoff and head.next_attempt_at is not None and \
                    _aware(head.next_attempt_at) > now:
                continue  # waiting for its retry time
            ids = list(db.session.execute(
                select(SecurityEvent.id).where(SecurityEvent.client_id == client_id,
                                               SecurityEvent.status == PENDING)
                .order_by(SecurityEvent.id).limit(min(PER_CLIENT, limit))).scalars())
            client = self.p.clients.get(client_id)
            if client is not None and client.events_uri:
                chosen.append((client, ids))
                limit -= len(ids)
        return chosen

    def _claim(self, client: Client, ids: list[int], now: datetime,
               until: datetime) -> _Job | None:
        """Claim `ids` in order, one atomic UPDATE each; stop at the first one another run
        holds (or has settled), so the SETs claimed are always the system's oldest ones."""
        won: list[int] = []
        for event_id in ids:
            result: Any = db.session.execute(
                update(SecurityEvent).where(SecurityEvent.id == event_id, _claimable(now))
                .values(claimed_until=until).execution_options(synchronize_session=False))
            if result.rowcount != 1:
                break
            won.append(event_id)
        if not won:
            return None
        rows = db.session.execute(select(SecurityEvent.id, SecurityEvent.jti,
                                         SecurityEvent.payload, SecurityEvent.attempts)
                                  .where(SecurityEvent.id.in_(won))
                                  .order_by(SecurityEvent.id)).all()
        return _Job(client.client_id, str(client.events_uri),
                    [(i, jti, self.p.tokens.security_event_token(
                        client=client, claims=json.loads(payload)), attempts)
                     for i, jti, payload, attempts in rows])

    def _settle(self, job: _Job, outcome: Outcome, claimed_until: datetime) -> None:
        """Record the outcome and give up the claim (left alone if it is no longer this
        run's: it outlived its lease and another run took the SET)."""
        attempts = next(a for i, _j, _t, a in job.events if i == outcome.event_id)
        values: dict[str, Any] = {}
        if outcome.attempted:
            values.update(attempts=SecurityEvent.attempts + 1, last_error=outcome.error)
        if outcome.delivered:
            values.update(status=DELIVERED, delivered_at=self._now(), claimed_until=None)
        elif outcome.refused or (outcome.attempted and attempts + 1 >= MAX_ATTEMPTS):
            values.update(status=FAILED, claimed_until=None)
            self._report_failure(job, outcome, attempts + 1)
        else:
            values["claimed_until"] = case((SecurityEvent.claimed_until == claimed_until, None),
                                           else_=SecurityEvent.claimed_until)
            if outcome.attempted:
                values["next_attempt_at"] = self._now() + timedelta(seconds=backoff(
                    attempts + 1))
        db.session.execute(update(SecurityEvent).where(SecurityEvent.id == outcome.event_id)
                           .values(**values).execution_options(synchronize_session=False))

    def _report_failure(self, job: _Job, outcome: Outcome, attempts: int) -> None:
        jti = next(j for i, j, _t, _a in job.events if i == outcome.event_id)
        log.warning("security event to %s given up after %s attempt(s): %s", job.client_id,
                    attempts, outcome.error)
        record_event(Tag.SECURITY_EVENT_FAILED, actor=Actor.system("events"),
                     client_id=job.client_id,
                     data={"jti": jti, "attempts": attempts, "error": outcome.error})

    # --- sending ---
    def _send(self, jobs: list[_Job], start_by: float) -> list[list[Outcome]]:
        if not jobs:
            return []
        timeout = self.p.settings.backchannel_timeout

        def send_all(job: _Job) -> list[Outcome]:
            outcomes: list[Outcome] = []
            stopped = False
            for event_id, _jti, token, _attempts in job.events:
                if stopped or time.monotonic() > start_by:
                    outcomes.append(Outcome(event_id, attempted=False))
                    continue
                outcome = push(job.uri, token, event_id, timeout)
                outcomes.append(outcome)
                if not outcome.delivered and not outcome.refused:
                    stopped = True  # in order: nothing later goes before this one
                    log.warning("security event to %s not delivered: %s", job.client_id,
                                outcome.error)
            return outcomes

        with ThreadPoolExecutor(max_workers=min(SENDERS, len(jobs))) as pool:
            return list(pool.map(send_all, jobs))


def push(uri: str, token: str, event_id: int, timeout: float) -> Outcome:
    """POST one SET (RFC 8935 §2): 202 is delivered; 400 with one of the error codes that
    refuse the SET itself is refused for good; anything else is tried again later."""
    try:
        response = requests.post(uri, data=token.encode("ascii"), timeout=timeout,
                                 allow_redirects=False,
                                 headers={"Content-Type": "application/secevent+jwt",
                                          "Accept": "application/json"})
    except requests.Timeout:
        return Outcome(event_id, error="no answer in time")
    except requests.RequestException:
        return Outcome(event_id, error="connection failed")
    if response.status_code == 202:
        return Outcome(event_id, delivered=True)
    if response.status_code == 400:
        err, description = _set_error(response)
        if err in REFUSALS:
            return Outcome(event_id, refused=True, error=f"400 {err}: {description}"[:200])
        return Outcome(event_id, error=f"400 {err or 'without an error code'}"[:200])
    return Outcome(event_id, error=f"HTTP {response.status_code}")


def _set_error(response: requests.Response) -> tuple[str | None, str]:
    """The receiver's `err` and `description` (RFC 8935 §2.3), cut short and reduced to plain
    characters: stored as the last error, shown to operators."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    err, description = body.get("err"), body.get("description")
    return (_PRINTABLE.sub("", err)[:40] if isinstance(err, str) and err else None,
            _PRINTABLE.sub("", description)[:100] if isinstance(description, str) else "")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- poll (RFC 8936) ---
@dataclass(frozen=True)
class PollAnswer:
    sets: dict[str, str]
    more: bool


class Poller:
    """One poll of a business system: acknowledgements and errors recorded, then its oldest
    pending SETs (signed now) returned. Only that system's SETs are ever touched."""

    def __init__(self, provider: Provider) -> None:
        self.p = provider

    def poll(self, client: Client, *, ack: list[str], errors: dict[str, tuple[str, str]],
             max_events: int | None) -> PollAnswer:
        now = datetime.fromtimestamp(self.p.tokens.clock.now(), UTC)
        mine = and_(SecurityEvent.client_id == client.client_id,
                    SecurityEvent.status == PENDING)
        if ack:
            db.session.execute(update(SecurityEvent).where(mine, SecurityEvent.jti.in_(ack))
                               .values(status=DELIVERED, acknowledged_at=now, delivered_at=now)
                               .execution_options(synchronize_session=False))
        for jti, (err, description) in errors.items():
            error = f"receiver: {_PRINTABLE.sub('', err)}: {_PRINTABLE.sub('', description)}"
            result: Any = db.session.execute(
                update(SecurityEvent).where(mine, SecurityEvent.jti == jti)
                .values(status=FAILED, last_error=error[:200])
                .execution_options(synchronize_session=False))
            if result.rowcount == 1:  # the receiver gave it up (RFC 8936 setErrs): audited
                record_event(Tag.SECURITY_EVENT_FAILED, actor=Actor.client(client.client_id),
                             client_id=client.client_id, data={"jti": jti, "error": error})
        wanted = MAX_POLL if max_events is None else min(max_events, MAX_POLL)
        rows = db.session.execute(select(SecurityEvent.id, SecurityEvent.jti,
                                         SecurityEvent.payload).where(mine)
                                  .order_by(SecurityEvent.id).limit(wanted + 1)).all() \
            if wanted > 0 else []
        more = len(rows) > wanted if wanted > 0 else db.session.execute(
            select(func.count()).select_from(SecurityEvent).where(mine)).scalar_one() > 0
        rows = rows[:wanted]
        if rows:
            db.session.execute(update(SecurityEvent)
                               .where(SecurityEvent.id.in_([r.id for r in rows]))
                               .values(attempts=SecurityEvent.attempts + 1)
                               .execution_options(synchronize_session=False))
        sets = {jti: self.p.tokens.security_event_token(client=client,
                                                        claims=json.loads(payload))
                for _id, jti, payload in rows}
        return PollAnswer(sets, more)


# --- what operators see ---
@dataclass(frozen=True)
class ClientEvents:
    client_id: str
    delivery: str | None
    pending: int
    delivered: int
    failed: int
    last_error: str | None


def event_counts(client_id: str | None = None) -> list[ClientEvents]:
    """Per business system with events enabled or any queued: SETs pending, delivered and
    given up, and the last error of a SET not delivered."""
    counts: dict[str, dict[str, int]] = {}
    query = select(SecurityEvent.client_id, SecurityEvent.status, func.count()) \
        .group_by(SecurityEvent.client_id, SecurityEvent.status)
    errors_query = select(SecurityEvent.client_id, SecurityEvent.last_error).where(
        SecurityEvent.id.in_(select(func.max(SecurityEvent.id))
                             .where(SecurityEvent.last_error.is_not(None),
                                    SecurityEvent.status != DELIVERED)
                             .group_by(SecurityEvent.client_id)))
    clients_query = select(Client.client_id, Client.events_delivery)
    if client_id is not None:
        query = query.where(SecurityEvent.client_id == client_id)
        errors_query = errors_query.where(SecurityEvent.client_id == client_id)
        clients_query = clients_query.where(Client.client_id == client_id)
    else:
        clients_query = clients_query.where(Client.events_delivery.is_not(None))
    for cid, status, n in db.session.execute(query).all():
        counts.setdefault(cid, {})[status] = n
    errors: dict[str, str | None] = {cid: e for cid, e in db.session.execute(errors_query)}
    delivery: dict[str, str | None] = {cid: d for cid, d in db.session.execute(clients_query)}
    return [ClientEvents(cid, delivery.get(cid), counts.get(cid, {}).get(PENDING, 0),
                         counts.get(cid, {}).get(DELIVERED, 0), counts.get(cid, {}).get(FAILED, 0),
                         errors.get(cid))
            for cid in sorted(set(counts) | set(delivery))]


def retry_failed(client_id: str, actor: Actor) -> int:
    """Give the system's given-up SETs another round of attempts (after it fixed what made
    it refuse them); audited. Returns how many."""
    result: Any = db.session.execute(
        update(SecurityEvent).where(SecurityEvent.client_id == client_id,
                                    SecurityEvent.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    record_event(Tag.SECURITY_EVENTS_RETRIED, actor=actor, client_id=client_id,
                 data={"events": result.rowcount})
    db.session.flush()
    return int(result.rowcount)


__all__ = ["POLL", "PUSH", "Poller", "Pusher", "event_counts", "retry_failed"]

"""When an SSO session ends: revoke its grants and owe each business system it reached an
OpenID Connect Back-Channel Logout, durably (an outbox), then deliver what is owed."""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from idp.accounts.sessions import SsoSession
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.dbutil import insert_ignoring_duplicates
from idp.extensions import db
from idp.oauth.models import LogoutNotice
from idp.oauth.server import Provider

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
SENDERS = 8  # POSTs in flight at once, per delivery run
PREPARE = 10.0  # seconds a claim allows for committing it and signing the logout tokens


@dataclass(frozen=True)
class Delivery:
    client_id: str
    ok: bool
    status: int | None
    attempted: bool = True  # False: not sent, its claim ran out before its turn came


@dataclass(frozen=True)
class _Job:
    notice_id: int
    user_id: str
    attempts: int
    client_id: str
    uri: str
    token: str


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Owed, not given up on, and claimed by no sender (or by one whose lease ran out)."""
    return and_(LogoutNotice.delivered_at.is_(None), LogoutNotice.attempts < MAX_ATTEMPTS,
                or_(LogoutNotice.claimed_until.is_(None), LogoutNotice.claimed_until < now))


class SessionEndHandler:
    """Registered on SessionService: `queue` runs inside the transaction that ends the session
    (it only flushes), `deliver` after that transaction committed."""

    def __init__(self, provider: Provider) -> None:
        self.p = provider
        self.clock = provider.tokens.clock

    def queue(self, session: SsoSession) -> None:
        """Revoke the session's grants and record a notice per business system with a
        back-channel logout URI. Safe to repeat: a retried logout queues nothing twice."""
        self.p.grants.revoke_for_session(session.sid)
        for client_id in session.clients:
            client = self.p.clients.get(client_id)
            if client is not None and client.backchannel_logout_uri:
                insert_ignoring_duplicates(LogoutNotice, ["sid", "client_id"], sid=session.sid,
                                           client_id=client_id, user_id=session.user_id,
                                           attempts=0)

    def deliver(self, session: SsoSession) -> list[Delivery]:
        return self.deliver_pending(sid=session.sid)

    def deliver_pending(self, sid: str | None = None, limit: int = 200) -> list[Delivery]:
        """POST a logout token for each notice still owed (of one session, or all) that no
        other sender holds, mark the answered ones delivered, and commit. Each notice is
        claimed first (committed before anything is sent), so a delivery running at the same
        time elsewhere (another node's scheduler, `idp logout deliver` beside a delivery still
        waiting for a slow business system) skips it. A business system that fails is retried
        at a later run; a sender that died leaves its notices to others once its lease ends."""
        now, started = self._now(), time.monotonic()
        owed = self._owed(now, sid, limit)
        lease = self._lease(len(owed))
        until = now + timedelta(seconds=lease)
        jobs = []
        for notice in self._claim(owed, now, until):
            client = self.p.clients.get(notice.client_id)
            if client is None or not client.backchannel_logout_uri:  # nobody left to tell
                self._settle(notice.id, Delivery(notice.client_id, True, None, attempted=False),
                             until)
                continue
            token = self.p.tokens.logout_token(
                client=client, sid=notice.sid,
                sub=self.p.tokens.subject_for(client, notice.user_id))
            jobs.append(_Job(notice.id, notice.user_id, notice.attempts, notice.client_id,
                             client.backchannel_logout_uri, token))
        # A POST starts only while it can end, at its longest, inside the claim.
        results = self._send(jobs, start_by=started + lease - self._leeway() - self._per_post())
        for job, result in zip(jobs, results, strict=True):
            self._settle(job.notice_id, result, until)
            if not result.ok:
                self._report(job, result)
        db.session.commit()
        return results

    # --- claiming ---
    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def _per_post(self) -> float:
        """The longest one POST can take: `requests` applies the timeout to connecting and
        again to each wait for the answer."""
        return 2 * self.p.settings.backchannel_timeout

    def _leeway(self) -> float:
        """A node whose clock runs ahead sees a claim run out early (design.md "Clock")."""
        return float(self.p.settings.clock_leeway)

    def _lease(self, count: int) -> float:
        """Seconds a claim on `count` notices lasts: the preparation, every round of SENDERS
        POSTs at its longest, and the clock leeway. Longer than any POST, so one still in
        flight is never sent again by another sender."""
        rounds = math.ceil(max(count, 1) / SENDERS)
        return PREPARE + rounds * self._per_post() + self._leeway()

    def _owed(self, now: datetime, sid: str | None, limit: int) -> list[int]:
        query = select(LogoutNotice.id).where(_claimable(now))
        if sid is not None:
            query = query.where(LogoutNotice.sid == sid)
        return list(db.session.execute(query.order_by(LogoutNotice.id).limit(limit)).scalars())

    def _claim(self, ids: list[int], now: datetime, until: datetime) -> list[LogoutNotice]:
        """Claim the notices `ids`, one atomic UPDATE each, in id order (two claimers never
        wait on each other crosswise): a notice is this sender's only if its UPDATE changed the
        row. Committed before anything is sent, so every other sender sees the claims."""
        won = []
        for notice_id in ids:
            result: Any = db.session.execute(
                update(LogoutNotice).where(LogoutNotice.id == notice_id, _claimable(now))
                .values(claimed_until=until).execution_options(synchronize_session=False))
            if result.rowcount == 1:
                won.append(notice_id)
        db.session.commit()
        if not won:
            return []
        return list(db.session.execute(select(LogoutNotice).where(LogoutNotice.id.in_(won))
                                       .order_by(LogoutNotice.id)).scalars())

    def _settle(self, notice_id: int, result: Delivery, claimed_until: datetime) -> None:
        """Record what became of a claimed notice and give up the claim: delivered, or owed
        again at once (the next run retries it). A claim that is no longer this sender's (it
        outlived its lease and another sender took the notice) is left alone."""
        values: dict[str, Any] = {}
        if result.attempted:
            values.update(attempts=LogoutNotice.attempts + 1, last_status=result.status)
        if result.ok:
            values.update(delivered_at=self._now(), claimed_until=None)
        else:
            values["claimed_until"] = case((LogoutNotice.claimed_until == claimed_until, None),
                                           else_=LogoutNotice.claimed_until)
        db.session.execute(update(LogoutNotice).where(LogoutNotice.id == notice_id)
                           .values(**values).execution_options(synchronize_session=False))

    def _report(self, job: _Job, result: Delivery) -> None:
        if not result.attempted:
            log.warning("back-channel logout to %s not sent: its claim ran out first",
                        job.client_id)
            return
        log.warning("back-channel logout to %s failed (status %s)", job.client_id,
                    result.status)
        record_event(Tag.BACKCHANNEL_LOGOUT_FAILED, actor=Actor.system(),
                     user_id=job.user_id, client_id=job.client_id,
                     data={"status": result.status, "attempt": job.attempts + 1})

    # --- sending ---
    def _send(self, jobs: list[_Job], start_by: float) -> list[Delivery]:
        if not jobs:
            return []
        timeout = self.p.settings.backchannel_timeout

        def send(job: _Job) -> Delivery:
            if time.monotonic() > start_by:
                return Delivery(job.client_id, False, None, attempted=False)
            try:
                response = requests.post(job.uri, data={"logout_token": job.token},
                                         timeout=timeout,
                                         headers={"Cache-Control": "no-store"})
                return Delivery(job.client_id, response.status_code == 200,
                                response.status_code)
            except requests.RequestException:
                return Delivery(job.client_id, False, None)

        with ThreadPoolExecutor(max_workers=min(SENDERS, len(jobs))) as pool:
            return list(pool.map(send, jobs))

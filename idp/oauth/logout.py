"""When an SSO session ends: revoke its grants and owe each business system it reached an
OpenID Connect Back-Channel Logout, durably (an outbox), then deliver what is owed."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from sqlalchemy import select

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


@dataclass(frozen=True)
class Delivery:
    client_id: str
    ok: bool
    status: int | None


class SessionEndHandler:
    """Registered on SessionService: `queue` runs inside the transaction that ends the session
    (it only flushes), `deliver` after that transaction committed."""

    def __init__(self, provider: Provider) -> None:
        self.p = provider

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
        """POST a logout token for each notice still owed (of one session, or all), mark the
        answered ones delivered, and commit. A business system that fails is retried later."""
        query = select(LogoutNotice).where(LogoutNotice.delivered_at.is_(None),
                                           LogoutNotice.attempts < MAX_ATTEMPTS)
        if sid is not None:
            query = query.where(LogoutNotice.sid == sid)
        notices = list(db.session.execute(query.order_by(LogoutNotice.id).limit(limit))
                       .scalars())
        jobs = []
        for notice in notices:
            client = self.p.clients.get(notice.client_id)
            if client is None or not client.backchannel_logout_uri:
                notice.delivered_at = datetime.now(UTC)  # nobody left to tell
                continue
            token = self.p.tokens.logout_token(
                client=client, sid=notice.sid,
                sub=self.p.tokens.subject_for(client, notice.user_id))
            jobs.append((notice, client.backchannel_logout_uri, token))
        results = self._send([(n.client_id, uri, token) for n, uri, token in jobs])
        for (notice, _uri, _token), result in zip(jobs, results, strict=True):
            notice.attempts += 1
            notice.last_status = result.status
            if result.ok:
                notice.delivered_at = datetime.now(UTC)
            else:
                log.warning("back-channel logout to %s failed (status %s)", result.client_id,
                            result.status)
                record_event(Tag.BACKCHANNEL_LOGOUT_FAILED, actor=Actor.system(),
                             user_id=notice.user_id, client_id=result.client_id,
                             data={"status": result.status, "attempt": notice.attempts})
        db.session.commit()
        return results

    def _send(self, jobs: list[tuple[str, str, str]]) -> list[Delivery]:
        if not jobs:
            return []
        timeout = self.p.settings.backchannel_timeout

        def send(job: tuple[str, str, str]) -> Delivery:
            client_id, uri, token = job
            try:
                response = requests.post(uri, data={"logout_token": token}, timeout=timeout,
                                         headers={"Cache-Control": "no-store"})
                return Delivery(client_id, response.status_code == 200, response.status_code)
            except requests.RequestException:
                return Delivery(client_id, False, None)

        with ThreadPoolExecutor(max_workers=min(8, len(jobs))) as pool:
            return list(pool.map(send, jobs))

"""When an SSO session ends: revoke its grants and send OpenID Connect Back-Channel Logout."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from idp.accounts.sessions import SsoSession
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db
from idp.oauth.server import Provider

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    client_id: str
    ok: bool
    status: int | None


class SessionEndHandler:
    """Registered on SessionService.on_end: revokes the session's grants, then notifies
    every business system the session reached that registered a back-channel logout URI."""

    def __init__(self, provider: Provider) -> None:
        self.p = provider

    def __call__(self, session: SsoSession) -> list[Delivery]:
        self.p.grants.revoke_for_session(session.sid)
        return self.notify(session)

    def notify(self, session: SsoSession) -> list[Delivery]:
        jobs = []
        for client_id in session.clients:
            client = self.p.clients.get(client_id)
            if client is None or not client.backchannel_logout_uri:
                continue
            token = self.p.tokens.logout_token(
                client=client, sid=session.sid,
                sub=self.p.tokens.subject_for(client, session.user_id))
            jobs.append((client_id, client.backchannel_logout_uri, token))
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
            results = list(pool.map(send, jobs))
        for result in results:
            if not result.ok:
                log.warning("back-channel logout to %s failed (status %s)", result.client_id,
                            result.status)
                record_event(Tag.BACKCHANNEL_LOGOUT_FAILED, actor="system",
                             user_id=session.user_id, client_id=result.client_id,
                             data={"status": result.status})
        db.session.commit()
        return results

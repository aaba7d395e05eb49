"""The OpenID Shared Signals transmitter (SSF 1.0, issue 12): account changes become RISC and
CAEP Security Event Tokens queued in the change's transaction, pushed (RFC 8935) or polled
(RFC 8936) by each business system that knows the person, under the `sub` it knows.

- events.py: event types, who hears of a change, the queue (an account-signals listener);
- delivery.py: the push worker (`idp events deliver`), poll, per-system counts;
- views.py: /.well-known/ssf-configuration, /ssf/stream, /ssf/poll;
- cli.py: `idp events deliver|status|retry|configure`.
"""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.wrappers import Response

from idp.accounts.signals import EXTENSION, AccountSignals
from idp.extensions import db
from idp.oauth.server import Provider
from idp.oauth.ssf.delivery import PER_CLIENT, Poller, Pusher
from idp.oauth.ssf.events import QUEUED, EventQueue

log = logging.getLogger(__name__)


class SecurityEvents:
    """The transmitter of one application (app.extensions["idp.security_events"])."""

    def __init__(self, provider: Provider) -> None:
        self.queue = EventQueue(provider)
        self.pusher = Pusher(provider)
        self.poller = Poller(provider)

    def deliver_after_commit(self, response: Response) -> Response:
        """After a request whose committed unit of work queued SETs for push systems, try
        those systems at once (as back-channel logouts are sent after a logout). Only a
        system whose queue is free and due is tried, so one that is down costs the request
        at most one attempt per retry interval; whatever is not delivered here is left to
        `idp events deliver`. Runs after `commit_unit_of_work` (registered before it), and
        does nothing while the request's transaction is still open."""
        queued = db.session.info.pop(QUEUED, None)
        if not queued or db.session().in_transaction():
            return response
        try:
            self.pusher.deliver(client_ids=sorted(queued), limit=len(queued) * PER_CLIENT)
        except Exception:  # noqa: BLE001 - the change is committed; the worker retries
            db.session.rollback()
            log.exception("security events could not be pushed after the request; "
                          "`idp events deliver` will send them")
        return response


def init_ssf(app: Flask, provider: Provider) -> SecurityEvents:
    """Listen to account signals, push after each request that queued events, serve the
    transmitter's endpoints."""
    from idp.oauth.ssf.views import bp

    events = SecurityEvents(provider)
    signals: AccountSignals = app.extensions[EXTENSION]
    signals.listen(events.queue)
    app.extensions["idp.security_events"] = events
    app.after_request(events.deliver_after_commit)
    app.register_blueprint(bp)
    return events

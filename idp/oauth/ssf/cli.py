"""`idp events`: deliver queued security events, show what each business system has received,
retry what was given up on, and choose how a business system receives them."""

from __future__ import annotations

import json
import sys
from typing import NoReturn, cast

import click
from flask import current_app
from flask.cli import with_appcontext

from idp.audit.actors import cli_operator
from idp.extensions import db
from idp.oauth.server import provider
from idp.oauth.services import ClientRegistrationError
from idp.oauth.ssf import SecurityEvents
from idp.oauth.ssf.delivery import event_counts, retry_failed


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@click.group("events", help="Security events (OpenID Shared Signals) for business systems.")
def events_group() -> None:
    pass


@events_group.command("deliver")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="At most this many events in this run.")
@click.option("--client-id", "client_ids", multiple=True, metavar="CLIENT_ID",
              help="Only these business systems (repeatable).")
@click.option("--now", "ignore_backoff", is_flag=True,
              help="Do not wait for retry times: try every system with pending events now "
                   "(after a system reports it is back).")
@with_appcontext
def events_deliver(limit: int, client_ids: tuple[str, ...], ignore_backoff: bool) -> None:
    """Push pending events, oldest first per business system (safe to schedule every minute
    and to run on several nodes at once: each event is claimed before it is sent)."""
    events = cast(SecurityEvents, current_app.extensions["idp.security_events"])
    report = events.pusher.deliver(limit=limit, client_ids=list(client_ids) or None,
                                   ignore_backoff=ignore_backoff)
    click.echo(f"delivered {report.delivered}, refused {report.refused}, failed "
               f"{report.failed} (retried later), not attempted {report.not_attempted}")


@events_group.command("status")
@click.option("--client-id", help="Only this business system.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def events_status(client_id: str | None, as_json: bool) -> None:
    """Per business system: delivery method, events delivered, given up, pending, and the
    last error of one not delivered."""
    if client_id is not None and provider().clients.get(client_id) is None:
        _fail(f"no client {client_id}")
    rows = event_counts(client_id)
    if as_json:
        click.echo(json.dumps([row.__dict__ for row in rows], ensure_ascii=False))
        return
    if not rows:
        click.echo("no business system receives security events")
    for row in rows:
        click.echo(f"{row.client_id}: {row.delivery or 'off'}, delivered {row.delivered}, "
                   f"failed {row.failed}, pending {row.pending}"
                   + (f", last error: {row.last_error}" if row.last_error else ""))


@events_group.command("retry")
@click.option("--client-id", required=True)
@with_appcontext
def events_retry(client_id: str) -> None:
    """Send a business system's given-up events again (after it fixed what refused them)."""
    if provider().clients.get(client_id) is None:
        _fail(f"no client {client_id}")
    count = retry_failed(client_id, cli_operator())
    db.session.commit()
    click.echo(f"{count} event(s) of {client_id} will be sent again")


@events_group.command("configure")
@click.option("--client-id", required=True)
@click.option("--events-uri", help="Push events to this https URL (RFC 8935).")
@click.option("--events-poll", is_flag=True, help="The system polls /ssf/poll (RFC 8936).")
@click.option("--off", is_flag=True, help="Send this system no more events.")
@with_appcontext
def events_configure(client_id: str, events_uri: str | None, events_poll: bool,
                     off: bool) -> None:
    """Choose how a registered business system receives security events."""
    if sum((events_uri is not None, events_poll, off)) != 1:
        _fail("give exactly one of --events-uri, --events-poll and --off")
    delivery = None if off else ("poll" if events_poll else "push")
    try:
        provider().clients.set_events(client_id, events_uri=events_uri, delivery=delivery,
                                      actor=cli_operator())
    except ClientRegistrationError as exc:
        _fail(str(exc))
    click.echo(f"{client_id}: security events " + (
        "off" if delivery is None else f"by {delivery}" + (f" to {events_uri}"
                                                          if events_uri else "")))

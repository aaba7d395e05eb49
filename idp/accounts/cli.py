"""`idp accounts`: jobs on citizen accounts (the purge of deleted accounts)."""

from __future__ import annotations

from typing import cast

import click
from flask import current_app
from flask.cli import with_appcontext

from idp.accounts.lifecycle import AccountLifecycle


@click.group("accounts", help="Jobs on citizen accounts.")
def accounts_group() -> None:
    pass


@accounts_group.command("purge-deleted")
@with_appcontext
def accounts_purge_deleted() -> None:
    """Erase every account whose deletion's cooling-off period (IDP_DELETION_COOLING_OFF_DAYS)
    is over: business systems are told, the person gets an SMS notice, then the personal data
    is removed. Each account in its own transaction; safe to schedule, to run twice and to run
    on several nodes at once (docs/account-lifecycle.md)."""
    lifecycle = cast(AccountLifecycle, current_app.extensions["idp.lifecycle"])
    report = lifecycle.purge_due(
        progress=lambda done, due: click.echo(f"purge-deleted: {done} of {due} erased so far"))
    skipped = f" ({report.skipped} skipped: cancelled, or erased by another run)" \
        if report.skipped else ""
    click.echo(f"erased {len(report.erased)} deleted account(s){skipped}")

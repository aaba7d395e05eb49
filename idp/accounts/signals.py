"""Account changes every business system that knows the person must hear of (OpenID Shared
Signals, issue 12): announced here by the code that makes the change, inside its transaction.

The accounts layer cannot import the OAuth layer that knows the business systems, so it only
announces; `idp.oauth.ssf` listens (wired in `create_app`) and queues one Security Event Token
per business system in the same database transaction, so an event exists if and only if the
change committed. Announcing with no listener (tools, tests of a lower layer) does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context

# The kinds, and the RISC / CAEP event types they become (idp.oauth.ssf maps them).
ACCOUNT_DISABLED = "account-disabled"
ACCOUNT_ENABLED = "account-enabled"
ACCOUNT_PURGED = "account-purged"
CREDENTIAL_CHANGE = "credential-change"  # password, authenticator app (details: credential_type,
#                                           change_type as CAEP names them)
IDENTIFIER_CHANGED = "identifier-changed"  # the mobile number (details: nothing personal)
SESSIONS_REVOKED = "sessions-revoked"
ASSURANCE_LEVEL_CHANGE = "assurance-level-change"  # details: previous_level, current_level
KINDS = (ACCOUNT_DISABLED, ACCOUNT_ENABLED, ACCOUNT_PURGED, CREDENTIAL_CHANGE,
         IDENTIFIER_CHANGED, SESSIONS_REVOKED, ASSURANCE_LEVEL_CHANGE)

EXTENSION = "idp.account_signals"


@dataclass(frozen=True)
class AccountSignal:
    user_id: str
    kind: str
    details: dict[str, Any] = field(default_factory=dict)


class AccountSignals:
    """The listeners of one application (app.extensions[EXTENSION])."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[AccountSignal], None]] = []

    def listen(self, listener: Callable[[AccountSignal], None]) -> None:
        self.listeners.append(listener)


def announce(user_id: str, kind: str, **details: Any) -> None:
    """Tell the listeners of the current application; they write in the caller's transaction
    (the caller commits, as for record_event). Never put personal data in `details`."""
    if kind not in KINDS:
        raise ValueError(f"unknown account signal {kind!r}")
    signals = current_app.extensions.get(EXTENSION) if has_app_context() else None
    if signals is None:
        return
    signal = AccountSignal(user_id, kind, dict(details))
    for listener in signals.listeners:
        listener(signal)

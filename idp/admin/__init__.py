"""The operators' console (运维控制台, `/admin`): business systems and their OIDC clients, the
access rates against the provincial targets, catalogue imports, and a JSON API for scripts.
Operators are counter staff with the `operator` role; `init_admin(app)` wires it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from flask import Flask, current_app

if TYPE_CHECKING:
    from idp.counter.sessions import StaffSessions


@dataclass(frozen=True)
class Admin:
    # Console sessions: the counter's StaffSessions machinery under a key of its own, so a
    # workbench cookie never opens the console (nor the reverse).
    sessions: StaffSessions


def admin(app: Flask | None = None) -> Admin:
    return cast(Admin, (app or current_app).extensions["idp.admin"])


def init_admin(app: Flask) -> None:
    """Build the console's sessions from what create_app wired, and register its pages and
    its JSON API. Call after init_counter (operators sign in as staff)."""
    from idp.admin.views import api_bp, bp
    from idp.counter.sessions import StaffSessions
    from idp.security.crypto import KeyedHash

    settings = app.extensions["idp.settings"]
    secret = settings.lookup_pepper or settings.secret_key
    sessions = StaffSessions(app.extensions["idp.store"], KeyedHash(secret, "admin-session"),
                             app.extensions["idp.clock"], idle_ttl=settings.staff_idle_ttl,
                             max_ttl=settings.staff_max_ttl)
    app.extensions["idp.admin"] = Admin(sessions)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)

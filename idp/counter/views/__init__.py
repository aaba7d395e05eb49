"""Counter pages: the staff workbench under /counter, and the citizens' /activate page."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter")
activation_bp = Blueprint("activation", __name__)

from idp.counter.views import auth, citizen, desk, supervise  # noqa: E402,F401

__all__ = ["bp", "activation_bp"]

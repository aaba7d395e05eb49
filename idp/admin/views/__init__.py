"""Console pages under /admin (signed-in operators) and the JSON API under /admin/api
(client_credentials bearer tokens with the `admin` scope)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
api_bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")

from idp.admin.views import access, api, auth, clients, imports, systems  # noqa: E402,F401

__all__ = ["bp", "api_bp"]

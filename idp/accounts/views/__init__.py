"""Pages a person uses: login, registration, recovery, the account page; the SSO cookie."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from idp.accounts.views import (  # noqa: E402,F401
    account,
    agreements,
    brand,
    captcha,
    data_copy,
    deletion,
    login,
    recovery,
    register,
)
from idp.accounts.views.common import (  # noqa: E402
    LOCALE_COOKIE,
    SESSION_COOKIE,
    clear_session_cookie,
    current_sso,
    display_name,
    form_expired_page,
    safe_next,
)

bp.add_app_template_filter(display_name, "display_name")

__all__ = ["bp", "LOCALE_COOKIE", "SESSION_COOKIE", "clear_session_cookie", "current_sso",
           "form_expired_page", "safe_next"]

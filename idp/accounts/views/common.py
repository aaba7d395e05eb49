"""Helpers shared by the account pages: services, the SSO cookie, safe redirects, messages."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

from flask import current_app, make_response, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.accounts.agreements import AgreementService
from idp.accounts.captcha import Captchas
from idp.accounts.codes import SendOutcome, SmsCodes
from idp.accounts.lifecycle import AccountLifecycle
from idp.accounts.lockout import Gate
from idp.accounts.mfa import MfaService
from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.accounts.sessions import SessionService, SsoSession
from idp.accounts.signin import SignIn
from idp.extensions import get_settings

SESSION_COOKIE = "idp_sso"
LOCALE_COOKIE = "idp_lang"
PENDING = "pending_login"  # Flask session key: password done, second factor not yet
PENDING_TTL = 600


def sessions() -> SessionService:
    return cast(SessionService, current_app.extensions["idp.sessions"])


def accounts() -> AccountService:
    return cast(AccountService, current_app.extensions["idp.accounts"])


def agreements() -> AgreementService:
    return cast(AgreementService, current_app.extensions["idp.agreements"])


def mfa() -> MfaService:
    return cast(MfaService, current_app.extensions["idp.mfa"])


def lifecycle() -> AccountLifecycle:
    return cast(AccountLifecycle, current_app.extensions["idp.lifecycle"])


def sms_codes() -> SmsCodes:
    return cast(SmsCodes, current_app.extensions["idp.sms_codes"])


def captchas() -> Captchas:
    return cast(Captchas, current_app.extensions["idp.captchas"])


CAPTCHA_WRONG = _l("The picture code is wrong or has expired. Please enter it again.")


def captcha_passed() -> bool:
    """The picture code posted with a step that sends an SMS (ADR 0013): checked, and used up
    whether right or wrong. The answer is never logged."""
    return captchas().check(request.form.get("captcha_id"), request.form.get("captcha_answer"))


def new_captcha() -> str | None:
    """A fresh challenge for the page being shown, or None when this address asked too often."""
    return captchas().issue(request.remote_addr)


def resend_wait(outcome: SendOutcome | None) -> int:
    """Seconds the page counts down on its "send again" button after a send (0: none)."""
    if outcome is None:
        return 0
    if outcome.ok:
        return get_settings().sms_interval
    return (outcome.retry_after or 0) if outcome.reason == "too_soon" else 0


def current_sso(touch: bool = True) -> SsoSession | None:
    return sessions().from_cookie(request.cookies.get(SESSION_COOKIE), touch=touch)


def current_user() -> tuple[SsoSession, User] | None:
    sso = current_sso()
    user = accounts().session_user(sso)
    return (sso, user) if sso and user else None


def set_session_cookie(response: Response, value: str) -> None:
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="Lax", path="/",
                        secure=get_settings().secure_cookies)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=get_settings().secure_cookies)


ENCODED_CONTROL = re.compile(r"%(?:[01][0-9a-f]|7f|20)")


def is_local_path(value: str | None) -> bool:
    """A same-origin relative reference ("/path?query"), parsed: never a scheme, a host, a
    backslash, a control or space character, a dot segment or an encoded slash in the path,
    any of which a browser may turn into another site."""
    if not value or len(value) > 4096 or not value.startswith("/"):
        return False
    if any(ord(c) < 0x21 or ord(c) == 0x7F or c == "\\" for c in value):
        return False
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or \
            parts.path.startswith("//"):
        return False
    path = parts.path.lower()
    if "%2f" in path or "%5c" in path or ENCODED_CONTROL.search(path):
        return False
    return not any(segment in {".", "..", "%2e", "%2e%2e", ".%2e", "%2e."}
                   for segment in path.split("/"))


def safe_next(value: str | None) -> str:
    """Where to go after a page: a same-origin path (is_local_path), else the home page."""
    return value if value is not None and is_local_path(value) else url_for("accounts.home")


def unknown_step(*known: str) -> bool:
    """A POST to a multi-step page naming no step it has (a hand-made or stale form)."""
    return request.method == "POST" and request.form.get("step") not in known


NOT_VALID = _l("The request is not valid.")


def page(template: str, status: int = 200, **context: Any) -> Response:
    return make_response(render_template(template, **context), status)


def form_expired_page(retry: str) -> Response:
    return page("form_expired.html", 400, retry=retry)


def when(value: int | datetime) -> str:
    """A moment in the person's language (Babel), from unix seconds or a datetime."""
    moment = datetime.fromtimestamp(value, UTC) if isinstance(value, int) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment, "short")


def gate_message(gate: Gate) -> str:
    """What a refused login is told: when to try again, and how to recover."""
    if gate.reason == "locked":
        return _("Too many failed attempts. You can try again after %(time)s, or reset your "
                 "password with “Forgot password”.", time=when(gate.retry_at or 0))
    if gate.reason == "wait":
        seconds = max(1, (gate.retry_at or 0) - int(time.time()))
        return _("Please wait %(seconds)s seconds before trying again.", seconds=seconds)
    return _("Too many failed attempts from your network. Please try again later.")


def send_message(outcome: SendOutcome) -> str:
    if outcome.ok:
        return _("A verification code was sent. It is valid for 5 minutes.")
    if outcome.reason == "too_soon":
        return _("A code was sent less than a minute ago. Please wait before asking again.")
    if outcome.reason == "daily_limit":
        return _("This number has received too many codes today. Please try again tomorrow.")
    if outcome.reason == "ip_limit":
        return _("Too many codes were requested from your network. Please try again later.")
    return _("The code could not be sent. Please try again in a moment.")


POLICY_MESSAGES = {
    "too_short": _l("At least 8 characters."),
    "too_long": _l("At most 128 characters."),
    "too_few_classes": _l("Use at least three of: lower-case letters, upper-case letters, "
                          "digits, symbols."),
    "contains_phone": _l("Must not contain your mobile number."),
    "contains_username": _l("Must not contain your username."),
    "common": _l("This password is too common."),
}


def policy_messages(problems: list[str]) -> list[str]:
    return [str(POLICY_MESSAGES[p]) for p in problems]


PENDING_TERMS = "pending_terms"  # Flask session key: factors done, agreements not yet accepted
PENDING_DELETION = "pending_deletion"  # Flask session key: factors done, deletion pending


def start_session(user_id: str, factors: list[str], next_url: str) -> Response:
    """Sign the person in with `factors` through the sign-in service (accounts.signin) and go
    on to next_url; the cookie is set when a new session began. Someone whose account is to be
    deleted is asked whether to cancel the deletion (accounts.views.deletion), and someone who
    has not accepted the agreements in force (first login, or a new version) whether they
    accept them (accounts.views.agreements), both before any session exists."""
    user = accounts().get(user_id)
    if user is None or accounts().closed(user):  # disabled or gone since the factors' check
        session.pop(PENDING, None)
        return redirect(url_for("accounts.login"), 303)
    if lifecycle().pending_deletion(user):
        session[PENDING_DELETION] = {"uid": user_id, "factors": factors, "next": next_url,
                                     "at": int(time.time())}
        session.pop(PENDING, None)
        return redirect(url_for("accounts.deletion_pending"), 303)
    if agreements().missing(user_id):
        session[PENDING_TERMS] = {"uid": user_id, "factors": factors, "next": next_url,
                                  "at": int(time.time())}
        session.pop(PENDING, None)
        return redirect(url_for("accounts.accept_agreements"), 303)
    return sign_in(user_id, factors, next_url)


def sign_in(user_id: str, factors: list[str], next_url: str) -> Response:
    """start_session's second half: the agreements are accepted."""
    signin = cast(SignIn, current_app.extensions["idp.signin"])
    done = signin.complete(user_id, factors, current=current_sso(touch=False),
                           ip=request.remote_addr, user_agent=request.user_agent.string)
    response = redirect(next_url, 303)
    if done.cookie is not None:
        set_session_cookie(response, done.cookie)
    session.pop(PENDING, None)
    return response


def masked_phone(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone else ""




def display_name(user: User) -> str:
    """How pages name a person: their name, else a username they chose, else their masked
    mobile number; never a username the platform made up."""
    if user.name:
        return user.name
    if user.username_chosen:
        return user.username
    return masked_phone(user.phone) or _("your account")

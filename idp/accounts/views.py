"""Login page, language switch and the home page; the SSO cookie is set and read here."""

from __future__ import annotations

from typing import cast

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from idp.accounts.forms import LoginForm
from idp.accounts.services import AccountService
from idp.accounts.sessions import SessionService, SsoSession
from idp.extensions import get_settings

bp = Blueprint("accounts", __name__)
SESSION_COOKIE = "idp_sso"
LOCALE_COOKIE = "idp_lang"


def _sessions() -> SessionService:
    return cast(SessionService, current_app.extensions["idp.sessions"])


def _accounts() -> AccountService:
    return cast(AccountService, current_app.extensions["idp.accounts"])


def current_sso(touch: bool = True) -> SsoSession | None:
    return _sessions().from_cookie(request.cookies.get(SESSION_COOKIE), touch=touch)


def set_session_cookie(response: Response, value: str) -> None:
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="Lax", path="/",
                        secure=get_settings().secure_cookies)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=get_settings().secure_cookies)


def safe_next(value: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return url_for("accounts.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if request.args.get("login_hint"):
            form.identifier.data = request.args["login_hint"][:64]
    error = None
    if form.validate_on_submit():
        accounts = _accounts()
        user = accounts.authenticate(form.identifier.data or "", form.password.data or "")
        if user is not None:
            return _logged_in(user.id, safe_next(form.next.data))
        accounts.record_login_failure(form.identifier.data or "", request.remote_addr)
        # The same words whether or not the account exists.
        error = _("The username, mobile number or password is incorrect.")
    status = 400 if request.method == "POST" else 200
    return make_response(render_template("login.html", form=form, error=error), status)


def _logged_in(user_id: str, next_url: str) -> Response:
    sessions = _sessions()
    existing = current_sso(touch=False)
    response = redirect(next_url, 303)
    if existing is not None and existing.user_id == user_id:
        sessions.reauthenticated(existing, ["pwd"])
    else:
        if existing is not None:
            sessions.end(existing.sid, actor="user:" + existing.user_id, ip=request.remote_addr)
        created, cookie = sessions.create(user_id, ["pwd"], ip=request.remote_addr,
                                          user_agent=request.user_agent.string)
        set_session_cookie(response, cookie)
        existing = created
    _accounts().record_login_success(user_id, existing.sid, ["pwd"], request.remote_addr)
    return response


@bp.app_errorhandler(CSRFError)
def form_expired(error: CSRFError) -> Response:
    """A missing or stale CSRF token: a page in the person's language, and nothing changed."""
    if request.endpoint == "accounts.login":
        retry = url_for("accounts.login", next=request.form.get("next") or None)
    else:
        retry = url_for("accounts.home")
    return form_expired_page(retry)


def form_expired_page(retry: str) -> Response:
    return make_response(render_template("form_expired.html", retry=retry), 400)


@bp.get("/lang/<code>")
def switch_language(code: str) -> Response:
    response = redirect(safe_next(request.args.get("next")), 303)
    if code in {"zh", "en"}:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 86400, httponly=True,
                            samesite="Lax", secure=get_settings().secure_cookies)
    return response


@bp.get("/")
def home() -> Response:
    sso = current_sso(touch=False)
    user = _accounts().get(sso.user_id) if sso else None
    return make_response(render_template("home.html", user=user))

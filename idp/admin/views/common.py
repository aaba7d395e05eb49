"""What every console page shares: the signed-in operator (loaded and checked on each request:
console session, staff account, role, hall network), the audit actor, never-cached pages."""

from __future__ import annotations

from typing import Any, cast

from flask import (
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.access.ports import LoginEvidence
from idp.access.services import AccessService
from idp.admin import admin
from idp.admin.charts import percent
from idp.admin.forms import STATUS_NAMES
from idp.admin.views import bp
from idp.audit.actors import Actor
from idp.counter import counter
from idp.counter.gate import admit
from idp.counter.models import OPERATOR, ServiceHall, StaffAccount
from idp.counter.sessions import StaffSession
from idp.extensions import get_settings

COOKIE = "idp_admin"
COOKIE_PATH = "/admin"
PUBLIC = {"admin.login"}
NOTE = "admin_note"  # Flask session key: a message for the next page


def access() -> AccessService:
    return cast(AccessService, current_app.extensions["idp.access"])


def refreshed() -> AccessService:
    """The access service with the login evidence brought up to date (the cheap rollup of
    the last days, committed with the request) unless that was done in the last
    IDP_ACCESS_REFRESH_SECONDS: a login shows on the console within that time, and busy pages
    do not each re-read two days of token records."""
    service = access()
    service.refresh(cast(LoginEvidence, current_app.extensions["idp.login_evidence"]),
                    max_age=get_settings().access_refresh_seconds)
    return service


def operator() -> StaffAccount:
    return g.operator


def console_session() -> StaffSession:
    return g.console_session


def actor() -> Actor:
    """Who acts, as every change of the console is audited: `staff:<id>@<hall>`."""
    member = operator()
    return Actor.staff(member.id, member.hall_code)


def page(template: str, status: int = 200, **context: Any) -> Response:
    return make_response(render_template(template, **context), status)


def refused(message: str, status: int = 403) -> Response:
    return page("admin_refused.html", status, message=message)


def not_found(message: str) -> Response:
    return page("admin_refused.html", 404, message=message, heading=_("Not found"))


def back(endpoint: str, note: str | None = None, *, error: str | None = None,
         **values: Any) -> Response:
    """See other: a page, with a message for it (a notice, or an error when refused)."""
    if note or error:
        session[NOTE] = {"text": error or note, "error": bool(error)}
    return redirect(url_for(endpoint, **values), 303)


def set_cookie(response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path=COOKIE_PATH,
                        secure=get_settings().secure_cookies)


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="Strict",
                           secure=get_settings().secure_cookies)


def to_login(expired: bool) -> Response:
    response = redirect(url_for("admin.login", expired=1 if expired else None), 303)
    clear_cookie(response)
    return response


@bp.before_request
def load_operator() -> Response | None:
    """Every console request: a live console session, an enabled and enrolled operator whose
    role and hall are still the session's, not signed out since, and an address inside the
    hall's allow-list (the same checks as the counter workbench's load_staff)."""
    if request.endpoint in PUBLIC:
        return None
    token = request.cookies.get(COOKIE)
    checked = admit(admin().sessions, counter().staff, token, request.remote_addr,
                    request.path, roles={OPERATOR})
    if checked.outcome in {"no_session", "ended"}:
        return to_login(expired=bool(token))
    if checked.outcome == "network":
        response = refused(_("The console accepts connections only from your hall's own "
                             "network."))
        clear_cookie(response)
        return response
    member, live, hall = checked.member, checked.session, checked.hall
    g.operator, g.console_session, g.hall = member, live, hall
    return None


@bp.after_request
def never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.context_processor
def console_context() -> dict[str, Any]:
    member: StaffAccount | None = g.get("operator")
    hall: ServiceHall | None = g.get("hall")
    note = session.pop(NOTE, None) if member is not None else None
    return {"operator": member, "hall": hall,
            "note": note if isinstance(note, dict) else None,
            "idle_minutes": admin().sessions.idle_ttl // 60,
            "status_names": STATUS_NAMES, "pct": lambda rate: percent(rate, 2)}

"""What every workbench page shares: the signed-in staff member (loaded and checked on each
request: session, account, hall network), role checks, pages that are never cached."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.accounts.lockout import Gate
from idp.accounts.views.common import when
from idp.counter import counter
from idp.counter.gate import admit
from idp.counter.models import ServiceHall, StaffAccount
from idp.counter.roles import all_halls, allowed
from idp.counter.sessions import COOKIE, StaffSession
from idp.counter.views import bp
from idp.extensions import get_settings
from realname.documents import DocumentType

View = Callable[..., Response]
PUBLIC = {"counter.login", "counter.enrol"}
NOTE = "counter_note"  # Flask session key: a message for the next page
ROLE_NAMES = {"clerk": _l("Clerk"), "supervisor": _l("Supervisor"),
              "hall_admin": _l("Hall administrator"), "operator": _l("Provincial operator")}
METHOD_NAMES = {"online_two_element": _l("Online: name and ID number confirmed"),
                "online_real_person": _l("Online: face matched"),
                "counter": _l("At a counter, in person"), "override": _l("Operator decision"),
                "case_transfer": _l("Case decision")}
RESULT_NAMES = {"verified": _l("verified"), "conflict": _l("conflict: case opened"),
                "no_match": _l("no match"), "not_found": _l("not found"),
                "face_mismatch": _l("face did not match"), "unavailable": _l("unavailable")}


def staff() -> StaffAccount:
    return g.staff


def staff_session() -> StaffSession:
    return g.staff_session


def page(template: str, status: int = 200, **context: Any) -> Response:
    return make_response(render_template(template, **context), status)


def refused(message: str, status: int = 403) -> Response:
    return page("counter_refused.html", status, message=message)


def back(endpoint: str, note: str | None = None, **values: Any) -> Response:
    if note:
        session[NOTE] = note
    return redirect(url_for(endpoint, **values), 303)


def set_cookie(response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/counter",
                        secure=get_settings().secure_cookies)


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/counter", httponly=True, samesite="Strict",
                           secure=get_settings().secure_cookies)


def to_login(expired: bool) -> Response:
    response = redirect(url_for("counter.login", expired=1 if expired else None), 303)
    clear_cookie(response)
    return response


def requires(permission: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            if not allowed(staff().role, permission):
                return refused(_("Your role does not include this page."))
            return view(*args, **kwargs)

        return wrapper

    return decorate


def sees_hall(code: str | None) -> bool:
    """Operators see every hall; everyone else their own."""
    return all_halls(staff().role) or code == staff().hall_code


@bp.before_request
def load_staff() -> Response | None:
    """Every workbench request: a live session, an enabled and enrolled account whose role and
    hall are still the session's, and an address inside the hall's allow-list."""
    if request.endpoint in PUBLIC:
        return None
    token = request.cookies.get(COOKIE)
    checked = admit(counter().sessions, counter().staff, token, request.remote_addr,
                    request.path)
    if checked.outcome in {"no_session", "ended"}:
        return to_login(expired=bool(token))
    if checked.outcome == "network":
        response = refused(_("This hall's workbench accepts connections only from the hall's "
                             "own network."))
        clear_cookie(response)
        return response
    member, live, hall = checked.member, checked.session, checked.hall
    g.staff, g.staff_session, g.hall = member, live, hall
    return None


@bp.after_request
def never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def workbench_context() -> dict[str, Any]:
    member: StaffAccount | None = g.get("staff")
    hall: ServiceHall | None = g.get("hall")
    return {"staff": member, "hall": hall,
            "can": (lambda permission: member is not None and allowed(member.role, permission)),
            "note": session.pop(NOTE, None) if member is not None else None,
            "role_names": ROLE_NAMES, "method_names": METHOD_NAMES,
            "result_names": RESULT_NAMES, "document_name": document_name,
            "idle_minutes": counter().sessions.idle_ttl // 60}


def document_name(value: str | None) -> str:
    """A document type's name in the clerk's language."""
    try:
        kind = DocumentType(value or "")
    except ValueError:
        return value or "—"
    return kind.name_zh if chinese() else kind.name_en


def gate_message(gate: Gate) -> str:
    if gate.reason == "locked":
        return _("Too many failed attempts. You can try again after %(time)s, or ask your hall "
                 "administrator for help.", time=when(gate.retry_at or 0))
    if gate.reason == "wait":
        seconds = max(1, (gate.retry_at or 0) - counter().staff.clock.seconds())
        return _("Please wait %(seconds)s seconds before trying again.", seconds=seconds)
    return _("Too many failed attempts from your network. Please try again later.")


def chinese() -> bool:
    return str(get_locale() or "").startswith("zh")

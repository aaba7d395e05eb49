"""Staff sign-in (password and authenticator code on one form), sign-out, and enrolment by
the one-time link: a new password and a mandatory authenticator app."""

from __future__ import annotations

from flask import request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.accounts.views.common import policy_messages
from idp.counter import counter
from idp.counter.forms import EnrolForm, StaffLoginForm
from idp.counter.roles import DESK, allowed
from idp.counter.sessions import COOKIE
from idp.counter.views import bp
from idp.counter.views.common import (
    NOTE,
    back,
    clear_cookie,
    gate_message,
    page,
    set_cookie,
    staff,
    staff_session,
)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = StaffLoginForm()
    error = None
    if form.validate_on_submit():
        result = counter().staff.authenticate(form.username.data or "", form.password.data or "",
                                              form.code.data or "", request.remote_addr)
        if result.staff is not None:
            member = result.staff
            earlier = counter().sessions.load(request.cookies.get(COOKIE))
            if earlier is not None:  # a new sign-in never continues an older session
                counter().sessions.end(earlier)
            _live, token = counter().sessions.create(member.id, member.hall_code, member.role,
                                                    request.remote_addr)
            start = "counter.index" if allowed(member.role, DESK) else "counter.staff_list"
            response = back(start)
            set_cookie(response, token)
            return response
        if result.network_refused:
            error = _("This hall's workbench accepts sign-ins only from the hall's own network.")
        elif not result.gate.allowed:
            error = gate_message(result.gate)
        else:
            error = _("The username, password or code is incorrect. If you have not finished "
                      "enrolment, use your enrolment link first.")
    notice = session.pop(NOTE, None)
    if request.args.get("expired"):
        notice = _("Your workbench session ended. Please sign in again.")
    elif request.args.get("out"):
        notice = _("You have signed out of the workbench.")
    status = 400 if request.method == "POST" else 200
    return page("counter_login.html", status, form=form, error=error, notice=notice)


@bp.post("/logout")
def logout() -> Response:
    counter().staff.logged_out(staff(), request.remote_addr)
    counter().sessions.end(staff_session())
    response = back("counter.login", out=1)
    clear_cookie(response)
    return response


ENROLMENT = "counter_enrolment"  # Flask session key: the sealed pending authenticator secret


@bp.route("/enrol/<token>", methods=["GET", "POST"])
def enrol(token: str) -> Response:
    member = counter().staff.enrolling(token)
    if member is None:
        return page("counter_refused.html", 404, message=_(
            "This enrolment link is not valid or has expired. Ask your hall administrator "
            "for a new one."))
    form = EnrolForm()
    error, problems = None, []
    pending = counter().staff.open_pending_totp(member, session.get(ENROLMENT))
    if form.validate_on_submit():
        outcome, detail = counter().staff.enrol(
            member, one_time_password=form.one_time_password.data or "",
            new_password=form.password.data or "", code=form.code.data or "",
            pending=pending, ip=request.remote_addr)
        if outcome == "enrolled":
            session.pop(ENROLMENT, None)
            return back("counter.login", _("Enrolment is complete. Sign in with your new "
                                           "password and a code from the app."))
        if outcome == "weak_password" and isinstance(detail, list):
            problems = policy_messages(detail)
        elif outcome == "refused" and detail is not None and not isinstance(detail, list):
            error = gate_message(detail)
        elif outcome == "credentials":
            error = _("The one-time password is wrong.")
        elif outcome == "expired":
            error = _("The authenticator key on this page expired. Scan the new code below.")
        else:
            error = _("The code is wrong or has expired. Check the app's clock and try again.")
    if pending is None:
        pending = counter().staff.new_pending_totp(member)
        session[ENROLMENT] = pending.sealed
    status = 400 if request.method == "POST" else 200
    return page("counter_enrol.html", status, form=form, member=member, pending=pending,
                error=error, problems=problems,
                action=url_for("counter.enrol", token=token))

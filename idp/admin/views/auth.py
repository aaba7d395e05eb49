"""Console sign-in (staff username, password and authenticator code on one form, through the
counter's StaffService and its durable lockout) and the durable sign-out."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.admin import admin
from idp.admin.views import bp
from idp.admin.views.common import (
    COOKIE,
    back,
    clear_cookie,
    console_session,
    operator,
    page,
    set_cookie,
)
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.counter import counter
from idp.counter.forms import StaffLoginForm
from idp.counter.models import OPERATOR
from idp.counter.views.common import gate_message


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = StaffLoginForm()
    error = None
    if form.validate_on_submit():
        result = counter().staff.authenticate(form.username.data or "", form.password.data or "",
                                              form.code.data or "", request.remote_addr)
        member = result.staff
        if member is not None and member.role != OPERATOR:
            record_event(Tag.ADMIN_REFUSED, actor=Actor.staff(member.id, member.hall_code),
                         ip=request.remote_addr, data={"role": member.role})
            return page("admin_refused.html", 403, heading=_("Operators only"), message=_(
                "The operators' console is for provincial operators. Your staff account "
                "signs in to the counter workbench instead."), workbench=True)
        if member is not None:
            earlier = admin().sessions.load(request.cookies.get(COOKIE))
            if earlier is not None:  # a new sign-in never continues an older session
                admin().sessions.end(earlier)
            _live, token = admin().sessions.create(member.id, member.hall_code, member.role,
                                                  request.remote_addr)
            record_event(Tag.ADMIN_SIGNED_IN, actor=Actor.staff(member.id, member.hall_code),
                         ip=request.remote_addr)
            response = back("admin.systems")
            set_cookie(response, token)
            return response
        if result.network_refused:
            error = _("The console accepts sign-ins only from your hall's own network.")
        elif not result.gate.allowed:
            error = gate_message(result.gate)
        else:
            error = _("The username, password or code is incorrect.")
    notice = None
    if request.args.get("expired"):
        notice = _("Your console session ended. Please sign in again.")
    elif request.args.get("out"):
        notice = _("You have signed out of the console.")
    status = 400 if request.method == "POST" else 200
    return page("admin_login.html", status, form=form, error=error, notice=notice)


@bp.post("/logout")
def logout() -> Response:
    """Ends every console and workbench session of the operator, durably (in the database,
    committed before the store forgets this one)."""
    member = operator()
    record_event(Tag.ADMIN_SIGNED_OUT, actor=Actor.staff(member.id, member.hall_code),
                 ip=request.remote_addr)
    counter().staff.logged_out(member, request.remote_addr)
    admin().sessions.end(console_session())
    response = back("admin.login", out=1)
    clear_cookie(response)
    return response

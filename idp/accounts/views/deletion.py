"""Deleting one's account (注销账号, /account/delete), and the question asked at sign-in during
the cooling-off period: cancel the deletion and sign in, or keep it (docs/account-lifecycle.md).
"""

from __future__ import annotations

import time

from flask import redirect, request, session, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField

from idp.accounts.assurance import has_mfa, step_up_methods
from idp.accounts.errors import AccountError
from idp.accounts.models import User
from idp.accounts.sessions import SsoSession
from idp.accounts.views import bp
from idp.accounts.views.account import recent_sign_in, signed_in
from idp.accounts.views.common import (
    NOT_VALID,
    PENDING_DELETION,
    PENDING_TTL,
    accounts,
    clear_session_cookie,
    lifecycle,
    mfa,
    page,
    start_session,
)
from idp.extensions import get_settings


class DeleteForm(FlaskForm):
    understood = BooleanField()


class DecisionForm(FlaskForm):
    pass


def _needs_second_factor(sso: SsoSession, user: User) -> bool:
    """Deleting needs a session with `mfa` when the account has a second factor the person
    can add (an authenticator app, or SMS to a verified number: assurance.step_up_methods)."""
    if has_mfa(sso.amr):
        return False
    return bool(step_up_methods(sso.amr, has_totp=mfa().has_totp(user),
                                has_phone=bool(user.phone and user.phone_verified),
                                sms_with_totp=get_settings().sms_with_totp))


def _retention() -> dict[str, int]:
    settings = get_settings()
    return {"cooling_off_days": settings.deletion_cooling_off_days,
            "audit_days": settings.audit_retention_days,
            "token_record_days": int(settings.token_record_retention_days)}


@bp.route("/account/delete", methods=["GET", "POST"])
@signed_in
def delete_account(sso: SsoSession, user: User) -> Response:
    here = url_for("accounts.delete_account")
    if not recent_sign_in(sso, user):
        return redirect(url_for("accounts.login", next=here, reauth=1,
                                login_hint=user.username if user.username_chosen else None),
                        303)
    if _needs_second_factor(sso, user):
        return redirect(url_for("accounts.second_factor", next=here), 303)
    form, error = DeleteForm(), None
    if request.method == "POST" and form.validate_on_submit() and form.understood.data:
        try:
            due = lifecycle().request_deletion(user, request.remote_addr)
        except AccountError:  # requested meanwhile in another tab
            return redirect(url_for("accounts.account"), 303)
        session.clear()  # every session ended: nothing of this sign-in carries over
        response = page("account_delete_requested.html", due=due, **_retention())
        clear_session_cookie(response)
        return response
    if request.method == "POST":
        error = _("Tick the box to confirm that you understand what deleting your account "
                  "means.")
    return page("account_delete.html", 400 if error else 200, form=form, error=error,
                due=lifecycle().due_if_requested_now(),
                id_number=accounts().masked_id_number(user), **_retention())


@bp.route("/login/deletion", methods=["GET", "POST"])
def deletion_pending() -> Response:
    """The person proved their factors while their account waits to be deleted: no session
    exists until they cancel the deletion; keeping it signs nobody in."""
    pending = session.get(PENDING_DELETION)
    if not pending or int(time.time()) - pending["at"] >= PENDING_TTL:
        session.pop(PENDING_DELETION, None)
        return redirect(url_for("accounts.login"), 303)
    user = accounts().get(pending["uid"])
    if user is None or accounts().closed(user):  # the period ended meanwhile: gone
        session.pop(PENDING_DELETION, None)
        return redirect(url_for("accounts.login"), 303)
    due = accounts().deletion_due(user)
    if due is None:  # cancelled meanwhile (another tab): sign in as asked
        session.pop(PENDING_DELETION, None)
        return start_session(user.id, pending["factors"], pending["next"])
    form, error, status = DecisionForm(), None, 200
    if request.method == "POST" and form.validate_on_submit():
        decision = request.form.get("decision")
        if decision == "cancel":
            session.pop(PENDING_DELETION, None)
            if not lifecycle().cancel_deletion(user, request.remote_addr):
                return redirect(url_for("accounts.login"), 303)
            return start_session(user.id, pending["factors"], pending["next"])
        if decision == "keep":
            session.pop(PENDING_DELETION, None)
            return page("deletion_pending.html", kept=True, due=due)
        error, status = str(NOT_VALID), 400
    elif request.method == "POST":
        status = 400  # a stale form (the CSRF handler answers a missing token itself)
    return page("deletion_pending.html", status, form=form, error=error, due=due, kept=False)


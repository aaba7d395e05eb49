"""The 用户服务协议 and 隐私政策: reading them, and accepting the versions in force to sign in."""

from __future__ import annotations

import time
from typing import cast

from flask import abort, current_app, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField

from idp.accounts.views import bp
from idp.accounts.views.common import (
    NOT_VALID,
    PENDING_TERMS,
    PENDING_TTL,
    accounts,
    agreements,
    page,
    sign_in,
)
from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.branding import Brand


class AcceptForm(FlaskForm):
    agree = BooleanField()


def _brand() -> Brand:
    return cast(Brand, current_app.extensions["idp.brand"])


@bp.get("/agreements/<key>")
def agreement(key: str) -> Response:
    found = _brand().agreement(key)
    if found is None:
        abort(404)
    locale = "en" if str(get_locale()) == "en" else "zh"
    return page("agreement.html", doc=found, title=found.title.get(locale),
                body=found.text(locale))


@bp.route("/agreements/accept", methods=["GET", "POST"])
def accept_agreements() -> Response:
    pending = session.get(PENDING_TERMS)
    if not pending or int(time.time()) - pending["at"] >= PENDING_TTL:
        session.pop(PENDING_TERMS, None)
        return redirect(url_for("accounts.login"), 303)
    user = accounts().get(pending["uid"])
    if user is None or accounts().closed(user):
        session.pop(PENDING_TERMS, None)
        return redirect(url_for("accounts.login"), 303)
    form, error, status = AcceptForm(), None, 200
    if request.method == "POST" and form.validate_on_submit():
        decision = request.form.get("decision")
        if decision == "decline":
            session.pop(PENDING_TERMS, None)
            record_event(Tag.AGREEMENTS_DECLINED, actor=Actor.citizen(user.id), user_id=user.id,
                         ip=request.remote_addr, data=_brand().versions())
            return redirect(url_for("accounts.login", declined=1), 303)
        if decision == "accept" and form.agree.data:
            agreements().accept(user.id, request.remote_addr)
            session.pop(PENDING_TERMS, None)
            return sign_in(user.id, pending["factors"], pending["next"])
        error = _("Please tick the box to accept, or choose “Do not accept”.") \
            if decision == "accept" else str(NOT_VALID)
        status = 400
    elif request.method == "POST":
        status = 400  # a stale form (the CSRF handler answers a missing token itself)
    missing = agreements().missing(user.id)
    if not missing:  # accepted meanwhile (another tab): nothing left to ask
        session.pop(PENDING_TERMS, None)
        return sign_in(user.id, pending["factors"], pending["next"])
    brand = _brand()
    docs = [brand.agreement(key) for key in missing]
    updated = bool(agreements().history(user.id))
    return page("agreements_accept.html", status, form=form, docs=docs, error=error,
                updated=updated)

"""Forgotten password (找回密码): an SMS code to the registered number, then a new password."""

from __future__ import annotations

from flask import request, session
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.accounts.forms import PhoneForm, ResetForm
from idp.accounts.views import bp
from idp.accounts.views.common import (
    CAPTCHA_WRONG,
    NOT_VALID,
    accounts,
    captcha_passed,
    clear_session_cookie,
    masked_phone,
    new_captcha,
    page,
    policy_messages,
    resend_wait,
    send_message,
    sessions,
    sms_codes,
    unknown_step,
)
from idp.audit.actors import Actor

PHONE_KEY = "reset_phone"


@bp.route("/recover", methods=["GET", "POST"])
def recover() -> Response:
    phone_form, form = PhoneForm(prefix="p"), ResetForm(prefix="r")
    phone = session.get(PHONE_KEY)
    message = error = outcome = None
    problems: list[str] = []
    if request.method == "GET":
        if not request.args.get("again"):  # "another picture" keeps the number (ADR 0013)
            session.pop(PHONE_KEY, None)
            phone = None
    elif unknown_step("send", "reset"):
        error = str(NOT_VALID)
    elif request.form.get("step") == "send" and not captcha_passed():
        error = str(CAPTCHA_WRONG)  # no SMS, before the number is looked at (ADR 0013)
    elif request.form.get("step") == "send" and phone_form.validate_on_submit():
        phone = phone_form.phone.data or ""
        session[PHONE_KEY] = phone
        # An unknown number gets a notice through the same limits and gateway call: the answer
        # and its timing never tell whether the number is registered.
        known = accounts().find_by_login(phone) is not None
        outcome = sms_codes().send(phone, "reset", request.remote_addr,
                                   notice=None if known else "no_account")
        error = None if outcome.ok else send_message(outcome)
        message = _("If this number is registered, a code was sent to it.") if not error else None
    elif request.form.get("step") == "reset" and phone and form.validate_on_submit():
        user = accounts().find_by_login(phone)
        password = form.password.data or ""
        problems = policy_messages(accounts().password_problems(password, user, phone))
        if not problems:
            if user is None or not sms_codes().check(phone, "reset", form.code.data or ""):
                error = _("The code is wrong or has expired.")
            else:
                accounts().reset_password(user, password, request.remote_addr)
                sessions().end_all(user.id, actor=Actor.citizen(user.id), ip=request.remote_addr)
                sms_codes().deliver(phone, "password_reset_done", {})
                session.pop(PHONE_KEY, None)
                response = page("recovered.html")
                clear_session_cookie(response)
                return response
    failed = bool(error or problems or phone_form.errors or form.errors)
    return page("recover.html", 400 if failed else 200, phone_form=phone_form, form=form,
                phone=phone, shown_phone=masked_phone(phone), message=message, error=error,
                problems=problems, captcha=new_captcha(), wait=resend_wait(outcome),
                captcha_failed=error == str(CAPTCHA_WRONG))

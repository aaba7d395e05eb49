"""Self-service registration (自助注册) with a mobile number proven by an SMS code."""

from __future__ import annotations

from flask import request, session
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.accounts.errors import AccountError
from idp.accounts.forms import PhoneForm, RegisterForm
from idp.accounts.views import bp
from idp.accounts.views.common import (
    CAPTCHA_WRONG,
    NOT_VALID,
    accounts,
    agreements,
    captcha_passed,
    masked_phone,
    new_captcha,
    page,
    policy_messages,
    resend_wait,
    safe_next,
    send_message,
    sms_codes,
    start_session,
    unknown_step,
)

PHONE_KEY = "register_phone"


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response:
    phone_form, form = PhoneForm(prefix="p"), RegisterForm(prefix="r")
    phone = session.get(PHONE_KEY)
    message = error = outcome = None
    problems: list[str] = []
    if request.method == "GET":
        phone_form.next.data = form.next.data = request.args.get("next", "")
        if not request.args.get("again"):
            session.pop(PHONE_KEY, None)
            phone = None
    elif unknown_step("send", "create"):
        error = str(NOT_VALID)
    elif request.form.get("step") == "send" and not captcha_passed():
        error = str(CAPTCHA_WRONG)  # no SMS, before the number is looked at (ADR 0013)
        form.next.data = phone_form.next.data
    elif request.form.get("step") == "send" and phone_form.validate_on_submit():
        phone = phone_form.phone.data or ""
        form.next.data = phone_form.next.data
        # A taken number gets a notice instead of a code, through the same limits and the same
        # gateway call: the page and its timing never tell whether the number is registered.
        taken = accounts().find_by_login(phone) is not None
        outcome = sms_codes().send(phone, "register", request.remote_addr,
                                   notice="register_exists" if taken else None)
        session[PHONE_KEY] = phone
        message = send_message(outcome)
        error = None if outcome.ok else message
    elif request.form.get("step") == "create" and phone and form.validate_on_submit():
        password, username = form.password.data or "", form.username.data or None
        problems = policy_messages(accounts().password_problems(password, phone=phone,
                                                                username=username))
        if not problems and username and accounts().find_by_login(username) is not None:
            form.username.errors = [_("This username is taken. Choose another, or leave it "
                                      "empty and sign in with your mobile number.")]
        elif not problems and not sms_codes().check(phone, "register", form.code.data or ""):
            error = _("The code is wrong or has expired.")
        elif not problems:
            try:
                user = accounts().register(phone=phone, password=password, username=username,
                                           name=form.name.data, ip=request.remote_addr)
            except AccountError as refused:  # registered meanwhile by a twin request
                error = _("This username is taken. Choose another, or leave it empty and "
                          "sign in with your mobile number.") \
                    if refused.code == "username_taken" else \
                    _("The code is wrong or has expired.")
            else:
                # Ticking the box on this form is the acceptance (recorded with the versions).
                agreements().accept(user.id, request.remote_addr)
                session.pop(PHONE_KEY, None)
                return start_session(user.id, ["pwd"], safe_next(form.next.data or "/account"))
    failed = bool(error or problems or phone_form.errors or form.errors)
    return page("register.html", 400 if failed else 200, phone_form=phone_form, form=form,
                phone=phone, shown_phone=masked_phone(phone), message=message, error=error,
                problems=problems, captcha=new_captcha(), wait=resend_wait(outcome),
                captcha_failed=error == str(CAPTCHA_WRONG))

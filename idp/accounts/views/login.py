"""Login by password or SMS code, the second-factor step, language switch and home page."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from flask import redirect, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from idp.accounts.assurance import (
    METHOD_FACTORS,
    has_mfa,
    login_second_step,
    step_up_methods,
)
from idp.accounts.forms import CodeForm, LoginForm, MfaForm, PhoneForm, nfkc
from idp.accounts.models import User
from idp.accounts.views import bp
from idp.accounts.views.common import (
    CAPTCHA_WRONG,
    LOCALE_COOKIE,
    NOT_VALID,
    PENDING,
    PENDING_TTL,
    accounts,
    captcha_passed,
    current_sso,
    current_user,
    form_expired_page,
    gate_message,
    is_local_path,
    masked_phone,
    mfa,
    new_captcha,
    page,
    resend_wait,
    safe_next,
    send_message,
    sms_codes,
    start_session,
    unknown_step,
)
from idp.extensions import get_settings


def _options(user: User) -> dict[str, bool]:
    return {"has_totp": mfa().has_totp(user), "has_phone": bool(user.phone and
                                                                user.phone_verified),
            "sms_with_totp": get_settings().sms_with_totp}


def _after_first_factor(user: User, amr: list[str], next_url: str) -> Response:
    """Sign in, unless the account has an authenticator app: then ask for it first."""
    if login_second_step(amr, **_options(user)):
        session[PENDING] = {"uid": user.id, "amr": amr, "next": next_url, "at": int(time.time())}
        return redirect(url_for("accounts.second_factor"), 303)
    return start_session(user.id, amr, next_url)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if request.args.get("login_hint"):
            form.identifier.data = request.args["login_hint"][:64]
    error = None
    if form.validate_on_submit():
        result = accounts().authenticate(form.identifier.data or "", form.password.data or "",
                                         request.remote_addr)
        if result.user is not None:
            return _after_first_factor(result.user, ["pwd"], safe_next(form.next.data))
        # The same words whether or not the account exists.
        error = gate_message(result.gate) if not result.gate.allowed else \
            _("The username, mobile number, ID number or password is incorrect.")
    status = 400 if request.method == "POST" else 200
    notice = _("For your security, sign in again to continue.") \
        if request.args.get("reauth") else \
        _("You did not accept the Terms of Service and the Privacy Policy, so you were not "
          "signed in.") if request.args.get("declined") else None
    return page("login.html", status, form=form, error=error, notice=notice)


@bp.route("/login/sms", methods=["GET", "POST"])
def login_sms() -> Response:
    """Login with a code sent to the registered mobile number (for people without a password)."""
    phone_form, code_form = PhoneForm(prefix="p"), CodeForm(prefix="c")
    phone = session.get("sms_login_phone")
    message = error = outcome = None
    if request.method == "GET":
        phone_form.next.data = code_form.next.data = request.args.get("next", "")
    elif unknown_step("send", "code"):
        error = str(NOT_VALID)
    elif request.form.get("step") == "send" and not captcha_passed():
        error = str(CAPTCHA_WRONG)  # no SMS, before the number is looked at (ADR 0013)
        code_form.next.data = phone_form.next.data
    elif request.form.get("step") == "send" and phone_form.validate_on_submit():
        phone = phone_form.phone.data or ""
        session["sms_login_phone"] = phone
        code_form.next.data = phone_form.next.data
        # An unknown number gets a notice through the same limits and gateway call: the answer
        # and its timing never tell whether the number is registered.
        known = accounts().find_by_login(phone) is not None
        outcome = sms_codes().send(phone, "login", request.remote_addr,
                                   notice=None if known else "no_account")
        if not outcome.ok:
            error = send_message(outcome)
        message = _("If this number is registered, a code was sent to it.") if not error else None
    elif request.form.get("step") == "code" and phone and code_form.validate_on_submit():
        user = accounts().find_by_login(phone)
        subject = accounts().lock_subject(phone, user)
        gate = accounts().guard.enter(subject, request.remote_addr)
        if not gate.allowed:
            error = gate_message(accounts().refused(subject, user, gate, request.remote_addr))
        elif user and not accounts().closed(user) and sms_codes().check(
                phone, "login", code_form.code.data or ""):
            accounts().guard.succeeded(subject)
            session.pop("sms_login_phone", None)
            return _after_first_factor(user, ["sms"], safe_next(code_form.next.data))
        else:
            after = accounts().attempt_failed(subject, user, request.remote_addr)
            error = gate_message(after) if after.reason == "locked" else \
                _("The code is wrong or has expired.")
    status = 400 if error else 200
    return page("login_sms.html", status, phone_form=phone_form, code_form=code_form,
                phone=masked_phone(phone), message=message, error=error,
                captcha=new_captcha(), wait=resend_wait(outcome),
                captcha_failed=error == str(CAPTCHA_WRONG))


@dataclass(frozen=True)
class SecondStep:
    """Who is proving a further factor, what they already used, and what may finish it."""

    user: User
    amr: list[str]
    next_url: str
    methods: list[str]


def _second_step() -> SecondStep | None:
    """A pending login (first factor done), or a signed-in person stepping up to `mfa`."""
    pending = session.get(PENDING)
    if pending and int(time.time()) - pending["at"] < PENDING_TTL:
        user = accounts().get(pending["uid"])
        if user is not None and not accounts().closed(user):
            return SecondStep(user, pending["amr"], pending["next"],
                              login_second_step(pending["amr"], **_options(user)))
    found = current_user()
    if found is not None:
        sso, user = found
        return SecondStep(user, sso.amr, safe_next(request.values.get("next")),
                          step_up_methods(sso.amr, **_options(user)))
    return None


@bp.route("/login/mfa", methods=["GET", "POST"])
def second_factor() -> Response:
    step = _second_step()
    if step is None:
        return redirect(url_for("accounts.login"), 303)
    user = step.user
    if not step.methods:
        if session.get(PENDING):  # the app was removed meanwhile: the first factor stands
            return start_session(user.id, step.amr, step.next_url)
        if has_mfa(step.amr):  # already multi-factor: nothing to add
            return redirect(step.next_url, 303)
        # Stepping up, but the account has no factor of the missing kind (no verified phone,
        # no authenticator app): say so instead of sending the person back in a loop.
        return page("error.html", 400, error="interaction_required",
                    heading=_("This service needs a second step"), lead=_(
            "This service needs a second factor, and your account has none you can use. Add "
            "an authenticator app on your account page, or visit a service-hall counter."))
    form = MfaForm()
    error = message = None
    asked = request.values.get("method")
    method = asked if asked in step.methods else step.methods[0]
    status = 200
    if request.method == "POST" and asked is not None and asked not in step.methods:
        # Never the same factor (or kind) twice, and SMS only where the policy allows it.
        error, status = _("This method cannot be used for this step."), 400
    elif request.method == "POST" and request.form.get("step") == "send":
        if "sms" in step.methods and user.phone:
            message, method = send_message(sms_codes().send(user.phone, "mfa",
                                                            request.remote_addr)), "sms"
        else:
            error, status = _("This method cannot be used for this step."), 400
    elif form.validate_on_submit():
        subject = accounts().lock_subject(user.username, user)
        gate = accounts().guard.enter(subject, request.remote_addr)
        if not gate.allowed:
            error = gate_message(accounts().refused(subject, user, gate, request.remote_addr))
        else:
            factor = _check_factor(user, method, form.code.data or "")
            if factor:
                accounts().guard.succeeded(subject)
                mfa().record_result(user, method, True, request.remote_addr)
                return start_session(user.id, [*step.amr, factor], step.next_url)
            mfa().record_result(user, method, False, request.remote_addr)
            after = accounts().attempt_failed(subject, user, request.remote_addr)
            error = gate_message(after) if after.reason == "locked" else \
                _("The password is wrong.") if method == "password" else \
                _("The code is wrong or has expired.")
        status = 400
    if request.method == "POST" and form.errors:
        status = 400  # a missing or overlong code: the field says why
    return page("mfa.html", status, form=form, method=method, error=error, message=message,
                methods=step.methods, phone=masked_phone(user.phone), next=step.next_url)


def _check_factor(user: User, method: str, code: str) -> str | None:
    """The amr value of the factor if the answer is right (assurance.METHOD_FACTORS)."""
    right = False
    code = code if method == "password" else nfkc(code) or ""  # a password is taken as typed
    if method == "password":
        right = user.password_hash is not None and accounts().check_password(user, code)
    elif method == "totp":
        right = mfa().check_totp(user, code)
    elif method == "recovery":
        right = mfa().use_recovery_code(user, code, request.remote_addr)
    elif method == "sms":
        right = bool(user.phone) and sms_codes().check(cast(str, user.phone), "mfa", code)
    return METHOD_FACTORS[method] if right else None


@bp.app_errorhandler(CSRFError)
def form_expired(error: CSRFError) -> Response:
    """A missing or stale CSRF token: a page in the person's language, and nothing changed."""
    if request.endpoint == "accounts.login":
        retry = url_for("accounts.login", next=request.form.get("next") or None)
    elif request.method == "POST" and request.url_rule is not None and \
            "GET" in (request.url_rule.methods or ()):
        retry = request.path
    else:  # a POST-only action: back to the page the form was on, when it is ours
        referrer = urlsplit(request.referrer or "")
        back = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        same_site = referrer.netloc in ("", request.host)
        retry = back if same_site and is_local_path(back) else url_for("accounts.home")
    return form_expired_page(retry)


@bp.get("/lang/<code>")
def switch_language(code: str) -> Response:
    response = redirect(safe_next(request.args.get("next")), 303)
    if code in {"zh", "en"}:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 86400, httponly=True,
                            samesite="Lax", secure=get_settings().secure_cookies)
    return response


@bp.get("/")
def home() -> Response:
    return page("home.html", user=accounts().session_user(current_sso(touch=False)))

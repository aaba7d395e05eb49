"""The account page (/account): profile, security, sessions, authorised systems, sign-ins;
and "not you? switch account" (end this browser's session, come back to the same page)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, cast

from flask import current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.wrappers import Response

from idp.accounts.devices import device_label
from idp.accounts.errors import AccountError
from idp.accounts.forms import ChangePasswordForm, CodeForm, PhoneChangeForm
from idp.accounts.labels import scope_label, trust_status, word_list
from idp.accounts.models import User
from idp.accounts.ports import Authorizations, OnlineVerification
from idp.accounts.sessions import SsoSession
from idp.accounts.views import bp
from idp.accounts.views.common import (
    CAPTCHA_WRONG,
    NOT_VALID,
    accounts,
    captcha_passed,
    clear_session_cookie,
    current_sso,
    current_user,
    gate_message,
    masked_phone,
    mfa,
    new_captcha,
    page,
    policy_messages,
    resend_wait,
    safe_next,
    send_message,
    sessions,
    sms_codes,
    unknown_step,
    when,
)
from idp.audit.actors import Actor
from idp.audit.tags import Tag
from idp.extensions import get_settings

View = Callable[..., Response]


def signed_in(view: View) -> View:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        found = current_user()
        if found is None:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")), 303)
        return view(*found, *args, **kwargs)

    return wrapper


def recent_sign_in(sso: SsoSession, user: User) -> bool:
    """A recent authentication with the account's existing factors: within
    IDP_REAUTH_MAX_AGE, and including the authenticator app when one is enrolled."""
    recent = sessions().clock.seconds() - sso.auth_time <= get_settings().reauth_max_age
    return recent and ("otp" in sso.amr or not mfa().has_totp(user))


def recently_signed_in(view: View) -> View:
    """Adding or removing a factor, new recovery codes, a new password or phone number: only
    right after the person proved an existing factor; otherwise sign in again, then come back."""
    @wraps(view)
    def wrapper(sso: SsoSession, user: User, *args: Any, **kwargs: Any) -> Response:
        if not recent_sign_in(sso, user):
            back = request.path if request.method == "GET" and request.endpoint != \
                "accounts.recovery_codes" else url_for("accounts.account")
            return redirect(url_for("accounts.login", next=back, reauth=1,
                                    login_hint=user.username), 303)
        return view(sso, user, *args, **kwargs)

    return wrapper


def authorizations() -> Authorizations:
    return cast(Authorizations, current_app.extensions["idp.authorizations"])


def _back(anchor: str, note: str | None = None) -> Response:
    if note:
        session["account_note"] = note
    return redirect(url_for("accounts.account") + "#" + anchor, 303)


EVENT_NAMES = {
    Tag.LOGIN_SUCCESS.value: _l("Signed in"),
    Tag.LOGIN_FAILURE.value: _l("Wrong password"),
    Tag.MFA_SUCCESS.value: _l("Second step passed"),
    Tag.MFA_FAILURE.value: _l("Wrong second-step code"),
    Tag.ACCOUNT_LOCKED.value: _l("Temporarily locked"),
}


@bp.app_template_filter("when")
def when_filter(value: int | datetime) -> str:
    return when(value)


@bp.app_template_filter("device")
def device_filter(user_agent: str | None) -> str | None:
    """"Chrome · Windows" for a user-agent string; None when it names nothing known."""
    return device_label(user_agent)


@bp.app_template_filter("scope_words")
def scope_words(scopes: list[str]) -> str:
    """Granted scopes in words ("姓名、手机号码"), as the consent page named them."""
    return word_list(scope_label(s) for s in scopes)


def online_verification() -> bool:
    """Whether people can raise their level online here (the national platform is set up)."""
    identity = cast(OnlineVerification | None, current_app.extensions.get("idp.identity"))
    return identity is not None and identity.platform is not None


@bp.get("/account")
@signed_in
def account(sso: SsoSession, user: User) -> Response:
    live = sorted(sessions().for_user(user.id), key=lambda s: -s.last_seen)
    names = authorizations().client_names(sorted({c for s in live for c in s.clients}))
    return page("account.html", user=user, current_sid=sso.sid, client_names=names,
                phone=masked_phone(user.phone), id_number=accounts().masked_id_number(user),
                trust_status=trust_status(user.trust_level),
                online_verification=online_verification(),
                has_totp=mfa().has_totp(user), codes_left=mfa().recovery_codes_left(user),
                sessions=live,
                apps=authorizations().list_for(user.id),
                events=accounts().recent_sign_ins(user.id), event_names=EVENT_NAMES,
                note=session.pop("account_note", None))


@bp.post("/account/sessions/<sid>/end")
@signed_in
def end_session(sso: SsoSession, user: User, sid: str) -> Response:
    target = sessions().get(sid)
    if target is None or target.user_id != user.id:
        return _back("sessions")
    sessions().end(sid, actor=Actor.citizen(user.id), ip=request.remote_addr)
    if sid == sso.sid:
        return redirect(url_for("accounts.home"), 303)
    return _back("sessions", _("The session was ended."))


@bp.post("/switch-account")
def switch_account() -> Response:
    """"Not you? Switch account" (the consent page): the session in this browser ends, as at
    logout (its business systems are told over the back channel), and the browser goes back
    to `next`, the same authorization request, which then asks for a login. A POST with the
    CSRF token, so no link or other site can sign anyone out; `next` is a local path only."""
    sso = current_sso(touch=False)
    if sso is not None:
        sessions().end(sso.sid, actor=Actor.citizen(sso.user_id), ip=request.remote_addr)
    session.clear()  # nothing of the previous person's login carries over
    response = redirect(safe_next(request.form.get("next")), 303)
    clear_session_cookie(response)
    return response


@bp.post("/account/apps/<client_id>/revoke")
@signed_in
def revoke_app(sso: SsoSession, user: User, client_id: str) -> Response:
    authorizations().revoke(user.id, client_id, request.remote_addr)
    return _back("apps", _("The authorisation was withdrawn."))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
@recently_signed_in
def change_password(sso: SsoSession, user: User) -> Response:
    form = ChangePasswordForm()
    error = None
    problems: list[str] = []
    if form.validate_on_submit():
        checked = accounts().check_current_password(user, form.current.data or "",
                                                    request.remote_addr)
        if checked.user is None:  # throttled and locked exactly like login
            error = gate_message(checked.gate) if not checked.gate.allowed else \
                _("The current password is wrong.")
        else:
            problems = policy_messages(accounts().password_problems(form.password.data or "",
                                                                    user))
            if not problems:
                accounts().change_password(user, form.password.data or "", request.remote_addr)
                ended = sessions().end_all(user.id, actor=Actor.citizen(user.id),
                                           ip=request.remote_addr, keep=sso.sid)
                if user.phone:
                    sms_codes().deliver(user.phone, "password_changed", {})
                return _back("security", _("Your password was changed.") + " " + ngettext(
                    "%(num)d other session was signed out.",
                    "%(num)d other sessions were signed out.", ended) if ended else
                    _("Your password was changed."))
    failed = bool(error or problems or form.errors)
    return page("password.html", 400 if failed else 200, form=form, error=error,
                problems=problems)


@bp.route("/account/phone", methods=["GET", "POST"])
@signed_in
@recently_signed_in
def change_phone(sso: SsoSession, user: User) -> Response:
    """A new mobile number needs the current number's code and the new number's code. Without
    the old phone, a counter (窗口) verifies the person and uses the same service call."""
    form = PhoneChangeForm()
    message = error = None
    waits = {"send_old": 0, "send_new": 0}  # the countdown on the button just used
    step = request.form.get("step")
    if unknown_step("send_old", "send_new", "change"):
        error = str(NOT_VALID)
    elif step in waits and not captcha_passed():
        error = str(CAPTCHA_WRONG)  # no SMS (ADR 0013)
    elif step == "send_old" and user.phone:
        sent = sms_codes().send(user.phone, "phone_old", request.remote_addr)
        message, waits[step] = send_message(sent), resend_wait(sent)
    elif step == "send_new":
        if form.new_phone.validate(form):
            sent = sms_codes().send(form.new_phone.data or "", "phone_new", request.remote_addr)
            message, waits[step] = send_message(sent), resend_wait(sent)
    elif step == "change" and form.validate_on_submit() and user.phone:
        new_phone = form.new_phone.data or ""
        old_ok = sms_codes().check(user.phone, "phone_old", form.old_code.data or "")
        new_ok = sms_codes().check(new_phone, "phone_new", form.new_code.data or "")
        if not (old_ok and new_ok):
            error = _("A code is wrong or has expired.")
        else:
            try:
                accounts().change_phone(user, new_phone, actor=Actor.citizen(user.id),
                                        ip=request.remote_addr, via="old_phone")
            except AccountError:
                error = _("This mobile number is already registered. Log in, or use "
                          "“Forgot password”.")
            else:
                return _back("profile", _("Your mobile number was changed."))
    failed = bool(error) or (step == "change" and bool(form.errors))
    return page("phone.html", 400 if failed else 200, form=form, message=message, error=error,
                phone=masked_phone(user.phone), captcha=new_captcha(), waits=waits,
                captcha_failed=error == str(CAPTCHA_WRONG))


@bp.route("/account/totp", methods=["GET", "POST"])
@signed_in
@recently_signed_in
def totp(sso: SsoSession, user: User) -> Response:
    form = CodeForm()
    error = None
    if request.method == "POST" and request.form.get("step") == "remove":
        mfa().remove_totp(user, actor=Actor.citizen(user.id), ip=request.remote_addr)
        return _back("security", _("The authenticator app was removed."))
    enrolment = mfa().pending_totp(user) if request.method == "POST" else None
    if request.method == "POST" and form.validate_on_submit():
        codes = mfa().confirm_totp(user, form.code.data or "", request.remote_addr)
        if codes is not None:
            # Enrolling proves nothing about who is signed in: the session keeps its amr
            # (assurance.py); the app counts from the next sign-in or step-up.
            return page("recovery_codes.html", codes=codes)
        error = _("The code is wrong or has expired.")
    if enrolment is None:
        enrolment = mfa().start_totp(user)
    return page("totp.html", 400 if error else 200, form=form, enrolment=enrolment,
                error=error)


@bp.post("/account/recovery-codes")
@signed_in
@recently_signed_in
def recovery_codes(sso: SsoSession, user: User) -> Response:
    if not mfa().has_totp(user):
        return _back("security")
    return page("recovery_codes.html",
                codes=mfa().issue_recovery_codes(user, request.remote_addr))

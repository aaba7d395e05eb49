"""The clerk's pages: search, open a record with a reason, reveal the full number (audited),
verify in person, assisted registration and its slip, in-person recovery."""

from __future__ import annotations

from typing import Any, cast

from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.accounts.errors import AccountError
from idp.accounts.lifecycle import AccountLifecycle
from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.audit.actors import Actor
from idp.counter import counter
from idp.counter.errors import CounterError
from idp.counter.forms import (
    AccountStatusForm,
    DocumentForm,
    OpenForm,
    RecoverForm,
    RegisterForm,
    RevealForm,
    SearchForm,
)
from idp.counter.models import RESET
from idp.counter.roles import ACCOUNT_STATUS, DESK
from idp.counter.views import bp
from idp.counter.views.common import (
    back,
    page,
    refused,
    requires,
    sees_hall,
    staff,
    staff_session,
)
from idp.counter.views.messages import (
    OUTCOMES,
    STATUS_MESSAGES,
    document_input,
    outcome_message,
)
from idp.extensions import get_settings


def accounts() -> AccountService:
    return cast(AccountService, current_app.extensions["idp.accounts"])


def _person(user_id: str) -> User:
    user = accounts().get(user_id) if len(user_id) <= 36 else None
    if user is None:
        abort(404)
    return cast(User, user)


def _own_refusal() -> Response:
    return refused(str(OUTCOMES["own_record"]))


@bp.route("/", methods=["GET", "POST"])
@requires(DESK)
def index() -> Response:
    form = SearchForm()
    error = None
    if form.validate_on_submit():
        desk, kind = counter().desk, form.kind.data or ""
        user = desk.find(kind, form.query.data or "")
        desk.searched(staff(), kind=kind, found=user, purpose=form.purpose.data or "",
                      detail=form.detail.data or "", ip=request.remote_addr)
        if user is not None and desk.is_own(staff(), user):
            return _own_refusal()
        if user is not None:
            desk.open_record(staff(), user, purpose=form.purpose.data or "",
                             detail=form.detail.data or "", ip=request.remote_addr)
            counter().sessions.open_record(staff_session(), user.id)
            return redirect(url_for("counter.person", user_id=user.id), 303)
        error = _("No account holds this document or mobile number.")
    form.query.data = ""  # a typed number is never sent back in a page
    status = 400 if request.method == "POST" else 200
    return page("counter_search.html", status, form=form, error=error,
                not_found=error is not None)


def _record_page(user: User, status: int = 200, **context: Any) -> Response:
    context.setdefault("verify_form", DocumentForm(prefix="v", formdata=None))
    context.setdefault("recover_form", RecoverForm(prefix="r", formdata=None))
    context.setdefault("reveal_form", RevealForm(prefix="x", formdata=None))
    context.setdefault("status_form", AccountStatusForm(prefix="s", formdata=None))
    # A typed number is never sent back in a page (only the explicit reveal shows one).
    context["verify_form"].number.data = context["verify_form"].card_json.data = ""
    return page("counter_person.html", status, profile=counter().desk.profile(user),
                recent=counter().desk.verified_recently(staff(), user),
                outstanding=counter().codes.outstanding(user),
                deletion_due=accounts().deletion_due(user), **context)


def _open_or_ask(user_id: str) -> tuple[User | None, Response | None]:
    """The person, when their record is open to this clerk; else the page that says why not."""
    user = _person(user_id)
    if counter().desk.is_own(staff(), user):
        return None, _own_refusal()
    if not counter().sessions.is_open(staff_session(), user.id):
        return None, page("counter_open.html", 200, form=OpenForm(), user_id=user.id)
    return user, None


@bp.get("/person/<user_id>")
@requires(DESK)
def person(user_id: str) -> Response:
    user, answer = _open_or_ask(user_id)
    if user is None:
        return cast(Response, answer)
    return _record_page(user)


@bp.post("/person/<user_id>/open")
@requires(DESK)
def open_record(user_id: str) -> Response:
    user = _person(user_id)
    if counter().desk.is_own(staff(), user):
        return _own_refusal()
    form = OpenForm()
    if not form.validate_on_submit():
        return page("counter_open.html", 400, form=form, user_id=user.id)
    counter().desk.open_record(staff(), user, purpose=form.purpose.data or "",
                               detail=form.detail.data or "", ip=request.remote_addr)
    counter().sessions.open_record(staff_session(), user.id)
    return redirect(url_for("counter.person", user_id=user.id), 303)


@bp.post("/person/<user_id>/reveal")
@requires(DESK)
def reveal(user_id: str) -> Response:
    user, answer = _open_or_ask(user_id)
    if user is None:
        return cast(Response, answer)
    form = RevealForm(prefix="x")
    if not form.validate_on_submit():
        return _record_page(user, 400, reveal_form=form)
    number = counter().desk.identity.reveal_number(
        user, actor=Actor.staff(staff().id, staff().hall_code), reason=form.reason.data or "",
        ip=request.remote_addr)
    return _record_page(user, revealed=number)


@bp.post("/person/<user_id>/verify")
@requires(DESK)
def verify(user_id: str) -> Response:
    user, answer = _open_or_ask(user_id)
    if user is None:
        return cast(Response, answer)
    form = DocumentForm(prefix="v")
    if not form.validate_on_submit():
        return _record_page(user, 400, verify_form=form)
    document, error = document_input(form)
    if document is None:
        return _record_page(user, 400, verify_form=form, verify_error=error)
    outcome = counter().desk.verify(
        staff(), user, document_type=document.document_type, number=document.number,
        name=document.name, valid_until=document.valid_until,
        photo_compared=bool(form.photo_compared.data), source=document.source,
        ip=request.remote_addr)
    if outcome.ok:
        return _record_page(user, verified=outcome)
    return _record_page(user, 400, verify_form=form, verify_error=outcome_message(
        outcome.code, outcome.details, outcome.case_id))


@bp.post("/person/<user_id>/recover")
@requires(DESK)
def recover(user_id: str) -> Response:
    user, answer = _open_or_ask(user_id)
    if user is None:
        return cast(Response, answer)
    form = RecoverForm(prefix="r")
    if not form.validate_on_submit():
        return _record_page(user, 400, recover_form=form)
    try:
        done = counter().assisted.recover(
            staff(), user, reset_password=bool(form.reset_password.data),
            remove_factors=bool(form.remove_factors.data), new_phone=form.new_phone.data or None,
            ip=request.remote_addr)
    except CounterError as error:
        return _record_page(user, 400, recover_form=form,
                            recover_error=outcome_message(error.code, {}))
    if done.slip is not None:
        return redirect(url_for("counter.slip", code_id=done.slip.id), 303)
    return back("counter.person", _("Done. All of the person's sessions were ended."),
                user_id=user.id)


def lifecycle() -> AccountLifecycle:
    return cast(AccountLifecycle, current_app.extensions["idp.lifecycle"])


@bp.post("/person/<user_id>/disable")
@requires(ACCOUNT_STATUS)
def disable_account(user_id: str) -> Response:
    """停用: the person cannot sign in anywhere until re-enabled; every session and grant
    ends at once. A reason is required; audited with this staff member and hall."""
    return _switch_account(user_id, disable=True)


@bp.post("/person/<user_id>/enable")
@requires(ACCOUNT_STATUS)
def enable_account(user_id: str) -> Response:
    """恢复: only after this staff member verified the person in person during the visit
    (the account may have been disabled because someone else was using it)."""
    return _switch_account(user_id, disable=False)


def _switch_account(user_id: str, *, disable: bool) -> Response:
    user, answer = _open_or_ask(user_id)
    if user is None:
        return cast(Response, answer)
    form = AccountStatusForm(prefix="s")
    if not form.validate_on_submit():
        return _record_page(user, 400, status_form=form)
    if not disable and counter().desk.verified_recently(staff(), user) is None:
        return _record_page(user, 400, status_form=form,
                            status_error=str(STATUS_MESSAGES["not_verified"]))
    change = lifecycle().disable if disable else lifecycle().enable
    try:
        change(user, actor=Actor.staff(staff().id, staff().hall_code),
               reason=form.reason.data or "", ip=request.remote_addr)
    except AccountError as error:
        return _record_page(user, 400, status_form=form, status_error=str(
            STATUS_MESSAGES.get(error.code, STATUS_MESSAGES["reason_required"])))
    return back("counter.person", _("The account was disabled. All of the person's sessions "
                                    "were ended.") if disable else
                _("The account was enabled again."), user_id=user.id)


@bp.route("/register", methods=["GET", "POST"])
@requires(DESK)
def register() -> Response:
    form = RegisterForm()
    error, existing = None, None
    if form.validate_on_submit():
        document, error = document_input(form)
        if document is not None:
            result = counter().assisted.register(
                staff(), document_type=document.document_type, number=document.number,
                name=document.name, valid_until=document.valid_until,
                photo_compared=bool(form.photo_compared.data), phone=form.phone.data or None,
                source=document.source, ip=request.remote_addr)
            if result.outcome == "registered" and result.user and result.slip:
                counter().sessions.open_record(staff_session(), result.user.id)
                return redirect(url_for("counter.slip", code_id=result.slip.id), 303)
            if result.outcome == "existing":
                existing = result.user
                error = _("This document already belongs to an account. Open that person's "
                          "record instead of registering again.")
            else:
                error = outcome_message(result.outcome, result.details)
    form.number.data = form.card_json.data = ""
    status = 400 if request.method == "POST" else 200
    return page("counter_register.html", status, form=form, error=error, existing=existing)


@bp.get("/slip/<code_id>")
@requires(DESK)
def slip(code_id: str) -> Response:
    row = counter().codes.get(code_id) if len(code_id) <= 36 else None
    if row is None:
        abort(404)
    if not sees_hall(row.hall_code):
        return refused(_("This slip was issued at another hall."))
    user = _person(row.user_id)
    if counter().desk.is_own(staff(), user):
        return _own_refusal()
    issuer = get_settings().issuer
    return page("counter_slip.html", row=row, user=user, code=counter().codes.take_for_slip(
        row.id), masked_number=counter().desk.identity.masked_number(user),
        reset=row.purpose == RESET, activate_url=issuer + url_for("activation.activate"))

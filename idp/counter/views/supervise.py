"""Supervisors' and administrators' pages: the daily report, the open-case queue, and the
staff of a hall (create, disable, re-issue enrolment)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from idp.accounts.errors import AccountError
from idp.audit.actors import Actor
from idp.counter import counter
from idp.counter.cardreader import parse_date
from idp.counter.desk import masked_phone
from idp.counter.errors import CounterError
from idp.counter.forms import CaseForm, ReportForm, StaffCreateForm
from idp.counter.models import ROLES, StaffAccount
from idp.counter.reports import COLUMNS, beijing_today, daily_report, staff_of, totals
from idp.counter.roles import CASES, REPORT, STAFF, all_halls, may_manage
from idp.counter.services import Credentials
from idp.counter.views import bp
from idp.counter.views.common import (
    ROLE_NAMES,
    back,
    page,
    refused,
    requires,
    sees_hall,
    staff,
)
from idp.counter.views.desk import accounts
from idp.extensions import get_settings
from idp.identity.models import IdentityCase

FIRST_DAY = date(2016, 1, 1)  # the platform's reports start no earlier than its plans


def _hall_choices(with_all: bool) -> list[SelectChoice]:
    halls = counter().staff.halls() if all_halls(staff().role) else \
        [h for h in counter().staff.halls() if h.code == staff().hall_code]
    return ([SelectChoice("", _("All halls"))] if with_all else []) + \
        [SelectChoice(h.code, f"{h.name} ({h.code})") for h in halls]


# --- the daily report ---
@bp.get("/report")
@requires(REPORT)
def report() -> Response:
    form = ReportForm(request.args)
    form.hall.choices = _hall_choices(with_all=all_halls(staff().role))
    today = beijing_today(counter().desk.now())
    day = parse_date(form.day.data or "")
    if day is None or not FIRST_DAY <= day <= today:  # no report of the future or antiquity
        day = today
    hall = (form.hall.data or None) if all_halls(staff().role) else staff().hall_code
    if hall is not None and not sees_hall(hall):
        return refused(_("You can see the report of your own hall only."))
    form.day.data = day.isoformat()
    rows = daily_report(day, hall)
    return page("counter_report.html", form=form, day=day, rows=rows, columns=COLUMNS,
                totals=totals(rows))


# --- the case queue ---
def _case_hall(case: IdentityCase) -> str | None:
    opened = staff_of(case.opened_by)
    return opened[1] if opened else None


def _visible(case: IdentityCase) -> bool:
    """Operators see every case; a supervisor those opened at their hall and those opened
    online (at no hall), which any supervisor may take."""
    hall = _case_hall(case)
    return all_halls(staff().role) or hall is None or hall == staff().hall_code


def _account_view(user_id: str | None) -> dict[str, Any] | None:
    user = accounts().get(user_id) if user_id else None
    if user is None:
        return None
    identity = counter().desk.identity
    return {"username": user.username, "name": user.name, "level": user.trust_level,
            "phone": masked_phone(user.phone),
            "number": identity.masked_number(user), "id": user.id}


def _cases_page(status: int = 200, errors: dict[int, str] | None = None,
                forms: dict[int, CaseForm] | None = None) -> Response:
    cases = [c for c in counter().desk.identity.cases("open") if _visible(c)]
    rows = [{"case": c, "claimant": _account_view(c.claimant_id),
             "holder": _account_view(c.holder_id), "hall": _case_hall(c),
             "form": (forms or {}).get(c.id) or CaseForm(formdata=None)} for c in cases]
    return page("counter_cases.html", status, rows=rows, errors=errors or {})


@bp.get("/cases")
@requires(CASES)
def cases() -> Response:
    return _cases_page()


@bp.post("/cases/<int:case_id>")
@requires(CASES)
def resolve(case_id: int) -> Response:
    case = next((c for c in counter().desk.identity.cases("open") if c.id == case_id), None)
    if case is None:
        return back("counter.cases", _("This case was already decided, or does not exist."))
    if not _visible(case):
        return refused(_("This case belongs to another hall."))
    for account_id in (case.claimant_id, case.holder_id):
        account = accounts().get(account_id) if account_id else None
        if account is not None and counter().desk.is_own(staff(), account):
            return refused(_("You cannot decide a case about your own account."))
    form = CaseForm()
    if not form.validate_on_submit():
        return _cases_page(400, forms={case_id: form})
    try:
        counter().desk.identity.resolve_case(
            case_id, decision=form.decision.data or "", note=form.note.data or "",
            actor=Actor.staff(staff().id, staff().hall_code))
    except AccountError as error:
        return _cases_page(400, errors={case_id: str(error)}, forms={case_id: form})
    return back("counter.cases", _("Case No. %(case)s was decided.", case=case_id))


# --- staff of a hall ---
def _managed(staff_id: str) -> StaffAccount | Response:
    target = counter().staff.get(staff_id) if len(staff_id) <= 36 else None
    if target is None:
        abort(404)
    if not sees_hall(target.hall_code) or not may_manage(staff().role, target.role) or \
            target.id == staff().id:
        return refused(_("You cannot manage this staff account."))
    return target


def _staff_page(form: StaffCreateForm, status: int = 200, error: str | None = None) -> Response:
    hall = None if all_halls(staff().role) else staff().hall_code
    members = counter().staff.in_hall(hall)
    return page("counter_staff.html", status, form=form, members=members, error=error,
                manageable={m.id for m in members
                            if may_manage(staff().role, m.role) and m.id != staff().id})


def _credentials_page(credentials: Credentials, created: bool) -> Response:
    link = get_settings().issuer + "/counter/enrol/" + credentials.token
    return page("counter_staff_created.html", member=credentials.staff, created=created,
                password=credentials.password, link=link,
                hours=counter().staff.enrolment_ttl // 3600)


@bp.route("/staff", methods=["GET", "POST"])
@requires(STAFF)
def staff_list() -> Response:
    form = StaffCreateForm()
    form.role.choices = [SelectChoice(r, str(ROLE_NAMES[r])) for r in ROLES
                         if may_manage(staff().role, r)]
    form.hall.choices = _hall_choices(with_all=False)
    if not form.validate_on_submit():
        return _staff_page(form, 400 if request.method == "POST" else 200)
    try:
        credentials = counter().staff.create_staff(
            username=form.username.data or "", hall_code=form.hall.data or "",
            role=form.role.data or "", display_name=form.display_name.data or None,
            id_number=(form.id_number.data or "").strip() or None,
            actor=Actor.staff(staff().id, staff().hall_code))
    except CounterError as error:
        form.id_number.data = ""
        return _staff_page(form, 400, error=_staff_error(error))
    return _credentials_page(credentials, created=True)


def _staff_error(error: CounterError) -> str:
    messages = {
        "invalid_username": _("A staff username is 3-64 lower-case letters, digits, '_', '.' "
                              "or '-', starting with a letter."),
        "exists": _("This username is taken."),
        "invalid_id_number": _("The ID number is not valid."),
    }
    return messages.get(error.code, _("The staff account could not be created."))


@bp.post("/staff/<staff_id>/disable")
@requires(STAFF)
def staff_disable(staff_id: str) -> Response:
    target = _managed(staff_id)
    if not isinstance(target, StaffAccount):
        return target
    counter().staff.disable(target, Actor.staff(staff().id, staff().hall_code))
    counter().sessions.end_all(target.id)
    return back("counter.staff_list", _("%(name)s was disabled and signed out.",
                                        name=target.username))


@bp.post("/staff/<staff_id>/reissue")
@requires(STAFF)
def staff_reissue(staff_id: str) -> Response:
    target = _managed(staff_id)
    if not isinstance(target, StaffAccount):
        return target
    if target.disabled:
        return back("counter.staff_list", _("A disabled account cannot be re-enrolled."))
    credentials = counter().staff.reissue_enrolment(target, Actor.staff(staff().id,
                                                                        staff().hall_code))
    counter().sessions.end_all(target.id)
    return _credentials_page(credentials, created=False)


"""The self-service verification page (/account/identity): see one's trust level, raise it to
3 (name + ID number) or 4 (with a face photo) through the national platform, or find a counter
for 5. Business systems asking for a higher acr send the person here and get them back."""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.accounts.models import User
from idp.accounts.sessions import SsoSession
from idp.accounts.views.account import signed_in
from idp.accounts.views.common import is_local_path, page, safe_next
from idp.identity.forms import FaceForm, RealPersonForm, TwoElementForm
from idp.identity.services import IdentityService, VerifyOutcome
from realname import TrustLevel
from realname.documents import REASONS, Explanation

bp = Blueprint("identity", __name__)

# Where the verification page was asked for by a business system: the authorization request
# to return to. Cancelling marks it declined; the authorization endpoint then answers
# unmet_authentication_requirements.
DECLINED = "verify_declined"
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
MAX_IMAGE = 2 * 1024 * 1024

MESSAGES = {
    "no_match": _l("The name does not match the ID number in the national population "
                   "database. Check both against your ID card and try again."),
    "not_found": _l("The national platform has no record of this ID number. Check it against "
                    "your ID card, or visit a counter with the card."),
    "face_mismatch": _l("The photo could not be matched to the photo on record. Take a clear, "
                        "well-lit photo of your face only, or visit a counter."),
    "bad_image": _l("The photo could not be read. Use a JPEG or PNG photo under 2 MB."),
    "unavailable": _l("The national verification service is not answering at the moment. "
                      "Nothing was changed. Please try again later, or verify at a counter."),
    "not_configured": _l("Online verification is not available on this platform. Please "
                         "verify at a service-hall counter with your ID card."),
    "too_many_attempts": _l("Too many unsuccessful attempts today. Please try again tomorrow, "
                            "or verify at a counter."),
    "different_document": _l("Your account is already verified with another ID number. If it "
                             "is wrong, please visit a counter with your ID card."),
    "case_opened": _l("This ID number is already verified on another account. Nothing was "
                      "linked: your request (case %(case)s) will be reviewed. To settle it "
                      "sooner, bring your ID card to any service-hall counter."),
    "already_at_level": _l("Your account is already at this level or above."),
    "name_mismatch": _l("Enter your name as printed on your ID card."),
    "verified": _l("Verified. Your trust level is now %(level)s."),
}

METHOD_NAMES = {
    "online_two_element": _l("Online: name and ID number"),
    "online_real_person": _l("Online: face photo"),
    "counter": _l("In person at a counter"),
    "override": _l("Set by an administrator"),
    "case_transfer": _l("Review decision"),
}
RESULT_NAMES = {
    "verified": _l("Verified"), "no_match": _l("Name does not match"),
    "not_found": _l("Number not found"), "face_mismatch": _l("Face does not match"),
    "bad_image": _l("Photo unreadable"), "unavailable": _l("Service unavailable"),
    "conflict": _l("Held by another account"),
}

LEVEL_OPENS = {
    2: _l("Browse, make enquiries and use services that need no real name."),
    3: _l("Most online services: applications, appointments, certificates for yourself."),
    4: _l("Services with legal effect for yourself: social security, provident fund, tax."),
    5: _l("Everything, including acting for others and high-value services."),
}


def identity() -> IdentityService:
    return cast(IdentityService, current_app.extensions["idp.identity"])


def _wanted_level() -> int | None:
    raw = request.values.get("level", "")
    return int(raw) if raw in {lv.acr for lv in TrustLevel} else None


def _next() -> str | None:
    value = request.values.get("next")
    return value if is_local_path(value) else None


def _message(outcome: VerifyOutcome) -> str:
    if outcome.code == "invalid_number":
        reason = REASONS.get(outcome.details.get("reason") or "")
        return _("The ID number is not valid: %(reason)s", reason=_reason_text(reason))
    text = MESSAGES.get(outcome.code, MESSAGES["unavailable"])
    return str(text) % {"case": outcome.case_id, "level": outcome.level}


def _reason_text(reason: Explanation | None) -> str:
    """A realname reason in the page's language (REASONS carries English and Chinese)."""
    if reason is None:
        return _("check it against your ID card")
    return reason.zh if str(get_locale() or "").startswith("zh") else reason.en


def _photo() -> tuple[bytes, str] | None | str:
    """The uploaded face photo and its type, None when none was given, or an error code."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    data = upload.read(MAX_IMAGE + 1)
    kind = next((t for magic, t in IMAGE_TYPES.items() if data.startswith(magic)), None)
    if kind is None or len(data) > MAX_IMAGE:
        return "bad_image"
    return data, kind


def _halls(user: User) -> list[Any]:
    """Counters to offer, those in the person's own city first (from the document's region)."""
    finder = current_app.extensions.get("idp.counter_halls")
    return list(finder(identity().region_code(user))) if finder else []


@bp.route("/account/identity", methods=["GET", "POST"])
@signed_in
def verify(sso: SsoSession, user: User) -> Response:
    wanted, back = _wanted_level(), _next()
    forms = {"two": TwoElementForm(), "real": RealPersonForm(), "face": FaceForm()}
    note, error = session.pop("identity_note", None), None
    if request.method == "POST":
        outcome_or_error = _attempt(user, request.form.get("step"), forms)
        if isinstance(outcome_or_error, VerifyOutcome):
            outcome = outcome_or_error
            if outcome.ok and back and (wanted is None or outcome.level >= wanted):
                return redirect(back, 303)
            if outcome.ok:
                session["identity_note"] = _message(outcome)
                return redirect(url_for("identity.verify", next=back, level=wanted), 303)
            error = _message(outcome)
        else:
            error = outcome_or_error
    for form in forms.values():  # a typed number is never echoed into a page (issue 8)
        if hasattr(form, "id_number"):
            form.id_number.data = None
    if request.method == "GET" and user.name:
        forms["two"].name.data = forms["real"].name.data = user.name  # type: ignore[attr-defined]
    return page("identity.html", 200 if error is None else 400, user=user, forms=forms,
                note=note, error=error, wanted=wanted, back=back, opens=LEVEL_OPENS,
                masked=identity().masked_number(user), records=identity().records(user),
                case=identity().open_case_for(user), halls=_halls(user),
                online=identity().platform is not None, method_names=METHOD_NAMES,
                result_names=RESULT_NAMES)


def _attempt(user: User, step: str | None, forms: dict[str, Any]) -> VerifyOutcome | str:
    """Run the posted step: an outcome, or the form's error message."""
    form = forms.get(step or "")
    if form is None:
        return _("The request is not valid.")
    if not form.validate_on_submit():
        errors = [e for errs in form.errors.values() for e in errs]
        return str(errors[0]) if errors else _("The request is not valid.")
    photo = _photo() if step in {"real", "face"} else None
    if step in {"real", "face"} and photo is None:
        return _("Choose or take a photo of your face.")
    if isinstance(photo, str):
        return str(MESSAGES["bad_image"])
    if step == "face":
        stored = identity().stored_id_number(user)
        if stored is None:
            return _("The request is not valid.")
        name, number = user.name or "", stored
    else:
        name, number = form.name.data or "", form.id_number.data or ""
    return identity().verify_online(user, name=name, id_number=number,
                                    image=photo[0] if photo else None,
                                    image_type=photo[1] if photo else None,
                                    ip=request.remote_addr)


@bp.post("/account/identity/cancel")
@signed_in
def cancel(sso: SsoSession, user: User) -> Response:
    """The person would rather not verify now: back to the business system, which is told
    its acr cannot be met."""
    back = _next()
    if back is None:
        return redirect(url_for("accounts.account"), 303)
    session[DECLINED] = back
    return redirect(safe_next(back), 303)

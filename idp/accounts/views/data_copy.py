"""A copy of my data (个人信息副本, PIPL Art. 45): /account/data offers it, after a recent sign-in,
as a JSON download and as a page in the person's language that prints well. Both are POSTs
with the CSRF token: making a copy uses one of the day's allowance and is audited, so no link,
prefetch or other site can make one. The shape is one document (`as_document`): the JSON is
that document, and the page shows the same document in words."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, cast

from flask import current_app, make_response, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.accounts.labels import amr_words, scope_label, trust_status
from idp.accounts.models import User
from idp.accounts.personal_data import (
    Allowance,
    AuditEntry,
    PersonalData,
    PersonalDataService,
)
from idp.accounts.sessions import SsoSession
from idp.accounts.views import bp
from idp.accounts.views.account import EVENT_NAMES, recent_sign_in, recently_signed_in, signed_in
from idp.accounts.views.common import current_user, page, when
from idp.audit.tags import Tag
from idp.branding import Brand
from realname.documents import DocumentType

FORMAT = "unified-idp/personal-data"
FORMAT_VERSION = 1

# What the audit log's events are called in the copy; an event without words shows its tag.
ACTIVITY_NAMES = {
    Tag.USER_CREATED.value: _l("Account created"),
    Tag.USER_REGISTERED.value: _l("Registered online"),
    Tag.LOGOUT.value: _l("Signed out"),
    Tag.SESSIONS_ENDED.value: _l("Every session ended"),
    Tag.ACCOUNT_UNLOCKED.value: _l("Unlocked by an administrator"),
    Tag.PASSWORD_CHANGED.value: _l("Password changed on the account page"),
    Tag.PASSWORD_RESET.value: _l("Password reset"),
    Tag.PHONE_CHANGED.value: _l("Mobile number changed"),
    Tag.SMS_CODE_SENT.value: _l("Verification code sent by SMS"),
    Tag.TOTP_ENROLLED.value: _l("Authenticator app turned on"),
    Tag.TOTP_REMOVED.value: _l("Authenticator app removed"),
    Tag.RECOVERY_CODES_ISSUED.value: _l("New recovery codes made"),
    Tag.RECOVERY_CODE_USED.value: _l("Recovery code used"),
    Tag.TRUST_LEVEL_SET.value: _l("Trust level set by an administrator"),
    Tag.AGREEMENTS_ACCEPTED.value: _l("Agreements accepted"),
    Tag.AGREEMENTS_DECLINED.value: _l("Agreements declined"),
    Tag.DATA_COPY_GENERATED.value: _l("Copy of your data made"),
    Tag.DELETION_REQUESTED.value: _l("Account deletion requested"),
    Tag.DELETION_CANCELLED.value: _l("Account deletion cancelled"),
    Tag.ACCOUNT_DISABLED.value: _l("Account disabled"),
    Tag.ACCOUNT_ENABLED.value: _l("Account enabled again"),
    Tag.VERIFICATION_SUCCEEDED.value: _l("Identity verified"),
    Tag.VERIFICATION_FAILED.value: _l("Identity not verified"),
    Tag.CASE_OPENED.value: _l("Review of an ID number requested"),
    Tag.CASE_RESOLVED.value: _l("Review of an ID number decided"),
    Tag.DOCUMENT_REMOVED.value: _l("ID number removed after a review"),
    Tag.RECORD_REVEALED.value: _l("Full ID number shown to counter staff"),
    Tag.COUNTER_RECORD_VIEWED.value: _l("Your record was opened at a counter"),
    Tag.COUNTER_REGISTRATION.value: _l("Registered at a counter"),
    Tag.COUNTER_RECOVERY.value: _l("Access restored at a counter"),
    Tag.COUNTER_ACTIVATION_ISSUED.value: _l("Activation code printed"),
    Tag.COUNTER_ACTIVATION_USED.value: _l("Activation code used"),
    Tag.COUNTER_ACTIVATION_FAILED.value: _l("Wrong activation code"),
    Tag.CONSENT_GRANTED.value: _l("Business system authorised"),
    Tag.CONSENT_DENIED.value: _l("Business system refused"),
    Tag.CONSENT_REVOKED.value: _l("Authorisation withdrawn"),
}
ACTOR_NAMES = {
    "citizen": _l("You"),
    "staff": _l("Counter staff"),
    "operator": _l("Administrator"),
    "client": _l("Business system"),
    "system": _l("The platform"),
    "anonymous": _l("Not signed in"),
}
PURPOSE_NAMES = {"activate": _l("Activate a new account"), "reset": _l("Set a new password")}
CASE_STATUS_NAMES = {"open": _l("Under review"), "resolved": _l("Decided")}
RESOLUTION_NAMES = {"transferred": _l("The ID number was moved to your account"),
                    "kept": _l("The other account keeps the ID number")}
# What the copy leaves out, and why (docs/personal-data.md), in both formats.
NOT_INCLUDED = (
    _l("Your full ID number: it is shown masked, as on every page. Your ID card carries it."),
    _l("Your password, your authenticator app's secret and your recovery codes: the platform "
       "keeps only what checks them, which is of no use to anyone reading this copy."),
    _l("Tokens, codes and session keys given to your browser and to business systems."),
    _l("The names of counter staff and administrators who handled your account: their "
       "service hall is named instead. Ask the hall or the hotline who acted for you."),
    _l("Notes staff wrote when they decided a review or set your level, and anything about "
       "another person, such as another account that held the same ID number."),
)


def personal_data() -> PersonalDataService:
    return cast(PersonalDataService, current_app.extensions["idp.personal_data"])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _document_type(value: str | None) -> str | None:
    if not value:
        return None
    try:
        kind = DocumentType(value)
    except ValueError:
        return value
    return kind.name_en if str(get_locale()) == "en" else kind.name_zh


def _words(table: dict[str, Any], key: str | None) -> str | None:
    return str(table.get(key, key)) if key is not None else None


def _hall(copy: PersonalData, code: str | None) -> str | None:
    return copy.hall_names.get(code, code) if code else None


def _audit(copy: PersonalData, entry: AuditEntry, names: dict[str, Any]) -> dict[str, Any]:
    return {"at": _iso(entry.at), "event": entry.tag, "event_label": _words(names, entry.tag),
            "by": entry.actor, "by_label": _words(ACTOR_NAMES, entry.actor),
            "hall": _hall(copy, entry.hall_code), "ip": entry.ip,
            "business_system": copy.client_names.get(entry.client_id, entry.client_id)
            if entry.client_id else None}


def as_document(copy: PersonalData, brand: Brand) -> dict[str, Any]:
    """The copy as one document: codes for programs, words in the person's language beside
    them, moments in ISO 8601 (UTC)."""
    p = copy.profile
    locale = "en" if str(get_locale()) == "en" else "zh"
    return {
        "title": _("A copy of my data"), "format": FORMAT, "format_version": FORMAT_VERSION,
        "platform": brand.platform.get(locale), "language": "en" if locale == "en" else "zh-CN",
        "generated_at": _iso(copy.generated_at),
        "account": {
            "id": p.account_id, "username": p.username, "name": p.name,
            "mobile_number": p.phone, "mobile_number_verified": p.phone_verified,
            "trust_level": p.trust_level, "trust_level_label": trust_status(p.trust_level),
            "id_document_type": p.document_type,
            "id_document_type_label": _document_type(p.document_type),
            "id_number_masked": p.masked_number, "created_at": _iso(p.created_at),
            "updated_at": _iso(p.updated_at), "password_changed_at": _iso(p.password_changed_at),
        },
        "second_factors": {"authenticator_app": p.authenticator_app,
                           "recovery_codes_left": p.recovery_codes_left},
        "verifications": [{
            "at": _iso(v.at), "method": v.method, "method_label": v.method_label,
            "level": v.level, "result": v.result, "result_label": v.result_label,
            "document_type": v.document_type,
            "document_type_label": _document_type(v.document_type),
            "number_masked": v.masked_number, "hall": _hall(copy, v.hall_code),
            "transaction_id": v.transaction_id, "face_match_score": v.score,
            "document_valid_until": v.document_valid_until,
            "withdrawn_at": _iso(v.revoked_at)} for v in copy.verifications],
        "id_number_reviews": [{
            "opened_at": _iso(c.opened_at), "document_type": c.document_type,
            "document_type_label": _document_type(c.document_type),
            "number_masked": c.masked_number, "name": c.name, "method": c.method,
            "method_label": c.method_label, "level": c.level, "status": c.status,
            "status_label": _words(CASE_STATUS_NAMES, c.status), "resolution": c.resolution,
            "resolution_label": _words(RESOLUTION_NAMES, c.resolution),
            "decided_at": _iso(c.resolved_at)} for c in copy.claims],
        "sign_ins": [{**_audit(copy, e, EVENT_NAMES), "methods": e.methods,
                      "methods_label": amr_words(e.methods), "device": e.device}
                     for e in copy.sign_ins],
        "account_activity": [_audit(copy, e, ACTIVITY_NAMES) for e in copy.activity],
        "sessions": [{
            "started_at": _iso(s.started_at), "last_active_at": _iso(s.last_active_at),
            "ip": s.ip, "device": s.device,
            "business_systems": [copy.client_names.get(c, c) for c in s.client_ids],
            "this_browser": s.this_browser} for s in copy.sessions],
        "authorised_systems": [{
            "client_id": a.client_id, "name": a.name, "scopes": a.scopes,
            "scope_labels": [scope_label(s) for s in a.scopes],
            "consented_at": _iso(a.granted_at)} for a in copy.consents],
        "authorisations": [{
            "client_id": g.client_id, "name": g.name, "scopes": g.scopes,
            "scope_labels": [scope_label(s) for s in g.scopes], "granted_at": _iso(g.granted_at),
            "withdrawn_at": _iso(g.revoked_at), "trust_level": g.acr, "methods": g.amr,
            "methods_label": amr_words(g.amr), "tokens_issued": g.tokens_issued,
            "last_token_at": _iso(g.last_token_at)} for g in copy.grants],
        "agreements": [{
            "document": a.document, "title": _agreement_title(brand, a.document, locale),
            "version": a.version, "accepted_at": _iso(a.accepted_at)} for a in copy.agreements],
        "counter_activation_codes": [{
            "purpose": c.purpose, "purpose_label": _words(PURPOSE_NAMES, c.purpose),
            "hall": _hall(copy, c.hall_code), "issued_at": _iso(c.issued_at),
            "expires_at": _iso(c.expires_at), "used_at": _iso(c.used_at),
            "withdrawn_at": _iso(c.revoked_at)} for c in copy.activation_codes],
        "not_included": [str(reason) for reason in NOT_INCLUDED],
    }


def _agreement_title(brand: Brand, key: str, locale: str) -> str:
    found = brand.agreement(key)
    return found.title.get(locale) if found else key


@bp.app_template_filter("iso_when")
def iso_when(value: str | None) -> str:
    """An ISO 8601 moment of the copy, as the pages show moments; "—" for none."""
    return when(datetime.fromisoformat(value)) if value else "—"


# --- pages ---
View = Callable[..., Response]


def copy_request(view: View) -> View:
    """Making a copy (a POST): signed in, and right after the person proved their factors
    (the rule of `recent_sign_in`); otherwise they sign in (again) and come back to the page
    that offers the copy, never to the POST's own address."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        back = url_for("accounts.data_copy")
        found = current_user()
        if found is None:
            return redirect(url_for("accounts.login", next=back), 303)
        sso, user = found
        if not recent_sign_in(sso, user):
            return redirect(url_for("accounts.login", next=back, reauth=1,
                                    login_hint=user.username), 303)
        return view(sso, user, *args, **kwargs)

    return wrapper


def _offer(allowance: Allowance, status: int = 200, error: str | None = None) -> Response:
    response = page("data_copy.html", status, allowance=allowance, error=error)
    if allowance.retry_at is not None and status == 429:
        wait = int((allowance.retry_at - personal_data().now()).total_seconds())
        response.headers["Retry-After"] = str(max(1, wait))
    return response


def _refusal(allowance: Allowance) -> Response:
    return _offer(allowance, 429, _(
        "You have made %(limit)s copies in the last 24 hours. You can make the next one after "
        "%(time)s.", limit=allowance.limit, time=when(allowance.retry_at or
                                                      personal_data().now())))


def _filename(copy: PersonalData, extension: str) -> str:
    return f"personal-data-{copy.generated_at:%Y%m%d-%H%M%S}.{extension}"


@bp.get("/account/data")
@signed_in
@recently_signed_in
def data_copy(sso: SsoSession, user: User) -> Response:
    return _offer(personal_data().allowance(user))


def _generate(sso: SsoSession, user: User,
              kind: str) -> tuple[PersonalData, dict[str, Any]] | Response:
    """One copy within the allowance, audited: (what was collected, the document), or the
    refusal page."""
    service = personal_data()
    allowance = service.reserve(user)
    if not allowance.allowed:
        return _refusal(allowance)
    copy = service.collect(user, sso.sid)
    document = as_document(copy, current_app.extensions["idp.brand"])
    service.generated(user, kind, request.remote_addr)
    return copy, document


@bp.post("/account/data.json")
@copy_request
def data_copy_json(sso: SsoSession, user: User) -> Response:
    made = _generate(sso, user, "json")
    if isinstance(made, Response):
        return made
    copy, document = made
    body = json.dumps(document, ensure_ascii=False, indent=2)
    response = make_response(body + "\n", 200)
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{_filename(copy, "json")}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/account/data.html")
@copy_request
def data_copy_html(sso: SsoSession, user: User) -> Response:
    made = _generate(sso, user, "html")
    if isinstance(made, Response):
        return made
    copy, document = made
    response = page("data_copy_print.html", doc=document)
    response.headers["Content-Disposition"] = \
        f'inline; filename="{_filename(copy, "html")}"'
    return response

"""Business systems (业务系统): the list with live status and last login, registering a system
and its OIDC client in one form (the secret shown once), a system's page, its declared
status, and attaching an existing client."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.access.errors import AccessError
from idp.admin.forms import (
    STATUS_NAMES,
    AttachClientForm,
    FilterForm,
    RegisterSystemForm,
    StatusForm,
    lines,
)
from idp.admin.registration import (
    RegistrationRefused,
    SystemFields,
    register_system_and_client,
)
from idp.admin.views import bp
from idp.admin.views.common import access, actor, back, not_found, page, refreshed
from idp.oauth.server import provider

PAGE_SIZE = 50


@bp.get("/")
def index() -> Response:
    return redirect(url_for("admin.systems"), 303)


@bp.get("/systems")
def systems() -> Response:
    form = FilterForm(request.args, meta={"csrf": False})
    form.validate()
    number = _page_number()
    service = refreshed()
    department = (form.department.data or "").strip() or None
    status = form.status.data if not form.status.errors else None
    found = service.systems.search(department_code=department, status=status or None,
                                 query=(form.q.data or "").strip() or None,
                                 limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    pages = max(1, -(-found.total // PAGE_SIZE))
    return page("admin_systems.html", form=form, systems=found.systems, total=found.total,
                number=min(number, pages), pages=pages, window_days=service.live_days,
                departments=service.departments(), args=_filters(form))


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1


def _filters(form: Any) -> dict[str, str]:
    return {k: v for k, v in (("department", form.department.data or ""),
                              ("status", form.status.data or ""), ("q", form.q.data or ""))
            if v}


@bp.route("/systems/new", methods=["GET", "POST"])
def register_system() -> Response:
    service = access()
    form = RegisterSystemForm()
    error = None
    if form.validate_on_submit():
        fields = SystemFields(code=form.code.data or "", name=(form.name.data or "").strip(),
                              department_code=(form.department.data or "").strip(),
                              contact=form.contact.data, item_codes=lines(form.items.data))
        try:
            done = register_system_and_client(service, provider().clients, system=fields,
                                              client=_client_fields(form), actor=actor())
        except RegistrationRefused as refused:
            error = (_("The client was refused: %(reason)s", reason=str(refused))
                     if refused.part == "client" else
                     _("The system was refused: %(reason)s", reason=str(refused)))
        else:
            return page("admin_secret.html", created=True, system_code=done.system_code,
                        client_id=done.client_id, secret=done.client_secret)
    status = 400 if request.method == "POST" else 200
    return page("admin_system_new.html", status, form=form, error=error,
                departments=service.departments())


def _client_fields(form: RegisterSystemForm) -> dict[str, Any]:
    """The client half of the form as ClientService.register takes it (idp clients create)."""
    return {"name": (form.client_name.data or "").strip() or (form.name.data or "").strip(),
            "redirect_uris": lines(form.redirect_uris.data),
            "auth_method": form.auth_method.data,
            "jwks_uri": (form.jwks_uri.data or "").strip() or None,
            "grant_types": list(form.grant_types.data or []) or None,
            "scope": form.scope.data or "openid",
            "post_logout_redirect_uris": lines(form.post_logout_redirect_uris.data),
            "backchannel_logout_uri": (form.backchannel_logout_uri.data or "").strip() or None,
            "subject_type": form.subject_type.data,
            "sector_identifier": (form.sector_identifier.data or "").strip() or None,
            "id_token_alg": form.id_token_alg.data, "first_party": bool(form.first_party.data),
            "require_mfa": bool(form.require_mfa.data),
            "events_uri": (form.events_uri.data or "").strip() or None,
            "events_delivery": form.events_delivery.data or None}


@bp.get("/systems/<code>")
def system(code: str) -> Response:
    service = refreshed()
    try:
        view = service.systems.view(code)
    except AccessError:
        return not_found(_("There is no business system with this code."))
    clients = [(client_id, provider().clients.get(client_id),
                sum(n for _day, n in service.client_days(client_id, service.live_days)))
               for client_id in view.clients]
    return page("admin_system.html", system=view, clients=clients,
                items=service.systems.item_codes(code), window_days=service.live_days,
                status_form=StatusForm(status=view.status), attach_form=AttachClientForm())


@bp.post("/systems/<code>/status")
def system_status(code: str) -> Response:
    form = StatusForm()
    if not form.validate_on_submit():
        return back("admin.system", error=_("Choose one of the statuses."), code=code)
    try:
        access().systems.set_status(code, form.status.data or "", actor=actor())
    except AccessError as refused:
        if refused.code == "unknown_system":
            return not_found(_("There is no business system with this code."))
        return back("admin.system", error=str(refused), code=code)
    return back("admin.system", _("The declared status is now “%(status)s”.",
                                  status=_status_name(form.status.data)), code=code)


@bp.post("/systems/<code>/clients")
def attach_client(code: str) -> Response:
    form = AttachClientForm()
    if not form.validate_on_submit():
        return back("admin.system", error=_("Enter a client ID."), code=code)
    client_id = (form.client_id.data or "").strip()
    try:
        access().systems.attach_client(code, client_id, actor=actor())
    except AccessError as refused:
        if refused.code == "unknown_system":
            return not_found(_("There is no business system with this code."))
        return back("admin.system", error=_attach_refusal(refused, client_id), code=code)
    return back("admin.system", _("Client %(client)s now belongs to this system.",
                                  client=client_id), code=code)


def _attach_refusal(refused: AccessError, client_id: str) -> str:
    if refused.code == "unknown_client":
        return _("There is no client %(client)s.", client=client_id)
    if refused.code == "client_taken":
        return _("Client %(client)s already belongs to another system.", client=client_id)
    return str(refused)


def _status_name(status: str | None) -> str:
    return str(STATUS_NAMES.get(status or "", status or ""))

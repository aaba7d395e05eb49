"""A client's page (its registration and its daily logins over 30 days, as an SVG chart and a
table), rotating its secret (the new one shown once), disabling and enabling it, and the
security events it receives (how, and how many delivered, given up and pending)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from idp.admin.charts import column_chart
from idp.admin.forms import ConfirmForm, EventsForm
from idp.admin.views import bp
from idp.admin.views.common import access, actor, back, not_found, page, refreshed
from idp.oauth.models import Client
from idp.oauth.server import provider
from idp.oauth.services import SECRET_AUTH_METHODS, ClientRegistrationError
from idp.oauth.ssf.delivery import event_counts, retry_failed

DAYS = 30


def _client(client_id: str) -> Client | None:
    return provider().clients.get(client_id) if 0 < len(client_id) <= 80 else None




@bp.get("/clients/<client_id>")
def client(client_id: str) -> Response:
    found = _client(client_id)
    if found is None:
        return not_found(_("There is no client with this ID."))
    service = refreshed()
    days = [(day.isoformat(), count) for day, count in service.client_days(client_id, DAYS)]
    counts = event_counts(client_id)
    return page("admin_client.html", client=found, days=days, chart=column_chart(days),
                total=sum(count for _day, count in days), days_shown=DAYS,
                system_code=service.systems.system_of_client(client_id), form=ConfirmForm(),
                rotatable=found.auth_method in SECRET_AUTH_METHODS,
                events=counts[0] if counts else None,
                events_form=EventsForm(events_delivery=found.events_delivery or "",
                                       events_uri=found.events_uri or ""))


@bp.post("/clients/<client_id>/rotate")
def rotate_secret(client_id: str) -> Response:
    found = _client(client_id)
    if found is None:
        return not_found(_("There is no client with this ID."))
    if not ConfirmForm().validate_on_submit():
        return back("admin.client", error=_("The form expired; try again."), client_id=client_id)
    try:
        secret = provider().clients.rotate_secret(client_id, actor())
    except ClientRegistrationError:
        return back("admin.client", error=_("This client authenticates without a client "
                                            "secret: there is none to rotate."),
                    client_id=client_id)
    return page("admin_secret.html", created=False, client_id=client_id, secret=secret,
                system_code=access().systems.system_of_client(client_id))


@bp.post("/clients/<client_id>/disable")
def disable_client(client_id: str) -> Response:
    if _client(client_id) is None:
        return not_found(_("There is no client with this ID."))
    if not ConfirmForm().validate_on_submit():
        return back("admin.client", error=_("The form expired; try again."), client_id=client_id)
    ended = provider().clients.disable(client_id, actor())
    return back("admin.client", ngettext(
        "The client is disabled: it can no longer log anyone in or obtain tokens. %(num)s "
        "grant was revoked.", "The client is disabled: it can no longer log anyone in or "
        "obtain tokens. %(num)s grants were revoked.", ended), client_id=client_id)


@bp.post("/clients/<client_id>/enable")
def enable_client(client_id: str) -> Response:
    if _client(client_id) is None:
        return not_found(_("There is no client with this ID."))
    if not ConfirmForm().validate_on_submit():
        return back("admin.client", error=_("The form expired; try again."), client_id=client_id)
    provider().clients.enable(client_id, actor())
    return back("admin.client", _("The client is enabled again. Grants revoked when it was "
                                  "disabled stay revoked."), client_id=client_id)


@bp.post("/clients/<client_id>/events")
def client_events(client_id: str) -> Response:
    if _client(client_id) is None:
        return not_found(_("There is no client with this ID."))
    form = EventsForm()
    if not form.validate_on_submit():
        return back("admin.client", error=_("The form expired; try again."), client_id=client_id)
    delivery = form.events_delivery.data or None
    try:
        provider().clients.set_events(client_id, delivery=delivery, actor=actor(),
                                      events_uri=(form.events_uri.data or "").strip() or None)
    except ClientRegistrationError as refused:
        return back("admin.client", error=_("The change was refused: %(reason)s",
                                            reason=str(refused)), client_id=client_id)
    return back("admin.client", _("Security events are off for this client.")
                if delivery is None else _("Security events are now sent this way."),
                client_id=client_id)


@bp.post("/clients/<client_id>/events/retry")
def retry_client_events(client_id: str) -> Response:
    if _client(client_id) is None:
        return not_found(_("There is no client with this ID."))
    if not ConfirmForm().validate_on_submit():
        return back("admin.client", error=_("The form expired; try again."), client_id=client_id)
    count = retry_failed(client_id, actor())
    return back("admin.client", ngettext(
        "%(num)s given-up event will be sent again.",
        "%(num)s given-up events will be sent again.", count), client_id=client_id)

"""Console forms (Flask-WTF: every POST carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from idp.access.models import CONNECTED, REGISTERED, RETIRED, TESTING
from idp.accounts.forms import nfkc

STATUS_NAMES = {REGISTERED: _l("Registered"), TESTING: _l("Integration testing"),
                CONNECTED: _l("Connected (declared)"), RETIRED: _l("Retired"),
                "live": _l("Live (proven by logins)")}
AUTH_METHOD_CHOICES = [
    SelectChoice("client_secret_basic", _l("Client secret, HTTP Basic (client_secret_basic)")),
    SelectChoice("client_secret_post", _l("Client secret in the form (client_secret_post)")),
    SelectChoice("private_key_jwt", _l("Signed assertion with its own key (private_key_jwt)")),
    SelectChoice("none", _l("Public client with PKCE, no secret (none)"))]
EVENTS_CHOICES = [
    SelectChoice("", _l("None")),
    SelectChoice("push", _l("Pushed to the system's events URI (RFC 8935)")),
    SelectChoice("poll", _l("Polled by the system (RFC 8936)"))]
GRANT_CHOICES = [
    SelectChoice("authorization_code", _l("Authorization code (people log in)")),
    SelectChoice("refresh_token", _l("Refresh tokens")),
    SelectChoice("client_credentials", _l("Client credentials (the system itself)"))]
SYSTEM_CODE = Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", message=_l(
    "A system code is up to 64 letters, digits, '.', '_' or '-'."))


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def lines(value: str | None) -> list[str]:
    """Entries typed one per line (or separated by spaces or commas), in order, once each."""
    seen: list[str] = []
    for entry in (value or "").replace(",", " ").split():
        if entry not in seen:
            seen.append(entry)
    return seen


class ClientFields:
    """The client half of the registration form: what `idp clients create` takes."""

    client_name = StringField(_l("Client name (default: the system's name)"),
                              validators=[Length(max=200)])
    redirect_uris = TextAreaField(_l("Redirect URIs (one per line)"),
                                  validators=[Length(max=4000)])
    auth_method = SelectField(_l("Token endpoint authentication"), choices=AUTH_METHOD_CHOICES,
                              default="client_secret_basic")
    jwks_uri = StringField(_l("JWKS URI (private_key_jwt)"), validators=[Length(max=500)])
    grant_types = Checkboxes(_l("Grant types"), choices=GRANT_CHOICES,
                             default=["authorization_code", "refresh_token"])
    scope = StringField(_l("Scopes"), default="openid profile phone",
                        validators=[Length(max=500)])
    post_logout_redirect_uris = TextAreaField(_l("Post-logout redirect URIs (one per line)"),
                                              validators=[Length(max=4000)])
    backchannel_logout_uri = StringField(_l("Back-channel logout URI"),
                                         validators=[Length(max=500)])
    subject_type = SelectField(_l("Subject identifiers"), choices=[
        SelectChoice("public", _l("Public: the same for every system")),
        SelectChoice("pairwise", _l("Pairwise: different for each sector"))], default="public")
    sector_identifier = StringField(_l("Sector identifier (pairwise; default: the redirect "
                                       "URIs' host)"), validators=[Length(max=255)])
    id_token_alg = SelectField(_l("ID token signature"), choices=[
        SelectChoice("RS256", "RS256"), SelectChoice("ES256", "ES256")], default="RS256")
    first_party = BooleanField(_l("First-party system: no consent page"))
    require_mfa = BooleanField(_l("Every login to this system needs a second factor"))
    events_delivery = SelectField(_l("Security events"), choices=EVENTS_CHOICES, default="")
    events_uri = StringField(_l("Events URI (push)"), validators=[Length(max=500)])


class RegisterSystemForm(ClientFields, FlaskForm):
    code = StringField(_l("System code"), filters=[nfkc], validators=[
        DataRequired(message=_l("Enter a system code.")), SYSTEM_CODE])
    name = StringField(_l("System name"), validators=[
        DataRequired(message=_l("Enter the system's name.")), Length(max=200)])
    department = StringField(_l("Department code"), filters=[nfkc], validators=[
        DataRequired(message=_l("Enter the department's code.")), Length(max=40)])
    contact = StringField(_l("Contact (person and telephone)"), validators=[Length(max=200)])
    items = TextAreaField(_l("Items it handles (item codes, one per line)"),
                          validators=[Length(max=20000)])


class AttachClientForm(FlaskForm):
    client_id = StringField(_l("Client ID"), filters=[nfkc], validators=[
        DataRequired(message=_l("Enter a client ID.")), Length(max=80)])


class StatusForm(FlaskForm):
    status = SelectField(_l("Declared status"), choices=[
        SelectChoice(s, STATUS_NAMES[s]) for s in (REGISTERED, TESTING, CONNECTED, RETIRED)])


class EventsForm(FlaskForm):
    """How a registered client receives security events (idp events configure)."""

    events_delivery = SelectField(_l("Security events"), choices=EVENTS_CHOICES, default="")
    events_uri = StringField(_l("Events URI (push)"), validators=[Length(max=500)])


class ConfirmForm(FlaskForm):
    """An action button (rotate, disable, enable): the CSRF token is the whole form."""


class ImportForm(FlaskForm):
    kind = SelectField(_l("What the file holds"), choices=[
        SelectChoice("departments", _l("Departments")), SelectChoice("items", _l("Service items")),
        SelectChoice("systems", _l("Business systems"))])
    file = FileField(_l("CSV file (UTF-8)"))
    dry_run = BooleanField(_l("Dry run: check every row, write nothing"), default=True)


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    department = StringField(_l("Department code"), filters=[nfkc],
                             validators=[Optional(), Length(max=40)])
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("Any status"))] + [
        SelectChoice(s, STATUS_NAMES[s]) for s in ("live", CONNECTED, TESTING, REGISTERED,
                                                   RETIRED)], validators=[Optional()])
    q = StringField(_l("Code or name contains"), validators=[Optional(), Length(max=100)])

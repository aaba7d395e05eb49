"""Counter forms (Flask-WTF: every POST carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from idp.accounts.forms import nfkc
from idp.accounts.phones import normalize_phone
from idp.counter.cardreader import MAX_LENGTH
from idp.counter.desk import PHONE
from realname.documents import DocumentType

CODE = Regexp(r"^\s*[0-9]{6}\s*$", message=_l("Enter the 6-digit code."))
DATE = {"type": "date"}


def document_choices(with_phone: bool = False) -> list[SelectChoice]:
    """The documents a counter sees (not the credit code: that names an organisation)."""
    names = {
        DocumentType.ID_NUMBER: _l("Resident ID card (公民身份号码)"),
        DocumentType.RESIDENCE_PERMIT: _l("Residence permit for Hong Kong, Macao and Taiwan "
                                          "residents"),
        DocumentType.HK_MACAU_TRAVEL_PERMIT: _l("Mainland travel permit for Hong Kong and "
                                                "Macao residents"),
        DocumentType.TW_TRAVEL_PERMIT: _l("Mainland travel permit for Taiwan residents"),
        DocumentType.FOREIGN_PERMANENT_RESIDENCE: _l("Foreign permanent resident ID card"),
        DocumentType.PASSPORT: _l("Passport"),
    }
    choices = [SelectChoice(t.value, label) for t, label in names.items()]
    return ([SelectChoice(PHONE, _l("Mobile number"))] + choices) if with_phone else choices


PURPOSE_CHOICES = [SelectChoice("service", _l("Handling a service (业务办理)")),
                   SelectChoice("verification", _l("Identity verification (身份核验)")),
                   SelectChoice("recovery", _l("Account recovery (账户找回)")),
                   SelectChoice("complaint", _l("Complaint (投诉处理)")),
                   SelectChoice("other", _l("Other (describe below)"))]


class StaffLoginForm(FlaskForm):
    username = StringField(_l("Staff username"), filters=[nfkc], validators=[
        DataRequired(message=_l("Enter your staff username.")), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(message=_l("Enter your password.")), Length(max=256)])
    code = StringField(_l("Authenticator code"), filters=[nfkc], validators=[
        DataRequired(message=_l("Enter the 6-digit code.")), CODE])


class EnrolForm(FlaskForm):
    one_time_password = PasswordField(_l("One-time password you were given"), validators=[
        DataRequired(message=_l("Enter the one-time password.")), Length(max=256)])
    password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Enter a password.")), Length(max=128)])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", message=_l("The two passwords differ."))])
    code = StringField(_l("Code shown by the app"), filters=[nfkc], validators=[
        DataRequired(message=_l("Enter the 6-digit code.")), CODE])


class ReasonMixin:
    purpose = SelectField(_l("Reason for opening the record"), choices=PURPOSE_CHOICES,
                          validators=[DataRequired(message=_l("Choose a reason."))])
    detail = StringField(_l("Details (required for “Other”)"), validators=[Length(max=200)])

    def validate_detail(self, field: StringField) -> None:
        if self.purpose.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Describe the reason."))


class SearchForm(ReasonMixin, FlaskForm):
    kind = SelectField(_l("Search by"), choices=document_choices(with_phone=True))
    query = StringField(_l("Document number or mobile number"), filters=[nfkc], validators=[
        DataRequired(message=_l("Enter a number to search for.")), Length(max=40)])


class OpenForm(ReasonMixin, FlaskForm):
    pass


class RevealForm(FlaskForm):
    reason = StringField(_l("Why the full number is needed"), validators=[
        DataRequired(message=_l("Give a reason.")), Length(max=200)])


class DocumentForm(FlaskForm):
    """The document as read from the card: typed, or a card reader's JSON."""

    document_type = SelectField(_l("Document"), choices=document_choices())
    number = StringField(_l("Document number"), filters=[nfkc], validators=[Length(max=40)])
    name = StringField(_l("Name as printed on the document"), validators=[Length(max=100)])
    valid_until = StringField(_l("Valid until"), render_kw=DATE, validators=[Length(max=20)])
    long_term = BooleanField(_l("Valid long-term (长期)"))
    card_json = TextAreaField(_l("Card reader data (JSON), instead of typing"),
                              validators=[Length(max=MAX_LENGTH)])
    photo_compared = BooleanField(_l("I compared the photo on the document with the person"))


class RegisterForm(DocumentForm):
    phone = StringField(_l("Mobile number (optional)"), filters=[normalize_phone],
                        validators=[Optional(), Regexp(r"^1[3-9][0-9]{9}$", message=_l(
                            "Enter an 11-digit mobile number, or leave it empty."))])


class RecoverForm(FlaskForm):
    reset_password = BooleanField(_l("Reset the password (prints an activation slip)"))
    remove_factors = BooleanField(_l("Remove the authenticator app and recovery codes"))
    new_phone = StringField(_l("New mobile number (leave empty to keep)"),
                            filters=[normalize_phone], validators=[Optional(), Regexp(
                                r"^1[3-9][0-9]{9}$",
                                message=_l("Enter an 11-digit mobile number."))])


class AccountStatusForm(FlaskForm):
    reason = StringField(_l("Reason (recorded in the audit log)"), validators=[
        DataRequired(message=_l("Give a reason.")), Length(max=200)])


class CaseForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("transfer", _l("Transfer the document to the claimant's account")),
        SelectChoice("keep", _l("Keep the document on the current holder's account"))],
        validators=[DataRequired(message=_l("Choose a decision."))])
    note = TextAreaField(_l("Note (required)"), validators=[
        DataRequired(message=_l("Write a note explaining the decision.")), Length(max=1000)])


class StaffCreateForm(FlaskForm):
    username = StringField(_l("Staff username"), filters=[nfkc], validators=[
        DataRequired(message=_l("Enter a username.")), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[Length(max=100)])
    role = SelectField(_l("Role"), choices=[])
    hall = SelectField(_l("Service hall"), choices=[])
    id_number = StringField(_l("Their own ID number (optional: stops them acting on their "
                               "own account)"), filters=[nfkc], validators=[Length(max=20)])


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    day = StringField(_l("Day"), render_kw=DATE)
    hall = SelectField(_l("Service hall"), choices=[])


class ActivateForm(FlaskForm):
    identifier = StringField(_l("Username or ID number (on your slip)"), filters=[nfkc],
                             validators=[DataRequired(message=_l("Enter your username.")),
                                         Length(max=64)])
    code = StringField(_l("Activation code"), filters=[nfkc], validators=[
        DataRequired(message=_l("Enter the activation code.")), Length(max=40)])
    password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Enter a password.")), Length(max=128)])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", message=_l("The two passwords differ."))])


"""Account forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from idp.accounts.phones import normalize_phone


def nfkc(value: str | None) -> str | None:
    """Full-width digits and letters typed on Chinese keyboards, folded to ASCII."""
    return unicodedata.normalize("NFKC", value) if value else value


PHONE = Regexp(r"^1[3-9][0-9]{9}$", message=_l("Enter an 11-digit mobile number."))
CODE = Regexp(r"^\s*[0-9]{6}\s*$", message=_l("Enter the 6-digit code."))


class LoginForm(FlaskForm):
    identifier = StringField(_l("Username, mobile number or ID number"),
                             validators=[DataRequired(message=_l(
                                 "Enter your username, mobile number or ID number.")),
                                 Length(max=64)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(message=_l("Enter your password.")),
                                         Length(max=256)])
    next = HiddenField()


class PhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"), filters=[normalize_phone], validators=[DataRequired(
        message=_l("Enter an 11-digit mobile number.")), PHONE])
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(_l("Verification code"), filters=[nfkc], validators=[DataRequired(
        message=_l("Enter the 6-digit code.")), CODE])
    next = HiddenField()


class NewPasswordMixin:
    password = PasswordField(_l("New password"), validators=[DataRequired(
        message=_l("Enter a password.")), Length(max=128)])
    confirm = PasswordField(_l("Repeat the password"), validators=[EqualTo(
        "password", message=_l("The two passwords differ."))])


class RegisterForm(NewPasswordMixin, FlaskForm):
    code = StringField(_l("Verification code"), filters=[nfkc], validators=[DataRequired(
        message=_l("Enter the 6-digit code.")), CODE])
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=100)])
    username = StringField(_l("Username (optional)"), filters=[nfkc], validators=[
        Optional(), Regexp(r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$", message=_l(
            "A username is 3 to 64 letters, digits, “_”, “.” or “-”, starting with a letter."))])
    agree = BooleanField(validators=[DataRequired(message=_l(
        "Please read and accept the Terms of Service and the Privacy Policy."))])
    next = HiddenField()


class ResetForm(NewPasswordMixin, FlaskForm):
    code = StringField(_l("Verification code"), filters=[nfkc], validators=[DataRequired(
        message=_l("Enter the 6-digit code.")), CODE])


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(
        message=_l("Enter your password."))])


class MfaForm(FlaskForm):
    method = HiddenField()
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Enter the code.")),
                                               Length(max=256)])  # a password, for step-up


class PhoneChangeForm(FlaskForm):
    old_code = StringField(_l("Code sent to your current number"), filters=[nfkc],
                           validators=[DataRequired(
        message=_l("Enter the 6-digit code.")), CODE])
    new_phone = StringField(_l("New mobile number"), filters=[normalize_phone],
                            validators=[DataRequired(
        message=_l("Enter an 11-digit mobile number.")), PHONE])
    new_code = StringField(_l("Code sent to the new number"), filters=[nfkc],
                           validators=[DataRequired(
        message=_l("Enter the 6-digit code.")), CODE])


"""Account forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    identifier = StringField(_l("Username or mobile number"),
                             validators=[DataRequired(message=_l("Enter your username or mobile "
                                                                 "number.")), Length(max=64)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(message=_l("Enter your password.")),
                                         Length(max=256)])
    next = HiddenField()

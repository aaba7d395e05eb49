"""Forms of the self-service verification page (Flask-WTF: CSRF on every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from idp.accounts.forms import nfkc


# The page shows several of these forms at once: field names are the same in each (only one is
# posted), element ids differ so that every label points at its own field.
def _name(prefix: str) -> StringField:
    return StringField(_l("Name (as on your ID card)"), id=prefix + "-name", filters=[nfkc],
                       validators=[DataRequired(message=_l("Enter your name.")), Length(max=50)])


def _number(prefix: str) -> StringField:
    return StringField(_l("ID number"), id=prefix + "-id-number", filters=[nfkc], validators=[
        DataRequired(message=_l("Enter your 18-digit ID number.")), Length(max=24)])


class TwoElementForm(FlaskForm):
    """Name and ID number, confirmed by the national platform (level 3)."""

    name = _name("two")
    id_number = _number("two")
    next = HiddenField()
    level = HiddenField()


class RealPersonForm(FlaskForm):
    """... and a photo of the person's face, matched by the platform (level 4)."""

    name = _name("real")
    id_number = _number("real")
    photo = FileField(_l("A photo of your face"), id="real-photo")
    next = HiddenField()
    level = HiddenField()


class FaceForm(FlaskForm):
    """A face photo alone, for an account whose name and ID number are already confirmed."""

    photo = FileField(_l("A photo of your face"), id="face-photo")
    next = HiddenField()
    level = HiddenField()

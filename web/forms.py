"""WTForms forms (CSRF from Flask-WTF); messages are translated lazily."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from core.accounts import MIN_PASSWORD_LENGTH
from core.roles import Role

REQUIRED = _l("Please fill in this field.")


def language_choices(with_none: bool = False) -> list[SelectChoice]:
    choices = [
        SelectChoice("fr", "Français", render_kw={"lang": "fr"}),
        SelectChoice("nl", "Nederlands", render_kw={"lang": "nl"}),
        SelectChoice("en", "English", render_kw={"lang": "en"}),
    ]
    if with_none:
        choices.insert(0, SelectChoice("", _l("As on this device")))
    return choices


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, role_label(role)) for role in Role]


def role_label(role: Role | str) -> object:
    return {
        Role.ADMIN: _l("Administrator"),
        Role.COORDINATOR: _l("Home-care coordinator"),
        Role.SOCIAL_WORKER: _l("Social worker"),
        Role.RECEPTION: _l("Reception agent"),
        Role.AIDE: _l("Home aide"),
        Role.STREET_EDUCATOR: _l("Street educator"),
        Role.CREW: _l("Mobile crew"),
    }[Role(role)]


def new_password_validators() -> list[object]:
    # WTForms fills in %(min)d itself, after translation.
    return [
        DataRequired(REQUIRED),
        Length(min=MIN_PASSWORD_LENGTH, max=200, message=_l("At least %(min)d characters.")),
    ]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=language_choices(with_none=True))


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    new_password = PasswordField(
        _l("New password"),
        validators=new_password_validators(),
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("new_password", _l("The two passwords differ.")),
        ],
    )


class UserForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(REQUIRED), Length(min=2, max=40)],
        description=_l("Use small letters, numbers, dots or dashes. For example: m.dupont."),
    )
    display_name = StringField(
        _l("Full name"), validators=[DataRequired(REQUIRED), Length(max=120)]
    )
    role = SelectField(_l("Role"), choices=role_choices())
    team = SelectField(_l("Team or antenne"), choices=[], validators=[Optional()])
    language = SelectField(_l("Language"), choices=language_choices(with_none=True))
    password = PasswordField(
        _l("First password"),
        validators=new_password_validators(),
        description=_l(
            "Give this password to the person in private. They change it in their profile."
        ),
    )

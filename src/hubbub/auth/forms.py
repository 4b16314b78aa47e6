"""The account forms. Field rules live in the services, so the API and the pages agree."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired

from hubbub.services.errors import ServiceError


class RegisterForm(FlaskForm):  # type: ignore[misc]
    username = StringField("Username", validators=[DataRequired()])
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[InputRequired()])
    confirm = PasswordField(
        "Confirm password",
        validators=[InputRequired(), EqualTo("password", message="The passwords differ.")],
    )


class LoginForm(FlaskForm):  # type: ignore[misc]
    login = StringField("Username or email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[InputRequired()])
    remember = BooleanField("Remember me")


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField("Current password", validators=[InputRequired()])
    new_password = PasswordField("New password", validators=[InputRequired()])
    confirm = PasswordField(
        "Confirm new password",
        validators=[InputRequired(), EqualTo("new_password", message="The passwords differ.")],
    )


class ProfileForm(FlaskForm):  # type: ignore[misc]
    # Blank clears it; services/text.py holds the rule, PATCH /api/v1/me the same.
    display_name = StringField("Display name")


def show_errors(form: FlaskForm, error: ServiceError) -> None:
    """Put a service's per-field messages next to the fields they belong to."""
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
    if not error.fields:
        form.form_errors.append(error.message)

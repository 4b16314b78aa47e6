"""The account forms. Field rules live in the services, so the API and the pages agree."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired
from wtforms.widgets import PasswordInput

from hubbub.services.errors import ServiceError


class AccountForm(FlaskForm):  # type: ignore[misc]
    """A form of the account pages, which can be shown again after a failed submit."""

    # Passwords that stand or fall together (a new one and its confirmation).
    password_groups: tuple[tuple[str, ...], ...] = ()
    # Set by show_again when the errors belong to no field: the summary takes the focus.
    focus_summary = False

    def show_again(self) -> None:
        """Ready the form to be shown with its errors: focus starts at the first of them, and
        what was typed stays, passwords included where that is safe (see keep_passwords)."""
        first = next((f for f in self if f.errors and _visible(f)), None)
        if first is not None:
            # A fresh dict: render_kw may be the one dict every instance of the class shares.
            first.render_kw = {**(first.render_kw or {}), "autofocus": True}
        else:
            self.focus_summary = bool(self.form_errors)
        self.keep_passwords()

    def keep_passwords(self) -> None:
        """Give a typed password back only when every error is in a field outside its group.

        Retyping a password the server had no complaint about (the username was taken) is a
        chore that invites a weaker one. But an error of the form itself (wrong username or
        password, too many tries) or of the group (too short, the two differ) means the
        password is what must change, so it is never sent back then: a failed log-in never
        echoes the password it refused.
        """
        if self.form_errors:
            return
        for group in self.password_groups:
            fields = [self[name] for name in group]
            if any(field.errors for field in fields):
                continue
            for field in fields:
                field.widget = PasswordInput(hide_value=False)


def _visible(field: object) -> bool:
    return getattr(getattr(field, "widget", None), "input_type", None) != "hidden"


class RegisterForm(AccountForm):
    password_groups = (("password", "confirm"),)

    username = StringField("Username", validators=[DataRequired()])
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[InputRequired()])
    confirm = PasswordField(
        "Confirm password",
        validators=[InputRequired(), EqualTo("password", message="The passwords differ.")],
    )


class LoginForm(AccountForm):
    password_groups = (("password",),)

    login = StringField("Username or email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[InputRequired()])
    remember = BooleanField("Remember me")


class PasswordForm(AccountForm):
    password_groups = (("current_password",), ("new_password", "confirm"))

    current_password = PasswordField("Current password", validators=[InputRequired()])
    new_password = PasswordField("New password", validators=[InputRequired()])
    confirm = PasswordField(
        "Confirm new password",
        validators=[InputRequired(), EqualTo("new_password", message="The passwords differ.")],
    )


class ProfileForm(AccountForm):
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

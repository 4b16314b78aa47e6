"""Register, log in, log out, change password, and the profile (the display name)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from hubbub.auth.forms import (
    AccountForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    show_errors,
)
from hubbub.extensions import login_manager
from hubbub.limits import login_per_account, login_per_ip, mark_login_failed, register_per_ip
from hubbub.models import User
from hubbub.services import accounts
from hubbub.services.errors import ServiceError
from hubbub.sessions import current_server_session

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to see that page."


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return accounts.get_active_user(int(user_id)) if user_id.isdigit() else None


def _start_session(user: User, remember: bool) -> None:
    current_server_session().rotate()
    login_user(user)
    session.permanent = remember


def _form_page(
    template: str, form: AccountForm, status: int, **context: Any
) -> ResponseReturnValue:
    """A page with a form, shown again with its errors when `status` says the submit failed."""
    if status < 400:
        return render_template(template, form=form, **context), status
    form.show_again()
    response = make_response(render_template(template, form=form, **context), status)
    # It may carry a typed password back: never keep it in a cache or the history's copies.
    response.headers["Cache-Control"] = "no-store"
    return response


def _next_page() -> str:
    target = request.args.get("next", "")
    parts = urlsplit(target)
    # Only a path on this site: never another host, nor a scheme-relative //host.
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return url_for("web.dashboard")


@bp.route("/register", methods=["GET", "POST"])
@register_per_ip
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.register_user(form.username.data, form.email.data, form.password.data)
        except ServiceError as error:
            show_errors(form, error)
            status = error.status
        else:
            _start_session(user, remember=False)
            flash(f"Welcome to Hubbub, {user.username}!")
            return redirect(url_for("web.dashboard"))
    elif form.is_submitted():
        status = 422
    return _form_page("auth/register.html", form, status)


@bp.route("/login", methods=["GET", "POST"])
@login_per_account
@login_per_ip
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.login.data, form.password.data)
        except ServiceError as error:
            mark_login_failed()
            form.form_errors.append(error.message)
            status = error.status
        else:
            _start_session(user, remember=bool(form.remember.data))
            return redirect(_next_page())
    elif form.is_submitted():
        status = 422
    return _form_page("auth/login.html", form, status)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    current_server_session().end()
    flash("You are logged out.")
    return redirect(url_for("web.home"))


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current_password.data, form.new_password.data)
        except ServiceError as error:
            show_errors(form, error)
            status = error.status
        else:
            _start_session(user, remember=bool(session.permanent))
            flash("Your password is changed. Every other session has been logged out.")
            return redirect(url_for("web.dashboard"))
    elif form.is_submitted():
        status = 422
    return _form_page("auth/password.html", form, status)


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required
def profile() -> ResponseReturnValue:
    user = current_user._get_current_object()
    form = ProfileForm(display_name=user.display_name or "")
    status = 200
    if form.validate_on_submit():
        try:
            accounts.update_profile(user, form.display_name.data)
        except ServiceError as error:
            show_errors(form, error)
            status = error.status
        else:
            saved = "saved" if user.display_name else "cleared"
            flash(f"Your display name is {saved}.")
            return redirect(url_for("auth.profile"))
    elif form.is_submitted():
        status = 422
    return _form_page("auth/profile.html", form, status, user=user)

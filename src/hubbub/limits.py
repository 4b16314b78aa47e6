"""Rate limits on logging in and registering, shared by the pages and the API.

Failed logins are counted per account and per IP; a request is counted only when the view
marks it failed, but once a limit is spent every attempt answers 429 until the window moves on.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from hubbub.extensions import limiter
from hubbub.services import accounts


def mark_login_failed() -> None:
    g.login_failed = True


def _login_failed(_response: object) -> bool:
    return bool(g.get("login_failed"))


def _login_field() -> str:
    if request.is_json:
        data = request.get_json(silent=True)
        value = data.get("login") if isinstance(data, dict) else None
    else:
        value = request.form.get("login")
    return value if isinstance(value, str) else ""


def _account_key() -> str:
    # Key on the account itself, so its username and email share one allowance.
    login = _login_field()
    user = accounts.find_user_by_login(login) if login else None
    return f"user:{user.id}" if user is not None else f"login:{login.strip().lower()}"


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


def _is_read() -> bool:
    return request.method in {"GET", "HEAD"}


login_per_account = limiter.shared_limit(
    _setting("HUBBUB_LOGIN_LIMIT_ACCOUNT"),
    scope="login-account",
    key_func=_account_key,
    deduct_when=_login_failed,
    exempt_when=_is_read,
)
login_per_ip = limiter.shared_limit(
    _setting("HUBBUB_LOGIN_LIMIT_IP"),
    scope="login-ip",
    key_func=get_remote_address,
    deduct_when=_login_failed,
    exempt_when=_is_read,
)
register_per_ip = limiter.shared_limit(
    _setting("HUBBUB_REGISTER_LIMIT_IP"),
    scope="register-ip",
    key_func=get_remote_address,
    exempt_when=_is_read,
)

"""Who is calling the API: a bearer token, a browser session with its CSRF token, or no one."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from hubbub.extensions import csrf
from hubbub.models import User
from hubbub.services import tokens
from hubbub.services.credentials import SESSION, TOKEN, Credential
from hubbub.services.errors import Unauthenticated
from hubbub.sessions import current_server_session, token_hash

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def authenticate_request() -> None:
    """Set g.user and g.auth ("token", "session" or None) before every API view."""
    g.user, g.auth, g.credential = None, None, None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        found = tokens.token_for_secret(secret.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise Unauthenticated(
                "The Authorization header must be 'Bearer <token>' with a valid token.",
                code="invalid_token",
            )
        token, user = found
        g.user, g.auth = user, "token"
        # By its hash, not its id: SQLite may give a revoked token's id to the next one.
        g.credential = Credential(TOKEN, token.token_hash, user.id)
    elif current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            csrf.protect()
        g.user, g.auth = current_user._get_current_object(), "session"
        cookie = current_server_session().token or ""
        g.credential = Credential(SESSION, token_hash(cookie), g.user.id)


def credential() -> Credential:
    """What the caller was let in with (call after require_user)."""
    found: Credential = g.credential
    return found


def require_user() -> User:
    if g.user is None:
        raise Unauthenticated("Log in, or send 'Authorization: Bearer <token>'.")
    user: User = g.user
    return user


def caller() -> User:
    user: User = g.user
    return user

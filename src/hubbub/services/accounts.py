"""Accounts: registration, authentication, password changes and deactivation."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hubbub import passwords
from hubbub.models import ApiToken, User, WebSession, db
from hubbub.services import text
from hubbub.services.errors import Conflict, Invalid, NotFound, Unauthenticated

USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{3,32}")
USERNAME_RULE = "Use 3 to 32 characters: letters a-z, digits, dots, underscores or hyphens."
BAD_CREDENTIALS = "That username or email and password do not match an account."


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def _check_new_account(username: str, email: str, password: str) -> tuple[str, str]:
    fields: dict[str, str] = {}
    username = normalise_username(username)
    if not USERNAME_PATTERN.fullmatch(username):
        fields["username"] = USERNAME_RULE
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        fields["email"] = f"Enter a valid email address: {error}"
    problem = passwords.problem_with(password)
    if problem:
        fields["password"] = problem
    if fields:
        raise Invalid("Some fields need another look.", fields=fields)
    return username, email


def register_user(username: str, email: str, password: str) -> User:
    """Create an account. Anyone may call; writes one users row.

    Raises Invalid for a malformed field and Conflict when the username or email is in use,
    with a message per field in both cases.
    """
    username, email = _check_new_account(username, email, password)
    fields = {}
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        fields["username"] = "This username is taken; choose another."
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        fields["email"] = "This email address cannot be used; log in or use another."
    if fields:
        raise Conflict("That account cannot be created.", fields=fields)
    user = User(username=username, email=email, password_hash=passwords.hash_password(password))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as error:
        # Someone registered the same name between our check and our insert.
        db.session.rollback()
        raise Conflict(
            "That account cannot be created.",
            fields={"username": "This username or email address is already in use."},
        ) from error
    return user


def find_user_by_login(login: str) -> User | None:
    """The account a login form names, by username or by email, active or not."""
    login = login.strip().lower()
    if "\x00" in login:
        # No account has one, and PostgreSQL refuses NUL in text outright.
        return None
    column = User.email if "@" in login else User.username
    return db.session.scalar(select(User).where(column == login))


def get_active_user(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None


def authenticate(login: str, password: str) -> User:
    """Return the active account that login and password name, or raise Unauthenticated.

    The answer and its cost are the same for an unknown login, a wrong password and a
    deactivated account. Upgrades the stored hash when the cost settings have changed.
    """
    user = find_user_by_login(login)
    if user is None:
        passwords.burn_time(password)
        raise Unauthenticated(BAD_CREDENTIALS, code="invalid_credentials")
    if not passwords.verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthenticated(BAD_CREDENTIALS, code="invalid_credentials")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        db.session.commit()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password for user, who must know the current one.

    Ends every browser session and revokes every API token of the user: whoever knew the old
    password may have made them. The caller starts a new session for the browser that made
    the change. Open streams of the ended sessions and tokens close within seconds
    (realtime/access.py).
    """
    if not passwords.verify_password(user.password_hash, current_password):
        raise Invalid(
            "The current password is wrong.",
            fields={"current_password": "This is not your current password."},
        )
    problem = passwords.problem_with(new_password)
    if problem:
        raise Invalid("Choose another password.", fields={"new_password": problem})
    user.password_hash = passwords.hash_password(new_password)
    _end_access(user)
    db.session.commit()


def _end_access(user: User) -> None:
    db.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def set_active(username: str, active: bool) -> User:
    """Let a user in again, or keep them out: for operators (the `flask users` command).

    Deactivating ends the user's sessions and revokes their tokens; their messages stay.
    """
    user: User | None = db.session.scalar(
        select(User).where(User.username == normalise_username(username))
    )
    if user is None:
        raise NotFound("There is no user with that username.")
    user.is_active = active
    if not active:
        _end_access(user)
    db.session.commit()
    return user


def update_profile(user: User, display_name: str | None) -> User:
    """Set or clear (None or blank) the display name of user, who is the caller: the API's
    PATCH /me and the settings page. Writes the users row only.

    Emits no event: a display name is a slow-changing label that others see the next time
    they load members or messages. Raises Invalid (field display_name) and writes nothing for
    a name services/text.py refuses.
    """
    user.display_name = text.clean_display_name(display_name)
    db.session.commit()
    return user

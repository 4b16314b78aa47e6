"""Personal API tokens: created for a user, shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from hubbub.models import ApiToken, User, db, utcnow
from hubbub.services.errors import Invalid, NotFound
from hubbub.services.text import has_bad_controls

PREFIX = "hbb_"
TOKEN_BYTES = 32  # 256 random bits
NAME_MAX = 64
# Writing last_used_at on every request would turn every API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)
MISSING = "There is no such token."


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str | None) -> tuple[ApiToken, str]:
    """Create a token for user (who must be authenticated) and return it with its secret.

    The secret exists only in this return value; the database keeps its SHA-256.
    """
    name = (name or "").strip() or "API token"
    if len(name) > NAME_MAX:
        raise Invalid(
            "The token name is too long.", fields={"name": f"Use at most {NAME_MAX} characters."}
        )
    if has_bad_controls(name, allow_newlines=False):
        raise Invalid(
            "The token name has control characters.",
            fields={"name": "Use printable characters only."},
        )
    secret = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(secret))
    db.session.add(token)
    db.session.commit()
    return token, secret


def list_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
    )


def revoke_token(user: User, token_id: int) -> None:
    """Delete one of user's tokens; someone else's token is NotFound, like a missing one."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(MISSING)
    db.session.delete(token)
    db.session.commit()


def user_for_token(secret: str) -> User | None:
    """The active user a bearer secret belongs to, or None; notes when it was last used."""
    found = token_for_secret(secret)
    return found[1] if found else None


def token_for_secret(secret: str) -> tuple[ApiToken, User] | None:
    """The token a bearer secret is, with its active user, or None; notes when it was used."""
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _digest(secret), User.is_active.is_(True))
    ).first()
    if row is None:
        return None
    token, user = row
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token, user

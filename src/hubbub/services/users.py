"""The user directory: finding people to talk to."""

from __future__ import annotations

from sqlalchemy import select

from hubbub.models import User, db

DIRECTORY_LIMIT = 20


def search_users(prefix: str) -> list[User]:
    """Active users whose username starts with prefix (any case), at most 20, by name."""
    prefix = prefix.strip().lower()
    if "\x00" in prefix:
        return []  # no username holds one, and PostgreSQL refuses it in a text comparison
    query = select(User).where(User.is_active.is_(True))
    if prefix:
        query = query.where(User.username.startswith(prefix, autoescape=True))
    return list(db.session.scalars(query.order_by(User.username).limit(DIRECTORY_LIMIT)))

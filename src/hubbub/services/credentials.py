"""Whether the credentials behind long-lived connections still let their holder in."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select

from hubbub.models import ApiToken, User, WebSession, db, utcnow

SESSION = "session"
TOKEN = "token"  # noqa: S105  (a kind of credential, not a secret)
CHUNK = 500  # ids per IN (...) list
T = TypeVar("T")


@dataclass(frozen=True)
class Credential:
    """What a connection was let in with: a browser session or an API token, by stored hash."""

    kind: str
    key: str
    user_id: int


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def revoked_among(credentials: Iterable[Credential]) -> set[Credential]:
    """Those credentials that no longer let anyone in.

    A session that ended (logout, password change) or expired, a token that was revoked, and
    anything of a deactivated user. A read: writes nothing.
    """
    wanted = set(credentials)
    sessions = [c.key for c in wanted if c.kind == SESSION]
    tokens = [c.key for c in wanted if c.kind == TOKEN]
    alive: set[tuple[str, str]] = set()
    now = utcnow()
    for chunk in _chunks(sessions):
        alive.update(
            (SESSION, key)
            for key in db.session.scalars(
                select(WebSession.id)
                .join(User, User.id == WebSession.user_id)
                .where(WebSession.id.in_(chunk), WebSession.expires_at > now, User.is_active)
            )
        )
    for token_chunk in _chunks(tokens):
        alive.update(
            (TOKEN, key)
            for key in db.session.scalars(
                select(ApiToken.token_hash)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash.in_(token_chunk), User.is_active)
            )
        )
    return {c for c in wanted if (c.kind, c.key) not in alive}

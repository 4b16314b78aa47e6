"""Typing and presence: ephemeral signals that go over the bus and never into the log."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy import Select, select, update

from hubbub.events.bus import bus_of
from hubbub.events.types import Presence, Typing
from hubbub.models import Membership, User, db, utcnow
from hubbub.services.conversations import access_conversation
from hubbub.wire import serialize

TYPING_EXPIRES = 6


def _conversations_of(user_id: int) -> Select[int]:
    """The conversations user_id belongs to now, as a query."""
    return select(Membership.conversation_id).where(
        Membership.user_id == user_id, Membership.left_at.is_(None)
    )


def _conversation_ids(user_id: int) -> list[int]:
    return list(db.session.scalars(_conversations_of(user_id)))


def online_among_contacts(user_id: int, is_online: Callable[[int], bool]) -> list[int]:
    """Which of the people who share a conversation with user_id (and user_id itself) are
    online: asked person by person, so the cost follows the user's contacts, not how many
    people are online."""
    contacts = set(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.conversation_id.in_(_conversations_of(user_id)),
                Membership.left_at.is_(None),
            )
        )
    )
    return sorted(user for user in contacts | {user_id} if is_online(user))


def announce_typing(user: User, conversation_id: int) -> None:
    """Tell the other members that user is typing; it lapses after TYPING_EXPIRES seconds.

    Emits typing."""
    conversation, _ = access_conversation(user, conversation_id)
    bus_of(current_app).publish(
        {
            "kind": Typing.TYPE,
            "conversation_id": conversation.id,
            "user_id": user.id,
            "data": Typing(user=serialize.public_user(user), expires_in=TYPING_EXPIRES).dump(),
        }
    )


def announce_presence(user_id: int, online: bool) -> None:
    """Tell the people who share a conversation with user_id that they came or went.

    Going offline keeps the time on the user as last seen. Emits presence.
    """
    news = Presence(user_id=user_id, status="online" if online else "offline")
    if not online:
        news.last_seen_at = utcnow()
        db.session.execute(
            update(User).where(User.id == user_id).values(last_seen_at=news.last_seen_at)
        )
        db.session.commit()
    bus_of(current_app).publish(
        {
            "kind": Presence.TYPE,
            "user_id": user_id,
            "conversation_ids": _conversation_ids(user_id),
            "data": news.dump(),
        }
    )

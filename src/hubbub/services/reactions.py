"""Reactions: one person's emoji on one message, at most twenty different ones per message."""

from __future__ import annotations

import emoji as emoji_data
from sqlalchemy.exc import IntegrityError

from hubbub.events.log import record
from hubbub.events.types import ReactionAdded, ReactionRemoved
from hubbub.models import Message, Reaction, User, db
from hubbub.services.conversations import access_message
from hubbub.services.errors import Conflict, Invalid

DISTINCT_MAX = 20
COMPONENT = emoji_data.STATUS["component"]
FULLY_QUALIFIED = emoji_data.STATUS["fully_qualified"]


def clean_emoji(value: str) -> str:
    """One emoji sequence (with its skin tone, if any) in its fully-qualified spelling, so that
    "❤" and "❤️" are the same reaction; anything else is refused."""
    data = emoji_data.EMOJI_DATA.get(value)
    if data is None or data["status"] == COMPONENT:
        raise Invalid(
            "That is not one emoji.",
            fields={"emoji": "Give exactly one emoji, such as 👍 or ❤️, URL-encoded."},
        )
    if data["status"] != FULLY_QUALIFIED:
        qualified = emoji_data.emojize(emoji_data.demojize(value))
        if emoji_data.EMOJI_DATA.get(qualified, {}).get("status") == FULLY_QUALIFIED:
            return str(qualified)
    return value


def add_reaction(user: User, message_id: int, emoji: str) -> Message:
    """React to a message of a conversation I am in; reacting again with the same emoji
    changes nothing. Emits reaction.added (a repeat emits nothing)."""
    message, conversation, _ = access_message(user, message_id, lock=True)
    emoji = clean_emoji(emoji)
    if message.deleted_at is not None:
        raise Conflict("A deleted message cannot get reactions.")
    if _mine(message, user, emoji) is not None:
        return message
    used = {r.emoji for r in message.reactions}
    if emoji not in used and len(used) >= DISTINCT_MAX:
        raise Conflict(
            f"This message already has {DISTINCT_MAX} different reactions.",
            fields={"emoji": "Add yours to one of the emoji already there."},
        )
    message.reactions.append(Reaction(user_id=user.id, emoji=emoji))
    record(
        ReactionAdded(message_id=message.id, emoji=emoji, user_id=user.id),
        conversation.id,
    )
    try:
        db.session.commit()
    except IntegrityError:
        # The same reaction, sent twice at once: the other one stands.
        db.session.rollback()
        return access_message(user, message_id)[0]
    return message


def remove_reaction(user: User, message_id: int, emoji: str) -> Message:
    """Take back my reaction; one I never made changes nothing. Emits reaction.removed."""
    message, conversation, _ = access_message(user, message_id, lock=True)
    emoji = clean_emoji(emoji)
    mine = _mine(message, user, emoji)
    if mine is not None:
        message.reactions.remove(mine)
        record(
            ReactionRemoved(message_id=message.id, emoji=emoji, user_id=user.id),
            conversation.id,
        )
        db.session.commit()
    return message


def _mine(message: Message, user: User, emoji: str) -> Reaction | None:
    return next((r for r in message.reactions if r.emoji == emoji and r.user_id == user.id), None)

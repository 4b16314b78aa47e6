"""Each member's own view of a conversation: how far they have read, and whether it is muted."""

from __future__ import annotations

from hubbub.events.log import record
from hubbub.events.types import MuteUpdated, ReadUpdated
from hubbub.models import Message, User, db
from hubbub.services.conversations import Summary, access_conversation, get_conversation
from hubbub.services.errors import Invalid


def mark_read(user: User, conversation_id: int, message_id: int) -> Summary:
    """Move the caller's read marker forward to message_id (never back).

    Emits read.updated, to the caller alone."""
    conversation, membership = access_conversation(user, conversation_id)
    message = db.session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id:
        raise Invalid(
            "That message is not in this conversation.",
            fields={"message_id": "Give the id of a message in this conversation."},
        )
    if membership.last_read_message_id is None or message.id > membership.last_read_message_id:
        membership.last_read_message_id = message.id
        record(
            ReadUpdated(user_id=user.id, last_read_message_id=message.id),
            conversation.id,
            user_id=user.id,
        )
        db.session.commit()
    return get_conversation(user, conversation.id)


def set_muted(user: User, conversation_id: int, muted: bool) -> Summary:
    """Mute or unmute a conversation for the caller alone; setting it as it is changes nothing.

    Emits mute.updated, to the caller alone (their other devices follow)."""
    conversation, membership = access_conversation(user, conversation_id)
    if membership.muted != muted:
        membership.muted = muted
        record(MuteUpdated(user_id=user.id, muted=muted), conversation.id, user_id=user.id)
        db.session.commit()
    return get_conversation(user, conversation.id)

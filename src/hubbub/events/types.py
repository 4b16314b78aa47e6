"""Every type of event, defined once: the services build these, the log and the bus carry them,
readers follow them, and the OpenAPI document describes each one's `data`.

A new type of event is one class here, added to LOGGED (kept in the log, with an id) or to
SIGNALS (ephemeral, carried on the bus only).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, create_model

from hubbub.wire.schemas import (
    ConversationInfo,
    ErrorDetail,
    MemberOut,
    MessageOut,
    Out,
    PublicUser,
)


class EventData(Out):
    """The `data` of one type of event; TYPE is the name clients see."""

    TYPE: ClassVar[str]

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class MessageCreated(EventData):
    TYPE = "message.created"
    message: MessageOut


class MessageEdited(EventData):
    TYPE = "message.edited"
    message: MessageOut


class MessageDeleted(EventData):
    """The tombstone: also what every earlier event of the message says once it is deleted."""

    TYPE = "message.deleted"
    message: MessageOut


class ReactionAdded(EventData):
    TYPE = "reaction.added"
    message_id: int
    emoji: str
    user_id: int


class ReactionRemoved(EventData):
    TYPE = "reaction.removed"
    message_id: int
    emoji: str
    user_id: int


class ConversationCreated(EventData):
    TYPE = "conversation.created"
    conversation: ConversationInfo


class ConversationUpdated(EventData):
    TYPE = "conversation.updated"
    conversation: ConversationInfo


class MemberAdded(EventData):
    TYPE = "member.added"
    member: MemberOut
    conversation: ConversationInfo


class MemberUpdated(EventData):
    TYPE = "member.updated"
    member: MemberOut


class MemberRemoved(EventData):
    TYPE = "member.removed"
    user_id: int
    by: int
    reason: Literal["removed", "left"]


class ReadUpdated(EventData):
    """Sent to the reader alone."""

    TYPE = "read.updated"
    user_id: int
    last_read_message_id: int


class MuteUpdated(EventData):
    """Sent to that member alone: their other devices follow."""

    TYPE = "mute.updated"
    user_id: int
    muted: bool


class Typing(EventData):
    TYPE = "typing"
    user: PublicUser
    expires_in: int


class Presence(EventData):
    """Someone who shares a conversation with you came online or went offline."""

    TYPE = "presence"
    user_id: int
    status: Literal["online", "offline"]
    last_seen_at: datetime | None = Field(default=None, description="Only when offline.")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


LOGGED: tuple[type[EventData], ...] = (
    MessageCreated,
    MessageEdited,
    MessageDeleted,
    ReactionAdded,
    ReactionRemoved,
    ConversationCreated,
    ConversationUpdated,
    MemberAdded,
    MemberUpdated,
    MemberRemoved,
    ReadUpdated,
    MuteUpdated,
)
SIGNALS: tuple[type[EventData], ...] = (Typing, Presence)
# Conversations a user starts or stops seeing at these events.
JOINS = {ConversationCreated.TYPE, MemberAdded.TYPE}
LEAVES = MemberRemoved.TYPE


def _as_sent(data: type[EventData]) -> type[Out]:
    """The event as clients receive it: `{id, type, conversation_id, data}`; signals carry no
    id, and presence belongs to no one conversation."""
    fields: dict[str, Any] = {"id": (int, ...)} if data in LOGGED else {}
    fields["type"] = (Literal[data.TYPE], ...)
    fields["conversation_id"] = (None if data is Presence else int, ...)
    fields["data"] = (data, ...)
    name = data.__name__.removesuffix("Data") + "Event"
    return create_model(name, __base__=Out, __doc__=f"A `{data.TYPE}` event.", **fields)


SENT = tuple(_as_sent(data) for data in LOGGED + SIGNALS)
# Any event a client may receive, told apart by `type`.
AnyEvent = Annotated[Union[SENT], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007


class EventBatch(Out):
    """A long-poll answer: the events after the cursor, and the cursor to ask from next."""

    events: list[AnyEvent]
    last_id: int


class ResyncOut(Out):
    """The cursor points before what the log keeps (or past its end): reload, then follow
    from last_id."""

    type: Literal["resync"]
    last_id: int
    error: ErrorDetail

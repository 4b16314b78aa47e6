"""The shapes of API answers, as pydantic models: they serialise answers and feed the OpenAPI
document, so the two cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Out):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(Out):
    error: ErrorDetail


class PublicUser(Out):
    id: int
    username: str


class UserOut(PublicUser):
    created_at: datetime
    email: str | None = None


class UserEnvelope(Out):
    user: UserOut


class UserList(Out):
    users: list[PublicUser]


class TokenOut(Out):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class NewTokenOut(TokenOut):
    token: str


class TokenList(Out):
    tokens: list[TokenOut]


class MessageOut(Out):
    id: int
    conversation_id: int
    sender: PublicUser
    body: str | None
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    client_id: str | None


class MessageEnvelope(Out):
    message: MessageOut


class MessagePage(Out):
    messages: list[MessageOut]
    has_more: bool


class RevisionOut(Out):
    body: str
    created_at: datetime
    replaced_at: datetime


class RevisionList(Out):
    revisions: list[RevisionOut]


class MemberOut(Out):
    user: PublicUser
    role: Literal["owner", "admin", "member"]
    joined_at: datetime


class MemberEnvelope(Out):
    member: MemberOut


class ConversationInfo(Out):
    """What every member sees of a conversation (events carry this)."""

    id: int
    kind: Literal["direct", "group"]
    title: str | None
    created_at: datetime
    members: list[MemberOut]


class ConversationOut(Out):
    id: int
    kind: Literal["direct", "group"]
    title: str | None
    created_at: datetime
    last_activity_at: datetime
    members: list[MemberOut]
    my_role: Literal["owner", "admin", "member"]
    last_read_message_id: int | None
    unread_count: int
    last_message: MessageOut | None


class ConversationEnvelope(Out):
    conversation: ConversationOut


class ConversationList(Out):
    conversations: list[ConversationOut]


class EventOut(Out):
    id: int | None
    type: str
    conversation_id: int | None
    data: dict[str, object]


class EventBatch(Out):
    events: list[EventOut]
    last_id: int


class ResyncOut(Out):
    type: Literal["resync"]
    last_id: int
    error: ErrorDetail

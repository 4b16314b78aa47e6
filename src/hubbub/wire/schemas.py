"""The shapes of API answers, as pydantic models: they serialise answers and feed the OpenAPI
document, so the two cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["owner", "admin", "member"]


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
    display_name: str | None = Field(
        None, description="Shown beside the username; null when the person set none."
    )


class UserOut(PublicUser):
    created_at: datetime
    email: str | None = Field(None, description="Only in answers about yourself.")


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


class ReplyOut(Out):
    """The message a reply answers, as the reply quotes it."""

    id: int
    sender: PublicUser
    excerpt: str | None = Field(
        description="The start of its text as it reads now (it follows edits), without "
        "formatting; null once it is deleted."
    )


class ReactionOut(Out):
    emoji: str
    count: int
    user_ids: list[int] = Field(description="Who reacted with it, in the order they did.")


class AttachmentOut(Out):
    id: int
    name: str = Field(
        description="The file's name as sent, cleaned of paths and control characters."
    )
    content_type: str = Field(
        description="The type the bytes have (never the one the uploader's client claimed)."
    )
    size: int = Field(description="Bytes, as stored (images without their metadata).")
    url: str = Field(description="Where members fetch the bytes: GET /api/v1/attachments/{id}.")
    thumbnail_url: str | None = Field(
        description="A still of at most 480 x 480 pixels, for PNG, JPEG, GIF and WebP images."
    )
    width: int | None = Field(description="Pixels, upright, for images; null for other files.")
    height: int | None


class AttachmentEnvelope(Out):
    attachment: AttachmentOut


class MessageOut(Out):
    id: int
    conversation_id: int
    sender: PublicUser
    body: str | None = Field(description="The Markdown source as written; null once deleted.")
    html: str | None = Field(
        description="The body rendered by the server: CommonMark with bare links linked, cleaned "
        "to paragraphs, line breaks, emphasis, strong, strikethrough, code, code blocks, block "
        "quotes, lists, links (http, https and mailto only, opened in a new tab with "
        'rel="noopener noreferrer") and mentions (`<span class="mention">`); null once deleted.'
    )
    mentions: list[int] = Field(
        description="Ids of the members the body names with @username (every member but the "
        "sender for @all in a group), lowest first; empty once deleted."
    )
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    client_id: str | None = Field(description="The sender's own key for the message, if given.")
    reply_to: ReplyOut | None = Field(description="The message this one answers, if any.")
    reactions: list[ReactionOut] = Field(
        description="One entry per emoji, in the order each was first used; empty once deleted."
    )
    attachments: list[AttachmentOut] = Field(
        description="Its files, in the order they were sent; empty once deleted."
    )


class MessageEnvelope(Out):
    message: MessageOut


class MessagePage(Out):
    messages: list[MessageOut]
    has_more: bool = Field(
        description="Older messages lie beyond the page (newer ones with after)."
    )
    has_newer: bool | None = Field(
        None, description="With around only: newer messages lie beyond the page; null otherwise."
    )


class ActivityOut(Out):
    """Something that happened to a conversation besides its messages, in its place among them."""

    id: int
    conversation_id: int
    action: Literal["renamed", "added", "removed", "left"]
    actor: PublicUser = Field(description="Who renamed, added, removed, or left.")
    subject: PublicUser | None = Field(
        description="Who was added, removed, or left; null for a rename."
    )
    title: str | None = Field(description="A rename's new title; null otherwise.")
    old_title: str | None = Field(description="A rename's earlier title; null otherwise.")
    after_message_id: int = Field(
        description="The conversation's newest message when it happened, which it follows in the "
        "history; 0 before the first message."
    )
    created_at: datetime


class ActivityPage(Out):
    activity: list[ActivityOut]
    has_more: bool


class RevisionOut(Out):
    body: str
    created_at: datetime
    replaced_at: datetime


class RevisionList(Out):
    revisions: list[RevisionOut]


class MemberOut(Out):
    user: PublicUser
    role: Role
    joined_at: datetime


class MemberEnvelope(Out):
    member: MemberOut


class ConversationInfo(Out):
    """What every member sees of a conversation (events carry this)."""

    id: int
    kind: Literal["direct", "group"]
    title: str | None = Field(description="A group's title; null for a direct conversation.")
    created_at: datetime
    members: list[MemberOut]


class PermissionsOut(Out):
    """What the caller may do in a conversation, so that clients offer only that."""

    manage: bool = Field(description="Rename the group and add members.")
    delete_any_message: bool
    assign: dict[Role, list[Role]] = Field(
        description="For a member with the role of the key, the roles the caller may give them."
    )
    remove: list[Role] = Field(description="The roles of the members the caller may remove.")


class ConversationOut(Out):
    id: int
    kind: Literal["direct", "group"]
    title: str | None = Field(description="A group's title; null for a direct conversation.")
    created_at: datetime
    last_activity_at: datetime
    members: list[MemberOut]
    my_role: Role
    last_read_message_id: int | None
    unread_count: int
    mention_count: int = Field(description="Unread messages that mention me.")
    muted: bool = Field(description="I muted it: it never notifies me.")
    last_message: MessageOut | None
    permissions: PermissionsOut


class ConversationEnvelope(Out):
    conversation: ConversationOut


class ConversationList(Out):
    conversations: list[ConversationOut]


class ConversationRef(Out):
    """Where a search result was said: enough of its conversation to name it."""

    id: int
    kind: Literal["direct", "group"]
    title: str | None = Field(description="A group's title; null for a direct conversation.")


class SearchResult(Out):
    message: MessageOut
    conversation: ConversationRef


class SearchPage(Out):
    results: list[SearchResult] = Field(description="Newest first.")
    next_before: int | None = Field(
        description="The last result's id when more may follow: pass it as before for the next "
        "page; null at the end."
    )

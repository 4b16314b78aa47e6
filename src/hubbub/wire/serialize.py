"""Turn models into the shapes of wire/schemas.py."""

from __future__ import annotations

from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Any, Protocol

from pydantic import BaseModel

from hubbub.models import (
    Activity,
    ApiToken,
    Attachment,
    Conversation,
    Membership,
    Message,
    MessageRevision,
    Reaction,
    User,
)
from hubbub.wire import schemas


class Summary(Protocol):
    """One of the caller's conversations as the services sum it up."""

    @property
    def conversation(self) -> Conversation: ...
    @property
    def membership(self) -> Membership: ...
    @property
    def members(self) -> Sequence[Membership]: ...
    @property
    def unread_count(self) -> int: ...
    @property
    def mention_count(self) -> int: ...
    @property
    def last_message(self) -> Message | None: ...
    @property
    def permissions(self) -> object:
        """Read by attribute name into PermissionsOut."""


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=False)


def public_user(user: User) -> schemas.PublicUser:
    return schemas.PublicUser(id=user.id, username=user.username, display_name=user.display_name)


def user(user: User, *, private: bool = False) -> schemas.UserOut:
    return schemas.UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        created_at=user.created_at,
        email=user.email if private else None,
    )


def token(token: ApiToken) -> schemas.TokenOut:
    return schemas.TokenOut(
        id=token.id, name=token.name, created_at=token.created_at, last_used_at=token.last_used_at
    )


def message(message: Message) -> schemas.MessageOut:
    return schemas.MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        sender=public_user(message.sender),
        body=message.body,
        html=message.html,
        mentions=[mention.user_id for mention in message.mentioned],
        created_at=message.created_at,
        edited_at=message.edited_at,
        deleted_at=message.deleted_at,
        client_id=message.client_id,
        # A tombstone quotes nothing: what it answered is gone with it.
        reply_to=reply(message.reply_to)
        if message.reply_to is not None and message.deleted_at is None
        else None,
        reactions=reactions(message.reactions),
        attachments=[attachment(a) for a in message.attachments],
    )


def attachment(attachment: Attachment) -> schemas.AttachmentOut:
    url = f"/api/v1/attachments/{attachment.id}"
    return schemas.AttachmentOut(
        id=attachment.id,
        name=attachment.name,
        content_type=attachment.content_type,
        size=attachment.size,
        url=url,
        thumbnail_url=f"{url}/thumbnail" if attachment.thumbnail_type else None,
        width=attachment.width,
        height=attachment.height,
    )


EXCERPT_MAX = 120


def reply(quoted: Message) -> schemas.ReplyOut:
    return schemas.ReplyOut(
        id=quoted.id,
        sender=public_user(quoted.sender),
        excerpt=excerpt(quoted.html or "", [a.name for a in quoted.attachments])
        if quoted.deleted_at is None
        else None,
    )


def reactions(rows: Sequence[Reaction]) -> list[schemas.ReactionOut]:
    """One entry per emoji, in the order each was first used (rows come in the order made)."""
    who: dict[str, list[int]] = {}
    for row in rows:
        who.setdefault(row.emoji, []).append(row.user_id)
    return [
        schemas.ReactionOut(emoji=emoji, count=len(user_ids), user_ids=user_ids)
        for emoji, user_ids in who.items()
    ]


class _Words(HTMLParser):
    """The text of the server's HTML, a space where a block or a line ends."""

    BREAKS = frozenset({"p", "br", "li", "blockquote", "pre", "ul", "ol"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self.BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.handle_starttag(tag, None)


def excerpt(html: str, files: Sequence[str] = ()) -> str:
    """The start of a rendered body as plain words on one line, then the names of its files
    after a paper clip, cut with an ellipsis (format.js plainText words it the same way)."""
    words = _Words()
    words.feed(html)
    words.close()
    text = " ".join([*"".join(words.parts).split(), *(["📎", ", ".join(files)] if files else [])])
    if len(text) <= EXCERPT_MAX:
        return text
    return text[: EXCERPT_MAX - 1].rstrip() + "…"


def activity(entry: Activity) -> schemas.ActivityOut:
    return schemas.ActivityOut(
        id=entry.id,
        conversation_id=entry.conversation_id,
        action=entry.action,  # type: ignore[arg-type]
        actor=public_user(entry.actor),
        subject=public_user(entry.subject) if entry.subject is not None else None,
        title=entry.title,
        old_title=entry.old_title,
        after_message_id=entry.after_message_id,
        created_at=entry.created_at,
    )


def revision(revision: MessageRevision) -> schemas.RevisionOut:
    return schemas.RevisionOut(
        body=revision.body, created_at=revision.created_at, replaced_at=revision.replaced_at
    )


def member(membership: Membership) -> schemas.MemberOut:
    return schemas.MemberOut(
        user=public_user(membership.user),
        role=membership.role,  # type: ignore[arg-type]
        joined_at=membership.joined_at,
    )


def conversation_info(conversation: Conversation) -> schemas.ConversationInfo:
    return schemas.ConversationInfo(
        id=conversation.id,
        kind=conversation.kind,  # type: ignore[arg-type]
        title=conversation.title,
        created_at=conversation.created_at,
        members=[member(m) for m in conversation.memberships if m.left_at is None],
    )


def conversation(summary: Summary) -> schemas.ConversationOut:
    c = summary.conversation
    return schemas.ConversationOut(
        id=c.id,
        kind=c.kind,  # type: ignore[arg-type]
        title=c.title,
        created_at=c.created_at,
        last_activity_at=c.last_activity_at,
        members=[member(m) for m in summary.members],
        my_role=summary.membership.role,  # type: ignore[arg-type]
        last_read_message_id=summary.membership.last_read_message_id,
        unread_count=summary.unread_count,
        mention_count=summary.mention_count,
        muted=summary.membership.muted,
        last_message=message(summary.last_message) if summary.last_message else None,
        permissions=schemas.PermissionsOut.model_validate(
            summary.permissions, from_attributes=True
        ),
    )

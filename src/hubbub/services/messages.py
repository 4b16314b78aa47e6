"""Messages: send, edit, delete, earlier versions and history pages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hubbub.events.log import erase_message_bodies, erase_quotes, record
from hubbub.events.types import MessageCreated, MessageDeleted, MessageEdited
from hubbub.models import (
    Conversation,
    Membership,
    Mention,
    Message,
    MessageRevision,
    User,
    db,
    utcnow,
)
from hubbub.models.conversation import GROUP
from hubbub.services import files
from hubbub.services.conversations import access_conversation, access_message, touch
from hubbub.services.errors import Conflict, Forbidden, Invalid
from hubbub.services.render import render
from hubbub.services.roles import permissions
from hubbub.services.text import clean_body, clean_line
from hubbub.wire import serialize

BODY_MAX = 4000
CLIENT_ID_MAX = 64
PAGE_MAX = 100


def send_message(
    user: User,
    conversation_id: int,
    body: str,
    client_id: str | None = None,
    reply_to: int | None = None,
    attachment_ids: Sequence[int] = (),
) -> tuple[Message, bool]:
    """Post body to a conversation the caller is in; returns the message and whether it is new.

    With a client_id, a retry returns the first message instead of a second copy: the unique
    key on (sender, client id) holds even when retries race. With reply_to, the message answers
    another of the same conversation that is not deleted. With attachment_ids, it carries those
    uploads of the caller's that no message carries yet (then the body may be blank). Emits
    message.created (a retry emits nothing).
    """
    # Hold the conversation's row until commit, so that its messages take their ids in commit
    # order: a reader paging with ?after= never finds an older id appear behind a newer one.
    # FOR NO KEY UPDATE, not FOR UPDATE: an event written meanwhile (which holds the event
    # counter) only needs a key-share lock on this row, and must get it, or the two deadlock.
    conversation, membership = access_conversation(user, conversation_id, lock=True)
    body = clean_body(body, BODY_MAX, blank=bool(attachment_ids))
    if client_id is not None:
        client_id = clean_line(client_id, "client_id", CLIENT_ID_MAX)
        earlier = _by_client_id(user, client_id)
        if earlier is not None:
            return _same_conversation(earlier, conversation), False
    quoted = _answerable(conversation, reply_to) if reply_to is not None else None
    message = Message(
        conversation_id=conversation.id,
        sender_id=user.id,
        client_id=client_id,
        reply_to=quoted,
        reactions=[],
        attachments=files.claim(user, attachment_ids) if attachment_ids else [],
    )
    _write_body(message, conversation, body)
    db.session.add(message)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        earlier = _by_client_id(user, client_id) if client_id is not None else None
        if earlier is None:
            raise
        return _same_conversation(earlier, db.session.get(Conversation, conversation_id)), False
    touch(conversation, message)
    # What you wrote yourself is read.
    membership.last_read_message_id = message.id
    record(
        MessageCreated(message=serialize.message(message)), conversation.id, message_id=message.id
    )
    db.session.commit()
    return message, True


def _answerable(conversation: Conversation, message_id: int) -> Message:
    """The message a reply answers: one of this conversation's, not deleted."""
    quoted = db.session.get(Message, message_id)
    if quoted is None or quoted.conversation_id != conversation.id:
        raise Invalid(
            "There is no such message in this conversation to reply to.",
            fields={"reply_to": "Give the id of a message in this conversation."},
        )
    if quoted.deleted_at is not None:
        raise Invalid(
            "That message was deleted and cannot be answered.",
            fields={"reply_to": "Reply to a message that is not deleted."},
        )
    return quoted


def _write_body(message: Message, conversation: Conversation, body: str) -> None:
    """Set a message's body, its rendering and whom it mentions: members named by @username,
    or every member for @all in a group; naming yourself is no mention."""
    members = {}
    if "@" in body:
        rows = db.session.execute(
            select(User.username, User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.conversation_id == conversation.id, Membership.left_at.is_(None))
        )
        members = {username: user_id for username, user_id in rows}
    rendered = render(body, members, group=conversation.kind == GROUP)
    named = set(members.values()) if rendered.everyone else set(rendered.mentions)
    named.discard(message.sender_id)
    message.body = body
    message.html = rendered.html
    _set_mentions(message, named)


def _set_mentions(message: Message, named: set[int]) -> None:
    # Rows for people named before and again stay as they are.
    kept = [m for m in message.mentioned if m.user_id in named]
    known = {m.user_id for m in kept}
    message.mentioned = kept + [Mention(user_id=uid) for uid in sorted(named - known)]


def _by_client_id(user: User, client_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(Message.sender_id == user.id, Message.client_id == client_id)
    )


def _same_conversation(message: Message, conversation: Conversation | None) -> Message:
    if conversation is None or message.conversation_id != conversation.id:
        raise Conflict(
            "That client_id was already used for another message.",
            fields={"client_id": "Use a new client_id for each message."},
        )
    return message


def edit_message(user: User, message_id: int, body: str) -> Message:
    """Replace the body of the caller's own message, keeping the old one as a revision; one
    that carries files may be left blank, as it may be sent.

    Emits message.edited."""
    message, conversation, _ = access_message(user, message_id)
    if message.sender_id != user.id:
        raise Forbidden("Only the author can edit a message.")
    if message.deleted_at is not None or message.body is None:
        raise Conflict("A deleted message cannot be edited.")
    body = clean_body(body, BODY_MAX, blank=bool(message.attachments))
    if body == message.body:
        return message
    now = utcnow()
    db.session.add(
        MessageRevision(
            message_id=message.id,
            body=message.body,
            created_at=message.edited_at or message.created_at,
            replaced_at=now,
        )
    )
    _write_body(message, conversation, body)
    message.edited_at = now
    record(
        MessageEdited(message=serialize.message(message)),
        message.conversation_id,
        message_id=message.id,
    )
    db.session.commit()
    return message


def delete_message(user: User, message_id: int) -> Message:
    """Turn a message into a tombstone for everyone: its author or a group owner/admin may.

    The body, every earlier version, the reactions and the files are erased from the database,
    the log included, and so are the excerpts that replies quote of it; the files' bytes leave
    the file store once that is committed. Deleting a tombstone again changes nothing. Emits
    message.deleted.
    """
    message, conversation, membership = access_message(user, message_id)
    moderator = permissions(conversation.kind, membership.role).delete_any_message
    if message.sender_id != user.id and not moderator:
        raise Forbidden("Only the author or a group owner or admin can delete a message.")
    if message.deleted_at is None:
        db.session.execute(delete(MessageRevision).where(MessageRevision.message_id == message.id))
        message.body = None
        message.html = None
        _set_mentions(message, set())
        message.reactions = []
        stored = files.keys_of(message.attachments)
        message.attachments = []
        message.deleted_at = utcnow()
        tombstone = MessageDeleted(message=serialize.message(message))
        erase_message_bodies(message.id, tombstone)
        erase_quotes(message.id)
        record(tombstone, message.conversation_id)
        db.session.commit()
        files.erase(stored)
    return message


def list_revisions(user: User, message_id: int) -> list[MessageRevision]:
    """Earlier bodies of a message, oldest first, for anyone in its conversation."""
    message, _, _ = access_message(user, message_id)
    return list(
        db.session.scalars(
            select(MessageRevision)
            .where(MessageRevision.message_id == message.id)
            .order_by(MessageRevision.id)
        )
    )


def list_messages(
    user: User,
    conversation_id: int,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[Message], bool]:
    """A page of history and whether more lies beyond it.

    Newest first, from the end or from just before `before`; with `after`, oldest first from
    just after it. Each page is one range scan of the (conversation_id, id) index.
    """
    conversation = _history_of(user, conversation_id, limit)
    query = select(Message).where(Message.conversation_id == conversation.id)
    if before is not None:
        query = query.where(Message.id < before)
    if after is not None:
        query = query.where(Message.id > after).order_by(Message.id.asc())
    else:
        query = query.order_by(Message.id.desc())
    page = list(db.session.scalars(query.limit(limit + 1)))
    return page[:limit], len(page) > limit


def messages_around(
    user: User, conversation_id: int, message_id: int, limit: int = 50
) -> tuple[list[Message], bool, bool]:
    """A page of history centred on message_id (or where it would be), newest first, with
    whether older and whether newer messages lie beyond it.

    Half the page is newer than message_id, the rest it and older; a side that runs short
    leaves its room to the other. Two range scans of the (conversation_id, id) index.
    """
    conversation = _history_of(user, conversation_id, limit)
    ours = Message.conversation_id == conversation.id
    newer = list(
        db.session.scalars(
            select(Message)
            .where(ours, Message.id > message_id)
            .order_by(Message.id.asc())
            .limit(limit + 1)
        )
    )
    older = list(
        db.session.scalars(
            select(Message)
            .where(ours, Message.id <= message_id)
            .order_by(Message.id.desc())
            .limit(limit + 1)
        )
    )
    n_newer = min(len(newer), limit // 2)
    n_older = min(len(older), limit - n_newer)
    n_newer = min(len(newer), limit - n_older)
    return newer[:n_newer][::-1] + older[:n_older], len(older) > n_older, len(newer) > n_newer


def _history_of(user: User, conversation_id: int, limit: int) -> Conversation:
    conversation, _ = access_conversation(user, conversation_id)
    if not 1 <= limit <= PAGE_MAX:
        raise Invalid("Bad page size.", fields={"limit": f"Use 1 to {PAGE_MAX}."})
    return conversation

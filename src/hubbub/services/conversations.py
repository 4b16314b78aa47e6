"""Conversations: the one direct conversation per pair, groups, and who may see them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from hubbub.events.log import record
from hubbub.events.types import ConversationCreated, ConversationUpdated
from hubbub.models import Activity, Conversation, Membership, Mention, Message, User, db, utcnow
from hubbub.models.activity import RENAMED
from hubbub.models.conversation import DIRECT, GROUP, MEMBER, OWNER
from hubbub.services import activity
from hubbub.services.errors import Forbidden, Invalid, NotFound
from hubbub.services.roles import Permissions, permissions
from hubbub.services.text import clean_line
from hubbub.wire import serialize

TITLE_MAX = 80
GROUP_MAX_MEMBERS = 1000
MISSING = "There is no such conversation."
MISSING_MESSAGE = "There is no such message."


def access_conversation(
    user: User, conversation_id: int, *, lock: bool = False
) -> tuple[Conversation, Membership]:
    """The conversation and the caller's membership, or NotFound for anyone not in it now.

    A conversation the caller left looks exactly like one that does not exist. With `lock`,
    the conversation's row is held until commit (FOR NO KEY UPDATE; SQLite has one writer).
    """
    query = (
        select(Conversation, Membership)
        .join(Membership, Membership.conversation_id == Conversation.id)
        .where(
            Conversation.id == conversation_id,
            Membership.user_id == user.id,
            Membership.left_at.is_(None),
        )
    )
    if lock:
        query = query.with_for_update(of=Conversation, key_share=True)
    row = db.session.execute(query).first()
    if row is None:
        raise NotFound(MISSING)
    return row[0], row[1]


def access_message(
    user: User, message_id: int, *, lock: bool = False
) -> tuple[Message, Conversation, Membership]:
    """The message with its conversation and the caller's membership; NotFound for outsiders.

    With `lock`, the conversation's row is held until commit, as access_conversation does."""
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound(MISSING_MESSAGE)
    try:
        conversation, membership = access_conversation(user, message.conversation_id, lock=lock)
    except NotFound:
        raise NotFound(MISSING_MESSAGE) from None
    return message, conversation, membership


def require_manager(conversation: Conversation, membership: Membership) -> None:
    """Owners and admins manage a group; nobody manages a direct conversation."""
    if conversation.kind != GROUP:
        raise Invalid("A direct conversation has no title or members to manage.")
    if not permissions(conversation.kind, membership.role).manage:
        raise Forbidden("Only the group's owners and admins can do that.")


def active_users(user_ids: list[int], field: str) -> list[User]:
    """Load users by id, refusing unknown and deactivated ones by name of the field."""
    wanted = set(user_ids)
    found = list(
        db.session.scalars(select(User).where(User.id.in_(wanted), User.is_active.is_(True)))
    )
    missing = wanted - {u.id for u in found}
    if missing:
        ids = ", ".join(str(i) for i in sorted(missing))
        raise Invalid("Some people could not be found.", fields={field: f"No such user: {ids}."})
    return found


def open_direct(user: User, other_id: int) -> tuple[Conversation, bool]:
    """The direct conversation between user and other_id, created on first use.

    Any logged-in user may call; talking to yourself makes a notes-to-self conversation.
    Returns the conversation and whether it was created now. The unique direct_key makes two
    concurrent first calls end with one conversation. Emits conversation.created when it
    creates one.
    """
    other = active_users([other_id], "user_id")[0]
    low, high = sorted((user.id, other.id))
    key = f"{low}:{high}"
    existing = db.session.scalar(select(Conversation).where(Conversation.direct_key == key))
    if existing is not None:
        return existing, False
    conversation = Conversation(kind=DIRECT, direct_key=key)
    conversation.memberships = [
        Membership(user_id=uid, role=MEMBER) for uid in sorted({user.id, other.id})
    ]
    db.session.add(conversation)
    try:
        db.session.flush()
        _record_created(conversation)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        found = db.session.scalar(select(Conversation).where(Conversation.direct_key == key))
        if found is None:
            raise
        return found, False
    return conversation, True


def create_group(user: User, title: str, member_ids: list[int]) -> Conversation:
    """Create a group titled `title` with user as owner and member_ids as members.

    Emits conversation.created."""
    title = clean_line(title, "title", TITLE_MAX)
    others = [uid for uid in dict.fromkeys(member_ids) if uid != user.id]
    if len(others) + 1 > GROUP_MAX_MEMBERS:
        raise Invalid(
            "That group is too large.",
            fields={"member_ids": f"A group holds at most {GROUP_MAX_MEMBERS} people."},
        )
    members = active_users(others, "member_ids") if others else []
    conversation = Conversation(kind=GROUP, title=title)
    conversation.memberships = [Membership(user_id=user.id, role=OWNER)] + [
        Membership(user_id=member.id, role=MEMBER) for member in members
    ]
    db.session.add(conversation)
    db.session.flush()
    _record_created(conversation)
    db.session.commit()
    return conversation


def _record_created(conversation: Conversation) -> None:
    record(
        ConversationCreated(conversation=serialize.conversation_info(conversation)),
        conversation.id,
        opens=[m.user_id for m in conversation.memberships],
    )


def rename_group(user: User, conversation_id: int, title: str) -> Conversation:
    """Give a group a new title; its owners and admins may. Notes the rename in the group's
    activity (unless the title is the same) and emits conversation.updated."""
    conversation, membership = access_conversation(user, conversation_id, lock=True)
    require_manager(conversation, membership)
    title = clean_line(title, "title", TITLE_MAX)
    if title != conversation.title:
        activity.note(conversation, RENAMED, user.id, title=title, old_title=conversation.title)
    conversation.title = title
    record(
        ConversationUpdated(conversation=serialize.conversation_info(conversation)), conversation.id
    )
    db.session.commit()
    return conversation


def list_activity(
    user: User,
    conversation_id: int,
    *,
    from_message: int = 0,
    before_message: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> tuple[list[Activity], bool]:
    """A page of a conversation's activity for one of its members (see activity.page)."""
    conversation, _ = access_conversation(user, conversation_id)
    if not 1 <= limit <= activity.PAGE_MAX:
        raise Invalid("Bad page size.", fields={"limit": f"Use 1 to {activity.PAGE_MAX}."})
    return activity.page(
        conversation.id,
        from_message=from_message,
        before_message=before_message,
        before=before,
        limit=limit,
    )


def get_conversation(user: User, conversation_id: int) -> Summary:
    """One conversation of the caller's, with members, unread count and last message."""
    conversation, _ = access_conversation(user, conversation_id)
    return _summaries(user, [conversation.id])[0]


def list_conversations(user: User) -> list[Summary]:
    """The caller's conversations, latest activity first, in a fixed number of queries."""
    ids = list(
        db.session.scalars(
            select(Conversation.id)
            .join(Membership, Membership.conversation_id == Conversation.id)
            .where(Membership.user_id == user.id, Membership.left_at.is_(None))
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        )
    )
    return _summaries(user, ids)


@dataclass(frozen=True)
class Summary:
    conversation: Conversation
    membership: Membership
    members: list[Membership]
    unread_count: int
    mention_count: int
    last_message: Message | None
    permissions: Permissions


def _summaries(user: User, ids: list[int]) -> list[Summary]:
    if not ids:
        return []
    conversations = {
        c.id: c
        for c in db.session.scalars(
            select(Conversation)
            .where(Conversation.id.in_(ids))
            .options(selectinload(Conversation.memberships).joinedload(Membership.user))
        )
    }
    last_ids = [c.last_message_id for c in conversations.values() if c.last_message_id]
    last_messages = (
        {m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(last_ids)))}
        if last_ids
        else {}
    )
    unread = _count_unread(user, ids)
    mentioned = _count_unread(user, ids, naming_me=True)
    summaries = []
    for conversation_id in ids:
        conversation = conversations[conversation_id]
        active = [m for m in conversation.memberships if m.left_at is None]
        membership = next(m for m in active if m.user_id == user.id)
        summaries.append(
            Summary(
                conversation=conversation,
                membership=membership,
                members=active,
                unread_count=unread.get(conversation_id, 0),
                mention_count=mentioned.get(conversation_id, 0),
                last_message=last_messages.get(conversation.last_message_id or 0),
                permissions=permissions(conversation.kind, membership.role),
            )
        )
    return summaries


def _count_unread(user: User, ids: list[int], *, naming_me: bool = False) -> dict[int, int]:
    """Per conversation, the messages from others after my read marker that are not deleted;
    with naming_me, only those that mention me."""
    query = select(Message.conversation_id, func.count(Message.id)).join(
        Membership,
        and_(Membership.conversation_id == Message.conversation_id, Membership.user_id == user.id),
    )
    if naming_me:
        query = query.join(
            Mention, and_(Mention.message_id == Message.id, Mention.user_id == user.id)
        )
    query = query.where(
        Message.conversation_id.in_(ids),
        Message.id > func.coalesce(Membership.last_read_message_id, 0),
        Message.sender_id != user.id,
        Message.deleted_at.is_(None),
    ).group_by(Message.conversation_id)
    return {conversation_id: int(n) for conversation_id, n in db.session.execute(query)}


def touch(conversation: Conversation, message: Message) -> None:
    """Record a new message as the conversation's latest activity (inside the caller's unit)."""
    conversation.last_message_id = message.id
    conversation.last_activity_at = utcnow()

"""A conversation's activity: the renames, joins, removals and leaves its history shows.

The services that change a group note each change here, inside the same unit of work, while
they hold the conversation's row: an entry follows exactly the messages that came before it.
"""

from __future__ import annotations

from sqlalchemy import select

from hubbub.models import Activity, Conversation, db

PAGE_MAX = 100


def note(
    conversation: Conversation,
    action: str,
    actor_id: int,
    *,
    subject_id: int | None = None,
    title: str | None = None,
    old_title: str | None = None,
) -> Activity:
    """Add one entry after the conversation's newest message (inside the caller's unit)."""
    entry = Activity(
        conversation_id=conversation.id,
        action=action,
        actor_id=actor_id,
        subject_id=subject_id,
        title=title,
        old_title=old_title,
        after_message_id=conversation.last_message_id or 0,
    )
    db.session.add(entry)
    return entry


def page(
    conversation_id: int,
    *,
    from_message: int = 0,
    before_message: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> tuple[list[Activity], bool]:
    """Entries placed after the messages from `from_message` up to, not including,
    `before_message`, newest first from just before the entry `before`; and whether more lie
    beyond. Entries are written in the order of their place (the conversation's row is held),
    so newest first by place is newest first by id: one range scan of the place index."""
    query = select(Activity).where(
        Activity.conversation_id == conversation_id, Activity.after_message_id >= from_message
    )
    if before_message is not None:
        query = query.where(Activity.after_message_id < before_message)
    if before is not None:
        query = query.where(Activity.id < before)
    query = query.order_by(Activity.after_message_id.desc(), Activity.id.desc())
    found = list(db.session.scalars(query.limit(limit + 1)))
    return found[:limit], len(found) > limit

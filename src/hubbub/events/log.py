"""Appending to the event log inside the writer's transaction, and waking readers after commit.

Service actions call record() with one of the events of events/types.py before they commit.
Just before the commit, the pending events take consecutive ids from the counter row and are
inserted with the rest of the transaction; after the commit, the bus is told the new end of the
log and given the events themselves, each with the users who may see it, so that other
processes need not read them back. The counter row stays locked from that update to the
commit, so transactions that write events commit in id order, and no other transaction can
change who sees a conversation in between.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from hubbub.events.bus import bus_of
from hubbub.events.feed import COUNTER_ROW, viewers_between
from hubbub.events.types import EventData, MessageDeleted
from hubbub.models import Event, EventCounter, MemberSpan, Message, db, utcnow

PENDING = "hubbub.pending_events"
COMMITTED = "hubbub.committed_events"
# A transaction whose events' data is larger than this wakes readers without carrying them:
# they read the events from the log instead.
CARRY_LIMIT = 256 * 1024


@dataclass
class Pending:
    type: str
    conversation_id: int
    data: dict[str, Any]
    user_id: int | None = None
    message_id: int | None = None
    opens: list[int] = field(default_factory=list)
    closes: list[int] = field(default_factory=list)


def record(
    event: EventData,
    conversation_id: int,
    *,
    user_id: int | None = None,
    message_id: int | None = None,
    opens: Iterable[int] = (),
    closes: Iterable[int] = (),
) -> None:
    """Queue an event for this transaction.

    `opens` are users who start seeing the conversation at this event (it included);
    `closes` are users who stop seeing it after this event (it included). `user_id` makes the
    event visible to that member alone. `message_id` names the message whose body the event
    carries, for erase_message_bodies().
    """
    db.session.info.setdefault(PENDING, []).append(
        Pending(
            event.TYPE,
            conversation_id,
            event.dump(),
            user_id,
            message_id,
            list(opens),
            list(closes),
        )
    )


def erase_message_bodies(message_id: int, tombstone: MessageDeleted) -> None:
    """Replace what earlier events say of a deleted message with its tombstone.

    Deleting a message erases its body everywhere, and the log is no exception.
    """
    db.session.execute(
        update(Event)
        .where(Event.message_id == message_id)
        .values(data=json.dumps(tombstone.dump(), separators=(",", ":")))
    )


def erase_quotes(message_id: int) -> None:
    """Blank the excerpt of a deleted message in the events of the replies that quote it."""
    replies = select(Message.id).where(Message.reply_to_id == message_id)
    rows = db.session.execute(
        select(Event.id, Event.data).where(Event.message_id.in_(replies))
    ).all()
    for event_id, data in rows:
        decoded = json.loads(data)
        quote = decoded.get("message", {}).get("reply_to")
        if quote and quote.get("id") == message_id and quote.get("excerpt") is not None:
            quote["excerpt"] = None
            db.session.execute(
                update(Event)
                .where(Event.id == event_id)
                .values(data=json.dumps(decoded, separators=(",", ":")))
            )


def prune(retention: timedelta) -> int:
    """Delete events older than retention; cursors before them get a resync answer."""
    cutoff = utcnow() - retention
    highest = db.session.scalar(select(func.max(Event.id)).where(Event.created_at < cutoff))
    if highest is None:
        return 0
    result = db.session.execute(delete(Event).where(Event.id <= highest))
    deleted = getattr(result, "rowcount", 0)
    db.session.execute(
        update(EventCounter)
        .where(EventCounter.id == COUNTER_ROW, EventCounter.pruned_through < highest)
        .values(pruned_through=highest)
    )
    db.session.commit()
    return int(deleted or 0)


@orm_event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    pending: list[Pending] | None = session.info.pop(PENDING, None)
    if not pending:
        return
    session.flush()
    last = session.execute(
        update(EventCounter)
        .where(EventCounter.id == COUNTER_ROW)
        .values(last_id=EventCounter.last_id + len(pending))
        .returning(EventCounter.last_id)
    ).scalar_one()
    first = last - len(pending) + 1
    now = utcnow()
    rows = []
    for event_id, item in enumerate(pending, start=first):
        rows.append(
            {
                "id": event_id,
                "type": item.type,
                "conversation_id": item.conversation_id,
                "user_id": item.user_id,
                "message_id": item.message_id,
                "data": json.dumps(item.data, separators=(",", ":")),
                "created_at": now,
            }
        )
        for user_id in item.closes:
            session.execute(
                update(MemberSpan)
                .where(
                    MemberSpan.conversation_id == item.conversation_id,
                    MemberSpan.user_id == user_id,
                    MemberSpan.last_event_id.is_(None),
                )
                .values(last_event_id=event_id)
            )
        for user_id in item.opens:
            session.add(
                MemberSpan(
                    conversation_id=item.conversation_id, user_id=user_id, first_event_id=event_id
                )
            )
    session.execute(insert(Event), rows)
    session.flush()
    session.info[COMMITTED] = {"last_id": last, "events": _carried(session, rows)}


def _carried(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The events just written, each with everyone who may see it, as the bus carries them;
    None when they are too large to carry."""
    if sum(len(row["data"]) for row in rows) > CARRY_LIMIT:
        return None
    viewers = viewers_between(session, rows[0]["id"] - 1, rows[-1]["id"])
    return [
        {
            "id": row["id"],
            "type": row["type"],
            "conversation_id": row["conversation_id"],
            "message_id": row["message_id"],
            "data": row["data"],
            "viewers": sorted(viewers.get(row["id"], ())),
        }
        for row in rows
    ]


@orm_event.listens_for(Session, "after_commit")
def _wake_readers(session: Session) -> None:
    committed = session.info.pop(COMMITTED, None)
    if committed is not None and has_app_context():
        message = {"kind": "log", "last_id": committed["last_id"]}
        if committed["events"] is not None:
            message["first_id"] = committed["events"][0]["id"]
            message["events"] = committed["events"]
            # The bus keeps one conversation's messages in order (Kafka's partition key).
            message["conversation_id"] = committed["events"][0]["conversation_id"]
        bus_of(current_app).publish(message)


@orm_event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(COMMITTED, None)

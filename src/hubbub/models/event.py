"""The event log: every change a client must see, in commit order, and who may see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hubbub.models.base import UTCDateTime, db, utcnow


class Event(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_conversation_id_id", "conversation_id", "id"),)

    # Taken from EventCounter inside the writing transaction, never from a sequence: the
    # counter's row lock makes transactions commit in id order, so a reader that has seen
    # id N can never later find a smaller id appear.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    # Set for events only one member may see (their own read marker).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The message an event carries, so that deleting it can erase its body here too.
    message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class EventCounter(db.Model):  # type: ignore[name-defined,misc]
    """One row: the last event id handed out, and the last one pruned by retention."""

    __tablename__ = "event_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    pruned_through: Mapped[int] = mapped_column(BigInteger, default=0)


class MemberSpan(db.Model):  # type: ignore[name-defined,misc]
    """A stretch of the log during which a user belonged to a conversation.

    A user sees a conversation's events whose ids fall inside one of their spans: from the
    event that added them to the event that removed them, both included.
    """

    __tablename__ = "member_spans"
    __table_args__ = (
        Index("ix_member_spans_user_id_conversation_id", "user_id", "conversation_id"),
        # Everyone who sees a conversation's newest events (the realtime tail).
        Index(
            "ix_member_spans_conversation_id_first_event_id", "conversation_id", "first_event_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    first_event_id: Mapped[int] = mapped_column(BigInteger)
    last_event_id: Mapped[int | None] = mapped_column(BigInteger)

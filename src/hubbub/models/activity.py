"""What happened to a conversation besides its messages: renames, joins, removals, leaves.

Each entry sits in the history after the message that was the conversation's newest when it
happened, so that clients can draw it in its place among the messages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubbub.models.base import UTCDateTime, db, utcnow
from hubbub.models.user import User

RENAMED, ADDED, REMOVED, LEFT = "renamed", "added", "removed", "left"


class Activity(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "conversation_activity"
    __table_args__ = (
        CheckConstraint("action IN ('renamed', 'added', 'removed', 'left')", name="action"),
        # Pages walk the entries of one conversation by the message they follow.
        Index("ix_conversation_activity_place", "conversation_id", "after_message_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(8))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Who was added, removed or left; NULL for a rename.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # A rename's new and earlier titles.
    title: Mapped[str | None] = mapped_column(String(80))
    old_title: Mapped[str | None] = mapped_column(String(80))
    # The conversation's newest message when this happened; 0 before its first.
    after_message_id: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id], lazy="joined")
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id], lazy="joined")

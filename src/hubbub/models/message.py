"""Messages and the earlier bodies of edited ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubbub.models.attachment import Attachment
from hubbub.models.base import UTCDateTime, db, utcnow
from hubbub.models.user import User


class Message(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "messages"
    __table_args__ = (
        # A retried send carries the same client id: the database keeps one copy.
        UniqueConstraint("sender_id", "client_id"),
        # History pages walk this index: a page costs the same at any depth.
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # NULL once deleted: the message stays in place as a tombstone.
    body: Mapped[str | None] = mapped_column(Text)
    # The body rendered as safe HTML (services/render.py), made on send and on each edit.
    html: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sender: Mapped[User] = relationship(lazy="joined")
    # The message this one answers, loaded with every page for its quote.
    reply_to: Mapped[Message | None] = relationship(remote_side=[id], lazy="selectin", join_depth=1)
    # Who the body names with @username (or @all): loaded with every page of messages.
    mentioned: Mapped[list[Mention]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="Mention.user_id"
    )
    # Everyone's reactions, in the order they were made: loaded with every page of messages.
    reactions: Mapped[list[Reaction]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="Reaction.id"
    )
    # Its files, in the order they were sent: loaded with every page of messages.
    attachments: Mapped[list[Attachment]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by=Attachment.position
    )


class Mention(db.Model):  # type: ignore[name-defined,misc]
    """One member named in one message: what mention badges count."""

    __tablename__ = "mentions"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Reaction(db.Model):  # type: ignore[name-defined,misc]
    """One person's emoji on one message."""

    __tablename__ = "reactions"
    # One of each emoji per person: a second PUT finds the first.
    __table_args__ = (UniqueConstraint("message_id", "emoji", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    emoji: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MessageRevision(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "message_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    # When this body was first shown: the message's creation or the edit before.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Conversations and who belongs to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubbub.models.base import UTCDateTime, db, utcnow
from hubbub.models.user import User

DIRECT = "direct"
GROUP = "group"
OWNER, ADMIN, MEMBER = "owner", "admin", "member"
ROLES = (OWNER, ADMIN, MEMBER)


class Conversation(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "conversations"
    __table_args__ = (CheckConstraint("kind IN ('direct', 'group')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(String(80))
    # "lowest user id:highest user id" for a direct conversation, so that the database itself
    # refuses a second conversation between the same two people. NULL for groups.
    direct_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_id: Mapped[int | None] = mapped_column(Integer)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="conversation", order_by="Membership.joined_at"
    )


class Membership(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "memberships"
    __table_args__ = (CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(8), default=MEMBER)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the person left or was removed; the row stays so a return is a re-join.
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_read_message_id: Mapped[int | None] = mapped_column(Integer)
    # Muted: this member's conversation never notifies and its badges stay quiet.
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    conversation: Mapped[Conversation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.left_at is None

"""Browser sessions, kept on the server; the cookie holds only a random id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hubbub.models.base import UTCDateTime, db, utcnow


class WebSession(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "web_sessions"

    # SHA-256 of the cookie value: a copy of this table lets no one in.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

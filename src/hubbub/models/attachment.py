"""Files people upload: their metadata here, their bytes in the file store (hubbub/files)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hubbub.models.base import UTCDateTime, db, utcnow


class Attachment(db.Model):  # type: ignore[name-defined,misc]
    """One uploaded file: unattached (message_id NULL) until a message of its uploader's
    carries it, and removed a day after upload if none ever does."""

    __tablename__ = "attachments"
    __table_args__ = (
        # The sweep of forgotten uploads reads the oldest unattached ones.
        Index("ix_attachments_message_id_created_at", "message_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    # Where the message shows it among its others, in the order they were sent.
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The name as given, cleaned (services/files.py); the type as the bytes say.
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    # The file store's key for the bytes; the thumbnail, when there is one, is under
    # key + THUMBNAIL_SUFFIX with its own type.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    thumbnail_type: Mapped[str | None] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

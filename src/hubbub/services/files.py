"""Uploads: files people share, checked and stored, then attached to a message of theirs.

The bytes live in the file store (hubbub/files), the metadata in the attachments table. The
type is the one the bytes have, never the one a client claims; raster images are stored
without their metadata and get a thumbnail (services/images.py). Only members of the
conversation a file was sent to can fetch it, and the uploader their own unsent uploads.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

import puremagic
from flask import current_app
from sqlalchemy import delete, select

from hubbub.files import store
from hubbub.models import Attachment, User, db, utcnow
from hubbub.services import images
from hubbub.services.conversations import access_message
from hubbub.services.errors import Invalid, NotFound, ServiceError
from hubbub.services.text import refused_in_name

log = logging.getLogger(__name__)

PER_MESSAGE = 10
NAME_MAX = 200
EXTENSION_MAX = 16
UNSENT_LIFETIME = timedelta(days=1)
THUMBNAIL_SUFFIX = ".thumb"
OCTETS = "application/octet-stream"
MISSING = "There is no such file."
NOT_YOURS = "Those are not uploads of yours waiting to be sent."


class TooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


def upload_max() -> int:
    """The most bytes one file may have, from HUBBUB_UPLOAD_MAX_MB."""
    return int(float(current_app.config["HUBBUB_UPLOAD_MAX_MB"]) * 1024 * 1024)


def too_large() -> TooLarge:
    megabytes = current_app.config["HUBBUB_UPLOAD_MAX_MB"]
    return TooLarge(
        f"That file is larger than {megabytes:g} MiB, the most this server takes.",
        fields={"file": f"Send a file of at most {megabytes:g} MiB."},
    )


def clean_name(name: str | None) -> str:
    """A file name to show and to download as: its last path part, without control, format or
    separator characters, without leading dots, spaces collapsed, at most NAME_MAX characters
    with its extension kept; "file" when nothing is left."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(char for char in text if not refused_in_name(char))
    text = " ".join(text.split()).lstrip(". ").rstrip(" ")
    if not text or text in {".", ".."}:
        return "file"
    if len(text) > NAME_MAX:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and len(extension) <= EXTENSION_MAX:
            text = stem[: NAME_MAX - len(extension) - 1].rstrip() + "." + extension
        else:
            text = text[:NAME_MAX].rstrip()
    return text


def sniff(data: bytes, name: str) -> str:
    """The type the bytes have. The name only breaks ties between types the bytes share (a
    .docx and an .xlsx are both zip files); text that names no type is plain text."""
    try:
        found = puremagic.magic_string(data[:65536], name)
    except (puremagic.PureError, ValueError):
        found = []
    for match in found:
        if match.mime_type:
            return str(match.mime_type)
    if b"\0" not in data[:8192]:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return OCTETS
        return "text/plain"
    return OCTETS


def upload(user: User, data: bytes, name: str | None) -> Attachment:
    """Store one file of the caller's, unattached until a message of theirs carries it."""
    if len(data) > upload_max():
        raise too_large()
    if not data:
        raise Invalid("That file is empty.", fields={"file": "Choose a file with something in it."})
    name = clean_name(name)
    content_type = sniff(data, name)
    attachment = Attachment(
        uploader_id=user.id,
        name=name,
        content_type=content_type,
        key=secrets.token_urlsafe(24),
    )
    pieces = [(attachment.key, data, content_type)]
    if content_type in images.RASTER:
        cleaned = images.clean(data, content_type)
        pieces = [
            (attachment.key, cleaned.data, content_type),
            (attachment.key + THUMBNAIL_SUFFIX, cleaned.thumbnail, cleaned.thumbnail_type),
        ]
        attachment.width, attachment.height = cleaned.width, cleaned.height
        attachment.thumbnail_type = cleaned.thumbnail_type
    attachment.size = len(pieces[0][1])
    files = store()
    try:
        for key, content, kind in pieces:
            files.put(key, content, kind)
        db.session.add(attachment)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        files.delete(key for key, _, _ in pieces)
        raise
    return attachment


def claim(user: User, attachment_ids: Sequence[int]) -> list[Attachment]:
    """The caller's unsent uploads a message is about to carry, in the order given; held until
    commit, so that a second message (or the sweep) cannot take them meanwhile."""
    if len(attachment_ids) > PER_MESSAGE:
        raise TooLarge(
            f"A message carries at most {PER_MESSAGE} files; this one has {len(attachment_ids)}.",
            fields={"attachment_ids": f"Send at most {PER_MESSAGE} files per message."},
        )
    if len(set(attachment_ids)) != len(attachment_ids):
        raise Invalid(
            "The same file is named twice.",
            fields={"attachment_ids": "Name each upload once."},
        )
    rows = db.session.scalars(
        select(Attachment).where(Attachment.id.in_(attachment_ids)).with_for_update()
    )
    found = {a.id: a for a in rows if a.uploader_id == user.id and a.message_id is None}
    strangers = [str(i) for i in attachment_ids if i not in found]
    if strangers:
        raise Invalid(
            NOT_YOURS,
            fields={
                "attachment_ids": f"{', '.join(strangers)}: give the ids of your own uploads "
                "that no message carries yet."
            },
        )
    claimed = [found[i] for i in attachment_ids]
    for position, attachment in enumerate(claimed):
        attachment.position = position
    return claimed


@dataclass(frozen=True)
class Download:
    attachment: Attachment
    content_type: str
    stream: IO[bytes]
    size: int | None  # None for a thumbnail, whose size is not kept


def open_file(user: User, attachment_id: int, *, thumbnail: bool = False) -> Download:
    """An attachment's bytes (or its thumbnail's) for a member of its conversation, or the
    uploader of an unsent one; NotFound, the same as for a missing id, for anyone else."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(MISSING)
    if attachment.message_id is None:
        if attachment.uploader_id != user.id:
            raise NotFound(MISSING)
    else:
        try:
            access_message(user, attachment.message_id)
        except NotFound:
            raise NotFound(MISSING) from None
    key, content_type = attachment.key, attachment.content_type
    size: int | None = attachment.size
    if thumbnail:
        if attachment.thumbnail_type is None:
            raise NotFound("That file has no thumbnail: only images have one.")
        key, content_type, size = key + THUMBNAIL_SUFFIX, attachment.thumbnail_type, None
    try:
        stream = store().open(key)
    except FileNotFoundError:
        log.error("attachment %s: the file store has no bytes under its key", attachment.id)
        raise NotFound(MISSING) from None
    return Download(attachment, content_type, stream, size)


def keys_of(attachments: Iterable[Attachment]) -> list[str]:
    """Every key the file store holds for these attachments."""
    keys = []
    for attachment in attachments:
        keys.append(attachment.key)
        if attachment.thumbnail_type is not None:
            keys.append(attachment.key + THUMBNAIL_SUFFIX)
    return keys


def erase(keys: Sequence[str]) -> None:
    """Remove bytes whose rows are gone (after the commit that removed them). A store that
    fails here leaves bytes no row names, which nobody can fetch."""
    if not keys:
        return
    try:
        store().delete(keys)
    except Exception:
        log.exception("could not remove %d files from the file store", len(keys))


def sweep(now: datetime | None = None) -> int:
    """Remove uploads that no message took within a day of their upload; returns how many."""
    cutoff = (now or utcnow()) - UNSENT_LIFETIME
    stale = select(Attachment.id).where(
        Attachment.message_id.is_(None), Attachment.created_at < cutoff
    )
    # The condition is checked again by the delete itself: an upload a send holds (claim)
    # is either taken by then or still free to go.
    gone = db.session.execute(
        delete(Attachment)
        .where(Attachment.id.in_(stale), Attachment.message_id.is_(None))
        .returning(Attachment.key, Attachment.thumbnail_type)
    ).all()
    db.session.commit()
    erase([key for key, _ in gone] + [key + THUMBNAIL_SUFFIX for key, t in gone if t])
    return len(gone)

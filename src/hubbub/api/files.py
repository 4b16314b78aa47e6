"""Uploads and the files messages carry."""

from __future__ import annotations

from typing import Annotated

from flask import Response, request, send_file
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import WithJsonSchema
from werkzeug.exceptions import RequestEntityTooLarge

from hubbub.api import bp
from hubbub.api.caller import caller
from hubbub.api.docs import endpoint
from hubbub.api.validation import Malformed
from hubbub.services import files, images
from hubbub.services.errors import Invalid
from hubbub.wire import schemas
from hubbub.wire import serialize as out

# Room for the multipart framing around the file: its boundaries and part headers.
FRAMING = 64 * 1024
# A file's answer runs nothing and is framed by nothing: if a browser were ever to render an
# HTML or SVG file from here, its scripts would still not run, and it could not reach the
# page's cookies or storage.
FILE_POLICY = "default-src 'none'; sandbox"
# Fetched by a member; the same id never names other bytes.
FILE_CACHE = "private, max-age=86400"


class UploadForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: Annotated[
        bytes,
        WithJsonSchema(
            {"type": "string", "contentMediaType": "application/octet-stream", "minLength": 1}
        ),
        Field(description="The file, with its name; its type is read from its bytes."),
    ]


@bp.post("/uploads")
@endpoint(tags=["files"], form=UploadForm, ok={201: schemas.AttachmentEnvelope})
def upload() -> ResponseReturnValue:
    """Upload one file as the multipart/form-data field `file`, then send it with a message's
    `attachment_ids`. Its type is read from its bytes; PNG, JPEG, GIF and WebP images are
    stored without their metadata (EXIF, location included) and get a thumbnail. Over the
    size limit (25 MiB unless the server says otherwise) is a 413; an image that cannot be
    read, or one of too many pixels, a 422. An upload no message carries within a day is
    removed."""
    request.max_content_length = files.upload_max() + FRAMING
    try:
        sent = request.files.get("file")
    except RequestEntityTooLarge:
        raise files.too_large() from None
    if sent is None:
        request.close()
        raise Malformed(
            "Send the file as the multipart/form-data field named file.",
            fields={"file": "Attach a file under this name."},
        )
    others = sorted((set(request.form) | set(request.files)) - {"file"})
    if others or len(request.files.getlist("file")) > 1:
        request.close()
        raise Invalid(
            "Send one file, as the field named file, and nothing else.",
            fields={name: "This field is not part of an upload." for name in others}
            or {"file": "Send one file per upload."},
        )
    try:
        data = sent.stream.read(files.upload_max() + 1)
    finally:
        request.close()  # the parser's temporary files
    attachment = files.upload(caller(), data, sent.filename)
    return out.dump(schemas.AttachmentEnvelope(attachment=out.attachment(attachment))), 201


@bp.get("/attachments/<int:attachment_id>")
@endpoint(tags=["files"], ok={200: None})
def download(attachment_id: int) -> ResponseReturnValue:
    """The file's bytes, for members of the conversation its message is in (and its uploader
    until it is sent); 404 for anyone else, as for an id that does not exist. PNG, JPEG, GIF
    and WebP images come inline; every other type, SVG and HTML included, as a download."""
    found = files.open_file(caller(), attachment_id)
    inline = found.content_type in images.RASTER
    return _send(found, as_attachment=not inline)


@bp.get("/attachments/<int:attachment_id>/thumbnail")
@endpoint(tags=["files"], ok={200: None})
def thumbnail(attachment_id: int) -> ResponseReturnValue:
    """A still of the image of at most 480 x 480 pixels, PNG or JPEG; 404 for other files."""
    return _send(files.open_file(caller(), attachment_id, thumbnail=True), as_attachment=False)


def _send(found: files.Download, *, as_attachment: bool) -> Response:
    response = send_file(
        found.stream,
        mimetype=found.content_type,
        as_attachment=as_attachment,
        download_name=found.attachment.name,
        conditional=False,
        etag=False,
    )
    if found.size is not None:
        response.content_length = found.size
    response.headers["Content-Security-Policy"] = FILE_POLICY
    response.headers["Cache-Control"] = FILE_CACHE  # nosniff: security.py, on every answer
    return response

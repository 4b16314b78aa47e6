"""Files for the upload tests, made here: images (with GPS data, rotated, a decompression
bomb), documents, and markup that carries script."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from tests.support.api import API
from tests.support.people import Person

UPLOADS = f"{API}/uploads"
# Where the page's and the API's markup payloads try to leave a trace if they ever run.
SCRIPT_HTML = b"<!DOCTYPE html><html><body><h1>hi</h1><script>top.ran=1</script></body></html>"
SCRIPT_SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" '
    b'onload="top.ran=1"><script>top.ran=1</script><rect width="20" height="20"/></svg>'
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def image(
    kind: str = "PNG", size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object
) -> bytes:
    """A picture with something drawn on it, so that encoders have work to do."""
    picture = Image.new(mode, size, "white" if mode != "RGBA" else (255, 255, 255, 0))
    ImageDraw.Draw(picture).rectangle((4, 4, size[0] // 2, size[1] // 2), fill="red")
    out = io.BytesIO()
    picture.save(out, kind, **save)
    return out.getvalue()


GPS_LATITUDE = (48.0, 51.0, 29.5)


def jpeg_with_gps(orientation: int = 1, size: tuple[int, int] = (80, 40)) -> bytes:
    """A JPEG whose EXIF says where it was taken (and how it is turned)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Hubbub test camera"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.2)
    return image("JPEG", size, exif=exif.tobytes(), quality=90)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def png_bomb(side: int = 12_000) -> bytes:
    """A valid greyscale PNG of side x side pixels, all black: about 140 kB that unpack to
    144 megapixels."""
    packer = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte 0, then the pixels
    parts = [packer.compress(row) for _ in range(side)]
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def stored_files(root: Path) -> list[str]:
    """Every file under a local file store's folder (the names, sorted)."""
    if not root.exists():
        return []
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def upload(
    who: Person, data: bytes, name: str = "file.bin", content_type: str = "application/octet-stream"
) -> TestResponse:
    """POST one file as a browser's form would (the body encoded in memory, so that nothing is
    left open when the server refuses it unread)."""
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(data), name, content_type=content_type)}
    )
    return who.post(UPLOADS, data=body, content_type=f"multipart/form-data; boundary={boundary}")

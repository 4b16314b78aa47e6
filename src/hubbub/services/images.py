"""Uploaded images: checked, cleaned of their metadata, and given a thumbnail (Pillow)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from hubbub.services.errors import Invalid

# The raster formats shown inline, by the type the bytes were sniffed as, and Pillow's name.
RASTER = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
# A photo of 50 megapixels (8,660 x 5,773) passes; the decompression bombs of the tests, a
# few kilobytes that unpack to gigapixels, do not. Frames count: an animation is decoded whole.
PIXELS_MAX = 50_000_000
# Pillow's own guard against decompression bombs warns (through the warnings module, whose
# filters are one per process, not per request) and then refuses at twice its limit; the
# check in clean() comes first and refuses every bomb with a reason, so Pillow's is off.
Image.MAX_IMAGE_PIXELS = None
THUMBNAIL_BOX = (480, 480)
ORIENTATION = 0x0112  # the EXIF tag
DAMAGED = "That image is damaged and cannot be shown."
FIELD = {"file": "Upload a PNG, JPEG, GIF or WebP image that opens, or any other file."}


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    width: int
    height: int
    thumbnail: bytes
    thumbnail_type: str


def clean(data: bytes, content_type: str) -> Cleaned:
    """The bytes to store for an image and its thumbnail, or Invalid.

    What is stored is the image encoded again without its metadata (EXIF, and with it any
    location; XMP; comments), turned upright first if EXIF said it was rotated. A GIF carries
    no EXIF and is kept as sent: encoding an animation again can change its colours.
    """
    image = _open(data, content_type)
    with image:
        width, height = _size(image)
        # The size is in the header; counting frames reads them, so only once it fits.
        frames = getattr(image, "n_frames", 1) if width * height <= PIXELS_MAX else 1
        if width * height * frames > PIXELS_MAX:
            raise Invalid(
                f"That image is too large to show: {width:,} x {height:,} pixels"
                + (f" in {frames:,} frames" if frames > 1 else "")
                + f"; the most is {PIXELS_MAX:,} pixels in all.",
                fields={"file": "Send a smaller image, or put it in a zip file."},
            )
        try:
            stored, width, height = _without_metadata(image, data, RASTER[content_type])
            image.seek(0)
            thumbnail, thumbnail_type = _thumbnail(image)
        except (OSError, ValueError, SyntaxError):
            raise Invalid(DAMAGED, fields=FIELD) from None
    return Cleaned(stored, width, height, thumbnail, thumbnail_type)


def _open(data: bytes, content_type: str) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=[RASTER[content_type]])
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid(DAMAGED, fields=FIELD) from None


def _orientation(image: Image.Image) -> int:
    return int(image.getexif().get(ORIENTATION, 1) or 1)


def _size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    # EXIF orientations 5 to 8 turn the picture a quarter: it is shown the other way round.
    if _orientation(image) in {5, 6, 7, 8}:
        return height, width
    return width, height


def _without_metadata(image: Image.Image, data: bytes, kind: str) -> tuple[bytes, int, int]:
    if kind == "GIF":
        return data, *image.size
    icc = image.info.get("icc_profile")
    out = io.BytesIO()
    if kind == "JPEG":
        if _orientation(image) == 1:
            # Not rotated: the same quantisation tables, so the picture stays as it was.
            image.save(out, "JPEG", quality="keep", icc_profile=icc)
            size = image.size
        else:
            upright = ImageOps.exif_transpose(image)
            upright.save(out, "JPEG", quality=92, icc_profile=icc)
            size = upright.size
    else:
        animated = getattr(image, "n_frames", 1) > 1
        options: dict[str, object] = {"save_all": animated}
        if icc:
            options["icc_profile"] = icc
        if kind == "WEBP":
            options["quality"] = 92
        image.save(out, kind, **options)
        size = image.size
    return out.getvalue(), *size


def _thumbnail(image: Image.Image) -> tuple[bytes, str]:
    """A still of at most THUMBNAIL_BOX: PNG when the image has transparency, else JPEG."""
    small = ImageOps.exif_transpose(image)
    small.thumbnail(THUMBNAIL_BOX)
    clear = small.mode in {"RGBA", "LA", "PA"} or "transparency" in small.info
    out = io.BytesIO()
    if clear:
        small.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue(), "image/png"
    small.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue(), "image/jpeg"

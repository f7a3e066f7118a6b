"""Preview images of model files: a real image in, a small PNG out.

The PNG reaches the host through ECS SendFile, whose content is at most 32 KB of base64 (24 KB
of PNG), so the image is made small: at most 512 px a side, 256 colours, and smaller again
until it fits.
"""

from __future__ import annotations

import io
import warnings

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Checked from the header, before anything is decoded: a small file can declare a huge image.
MAX_PIXELS = 50_000_000
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
MAX_SIDE = 512
MIN_SIDE = 32
MAX_PNG_BYTES = 24 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _refused(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _open(data: bytes) -> Image.Image:
    """Opens an accepted, verified image of sane dimensions (not decoded yet)."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check only warns below twice its limit: ours is stricter.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED_FORMATS:
                raise _refused(
                    _("Upload a PNG, JPEG, WebP or GIF image."), "unsupported_image_format"
                )
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise _refused(
                    _("The image has %(pixels)d pixels; at most %(max)d are accepted.")
                    % {"pixels": width * height, "max": MAX_PIXELS},
                    "image_too_large",
                )
            probe.verify()
            return Image.open(io.BytesIO(data))
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refused(
            _("The image has too many pixels; at most %(max)d are accepted.") % {"max": MAX_PIXELS},
            "image_too_large",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refused(_("This file is not an image that can be read."), "invalid_image") from None


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(
        buffer, format="PNG", optimize=True
    )
    return buffer.getvalue()


def make_preview(data: bytes) -> bytes:
    """The preview PNG (at most ``MAX_PNG_BYTES``) for an uploaded image."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise _refused(
            _("The image is larger than %(max)d MB.") % {"max": MAX_UPLOAD_BYTES // 2**20},
            "image_too_large",
        )
    try:
        with _open(data) as image:
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG decodes at a reduced scale
            picture = ImageOps.exif_transpose(image).convert("RGBA")
    except ValidationError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _refused(_("This file is not an image that can be read."), "invalid_image") from None
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    while True:
        png = _png(picture)
        if len(png) <= MAX_PNG_BYTES:
            return png
        side = int(max(picture.size) * 0.8)
        if side < MIN_SIDE:
            raise _refused(_("The image cannot be made small enough."), "image_too_complex")
        picture.thumbnail((side, side))


def check_preview_png(png: bytes) -> None:
    """A preview made by ``make_preview``: a valid PNG that SendFile takes."""
    if not png.startswith(PNG_SIGNATURE) or len(png) > MAX_PNG_BYTES:
        raise _refused(_("The preview is not a PNG of at most 24 KB."), "invalid_preview")
    with _open(png) as image:
        if image.format != "PNG":
            raise _refused(_("The preview is not a PNG of at most 24 KB."), "invalid_preview")


THUMBNAIL_SIDE = 96


def make_thumbnail(png: bytes) -> bytes:
    """A small PNG of a preview (``THUMBNAIL_SIDE`` pixels at most) the Models tab shows."""
    with _open(png) as image:
        picture = image.convert("RGBA")
    picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    return _png(picture)


# A preview found on a host is read once, at most this large, and kept as a thumbnail only.
MAX_HOST_PREVIEW_BYTES = 8 * 1024 * 1024


def thumbnail_of(data: bytes) -> bytes | None:
    """The thumbnail of any accepted image (a preview found on a host); None for a file that
    is not one, too large, or cannot be decoded."""
    if len(data) > MAX_HOST_PREVIEW_BYTES:
        return None
    try:
        with _open(data) as image:
            image.draft("RGB", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))
            picture = ImageOps.exif_transpose(image).convert("RGBA")
        picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        return _png(picture)
    except (ValidationError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None

"""Preview images: only real images of sane size become small PNGs that SendFile takes."""

from __future__ import annotations

import io
import os

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from hostfiles.previews import MAX_PNG_BYTES, MAX_UPLOAD_BYTES, check_preview_png, make_preview


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def test_noise_is_shrunk_until_it_fits() -> None:
    noise = Image.frombytes("RGB", (1024, 1024), os.urandom(1024 * 1024 * 3))
    png = make_preview(encoded(noise, "PNG"))
    assert len(png) <= MAX_PNG_BYTES
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and max(image.size) < 512
    check_preview_png(png)


@pytest.mark.parametrize("format", ["JPEG", "WEBP", "GIF", "PNG"])
def test_common_formats_are_accepted_and_keep_their_shape(format: str) -> None:
    picture = Image.new("RGB", (800, 400), (10, 120, 200))
    png = make_preview(encoded(picture, format))
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (512, 256)


@pytest.mark.parametrize(
    ("side", "message"),
    [(8000, "has 64000000 pixels"), (14000, "too many pixels")],  # ours, then Pillow's limit
)
def test_a_decompression_bomb_is_refused_before_it_is_decoded(side: int, message: str) -> None:
    # A one-colour image of side x side pixels compresses to little.
    bomb = encoded(Image.new("1", (side, side)), "PNG")
    assert len(bomb) < MAX_UPLOAD_BYTES
    with pytest.raises(ValidationError, match=message):
        make_preview(bomb)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a not really",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        encoded(Image.new("RGB", (64, 64)), "PNG")[:60],  # truncated
    ],
)
def test_what_is_not_a_readable_image_is_refused(data: bytes) -> None:
    with pytest.raises(ValidationError, match="not an image that can be read"):
        make_preview(data)


def test_other_image_formats_and_huge_uploads_are_refused() -> None:
    with pytest.raises(ValidationError, match="PNG, JPEG, WebP or GIF"):
        make_preview(encoded(Image.new("RGB", (64, 64)), "TIFF"))
    with pytest.raises(ValidationError, match="larger than 10 MB"):
        make_preview(b"\0" * (MAX_UPLOAD_BYTES + 1))


def test_only_small_pngs_pass_the_check_before_sending() -> None:
    with pytest.raises(ValidationError):
        check_preview_png(encoded(Image.new("RGB", (8, 8)), "JPEG"))
    with pytest.raises(ValidationError):
        check_preview_png(b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_PNG_BYTES + 1))

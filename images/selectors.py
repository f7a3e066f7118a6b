"""Reads of the images nestops built."""

from __future__ import annotations

from images.models import WebUIImage


def built_image(*, template: str, region: str) -> str | None:
    """The newest Available image of ``template`` nestops built in ``region``, or None."""
    return (
        WebUIImage.objects.filter(
            template=template, region=region, status=WebUIImage.Status.AVAILABLE
        )
        .order_by("-created_at")
        .values_list("cloud_image_id", flat=True)
        .first()
    )

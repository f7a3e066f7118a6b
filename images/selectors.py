"""Reads of the images nestops built."""

from __future__ import annotations

from cloud import ecs
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


def base_images(region: str) -> list[ecs.Image]:
    """The public Linux images of a region a build may start from."""
    return [
        image
        for image in ecs.describe_images(region, owner_alias="system", os_type="linux")
        if image.available
    ]

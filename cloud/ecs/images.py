"""ECS images: describe (public base images and the account's own), create one from a host, copy
it to another region, delete it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloud.clients import ECS, call, request_model
from cloud.types import as_int, cloud_time, items

DESCRIBE_IMAGES_PAGE_SIZE = 100


@dataclass(frozen=True)
class Image:
    image_id: str
    name: str
    description: str
    owner_alias: str
    status: str
    progress: int
    os_type: str
    os_name: str
    platform: str
    architecture: str
    size_gib: int
    region_id: str
    creation_time: datetime | None
    snapshot_ids: tuple[str, ...]
    is_copied: bool = False

    @property
    def available(self) -> bool:
        return self.status == "Available"


def _image(raw: dict[str, Any], region: str) -> Image:
    mappings = items(raw.get("DiskDeviceMappings"), "DiskDeviceMapping")
    return Image(
        image_id=raw["ImageId"],
        name=raw.get("ImageName") or "",
        description=raw.get("Description") or "",
        owner_alias=raw.get("ImageOwnerAlias") or "",
        status=raw.get("Status") or "",
        progress=as_int(str(raw.get("Progress") or "0").rstrip("%")),
        os_type=raw.get("OSType") or "",
        os_name=raw.get("OSNameEn") or raw.get("OSName") or "",
        platform=raw.get("Platform") or "",
        architecture=raw.get("Architecture") or "",
        size_gib=as_int(raw.get("Size")),
        region_id=raw.get("RegionId") or region,
        creation_time=cloud_time(raw.get("CreationTime")),
        snapshot_ids=tuple(m.get("SnapshotId") or "" for m in mappings if m.get("SnapshotId")),
        is_copied=bool(raw.get("IsCopied")),
    )


def describe_images(
    region: str,
    *,
    image_ids: Sequence[str] | None = None,
    owner_alias: str | None = None,
    statuses: Sequence[str] = ("Creating", "Waiting", "Available", "CreateFailed"),
    os_type: str | None = None,
) -> list[Image]:
    """Images of a region matching the filters, every page followed."""
    found: list[Image] = []
    page_number = 1
    while True:
        request = request_model(
            ECS,
            "DescribeImagesRequest",
            region_id=region,
            image_id=",".join(image_ids) if image_ids else None,
            image_owner_alias=owner_alias,
            status=",".join(statuses) if statuses else None,
            ostype=os_type,
            page_number=page_number,
            page_size=DESCRIBE_IMAGES_PAGE_SIZE,
        )
        data = call(ECS, region, "DescribeImages", request)
        page = [_image(raw, region) for raw in items(data.get("Images"), "Image")]
        found.extend(page)
        if not page or len(found) >= as_int(data.get("TotalCount")):
            return found
        page_number += 1


def describe_image(region: str, image_id: str) -> Image | None:
    """One image of the region, in any state, or None when the region has no such image."""
    found = describe_images(region, image_ids=[image_id])
    return found[0] if found else None


def create_image(
    region: str,
    *,
    instance_id: str,
    image_name: str,
    client_token: str,
    description: str = "",
    tags: dict[str, str] | None = None,
    dry_run: bool = False,
) -> str:
    """Captures the instance's disks as a custom image; its id (empty on a DryRun)."""
    request = request_model(
        ECS,
        "CreateImageRequest",
        region_id=region,
        instance_id=instance_id,
        image_name=image_name,
        description=description or None,
        client_token=client_token,
        tag=[
            request_model(ECS, "CreateImageRequestTag", key=k, value=v)
            for k, v in (tags or {}).items()
        ]
        or None,
        dry_run=dry_run or None,
    )
    data = call(ECS, region, "CreateImage", request, dry_run=dry_run)
    return str(data.get("ImageId") or "")


def copy_image(
    region: str,
    *,
    image_id: str,
    destination_region: str,
    image_name: str,
    client_token: str,
    dry_run: bool = False,
) -> str:
    """Copies an Available image to another region; the new image's id there."""
    request = request_model(
        ECS,
        "CopyImageRequest",
        region_id=region,
        image_id=image_id,
        destination_region_id=destination_region,
        destination_image_name=image_name,
        client_token=client_token,
        dry_run=dry_run or None,
    )
    data = call(ECS, region, "CopyImage", request, dry_run=dry_run)
    return str(data.get("ImageId") or "")


def delete_image(region: str, image_id: str, *, force: bool = False) -> str:
    """Deletes a custom image (the cloud ignores one that does not exist); the request id."""
    request = request_model(
        ECS,
        "DeleteImageRequest",
        region_id=region,
        image_id=image_id,
        force=force or None,
    )
    data = call(ECS, region, "DeleteImage", request)
    return str(data.get("RequestId") or "")

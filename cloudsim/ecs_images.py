"""ECS images: the public catalogue and the account's own images (CreateImage, CopyImage,
DeleteImage, DescribeImages).

A custom image is ``Creating`` for a while on the sim clock (``IMAGE_SECONDS`` plus
``SECONDS_PER_GIB`` per GiB of disk), then ``Available``; ``Progress`` moves with the clock.
Behind every custom image is a snapshot of the host's disk (its sandbox, copied at the call),
and a host made from the image starts with a copy of that snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cloudsim import ids
from cloudsim.api import Call, action
from cloudsim.catalog import Image
from cloudsim.clock import iso_seconds
from cloudsim.ecs import live_instance
from cloudsim.ecs_run_validation import check_name
from cloudsim.errors import CloudError, dry_run_passed, incorrect_instance_status, invalid
from cloudsim.images import base_image_of, image_not_found
from cloudsim.paging import page_by_number
from cloudsim.state import AccountImage
from cloudsim.tags import ecs_view, read_tags

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

IMAGE_SECONDS = 30.0
SECONDS_PER_GIB = 0.5
STATUSES = ("Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated")
OWNER_ALIASES = ("system", "self", "others", "marketplace")


def _new_image(sim: Simulator, call: Call, **fields: Any) -> AccountImage:
    size = int(fields["size_gib"])
    prefix = sim.catalog.region(fields["region_id"]).id_prefix
    image = AccountImage(
        image_id=ids.resource_id("m", prefix, sim.state.images),
        created_at=call.now,
        available_at=call.now + IMAGE_SECONDS + SECONDS_PER_GIB * size,
        snapshot_id=ids.resource_id("s", prefix, ()),
        **fields,
    )
    sim.state.images[image.image_id] = image
    return image


def _image_name(call: Call, parameter: str) -> str:
    name = call.params.text(parameter) or ""
    if name:
        check_name(name, parameter, "InvalidImageName.Malformed")
    return name


@action("Ecs", "CreateImage", client_token=True)
def create_image(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region = sim.catalog.region(params.required("RegionId"))
    if params.text("SnapshotId") and not params.text("InstanceId"):
        raise invalid("SnapshotId", "cloudsim makes images from instances only.")
    instance = live_instance(sim, params.text("InstanceId"))
    if instance.region_id != region.region_id:
        raise CloudError(
            "InvalidInstanceId.NotFound",
            f"The specified instance {instance.instance_id} does not exist in {region.region_id}.",
            404,
        )
    name = _image_name(call, "ImageName")
    description = params.text("Description") or ""
    if len(description) > 256:
        raise invalid("Description", "It must be at most 256 characters.")
    tags = read_tags(params, "Tag")
    status = instance.status_at(call.now)
    if status not in ("Running", "Stopped"):
        raise incorrect_instance_status(instance.instance_id, status, "Running or Stopped")
    if params.boolean("DryRun"):
        raise dry_run_passed()
    base = base_image_of(sim, instance.image_id)
    image = _new_image(
        sim,
        call,
        region_id=region.region_id,
        name=name,
        description=description,
        base_image_id=base.image_id if base else instance.image_id,
        size_gib=instance.disk_size,
        source_instance_id=instance.instance_id,
        tags=tags,
    )
    image.name = image.name or image.image_id
    sim.sandboxes.capture(instance.instance_id, image.snapshot_id)
    return {"ImageId": image.image_id}


@action("Ecs", "CopyImage", client_token=True)
def copy_image(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region = sim.catalog.region(params.required("RegionId"))
    image_id = params.required("ImageId")
    destination = sim.catalog.region(params.required("DestinationRegionId"))
    source = sim.state.images.get(image_id)
    if source is None or source.region_id != region.region_id:
        raise image_not_found(image_id)
    if source.status_at(call.now) != "Available":
        raise CloudError(
            "IncorrectImageStatus",
            f"The image {image_id} is {source.status_at(call.now)}; only an Available image can "
            "be copied.",
            403,
        )
    name = _image_name(call, "DestinationImageName")
    tags = read_tags(params, "Tag")
    if params.boolean("DryRun"):
        raise dry_run_passed()
    image = _new_image(
        sim,
        call,
        region_id=destination.region_id,
        name=name or source.name,
        description=params.text("DestinationDescription") or source.description,
        base_image_id=source.base_image_id,
        size_gib=source.size_gib,
        copied_from=f"{region.region_id}:{image_id}",
        tags=tags or list(source.tags),
    )
    sim.sandboxes.copy_snapshot(source.snapshot_id, image.snapshot_id)
    return {"ImageId": image.image_id}


@action("Ecs", "DeleteImage")
def delete_image(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region = sim.catalog.region(params.required("RegionId"))
    image_id = params.required("ImageId")
    force = params.boolean("Force")
    if image_id in sim.catalog.images:
        raise CloudError("InvalidImageId.NotSupported", "A public image cannot be deleted.", 403)
    image = sim.state.images.get(image_id)
    if image is None or image.region_id != region.region_id:
        # Like the cloud: deleting an image that does not exist is ignored.
        return {}
    in_use = any(i.image_id == image_id for i in sim.state.instances.values())
    if in_use and not force:
        raise CloudError(
            "ImageUsedByInstance",
            f"The image {image_id} is used by instances; set Force=true to delete it anyway.",
            403,
        )
    if params.boolean("DryRun"):
        raise dry_run_passed()
    del sim.state.images[image_id]
    sim.sandboxes.remove_snapshot(image.snapshot_id)
    return {}


@action("Ecs", "DescribeImages", mutates=False)
def describe_images(sim: Simulator, call: Call) -> dict[str, Any]:
    params = call.params
    region = sim.catalog.region(params.required("RegionId"))
    wanted_ids = [i.strip() for i in (params.text("ImageId") or "").split(",") if i.strip()]
    owner = params.text("ImageOwnerAlias", choices=OWNER_ALIASES)
    status_filter = params.text("Status") or ("" if wanted_ids else "Available")
    statuses = {s.strip() for s in status_filter.split(",") if s.strip()}
    for status in statuses:
        if status not in STATUSES:
            raise invalid("Status", f"It must be a comma-separated list of {', '.join(STATUSES)}.")
    os_type = params.text("OSType", choices=("linux", "windows"))
    name = params.text("ImageName") or ""
    views = [_public_view(image) for image in sim.catalog.images.values()]
    views += [
        _own_view(sim, image, call.now)
        for image in sim.state.images.values()
        if image.region_id == region.region_id
    ]
    views = [
        v
        for v in views
        if (not wanted_ids or v["ImageId"] in wanted_ids)
        and (owner is None or v["ImageOwnerAlias"] == owner)
        and (not statuses or v["Status"] in statuses)
        and (os_type is None or v["OSType"] == os_type)
        and (not name or _name_matches(v["ImageName"], name))
    ]
    page, number, size = page_by_number(params, views, default_size=10)
    for view in page:
        view["RegionId"] = region.region_id
    return {
        "TotalCount": len(views),
        "PageNumber": number,
        "PageSize": size,
        "RegionId": region.region_id,
        "Images": {"Image": page},
    }


def _name_matches(actual: str, pattern: str) -> bool:
    # ImageName filters by prefix when it ends with '*', else exactly.
    if pattern.endswith("*"):
        return actual.startswith(pattern[:-1])
    return actual == pattern


def _common(image: Image) -> dict[str, Any]:
    return {
        "OSType": image.os_type,
        "OSName": image.os_name,
        "OSNameEn": image.os_name_en,
        "Platform": image.platform,
        "Architecture": "x86_64",
        "IsSupportCloudinit": True,
        "IsSupportIoOptimized": True,
        "BootMode": "BIOS",
        "Usage": "instance",
        "Features": {"NvmeSupport": "supported"},
    }


def _public_view(image: Image) -> dict[str, Any]:
    return {
        **_common(image),
        "ImageId": image.image_id,
        "ImageName": image.image_name,
        "Description": image.description,
        "ImageOwnerAlias": image.owner_alias,
        "IsPublic": True,
        "IsCopied": False,
        "Status": "Available",
        "Progress": "100%",
        "RemainTime": 0,
        "Size": image.size_gib,
        "CreationTime": "2025-07-22T00:00:00Z",
        "DiskDeviceMappings": {"DiskDeviceMapping": []},
        "Tags": {"Tag": []},
    }


def _own_view(sim: Simulator, image: AccountImage, now: float) -> dict[str, Any]:
    base = sim.catalog.image(image.base_image_id)
    progress = image.progress_at(now)
    return {
        **_common(base),
        "ImageId": image.image_id,
        "ImageName": image.name,
        "Description": image.description,
        "ImageOwnerAlias": "self",
        "IsPublic": False,
        "IsCopied": bool(image.copied_from),
        "Status": image.status_at(now),
        "Progress": f"{progress}%",
        "RemainTime": max(0, int(image.available_at - now)),
        "Size": image.size_gib,
        "CreationTime": iso_seconds(image.created_at),
        "DiskDeviceMappings": {
            "DiskDeviceMapping": [
                {
                    "SnapshotId": image.snapshot_id,
                    "Size": str(image.size_gib),
                    "Device": "/dev/xvda",
                    "Type": "system",
                    "Format": "",
                    "Progress": f"{progress}%",
                }
            ]
        },
        "Tags": ecs_view(image.tags),
    }

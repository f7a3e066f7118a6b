"""RunInstances' validation: every parameter checked as the cloud checks it, in the cloud's
order (the first problem found is the error answered), stock included.

The name, host name and password rules are shared with the other ECS and VPC actions.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloudsim.account import quota_exceeded
from cloudsim.catalog import SYSTEM_DISK_CATEGORIES, InstanceType, Region, Zone
from cloudsim.errors import CloudError, invalid, no_stock
from cloudsim.images import find_image, usable_image
from cloudsim.params import Params
from cloudsim.state import VSwitch
from cloudsim.tags import read_tags

if TYPE_CHECKING:
    from cloudsim.api import Call
    from cloudsim.simulator import Simulator

PASSWORD_SPECIALS = "()`~!@#$%^&*-+=|{}[]:;'<>,.?/"
NAME_PATTERN = re.compile(r"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff.:_,\-\[\]]{1,127}$")
HOST_NAME_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,62}[A-Za-z0-9])?$")
MONTH_PERIODS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 48, 60)
WEEK_PERIODS = (1, 2, 3, 4)
USER_DATA_MAX_BYTES = 32 * 1024


def check_password(password: str) -> None:
    """8-30 characters, at least three of: upper, lower, digit, special."""
    allowed = all(c.isascii() and (c.isalnum() or c in PASSWORD_SPECIALS) for c in password)
    kinds = sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(c in PASSWORD_SPECIALS for c in password),
        )
    )
    if not 8 <= len(password) <= 30 or not allowed or kinds < 3:
        raise CloudError(
            "InvalidPassword.Malformed",
            "The specified parameter Password is not valid: it must be 8 to 30 characters with "
            "at least three of upper-case letters, lower-case letters, digits and "
            f"{PASSWORD_SPECIALS}",
            400,
        )


def check_name(value: str, parameter: str, code: str) -> None:
    if value.lower().startswith(("http://", "https://")) or not NAME_PATTERN.match(value):
        raise invalid(
            parameter,
            "It must be 2 to 128 characters, start with a letter and contain only letters, "
            "digits, '.', ':', '_', ',' and '-'.",
            code,
        )


def check_host_name(value: str) -> None:
    if not HOST_NAME_PATTERN.match(value) or ".." in value or "--" in value:
        raise invalid(
            "HostName",
            "It must be 2 to 64 characters of letters, digits, '.' and '-', not starting or "
            "ending with '.' or '-'.",
            "InvalidHostName.Malformed",
        )


def _user_data(params: Params) -> str:
    value = params.text("UserData") or ""
    if not value:
        return ""
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise CloudError(
            "InvalidUserData.Base64FormatInvalid", "The UserData must be base64 encoded.", 400
        ) from None
    if len(decoded) > USER_DATA_MAX_BYTES:
        raise CloudError(
            "InvalidUserData.SizeExceeded", "The specified parameter UserData exceeds 32 KB.", 400
        )
    return value


@dataclass
class RunRequest:
    """A RunInstances call that passed validation: what to launch."""

    region: Region
    zone: Zone
    instance_type: InstanceType
    image_id: str
    vswitch: VSwitch
    group_ids: list[str]
    charge_type: str
    period: int
    period_unit: str
    auto_renew: bool | None
    auto_renew_period: int
    disk_category: str
    disk_size: int
    bandwidth: int
    internet_charge_type: str
    name: str | None
    description: str
    host_name: str | None
    tags: list[list[str]]
    user_data: str
    amount: int


def validate_run(sim: Simulator, call: Call) -> RunRequest:
    """The validated request; raises the cloud's error for the first parameter that is wrong."""
    params = call.params
    region, instance_type, image_id = _region_type_image(sim, params)
    vswitch, zone = _vswitch_and_zone(sim, call, region, instance_type)
    group_ids = _security_groups(sim, params, region, vswitch)
    charge_type, period, period_unit, auto_renew, auto_renew_period = _charge(params)
    image = usable_image(sim, image_id, region.region_id, call.now)
    disk_category, disk_size = _system_disk(params, image.size_gib)
    bandwidth, internet_charge_type = _internet(params)
    name, description, host_name = _identity(params)
    tags = read_tags(params, "Tag")
    user_data = _user_data(params)
    amount = params.integer("Amount", default=1, minimum=1, maximum=100)
    assert amount is not None
    if sim.state.stock.get((zone.zone_id, instance_type.instance_type), 0) < amount:
        raise no_stock(zone.zone_id, instance_type.instance_type)
    if charge_type == "PostPaid":
        quota_exceeded(sim, region.region_id, instance_type.cpu * amount)
    return RunRequest(
        region=region,
        zone=zone,
        instance_type=instance_type,
        image_id=image_id,
        vswitch=vswitch,
        group_ids=group_ids,
        charge_type=charge_type,
        period=period,
        period_unit=period_unit,
        auto_renew=auto_renew,
        auto_renew_period=auto_renew_period,
        disk_category=disk_category,
        disk_size=disk_size,
        bandwidth=bandwidth,
        internet_charge_type=internet_charge_type,
        name=name,
        description=description,
        host_name=host_name,
        tags=tags,
        user_data=user_data,
        amount=amount,
    )


def _region_type_image(sim: Simulator, params: Params) -> tuple[Region, InstanceType, str]:
    region = sim.catalog.region(params.required("RegionId"))
    instance_type = sim.catalog.instance_type(params.required("InstanceType"))
    image_id = params.required("ImageId")
    find_image(sim, image_id, region.region_id, 0.0)
    return region, instance_type, image_id


def _vswitch_and_zone(
    sim: Simulator, call: Call, region: Region, instance_type: InstanceType
) -> tuple[VSwitch, Zone]:
    params = call.params
    vswitch_id = params.text("VSwitchId")
    if vswitch_id is None:
        raise CloudError(
            "MissingParameter",
            "The input parameter VSwitchId that is mandatory for processing this request is not "
            "supplied.",
        )
    vswitch = sim.state.vswitches.get(vswitch_id)
    if vswitch is None or vswitch.region_id != region.region_id:
        raise CloudError(
            "InvalidVSwitchId.NotFound",
            f"Specified virtual switch does not exist: {vswitch_id}.",
            404,
        )
    if vswitch.available_at > call.now:
        raise CloudError(
            "IncorrectVSwitchStatus",
            "The current status of virtual switch does not support this operation (Pending).",
            400,
        )
    zone_id = params.text("ZoneId") or vswitch.zone_id
    zone = sim.catalog.zone(zone_id, region.region_id)
    if zone.zone_id != vswitch.zone_id:
        raise CloudError(
            "InvalidParameter.Mismatch",
            "Specified virtual switch is not in the specified zone.",
            400,
        )
    if instance_type.instance_type not in zone.offered:
        raise CloudError(
            "InvalidInstanceType.ZoneNotSupported",
            "The specified zone does not support this InstanceType: "
            f"{instance_type.instance_type}.",
            403,
        )
    return vswitch, zone


def _security_groups(sim: Simulator, params: Params, region: Region, vswitch: VSwitch) -> list[str]:
    group_ids = [params.text("SecurityGroupId")] if "SecurityGroupId" in params else []
    group_ids += [g for g in params.items("SecurityGroupIds", max_items=5) if g not in group_ids]
    if not group_ids:
        raise CloudError(
            "MissingParameter",
            "The input parameter SecurityGroupId that is mandatory for processing this request "
            "is not supplied.",
        )
    for group_id in group_ids:
        group = sim.state.security_groups.get(group_id or "")
        if group is None or group.region_id != region.region_id:
            raise CloudError(
                "InvalidSecurityGroupId.NotFound",
                f"The specified SecurityGroupId does not exist: {group_id}.",
                404,
            )
        if group.vpc_id != vswitch.vpc_id:
            raise CloudError(
                "InvalidParameter.Mismatch",
                "Specified security group and virtual switch are not in the same VPC.",
                400,
            )
    return [g for g in group_ids if g]


def _charge(params: Params) -> tuple[str, int, str, bool | None, int]:
    """Charge type, period, period unit, auto-renew and its period."""
    charge_type = params.text("InstanceChargeType", default="PostPaid")
    if charge_type not in ("PostPaid", "PrePaid"):
        raise CloudError(
            "InvalidInstanceChargeType.NotFound",
            f"The InstanceChargeType does not exist in our records: {charge_type}.",
            404,
        )
    period = 0
    period_unit = ""
    auto_renew = params.boolean("AutoRenew")
    auto_renew_period = params.integer("AutoRenewPeriod", default=1, minimum=1, maximum=60) or 1
    if charge_type == "PrePaid":
        period_unit = params.text("PeriodUnit", default="Month", choices=("Month", "Week")) or ""
        period = params.integer("Period", required=True, code="InvalidPeriod") or 0
        allowed = MONTH_PERIODS if period_unit == "Month" else WEEK_PERIODS
        if period not in allowed:
            raise CloudError(
                "InvalidPeriod",
                f"The specified period is not valid: {period} {period_unit} (allowed: "
                f"{', '.join(map(str, allowed))}).",
                400,
            )
    return charge_type, period, period_unit, auto_renew, auto_renew_period


def _system_disk(params: Params, image_size_gib: int) -> tuple[str, int]:
    disk = params.struct("SystemDisk")
    disk_category = disk.get("Category") or "cloud_efficiency"
    if disk_category not in SYSTEM_DISK_CATEGORIES:
        raise CloudError(
            "InvalidSystemDiskCategory.ValueNotSupported",
            f"The specified parameter SystemDisk.Category is not valid: {disk_category}.",
            400,
        )
    disk_size = params.integer("SystemDisk.Size", default=max(40, image_size_gib))
    assert disk_size is not None
    if disk_size < image_size_gib:
        raise CloudError(
            "InvalidSystemDiskSize.LessThanImageSize",
            f"The specified parameter SystemDisk.Size is less than the image size "
            f"({image_size_gib} GiB).",
            400,
        )
    if disk_size > 2048:
        raise CloudError(
            "InvalidSystemDiskSize.MoreThanMaxSize",
            "The specified parameter SystemDisk.Size is more than the max size (2048 GiB).",
            400,
        )
    return disk_category, disk_size


def _internet(params: Params) -> tuple[int, str]:
    bandwidth = params.integer("InternetMaxBandwidthOut", default=0, minimum=0, maximum=100)
    assert bandwidth is not None
    internet_charge_type = params.text("InternetChargeType", default="PayByTraffic") or ""
    if internet_charge_type not in ("PayByTraffic", "PayByBandwidth"):
        raise CloudError(
            "InvalidInternetChargeType.ValueNotSupported",
            f"The specified InternetChargeType is not valid: {internet_charge_type}.",
            400,
        )
    return bandwidth, internet_charge_type


def _identity(params: Params) -> tuple[str | None, str, str | None]:
    """Password (checked, not kept: the host sets it), name, description and host name."""
    password = params.text("Password")
    if password is not None:
        check_password(password)
    name = params.text("InstanceName")
    if name is not None:
        check_name(name, "InstanceName", "InvalidInstanceName.Malformed")
    description = params.text("Description", default="") or ""
    if len(description) > 256:
        raise invalid(
            "Description", "It must be at most 256 characters.", "InvalidDescription.Malformed"
        )
    host_name = params.text("HostName")
    if host_name is not None:
        check_host_name(host_name)
    return name, description, host_name

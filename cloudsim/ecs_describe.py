"""ECS DescribeInstances: filters, both paging styles, and the instance as the cloud shows it.

This is the hottest call (the control plane reconciles every host with it, 100 ids at a
time), so the per-host view is cached until the host changes or its status moves on.
"""

from __future__ import annotations

import fnmatch
import json
from typing import TYPE_CHECKING, Any

from cloudsim import tags
from cloudsim.api import Call, EncodedBody, action
from cloudsim.clock import iso_minutes
from cloudsim.ecs import POSTPAID_EXPIRED_TIME, STATUSES, expiry
from cloudsim.errors import CloudError
from cloudsim.images import base_image_of
from cloudsim.paging import decode_token, encode_token, page_by_number, uses_tokens
from cloudsim.params import json_string_list
from cloudsim.state import Instance

if TYPE_CHECKING:
    from cloudsim.simulator import Simulator

MAX_IDS = 100


def instance_view(sim: Simulator, instance: Instance, now: float) -> dict[str, Any]:
    """One host as DescribeInstances shows it (every field the SDK model parses as a value)."""
    status = instance.status_at(now)
    kind = sim.catalog.instance_types[instance.instance_type]
    image = base_image_of(sim, instance.image_id)
    ends = expiry(instance, now)
    public = [instance.public_ip] if instance.public_ip else []
    return {
        "InstanceId": instance.instance_id,
        "InstanceName": instance.name,
        "HostName": instance.host_name,
        "Description": instance.description,
        "Status": status,
        "StoppedMode": instance.stopped_mode if status == "Stopped" else "Not-applicable",
        "InstanceType": instance.instance_type,
        "InstanceTypeFamily": kind.family,
        "Cpu": kind.cpu,
        "Memory": kind.memory_mib,
        "GPUAmount": kind.gpu_amount,
        "GPUSpec": kind.gpu_spec,
        "RegionId": instance.region_id,
        "ZoneId": instance.zone_id,
        "ImageId": instance.image_id,
        "OSName": image.os_name if image else "",
        "OSNameEn": image.os_name_en if image else "",
        "OSType": image.os_type if image else "linux",
        "InstanceChargeType": instance.charge_type,
        "InternetChargeType": instance.internet_charge_type,
        "InternetMaxBandwidthOut": instance.bandwidth_out,
        "InternetMaxBandwidthIn": 100,
        "InstanceNetworkType": "vpc",
        "IoOptimized": True,
        "CreationTime": iso_minutes(instance.created_at),
        "StartTime": iso_minutes(instance.started_at),
        "ExpiredTime": iso_minutes(ends) if ends is not None else POSTPAID_EXPIRED_TIME,
        "AutoReleaseTime": "",
        "DeletionProtection": False,
        "Recyclable": False,
        "DeviceAvailable": True,
        "SpotStrategy": "NoSpot",
        "SpotPriceLimit": 0.0,
        "SpotDuration": 0,
        "SaleCycle": instance.period_unit.lower() if instance.period_unit else "",
        "SerialNumber": instance.serial,
        "ResourceGroupId": "",
        "KeyPairName": "",
        "LocalStorageAmount": 0,
        "LocalStorageCapacity": 0,
        "CreditSpecification": "",
        "DeploymentSetId": "",
        "HpcClusterId": "",
        "ClusterId": "",
        "VlanId": "",
        "PublicIpAddress": {"IpAddress": public},
        "InnerIpAddress": {"IpAddress": []},
        "EipAddress": {"AllocationId": "", "IpAddress": "", "InternetChargeType": ""},
        "VpcAttributes": {
            "VpcId": instance.vpc_id,
            "VSwitchId": instance.vswitch_id,
            "NatIpAddress": "",
            "PrivateIpAddress": {"IpAddress": [instance.private_ip]},
        },
        "NetworkInterfaces": {
            "NetworkInterface": [
                {
                    "NetworkInterfaceId": instance.eni_id,
                    "MacAddress": instance.mac,
                    "PrimaryIpAddress": instance.private_ip,
                    "Type": "Primary",
                    "PrivateIpSets": {
                        "PrivateIpSet": [{"PrivateIpAddress": instance.private_ip, "Primary": True}]
                    },
                }
            ]
        },
        "SecurityGroupIds": {"SecurityGroupId": list(instance.security_group_ids)},
        "Tags": tags.ecs_view(instance.tags),
        "OperationLocks": {"LockReason": []},
        "CpuOptions": {"CoreCount": kind.cpu // 2, "ThreadsPerCore": 2, "Numa": ""},
        "MetadataOptions": {"HttpEndpoint": "enabled", "HttpTokens": "optional"},
        "HibernationOptions": {"Configured": False},
    }


def _filtered(sim: Simulator, call: Call) -> list[Instance]:
    params = call.params
    region_id = params.required("RegionId")
    sim.catalog.region(region_id)
    raw_ids = params.json("InstanceIds", code="InvalidInstanceIds.Malformed")
    wanted_ids = (
        None
        if raw_ids is None
        else json_string_list(
            raw_ids, "InstanceIds", max_items=MAX_IDS, code="InvalidInstanceIds.Malformed"
        )
    )
    status = params.text("Status", choices=STATUSES, code="InvalidStatus.ValueNotSupported")
    vpc_id = params.text("VpcId")
    vswitch_id = params.text("VSwitchId")
    zone_id = params.text("ZoneId")
    name = params.text("InstanceName")
    instance_type = params.text("InstanceType")
    family = params.text("InstanceTypeFamily")
    charge_type = params.text("InstanceChargeType")
    group_id = params.text("SecurityGroupId")
    image_id = params.text("ImageId")
    tag_filter = tags.read_tag_filter(params)

    if wanted_ids is not None:
        found = [sim.state.instances.get(i) for i in dict.fromkeys(wanted_ids)]
        candidates = sorted((i for i in found if i is not None), key=lambda i: i.seq)
    else:
        candidates = list(sim.state.instances.values())
    now = call.now
    result = []
    for instance in candidates:
        if instance.region_id != region_id:
            continue
        if vpc_id and instance.vpc_id != vpc_id:
            continue
        if vswitch_id and instance.vswitch_id != vswitch_id:
            continue
        if zone_id and instance.zone_id != zone_id:
            continue
        if instance_type and instance.instance_type != instance_type:
            continue
        if family and not instance.instance_type.startswith(family + "-"):
            continue
        if charge_type and instance.charge_type != charge_type:
            continue
        if group_id and group_id not in instance.security_group_ids:
            continue
        if image_id and instance.image_id != image_id:
            continue
        if name and not fnmatch.fnmatchcase(instance.name, name):
            continue
        if tag_filter and not tags.matches(instance.tags, tag_filter):
            continue
        if status and instance.status_at(now) != status:
            continue
        result.append(instance)
    return result


@action("Ecs", "DescribeInstances", mutates=False)
def describe_instances(sim: Simulator, call: Call) -> EncodedBody:
    params = call.params
    matching = _filtered(sim, call)
    body: dict[str, Any] = {"TotalCount": len(matching)}
    if uses_tokens(params):
        size = params.integer("MaxResults", default=10, minimum=1, maximum=100)
        assert size is not None
        token = params.text("NextToken")
        after = 0
        if token:
            position = decode_token(token)
            if not position.isdigit():
                raise CloudError(
                    "InvalidParameter", 'The specified parameter "NextToken" is not valid.'
                )
            after = int(position)
        remaining = [i for i in matching if i.seq > after]
        page = remaining[:size]
        more = len(remaining) > size
        body.update(
            {
                "NextToken": encode_token(str(page[-1].seq)) if more and page else "",
                "PageNumber": 1,
                "PageSize": size,
            }
        )
    else:
        page, number, size = page_by_number(params, matching)
        body.update({"NextToken": "", "PageNumber": number, "PageSize": size})
    # Encode the envelope, then splice in each host's cached JSON: encoding a hundred hosts
    # again on every reconcile would be most of the cost of this call.
    envelope = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    hosts = b",".join(instance_json(sim, i, call.now) for i in page)
    return EncodedBody(b'%s,"Instances":{"Instance":[%s]}}' % (envelope[:-1], hosts))


def instance_json(sim: Simulator, instance: Instance, now: float) -> bytes:
    """``instance_view`` as JSON, cached on the instance until it changes or its status moves."""
    status = instance.status_at(now)
    expiry(instance, now)  # a renewal changes the host, which drops the cache
    cached = instance.view_cache
    if cached is not None and cached[0] == status:
        return cached[1]
    text = json.dumps(instance_view(sim, instance, now), ensure_ascii=False, separators=(",", ":"))
    encoded = text.encode()
    instance.view_cache = (status, encoded)
    return encoded
